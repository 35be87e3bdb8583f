import fsSync from 'node:fs';
import path from 'node:path';
import {InputError, PullSecretError} from '../../core/errors.ts';
import {decodeUtf8Text} from '../../core/text.ts';

/**
 * The cap of every input the plugin reads, whatever it is (a regular file, a pipe, a FIFO, `/dev/stdin`,
 * `/dev/zero`): reading stops at the cap, never trusting a `stat` size (0 for pipes and devices).
 * The README lists them (Limits); bench/bounded-reads.ts measures peak RSS at 1 GiB of input for each.
 */
export const INPUT_CAPS = {
  /** A password or token (--docker-password-file, --docker-password-stdin). */
  secret: 1024 * 1024,
  /** A Docker config.json or Podman auth.json (--from-docker-config, --from-podman-auth, --docker-config). */
  dockerConfig: 4 * 1024 * 1024,
  /** A manifest file or stdin (verify -f, decode -f). */
  manifest: 16 * 1024 * 1024,
  /** A kubeconfig file. */
  kubeconfig: 8 * 1024 * 1024,
  /** A PEM or token file named by a kubeconfig (certificate-authority, client-certificate, client-key, token-file) or by --ca-file. */
  pem: 1024 * 1024,
} as const;

const MAX_SECRET_BYTES = INPUT_CAPS.secret;
const READ_CHUNK = 64 * 1024;

/** `1 MiB`, `512 KiB`: a cap for messages. */
export function describeBytes(bytes: number): string {
  return bytes % (1024 * 1024) === 0 ? `${bytes / 1024 / 1024} MiB` : `${Math.round(bytes / 1024)} KiB`;
}

/** The error for an input over its cap: one line naming the input and the cap. */
export function tooLarge(what: string, cap: number): InputError {
  return new InputError(`${what} is larger than ${describeBytes(cap)}, the most this plugin reads from it`);
}

/** Chunks collected up to `cap` bytes: the byte past the cap is the `tooLarge` error, so nothing more is kept. */
class CappedChunks {
  readonly #chunks: Buffer[] = [];
  #size = 0;
  readonly #cap: number;
  readonly #what: string;

  constructor(cap: number, what: string) {
    this.#cap = cap;
    this.#what = what;
  }

  /** A buffer for the next read: never more than one byte past the cap. */
  nextBuffer(): Buffer {
    return Buffer.allocUnsafe(Math.min(READ_CHUNK, this.#cap + 1 - this.#size));
  }

  push(chunk: Buffer): void {
    this.#size += chunk.length;
    if (this.#size > this.#cap)
      throw tooLarge(this.#what, this.#cap);
    this.#chunks.push(chunk);
  }

  result(): Buffer {
    return Buffer.concat(this.#chunks, this.#size);
  }
}

/**
 * Reads a file of any kind up to `cap` bytes; more is an `InputError` naming `what` and the cap, raised as soon
 * as byte `cap + 1` arrives (memory stays about `cap` whatever the file is). File-system errors propagate as is.
 */
export async function readBoundedFile(file: string, cap: number, what: string): Promise<Buffer> {
  // fs.promises on use: loading node:fs/promises (with readline and the file watchers) costs every start otherwise.
  const handle = await fsSync.promises.open(file, `r`);
  try {
    const chunks = new CappedChunks(cap, what);
    for (;;) {
      const buffer = chunks.nextBuffer();
      const {bytesRead} = await handle.read(buffer, 0, buffer.length, null);
      if (bytesRead === 0)
        return chunks.result();
      chunks.push(buffer.subarray(0, bytesRead));
    }
  } finally {
    await handle.close();
  }
}

/** `readBoundedFile` for synchronous callers (kubeconfig loading). */
export function readBoundedFileSync(file: string, cap: number, what: string): Buffer {
  const fd = fsSync.openSync(file, `r`);
  try {
    return readBoundedFdSync(fd, cap, what);
  } finally {
    fsSync.closeSync(fd);
  }
}

/** `readBoundedFileSync` of an open descriptor (stdin: stdio.ts), read from where it stands to its end; it stays open. */
export function readBoundedFdSync(fd: number, cap: number, what: string): Buffer {
  const chunks = new CappedChunks(cap, what);
  for (;;) {
    const buffer = chunks.nextBuffer();
    let bytesRead: number;
    try {
      bytesRead = fsSync.readSync(fd, buffer, 0, buffer.length, null);
    } catch (error) {
      // A non-blocking descriptor (a terminal or pipe shared with the parent) has nothing yet: wait for it.
      if ((error as NodeJS.ErrnoException).code === `EAGAIN`) {
        Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, 5);
        continue;
      }
      // The end of a pipe as Windows reports it (libuv's UV_EOF for a broken pipe).
      if ((error as NodeJS.ErrnoException).code === `EOF`)
        return chunks.result();
      throw error;
    }
    if (bytesRead === 0)
      return chunks.result();
    chunks.push(buffer.subarray(0, bytesRead));
  }
}

/**
 * A stream that can hand over all of its input synchronously (main.ts's stdin, stdio.ts, before its Node stream
 * exists): `readWholeSync` returns undefined when it cannot, and the stream is read as a stream.
 */
export type WholeInputReader = {readWholeSync?: (cap: number, what: string) => Buffer | undefined};

/** Reads a stream up to `cap` bytes; more is an `InputError` naming `what` and the cap (the stream is destroyed). */
export async function readBoundedStream(stream: NodeJS.ReadableStream, cap: number, what: string): Promise<Buffer> {
  const chunks = new CappedChunks(cap, what);
  for await (const chunk of stream as AsyncIterable<Buffer | string>)
    chunks.push(typeof chunk === `string` ? Buffer.from(chunk, `utf8`) : chunk);
  return chunks.result();
}

/** Removes one trailing newline (`\n` or `\r\n`), as `docker login --password-stdin` does. */
export function stripOneNewline(text: string): string {
  if (text.endsWith(`\r\n`))
    return text.slice(0, -2);
  if (text.endsWith(`\n`))
    return text.slice(0, -1);
  return text;
}

/** All of a stream up to `cap` bytes: synchronously when it can hand its input over so (`WholeInputReader`), else as a stream. */
export async function readWholeInput(stream: NodeJS.ReadableStream & WholeInputReader, cap: number, what: string): Promise<Buffer> {
  return stream.readWholeSync?.(cap, what) ?? await readBoundedStream(stream, cap, what);
}

/** Reads all of a stream as UTF-8 (for `--docker-password-stdin` and `--docker-config -`). */
export async function readAll(stream: NodeJS.ReadableStream & WholeInputReader, what: string, cap: number = MAX_SECRET_BYTES): Promise<string> {
  return decodeUtf8Text(await readWholeInput(stream, cap, what), what);
}

/** Resolves a user-given path against the working directory, expanding a leading `~/`. */
export function resolveUserPath(file: string, cwd: string, homedir: string): string {
  if (file === `~` || file.startsWith(`~/`))
    return path.join(homedir, file.slice(1));
  return path.resolve(cwd, file);
}

/**
 * Reads a file the user named on the command line. A missing or unreadable file is an input
 * error (exit 2) naming the flag; the content itself never appears in messages.
 */
export async function readUserFile(file: string, flag: string, opts: {maxBytes?: number} = {}): Promise<string> {
  const max = opts.maxBytes ?? MAX_SECRET_BYTES;
  try {
    return decodeUtf8Text(await readBoundedFile(file, max, `${flag} ${file}`), `${flag} ${file}`);
  } catch (error) {
    if (error instanceof PullSecretError)
      throw error;
    throw new InputError(`cannot read ${flag} ${file}: ${describeFsError(error)}`, {cause: error});
  }
}

/** A short reason for a file-system error, without the stack. */
export function describeFsError(error: unknown): string {
  const code = (error as NodeJS.ErrnoException | undefined)?.code;
  switch (code) {
    case `ENOENT`: return `no such file`;
    case `EACCES`: case `EPERM`: return `permission denied`;
    case `EISDIR`: return `it is a directory`;
    default: return error instanceof Error ? error.message : String(error);
  }
}

/** Docker's config file: `$DOCKER_CONFIG/config.json`, else `~/.docker/config.json` (docker/cli config.Dir). */
export function defaultDockerConfigPath(env: Record<string, string | undefined>, homedir: string): string {
  return env.DOCKER_CONFIG ? path.join(env.DOCKER_CONFIG, `config.json`) : path.join(homedir, `.docker`, `config.json`);
}

/**
 * Podman's auth file, in the order containers-auth.json(5) documents: `$REGISTRY_AUTH_FILE`, else
 * `${XDG_RUNTIME_DIR}/containers/auth.json`, else `~/.config/containers/auth.json`.
 */
export function defaultPodmanAuthPath(env: Record<string, string | undefined>, homedir: string): string {
  if (env.REGISTRY_AUTH_FILE)
    return env.REGISTRY_AUTH_FILE;
  if (env.XDG_RUNTIME_DIR)
    return path.join(env.XDG_RUNTIME_DIR, `containers`, `auth.json`);
  return path.join(homedir, `.config`, `containers`, `auth.json`);
}

/** Appends text to a file the user named (created when missing), e.g. `$GITHUB_STEP_SUMMARY`. */
export async function appendUserFile(file: string, text: string): Promise<void> {
  try {
    await fsSync.promises.appendFile(file, text);
  } catch (error) {
    throw new Error(describeFsError(error));
  }
}
