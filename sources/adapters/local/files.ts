import fs from 'node:fs/promises';
import path from 'node:path';
import {InputError, PullSecretError} from '../../core/errors.ts';

/** The most we read from a password file or stdin; a password or token is far smaller. */
const MAX_SECRET_BYTES = 1024 * 1024;

/** Removes one trailing newline (`\n` or `\r\n`), as `docker login --password-stdin` does. */
export function stripOneNewline(text: string): string {
  if (text.endsWith(`\r\n`))
    return text.slice(0, -2);
  if (text.endsWith(`\n`))
    return text.slice(0, -1);
  return text;
}

/** Reads all of a stream as UTF-8 (for `--docker-password-stdin` and `-f -`). */
export async function readAll(stream: NodeJS.ReadableStream, what: string): Promise<string> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of stream as AsyncIterable<Buffer | string>) {
    const buffer = typeof chunk === `string` ? Buffer.from(chunk, `utf8`) : chunk;
    size += buffer.length;
    if (size > MAX_SECRET_BYTES)
      throw new InputError(`${what} is larger than 1 MiB`);
    chunks.push(buffer);
  }
  return decodeUtf8Text(Buffer.concat(chunks), what);
}

/**
 * Decodes bytes as UTF-8, refusing invalid sequences instead of silently turning them into U+FFFD
 * (a password or username with replacement characters would be stored wrong). The bytes never reach the message.
 */
export function decodeUtf8Text(bytes: Uint8Array, what: string): string {
  try {
    return new TextDecoder(`utf-8`, {fatal: true, ignoreBOM: true}).decode(bytes);
  } catch {
    throw new InputError(`${what} is not valid UTF-8 text; save it as UTF-8`);
  }
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
  let handle;
  try {
    handle = await fs.open(file, `r`);
  } catch (error) {
    throw new InputError(`cannot read ${flag} ${file}: ${describeFsError(error)}`, {cause: error});
  }
  try {
    const stat = await handle.stat();
    if (stat.isDirectory())
      throw new InputError(`cannot read ${flag} ${file}: it is a directory`);
    const max = opts.maxBytes ?? MAX_SECRET_BYTES;
    if (stat.size > max)
      throw new InputError(`${flag} ${file} is larger than ${Math.round(max / 1024)} KiB`);
    return decodeUtf8Text(await handle.readFile(), `${flag} ${file}`);
  } catch (error) {
    if (error instanceof PullSecretError)
      throw error;
    throw new InputError(`cannot read ${flag} ${file}: ${describeFsError(error)}`, {cause: error});
  } finally {
    await handle.close();
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
    await fs.appendFile(file, text);
  } catch (error) {
    throw new Error(describeFsError(error));
  }
}
