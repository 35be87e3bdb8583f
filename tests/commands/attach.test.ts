import {after, before, test} from 'node:test';
import assert from 'node:assert/strict';
import {execFile} from 'node:child_process';
import {promisify} from 'node:util';
import {mkdtempSync, rmSync} from 'node:fs';
import os from 'node:os';
import {PassThrough} from 'node:stream';
import path from 'node:path';
import {runCli} from '../helpers/runCli.ts';
import {pluginBin, runPrinted} from '../helpers/printedCommand.ts';
import {connectCluster} from '../../sources/adapters/kube/connect.ts';
import {useApiEmulator} from '../helpers/apiEmulator/fixture.ts';

const api = await useApiEmulator();
let cacheRoot: string;
before(async () => {
  cacheRoot = mkdtempSync(path.join(os.tmpdir(), `attach-kubectl-cache-`));
});
after(async () => {
  rmSync(cacheRoot, {recursive: true, force: true});
});

const kube = () => [`--kubeconfig`, api.kubeconfigPath];
const DOCKERCONFIG = Buffer.from(`{"auths":{"registry.example.com":{"username":"u","password":"p","auth":"dTpw"}}}`).toString(`base64`);
const POD_SPEC = {containers: [{name: `app`, image: `registry.example.com/app:1`}]};

function pullSecret(namespace: string, name = `regcred`) {
  api.seed.secret(namespace, {metadata: {name}, type: `kubernetes.io/dockerconfigjson`, data: {'.dockerconfigjson': DOCKERCONFIG}});
}

/** Real kubectl, with a fresh discovery cache, reading what the plugin wrote (async: the emulator runs in this process). */
async function kubectlJson(...args: string[]): Promise<any> {
  const cacheDir = mkdtempSync(path.join(cacheRoot, `c-`));
  const {stdout} = await promisify(execFile)(`kubectl`, [`--kubeconfig`, api.kubeconfigPath, `--cache-dir`, cacheDir, ...args, `-o`, `json`], {encoding: `utf8`});
  return JSON.parse(stdout);
}

const writes = (namespace: string) => api.requests.filter(request => request.method !== `GET` && request.namespace === namespace);

test(`attach appends to the ServiceAccount's list without dropping entries, and kubectl reads the result`, async () => {
  api.seed.namespace(`att-keep`);
  api.seed.serviceAccount(`att-keep`, `default`, {imagePullSecrets: [`first`, `second`]});
  pullSecret(`att-keep`);
  const result = await runCli([`attach`, `regcred`, `-n`, `att-keep`, ...kube()]);
  assert.equal(result.code, 0, result.stderr);
  assert.equal(result.stdout, `serviceaccount/default configured\n`);
  assert.equal(result.stderr, ``);
  assert.deepEqual((await kubectlJson(`get`, `sa`, `default`, `-n`, `att-keep`)).imagePullSecrets, [{name: `first`}, {name: `second`}, {name: `regcred`}]);
});

test(`attaching again reports unchanged and sends no write`, async () => {
  api.seed.namespace(`att-again`);
  pullSecret(`att-again`);
  assert.equal((await runCli([`attach`, `regcred`, `-n`, `att-again`, ...kube()])).code, 0);
  api.resetRequests();
  const result = await runCli([`attach`, `regcred`, `-n`, `att-again`, ...kube()]);
  assert.equal(result.code, 0);
  assert.equal(result.stdout, `serviceaccount/default unchanged\n`);
  assert.deepEqual(writes(`att-again`), []);
  assert.deepEqual(api.getObject(`serviceaccounts`, `att-again`, `default`).imagePullSecrets, [{name: `regcred`}]);
});

test(`attach refuses a secret that does not exist in the namespace, naming the step`, async () => {
  api.seed.namespace(`att-missing`);
  api.resetRequests();
  const result = await runCli([`attach`, `regcred`, `-n`, `att-missing`, ...kube()]);
  assert.equal(result.code, 1);
  assert.match(result.stderr, /^error: failed at check secret: secret "regcred" not found in namespace "att-missing"; .*--allow-missing/m);
  assert.deepEqual(writes(`att-missing`), []);
  assert.equal(api.getObject(`serviceaccounts`, `att-missing`, `default`).imagePullSecrets, undefined);
});

test(`attach --allow-missing attaches a secret that does not exist yet`, async () => {
  api.seed.namespace(`att-allow`);
  const result = await runCli([`attach`, `regcred`, `-n`, `att-allow`, `--allow-missing`, ...kube()]);
  assert.equal(result.code, 0, result.stderr);
  assert.deepEqual(api.getObject(`serviceaccounts`, `att-allow`, `default`).imagePullSecrets, [{name: `regcred`}]);
});

test(`attach --all-service-accounts attaches to every ServiceAccount of the namespace`, async () => {
  api.seed.namespace(`att-all`);
  api.seed.serviceAccount(`att-all`, `builder`, {imagePullSecrets: [`other`]});
  api.seed.serviceAccount(`att-all`, `runner`);
  pullSecret(`att-all`);
  const result = await runCli([`attach`, `regcred`, `-n`, `att-all`, `--all-service-accounts`, ...kube()]);
  assert.equal(result.code, 0, result.stderr);
  assert.deepEqual(api.getObject(`serviceaccounts`, `att-all`, `builder`).imagePullSecrets, [{name: `other`}, {name: `regcred`}]);
  assert.deepEqual(api.getObject(`serviceaccounts`, `att-all`, `runner`).imagePullSecrets, [{name: `regcred`}]);
  assert.deepEqual(api.getObject(`serviceaccounts`, `att-all`, `default`).imagePullSecrets, [{name: `regcred`}]);
});

test(`attach --service-account names a ServiceAccount that must exist`, async () => {
  api.seed.namespace(`att-named`);
  pullSecret(`att-named`);
  const result = await runCli([`attach`, `regcred`, `-n`, `att-named`, `--service-account`, `ghost`, ...kube()]);
  assert.equal(result.code, 1);
  assert.match(result.stderr, /failed at patch serviceaccount\/ghost: serviceaccount "ghost" not found in namespace "att-named"/);
});

test(`attach --workload adds to a deployment's pod template, merged with its own list, as kubectl reads it`, async () => {
  api.seed.namespace(`att-deploy`);
  pullSecret(`att-deploy`);
  api.seed.workload(`Deployment`, `att-deploy`, `web`, {...POD_SPEC, imagePullSecrets: [{name: `mine`}]});
  const result = await runCli([`attach`, `regcred`, `-n`, `att-deploy`, `--workload`, `deploy/web`, ...kube()]);
  assert.equal(result.code, 0, result.stderr);
  assert.equal(result.stdout, `deployment.apps/web configured\n`);
  assert.deepEqual((await kubectlJson(`get`, `deployment`, `web`, `-n`, `att-deploy`)).spec.template.spec.imagePullSecrets, [{name: `mine`}, {name: `regcred`}]);
  // Only the workload was named: the ServiceAccount is left alone.
  assert.equal(api.getObject(`serviceaccounts`, `att-deploy`, `default`).imagePullSecrets, undefined);
});

test(`attach refuses a Job with exit code 2 because its pod template is immutable`, async () => {
  const result = await runCli([`attach`, `regcred`, `-n`, `default`, `--workload`, `job/migrate`, ...kube()]);
  assert.equal(result.code, 2);
  assert.match(result.stderr, /^error: --workload job\/migrate: a Job's pod template is immutable/);
});

test(`attach reports running pods that keep their old list and workloads whose own list hides the ServiceAccount's`, async () => {
  api.seed.namespace(`att-timing`);
  pullSecret(`att-timing`);
  const sts = api.seed.workload(`StatefulSet`, `att-timing`, `db`, POD_SPEC);
  api.seed.pod(`att-timing`, `db-0`, POD_SPEC, {phase: `Running`, ownerReferences: [{apiVersion: `apps/v1`, kind: `StatefulSet`, name: `db`, uid: sts.metadata.uid, controller: true}]});
  api.seed.workload(`Deployment`, `att-timing`, `api`, {...POD_SPEC, imagePullSecrets: [{name: `own`}]});
  const result = await runCli([`attach`, `regcred`, `-n`, `att-timing`, `-o`, `json`, ...kube()]);
  assert.equal(result.code, 0, result.stderr);
  const report = JSON.parse(result.stdout);
  assert.equal(report.kind, `AttachResult`);
  assert.deepEqual(report.results[0].stalePods, [{name: `db-0`, serviceAccount: `default`, owner: {kind: `StatefulSet`, name: `db`}, restartable: true}]);
  assert.deepEqual(report.results[0].hidingWorkloads, [{kind: `Deployment`, name: `api`, serviceAccount: `default`, imagePullSecrets: [`own`]}]);
  assert.match(result.stderr, /warning: 1 running pod \(db-0\) of statefulset\/db will not use regcred until recreated.*kubectl rollout restart statefulset\/db -n att-timing/);
  assert.match(result.stderr, /warning: deployment\/api lists its own imagePullSecrets \(own\).*--workload deployment\/api/);
  // Without --restart nothing is rolled.
  assert.equal(api.getObject(`statefulsets`, `att-timing`, `db`).spec.template.metadata?.annotations?.[`kubectl.kubernetes.io/restartedAt`], undefined);
  // The advice, run as printed, rolls the StatefulSet.
  const advice = /or run: (.*)$/m.exec(result.stderr)?.[1];
  assert.equal(advice, `kubectl rollout restart statefulset/db -n att-timing`);
  const bin = pluginBin();
  try {
    const run = await runPrinted(advice!, {bin: bin.dir, kubeconfig: api.kubeconfigPath});
    assert.equal(run.code, 0, run.stderr);
  } finally {
    bin.remove();
  }
  assert.notEqual(api.getObject(`statefulsets`, `att-timing`, `db`).spec.template.metadata?.annotations?.[`kubectl.kubernetes.io/restartedAt`], undefined);
});

test(`attach --restart rolls the workloads whose running pods lack the secret, like kubectl rollout restart`, async () => {
  api.seed.namespace(`att-restart`);
  pullSecret(`att-restart`);
  const sts = api.seed.workload(`StatefulSet`, `att-restart`, `db`, POD_SPEC);
  api.seed.pod(`att-restart`, `db-0`, POD_SPEC, {phase: `Running`, ownerReferences: [{apiVersion: `apps/v1`, kind: `StatefulSet`, name: `db`, uid: sts.metadata.uid, controller: true}]});
  const now = new Date(`2026-11-29T07:00:00.500Z`);
  const result = await runCli([`attach`, `regcred`, `-n`, `att-restart`, `--restart`, ...kube()], {context: {now: () => now}});
  assert.equal(result.code, 0, result.stderr);
  assert.match(result.stdout, /^statefulset\.apps\/db restarted$/m);
  assert.equal((await kubectlJson(`get`, `statefulset`, `db`, `-n`, `att-restart`)).spec.template.metadata.annotations[`kubectl.kubernetes.io/restartedAt`], `2026-11-29T07:00:00Z`);
});

test(`attach --dry-run=client writes nothing and says so`, async () => {
  api.seed.namespace(`att-dry`);
  pullSecret(`att-dry`);
  api.resetRequests();
  const result = await runCli([`attach`, `regcred`, `-n`, `att-dry`, `--dry-run=client`, ...kube()]);
  assert.equal(result.code, 0, result.stderr);
  assert.equal(result.stdout, `serviceaccount/default configured (dry run)\n`);
  assert.deepEqual(writes(`att-dry`), []);
  assert.equal(api.getObject(`serviceaccounts`, `att-dry`, `default`).imagePullSecrets, undefined);
});

test(`attach --dry-run=server sends the patch with dryRun=All and nothing is stored`, async () => {
  api.seed.namespace(`att-sdry`);
  pullSecret(`att-sdry`);
  api.resetRequests();
  const result = await runCli([`attach`, `regcred`, `-n`, `att-sdry`, `--dry-run=server`, ...kube()]);
  assert.equal(result.code, 0, result.stderr);
  assert.equal(result.stdout, `serviceaccount/default configured (server dry run)\n`);
  const patches = writes(`att-sdry`);
  assert.equal(patches.length, 1);
  assert.match(JSON.stringify(patches[0]!.query), /dryRun/);
  assert.equal(api.getObject(`serviceaccounts`, `att-sdry`, `default`).imagePullSecrets, undefined);
});

test(`attach -o name prints the objects it changed`, async () => {
  api.seed.namespace(`att-name`);
  pullSecret(`att-name`);
  const result = await runCli([`attach`, `regcred`, `-n`, `att-name`, `-o`, `name`, ...kube()]);
  assert.equal(result.code, 0, result.stderr);
  assert.equal(result.stdout, `serviceaccount/default\n`);
});

test(`attach over several namespaces lists ServiceAccounts once for all of them, skips ignored namespaces and prints one line per namespace`, async () => {
  for (const namespace of [`multi-a`, `multi-b`, `multi-c`]) {
    api.seed.namespace(namespace, {labels: {fleet: `multi`}});
    pullSecret(namespace);
  }
  api.seed.namespace(`multi-ignored`, {labels: {fleet: `multi`}, annotations: {'pullsecret.kubectl.io/ignore': `true`}});
  api.resetRequests();
  const result = await runCli([`attach`, `regcred`, `--namespace-selector`, `fleet=multi`, ...kube()]);
  assert.equal(result.code, 0, result.stderr);
  assert.deepEqual(result.stdout.trim().split(`\n`), [
    `multi-a: serviceaccount/default configured`,
    `multi-b: serviceaccount/default configured`,
    `multi-c: serviceaccount/default configured`,
  ]);
  assert.deepEqual(result.stderr.trim().split(`\n`), [
    `multi-ignored: skipped (annotated pullsecret.kubectl.io/ignore=true (name it with -n to act on it anyway))`,
    `attach regcred: 3 of 4 namespaces ok (3 changed, 0 unchanged), 1 skipped`,
  ]);
  const saLists = api.requests.filter(request => request.method === `GET` && request.resource === `serviceaccounts` && request.name === undefined);
  assert.equal(saLists.length, 1);
  assert.equal(saLists[0]!.namespace, undefined);
  assert.equal(api.getObject(`serviceaccounts`, `multi-ignored`, `default`).imagePullSecrets, undefined);
  assert.equal(api.requests.filter(request => request.method === `PATCH`).length, 3);
});

test(`attach with several contexts labels each result with its context and fails where the user may not write`, async () => {
  api.seed.namespace(`att-ctx`);
  pullSecret(`att-ctx`);
  const result = await runCli([`attach`, `regcred`, `-n`, `att-ctx`, `--context`, `readonly`, `--context`, `admin`, `-o`, `json`, ...kube()]);
  assert.equal(result.code, 1);
  const report = JSON.parse(result.stdout);
  const byContext = Object.fromEntries(report.results.map((entry: any) => [entry.context, entry]));
  assert.equal(byContext.admin.status, `ok`);
  assert.equal(byContext.readonly.status, `failed`);
  assert.equal(byContext.readonly.failedStep, `patch serviceaccount/default`);
  assert.match(byContext.readonly.error, /forbidden/);
  assert.match(result.stderr, /readonly\/att-ctx: failed at patch serviceaccount\/default/);
});

test(`attach over several namespaces draws a progress line on a terminal and erases it before the summary`, async () => {
  for (const namespace of [`tty-a`, `tty-b`]) {
    api.seed.namespace(namespace);
    pullSecret(namespace);
  }
  const chunks: string[] = [];
  const stderr = Object.assign(new PassThrough(), {isTTY: true, columns: 100});
  stderr.on(`data`, chunk => chunks.push(String(chunk)));
  const result = await runCli([`attach`, `regcred`, `--namespaces`, `tty-a,tty-b`, ...kube()], {context: {stderr}});
  assert.equal(result.code, 0);
  const text = chunks.join(``);
  assert.match(text, /\rattach: 1\/2 namespaces\x1b\[K/);
  assert.match(text, /\rattach: 2\/2 namespaces\x1b\[K\r\x1b\[Kattach regcred: 2 of 2 namespaces ok/);
  assert.match(result.stdout, /^tty-a: serviceaccount\/default configured\n/);
});

test(`attach with several contexts reports a context that cannot be reached and finishes the others`, async () => {
  api.seed.namespace(`att-unreach`);
  pullSecret(`att-unreach`);
  const result = await runCli([`attach`, `regcred`, `-n`, `att-unreach`, `--context`, `admin`, `--context`, `no-such-context`, ...kube()]);
  assert.equal(result.code, 1);
  assert.match(result.stdout, /^admin\/att-unreach: serviceaccount\/default configured$/m);
  assert.match(result.stderr, /^context no-such-context: failed at connect: .*no-such-context/m);
  assert.deepEqual(api.getObject(`serviceaccounts`, `att-unreach`, `default`).imagePullSecrets, [{name: `regcred`}]);
});

test(`attach refuses a ReplicaSet run by a Deployment and names the Deployment to use instead`, async () => {
  api.seed.namespace(`att-rs`);
  pullSecret(`att-rs`);
  const deployment = api.seed.workload(`Deployment`, `att-rs`, `web`, POD_SPEC);
  const connection = await connectCluster({kubeconfig: api.kubeconfigPath, env: {}});
  await connection.create(`replicasets`, `att-rs`, {apiVersion: `apps/v1`, kind: `ReplicaSet`, metadata: {name: `web-abc`, ownerReferences: [{apiVersion: `apps/v1`, kind: `Deployment`, name: `web`, uid: deployment.metadata.uid, controller: true}]}, spec: {selector: {matchLabels: {app: `x`}}, template: {metadata: {labels: {app: `x`}}, spec: POD_SPEC}}});
  const result = await runCli([`attach`, `regcred`, `-n`, `att-rs`, `--workload`, `rs/web-abc`, ...kube()]);
  assert.equal(result.code, 1);
  assert.match(result.stderr, /^error: failed at patch replicaset\.apps\/web-abc: replicaset "web-abc" is run by deployment "web", which would undo the change; attach to --workload deployment\/web instead$/m);
  assert.equal(api.getObject(`replicasets`, `att-rs`, `web-abc`).spec.template.spec.imagePullSecrets, undefined);
});

/** The rules of a Role for `attach` (docs/rbac.md), bound in each of `namespaces`; `without` leaves out one resource's list. */
function attachRole(namespaces: string[], without?: string) {
  const rules = [
    {verbs: [`get`], resources: [`secrets`], namespaces},
    {verbs: [`list`, `patch`], resources: [`serviceaccounts`], namespaces},
    {verbs: [`list`], resources: [`pods`], namespaces},
    {verbs: [`list`], resources: [`replicasets`], apiGroups: [`apps`], namespaces},
    {verbs: [`list`], resources: [`cronjobs`], apiGroups: [`batch`], namespaces},
    {verbs: [`list`, `patch`], resources: [`deployments`, `statefulsets`, `daemonsets`], apiGroups: [`apps`], namespaces},
  ];
  return rules.map(rule => ({...rule, resources: rule.resources.filter(resource => resource !== without)})).filter(rule => rule.resources.length > 0);
}

test(`attach --namespaces with only a Role in each namespace lists the ServiceAccounts there when the cluster-wide list is refused`, async () => {
  for (const namespace of [`role-a`, `role-b`]) {
    api.seed.namespace(namespace);
    pullSecret(namespace);
  }
  api.addUser(`attach-role`, attachRole([`role-a`, `role-b`]));
  api.resetRequests();
  const result = await runCli([`attach`, `regcred`, `--namespaces`, `role-a,role-b`, `--context`, `attach-role`, ...kube()]);
  assert.equal(result.code, 0, result.stderr);
  assert.deepEqual(result.stdout.trim().split(`\n`), [
    `role-a: serviceaccount/default configured`,
    `role-b: serviceaccount/default configured`,
  ]);
  assert.deepEqual(result.stderr.trim().split(`\n`), [`attach regcred: 2 of 2 namespaces ok (2 changed, 0 unchanged)`]);
  for (const namespace of [`role-a`, `role-b`])
    assert.deepEqual(api.getObject(`serviceaccounts`, namespace, `default`).imagePullSecrets, [{name: `regcred`}]);
  // No `get` on a ServiceAccount: the Role does not grant it.
  assert.deepEqual(api.requests.filter(request => request.resource === `serviceaccounts` && request.verb === `get`), []);
});

test(`attach --restart fails the namespace, naming the permission, when its pods cannot be listed, and rolls nothing`, async () => {
  api.seed.namespace(`att-norestart`);
  pullSecret(`att-norestart`);
  const sts = api.seed.workload(`StatefulSet`, `att-norestart`, `db`, POD_SPEC);
  api.seed.pod(`att-norestart`, `db-0`, POD_SPEC, {phase: `Running`, ownerReferences: [{apiVersion: `apps/v1`, kind: `StatefulSet`, name: `db`, uid: sts.metadata.uid, controller: true}]});
  api.addUser(`attach-no-pods`, attachRole([`att-norestart`], `pods`));
  const result = await runCli([`attach`, `regcred`, `-n`, `att-norestart`, `--restart`, `--context`, `attach-no-pods`, ...kube()]);
  assert.equal(result.code, 1, result.stderr);
  assert.match(result.stderr, /^error: failed at find workloads to restart: cannot list pods in namespace "att-norestart": forbidden for user "attach-no-pods" \(needs RBAC verb "list" on "pods" in namespace "att-norestart"\).*\(done: serviceaccount\/default configured\)$/m);
  assert.equal(api.getObject(`statefulsets`, `att-norestart`, `db`).spec.template.metadata?.annotations?.[`kubectl.kubernetes.io/restartedAt`], undefined);
});

test(`attach --restart fails the namespace, naming the permission, when a workload kind cannot be listed`, async () => {
  api.seed.namespace(`att-norestart2`);
  pullSecret(`att-norestart2`);
  api.addUser(`attach-no-cronjobs`, attachRole([`att-norestart2`], `cronjobs`));
  const result = await runCli([`attach`, `regcred`, `-n`, `att-norestart2`, `--restart`, `--context`, `attach-no-cronjobs`, ...kube()]);
  assert.equal(result.code, 1, result.stderr);
  assert.match(result.stderr, /^error: failed at find workloads to restart: cannot list cronjobs\.batch in namespace "att-norestart2": forbidden .*needs RBAC verb "list" on "cronjobs\.batch"/m);
});

test(`attach without --restart still only warns when pods cannot be listed`, async () => {
  api.seed.namespace(`att-nopods`);
  pullSecret(`att-nopods`);
  api.addUser(`attach-no-pods-2`, attachRole([`att-nopods`], `pods`));
  const result = await runCli([`attach`, `regcred`, `-n`, `att-nopods`, `--context`, `attach-no-pods-2`, ...kube()]);
  assert.equal(result.code, 0, result.stderr);
  assert.match(result.stderr, /^warning: could not check running pods in namespace "att-nopods": cannot list pods in namespace "att-nopods": forbidden/m);
  // The refused list is sent once: the refusal is reported, not asked again.
  assert.equal(api.requests.filter(request => request.verb === `list` && request.resource === `pods` && request.namespace === `att-nopods`).length, 1);
});

test(`attach refuses a secret that is not a pull secret (the kubelet ignores it) and writes nothing`, async () => {
  api.seed.namespace(`att-opaque`);
  api.seed.secret(`att-opaque`, {metadata: {name: `db-password`}, type: `Opaque`, data: {password: Buffer.from(`x`).toString(`base64`)}});
  const result = await runCli([`attach`, `db-password`, `-n`, `att-opaque`, ...kube()]);
  assert.equal(result.code, 1);
  assert.equal(result.stderr, `error: failed at check secret: secret att-opaque/db-password has type Opaque, and the kubelet ignores imagePullSecrets that are not of type kubernetes.io/dockerconfigjson or kubernetes.io/dockercfg; nothing was attached (only a pull secret can be)\n`);
  assert.deepEqual(writes(`att-opaque`), []);
});

test(`a running pod with its own imagePullSecrets is not told that recreating it brings the secret; one with its ServiceAccount's list is`, async () => {
  api.seed.namespace(`att-own`);
  pullSecret(`att-own`);
  api.seed.serviceAccount(`att-own`, `default`, {imagePullSecrets: [`old`]});
  api.seed.pod(`att-own`, `own`, {...POD_SPEC, imagePullSecrets: [{name: `mine`}]}, {phase: `Running`});
  api.seed.pod(`att-own`, `admitted`, {...POD_SPEC, imagePullSecrets: [{name: `old`}]}, {phase: `Running`});
  const result = await runCli([`attach`, `regcred`, `-n`, `att-own`, ...kube()]);
  assert.equal(result.code, 0, result.stderr);
  assert.deepEqual(result.stderr.trim().split(`\n`), [
    `warning: pod own lists its own imagePullSecrets (mine), so it will not get regcred from its ServiceAccount even when recreated; add regcred to the imagePullSecrets of its manifest and re-create it`,
    `warning: 1 running pod (admitted) will not use regcred until recreated: a ServiceAccount's pull secrets reach only pods created afterwards; delete and recreate it`,
  ]);
});

test(`the "run:" advice of attach's warnings runs as printed and does what it says`, async () => {
  api.seed.namespace(`att-run`);
  pullSecret(`att-run`);
  api.seed.workload(`Deployment`, `att-run`, `legacy`, {...POD_SPEC, imagePullSecrets: [{name: `old`}]});
  const result = await runCli([`attach`, `regcred`, `-n`, `att-run`, ...kube()]);
  assert.equal(result.code, 0, result.stderr);
  const advice = /attach to it directly: (.*)$/m.exec(result.stderr)?.[1];
  assert.equal(advice, `kubectl pullsecret attach regcred -n att-run --workload deployment/legacy`);
  const bin = pluginBin();
  try {
    const run = await runPrinted(advice!, {bin: bin.dir, kubeconfig: api.kubeconfigPath});
    assert.equal(run.code, 0, run.stderr);
    assert.equal(run.stdout, `deployment.apps/legacy configured\n`);
  } finally {
    bin.remove();
  }
  assert.deepEqual(api.getObject(`deployments`, `att-run`, `legacy`).spec.template.spec.imagePullSecrets, [{name: `old`}, {name: `regcred`}]);
});

test(`attach over namespaces where some lists are refused too sends each namespace's list once and reports the refusal there`, async () => {
  for (const namespace of [`part-a`, `part-b`, `part-c`]) {
    api.seed.namespace(namespace);
    pullSecret(namespace);
  }
  // No ClusterRole: every cluster-wide list is refused. part-b's pods and part-c's replicasets are refused as well.
  api.addUser(`attach-partly`, [...attachRole([`part-a`]), ...attachRole([`part-b`], `pods`), ...attachRole([`part-c`], `replicasets`)]);
  api.resetRequests();
  const result = await runCli([`attach`, `regcred`, `--namespaces`, `part-a,part-b,part-c`, `--context`, `attach-partly`, ...kube()]);
  assert.equal(result.code, 0, result.stderr);
  assert.deepEqual(result.stdout.trim().split(`\n`), [
    `part-a: serviceaccount/default configured`,
    `part-b: serviceaccount/default configured`,
    `part-c: serviceaccount/default configured`,
  ]);
  assert.match(result.stderr, /^warning: part-b: could not check running pods in namespace "part-b": cannot list pods in namespace "part-b": forbidden/m);
  assert.match(result.stderr, /^warning: part-c: could not check running pods in namespace "part-c": cannot list replicasets\.apps in namespace "part-c": forbidden/m);
  const lists = new Map<string, number>();
  for (const request of api.requests.filter(request => request.verb === `list` && request.namespace !== undefined)) {
    const key = `${request.resource} in ${request.namespace}`;
    lists.set(key, (lists.get(key) ?? 0) + 1);
  }
  assert.deepEqual([...lists].filter(([, count]) => count > 1), []);
  // The refused per-namespace lists were each sent (once): the fallback did run.
  assert.equal(lists.get(`pods in part-b`), 1);
  assert.equal(lists.get(`replicasets in part-c`), 1);
});
