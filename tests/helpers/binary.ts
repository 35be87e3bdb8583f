// The e2e suites spawn the real single-executable binary. This builds it once per change of the
// sources (about 3 s; typechecking is left to `npm test`), guarded by a lock so that suites running
// in parallel do not build at the same time.
import {spawn, spawnSync} from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';

/** The repository root. */
export const ROOT = path.resolve(import.meta.dirname, `..`, `..`);
/** The directory holding the binary and the completion symlink (what a user puts on PATH). */
export const DIST = path.join(ROOT, `dist`);
/** The host binary. */
export const BINARY = path.join(DIST, process.platform === `win32` ? `kubectl-pullsecret.exe` : `kubectl-pullsecret`);

const INPUTS = [`sources`, `scripts/build.ts`, `scripts/lib`, `package.json`, `package-lock.json`];
const LOCK = path.join(ROOT, `.tmp`, `build.lock`);

function newestInput(entry: string): number {
  const stat = fs.statSync(entry, {throwIfNoEntry: false});
  if (!stat)
    return 0;
  if (!stat.isDirectory())
    return stat.mtimeMs;
  return Math.max(stat.mtimeMs, ...fs.readdirSync(entry).map(child => newestInput(path.join(entry, child))));
}

function isFresh(): boolean {
  const binary = fs.statSync(BINARY, {throwIfNoEntry: false});
  const completion = fs.lstatSync(path.join(DIST, `kubectl_complete-pullsecret`), {throwIfNoEntry: false});
  return Boolean(binary && completion) && binary!.mtimeMs >= Math.max(...INPUTS.map(input => newestInput(path.join(ROOT, input))));
}

/** Builds `dist/kubectl-pullsecret` unless it is newer than every source; returns its path. */
export async function ensureBinary(): Promise<string> {
  fs.mkdirSync(path.dirname(LOCK), {recursive: true});
  const deadline = Date.now() + 180_000;
  for (;;) {
    try {
      fs.mkdirSync(LOCK);
      break;
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== `EEXIST`)
        throw error;
      // A lock older than a build can take was left by a killed run.
      const age = Date.now() - (fs.statSync(LOCK, {throwIfNoEntry: false})?.mtimeMs ?? Date.now());
      if (age > 120_000)
        fs.rmSync(LOCK, {recursive: true, force: true});
      if (Date.now() > deadline)
        throw new Error(`timed out waiting for another build (${LOCK})`);
      await new Promise(resolve => setTimeout(resolve, 250));
    }
  }
  try {
    if (!isFresh()) {
      const result = spawnSync(process.execPath, [path.join(ROOT, `scripts`, `build.ts`), `--no-typecheck`], {cwd: ROOT, encoding: `utf8`});
      if (result.status !== 0)
        throw new Error(`building the binary failed:\n${result.stderr}`);
    }
  } finally {
    fs.rmSync(LOCK, {recursive: true, force: true});
  }
  return BINARY;
}

/** An environment with `dist/` first on PATH, a private HOME and nothing of the caller's kubeconfig. */
export function pluginEnv(home: string, extra: Record<string, string> = {}): Record<string, string> {
  return {PATH: `${DIST}${path.delimiter}${process.env.PATH ?? ``}`, HOME: home, ...extra};
}

/** Runs a program and returns its exit code and output. */
export function runProgram(program: string, args: string[], options: {env: Record<string, string>; input?: string; cwd?: string}): {code: number | null; stdout: string; stderr: string} {
  const result = spawnSync(program, args, {env: options.env, input: options.input ?? ``, cwd: options.cwd ?? ROOT, encoding: `utf8`, timeout: 60_000});
  if (result.error)
    throw result.error;
  return {code: result.status, stdout: result.stdout, stderr: result.stderr};
}

/** Like runProgram, without blocking the event loop (needed when the server it talks to runs in this process). */
export function runProgramAsync(program: string, args: string[], options: {env: Record<string, string>; input?: string; cwd?: string}): Promise<{code: number | null; stdout: string; stderr: string}> {
  return new Promise((resolve, reject) => {
    const child = spawn(program, args, {env: options.env, cwd: options.cwd ?? ROOT, timeout: 60_000});
    const out: Buffer[] = [];
    const err: Buffer[] = [];
    child.stdout.on(`data`, (chunk: Buffer) => out.push(chunk));
    child.stderr.on(`data`, (chunk: Buffer) => err.push(chunk));
    child.on(`error`, reject);
    child.on(`close`, code => resolve({code, stdout: Buffer.concat(out).toString(`utf8`), stderr: Buffer.concat(err).toString(`utf8`)}));
    child.stdin.end(options.input ?? ``);
  });
}
