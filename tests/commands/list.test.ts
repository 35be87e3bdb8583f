// list against the API emulator with the real kube adapter.
import assert from 'node:assert/strict';
import {before, test} from 'node:test';
import {runCli} from '../helpers/runCli.ts';
import {b64} from '../helpers/encoding.ts';
import {useApiEmulator} from '../helpers/apiEmulator/fixture.ts';

const api = await useApiEmulator();
const config = (auths: Record<string, unknown>) => ({'.dockerconfigjson': b64(JSON.stringify({auths}))});
const pull = (name: string, auths: Record<string, unknown>, metadata: Record<string, unknown> = {}) => ({metadata: {name, ...metadata}, type: `kubernetes.io/dockerconfigjson`, data: config(auths)});
const ecrPassword = (expiresInSeconds: number) => b64(JSON.stringify({payload: `p`.repeat(40), datakey: `d`.repeat(20), version: `2`, type: `DATA_KEY`, expiration: Math.floor(Date.now() / 1000) + expiresInSeconds}));
const ECR = `123456789012.dkr.ecr.eu-west-1.amazonaws.com`;
const spec = (extra: Record<string, unknown> = {}) => ({containers: [{name: `app`, image: `ghcr.io/acme/app:1`}], ...extra});

before(async () => {
  api.seed.namespace(`audit`);
  api.seed.secret(`audit`, pull(`used`, {'ghcr.io': {username: `bot`, password: `pat`, auth: b64(`bot:pat`)}}));
  api.seed.secret(`audit`, pull(`lonely`, {'quay.io': {auth: b64(`robot:tok`)}}));
  api.seed.secret(`audit`, {metadata: {name: `opaque`}, type: `Opaque`, data: config({'ghcr.io': {auth: b64(`bot:pat`)}})});
  api.seed.secret(`audit`, {metadata: {name: `broken`}, type: `kubernetes.io/dockerconfigjson`, data: {'.dockerconfigjson': b64(`{"auths":{"ghcr.io":{"password":5}}}`)}});
  api.seed.secret(`audit`, pull(`hollow`, {'ghcr.io': {}}, {}));
  api.seed.secret(`audit`, pull(`ecr-old`, {[ECR]: {username: `AWS`, password: ecrPassword(-3600)}}));
  api.seed.secret(`audit`, pull(`ecr-soon`, {[ECR]: {username: `AWS`, password: ecrPassword(3 * 3600)}}));
  api.seed.secret(`audit`, pull(`copy`, {'ghcr.io': {auth: b64(`bot:pat`)}}, {labels: {'app.kubernetes.io/managed-by': `kubectl-pullsecret`}, annotations: {'pullsecret.kubectl.io/source': `platform/regcred`}}));
  api.seed.secret(`audit`, {metadata: {name: `tls`}, type: `kubernetes.io/tls`, data: {'tls.crt': b64(`c`), 'tls.key': b64(`k`)}});
  api.seed.serviceAccount(`audit`, `default`, {imagePullSecrets: [`used`, `hollow`, `ecr-old`, `ecr-soon`]});
  api.seed.serviceAccount(`audit`, `builder`, {imagePullSecrets: [`missing`]});
  api.seed.workload(`Deployment`, `audit`, `web`, spec({imagePullSecrets: [{name: `copy`}, {name: `gone`}]}));
  api.seed.workload(`CronJob`, `audit`, `nightly`, spec({imagePullSecrets: [{name: `opaque`}]}));
  api.seed.pod(`audit`, `debug`, spec({imagePullSecrets: [{name: `used`}]}));
  api.seed.namespace(`other`);
  api.seed.secret(`other`, pull(`regcred`, {'ghcr.io': {auth: b64(`bot:pat`)}}));
  api.addUser(`nosecrets`, [{verbs: [`get`, `list`], resources: [`serviceaccounts`, `pods`, `namespaces`]}]);
});

function list(args: string[]) {
  return runCli([`list`, ...args, `--kubeconfig`, api.kubeconfigPath]);
}

type Listed = {namespace: string; name: string; status: string; registries: string[]; usernames: string[]; referencedBy: Array<{kind: string; name: string}>; managed: boolean; copyOf: string | null; expiresAt: string | null; reasons: string[]};

async function listJson(args: string[]): Promise<{secrets: Listed[]; dangling: Array<{namespace: string; secret: string; referencedBy: {kind: string; name: string}}>}> {
  const result = await list([...args, `-o`, `json`]);
  assert.equal(result.code, 0, result.stderr);
  return JSON.parse(result.stdout);
}

test(`list gives each pull secret a status: ok, orphan, invalid, expiring or expired`, async () => {
  const {secrets} = await listJson([`-n`, `audit`]);
  const status = Object.fromEntries(secrets.map(secret => [secret.name, secret.status]));
  assert.deepEqual(status, {broken: `invalid`, copy: `ok`, 'ecr-old': `expired`, 'ecr-soon': `expiring`, hollow: `invalid`, lonely: `orphan`, opaque: `invalid`, used: `ok`});
});

test(`list names who references each secret: ServiceAccounts, workloads and pods`, async () => {
  const {secrets} = await listJson([`-n`, `audit`]);
  const used = secrets.find(secret => secret.name === `used`)!;
  assert.deepEqual(used.referencedBy, [{kind: `ServiceAccount`, name: `default`}, {kind: `Pod`, name: `debug`}]);
  assert.deepEqual(secrets.find(secret => secret.name === `opaque`)!.referencedBy, [{kind: `CronJob`, name: `nightly`}]);
});

test(`list shows provenance, registries and usernames of a managed copy`, async () => {
  const {secrets} = await listJson([`-n`, `audit`]);
  const copy = secrets.find(secret => secret.name === `copy`)!;
  assert.equal(copy.managed, true);
  assert.equal(copy.copyOf, `platform/regcred`);
  assert.deepEqual(copy.registries, [`ghcr.io`]);
  assert.deepEqual(copy.usernames, [`bot`]);
});

test(`list reports dangling references from ServiceAccounts and pod templates`, async () => {
  const {dangling} = await listJson([`-n`, `audit`]);
  assert.deepEqual(dangling.map(ref => `${ref.secret}<-${ref.referencedBy.kind}/${ref.referencedBy.name}`), [`gone<-Deployment/web`, `missing<-ServiceAccount/builder`]);
});

test(`list explains why a secret is invalid without revealing its content`, async () => {
  const {secrets} = await listJson([`-n`, `audit`]);
  assert.match(secrets.find(secret => secret.name === `opaque`)!.reasons.join(` `), /Opaque is not a pull-secret type/);
  assert.match(secrets.find(secret => secret.name === `hollow`)!.reasons.join(` `), /anonymous/);
});

test(`list leaves out secrets that are not pull secrets`, async () => {
  const {secrets} = await listJson([`-n`, `audit`]);
  assert.equal(secrets.some(secret => secret.name === `tls`), false);
});

test(`list prints a kubectl-style table with columns three spaces apart and a dangling table`, async () => {
  const result = await list([`-n`, `audit`]);
  assert.equal(result.code, 0, result.stderr);
  const lines = result.stdout.split(`\n`);
  assert.match(lines[0]!, /^NAME {3,}TYPE {3,}REGISTRIES {3,}STATUS {3,}USED BY {3,}AGE$/);
  const statusColumn = lines[0]!.indexOf(`STATUS`);
  const used = lines.find(line => line.startsWith(`used `))!;
  assert.equal(used.slice(statusColumn, statusColumn + 2), `ok`);
  assert.match(used, /sa\/default,1 pod/);
  assert.match(result.stdout, /^NAMESPACE {3,}MISSING SECRET {3,}REFERENCED BY$/m);
  assert.match(result.stdout, /^audit {3,}gone {3,}deploy\/web$/m);
});

test(`list -o wide adds usernames, provenance, expiry and the sync policy`, async () => {
  const result = await list([`-n`, `audit`, `-o`, `wide`]);
  assert.equal(result.code, 0, result.stderr);
  assert.match(result.stdout.split(`\n`)[0]!, /USERNAMES {3,}MANAGED {3,}COPY OF {3,}EXPIRES {3,}SYNC POLICY$/);
  assert.match(result.stdout, /^copy .*platform\/regcred/m);
});

test(`list -A reads one cluster-wide list per kind, not one per namespace`, async () => {
  api.resetRequests();
  const {secrets} = await listJson([`-A`]);
  assert.ok(secrets.some(secret => secret.namespace === `other` && secret.name === `regcred`));
  const lists = api.requests.filter(request => request.verb === `list`);
  assert.equal(lists.filter(request => request.resource === `secrets`).length, 1);
  assert.ok(lists.every(request => request.namespace === undefined || request.namespace === ``), `no namespaced list: ${lists.map(request => request.path).join(`, `)}`);
  const kinds = lists.map(request => request.resource).sort();
  assert.deepEqual(kinds, [...new Set(kinds)], `each kind listed once`);
});

test(`list tells a user who may not read secrets what permission is missing`, async () => {
  const result = await list([`-n`, `audit`, `--context`, `nosecrets`]);
  assert.equal(result.code, 1);
  assert.match(result.stderr, /^error: you may not list secrets in namespace audit \(forbidden\)/m);
  assert.equal(result.stdout, ``);
});

test(`list says so on stderr when a namespace has no pull secrets, and exits 0`, async () => {
  api.seed.namespace(`empty`);
  const result = await list([`-n`, `empty`]);
  assert.equal(result.code, 0, result.stderr);
  assert.equal(result.stdout, ``);
  assert.equal(result.stderr, `No pull secrets found in empty namespace.\n`);
});
