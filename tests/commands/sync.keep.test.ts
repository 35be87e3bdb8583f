import {after, before, test} from 'node:test';
import assert from 'node:assert/strict';
import {execFile} from 'node:child_process';
import {promisify} from 'node:util';
import {mkdtempSync, rmSync} from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import {runCli} from '../helpers/runCli.ts';
import {useApiEmulator} from '../helpers/apiEmulator/fixture.ts';

const api = await useApiEmulator();
let cacheRoot: string;
before(async () => {
  cacheRoot = mkdtempSync(path.join(os.tmpdir(), `sync-keep-kubectl-cache-`));
});
after(async () => {
  rmSync(cacheRoot, {recursive: true, force: true});
});

const POLICY = `pullsecret.kubectl.io/sync-policy`;
const kube = () => [`--kubeconfig`, api.kubeconfigPath];
const CONFIG = Buffer.from(`{"auths":{"registry.example.com":{"username":"u","password":"p","auth":"dTpw"}}}`).toString(`base64`);

/** Real kubectl with a fresh cache (async: the emulator runs in this process). */
async function kubectl(...args: string[]): Promise<string> {
  const cacheDir = mkdtempSync(path.join(cacheRoot, `c-`));
  const {stdout} = await promisify(execFile)(`kubectl`, [`--kubeconfig`, api.kubeconfigPath, `--cache-dir`, cacheDir, ...args], {encoding: `utf8`});
  return stdout;
}

/** The source `regcred` in `<group>-src`, and target namespaces labelled `group=<group>`. */
function world(group: string, targets: string[]) {
  api.seed.namespace(`${group}-src`);
  api.seed.secret(`${group}-src`, {metadata: {name: `regcred`}, type: `kubernetes.io/dockerconfigjson`, data: {'.dockerconfigjson': CONFIG}});
  for (const target of targets)
    api.seed.namespace(target, {labels: {group}});
}

const policyOf = async (namespace: string) => (await kubectl(`get`, `secret`, `regcred`, `-n`, namespace, `-o`, `jsonpath={.metadata.annotations.pullsecret\\.kubectl\\.io/sync-policy}`));

test(`sync --keep records the scope and attach targets on the source, and kubectl reads the annotation`, async () => {
  world(`k1`, [`k1-a`, `k1-b`]);
  const result = await runCli([`sync`, `regcred`, `--from-namespace`, `k1-src`, `--namespace-selector`, `group=k1`, `--exclude-namespaces`, `k1-b`, `--attach`, `--keep`, ...kube()]);
  assert.equal(result.code, 0, result.stderr);
  assert.deepEqual(result.stdout.trim().split(`\n`), [
    `k1-src: secret/regcred annotated (sync policy recorded: namespaces matching group=k1 except k1-b; attach to default)`,
    `k1-a: secret/regcred created, serviceaccount/default configured`,
  ]);
  assert.deepEqual(result.stderr.trim().split(`\n`), [
    `k1-b: skipped (excluded by --exclude-namespaces "k1-b")`,
    `sync regcred: 1 of 2 namespaces ok (1 changed, 0 unchanged), 1 skipped`,
  ]);
  assert.equal(await policyOf(`k1-src`), `{"namespaceSelector":"group=k1","exclude":["k1-b"],"attach":"default"}`);
  // The copies never carry the policy: only the source declares intent.
  assert.equal(await kubectl(`get`, `secret`, `regcred`, `-n`, `k1-a`, `-o`, `jsonpath={.metadata.annotations}`).then(text => text.includes(POLICY)), false);
});

test(`sync with no scope flags re-applies the recorded policy to namespaces created since`, async () => {
  world(`k2`, [`k2-a`]);
  assert.equal((await runCli([`sync`, `regcred`, `--from-namespace`, `k2-src`, `--namespace-selector`, `group=k2`, `--attach`, `--keep`, ...kube()])).code, 0);
  await kubectl(`create`, `namespace`, `k2-new`);
  await kubectl(`label`, `namespace`, `k2-new`, `group=k2`);
  await kubectl(`create`, `serviceaccount`, `default`, `-n`, `k2-new`).catch(() => ``);
  const result = await runCli([`sync`, `regcred`, `--from-namespace`, `k2-src`, ...kube()]);
  assert.equal(result.code, 0, result.stderr);
  assert.deepEqual(result.stderr.trim().split(`\n`), [
    `note: k2-src: applying the sync policy recorded on secret/regcred: namespaces matching group=k2; attach to default`,
    `sync regcred: 2 of 2 namespaces ok (1 changed, 1 unchanged)`,
  ]);
  assert.deepEqual(result.stdout.trim().split(`\n`), [
    `k2-a: secret/regcred unchanged, serviceaccount/default unchanged`,
    `k2-new: secret/regcred created, serviceaccount/default configured`,
  ]);
  assert.equal(await kubectl(`get`, `sa`, `default`, `-n`, `k2-new`, `-o`, `jsonpath={.imagePullSecrets[*].name}`), `regcred`);
});

test(`a second sync --keep with the same policy does not write the source again`, async () => {
  world(`k3`, [`k3-a`]);
  const argv = [`sync`, `regcred`, `--from-namespace`, `k3-src`, `--namespaces`, `k3-a`, `--keep`, ...kube()];
  assert.equal((await runCli(argv)).code, 0);
  api.resetRequests();
  const again = await runCli(argv);
  assert.equal(again.code, 0, again.stderr);
  assert.equal(again.stdout, `secret/regcred unchanged\n`);
  assert.equal(again.stderr, ``);
  assert.deepEqual(api.requests.filter(request => request.method !== `GET`), []);
});

test(`--keep=false without scope flags removes the policy and copies nothing; with scope flags it syncs once and removes it`, async () => {
  world(`k4`, [`k4-a`, `k4-b`]);
  assert.equal((await runCli([`sync`, `regcred`, `--from-namespace`, `k4-src`, `--namespaces`, `k4-a`, `--keep=true`, ...kube()])).code, 0);
  api.resetRequests();
  const forget = await runCli([`sync`, `regcred`, `--from-namespace`, `k4-src`, `--keep=false`, ...kube()]);
  assert.equal(forget.code, 0, forget.stderr);
  assert.equal(forget.stdout, `k4-src: secret/regcred annotated (sync policy removed)\n`);
  assert.equal(await policyOf(`k4-src`), ``);
  assert.deepEqual(api.requests.filter(request => request.method !== `GET`).map(request => `${request.method} ${request.path}`), [`PATCH /api/v1/namespaces/k4-src/secrets/regcred`]);
  const none = await runCli([`sync`, `regcred`, `--from-namespace`, `k4-src`, `--keep=false`, ...kube()]);
  assert.equal(none.stderr, `note: k4-src: secret/regcred has no sync policy to remove\n`);

  assert.equal((await runCli([`sync`, `regcred`, `--from-namespace`, `k4-src`, `--namespaces`, `k4-a`, `--keep`, ...kube()])).code, 0);
  const once = await runCli([`sync`, `regcred`, `--from-namespace`, `k4-src`, `--namespaces`, `k4-b`, `--keep=false`, ...kube()]);
  assert.equal(once.code, 0, once.stderr);
  assert.deepEqual(once.stdout.trim().split(`\n`), [`k4-src: secret/regcred annotated (sync policy removed)`, `secret/regcred created`]);
  assert.equal(await policyOf(`k4-src`), ``);
});

test(`--keep without scope flags and no recorded policy is a usage error; a broken policy is one error line`, async () => {
  world(`k5`, []);
  const keep = await runCli([`sync`, `regcred`, `--from-namespace`, `k5-src`, `--keep`, ...kube()]);
  assert.equal(keep.code, 2);
  assert.match(keep.stderr, /^error: --keep needs the namespaces to keep in sync: give -n, -A, --namespaces or --namespace-selector/);
  const bad = await runCli([`sync`, `regcred`, `--from-namespace`, `k5-src`, `--keep=maybe`, `-A`, ...kube()]);
  assert.equal(bad.code, 2);
  assert.match(bad.stderr, /^error: invalid argument "maybe" for "--keep" flag/);
  await kubectl(`annotate`, `secret`, `regcred`, `-n`, `k5-src`, `${POLICY}={"namespaces":"all","password":"hunter2"}`);
  api.resetRequests();
  const broken = await runCli([`sync`, `regcred`, `--from-namespace`, `k5-src`, ...kube()]);
  assert.equal(broken.code, 1);
  assert.equal(broken.stderr, `error: the sync policy recorded on k5-src/regcred (annotation ${POLICY}) is not valid: unknown field "password"; record a new one with --keep and scope flags, or remove it with --keep=false\n`);
  assert.deepEqual(api.requests.filter(request => request.method !== `GET`), []);
  // The fix the message names works.
  assert.equal((await runCli([`sync`, `regcred`, `--from-namespace`, `k5-src`, `--keep=false`, ...kube()])).code, 0);
  assert.equal(await policyOf(`k5-src`), ``);
});

test(`--dry-run=client records nothing; --dry-run=server sends the patch as a dry run`, async () => {
  world(`k6`, [`k6-a`]);
  const client = await runCli([`sync`, `regcred`, `--from-namespace`, `k6-src`, `-n`, `k6-a`, `--keep`, `--dry-run=client`, ...kube()]);
  assert.equal(client.code, 0, client.stderr);
  assert.match(client.stdout, /^k6-src: secret\/regcred annotated \(sync policy recorded: namespaces k6-a\) \(dry run\)\n/);
  const server = await runCli([`sync`, `regcred`, `--from-namespace`, `k6-src`, `-n`, `k6-a`, `--keep`, `--dry-run=server`, ...kube()]);
  assert.equal(server.code, 0, server.stderr);
  assert.equal(await policyOf(`k6-src`), ``);
});

test(`list -o wide shows the recorded policy, and -o json carries its fields`, async () => {
  world(`k7`, [`k7-a`]);
  assert.equal((await runCli([`sync`, `regcred`, `--from-namespace`, `k7-src`, `--namespaces`, `k7-a`, `--attach=all`, `--prune`, `--keep`, ...kube()])).code, 0);
  const wide = await runCli([`list`, `-n`, `k7-src`, `-o`, `wide`, ...kube()]);
  assert.equal(wide.code, 0, wide.stderr);
  const [header, row] = wide.stdout.trim().split(`\n`);
  assert.match(header!, /SYNC POLICY$/);
  assert.match(row!, /namespaces k7-a; attach to all ServiceAccounts; prune$/);
  const json = JSON.parse((await runCli([`list`, `--namespaces`, `k7-src,k7-a`, `-o`, `json`, ...kube()])).stdout);
  assert.deepEqual(json.secrets.map((secret: any) => [secret.namespace, secret.syncPolicy]), [[`k7-a`, null], [`k7-src`, {namespaces: [`k7-a`], attach: `all`, prune: true}]]);
});

test(`with -o json the policy line goes to stderr and stdout holds only the document`, async () => {
  world(`k8`, [`k8-a`]);
  const result = await runCli([`sync`, `regcred`, `--from-namespace`, `k8-src`, `-n`, `k8-a`, `--keep`, `-o`, `json`, ...kube()]);
  assert.equal(result.code, 0, result.stderr);
  assert.equal(JSON.parse(result.stdout).kind, `SyncResult`);
  assert.equal(result.stderr, `k8-src: secret/regcred annotated (sync policy recorded: namespaces k8-a)\n`);
});

test(`--keep over a selector that matches nothing yet records the policy and exits 0 with a note`, async () => {
  world(`k9`, []);
  const result = await runCli([`sync`, `regcred`, `--from-namespace`, `k9-src`, `--namespace-selector`, `group=k9-later`, `--keep`, ...kube()]);
  assert.equal(result.code, 0, result.stderr);
  assert.equal(result.stdout, `k9-src: secret/regcred annotated (sync policy recorded: namespaces matching group=k9-later)\n`);
  assert.equal(result.stderr, `note: no namespace is selected yet; namespaces the policy selects later get their copy from the agent or the next sync\n`);
  assert.equal(await policyOf(`k9-src`), `{"namespaceSelector":"group=k9-later"}`);
  const oneShot = await runCli([`sync`, `regcred`, `--from-namespace`, `k9-src`, `--namespace-selector`, `group=k9-later`, ...kube()]);
  assert.equal(oneShot.code, 1);
  assert.equal(oneShot.stderr, `warning: --namespace-selector "group=k9-later" matches no namespace\nerror: no namespace selected\n`);
});
