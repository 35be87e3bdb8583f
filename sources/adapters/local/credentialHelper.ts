import {spawn} from 'node:child_process';
import {PullSecretError} from '../../core/errors.ts';

/** How long a credential helper may take (it may prompt a keychain unlock on a desktop). */
const HELPER_TIMEOUT_MS = 30_000;
/** The most of a helper's stdout we read; real answers are a few hundred bytes. More is an error. */
const MAX_OUTPUT_BYTES = 1024 * 1024;
/** The most of a helper's stderr we keep (only to spot "credentials not found"); the rest is read and dropped. */
const MAX_STDERR_BYTES = 64 * 1024;

type HelperRun = {code: number | null; stdout: string; stderr: string; spawnError?: NodeJS.ErrnoException; failure?: string};

/**
 * Runs `docker-credential-<helper> get` as Docker does: the server URL on stdin, JSON
 * `{"ServerURL","Username","Secret"}` on stdout. "credentials not found" yields null.
 * Nothing secret is passed in argv, and the helper's output never reaches our logs.
 * The helper runs in its own process group: after the timeout the whole group is killed (SIGKILL: a helper
 * that ignores SIGTERM cannot outlive it) and whatever it answers later is never used. stdout is capped at
 * 1 MiB (more is an error), stderr at 64 KiB kept.
 * `env` (optional) is the environment the helper runs with (its PATH finds the helper); by default the process's.
 */
export async function runCredentialHelper(helper: string, serverUrl: string, env?: Record<string, string | undefined>, options: {timeoutMs?: number} = {}): Promise<{Username: string; Secret: string} | null> {
  if (!/^[A-Za-z0-9._-]+$/.test(helper))
    throw new PullSecretError(`invalid credential helper name "${helper}": expected letters, digits, '.', '_' or '-'`);
  const program = `docker-credential-${helper}`;
  const timeoutMs = options.timeoutMs ?? HELPER_TIMEOUT_MS;
  const {code, stdout, stderr, spawnError, failure} = await new Promise<HelperRun>(resolve => {
    const child = spawn(program, [`get`], {stdio: [`pipe`, `pipe`, `pipe`], detached: true, ...(env === undefined ? {} : {env: env as NodeJS.ProcessEnv})});
    const out: Buffer[] = [];
    const err: Buffer[] = [];
    let outSize = 0;
    let errSize = 0;
    let settled = false;
    const killGroup = () => {
      try {
        if (child.pid !== undefined)
          process.kill(-child.pid, `SIGKILL`);
      } catch {
        // already gone
      }
    };
    const settle = (run: HelperRun) => {
      if (settled)
        return;
      settled = true;
      clearTimeout(timer);
      resolve(run);
    };
    const timer = setTimeout(() => {
      killGroup();
      settle({code: null, stdout: ``, stderr: ``, failure: `did not answer within ${timeoutMs / 1000}s and was killed`});
    }, timeoutMs);
    child.stdout.on(`data`, (chunk: Buffer) => {
      outSize += chunk.length;
      if (outSize > MAX_OUTPUT_BYTES) {
        killGroup();
        settle({code: null, stdout: ``, stderr: ``, failure: `wrote more than 1 MiB to stdout and was killed`});
        return;
      }
      out.push(chunk);
    });
    child.stderr.on(`data`, (chunk: Buffer) => {
      if (errSize < MAX_STDERR_BYTES)
        err.push(chunk.subarray(0, MAX_STDERR_BYTES - errSize));
      errSize += chunk.length;
    });
    child.on(`error`, error => settle({code: null, stdout: ``, stderr: ``, spawnError: error as NodeJS.ErrnoException}));
    child.on(`close`, exitCode => {
      // The group may still hold children that keep pipes open elsewhere; none may run on.
      killGroup();
      settle({code: exitCode, stdout: Buffer.concat(out).toString(`utf8`), stderr: Buffer.concat(err).toString(`utf8`)});
    });
    child.stdin.on(`error`, () => {});
    child.stdin.end(serverUrl);
  });
  if (spawnError) {
    if (spawnError.code === `ENOENT`)
      throw new PullSecretError(`credential helper ${program} is not installed or not on PATH (needed for ${serverUrl})`);
    throw new PullSecretError(`could not run credential helper ${program}: ${spawnError.code ?? `spawn error`}`);
  }
  if (failure !== undefined)
    throw new PullSecretError(`credential helper ${program} ${failure} (for ${serverUrl})`);
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
