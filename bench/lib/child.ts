// Runs the CLI bundle in a child process for the verify benchmarks: wall time, peak RSS (VmHWM) and the CPU time the
// child itself used (utime + stime, which the load of the machine does not inflate the way it inflates wall time),
// polled from /proc every 20 ms until it exits.
import {spawn} from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import {SEA_EXEC_ARGV} from '../../scripts/lib/sea.ts';

export type ChildRun = {code: number; ms: number; peakKb: number; cpuMs: number; stdout: string};

const node = path.join(import.meta.dirname, `..`, `..`, `node_modules`, `.bin`, `node`);

/** `node [SEA flags] [--cpu-prof into profileDir] ...argv` with HOME set to `home`; `nodeOptions` as NODE_OPTIONS. */
export function runChild(argv: string[], options: {home: string; profileDir?: string; nodeOptions?: string}): Promise<ChildRun> {
  return new Promise((resolve, reject) => {
    const begin = performance.now();
    const profile = options.profileDir === undefined ? [] : [`--cpu-prof`, `--cpu-prof-dir=${options.profileDir}`];
    const child = spawn(node, [...SEA_EXEC_ARGV, ...profile, ...argv], {stdio: [`ignore`, `pipe`, `inherit`], env: {PATH: process.env.PATH ?? ``, HOME: options.home, ...(options.nodeOptions === undefined ? {} : {NODE_OPTIONS: options.nodeOptions})}});
    const chunks: Buffer[] = [];
    let peakKb = 0;
    let cpuMs = 0;
    const poll = setInterval(() => {
      try {
        const match = /VmHWM:\s+(\d+) kB/.exec(fs.readFileSync(`/proc/${child.pid}/status`, `utf8`));
        if (match)
          peakKb = Math.max(peakKb, Number(match[1]));
        // utime and stime: fields 14 and 15 of /proc/PID/stat, in clock ticks of 10 ms.
        const fields = fs.readFileSync(`/proc/${child.pid}/stat`, `utf8`).replace(/^.*\) /, ``).split(` `);
        cpuMs = (Number(fields[11]) + Number(fields[12])) * 10;
      } catch {
        // the process is gone
      }
    }, 20);
    child.stdout.on(`data`, chunk => chunks.push(chunk));
    child.on(`error`, reject);
    child.on(`close`, code => {
      clearInterval(poll);
      resolve({code: code ?? -1, ms: performance.now() - begin, peakKb, cpuMs, stdout: Buffer.concat(chunks).toString(`utf8`)});
    });
  });
}
