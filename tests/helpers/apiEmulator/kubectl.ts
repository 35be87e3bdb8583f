/**
 * Runs the real `kubectl` against an emulator (or offline, as an oracle), always asynchronously:
 * the emulator lives in the test's own event loop, so a synchronous spawn would deadlock it.
 * Every run gets a fresh `--cache-dir` so discovery is never served from a stale cache.
 */
import {execFile} from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';

export type KubectlResult = {code: number; stdout: string; stderr: string};

/** The `kubectl` found on PATH, or undefined. */
export function findKubectl(env: NodeJS.ProcessEnv = process.env): string | undefined {
  for (const dir of (env.PATH ?? ``).split(path.delimiter)) {
    if (!dir)
      continue;
    const candidate = path.join(dir, `kubectl`);
    try {
      fs.accessSync(candidate, fs.constants.X_OK);
      return candidate;
    } catch {
      // keep looking
    }
  }
  return undefined;
}

/** Throws (failing the suite, never skipping it) when kubectl is not on PATH. */
export function requireKubectl(env: NodeJS.ProcessEnv = process.env): string {
  const found = findKubectl(env);
  if (!found)
    throw new Error(`kubectl is required on PATH to judge the API emulator (these tests run the real kubectl 1.32 against it); install it, e.g. the Google Cloud SDK's kubectl or a kubectl 1.32 binary`);
  return found;
}

/** Runs kubectl with `args`; `kubeconfig` defaults to none (pass the emulator's); `binary` picks a versioned kubectl. */
export function runKubectl(args: string[], opts: {kubeconfig?: string; stdin?: string; env?: NodeJS.ProcessEnv; timeoutMs?: number; binary?: string} = {}): Promise<KubectlResult> {
  const cacheDir = fs.mkdtempSync(path.join(os.tmpdir(), `kubectl-cache-`));
  const full = [...(opts.kubeconfig !== undefined ? [`--kubeconfig`, opts.kubeconfig] : []), `--cache-dir`, cacheDir, ...args];
  return new Promise(resolve => {
    const child = execFile(opts.binary ?? requireKubectl(), full, {encoding: `utf8`, env: {PATH: process.env.PATH, HOME: cacheDir, ...opts.env}, timeout: opts.timeoutMs ?? 60_000, maxBuffer: 64 * 1024 * 1024}, (err, stdout, stderr) => {
      fs.rmSync(cacheDir, {recursive: true, force: true});
      const code = err ? (typeof (err as any).code === `number` ? (err as any).code : 1) : 0;
      resolve({code, stdout, stderr});
    });
    child.stdin?.end(opts.stdin ?? ``);
  });
}

/** Runs kubectl with no cluster (`--kubeconfig=/dev/null`): `create … --dry-run=client -o json`, `patch --local`. */
export function runKubectlOffline(args: string[], stdin?: string): Promise<KubectlResult> {
  return runKubectl(args, {kubeconfig: `/dev/null`, stdin});
}
