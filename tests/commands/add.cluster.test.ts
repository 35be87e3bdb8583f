// add against the API emulator with the real kube adapter; real kubectl reads what we wrote.
import assert from 'node:assert/strict';
import {execFile} from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import {promisify} from 'node:util';
import {after, test} from 'node:test';
import {runCli} from '../helpers/runCli.ts';
import {b64} from '../helpers/encoding.ts';
import {useApiEmulator} from '../helpers/apiEmulator/fixture.ts';

const execFileAsync = promisify(execFile);
const PASSWORD = `Add-Cluster-pw-42`;
const api = await useApiEmulator();
const tmp = fs.mkdtempSync(path.join(os.tmpdir(), `add-cluster-`));

after(async () => {
  fs.rmSync(tmp, {recursive: true, force: true});
});

const auths = (secret: {data: Record<string, string>}) => JSON.parse(Buffer.from(secret.data[`.dockerconfigjson`]!, `base64`).toString(`utf8`)).auths;

/** Runs `add` against the emulator with the password on stdin. */
function add(args: string[], password = PASSWORD) {
  return runCli([`add`, ...args, `--docker-password-stdin`, `--kubeconfig`, api.kubeconfigPath], {stdin: `${password}\n`});
}

/** Real kubectl reading from the emulator, with a fresh discovery cache. */
async function kubectl(args: string[]): Promise<string> {
  const cacheDir = fs.mkdtempSync(path.join(tmp, `cache-`));
  const {stdout} = await execFileAsync(`kubectl`, [`--kubeconfig`, api.kubeconfigPath, `--cache-dir`, cacheDir, ...args]);
  return stdout;
}

test(`add creates the secret kubectl would create, labelled as ours, and kubectl reads it back`, async () => {
  api.seed.namespace(`create`);
  const result = await add([`regcred`, `-n`, `create`, `--docker-server`, `ghcr.io`, `--docker-username`, `bot`, `--docker-email`, `bot@example.com`]);
  assert.equal(result.code, 0, result.stderr);
  assert.equal(result.stdout, `secret/regcred created\n`);
  assert.equal(result.stderr, ``);
  const read = JSON.parse(await kubectl([`get`, `secret`, `regcred`, `-n`, `create`, `-o`, `json`]));
  assert.equal(read.type, `kubernetes.io/dockerconfigjson`);
  assert.equal(read.metadata.labels[`app.kubernetes.io/managed-by`], `kubectl-pullsecret`);
  const {stdout: oracle} = await execFileAsync(`kubectl`, [`--kubeconfig=/dev/null`, `create`, `secret`, `docker-registry`, `regcred`, `--docker-server=ghcr.io`, `--docker-username=bot`, `--docker-email=bot@example.com`, `--docker-password=${PASSWORD}`, `--dry-run=client`, `-o`, `json`]);
  assert.equal(read.data[`.dockerconfigjson`], JSON.parse(oracle).data[`.dockerconfigjson`]);
});

test(`add again with the same credentials says unchanged and writes nothing`, async () => {
  api.seed.namespace(`again`);
  assert.equal((await add([`regcred`, `-n`, `again`, `--docker-server`, `ghcr.io`, `--docker-username`, `bot`])).code, 0);
  api.resetRequests();
  const result = await add([`regcred`, `-n`, `again`, `--docker-server`, `ghcr.io`, `--docker-username`, `bot`]);
  assert.equal(result.code, 0, result.stderr);
  assert.equal(result.stdout, `secret/regcred unchanged\n`);
  assert.deepEqual(api.requests.filter(request => request.method !== `GET`), []);
});

test(`add of another registry keeps the existing one and says configured`, async () => {
  api.seed.namespace(`merge`);
  api.seed.secret(`merge`, {metadata: {name: `regcred`, labels: {team: `web`}}, type: `kubernetes.io/dockerconfigjson`, data: {'.dockerconfigjson': b64(`{"auths":{"quay.io":{"auth":"${b64(`robot:tok`)}"}}}`)}});
  const result = await add([`regcred`, `-n`, `merge`, `--docker-server`, `ghcr.io`, `--docker-username`, `bot`]);
  assert.equal(result.code, 0, result.stderr);
  assert.equal(result.stdout, `secret/regcred configured\n`);
  const read = JSON.parse(await kubectl([`get`, `secret`, `regcred`, `-n`, `merge`, `-o`, `json`]));
  assert.deepEqual(Object.keys(auths(read)).sort(), [`ghcr.io`, `quay.io`]);
  assert.equal(read.metadata.labels.team, `web`);
  const put = api.requests.find(request => request.method === `PUT` && request.namespace === `merge`);
  assert.ok(put, `the update is a PUT carrying the resourceVersion that was read`);
});

test(`add --replace leaves only the given registry`, async () => {
  api.seed.namespace(`replace`);
  api.seed.secret(`replace`, {metadata: {name: `regcred`}, type: `kubernetes.io/dockerconfigjson`, data: {'.dockerconfigjson': b64(`{"auths":{"quay.io":{"auth":"${b64(`robot:tok`)}"}}}`)}});
  const result = await add([`regcred`, `-n`, `replace`, `--docker-server`, `ghcr.io`, `--docker-username`, `bot`, `--replace`]);
  assert.equal(result.code, 0, result.stderr);
  assert.deepEqual(Object.keys(auths(api.getObject(`secrets`, `replace`, `regcred`))), [`ghcr.io`]);
});

test(`add refuses to change the type of an existing Opaque secret unless --force recreates it`, async () => {
  api.seed.namespace(`typed`);
  api.seed.secret(`typed`, {metadata: {name: `regcred`}, type: `Opaque`, data: {token: b64(`x`)}});
  const refused = await add([`regcred`, `-n`, `typed`, `--docker-username`, `bot`]);
  assert.equal(refused.code, 1);
  assert.match(refused.stderr, /^error: .*secret typed\/regcred already exists with type Opaque.*use --force/m);
  assert.equal(api.getObject(`secrets`, `typed`, `regcred`).type, `Opaque`);
  const forced = await add([`regcred`, `-n`, `typed`, `--docker-username`, `bot`, `--force`]);
  assert.equal(forced.code, 0, forced.stderr);
  assert.match(forced.stdout, /^secret\/regcred replaced$/m);
  assert.match(forced.stderr, /^warning: secret typed\/regcred had type Opaque; deleting and recreating it$/m);
  assert.equal(api.getObject(`secrets`, `typed`, `regcred`).type, `kubernetes.io/dockerconfigjson`);
});

test(`add --dry-run=server sends dryRun=All, stores nothing and says so like kubectl`, async () => {
  api.seed.namespace(`serverdry`);
  api.resetRequests();
  const result = await add([`regcred`, `-n`, `serverdry`, `--docker-username`, `bot`, `--dry-run=server`]);
  assert.equal(result.code, 0, result.stderr);
  assert.equal(result.stdout, `secret/regcred created (server dry run)\n`);
  assert.equal(api.getObject(`secrets`, `serverdry`, `regcred`), undefined);
  const post = api.requests.find(request => request.method === `POST`);
  assert.equal((post?.query as Record<string, unknown> | undefined)?.dryRun, `All`);
});

test(`add -o json prints the object the server stored`, async () => {
  api.seed.namespace(`printed`);
  const result = await add([`regcred`, `-n`, `printed`, `--docker-username`, `bot`, `-o`, `json`]);
  assert.equal(result.code, 0, result.stderr);
  const printed = JSON.parse(result.stdout);
  assert.equal(printed.metadata.uid, api.getObject(`secrets`, `printed`, `regcred`).metadata.uid);
  assert.equal(result.stderr, ``);
});

test(`add -o yaml|json, real or --dry-run=server, hides managedFields as kubectl create -o yaml does`, async () => {
  api.seed.namespace(`nomanaged`);
  for (const extra of [[`-o`, `json`], [`-o`, `yaml`, `--dry-run=server`]]) {
    const result = await add([`regcred`, `-n`, `nomanaged`, `--docker-username`, `bot`, ...extra]);
    assert.equal(result.code, 0, result.stderr);
    assert.match(result.stdout, /regcred/);
    assert.doesNotMatch(result.stdout, /managedFields/);
  }
  assert.notEqual(api.getObject(`secrets`, `nomanaged`, `regcred`).metadata.managedFields, undefined, `the server keeps them`);
});

test(`add --namespaces fans out with one line per namespace and a summary, skipping ignored namespaces`, async () => {
  api.seed.namespace(`fan-a`);
  api.seed.namespace(`fan-b`);
  api.seed.namespace(`fan-c`, {annotations: {'pullsecret.kubectl.io/ignore': `true`}});
  const result = await add([`regcred`, `--namespaces`, `fan-a,fan-b,fan-c`, `--docker-username`, `bot`]);
  assert.equal(result.code, 0, result.stderr);
  assert.match(result.stdout, /^fan-a: secret\/regcred created$/m);
  assert.match(result.stdout, /^fan-b: secret\/regcred created$/m);
  assert.match(result.stderr, /^fan-c: skipped \(annotated pullsecret\.kubectl\.io\/ignore=true/m);
  assert.match(result.stderr, /^added regcred in 3 namespaces: 2 ok \(2 changed, 0 unchanged\), 1 skipped$/m);
  assert.equal(api.getObject(`secrets`, `fan-c`, `regcred`), undefined);
});

test(`add -A with --attach attaches to each namespace's default ServiceAccount`, async () => {
  api.seed.namespace(`attach-a`, {labels: {team: `attach`}});
  api.seed.namespace(`attach-b`, {labels: {team: `attach`}});
  const result = await add([`regcred`, `--namespace-selector`, `team=attach`, `--docker-username`, `bot`, `--attach`]);
  assert.equal(result.code, 0, result.stderr);
  for (const namespace of [`attach-a`, `attach-b`]) {
    assert.deepEqual(api.getObject(`serviceaccounts`, namespace, `default`).imagePullSecrets, [{name: `regcred`}]);
    assert.match(result.stdout, new RegExp(`^${namespace}: secret/regcred created, serviceaccount/default configured$`, `m`));
  }
});

test(`add with several --context flags labels results by context and exits 1 when one fails`, async () => {
  api.seed.namespace(`multi`);
  const result = await add([`regcred`, `-n`, `multi`, `--context`, `admin`, `--context`, `readonly`, `--docker-username`, `bot`]);
  assert.equal(result.code, 1, result.stderr);
  assert.match(result.stdout, /^admin\/multi: secret\/regcred (created|configured)$/m);
  assert.match(result.stderr, /^readonly\/multi: failed at write secret: .*forbidden/im);
});

test(`add records an ECR token's expiry as an annotation and warns that it lasts 12 hours`, async () => {
  api.seed.namespace(`ecr`);
  const expiration = Math.floor(Date.now() / 1000) + 12 * 3600;
  const password = b64(JSON.stringify({payload: `x`.repeat(40), datakey: `y`.repeat(20), version: `2`, type: `DATA_KEY`, expiration}));
  const result = await add([`regcred`, `-n`, `ecr`, `--docker-server`, `123456789012.dkr.ecr.eu-west-1.amazonaws.com`, `--docker-username`, `AWS`], password);
  assert.equal(result.code, 0, result.stderr);
  assert.match(result.stderr, /12 hours/);
  assert.equal(api.getObject(`secrets`, `ecr`, `regcred`).metadata.annotations[`pullsecret.kubectl.io/expires-at`], new Date(expiration * 1000).toISOString().replace(/\.\d{3}Z$/, `Z`));
});

test(`two adds racing on one secret both land: the slower write gets 409, re-reads and merges`, async () => {
  api.seed.namespace(`race`);
  api.seed.secret(`race`, {metadata: {name: `regcred`}, type: `kubernetes.io/dockerconfigjson`, data: {'.dockerconfigjson': b64(`{"auths":{"quay.io":{"auth":"${b64(`robot:tok`)}"}}}`)}});
  api.faults.add({route: `/namespaces/race/secrets/regcred`, method: `PUT`, nth: 1, kind: `latency`, latencyMs: 600});
  try {
    const slow = add([`regcred`, `-n`, `race`, `--docker-server`, `ghcr.io`, `--docker-username`, `bot`]);
    await new Promise(resolve => setTimeout(resolve, 200));
    const fast = await add([`regcred`, `-n`, `race`, `--docker-server`, `registry.example.com`, `--docker-username`, `ci`]);
    assert.equal(fast.code, 0, fast.stderr);
    const slowResult = await slow;
    assert.equal(slowResult.code, 0, slowResult.stderr);
  } finally {
    api.faults.clear();
  }
  const puts = api.requests.filter(request => request.method === `PUT` && request.namespace === `race`);
  assert.deepEqual(puts.map(request => request.status).sort(), [200, 200, 409]);
  assert.deepEqual(Object.keys(auths(api.getObject(`secrets`, `race`, `regcred`))).sort(), [`ghcr.io`, `quay.io`, `registry.example.com`]);
});
