import {spawn} from 'node:child_process';
import {PullSecretError} from '../../core/errors.ts';

/** How long a credential helper may take (it may prompt a keychain unlock on a desktop). */
const HELPER_TIMEOUT_MS = 30_000;
/** The most output we read from a helper; real answers are a few hundred bytes. */
const MAX_OUTPUT_BYTES = 1024 * 1024;

/**
 * Runs `docker-credential-<helper> get` as Docker does: the server URL on stdin, JSON
 * `{"ServerURL","Username","Secret"}` on stdout. "credentials not found" yields null.
 * Nothing secret is passed in argv, and the helper's output never reaches our logs.
 * `env` (optional) is the environment the helper runs with (its PATH finds the helper); by default the process's.
 */
export async function runCredentialHelper(helper: string, serverUrl: string, env?: Record<string, string | undefined>): Promise<{Username: string; Secret: string} | null> {
  if (!/^[A-Za-z0-9._-]+$/.test(helper))
    throw new PullSecretError(`invalid credential helper name "${helper}": expected letters, digits, '.', '_' or '-'`);
  const program = `docker-credential-${helper}`;
  const {code, stdout, stderr, spawnError} = await new Promise<{code: number | null; stdout: string; stderr: string; spawnError?: NodeJS.ErrnoException}>(resolve => {
    const child = spawn(program, [`get`], {stdio: [`pipe`, `pipe`, `pipe`], timeout: HELPER_TIMEOUT_MS, ...(env === undefined ? {} : {env: env as NodeJS.ProcessEnv})});
    const out: Buffer[] = [];
    const err: Buffer[] = [];
    let size = 0;
    child.stdout.on(`data`, (chunk: Buffer) => {
      size += chunk.length;
      if (size <= MAX_OUTPUT_BYTES)
        out.push(chunk);
    });
    child.stderr.on(`data`, (chunk: Buffer) => err.push(chunk));
    child.on(`error`, error => resolve({code: null, stdout: ``, stderr: ``, spawnError: error as NodeJS.ErrnoException}));
    child.on(`close`, exitCode => resolve({code: exitCode, stdout: Buffer.concat(out).toString(`utf8`), stderr: Buffer.concat(err).toString(`utf8`)}));
    child.stdin.on(`error`, () => {});
    child.stdin.end(serverUrl);
  });
  if (spawnError) {
    if (spawnError.code === `ENOENT`)
      throw new PullSecretError(`credential helper ${program} is not installed or not on PATH (needed for ${serverUrl})`);
    throw new PullSecretError(`could not run credential helper ${program}: ${spawnError.message}`);
  }
  // Helpers answer "credentials not found in native keychain" with a non-zero exit when they hold nothing.
  const combined = `${stdout}\n${stderr}`;
  if (code !== 0) {
    if (/credentials not found/i.test(combined))
      return null;
    throw new PullSecretError(`credential helper ${program} failed for ${serverUrl} (exit ${code ?? `signal`})`);
  }
  let parsed: unknown;
  try {
    parsed = JSON.parse(stdout);
  } catch {
    throw new PullSecretError(`credential helper ${program} returned output that is not JSON for ${serverUrl}`);
  }
  if (typeof parsed !== `object` || parsed === null || typeof (parsed as {Username?: unknown}).Username !== `string` || typeof (parsed as {Secret?: unknown}).Secret !== `string`)
    throw new PullSecretError(`credential helper ${program} returned JSON without string "Username" and "Secret" for ${serverUrl}`);
  const {Username, Secret} = parsed as {Username: string; Secret: string};
  return {Username, Secret};
}
