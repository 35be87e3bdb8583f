/**
 * Issue 7 §1: fan-outs over 200 namespaces while 20 % of API requests fail (429 with Retry-After, 500,
 * 503, connection reset) or are slow. Every namespace must end either correct or reported failed with the
 * step that failed; the exit code must say so; a rerun without faults must heal everything; no
 * ServiceAccount may ever hold a duplicate entry.
 */
import {test} from 'node:test';
import assert from 'node:assert/strict';
import type {ApiEmulator} from '../helpers/apiEmulator/index.ts';
import {startApiEmulator} from '../helpers/apiEmulator/index.ts';
import {runCli} from '../helpers/runCli.ts';
import {b64} from '../helpers/encoding.ts';

const NAMESPACES = 200;

/** About one request in five is hit: the session must retry, and what it cannot save must be reported. */
function injectFaults(api: ApiEmulator): void {
  api.faults.add({kind: `429`, fraction: 0.05, retryAfterSeconds: 1});
  api.faults.add({kind: `500`, fraction: 0.05});
  api.faults.add({kind: `503`, fraction: 0.04});
  api.faults.add({kind: `reset`, fraction: 0.03});
  api.faults.add({kind: `latency`, fraction: 0.05, latencyMs: 40});
}

async function bulkCluster(t: {after: (fn: () => Promise<void>) => void}): Promise<{api: ApiEmulator; namespaces: string[]}> {
  const api = await startApiEmulator({seed: 7});
  t.after(() => api.stop());
  // Every namespace has `default` (no list) and `sa-0` (listing regcred-0).
  const {namespaces} = api.seed.bulk({namespaces: NAMESPACES, namespacePrefix: `f`, serviceAccountsPerNamespace: 1});
  return {api, namespaces};
}

/** Namespaces a run reported failed, from its per-namespace lines (`ns: failed at STEP: …`). */
function failedNamespaces(stderr: string): Map<string, string> {
  const failed = new Map<string, string>();
  for (const match of stderr.matchAll(/^(?:[^\s/]+\/)?([a-z0-9-]+): failed at (.+?): /gm))
    failed.set(match[1]!, match[2]!);
  return failed;
}

/** Problems with the ServiceAccounts of a namespace after attaching `secret` to all of them. */
function serviceAccountProblems(api: ApiEmulator, namespace: string, secret: string): string[] {
  const problems: string[] = [];
  for (const account of api.objects(`serviceaccounts`, namespace)) {
    const names = ((account.imagePullSecrets ?? []) as Array<{name: string}>).map(entry => entry.name);
    if (names.filter(name => name === secret).length !== 1)
      problems.push(`${namespace}/${account.metadata.name} lists ${secret} ${names.filter(name => name === secret).length} times`);
    if (account.metadata.name === `sa-0` && names[0] !== `regcred-0`)
      problems.push(`${namespace}/sa-0 lost or moved regcred-0: ${names.join(`,`)}`);
  }
  return problems;
}

function assertNoDuplicates(api: ApiEmulator): void {
  for (const account of api.objects(`serviceaccounts`)) {
    const names = ((account.imagePullSecrets ?? []) as Array<{name: string}>).map(entry => entry.name);
    assert.equal(new Set(names).size, names.length, `duplicate entries in ${account.metadata.namespace}/${account.metadata.name}: ${names.join(`,`)}`);
  }
}

/** Asserts the run was honest: each namespace correct or reported failed, and the exit code matches. */
function assertHonest(result: {code: number; stderr: string}, namespaces: string[], problemsOf: (namespace: string) => string[]): Map<string, string> {
  const failed = failedNamespaces(result.stderr);
  const silent = namespaces.filter(namespace => !failed.has(namespace)).flatMap(problemsOf);
  assert.deepEqual(silent, [], `namespaces neither correct nor reported failed`);
  assert.equal(result.code, failed.size > 0 ? 1 : 0, `exit code ${result.code} with ${failed.size} failed namespaces`);
  for (const [namespace, step] of failed)
    assert.ok(step.length > 0, `${namespace} failed without naming the step`);
  return failed;
}

function dockerConfigOf(api: ApiEmulator, namespace: string): any {
  const secret = api.getObject(`secrets`, namespace, `regcred`);
  return secret === undefined ? undefined : JSON.parse(Buffer.from(secret.data[`.dockerconfigjson`], `base64`).toString(`utf8`));
}

test(`add -A --attach=all over 200 namespaces with 20 % faulted requests ends correct or reported, and a rerun heals`, {timeout: 60_000}, async t => {
  const {api, namespaces} = await bulkCluster(t);
  const problems = (namespace: string): string[] => {
    const config = dockerConfigOf(api, namespace);
    const own = config?.auths?.[`registry.example.com`]?.password === `pw` ? [] : [`${namespace}: secret missing or wrong`];
    return [...own, ...serviceAccountProblems(api, namespace, `regcred`)];
  };
  const args = [`add`, `regcred`, `-A`, `--attach=all`, `--docker-server`, `registry.example.com`, `--docker-username`, `bot`, `--docker-password-stdin`, `--kubeconfig`, api.kubeconfigPath];
  injectFaults(api);
  const started = Date.now();
  const first = await runCli(args, {stdin: `pw`});
  const failed = assertHonest(first, namespaces, problems);
  assertNoDuplicates(api);
  t.diagnostic(`faulted run: ${Date.now() - started} ms, exit ${first.code}, ${failed.size} namespaces reported failed, ${api.requests.length} requests`);

  api.faults.clear();
  const second = await runCli(args, {stdin: `pw`});
  assert.equal(second.code, 0, second.stderr.split(`\n`).filter(line => / failed at /.test(line)).join(`\n`));
  assert.deepEqual(namespaces.flatMap(problems), []);
  assertNoDuplicates(api);
});

test(`sync -A --attach=all over 200 namespaces with 20 % faulted requests ends correct or reported, and a rerun heals`, {timeout: 60_000}, async t => {
  const {api, namespaces} = await bulkCluster(t);
  const CONFIG = b64(JSON.stringify({auths: {'registry.example.com': {username: `bot`, password: `pw`, auth: b64(`bot:pw`)}}}));
  api.seed.namespace(`source`);
  api.seed.secret(`source`, {metadata: {name: `regcred`}, type: `kubernetes.io/dockerconfigjson`, data: {'.dockerconfigjson': CONFIG}});
  const problems = (namespace: string): string[] => {
    const copy = api.getObject(`secrets`, namespace, `regcred`);
    const own = copy?.type === `kubernetes.io/dockerconfigjson` && copy.data[`.dockerconfigjson`] === CONFIG && copy.metadata.annotations?.[`pullsecret.kubectl.io/source`] === `source/regcred`
      ? [] : [`${namespace}: copy missing or wrong`];
    return [...own, ...serviceAccountProblems(api, namespace, `regcred`)];
  };
  const args = [`sync`, `regcred`, `--from-namespace`, `source`, `-A`, `--exclude-namespaces`, `kube-*,default`, `--attach=all`, `--kubeconfig`, api.kubeconfigPath];
  injectFaults(api);
  const started = Date.now();
  const first = await runCli(args);
  const failed = assertHonest(first, namespaces, problems);
  assertNoDuplicates(api);
  t.diagnostic(`faulted run: ${Date.now() - started} ms, exit ${first.code}, ${failed.size} namespaces reported failed (${[...new Set(failed.values())].join(`; `)}), ${api.requests.length} requests`);

  api.faults.clear();
  const second = await runCli([...args, `-o`, `json`]);
  assert.equal(second.code, 0, second.stderr);
  const report = JSON.parse(second.stdout);
  assert.equal(report.summary.failed, 0);
  assert.equal(report.summary.ok, NAMESPACES);
  assert.deepEqual(namespaces.flatMap(problems), []);
  assertNoDuplicates(api);
});

test(`rotate over 200 copies with 20 % faulted requests ends correct or reported, and a rerun heals`, {timeout: 60_000}, async t => {
  const {api, namespaces} = await bulkCluster(t);
  const OLD = b64(JSON.stringify({auths: {'registry.example.com': {username: `bot`, password: `old`, auth: b64(`bot:old`)}}}));
  api.seed.namespace(`source`);
  api.seed.secret(`source`, {metadata: {name: `regcred`}, type: `kubernetes.io/dockerconfigjson`, data: {'.dockerconfigjson': OLD}});
  const synced = await runCli([`sync`, `regcred`, `--from-namespace`, `source`, `--namespaces`, namespaces.join(`,`), `--kubeconfig`, api.kubeconfigPath]);
  assert.equal(synced.code, 0, synced.stderr);
  const problems = (namespace: string): string[] => dockerConfigOf(api, namespace)?.auths?.[`registry.example.com`]?.password === `new` ? [] : [`${namespace}: copy not rotated`];
  const args = [`rotate`, `regcred`, `--from-namespace`, `source`, `--docker-server`, `registry.example.com`, `--docker-username`, `bot`, `--docker-password-stdin`, `--kubeconfig`, api.kubeconfigPath];
  injectFaults(api);
  const started = Date.now();
  let first;
  try {
    first = await runCli(args, {stdin: `new`});
  } finally {
    t.diagnostic(`faulted run: ${Date.now() - started} ms`);
  }
  // The source is written first; if even that failed after retries, the run must say so and exit non-zero.
  if (first.code !== 0 && /^error: /m.test(first.stderr) && failedNamespaces(first.stderr).size === 0) {
    assert.ok(first.code === 1 || first.code === 3, first.stderr);
  } else {
    const failed = assertHonest(first, namespaces, problems);
    t.diagnostic(`exit ${first.code}, ${failed.size} copies reported failed`);
  }

  api.faults.clear();
  const second = await runCli(args, {stdin: `new`});
  assert.equal(second.code, 0, second.stderr);
  assert.deepEqual([`source`, ...namespaces].flatMap(problems), []);
});

test(`a namespace whose ServiceAccount cannot be written is reported with the step, the others finish, and a rerun heals it`, {timeout: 30_000}, async t => {
  const {api, namespaces} = await bulkCluster(t);
  api.seed.namespace(`source`);
  api.seed.secret(`source`, {metadata: {name: `regcred`}, type: `kubernetes.io/dockerconfigjson`, data: {'.dockerconfigjson': b64(`{"auths":{}}`)}});
  const broken = namespaces.slice(10, 13);
  for (const namespace of broken)
    api.faults.add({kind: `500`, method: `PATCH`, route: `/namespaces/${namespace}/serviceaccounts/default`});
  const args = [`sync`, `regcred`, `--from-namespace`, `source`, `--namespaces`, namespaces.join(`,`), `--attach`, `--kubeconfig`, api.kubeconfigPath];
  const first = await runCli(args);
  assert.equal(first.code, 1);
  const failed = failedNamespaces(first.stderr);
  assert.deepEqual([...failed.keys()].sort(), broken);
  for (const namespace of broken) {
    assert.equal(failed.get(namespace), `patch serviceaccount/default`);
    // The copy was made before the attach failed: the rerun only has the attach left to do.
    assert.notEqual(api.getObject(`secrets`, namespace, `regcred`), undefined);
  }
  assert.match(first.stderr, new RegExp(`^sync regcred: ${NAMESPACES - 3} of ${NAMESPACES} namespaces ok \\(${NAMESPACES - 3} changed, 0 unchanged\\), 3 failed$`, `m`));
  api.faults.clear();
  const second = await runCli(args);
  assert.equal(second.code, 0, second.stderr);
  for (const namespace of broken) {
    assert.match(second.stdout, new RegExp(`^${namespace}: secret/regcred unchanged, serviceaccount/default configured$`, `m`));
    assert.deepEqual(api.getObject(`serviceaccounts`, namespace, `default`).imagePullSecrets, [{name: `regcred`}]);
  }
});
