// Runs a command line exactly as the tool printed it (a doctor fix, a warning's "run: …" advice, a help example):
// through a real shell, with real kubectl dispatching `kubectl pullsecret` to this checkout (a `kubectl-pullsecret`
// shim on PATH that runs sources/main.ts). Nothing is parsed or rewritten here: what the user would paste is run.
import {spawn} from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import {fileURLToPath} from 'node:url';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), `..`, `..`);

export type PrintedRun = {code: number | null; stdout: string; stderr: string};

/** A directory with `kubectl-pullsecret` (this checkout) and any extra programs (e.g. a stand-in `aws`). */
export function pluginBin(extra: Record<string, string> = {}): {dir: string; remove: () => void} {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), `pullsecret-printed-`));
  const programs: Record<string, string> = {
    'kubectl-pullsecret': `#!/bin/sh\nexec ${JSON.stringify(process.execPath)} ${JSON.stringify(path.join(ROOT, `sources`, `main.ts`))} "$@"\n`,
    ...extra,
  };
  for (const [name, body] of Object.entries(programs))
    fs.writeFileSync(path.join(dir, name), body, {mode: 0o755});
  fs.mkdirSync(path.join(dir, `home`));
  return {dir, remove: () => fs.rmSync(dir, {recursive: true, force: true})};
}

/**
 * Runs `line` with `sh -c` (or bash, for lines written for it; comments after `#` included, as a user pasting it would), KUBECONFIG pointing at the
 * test cluster, `env` for the variables the line asks to set, and `stdin` for a password it reads.
 * Asynchronous: the API emulator answering it runs in this process.
 */
export function runPrinted(line: string, options: {bin: string; kubeconfig: string; env?: Record<string, string>; stdin?: string; cwd?: string; shell?: `sh` | `bash`}): Promise<PrintedRun> {
  return new Promise((resolve, reject) => {
    const child = spawn(options.shell ?? `sh`, [`-c`, line], {
      cwd: options.cwd ?? ROOT,
      env: {PATH: `${options.bin}${path.delimiter}${process.env.PATH ?? ``}`, HOME: path.join(options.bin, `home`), KUBECONFIG: options.kubeconfig, ...options.env},
      stdio: [`pipe`, `pipe`, `pipe`],
    });
    let stdout = ``;
    let stderr = ``;
    child.stdout.on(`data`, chunk => (stdout += chunk));
    child.stderr.on(`data`, chunk => (stderr += chunk));
    child.on(`error`, reject);
    child.on(`close`, code => resolve({code, stdout, stderr}));
    // A printed line that never reads its stdin may exit before the write lands: EPIPE is not the line's failure.
    child.stdin.on(`error`, error => {
      if ((error as NodeJS.ErrnoException).code !== `EPIPE`)
        reject(error);
    });
    child.stdin.end(options.stdin ?? ``);
  });
}
