/**
 * Runs a `--password-command` through `sh -c`, as a user would in a terminal, and reads the password it
 * prints. Its stdout is the secret: capped at 1 MiB like a password on stdin, never shown, never logged.
 * Its stderr is kept (capped at 4 KiB) only to say why it failed. The command runs in its own process
 * group, so that a timeout stops it and everything it started (`aws`, `gcloud` and `az` run children).
 */
import {spawn} from 'node:child_process';
import {PullSecretError, oneLine} from '../../core/errors.ts';
import type {PasswordCommandRunner} from '../../core/ports.ts';
import {stripOneNewline} from './files.ts';
import {decodeUtf8Text} from '../../core/text.ts';

/** The most stdout read, as for a password on stdin. */
const MAX_STDOUT_BYTES = 1024 * 1024;
/** The most stderr kept for the failure message. */
const MAX_STDERR_BYTES = 4096;
/** How much of stderr an error line shows. */
const SHOWN_STDERR_CHARS = 400;

/** The adapter behind `PasswordCommandRunner`: `sh -c COMMAND` with the given environment and working directory. */
export const runPasswordCommand: PasswordCommandRunner = async (command, options) => {
  const result = await new Promise<{code: number | null; signal: NodeJS.Signals | null; stdout: Buffer; stderr: string; timedOut: boolean; tooLarge: boolean; spawnError?: Error}>(resolve => {
    const child = spawn(`/bin/sh`, [`-c`, command], {
      stdio: [`ignore`, `pipe`, `pipe`],
      env: options.env as NodeJS.ProcessEnv,
      cwd: options.cwd,
      // Its own process group: a timeout kills the command and every process it started.
      detached: true,
    });
    const out: Buffer[] = [];
    let outSize = 0;
    let err = Buffer.alloc(0);
    let timedOut = false;
    let tooLarge = false;
    const killGroup = () => {
      try {
        process.kill(-child.pid!, `SIGKILL`);
      } catch {
        // Already gone.
      }
    };
    const timer = options.timeoutMs > 0 ? setTimeout(() => {
      timedOut = true;
      killGroup();
    }, options.timeoutMs) : undefined;
    child.stdout.on(`data`, (chunk: Buffer) => {
      outSize += chunk.length;
      if (outSize > MAX_STDOUT_BYTES) {
        if (!tooLarge) {
          tooLarge = true;
          killGroup();
        }
        return;
      }
      out.push(chunk);
    });
    child.stderr.on(`data`, (chunk: Buffer) => {
      if (err.length < MAX_STDERR_BYTES)
        err = Buffer.concat([err, chunk]).subarray(0, MAX_STDERR_BYTES);
    });
    child.on(`error`, error => {
      clearTimeout(timer);
      resolve({code: null, signal: null, stdout: Buffer.alloc(0), stderr: ``, timedOut, tooLarge, spawnError: error});
    });
    child.on(`close`, (code, signal) => {
      clearTimeout(timer);
      resolve({code, signal, stdout: Buffer.concat(out), stderr: err.toString(`utf8`), timedOut, tooLarge});
    });
  });
  const why = () => {
    const text = oneLine(result.stderr.trim());
    return text === `` ? `` : `: ${text.length > SHOWN_STDERR_CHARS ? `${text.slice(0, SHOWN_STDERR_CHARS)}…` : text}`;
  };
  if (result.spawnError !== undefined)
    throw new PullSecretError(`could not run --password-command with /bin/sh: ${result.spawnError.message}`);
  if (result.timedOut)
    throw new PullSecretError(`--password-command did not finish within ${options.timeoutMs / 1000}s and was stopped (raise --password-command-timeout)${why()}`);
  if (result.tooLarge)
    throw new PullSecretError(`--password-command printed more than 1 MiB; it must print only the password`);
  if (result.code !== 0)
    throw new PullSecretError(`--password-command failed (${result.code === null ? `killed by ${result.signal ?? `a signal`}` : `exit ${result.code}`})${why()}`);
  const password = stripOneNewline(decodeUtf8Text(result.stdout, `the output of --password-command`));
  if (password === ``)
    throw new PullSecretError(`--password-command printed no password on stdout${why()}`);
  if (/[\r\n]/.test(password))
    throw new PullSecretError(`--password-command printed more than one line; it must print only the password`);
  return password;
};
