/**
 * Fault injection: latency, 429 with Retry-After, 500/503 with Status bodies, a 422 the request does not
 * cure (a policy refusing the object), connection resets before the request is handled, and lost answers
 * (`lose-answer`: the request is handled and committed, then the connection drops instead of the answer),
 * on a seeded random fraction of matching requests or on the Nth matching request.
 */

export type FaultKind = `latency` | `429` | `422` | `500` | `503` | `reset` | `lose-answer` | `goaway`;

export type FaultSpec = {
  /** Matches the request path (a RegExp, or a substring). Omit to match every path. */
  route?: RegExp | string;
  /** HTTP method, e.g. `PATCH`. Omit to match every method. */
  method?: string;
  /** Probability in [0, 1] that a matching request is hit, drawn from the seeded PRNG. */
  fraction?: number;
  /** Hit only the Nth matching request (1-based). */
  nth?: number;
  kind: FaultKind;
  /** For `latency`: delay before the request is handled (default 100 ms). */
  latencyMs?: number;
  /** For `429`: the Retry-After header (default 1). */
  retryAfterSeconds?: number;
};

export type FaultInjector = {
  add(spec: FaultSpec): void;
  clear(): void;
};

/** mulberry32: small, fast, deterministic. */
export function seededRandom(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

type Entry = {spec: FaultSpec; seen: number};

/** Holds the active faults; `pick` decides which (if any) apply to a request. */
export class Faults implements FaultInjector {
  private entries: Entry[] = [];
  private readonly random: () => number;

  constructor(seed: number) {
    this.random = seededRandom(seed);
  }

  add(spec: FaultSpec): void {
    this.entries.push({spec, seen: 0});
  }

  clear(): void {
    this.entries = [];
  }

  /** The faults to apply to this request, in the order they were added. */
  pick(method: string, path: string): FaultSpec[] {
    const hits: FaultSpec[] = [];
    for (const entry of this.entries) {
      const {spec} = entry;
      if (spec.method && spec.method.toUpperCase() !== method)
        continue;
      if (spec.route !== undefined && !(typeof spec.route === `string` ? path.includes(spec.route) : spec.route.test(path)))
        continue;
      entry.seen++;
      if (spec.nth !== undefined && entry.seen !== spec.nth)
        continue;
      if (spec.fraction !== undefined && !(this.random() < spec.fraction))
        continue;
      hits.push(spec);
    }
    return hits;
  }
}
