import {after, before, beforeEach, test} from 'node:test';
import assert from 'node:assert/strict';
import {startApiEmulator} from '../helpers/apiEmulator/index.ts';
import type {ApiEmulator} from '../helpers/apiEmulator/index.ts';
import {connectCluster, isKubeApiError} from '../../sources/adapters/kube/connect.ts';
import {matchesGlob, resolveNamespaces} from '../../sources/core/scope.ts';
import type {ClusterSession} from '../../sources/core/ports.ts';

// resolveNamespaces over the real kube adapter and the API emulator.

let api: ApiEmulator;

before(async () => {
  api = await startApiEmulator();
  api.seed.namespace(`team-a`, {labels: {team: `a`, env: `prod`}});
  api.seed.namespace(`team-b`, {labels: {team: `b`, env: `prod`}});
  api.seed.namespace(`team-c`, {labels: {team: `c`, env: `dev`}});
  api.seed.namespace(`opted-out`, {labels: {env: `prod`}, annotations: {[`pullsecret.kubectl.io/ignore`]: `true`}});
  api.seed.namespace(`not-opted-out`, {annotations: {[`pullsecret.kubectl.io/ignore`]: `false`}});
});
after(async () => {
  await api?.stop();
});
beforeEach(() => api.resetRequests());

function session(options: {context?: string; namespace?: string} = {}): Promise<ClusterSession> {
  return connectCluster({kubeconfig: api.kubeconfigPath, ...options});
}

test(`current scope is the session namespace and sends no request`, async () => {
  const result = await resolveNamespaces(await session({namespace: `team-b`}), {kind: `current`, exclude: []});
  assert.deepEqual(result, {namespaces: [`team-b`], skipped: []});
  assert.equal(api.requests.length, 0);
});

test(`current scope acts on an ignore-annotated namespace named with -n`, async () => {
  const result = await resolveNamespaces(await session({namespace: `opted-out`}), {kind: `current`, exclude: []});
  assert.deepEqual(result.namespaces, [`opted-out`]);
});

test(`current scope honours --exclude-namespaces`, async () => {
  const result = await resolveNamespaces(await session({namespace: `kube-system`}), {kind: `current`, exclude: [`kube-*`]});
  assert.deepEqual(result, {namespaces: [], skipped: [{namespace: `kube-system`, reason: `excluded by --exclude-namespaces "kube-*"`, cause: `excluded`}]});
});

test(`all scope is one namespace list, sorted, without ignored namespaces`, async () => {
  const result = await resolveNamespaces(await session(), {kind: `all`, exclude: []});
  assert.deepEqual(result.namespaces, [`default`, `kube-node-lease`, `kube-public`, `kube-system`, `not-opted-out`, `team-a`, `team-b`, `team-c`]);
  assert.deepEqual(result.skipped, [{namespace: `opted-out`, reason: `annotated pullsecret.kubectl.io/ignore=true (name it with -n to act on it anyway)`, cause: `ignored`}]);
  assert.deepEqual(api.requests.map(request => [request.method, request.path]), [[`GET`, `/api/v1/namespaces`]]);
});

test(`all scope drops namespaces matching the exclude globs`, async () => {
  const result = await resolveNamespaces(await session(), {kind: `all`, exclude: [`kube-*`, `team-?`, `default`]});
  assert.deepEqual(result.namespaces, [`not-opted-out`]);
  assert.deepEqual(result.skipped.filter(skip => skip.cause === `excluded`).map(skip => skip.namespace).sort(), [`default`, `kube-node-lease`, `kube-public`, `kube-system`, `team-a`, `team-b`, `team-c`]);
});

test(`selector scope lists namespaces with the label selector`, async () => {
  const result = await resolveNamespaces(await session(), {kind: `selector`, selector: `env=prod`, exclude: [`team-b`]});
  assert.deepEqual(result.namespaces, [`team-a`]);
  assert.deepEqual(result.skipped.map(skip => [skip.namespace, skip.cause]).sort(), [[`opted-out`, `ignored`], [`team-b`, `excluded`]]);
  assert.equal(api.requests[0]!.query.labelSelector, `env=prod`);
});

test(`list scope keeps the given order, reports missing and ignored namespaces, and lists namespaces once`, async () => {
  const result = await resolveNamespaces(await session(), {kind: `list`, names: [`team-c`, `ghost`, `team-a`, `opted-out`, `team-c`], exclude: []});
  assert.deepEqual(result.namespaces, [`team-c`, `team-a`]);
  assert.deepEqual(result.skipped.map(skip => [skip.namespace, skip.cause, skip.reason]), [
    [`ghost`, `missing`, `namespace "ghost" not found`],
    [`opted-out`, `ignored`, `annotated pullsecret.kubectl.io/ignore=true (name it with -n to act on it anyway)`],
  ]);
  assert.equal(api.requests.length, 1);
});

test(`list scope falls back to one GET per name when listing namespaces is forbidden`, async () => {
  api.addUser(`ns-getter`, [{verbs: [`get`], resources: [`namespaces`]}]);
  const result = await resolveNamespaces(await session({context: `ns-getter`}), {kind: `list`, names: [`team-a`, `ghost`], exclude: []});
  assert.deepEqual(result.namespaces, [`team-a`]);
  assert.deepEqual(result.skipped.map(skip => skip.namespace), [`ghost`]);
  assert.deepEqual(api.requests.map(request => [request.verb, request.status]), [[`list`, 403], [`get`, 200], [`get`, 404]]);
});

test(`list scope uses the names unverified when namespaces cannot be read at all`, async () => {
  const result = await resolveNamespaces(await session({context: `limited`}), {kind: `list`, names: [`team-a`, `elsewhere`], exclude: []});
  assert.deepEqual(result, {namespaces: [`team-a`, `elsewhere`], skipped: []});
});

test(`all scope without the right to list namespaces fails with the missing permission`, async () => {
  await assert.rejects(resolveNamespaces(await session({context: `limited`}), {kind: `all`, exclude: []}), (error: unknown) => {
    assert.ok(isKubeApiError(error, 403));
    assert.match((error as Error).message, /cannot list namespaces: forbidden for user "limited" \(needs RBAC verb "list" on "namespaces" cluster-wide/);
    return true;
  });
});

test(`a terminating namespace is skipped with a reason`, async () => {
  const terminating = {metadata: {name: `going`}, status: {phase: `Terminating`}};
  // The emulator deletes namespaces at once, so this one case uses a hand-written session answering one list.
  const fake = {namespace: `default`, list: async () => [terminating, {metadata: {name: `staying`}}]} as unknown as ClusterSession;
  const result = await resolveNamespaces(fake, {kind: `all`, exclude: []});
  assert.deepEqual(result, {namespaces: [`staying`], skipped: [{namespace: `going`, reason: `the namespace is being deleted`, cause: `terminating`}]});
});

test(`globs match whole names with * and ? and treat other characters literally`, () => {
  assert.equal(matchesGlob(`kube-*`, `kube-system`), true);
  assert.equal(matchesGlob(`kube-*`, `my-kube-system`), false);
  assert.equal(matchesGlob(`team-?`, `team-a`), true);
  assert.equal(matchesGlob(`team-?`, `team-ab`), false);
  assert.equal(matchesGlob(`a.b`, `axb`), false);
  assert.equal(matchesGlob(`*`, `anything`), true);
});
