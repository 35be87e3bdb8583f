// How the plugin's process ends once its command has finished (sources/main.ts, sources/seaMain.ts).
import {fdWriter} from './adapters/local/stdio.ts';
import type {FdWriter} from './adapters/local/stdio.ts';

/**
 * Ends the process with `code` as soon as stdout and stderr have handed every write to the operating system
 * (`streams`: those of them that exist; main.ts writes without Node's streams until it must, adapters/local/stdio.ts). A natural
 * exit would first tear down the Node environment and the V8 heap, about 2 ms of a 40 ms command, for memory the
 * operating system reclaims anyway. Writes still queued (a pipe the reader drains slowly, on platforms where pipes are
 * asynchronous) are waited for, so that no output is lost.
 */
export function exitWhenWritten(code: number, streams: Array<NodeJS.WriteStream | undefined> = [process.stdout, process.stderr]): void {
  process.exitCode = code;
  const pending = streams.filter(stream => stream !== undefined && stream.writableLength > 0) as NodeJS.WriteStream[];
  let left = pending.length;
  if (left === 0) {
    process.exit(code);
    return;
  }
  for (const stream of pending) {
    stream.once(`drain`, () => {
      if (--left === 0)
        process.exit(code);
    });
  }
}

/**
 * Writing to a closed pipe (`| head`) must not crash with EPIPE: the process ends with the code it has. Returns
 * `stdout` (main.ts's stdout writer ends the same way when its own write meets EPIPE).
 */
export function exitQuietlyOnClosedStdout(stdout: NodeJS.WriteStream): NodeJS.WriteStream {
  stdout.on(`error`, error => {
    if ((error as NodeJS.ErrnoException).code === `EPIPE`)
      exitOnClosedStdout();
  });
  return stdout;
}

/** The reader of stdout went away: nothing more can be said, so the process ends with the code it has. */
export function exitOnClosedStdout(): never {
  process.exit(process.exitCode ?? 0);
}

/**
 * The process's stdout as main.ts and seaMain.ts write it: without Node's stream until it is needed
 * (adapters/local/stdio.ts), ending the process quietly when its reader is gone, whichever way the write went.
 */
export function stdoutWriter(): FdWriter {
  return fdWriter(1, {stream: () => exitQuietlyOnClosedStdout(process.stdout), onClosed: exitOnClosedStdout});
}
