import {after, before, test} from 'node:test';
import assert from 'node:assert/strict';
import {execFile} from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import {promisify} from 'node:util';
import {stringify} from 'yaml';
import {startApiEmulator} from '../helpers/apiEmulator/index.ts';
import type {ApiEmulator} from '../helpers/apiEmulator/index.ts';

// @kubernetes/client-node is loaded only when a session is opened: `--help`, `version` and client-side
// dry runs never resolve it. A resolve hook in a child process reports every module it sees.

const run = promisify(execFile);
const ROOT = path.join(import.meta.dirname, `../..`);
const PLUGIN = path.join(import.meta.dirname, `../corpus/kubeconfig/exec-credential.sh`);
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

test(`a session of a token user does not load @kubernetes/client-node either`, async () => {
  const {stdout, stderr} = await main([`add`, `regcred`, `--docker-server`, `r.example`, `--docker-username`, `u`, `--docker-password`, `p`, `--dry-run=server`], {KUBECONFIG: api.kubeconfigPath});
  assert.match(stdout, /secret\/regcred created \(server dry run\)/);
  assert.doesNotMatch(stderr, /LOADED @kubernetes\/client-node/);
});

/** A one-context kubeconfig for the emulator with the given user entry. */
function kubeconfigWith(dir: string, user: Record<string, unknown>): string {
  const file = path.join(dir, `kubeconfig`);
  fs.writeFileSync(file, stringify({
    apiVersion: `v1`,
    kind: `Config`,
    clusters: [{name: `c`, cluster: {server: api.url, [`certificate-authority`]: api.caFile}}],
    users: [{name: `u`, user}],
    contexts: [{name: `ctx`, context: {cluster: `c`, user: `u`}}],
    [`current-context`]: `ctx`,
  }));
  return file;
}

test(`a session of an exec-plugin user does not load @kubernetes/client-node (the adapter runs the plugin)`, async t => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), `h5-lazy-`));
  t.after(() => fs.rmSync(dir, {recursive: true, force: true}));
  const file = kubeconfigWith(dir, {exec: {apiVersion: `client.authentication.k8s.io/v1beta1`, command: PLUGIN, env: [{name: `PULLSECRET_TEST_TOKEN`, value: api.tokens.admin}]}});
  const {stdout, stderr} = await main([`add`, `regcred`, `--docker-server`, `r.example`, `--docker-username`, `u`, `--docker-password`, `p`, `--dry-run=server`, `--kubeconfig`, file]);
  assert.match(stdout, /secret\/regcred created \(server dry run\)/);
  assert.doesNotMatch(stderr, /LOADED @kubernetes\/client-node/);
});

test(`a session of an auth-provider user loads @kubernetes/client-node`, async t => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), `h5-lazy-`));
  t.after(() => fs.rmSync(dir, {recursive: true, force: true}));
  const file = kubeconfigWith(dir, {[`auth-provider`]: {name: `gcp`, config: {[`access-token`]: api.tokens.admin, expiry: new Date(Date.now() + 3600_000).toISOString()}}});
  const {stdout, stderr} = await main([`add`, `regcred`, `--docker-server`, `r.example`, `--docker-username`, `u`, `--docker-password`, `p`, `--dry-run=server`, `--kubeconfig`, file]);
  assert.match(stdout, /secret\/regcred created \(server dry run\)/);
  assert.match(stderr, /LOADED @kubernetes\/client-node/);
});
