import {after, before, test} from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import {parseAllDocuments} from 'yaml';
import type {RbacRule} from '../helpers/apiEmulator/index.ts';
import {runKubectl} from '../helpers/apiEmulator/index.ts';
import {runCli} from '../helpers/runCli.ts';
import {eventually, startAgentInProcess} from '../helpers/agent.ts';
import {b64} from '../helpers/encoding.ts';
import {useApiEmulator} from '../helpers/apiEmulator/fixture.ts';

// `install agent|refresh -o yaml`: what it renders is applied by real kubectl, and its RBAC is what the agent
// and refresh need: run as a user holding exactly those rules, they work, nothing they send is refused, and
// every rule is used by some request (none is there for nothing).

const api = await useApiEmulator();
let dir: string;
before(async () => {
  dir = fs.mkdtempSync(path.join(os.tmpdir(), `install-test-`));
});
after(async () => {
  fs.rmSync(dir, {recursive: true, force: true});
});

type Rendered = Array<{apiVersion: string; kind: string; metadata: {name: string; namespace?: string}; rules?: Array<{apiGroups: string[]; resources: string[]; verbs: string[]}>}>;

async function render(...args: string[]): Promise<{text: string; objects: Rendered}> {
  const result = await runCli([`install`, ...args]);
  assert.equal(result.code, 0, result.stderr);
  return {text: result.stdout, objects: parseAllDocuments(result.stdout).map(document => document.toJS())};
}

/** The emulator user holding exactly the rendered ClusterRole (cluster-wide) and Role (in its namespace). */
function userWithRenderedRules(name: string, objects: Rendered): {token: string; atoms: Set<string>} {
  const rules: RbacRule[] = [];
  const atoms = new Set<string>();
  for (const object of objects.filter(candidate => candidate.kind === `ClusterRole` || candidate.kind === `Role`)) {
    for (const rule of object.rules!) {
      rules.push({verbs: rule.verbs, resources: rule.resources, apiGroups: rule.apiGroups, ...(object.kind === `Role` ? {namespaces: [object.metadata.namespace!]} : {})});
      for (const verb of rule.verbs) {
        for (const resource of rule.resources)
          atoms.add(`${verb} ${resource}`);
      }
    }
  }
  return {token: api.addUser(name, rules), atoms};
}

function kubeconfigFor(user: string, token: string): string {
  const file = path.join(dir, `${user.replace(/[^a-z0-9]/gi, `-`)}.kubeconfig`);
  fs.writeFileSync(file, JSON.stringify({
    apiVersion: `v1`, kind: `Config`, 'current-context': `c`,
    clusters: [{name: `c`, cluster: {server: api.url, 'certificate-authority-data': b64(api.caPem)}}],
    users: [{name: user, user: {token}}],
    contexts: [{name: `c`, context: {cluster: `c`, user, namespace: `pullsecret-system`}}],
  }));
  return file;
}

/** The atoms (`verb resource`) a user's requests used, and any that were refused. */
function usage(user: string): {used: Set<string>; refused: string[]} {
  const requests = api.requests.filter(request => request.user === user && request.resource !== undefined);
  return {
    used: new Set(requests.map(request => `${request.verb} ${request.resource}`)),
    refused: requests.filter(request => request.status === 403).map(request => `${request.method} ${request.path}`),
  };
}

test(`install agent -o yaml applies with real kubectl, then --dry-run=server and a second apply find nothing to change`, async () => {
  const {text, objects} = await render(`agent`, `--image`, `registry.example.com/kubectl-pullsecret:test`);
  assert.deepEqual(objects.map(object => object.kind), [`Namespace`, `ServiceAccount`, `ClusterRole`, `ClusterRoleBinding`, `Role`, `RoleBinding`, `Deployment`]);
  const applied = await runKubectl([`apply`, `-f`, `-`], {kubeconfig: api.kubeconfigPath, stdin: text});
  assert.equal(applied.code, 0, applied.stderr);
  assert.deepEqual(applied.stdout.trim().split(`\n`), [
    `namespace/pullsecret-system created`,
    `serviceaccount/kubectl-pullsecret-agent created`,
    `clusterrole.rbac.authorization.k8s.io/kubectl-pullsecret-agent created`,
    `clusterrolebinding.rbac.authorization.k8s.io/kubectl-pullsecret-agent created`,
    `role.rbac.authorization.k8s.io/kubectl-pullsecret-agent created`,
    `rolebinding.rbac.authorization.k8s.io/kubectl-pullsecret-agent created`,
    `deployment.apps/kubectl-pullsecret-agent created`,
  ]);
  const deployment = api.getObject(`deployments`, `pullsecret-system`, `kubectl-pullsecret-agent`);
  assert.equal(deployment.spec.replicas, 2);
  assert.equal(deployment.spec.template.spec.serviceAccountName, `kubectl-pullsecret-agent`);
  assert.deepEqual(deployment.spec.template.spec.containers[0].args, [`agent`, `--log-format`, `json`, `--lease-namespace`, `pullsecret-system`, `--listen-address`, `:8080`]);
  // The server checks every object of an upgrade without storing it (a namespaced object needs its namespace to exist, as on a real cluster).
  const dry = await runKubectl([`apply`, `--dry-run=server`, `-f`, `-`], {kubeconfig: api.kubeconfigPath, stdin: text.replace(`registry.example.com/kubectl-pullsecret:test`, `registry.example.com/kubectl-pullsecret:next`)});
  assert.equal(dry.code, 0, dry.stderr);
  assert.match(dry.stdout, /^deployment\.apps\/kubectl-pullsecret-agent configured \(server dry run\)$/m);
  assert.equal(api.getObject(`deployments`, `pullsecret-system`, `kubectl-pullsecret-agent`).spec.template.spec.containers[0].image, `registry.example.com/kubectl-pullsecret:test`);
  const again = await runKubectl([`apply`, `-f`, `-`], {kubeconfig: api.kubeconfigPath, stdin: text});
  assert.equal(again.code, 0, again.stderr);
  assert.match(again.stdout, /deployment\.apps\/kubectl-pullsecret-agent unchanged/);
});

test(`the agent runs with exactly the rendered RBAC: it keeps a policy true, nothing is refused, every rule is used`, async () => {
  const {objects} = await render(`agent`);
  const user = `system:serviceaccount:pullsecret-system:kubectl-pullsecret-agent`;
  const {token, atoms} = userWithRenderedRules(user, objects);
  api.seed.namespace(`pullsecret-system`);
  api.seed.namespace(`i1-src`);
  api.seed.secret(`i1-src`, {metadata: {name: `regcred`}, type: `kubernetes.io/dockerconfigjson`, data: {'.dockerconfigjson': b64(`{"auths":{"r.example.com":{"auth":"${b64(`u:p`)}"}}}`)}});
  api.seed.namespace(`i1-old`, {labels: {i1: `yes`}});
  assert.equal((await runCli([`sync`, `regcred`, `--from-namespace`, `i1-src`, `--namespace-selector`, `i1=yes`, `--attach`, `--prune`, `--keep`, `--kubeconfig`, api.kubeconfigPath])).code, 0);
  // And a secret whose password comes from a command, refreshed on schedule.
  api.seed.namespace(`i1-cmd`);
  const added = await runCli([`add`, `cmdcred`, `-n`, `i1-cmd`, `--docker-server`, `r.example.com`, `--docker-username`, `u`, `--password-command`, `echo first`, `--kubeconfig`, api.kubeconfigPath], {env: {PATH: `/usr/bin:/bin`}});
  assert.equal(added.code, 0, added.stderr);
  const recorded = api.getObject(`secrets`, `i1-cmd`, `cmdcred`);
  recorded.metadata.annotations[`pullsecret.kubectl.io/password-command`] = JSON.stringify([{server: `r.example.com`, username: `u`, command: `echo second`}]);
  api.local.update(`secrets`, `i1-cmd`, recorded, `test`);
  const agent = await startAgentInProcess(kubeconfigFor(user, token), [`--lease-namespace`, `pullsecret-system`, `--retry-period`, `500ms`, `--renew-deadline`, `1s`, `--lease-duration`, `2s`, `--refresh-interval`, `300ms`, `--max-age`, `1ms`]);
  try {
    await eventually(`cmdcred is refreshed`, () => Buffer.from(api.getObject(`secrets`, `i1-cmd`, `cmdcred`).data[`.dockerconfigjson`], `base64`).toString(`utf8`).includes(`second`));
    // create: a new namespace; update: the copy after the source changes; delete: prune when a namespace leaves the selector.
    api.seed.namespace(`i1-new`, {labels: {i1: `yes`}});
    await eventually(`i1-new is supplied`, () => api.getObject(`secrets`, `i1-new`, `regcred`) !== undefined && (api.getObject(`serviceaccounts`, `i1-new`, `default`).imagePullSecrets ?? []).length === 1);
    const source = api.getObject(`secrets`, `i1-src`, `regcred`);
    api.local.update(`secrets`, `i1-src`, {...source, data: {'.dockerconfigjson': b64(`{"auths":{"r.example.com":{"auth":"${b64(`u:q`)}"}}}`)}}, `test`);
    await eventually(`the copy is updated`, () => api.getObject(`secrets`, `i1-new`, `regcred`).data[`.dockerconfigjson`] === api.getObject(`secrets`, `i1-src`, `regcred`).data[`.dockerconfigjson`]);
    const leaving = api.getObject(`namespaces`, undefined, `i1-old`);
    api.local.update(`namespaces`, undefined, {...leaving, metadata: {...leaving.metadata, labels: {}}}, `test`);
    await eventually(`the copy outside the selector is pruned`, () => api.getObject(`secrets`, `i1-old`, `regcred`) === undefined);
  } finally {
    await agent.stop();
  }
  const {used, refused} = usage(user);
  assert.deepEqual(refused, []);
  // The one rule only a race needs: a guarded patch of a ServiceAccount that changed since the agent saw it is retried after a get.
  const RACE_ONLY = new Set([`get serviceaccounts`]);
  const unused = [...atoms].filter(atom => !used.has(atom) && !RACE_ONLY.has(atom));
  assert.deepEqual(unused, [], `every rendered permission is needed`);
});

test(`install refresh renders a CronJob every 10 hours whose RBAC is what refresh -A needs`, async () => {
  const {text, objects} = await render(`refresh`);
  assert.deepEqual(objects.map(object => object.kind), [`Namespace`, `ServiceAccount`, `ClusterRole`, `ClusterRoleBinding`, `CronJob`]);
  const applied = await runKubectl([`apply`, `-f`, `-`], {kubeconfig: api.kubeconfigPath, stdin: text});
  assert.equal(applied.code, 0, applied.stderr);
  assert.equal(api.getObject(`cronjobs`, `pullsecret-system`, `kubectl-pullsecret-refresh`).spec.schedule, `0 */10 * * *`);
  const user = `system:serviceaccount:pullsecret-system:kubectl-pullsecret-refresh`;
  const {token, atoms} = userWithRenderedRules(user, objects);
  api.seed.namespace(`i2-src`);
  api.seed.namespace(`i2-copy`);
  const added = await runCli([`add`, `regcred`, `-n`, `i2-src`, `--docker-server`, `r.example.com`, `--docker-username`, `u`, `--password-command`, `echo one`, `--kubeconfig`, api.kubeconfigPath], {env: {PATH: `/usr/bin:/bin`}});
  assert.equal(added.code, 0, added.stderr);
  assert.equal((await runCli([`sync`, `regcred`, `--from-namespace`, `i2-src`, `-n`, `i2-copy`, `--kubeconfig`, api.kubeconfigPath])).code, 0);
  const secret = api.getObject(`secrets`, `i2-src`, `regcred`);
  secret.metadata.annotations[`pullsecret.kubectl.io/password-command`] = JSON.stringify([{server: `r.example.com`, username: `u`, command: `echo two`}]);
  api.local.update(`secrets`, `i2-src`, secret, `test`);
  const result = await runCli([`refresh`, `-A`, `--max-age`, `1ms`, `--kubeconfig`, kubeconfigFor(user, token)], {env: {PATH: `/usr/bin:/bin`}, context: {now: () => new Date(Date.now() + 1000)}});
  assert.equal(result.code, 0, result.stderr);
  assert.match(result.stdout, /i2-src: secret\/regcred refreshed \(.*1 copy updated\)/);
  const {used, refused} = usage(user);
  assert.deepEqual(refused, []);
  assert.deepEqual([...atoms].filter(atom => !used.has(atom)), []);
});

test(`install rejects unknown components and formats`, async () => {
  for (const [args, message] of [
    [[`operator`], /^error: unknown component "operator": install agent or refresh/],
    [[`agent`, `-o`, `wide`], /^error: unsupported output format "wide": use yaml or json/],
    [[`agent`, `--schedule`, `* * * * *`], /^error: --schedule only applies to install refresh/],
    [[`refresh`, `--schedule`, `often`], /^error: invalid --schedule "often": give five cron fields/],
  ] as Array<[string[], RegExp]>) {
    const result = await runCli([`install`, ...args]);
    assert.equal(result.code, 2, args.join(` `));
    assert.match(result.stderr, message);
  }
});
