import {after, before, test} from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import {startApiEmulator} from '../helpers/apiEmulator/index.ts';
import type {ApiEmulator} from '../helpers/apiEmulator/index.ts';
import {connectCluster} from '../../sources/adapters/kube/connect.ts';
import {runCli} from '../helpers/runCli.ts';

// In-cluster configuration: a fake ServiceAccount directory (token, ca.crt, namespace) and the service
// variables a pod gets, pointed at the API emulator. No kubeconfig anywhere (an empty home).

let api: ApiEmulator;
let root: string;
before(async () => {
  api = await startApiEmulator();
  root = fs.mkdtempSync(path.join(os.tmpdir(), `in-cluster-`));
});
after(async () => {
  await api?.stop();
  fs.rmSync(root, {recursive: true, force: true});
});

let counter = 0;
/** A pod's view: a ServiceAccount directory holding `token` (and ca.crt, namespace unless left out), an empty home, the service env. */
function pod(token: string, options: {namespace?: string; withCa?: boolean} = {}) {
  const dir = path.join(root, `pod-${++counter}`);
  const serviceAccountDir = path.join(dir, `serviceaccount`);
  const home = path.join(dir, `home`);
  fs.mkdirSync(serviceAccountDir, {recursive: true});
  fs.mkdirSync(home);
  fs.writeFileSync(path.join(serviceAccountDir, `token`), `${token}\n`);
  if (options.withCa !== false)
    fs.writeFileSync(path.join(serviceAccountDir, `ca.crt`), api.caPem);
  if (options.namespace !== undefined)
    fs.writeFileSync(path.join(serviceAccountDir, `namespace`), options.namespace);
  const url = new URL(api.url);
  const env = {KUBERNETES_SERVICE_HOST: url.hostname, KUBERNETES_SERVICE_PORT: url.port, PATH: `/usr/bin:/bin`};
  return {serviceAccountDir, home, env};
}

test(`without a kubeconfig, inside a pod, every command uses the ServiceAccount token, its CA and its namespace`, async () => {
  api.seed.namespace(`ic-team`);
  api.seed.secret(`ic-team`, {metadata: {name: `regcred`}, type: `kubernetes.io/dockerconfigjson`, data: {'.dockerconfigjson': Buffer.from(`{"auths":{"r.example.com":{"auth":"dTpw"}}}`).toString(`base64`)}});
  const token = api.addUser(`system:serviceaccount:ic-team:puller`, [{verbs: [`get`, `list`], resources: [`*`], namespaces: [`ic-team`]}]);
  const {serviceAccountDir, home, env} = pod(token, {namespace: `ic-team`});
  const result = await runCli([`list`, `-v`], {env, home, context: {serviceAccountDir}});
  assert.equal(result.code, 0, result.stderr);
  assert.match(result.stdout, /^NAME +TYPE/);
  assert.match(result.stdout, /\nregcred +dockerconfigjson +r\.example\.com/);
  assert.match(result.stderr, new RegExp(`using context "in-cluster" from in-cluster configuration \\(${serviceAccountDir.replace(/[/.]/g, `\\$&`)}\\): server https://127\\.0\\.0\\.1:\\d+, namespace "ic-team", credentials: in-cluster ServiceAccount token`));
  assert.doesNotMatch(result.stderr, new RegExp(token));
  assert.ok(api.requests.some(request => request.user === `system:serviceaccount:ic-team:puller`));
});

test(`POD_NAMESPACE wins over the namespace file, -n over both, and default applies without either`, async () => {
  const token = api.addUser(`ic-reader`, [{verbs: [`get`, `list`], resources: [`*`]}]);
  const {serviceAccountDir, home, env} = pod(token, {namespace: `from-file`});
  const namespaceOf = async (extraEnv: Record<string, string>, namespace?: string) => (await connectCluster({env: {...env, ...extraEnv}, homedir: home, cwd: home, serviceAccountDir, namespace})).namespace;
  assert.equal(await namespaceOf({}), `from-file`);
  assert.equal(await namespaceOf({POD_NAMESPACE: `from-env`}), `from-env`);
  assert.equal(await namespaceOf({POD_NAMESPACE: `from-env`}, `from-flag`), `from-flag`);
  fs.rmSync(path.join(serviceAccountDir, `namespace`));
  assert.equal(await namespaceOf({}), `default`);
});

test(`a rotated token is read again by a running session, without reconnecting`, async () => {
  api.seed.namespace(`ic-old`);
  api.seed.namespace(`ic-new`);
  const before = api.addUser(`ic-rotating-1`, [{verbs: [`get`, `list`], resources: [`*`], namespaces: [`ic-old`]}]);
  const after = api.addUser(`ic-rotating-2`, [{verbs: [`get`, `list`], resources: [`*`], namespaces: [`ic-new`]}]);
  const {serviceAccountDir, home, env} = pod(before);
  const session = await connectCluster({env, homedir: home, cwd: home, serviceAccountDir});
  await session.list(`secrets`, {namespace: `ic-old`});
  await assert.rejects(session.list(`secrets`, {namespace: `ic-new`}), /cannot list secrets in namespace "ic-new"/);
  // The kubelet rotates the projected token by swapping the file.
  const next = path.join(serviceAccountDir, `token.next`);
  fs.writeFileSync(next, after);
  fs.renameSync(next, path.join(serviceAccountDir, `token`));
  await session.list(`secrets`, {namespace: `ic-new`});
  assert.equal(api.requests.at(-1)!.user, `ic-rotating-2`);
});

test(`a kubeconfig, when there is one, wins over the in-cluster configuration`, async () => {
  const {serviceAccountDir, home, env} = pod(`not-a-valid-token`);
  const session = await connectCluster({env: {...env, KUBECONFIG: api.kubeconfigPath}, homedir: home, cwd: home, serviceAccountDir});
  assert.equal(session.contextName, `admin`);
  fs.mkdirSync(path.join(home, `.kube`));
  fs.copyFileSync(api.kubeconfigPath, path.join(home, `.kube`, `config`));
  assert.equal((await connectCluster({env, homedir: home, cwd: home, serviceAccountDir})).contextName, `admin`);
});

test(`a pod without a mounted token or CA gets one error line naming the file and the fix`, async () => {
  const {serviceAccountDir, home, env} = pod(`x`, {withCa: false});
  const noCa = await runCli([`list`], {env, home, context: {serviceAccountDir}});
  assert.equal(noCa.code, 1);
  assert.equal(noCa.stderr, `error: no kubeconfig found, and the in-cluster configuration cannot be used: cannot read the ServiceAccount CA certificate ${serviceAccountDir}/ca.crt: no such file; pass --kubeconfig, or mount the ServiceAccount token (automountServiceAccountToken)\n`);
  fs.writeFileSync(path.join(serviceAccountDir, `ca.crt`), api.caPem);
  fs.rmSync(path.join(serviceAccountDir, `token`));
  const noToken = await runCli([`list`], {env, home, context: {serviceAccountDir}});
  assert.equal(noToken.code, 1);
  assert.match(noToken.stderr, /^error: no kubeconfig found, and the in-cluster configuration cannot be used: cannot read the ServiceAccount token .*\/token: no such file; pass --kubeconfig/);
  // Outside a pod (no service variables) the kubeconfig error is unchanged.
  const outside = await runCli([`list`], {env: {PATH: env.PATH}, home, context: {serviceAccountDir}});
  assert.equal(outside.stderr, `error: no kubeconfig found: set --kubeconfig or KUBECONFIG, or create ~/.kube/config\n`);
});
