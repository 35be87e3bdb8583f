import {after, before, test} from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import {stringify} from 'yaml';
import {startApiEmulator} from '../helpers/apiEmulator/index.ts';
import type {ApiEmulator} from '../helpers/apiEmulator/index.ts';
import {createPki, issueClientCertificate} from '../helpers/apiEmulator/tls.ts';
import {connectCluster} from '../../sources/adapters/kube/connect.ts';
import {ClusterUnreachableError, PullSecretError} from '../../sources/core/errors.ts';

// Exec credential plugins as kubectl runs them: cached until status.expirationTimestamp, run once more
// after a 401, environment from the invocation plus exec.env.

const PLUGIN = path.join(import.meta.dirname, `../corpus/kubeconfig/exec-credential-sequence.sh`);
const V1BETA1 = `client.authentication.k8s.io/v1beta1`;
const V1 = `client.authentication.k8s.io/v1`;

let api: ApiEmulator;
let root: string;
let serial = 0;

before(async () => {
  api = await startApiEmulator();
  root = fs.mkdtempSync(path.join(os.tmpdir(), `kube-exec-`));
});
after(async () => {
  await api?.stop();
  if (root)
    fs.rmSync(root, {recursive: true, force: true});
});

type Status = {token?: string; clientCertificateData?: string; clientKeyData?: string; expirationTimestamp?: string};

/**
 * A kubeconfig whose user runs the sequence plugin: run N prints `answers[N-1]` (the last one again
 * after that). Returns the kubeconfig and a function counting the runs so far.
 */
/** Writes a one-context kubeconfig for the emulator whose user authenticates with this `exec` entry. */
function writeExecKubeconfig(file: string, exec: Record<string, unknown>): void {
  fs.writeFileSync(file, stringify({
    apiVersion: `v1`,
    kind: `Config`,
    clusters: [{name: `c`, cluster: {server: api.url, [`certificate-authority`]: api.caFile}}],
    users: [{name: `u`, user: {exec}}],
    contexts: [{name: `ctx`, context: {cluster: `c`, user: `u`}}],
    [`current-context`]: `ctx`,
  }));
}

function pluginKubeconfig(answers: Array<Status | string>, options: {apiVersion?: string; exec?: Record<string, unknown>} = {}): {file: string; runs: () => number; calls: () => string[]} {
  const dir = path.join(root, `case-${++serial}`);
  fs.mkdirSync(dir);
  const apiVersion = options.apiVersion ?? V1BETA1;
  const render = (answer: Status | string) => typeof answer === `string` ? answer : JSON.stringify({apiVersion, kind: `ExecCredential`, status: answer});
  answers.forEach((answer, index) => fs.writeFileSync(path.join(dir, `${index + 1}.json`), render(answer)));
  fs.writeFileSync(path.join(dir, `last.json`), render(answers.at(-1)!));
  const file = path.join(dir, `kubeconfig`);
  writeExecKubeconfig(file, {apiVersion, command: PLUGIN, env: [{name: `PULLSECRET_TEST_DIR`, value: dir}], ...options.exec});
  const calls = () => fs.existsSync(path.join(dir, `calls`)) ? fs.readFileSync(path.join(dir, `calls`), `utf8`).split(`\n`).filter(line => line !== ``) : [];
  return {file, runs: () => calls().length, calls};
}

test(`a token the server rejects (401) makes the plugin run once more and the request succeeds with the new token`, async () => {
  const plugin = pluginKubeconfig([{token: `unknown-to-the-server`}, {token: api.tokens.readonly}]);
  api.resetRequests();
  const session = await connectCluster({kubeconfig: plugin.file});
  assert.equal(plugin.runs(), 1);
  const namespace = await session.get(`namespaces`, undefined, `default`);
  assert.equal(namespace?.metadata.name, `default`);
  assert.equal(plugin.runs(), 2);
  assert.deepEqual(api.requests.map(request => [request.status, request.user]), [[401, undefined], [200, `readonly`]]);
});

test(`the renewed token is kept for the next requests`, async () => {
  const plugin = pluginKubeconfig([{token: `unknown-to-the-server`}, {token: api.tokens.readonly}, {token: `never-asked-for`}]);
  const session = await connectCluster({kubeconfig: plugin.file});
  await session.get(`namespaces`, undefined, `default`);
  await session.list(`namespaces`);
  await session.get(`namespaces`, undefined, `kube-system`);
  assert.equal(plugin.runs(), 2);
});

test(`concurrent requests rejected with the same token share one plugin run`, async () => {
  const plugin = pluginKubeconfig([{token: `unknown-to-the-server`}, {token: api.tokens.readonly}]);
  const session = await connectCluster({kubeconfig: plugin.file});
  const names = [`default`, `kube-system`, `kube-public`, `kube-node-lease`];
  const found = await Promise.all(names.map(name => session.get(`namespaces`, undefined, name)));
  assert.deepEqual(found.map(namespace => namespace?.metadata.name), names);
  assert.equal(plugin.runs(), 2);
});

test(`a plugin that keeps returning a rejected token ends in exit 3 after one re-run, not a loop`, {timeout: 10_000}, async () => {
  const plugin = pluginKubeconfig([{token: `unknown-to-the-server`}]);
  api.resetRequests();
  const session = await connectCluster({kubeconfig: plugin.file});
  await assert.rejects(session.list(`namespaces`), (error: Error) => {
    assert.ok(error instanceof ClusterUnreachableError);
    assert.equal(error.exitCode, 3);
    assert.match(error.message, /rejected the credentials of context "ctx" \(401 Unauthorized\)/);
    assert.doesNotMatch(error.message, /unknown-to-the-server/);
    return true;
  });
  assert.equal(plugin.runs(), 2);
  assert.deepEqual(api.requests.map(request => request.status), [401, 401]);
});

test(`an expired expirationTimestamp makes the plugin run again before the next request`, async () => {
  const plugin = pluginKubeconfig([
    {token: api.tokens.readonly, expirationTimestamp: new Date(Date.now() - 60_000).toISOString()},
    {token: api.tokens.limited, expirationTimestamp: new Date(Date.now() + 3600_000).toISOString()},
  ]);
  api.resetRequests();
  const session = await connectCluster({kubeconfig: plugin.file});
  assert.equal(plugin.runs(), 1);
  await session.get(`namespaces`, undefined, `default`).catch(() => null);
  assert.equal(plugin.runs(), 2);
  await session.get(`namespaces`, undefined, `default`).catch(() => null);
  assert.equal(plugin.runs(), 2, `a credential that has not expired is reused`);
  // The expired readonly token was never sent.
  assert.deepEqual(api.requests.map(request => request.user), [`limited`, `limited`]);
});

test(`a credential without expirationTimestamp is reused for the whole session`, async () => {
  const plugin = pluginKubeconfig([{token: api.tokens.readonly}, {token: `never-asked-for`}]);
  const session = await connectCluster({kubeconfig: plugin.file});
  for (let i = 0; i < 3; i++)
    await session.list(`namespaces`);
  assert.equal(plugin.runs(), 1);
});

test(`a client certificate the server rejects is replaced by the one of the re-run (new TLS connection)`, async t => {
  const otherDir = fs.mkdtempSync(path.join(os.tmpdir(), `kube-exec-pki-`));
  t.after(() => fs.rmSync(otherDir, {recursive: true, force: true}));
  const untrusted = issueClientCertificate(createPki(otherDir), `readonly`);
  const trusted = api.issueClientCert(`limited`);
  const plugin = pluginKubeconfig([
    {clientCertificateData: untrusted.certPem, clientKeyData: untrusted.keyPem},
    {clientCertificateData: trusted.certPem, clientKeyData: trusted.keyPem},
  ], {apiVersion: V1});
  api.resetRequests();
  const session = await connectCluster({kubeconfig: plugin.file});
  await session.list(`secrets`, {namespace: `team-a`});
  assert.equal(plugin.runs(), 2);
  assert.deepEqual(api.requests.map(request => [request.status, request.user]), [[401, undefined], [200, `limited`]]);
});

test(`every run of the plugin gets KUBERNETES_EXEC_INFO with the kubeconfig's apiVersion`, async () => {
  const plugin = pluginKubeconfig([{token: `unknown-to-the-server`}, {token: api.tokens.readonly}], {apiVersion: V1});
  const session = await connectCluster({kubeconfig: plugin.file});
  await session.list(`namespaces`);
  assert.deepEqual(plugin.calls().map(line => JSON.parse(line)), [
    {apiVersion: V1, kind: `ExecCredential`, spec: {interactive: false}},
    {apiVersion: V1, kind: `ExecCredential`, spec: {interactive: false}},
  ]);
});

test(`the plugin's environment is the invocation's env plus exec.env, not this process's`, async t => {
  process.env.PULLSECRET_TEST_FROM_PROCESS = `leaked`;
  t.after(() => delete process.env.PULLSECRET_TEST_FROM_PROCESS);
  const dir = path.join(root, `env`);
  fs.mkdirSync(dir);
  const seen = path.join(dir, `seen`);
  fs.writeFileSync(path.join(dir, `credential.json`), JSON.stringify({apiVersion: V1BETA1, kind: `ExecCredential`, status: {token: api.tokens.readonly}}));
  const file = path.join(dir, `kubeconfig`);
  writeExecKubeconfig(file, {
    apiVersion: V1BETA1,
    command: `sh`,
    args: [`-c`, `printf '%s|%s|%s|%s\\n' "$FROM_TARGET" "$OVERRIDDEN" "$FROM_EXEC" "\${PULLSECRET_TEST_FROM_PROCESS-unset}" > "${seen}"; cat "${dir}/credential.json"`],
    env: [{name: `FROM_EXEC`, value: `exec-env`}, {name: `OVERRIDDEN`, value: `by-exec-env`}],
  });
  const session = await connectCluster({kubeconfig: file, env: {PATH: process.env.PATH, FROM_TARGET: `target-env`, OVERRIDDEN: `target-env`}});
  await session.list(`namespaces`);
  assert.equal(fs.readFileSync(seen, `utf8`), `target-env|by-exec-env|exec-env|unset\n`);
});

test(`output that is not an ExecCredential is a one-line error naming the plugin, without quoting the output`, async () => {
  const cases: Array<[Array<Status | string>, RegExp, string?]> = [
    [[`token: secret-in-plain-text`], /did not print an ExecCredential JSON object$/],
    [[JSON.stringify({apiVersion: V1, kind: `ExecCredential`, status: {token: `secret-in-plain-text`}})], /printed apiVersion "client\.authentication\.k8s\.io\/v1" but the kubeconfig asks for "client\.authentication\.k8s\.io\/v1beta1"/],
    [[JSON.stringify({apiVersion: `secret-in-plain-text`, kind: `ExecCredential`, status: {}})], /printed apiVersion \(another value\)/],
    [[{}], /printed an ExecCredential with neither status\.token nor status\.clientCertificateData$/],
    [[{clientCertificateData: `secret-in-plain-text`}], /printed status\.clientCertificateData without status\.clientKeyData$/],
    [[{token: `secret-in-plain-text`, expirationTimestamp: `tomorrow`}], /printed a status\.expirationTimestamp that is not an RFC 3339 time$/],
  ];
  for (const [answers, pattern] of cases) {
    const plugin = pluginKubeconfig(answers);
    await assert.rejects(connectCluster({kubeconfig: plugin.file}), (error: Error) => {
      assert.ok(error instanceof PullSecretError);
      assert.match(error.message, /^exec credential plugin ".*exec-credential-sequence\.sh" of user "u" \(.*\) /);
      assert.match(error.message, pattern);
      assert.doesNotMatch(error.message, /secret-in-plain-text|\n/);
      assert.doesNotMatch(String((error.cause as Error | undefined)?.message ?? ``), /secret-in-plain-text/);
      return true;
    });
  }
});

test(`a plugin that fails when run again after a 401 is reported as the plugin's failure`, async () => {
  const dir = path.join(root, `fails-later`);
  fs.mkdirSync(dir);
  fs.writeFileSync(path.join(dir, `credential.json`), JSON.stringify({apiVersion: V1BETA1, kind: `ExecCredential`, status: {token: `unknown-to-the-server`}}));
  const file = path.join(dir, `kubeconfig`);
  writeExecKubeconfig(file, {
    apiVersion: V1BETA1,
    command: `sh`,
    // First run succeeds, later runs fail as an expired SSO login would.
    args: [`-c`, `if [ -e "${dir}/ran" ]; then echo "sso session expired, run sso login" >&2; exit 1; fi; touch "${dir}/ran"; cat "${dir}/credential.json"`],
  });
  const session = await connectCluster({kubeconfig: file, env: {PATH: process.env.PATH}});
  await assert.rejects(session.list(`namespaces`), /: exec credential plugin "sh" of user "u" \(.*\) failed: sso session expired, run sso login$/);
});

test(`an unsupported exec apiVersion is a one-line kubeconfig error`, async () => {
  const plugin = pluginKubeconfig([{token: `t`}], {apiVersion: `client.authentication.k8s.io/v1alpha1`});
  await assert.rejects(connectCluster({kubeconfig: plugin.file}), /uses apiVersion "client\.authentication\.k8s\.io\/v1alpha1", which is not supported; use client\.authentication\.k8s\.io\/v1 or client\.authentication\.k8s\.io\/v1beta1$/);
  assert.equal(plugin.runs(), 0);
});
