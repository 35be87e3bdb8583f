import {after, before, test} from 'node:test';
import assert from 'node:assert/strict';
import {execFile} from 'node:child_process';
import path from 'node:path';
import {promisify} from 'node:util';
import {startApiEmulator} from '../helpers/apiEmulator/index.ts';
import type {ApiEmulator} from '../helpers/apiEmulator/index.ts';

// @kubernetes/client-node is loaded only when a session is opened: `--help`, `version` and client-side
// dry runs never resolve it. A resolve hook in a child process reports every module it sees.

const run = promisify(execFile);
const ROOT = path.join(import.meta.dirname, `../..`);
const HOOK = `data:text/javascript,${encodeURIComponent(`
import {registerHooks} from 'node:module';
registerHooks({resolve(specifier, context, next) {
  const result = next(specifier, context);
  if (result.url.includes('/@kubernetes/client-node/')) process.stderr.write('LOADED @kubernetes/client-node\\n');
  return result;
}});
`)}`;

let api: ApiEmulator;
before(async () => {
  api = await startApiEmulator();
});
after(async () => {
  await api?.stop();
});

async function main(args: string[], env: Record<string, string> = {}): Promise<{stdout: string; stderr: string}> {
  const result = await run(process.execPath, [`--import`, HOOK, path.join(ROOT, `sources/main.ts`), ...args], {
    cwd: ROOT,
    env: {PATH: process.env.PATH ?? ``, HOME: `/nonexistent`, ...env},
  });
  return {stdout: String(result.stdout), stderr: String(result.stderr)};
}

for (const args of [[`--help`], [`version`], [`add`, `regcred`, `--docker-server`, `r.example`, `--docker-username`, `u`, `--docker-password`, `p`, `--dry-run=client`]]) {
  test(`"${args.join(` `)}" does not load @kubernetes/client-node`, async () => {
    const {stderr} = await main(args);
    assert.doesNotMatch(stderr, /LOADED @kubernetes\/client-node/);
  });
}

test(`opening a session with a token user loads @kubernetes/client-node`, async () => {
  const {stderr} = await main([`add`, `regcred`, `--docker-server`, `r.example`, `--docker-username`, `u`, `--docker-password`, `p`, `--dry-run=server`], {KUBECONFIG: api.kubeconfigPath});
  assert.match(stderr, /LOADED @kubernetes\/client-node/);
});
