/**
 * The process's stdio as main.ts hands it to commands, without Node's stream objects until something needs one.
 * Creating `process.stdout` loads node:tty, node:net and about twenty stream modules (about 5 ms of a 45 ms start,
 * docs/toolchain.md §3) although most commands only write a few lines and maybe read a password. So:
 * - stdout and stderr are `FdWriter`s: each write goes to the descriptor with `fs.writeSync`, as Go's os.Stdout
 *   (kubectl) writes, and as Node itself writes to files and terminals. A descriptor that is non-blocking (shared
 *   with a parent that set O_NONBLOCK) and full answers EAGAIN: the rest of that write and every later one go to the
 *   real stream, in order, which queues them. Anything else a command asks of the writer (`on`, `columns`,
 *   `writableLength`, `getColorDepth`) is the real stream's, created then.
 * - stdin is an `FdReader`: a whole-stdin read (a password, `--docker-config -`) reads descriptor 0 synchronously,
 *   under the same cap as any file (files.ts); everything else (the hidden prompt's raw mode, a streaming reader)
 *   gets the real `process.stdin`.
 * - `isTTY` is answered from `fstat` when the answer is certain, node:tty only when it is not (`isTerminal`).
 */
import fs from 'node:fs';
import {readBoundedFdSync} from './files.ts';
import type {WholeInputReader} from './files.ts';

/** What `isTerminal` asks the system: injectable so that each branch can be tested with made-up answers. */
export type TerminalProbe = {
  fstat: (fd: number) => Pick<fs.Stats, `isCharacterDevice` | `rdev`>;
  /** The device number of /dev/null; undefined where there is none to compare with (Windows). */
  devNullRdev: () => number | undefined;
  isatty: (fd: number) => boolean;
};

const SYSTEM_PROBE: TerminalProbe = {
  fstat: fd => fs.fstatSync(fd),
  devNullRdev: () => process.platform === `win32` ? undefined : fs.statSync(`/dev/null`).rdev,
  isatty: fd => process.getBuiltinModule(`node:tty`).isatty(fd),
};

/**
 * Whether `fd` is a terminal. A terminal is a character device, so anything else (a pipe, a file, a socket) is not;
 * /dev/null is a character device and no terminal; any other character device is asked of node:tty (which loads
 * node:net and the streams), as is every descriptor on Windows, where fstat says little about consoles.
 */
export function isTerminal(fd: number, probe: TerminalProbe = SYSTEM_PROBE): boolean {
  let stat: Pick<fs.Stats, `isCharacterDevice` | `rdev`>;
  let devNull: number | undefined;
  try {
    devNull = probe.devNullRdev();
    stat = probe.fstat(fd);
  } catch {
    return probe.isatty(fd);
  }
  if (devNull === undefined)
    return probe.isatty(fd);
  if (!stat.isCharacterDevice() || stat.rdev === devNull)
    return false;
  return probe.isatty(fd);
}

/** The system calls a writer makes: injectable so that EAGAIN and EPIPE can be tested on any descriptor. */
export type WriteSync = (fd: number, buffer: Uint8Array, offset: number, length: number) => number;

type FdWriterOptions = {
  /** Creates the real stream (e.g. `() => process.stdout`); called at most once. */
  stream: () => NodeJS.WriteStream;
  /** Called on EPIPE (the reader went away); without it, the write goes to the real stream, which reports it as it would. */
  onClosed?: () => void;
  writeSync?: WriteSync;
  isTerminal?: (fd: number) => boolean;
  /**
   * False: every write goes to the real stream. The default is false on Windows, where a console needs Node's own
   * stream to show text in UTF-8 (and pipes are asynchronous anyway), true elsewhere.
   */
  direct?: boolean;
};

/** The writer's own members; every other property is the real stream's (see `fdWriter`). */
type OwnMembers = {
  write: (chunk: unknown, encoding?: unknown, callback?: unknown) => boolean;
  readonly isTTY: boolean;
  /** The real stream, once something needed it (main.ts waits for its queued writes before exiting). */
  readonly started: NodeJS.WriteStream | undefined;
  readonly fd: number;
};

export type FdWriter = NodeJS.WriteStream & OwnMembers;

function toBuffer(chunk: unknown, encoding: unknown): Uint8Array {
  if (typeof chunk === `string`)
    return Buffer.from(chunk, typeof encoding === `string` ? encoding as BufferEncoding : `utf8`);
  if (chunk instanceof Uint8Array)
    return chunk;
  throw new TypeError(`a stdio write takes a string or bytes`);
}

/**
 * A writable for descriptor `fd` that writes synchronously and creates the real stream only when it must (see the
 * module comment). Writes keep their order: once the real stream exists, every write goes through it.
 */
export function fdWriter(fd: number, options: FdWriterOptions): FdWriter {
  const writeSync: WriteSync = options.writeSync ?? ((...args) => fs.writeSync(...args));
  const direct = options.direct ?? process.platform !== `win32`;
  let real: NodeJS.WriteStream | undefined;
  let tty: boolean | undefined;
  const start = () => real ??= options.stream();
  const own: OwnMembers = {
    write(chunk, encoding, callback) {
      const done = (typeof encoding === `function` ? encoding : callback) as ((error?: Error | null) => void) | undefined;
      if (real !== undefined || !direct)
        return (start().write as (...args: unknown[]) => boolean)(chunk, encoding, callback);
      const bytes = toBuffer(chunk, encoding);
      let offset = 0;
      while (offset < bytes.length) {
        try {
          offset += writeSync(fd, bytes, offset, bytes.length - offset);
        } catch (error) {
          if ((error as NodeJS.ErrnoException).code === `EPIPE` && options.onClosed !== undefined) {
            options.onClosed();
            return false;
          }
          // EAGAIN (a full non-blocking descriptor) or an error the stream reports its own way: the stream takes over.
          return start().write(bytes.subarray(offset), done);
        }
      }
      if (done !== undefined)
        queueMicrotask(() => done(null));
      return true;
    },
    get isTTY() {
      return tty ??= (options.isTerminal ?? isTerminal)(fd);
    },
    get started() {
      return real;
    },
    fd,
  };
  return delegating(own, start) as FdWriter;
}

type FdReaderOptions = {
  /** Creates the real stream (e.g. `() => process.stdin`); called at most once. */
  stream: () => NodeJS.ReadStream;
  isTerminal?: (fd: number) => boolean;
};

/** A reader's own members; every other property is the real stream's. */
type ReaderMembers = WholeInputReader & {
  readonly isTTY: boolean;
  readonly started: NodeJS.ReadStream | undefined;
};

export type FdReader = NodeJS.ReadStream & ReaderMembers;

/** A readable for descriptor `fd` whose whole-input reads are synchronous; the real stream exists only for what needs it. */
export function fdReader(fd: number, options: FdReaderOptions): FdReader {
  let real: NodeJS.ReadStream | undefined;
  let tty: boolean | undefined;
  const start = () => real ??= options.stream();
  const own: ReaderMembers = {
    get isTTY() {
      return tty ??= (options.isTerminal ?? isTerminal)(fd);
    },
    // Once the stream exists it may have read (or buffered) part of the input: then the input is the stream's.
    readWholeSync: (cap, what) => real === undefined ? readBoundedFdSync(fd, cap, what) : undefined,
    get started() {
      return real;
    },
  };
  return delegating(own, start) as FdReader;
}

/** `own`'s members, and every other property from the real stream `start()` creates (methods bound to it). */
function delegating(own: object, start: () => object): object {
  return new Proxy(own, {
    get(target, property) {
      if (property in target)
        return Reflect.get(target, property, target) as unknown;
      const stream = start();
      const value = Reflect.get(stream, property, stream) as unknown;
      return typeof value === `function` ? (value as (...args: unknown[]) => unknown).bind(stream) : value;
    },
    has: (target, property) => property in target || property in start(),
    set(target, property, value) {
      if (property in target)
        return false;
      return Reflect.set(start(), property, value);
    },
  });
}
