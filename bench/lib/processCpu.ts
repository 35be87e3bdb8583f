// Per-process figures for the verify benchmarks: the CPU time (utime + stime) of a process and its descendants, read
// from /proc, and the requests a docker-registry answered, counted from its log.
import fs from 'node:fs';

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

/**
 * Requests a docker-registry log records after byte `from`, by method, path kind and status (`HEAD manifests 200`),
 * and under `connections` the number of distinct client addresses (one per TCP connection).
 */
export function registryRequests(file: string, from: number): Map<string, number> {
  const text = fs.readFileSync(file).subarray(from).toString(`utf8`);
  const counts = new Map<string, number>();
  const clients = new Set<string>();
  for (const line of text.split(`\n`)) {
    // A refused authorization is logged as such, without a `response completed` line.
    const refused = line.includes(`msg="error authorizing context`);
    if (!refused && !line.includes(`msg="response completed`))
      continue;
    const method = /http\.request\.method=(\S+)/.exec(line)?.[1] ?? `?`;
    const uri = /http\.request\.uri="?([^\s"]+)/.exec(line)?.[1] ?? ``;
    const kind = uri.includes(`/manifests/`) ? `manifests` : uri.includes(`/blobs/`) ? `blobs` : uri;
    const status = refused ? `401` : /http\.response\.status=(\d+)/.exec(line)?.[1] ?? `?`;
    const key = `${method} ${kind} ${status}`;
    clients.add(/http\.request\.remoteaddr="?([^\s"]+)/.exec(line)?.[1] ?? ``);
    counts.set(key, (counts.get(key) ?? 0) + 1);
  }
  counts.set(`connections`, clients.size);
  return counts;
}
