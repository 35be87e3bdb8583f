// Named pipes with the conditions the stdio tests need (tests/adapters/local-stdio.test.ts, tests/e2e/stdio.test.ts):
// a non-blocking pipe that fills up (EAGAIN), and one whose reader is gone (EPIPE). Linux pipes hold 64 KiB.
import assert from 'node:assert/strict';
import {spawnSync} from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';

function mkfifo(dir: string): string {
  const fifo = path.join(dir, `fifo-${fs.readdirSync(dir).length}`);
  assert.equal(spawnSync(`mkfifo`, [fifo]).status, 0, `mkfifo`);
  return fifo;
}

/** A FIFO in `dir`, opened for reading and for writing, both non-blocking. */
export function nonBlockingFifo(dir: string): {reader: number; writer: number} {
  const fifo = mkfifo(dir);
  const reader = fs.openSync(fifo, fs.constants.O_RDONLY | fs.constants.O_NONBLOCK);
  const writer = fs.openSync(fifo, fs.constants.O_WRONLY | fs.constants.O_NONBLOCK);
  return {reader, writer};
}

/** The writing end of a FIFO whose only reader has closed: a write to it fails with EPIPE. */
export function readerlessFifo(dir: string): number {
  const fifo = mkfifo(dir);
  const reader = fs.openSync(fifo, fs.constants.O_RDONLY | fs.constants.O_NONBLOCK);
  const writer = fs.openSync(fifo, fs.constants.O_WRONLY);
  fs.closeSync(reader);
  return writer;
}

/**
 * Reads a non-blocking descriptor: what it holds now, or with `untilEnd` everything up to its end (every writer
 * closed), waiting while it is empty.
 */
export async function readNonBlocking(fd: number, options: {untilEnd?: boolean} = {}): Promise<string> {
  const chunks: Buffer[] = [];
  for (;;) {
    const buffer = Buffer.alloc(65536);
    let read: number;
    try {
      read = fs.readSync(fd, buffer);
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== `EAGAIN`)
        throw error;
      if (!options.untilEnd)
        break;
      await new Promise(resolve => setTimeout(resolve, 5));
      continue;
    }
    if (read === 0)
      break;
    chunks.push(buffer.subarray(0, read));
  }
  return Buffer.concat(chunks).toString(`utf8`);
}
