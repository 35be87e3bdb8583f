// Per-process figures for the verify benchmarks: the CPU time (utime + stime) of a process and its descendants, read
// from /proc, and the requests a docker-registry answered (its log, tests/helpers/registry/requestLog.ts) counted.
import fs from 'node:fs';
import type {LoggedRequest} from '../../tests/helpers/registry/index.ts';

function statFields(pid: number): string[] | undefined {
  try {
    // Fields after the command name: state is [0], ppid [1], utime [11], stime [12] (clock ticks of 10 ms).
    return fs.readFileSync(`/proc/${pid}/stat`, `utf8`).replace(/^.*\) /, ``).split(` `);
  } catch {
    return undefined;
  }
}

/** CPU milliseconds used so far by `pid` and every live descendant. */
export function treeCpuMs(pid: number): number {
  const children = new Map<number, number[]>();
  for (const entry of fs.readdirSync(`/proc`)) {
    if (!/^\d+$/.test(entry))
      continue;
    const fields = statFields(Number(entry));
    if (fields === undefined)
      continue;
    const ppid = Number(fields[1]);
    children.set(ppid, [...children.get(ppid) ?? [], Number(entry)]);
  }
  let total = 0;
  const queue = [pid];
  for (let next = queue.shift(); next !== undefined; next = queue.shift()) {
    const fields = statFields(next);
    if (fields !== undefined)
      total += (Number(fields[11]) + Number(fields[12])) * 10;
    queue.push(...children.get(next) ?? []);
  }
  return total;
}

/** The size of a log now, to count only what it gains afterwards. */
export function logSize(file: string): number {
  return fs.statSync(file).size;
}

/** Requests by method, path kind and status (`HEAD manifests 200`), and under `connections` the distinct clients. */
export function requestCounts(requests: LoggedRequest[]): Map<string, number> {
  const counts = new Map<string, number>();
  for (const request of requests) {
    const kind = request.uri.includes(`/manifests/`) ? `manifests` : request.uri.includes(`/blobs/`) ? `blobs` : request.uri;
    const key = `${request.method} ${kind} ${request.status}`;
    counts.set(key, (counts.get(key) ?? 0) + 1);
  }
  counts.set(`connections`, new Set(requests.map(request => request.client)).size);
  return counts;
}
