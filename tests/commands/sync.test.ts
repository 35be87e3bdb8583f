import {after, before, test} from 'node:test';
import assert from 'node:assert/strict';
import {execFile} from 'node:child_process';
import {promisify} from 'node:util';
import {mkdtempSync, rmSync} from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import {startApiEmulator} from '../helpers/apiEmulator/index.ts';
import {runCli} from '../helpers/runCli.ts';
import {b64} from '../helpers/encoding.ts';
import {useApiEmulator} from '../helpers/apiEmulator/fixture.ts';

const api = await useApiEmulator();
let cacheRoot: string;
before(async () => {
  cacheRoot = mkdtempSync(path.join(os.tmpdir(), `sync-kubectl-cache-`));
});
after(async () => {
  rmSync(cacheRoot, {recursive: true, force: true});
});

const kube = () => [`--kubeconfig`, api.kubeconfigPath];
const CONFIG = b64(`{"auths":{"registry.example.com":{"username":"u","password":"p","auth":"dTpw"}}}`);
const CONFIG2 = b64(`{"auths":{"registry.example.com":{"username":"u","password":"rotated","auth":"dTpyb3RhdGVk"}}}`);

/** Real kubectl with a fresh cache (async: the emulator runs in this process). */
async function kubectl(...args: string[]): Promise<string> {
  const cacheDir = mkdtempSync(path.join(cacheRoot, `c-`));
  const {stdout} = await promisify(execFile)(`kubectl`, [`--kubeconfig`, api.kubeconfigPath, `--cache-dir`, cacheDir, ...args], {encoding: `utf8`});
  return stdout;
}

async function kubectlJson(...args: string[]): Promise<any> {
  return JSON.parse(await kubectl(...args, `-o`, `json`));
}

/** A source namespace holding `regcred`, and target namespaces labelled `group=<group>`. */
function world(group: string, targets: string[], data = CONFIG) {
  api.seed.namespace(`${group}-src`);
  api.seed.secret(`${group}-src`, {metadata: {name: `regcred`}, type: `kubernetes.io/dockerconfigjson`, data: {'.dockerconfigjson': data}});
  for (const target of targets)
    api.seed.namespace(target, {labels: {group}});
}

test(`sync copies type and data with provenance, and kubectl reads a dockerconfigjson secret`, async () => {
  world(`s1`, [`s1-a`, `s1-b`]);
  const result = await runCli([`sync`, `regcred`, `--from-namespace`, `s1-src`, `--namespaces`, `s1-a,s1-b`, ...kube()]);
  assert.equal(result.code, 0, result.stderr);
  assert.deepEqual(result.stdout.trim().split(`\n`), [
    `s1-a: secret/regcred created`,
    `s1-b: secret/regcred created`,
  ]);
  assert.deepEqual(result.stderr.trim().split(`\n`), [
    `sync regcred: 2 of 2 namespaces ok (2 changed, 0 unchanged)`,
  ]);
  const copy = await kubectlJson(`get`, `secret`, `regcred`, `-n`, `s1-b`);
  assert.equal(copy.type, `kubernetes.io/dockerconfigjson`);
  assert.deepEqual(copy.data, {'.dockerconfigjson': CONFIG});
  assert.equal(copy.metadata.labels[`app.kubernetes.io/managed-by`], `kubectl-pullsecret`);
  assert.equal(copy.metadata.annotations[`pullsecret.kubectl.io/source`], `s1-src/regcred`);
  assert.match(copy.metadata.annotations[`pullsecret.kubectl.io/content-hash`], /^sha256:[0-9a-f]{64}$/);
});

test(`a second sync is unchanged and writes nothing`, async () => {
  world(`s2`, [`s2-a`]);
  assert.equal((await runCli([`sync`, `regcred`, `--from-namespace`, `s2-src`, `-n`, `s2-a`, ...kube()])).code, 0);
  api.resetRequests();
  const result = await runCli([`sync`, `regcred`, `--from-namespace`, `s2-src`, `-n`, `s2-a`, ...kube()]);
  assert.equal(result.code, 0, result.stderr);
  assert.equal(result.stdout, `secret/regcred unchanged\n`);
  assert.deepEqual(api.requests.filter(request => request.method !== `GET`), []);
});

test(`sync updates a copy whose source changed, and heals a copy edited by hand`, async () => {
  world(`s3`, [`s3-a`, `s3-b`]);
  assert.equal((await runCli([`sync`, `regcred`, `--from-namespace`, `s3-src`, `--namespace-selector`, `group=s3`, ...kube()])).code, 0);
  // Someone rotates the source by hand, and someone else edits one copy.
  await kubectl(`patch`, `secret`, `regcred`, `-n`, `s3-src`, `--type=merge`, `-p`, JSON.stringify({data: {'.dockerconfigjson': CONFIG2}}));
  await kubectl(`patch`, `secret`, `regcred`, `-n`, `s3-b`, `--type=merge`, `-p`, JSON.stringify({data: {'.dockerconfigjson': b64(`{"auths":{}}`)}}));
  const result = await runCli([`sync`, `regcred`, `--from-namespace`, `s3-src`, `--namespace-selector`, `group=s3`, ...kube()]);
  assert.equal(result.code, 0, result.stderr);
  assert.match(result.stdout, /^s3-a: secret\/regcred configured$/m);
  assert.match(result.stdout, /^s3-b: secret\/regcred configured$/m);
  for (const namespace of [`s3-a`, `s3-b`])
    assert.deepEqual(api.getObject(`secrets`, namespace, `regcred`).data, {'.dockerconfigjson': CONFIG2});
});

test(`sync never overwrites a secret of the same name that it does not manage, unless --force`, async () => {
  world(`s4`, [`s4-a`]);
  const mine = {metadata: {name: `regcred`}, type: `kubernetes.io/dockerconfigjson`, data: {'.dockerconfigjson': b64(`{"auths":{"other.example.com":{"auth":"eDp5"}}}`)}};
  api.seed.secret(`s4-a`, mine);
  const refused = await runCli([`sync`, `regcred`, `--from-namespace`, `s4-src`, `-n`, `s4-a`, ...kube()]);
  assert.equal(refused.code, 1);
  assert.match(refused.stderr, /^error: failed at check existing secret: secret "regcred" already exists in namespace "s4-a" and is not managed by kubectl-pullsecret; pass --force to overwrite it$/m);
  assert.deepEqual(api.getObject(`secrets`, `s4-a`, `regcred`).data, mine.data);
  const forced = await runCli([`sync`, `regcred`, `--from-namespace`, `s4-src`, `-n`, `s4-a`, `--force`, ...kube()]);
  assert.equal(forced.code, 0, forced.stderr);
  const copy = api.getObject(`secrets`, `s4-a`, `regcred`);
  assert.deepEqual(copy.data, {'.dockerconfigjson': CONFIG});
  assert.equal(copy.metadata.annotations[`pullsecret.kubectl.io/source`], `s4-src/regcred`);
});

test(`sync --force turns an Opaque secret of the same name into a real pull secret (types are immutable, so it is recreated)`, async () => {
  world(`s5`, [`s5-a`]);
  api.seed.secret(`s5-a`, {metadata: {name: `regcred`}, type: `Opaque`, data: {'.dockerconfigjson': CONFIG}});
  const result = await runCli([`sync`, `regcred`, `--from-namespace`, `s5-src`, `-n`, `s5-a`, `--force`, ...kube()]);
  assert.equal(result.code, 0, result.stderr);
  assert.equal(result.stdout, `secret/regcred replaced\n`);
  assert.equal((await kubectlJson(`get`, `secret`, `regcred`, `-n`, `s5-a`)).type, `kubernetes.io/dockerconfigjson`);
});

test(`sync -A never targets the source namespace, skips ignored namespaces and reads existing secrets with one list`, async t => {
  // A cluster of its own: -A acts on every namespace.
  const fresh = await startApiEmulator();
  t.after(() => fresh.stop());
  fresh.seed.namespace(`s6-src`);
  fresh.seed.secret(`s6-src`, {metadata: {name: `regcred`}, type: `kubernetes.io/dockerconfigjson`, data: {'.dockerconfigjson': CONFIG}});
  fresh.seed.namespace(`s6-ignored`, {annotations: {'pullsecret.kubectl.io/ignore': `true`}});
  const result = await runCli([`sync`, `regcred`, `--from-namespace`, `s6-src`, `-A`, `-o`, `json`, `--kubeconfig`, fresh.kubeconfigPath]);
  assert.equal(result.code, 0, result.stderr);
  const report = JSON.parse(result.stdout);
  const byNamespace = Object.fromEntries(report.results.map((entry: any) => [entry.namespace, entry]));
  assert.equal(byNamespace[`s6-src`].status, `skipped`);
  assert.equal(byNamespace[`s6-ignored`].status, `skipped`);
  assert.equal(fresh.getObject(`secrets`, `s6-ignored`, `regcred`), undefined);
  for (const namespace of [`default`, `kube-system`, `kube-public`, `kube-node-lease`]) {
    assert.equal(byNamespace[namespace].secret, `created`);
    assert.equal(fresh.getObject(`secrets`, namespace, `regcred`).type, `kubernetes.io/dockerconfigjson`);
  }
  const secretReads = fresh.requests.filter(request => request.method === `GET` && request.resource === `secrets`);
  // One cluster-wide list, plus the GET of the source.
  assert.deepEqual(secretReads.map(request => request.namespace ?? `(all)`).sort(), [`(all)`, `s6-src`]);
});

test(`sync --prune deletes this source's copies outside the selection and detaches them, leaving other secrets alone`, async () => {
  world(`s7`, [`s7-a`, `s7-b`]);
  api.seed.namespace(`s7-mine`);
  api.seed.secret(`s7-mine`, {metadata: {name: `regcred`}, type: `kubernetes.io/dockerconfigjson`, data: {'.dockerconfigjson': CONFIG}});
  assert.equal((await runCli([`sync`, `regcred`, `--from-namespace`, `s7-src`, `--namespaces`, `s7-a,s7-b`, `--attach`, ...kube()])).code, 0);
  assert.deepEqual(api.getObject(`serviceaccounts`, `s7-b`, `default`).imagePullSecrets, [{name: `regcred`}]);
  const result = await runCli([`sync`, `regcred`, `--from-namespace`, `s7-src`, `--namespaces`, `s7-a`, `--prune`, ...kube()]);
  assert.equal(result.code, 0, result.stderr);
  assert.match(result.stdout, /^s7-b: secret\/regcred deleted, serviceaccount\/default configured$/m);
  assert.equal(api.getObject(`secrets`, `s7-b`, `regcred`), undefined);
  assert.deepEqual(api.getObject(`serviceaccounts`, `s7-b`, `default`).imagePullSecrets ?? [], []);
  assert.notEqual(api.getObject(`secrets`, `s7-a`, `regcred`), undefined);
  assert.notEqual(api.getObject(`secrets`, `s7-mine`, `regcred`), undefined, `an unmanaged secret is never pruned`);
  assert.notEqual(api.getObject(`secrets`, `s7-src`, `regcred`), undefined, `the source is never pruned`);
});

test(`sync --attach attaches each copy to the ServiceAccounts named`, async () => {
  world(`s8`, [`s8-a`]);
  api.seed.serviceAccount(`s8-a`, `builder`, {imagePullSecrets: [`keep`]});
  const result = await runCli([`sync`, `regcred`, `--from-namespace`, `s8-src`, `-n`, `s8-a`, `--attach=all`, ...kube()]);
  assert.equal(result.code, 0, result.stderr);
  assert.equal(result.stdout, `secret/regcred created\nserviceaccount/builder configured\nserviceaccount/default configured\n`);
  assert.deepEqual((await kubectlJson(`get`, `sa`, `builder`, `-n`, `s8-a`)).imagePullSecrets, [{name: `keep`}, {name: `regcred`}]);
});

test(`sync of a missing source fails with exit code 1, and of a non-pull secret with exit code 2`, async () => {
  api.seed.namespace(`s9-src`);
  const missing = await runCli([`sync`, `regcred`, `--from-namespace`, `s9-src`, `-n`, `default`, ...kube()]);
  assert.equal(missing.code, 1);
  assert.equal(missing.stderr, `error: source secret "regcred" not found in namespace "s9-src"\n`);
  api.seed.secret(`s9-src`, {metadata: {name: `regcred`}, type: `Opaque`, data: {x: b64(`y`)}});
  const opaque = await runCli([`sync`, `regcred`, `--from-namespace`, `s9-src`, `-n`, `default`, ...kube()]);
  assert.equal(opaque.code, 2);
  assert.match(opaque.stderr, /^error: source secret s9-src\/regcred has type Opaque/);
});

test(`sync requires --from-namespace`, async () => {
  const result = await runCli([`sync`, `regcred`, ...kube()]);
  assert.equal(result.code, 2);
  assert.match(result.stderr, /^error: --from-namespace is required/);
});
