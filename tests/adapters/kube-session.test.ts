import {after, before, beforeEach, test} from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import {startApiEmulator} from '../helpers/apiEmulator/index.ts';
import type {ApiEmulator} from '../helpers/apiEmulator/index.ts';
import {connectCluster, isKubeApiError} from '../../sources/adapters/kube/connect.ts';
import {ClusterUnreachableError, ExitCode, PullSecretError} from '../../sources/core/errors.ts';
import type {ClusterSession, ClusterTarget, KubeObject} from '../../sources/core/ports.ts';
import {runCli} from '../helpers/runCli.ts';
import {closedPort} from '../helpers/clusters.ts';

let api: ApiEmulator;
let dir: string;

before(async () => {
  api = await startApiEmulator();
  dir = fs.mkdtempSync(path.join(os.tmpdir(), `h5-session-`));
});
after(async () => {
  await api?.stop();
  if (dir)
    fs.rmSync(dir, {recursive: true, force: true});
});
beforeEach(() => {
  api.faults.clear();
  api.resetRequests();
});

const FAST_RETRY = {retry: {baseDelayMs: 20, maxDelayMs: 100}};

function connect(target: Partial<ClusterTarget> = {}, options = FAST_RETRY): Promise<ClusterSession> {
  return connectCluster({kubeconfig: api.kubeconfigPath, ...target}, options);
}

function secret(name: string, labels: Record<string, string> = {}): KubeObject {
  return {apiVersion: `v1`, kind: `Secret`, metadata: {name, labels}, type: `Opaque`, data: {k: Buffer.from(`v`).toString(`base64`)}};
}

async function rejection(promise: Promise<unknown>): Promise<PullSecretError> {
  try {
    await promise;
  } catch (error) {
    assert.ok(error instanceof PullSecretError, `expected a PullSecretError, got ${String(error)}`);
    assert.doesNotMatch(error.message, /\n/);
    return error;
  }
  assert.fail(`expected a rejection`);
}

test(`a session knows its context and namespace`, async () => {
  api.writeKubeconfig(path.join(dir, `ns.yaml`), {context: `readonly`, namespace: `team-b`});
  const session = await connectCluster({kubeconfig: path.join(dir, `ns.yaml`)});
  assert.deepEqual([session.contextName, session.namespace, session.namespaceExplicit], [`readonly`, `team-b`, false]);
  const flagged = await connectCluster({kubeconfig: path.join(dir, `ns.yaml`), namespace: `web`});
  assert.deepEqual([flagged.namespace, flagged.namespaceExplicit], [`web`, true]);
});

test(`create, get, replace, the three patch types and delete round-trip through the API`, async () => {
  api.seed.namespace(`crud`);
  const session = await connect();
  const created = await session.create(`secrets`, `crud`, secret(`s1`));
  assert.equal(created.metadata.namespace, `crud`);
  assert.ok(created.metadata.resourceVersion);

  const read = await session.get(`secrets`, `crud`, `s1`);
  assert.equal(read?.metadata.uid, created.metadata.uid);

  const replaced = await session.replace(`secrets`, `crud`, `s1`, {...read!, metadata: {...read!.metadata, labels: {step: `replace`}}});
  assert.equal(replaced.metadata.labels?.step, `replace`);

  await session.patch(`secrets`, `crud`, `s1`, {metadata: {labels: {merge: `yes`}}}, `merge`);
  await session.patch(`secrets`, `crud`, `s1`, {metadata: {labels: {strategic: `yes`}}}, `strategic`);
  const patched = await session.patch(`secrets`, `crud`, `s1`, [{op: `test`, path: `/metadata/labels/merge`, value: `yes`}, {op: `add`, path: `/metadata/labels/json`, value: `yes`}], `json`);
  assert.deepEqual(patched.metadata.labels, {step: `replace`, merge: `yes`, strategic: `yes`, json: `yes`});
  const patchTypes = api.requests.filter(request => request.method === `PATCH`).map(request => request.contentType);
  assert.deepEqual(patchTypes, [`application/merge-patch+json`, `application/strategic-merge-patch+json`, `application/json-patch+json`]);

  await session.delete(`secrets`, `crud`, `s1`);
  assert.equal(await session.get(`secrets`, `crud`, `s1`), null);
  assert.equal(api.getObject(`secrets`, `crud`, `s1`), undefined);
});

test(`writes carry fieldManager=kubectl-pullsecret unless the caller names another`, async () => {
  api.seed.namespace(`fm`);
  const session = await connect();
  await session.create(`secrets`, `fm`, secret(`a`));
  await session.patch(`secrets`, `fm`, `a`, {metadata: {labels: {x: `1`}}}, `merge`, {fieldManager: `other`});
  const managers = api.requests.filter(request => request.method !== `GET`).map(request => request.query.fieldManager);
  assert.deepEqual(managers, [`kubectl-pullsecret`, `other`]);
});

test(`a namespaced call without a namespace uses the session's namespace`, async () => {
  api.seed.namespace(`implicit`);
  const session = await connect({namespace: `implicit`});
  await session.create(`secrets`, undefined, secret(`here`));
  assert.ok(api.getObject(`secrets`, `implicit`, `here`));
});

test(`get of a missing object is null, not an error`, async () => {
  const session = await connect();
  assert.equal(await session.get(`secrets`, `default`, `does-not-exist`), null);
});

test(`a cluster-wide list pages through more than 500 objects with limit and continue`, async () => {
  api.seed.bulk({namespaces: 3, namespacePrefix: `page`, secretsPerNamespace: 210});
  const session = await connect();
  api.resetRequests();
  const secrets = (await session.list(`secrets`)).filter(item => item.metadata.namespace?.startsWith(`page`));
  assert.equal(secrets.length, 630);
  assert.equal(new Set(secrets.map(item => `${item.metadata.namespace}/${item.metadata.name}`)).size, 630);
  assert.ok(secrets.every(item => item.kind === `Secret` && item.apiVersion === `v1`));
  const pages = api.requests.filter(request => request.path === `/api/v1/secrets`);
  assert.ok(pages.length >= 2, `expected several pages, got ${pages.length}`);
  assert.ok(pages.every(request => request.query.limit === `500`));
  assert.equal(pages[0]!.query.continue, undefined);
  assert.ok(pages.slice(1).every(request => typeof request.query.continue === `string` && request.query.continue !== ``));
  assert.equal(session.requestCount(), pages.length);
});

test(`a small page size still returns every object`, async () => {
  api.seed.namespace(`small-pages`);
  for (let i = 0; i < 7; i++)
    api.seed.secret(`small-pages`, secret(`s${i}`));
  const session = await connect();
  const items = await session.list(`secrets`, {namespace: `small-pages`, limit: 3});
  assert.deepEqual(items.map(item => item.metadata.name).sort(), [`s0`, `s1`, `s2`, `s3`, `s4`, `s5`, `s6`]);
  assert.equal(api.requests.filter(request => request.path === `/api/v1/namespaces/small-pages/secrets`).length, 3);
});

test(`a list transform is applied to every item of every page, after kind and apiVersion are set`, async () => {
  api.seed.namespace(`transformed`);
  for (let i = 0; i < 5; i++)
    api.seed.secret(`transformed`, secret(`t${i}`));
  const session = await connect();
  const seen: string[] = [];
  const items = await session.list(`secrets`, {namespace: `transformed`, limit: 2, transform: item => {
    seen.push(`${item.kind}/${item.metadata.name}`);
    return {kind: item.kind, metadata: {name: item.metadata.name.toUpperCase()}};
  }});
  assert.deepEqual(items.map(item => item.metadata.name).sort(), [`T0`, `T1`, `T2`, `T3`, `T4`]);
  assert.deepEqual(seen.sort(), [`Secret/t0`, `Secret/t1`, `Secret/t2`, `Secret/t3`, `Secret/t4`]);
  assert.ok(items.every(item => item.data === undefined), `only the transformed form is kept`);
});

test(`label and field selectors are sent to the server and narrow the list`, async () => {
  api.seed.namespace(`sel`);
  api.seed.secret(`sel`, secret(`blue`, {color: `blue`}));
  api.seed.secret(`sel`, secret(`red`, {color: `red`}));
  const session = await connect();
  const byLabel = await session.list(`secrets`, {namespace: `sel`, labelSelector: `color=blue`});
  assert.deepEqual(byLabel.map(item => item.metadata.name), [`blue`]);
  const byField = await session.list(`secrets`, {namespace: `sel`, fieldSelector: `metadata.name=red`});
  assert.deepEqual(byField.map(item => item.metadata.name), [`red`]);
  assert.deepEqual(api.requests.map(request => [request.query.labelSelector, request.query.fieldSelector]), [[`color=blue`, undefined], [undefined, `metadata.name=red`]]);
});

test(`apps and batch resources use their API groups`, async () => {
  const session = await connect();
  await session.list(`deployments`);
  await session.list(`cronjobs`, {namespace: `default`});
  assert.deepEqual(api.requests.map(request => request.path), [`/apis/apps/v1/deployments`, `/apis/batch/v1/namespaces/default/cronjobs`]);
});

test(`an update with a stale resourceVersion surfaces as a KubeApiError with code 409 Conflict`, async () => {
  api.seed.namespace(`conflict`);
  const session = await connect();
  const created = await session.create(`secrets`, `conflict`, secret(`c`));
  await session.patch(`secrets`, `conflict`, `c`, {metadata: {labels: {bump: `1`}}}, `merge`);
  const error = await rejection(session.replace(`secrets`, `conflict`, `c`, created));
  assert.ok(isKubeApiError(error, 409));
  assert.equal(error.reason, `Conflict`);
  assert.equal(error.exitCode, ExitCode.failure);
  assert.match(error.message, /^cannot update secrets "c" in namespace "conflict": .*modified/);
});

test(`creating an existing object surfaces as KubeApiError 409 AlreadyExists`, async () => {
  api.seed.namespace(`exists`);
  const session = await connect();
  await session.create(`secrets`, `exists`, secret(`dup`));
  const error = await rejection(session.create(`secrets`, `exists`, secret(`dup`)));
  assert.ok(isKubeApiError(error, 409));
  assert.equal(error.reason, `AlreadyExists`);
  assert.match(error.message, /already exists \(AlreadyExists\)$/);
});

test(`a 403 names the user, verb, resource and namespace`, async () => {
  api.seed.namespace(`web`);
  const session = await connect({context: `readonly`});
  const error = await rejection(session.create(`secrets`, `web`, secret(`nope`)));
  assert.ok(isKubeApiError(error, 403));
  assert.deepEqual([error.verb, error.resource, error.namespace], [`create`, `secrets`, `web`]);
  assert.match(error.message, /^cannot create secrets "nope" in namespace "web": forbidden for user "readonly" \(needs RBAC verb "create" on "secrets" in namespace "web"\)/);
});

test(`a forbidden cluster-wide list says that a cluster-wide grant is needed`, async () => {
  const session = await connect({context: `limited`});
  const error = await rejection(session.list(`secrets`));
  assert.ok(isKubeApiError(error, 403));
  assert.match(error.message, /^cannot list secrets in all namespaces: forbidden for user "limited" \(needs RBAC verb "list" on "secrets" cluster-wide/);
});

test(`rejected credentials (401) are a ClusterUnreachableError with exit code 3`, async () => {
  const file = path.join(dir, `bad-token.yaml`);
  fs.writeFileSync(file, fs.readFileSync(api.kubeconfigPath, `utf8`).replace(api.tokens.admin, `wrong-token-value`));
  const session = await connectCluster({kubeconfig: file});
  const error = await rejection(session.list(`secrets`, {namespace: `default`}));
  assert.ok(error instanceof ClusterUnreachableError);
  assert.equal(error.exitCode, ExitCode.clusterUnreachable);
  assert.match(error.message, /rejected the credentials of context "admin" \(401 Unauthorized\)/);
  assert.doesNotMatch(error.message, /wrong-token-value/);
});

test(`a refused connection is a ClusterUnreachableError naming the server, without retries`, async () => {
  const port = await closedPort();
  const file = path.join(dir, `refused.yaml`);
  fs.writeFileSync(file, fs.readFileSync(api.kubeconfigPath, `utf8`).replace(api.url, `https://127.0.0.1:${port}`));
  const session = await connectCluster({kubeconfig: file});
  const error = await rejection(session.get(`secrets`, `default`, `x`));
  assert.ok(error instanceof ClusterUnreachableError);
  assert.match(error.message, new RegExp(`^cannot reach the cluster at https://127\\.0\\.0\\.1:${port} \\(context "admin"\\): connection refused`));
  assert.equal(session.requestCount(), 1);
});

test(`a 429 is retried after the Retry-After the server asked for`, async () => {
  api.faults.add({route: `/api/v1/namespaces/default/secrets`, nth: 1, kind: `429`, retryAfterSeconds: 1});
  const session = await connect();
  const started = Date.now();
  await session.list(`secrets`, {namespace: `default`});
  assert.ok(Date.now() - started >= 950, `waited only ${Date.now() - started}ms`);
  assert.deepEqual(api.requests.map(request => request.status), [429, 200]);
});

test(`a 503 and a connection reset are retried until the request succeeds`, async () => {
  api.faults.add({route: `/api/v1/namespaces/default/serviceaccounts`, nth: 1, kind: `503`});
  api.faults.add({route: `/api/v1/namespaces/default/serviceaccounts`, nth: 2, kind: `reset`});
  const session = await connect();
  const items = await session.list(`serviceaccounts`, {namespace: `default`});
  assert.ok(items.some(item => item.metadata.name === `default`));
  assert.deepEqual(api.requests.map(request => request.status), [503, -1, 200]);
  assert.equal(session.requestCount(), 3);
});

test(`retries give up after five attempts and report the last server answer`, async () => {
  api.faults.add({route: `/api/v1/namespaces/default/pods`, kind: `500`});
  const session = await connect();
  const error = await rejection(session.list(`pods`, {namespace: `default`}));
  assert.ok(isKubeApiError(error, 500));
  assert.equal(api.requests.length, 5);
});

test(`a create answered with 500 is not sent again (it may have been processed)`, async () => {
  api.seed.namespace(`once`);
  api.faults.add({route: `/api/v1/namespaces/once/secrets`, method: `POST`, kind: `500`});
  const session = await connect();
  const error = await rejection(session.create(`secrets`, `once`, secret(`s`)));
  assert.ok(isKubeApiError(error, 500));
  assert.equal(api.requests.length, 1);
});

test(`a JSON patch is repeated after a 500 only when a test op guards it against applying twice`, async () => {
  api.seed.namespace(`jp`);
  api.seed.secret(`jp`, secret(`s`));
  const session = await connect();
  api.resetRequests();
  api.faults.add({route: `/api/v1/namespaces/jp/secrets/s`, method: `PATCH`, nth: 1, kind: `500`});
  await assert.rejects(session.patch(`secrets`, `jp`, `s`, [{op: `add`, path: `/metadata/labels/a`, value: `1`}], `json`), (error: unknown) => isKubeApiError(error, 500));
  assert.equal(api.requests.length, 1);

  api.faults.clear();
  api.resetRequests();
  api.faults.add({route: `/api/v1/namespaces/jp/secrets/s`, method: `PATCH`, nth: 1, kind: `500`});
  await session.patch(`secrets`, `jp`, `s`, [{op: `test`, path: `/metadata/name`, value: `s`}, {op: `add`, path: `/metadata/labels/b`, value: `1`}], `json`);
  assert.deepEqual(api.requests.map(request => request.status), [500, 200]);
});

test(`a create answered with 429 is retried (the server did not process it)`, async () => {
  api.seed.namespace(`throttled`);
  api.faults.add({route: `/api/v1/namespaces/throttled/secrets`, method: `POST`, nth: 1, kind: `429`, retryAfterSeconds: 0});
  const session = await connect();
  await session.create(`secrets`, `throttled`, secret(`s`));
  assert.deepEqual(api.requests.map(request => request.status), [429, 201]);
  assert.ok(api.getObject(`secrets`, `throttled`, `s`));
});

test(`--request-timeout bounds each request and a slow server ends in exit 3 naming the timeout`, async () => {
  api.faults.add({route: `/api/v1/namespaces/default/secrets`, kind: `latency`, latencyMs: 1500});
  const session = await connect({requestTimeoutMs: 200});
  const error = await rejection(session.list(`secrets`, {namespace: `default`}));
  // Each attempt ends at 200 ms (the server would answer after 1500 ms, and then there would be no error), and a
  // timed-out request is repeated once. How long that takes is measured by benchmarks, not asserted here.
  assert.ok(error instanceof ClusterUnreachableError);
  assert.match(error.message, /timed out after 200ms \(--request-timeout\)/);
  assert.equal(session.requestCount(), 2);
});

test(`server-side dry run sends dryRun=All and stores nothing`, async () => {
  api.seed.namespace(`dry`);
  const session = await connect();
  const answer = await session.create(`secrets`, `dry`, secret(`ghost`), {dryRun: true});
  assert.equal(answer.metadata.name, `ghost`);
  assert.equal(api.requests[0]!.query.dryRun, `All`);
  assert.equal(api.getObject(`secrets`, `dry`, `ghost`), undefined);
  api.seed.secret(`dry`, secret(`real`));
  await session.delete(`secrets`, `dry`, `real`, {dryRun: true});
  assert.ok(api.getObject(`secrets`, `dry`, `real`));
});

test(`canI asks a SelfSubjectAccessReview with the resource's group and namespace`, async () => {
  const session = await connect({context: `limited`});
  assert.equal(await session.canI(`create`, `secrets`, `team-a`), true);
  assert.equal(await session.canI(`create`, `secrets`, `team-b`), false);
  assert.equal(await session.canI(`list`, `deployments`), false);
  assert.deepEqual(api.requests.map(request => [request.method, request.path]), Array(3).fill([`POST`, `/apis/authorization.k8s.io/v1/selfsubjectaccessreviews`]));
});

test(`requestCount counts every HTTP request of the session`, async () => {
  const session = await connect();
  assert.equal(session.requestCount(), 0);
  await session.get(`namespaces`, undefined, `default`);
  await session.list(`namespaces`);
  assert.equal(session.requestCount(), 2);
});

test(`the -v log has one line per request with method, URL, status and duration, and never the token`, async () => {
  const lines: string[] = [];
  const session = await connect({log: line => lines.push(line)});
  await session.get(`secrets`, `default`, `missing`);
  const requestLines = lines.filter(line => /^GET /.test(line));
  assert.equal(requestLines.length, 1);
  assert.match(requestLines[0]!, new RegExp(`^GET ${api.url.replace(/[.]/g, `\\.`)}/api/v1/namespaces/default/secrets/missing 404 \\d+ms$`));
  assert.doesNotMatch(lines.join(`\n`), new RegExp(api.tokens.admin));
});

test(`a command with -v prints request lines on stderr through clusterTargets`, async () => {
  const result = await runCli([`add`, `regcred`, `--docker-server`, `registry.example`, `--docker-username`, `bot`, `--docker-password-stdin`, `-n`, `default`, `-v`, `--dry-run=server`], {
    stdin: `pw`,
    env: {KUBECONFIG: api.kubeconfigPath},
  });
  assert.equal(result.code, 0, result.stderr);
  assert.match(result.stderr, /POST https:\/\/127\.0\.0\.1:\d+\/api\/v1\/namespaces\/default\/secrets\?dryRun=All&fieldManager=kubectl-pullsecret 201 \d+ms/);
  assert.doesNotMatch(result.stderr, new RegExp(api.tokens.admin));
});

