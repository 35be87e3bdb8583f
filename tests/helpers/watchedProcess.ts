/**
 * Daemons the test world starts (docker-registry, containerd) run under a tiny sh watchdog: the daemon is stopped
 * (SIGTERM, by its PID) as soon as our end of the watchdog's stdin closes, which the kernel does whenever this
 * process dies, even by SIGKILL or a test-runner timeout, when no `exit` handler runs. The sh exits with the daemon.
 * On a normal exit, every watchdog still running is killed by PID.
 */
import {spawn} from 'node:child_process';
import type {ChildProcess} from 'node:child_process';

const live = new Set<ChildProcess>();
process.on(`exit`, () => {
  for (const child of live) {
    try {
      if (child.pid !== undefined)
        process.kill(child.pid, `SIGKILL`);
    } catch {
      // already gone
    }
  }
});

/** Starts `command "$0"` (the command line is fixed text; `arg` is its one argument) under the watchdog, output to `logFd`. */
export function startWatched(command: string, arg: string, logFd: number): ChildProcess {
  const script = `exec 3<&0; ${command} "$0" </dev/null & pid=$!; (read _ <&3; kill $pid 2>/dev/null) & wait $pid`;
  const child = spawn(`sh`, [`-c`, script, arg], {stdio: [`pipe`, logFd, logFd]});
  live.add(child);
  return child;
}

/** Forgets a watchdog that has exited by itself. */
export function forgetWatched(child: ChildProcess): void {
  live.delete(child);
}

/** Stops the daemon (closing the watchdog's stdin makes it SIGTERM it), SIGKILL after `graceMs`. */
export async function stopWatched(child: ChildProcess, graceMs: number): Promise<void> {
  if (child.exitCode === null && child.signalCode === null) {
    const exited = new Promise<void>(resolve => child.once(`exit`, () => resolve()));
    child.stdin?.end();
    const timer = setTimeout(() => child.kill(`SIGKILL`), graceMs);
    await exited;
    clearTimeout(timer);
  }
  live.delete(child);
}
