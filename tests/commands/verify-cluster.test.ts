// verify against the API emulator (cluster and -f manifest modes) and real docker-registry instances.
import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import {after, before, describe, test} from 'node:test';
import {runCli} from '../helpers/runCli.ts';
import {startApiEmulator} from '../helpers/apiEmulator/index.ts';
import type {ApiEmulator} from '../helpers/apiEmulator/index.ts';
import {startRegistry} from '../helpers/registry/index.ts';
import type {TestRegistry} from '../helpers/registry/index.ts';

type Result = {context: string | null; namespace: string; kind: string; name: string; container: string; image: string; status: string; credential: {source: string; key: string; username: string} | null; detail: string; warnings: string[]};
type Report = {summary: {total: number; pullable: number; failing: number; byStatus: Record<string, number>; notes: string[]}; results: Result[]};

const PASSWORD = `s3cret-cluster-pw`;
let api: ApiEmulator;
let basic: TestRegistry;
let token: TestRegistry;
const tmp = fs.mkdtempSync(path.join(os.tmpdir(), `verify-cluster-`));

function dockerConfigJson(auths: Record<string, Record<string, unknown>>): string {
  return Buffer.from(JSON.stringify({auths})).toString(`base64`);
}

function pullSecret(name: string, auths: Record<string, Record<string, unknown>>) {
  return {metadata: {name}, type: `kubernetes.io/dockerconfigjson`, data: {'.dockerconfigjson': dockerConfigJson(auths)}};
}

const spec = (image: string, extra: Record<string, unknown> = {}) => ({containers: [{name: `app`, image}], ...extra});

before(async () => {
  [api, basic, token] = await Promise.all([
    startApiEmulator(),
    startRegistry({mode: `basic`, users: {alice: PASSWORD}}),
    startRegistry({mode: `token`, users: {carol: PASSWORD}, grants: {carol: {'team/*': [`pull`]}}, anonymousPull: [`public/*`]}),
  ]);
  await Promise.all([basic.push(`team/app`, `v1`), token.push(`team/app`, `v1`), token.push(`public/tool`, `v1`)]);

  const good = {[basic.host]: {username: `alice`, password: PASSWORD}};
  api.seed.namespace(`web`);
  api.seed.secret(`web`, pullSecret(`regcred`, good));
  api.seed.secret(`web`, pullSecret(`badcred`, {[basic.host]: {username: `alice`, password: `not-the-password`}}));
  api.seed.secret(`web`, {metadata: {name: `broken`}, type: `kubernetes.io/dockerconfigjson`, data: {'.dockerconfigjson': Buffer.from(`{"auths":{"${basic.host}":{"username":"alice","password":5}}}`).toString(`base64`)}});
  api.seed.serviceAccount(`web`, `default`, {imagePullSecrets: [`regcred`]});
  api.seed.serviceAccount(`web`, `builder`, {});
  api.seed.workload(`Deployment`, `web`, `api`, spec(`${basic.host}/team/app:v1`, {initContainers: [{name: `init`, image: `${token.host}/public/tool:v1`}]}));
  api.seed.workload(`Deployment`, `web`, `worker`, spec(`${basic.host}/team/app:v1`, {imagePullSecrets: [{name: `badcred`}]}));
  api.seed.workload(`Deployment`, `web`, `batch`, spec(`${basic.host}/team/app:v1`, {serviceAccountName: `builder`}));
  api.seed.workload(`Deployment`, `web`, `ghost`, spec(`${basic.host}/team/app:v1`, {serviceAccountName: `nobody`}));
  api.seed.workload(`Deployment`, `web`, `lost`, spec(`${basic.host}/team/app:v1`, {imagePullSecrets: [{name: `gone`}]}));
  api.seed.workload(`Deployment`, `web`, `partly`, spec(`${basic.host}/team/app:v1`, {imagePullSecrets: [{name: `gone`}, {name: `regcred`}]}));
  api.seed.secret(`web`, {metadata: {name: `opaque`}, type: `Opaque`, data: {'.dockerconfigjson': dockerConfigJson(good)}});
  api.seed.workload(`Deployment`, `web`, `opaque-user`, spec(`${basic.host}/team/app:v1`, {imagePullSecrets: [{name: `opaque`}]}));
  api.seed.workload(`StatefulSet`, `web`, `db`, spec(`${basic.host}/team/app:v1`, {imagePullSecrets: [{name: `broken`}, {name: `regcred`}]}));
  api.seed.workload(`CronJob`, `web`, `nightly`, spec(`${basic.host}/team/app:missing`));
  api.seed.workload(`DaemonSet`, `web`, `agent`, spec(`${basic.host}/Team/App:v1`));
  // A running pod of the StatefulSet: same images and secrets as its template, so it is folded into it.
  const sts = api.getObject(`statefulsets`, `web`, `db`);
  api.seed.pod(`web`, `db-0`, spec(`${basic.host}/team/app:v1`, {imagePullSecrets: [{name: `broken`}, {name: `regcred`}]}), {ownerReferences: [{apiVersion: `apps/v1`, kind: `StatefulSet`, name: `db`, uid: sts.metadata.uid, controller: true}]});

  // Drift: a pod created while the ServiceAccount had no pull secret, which it got afterwards.
  api.seed.namespace(`drift`);
  api.seed.secret(`drift`, pullSecret(`regcred`, good));
  api.seed.pod(`drift`, `old`, spec(`${basic.host}/team/app:v1`));
  api.seed.serviceAccount(`drift`, `default`, {imagePullSecrets: [`regcred`]});

  // Token-mode registry in its own namespace.
  api.seed.namespace(`tok`);
  api.seed.secret(`tok`, pullSecret(`tokcred`, {[token.host]: {auth: Buffer.from(`carol:${PASSWORD}`).toString(`base64`)}}));
  api.seed.workload(`Deployment`, `tok`, `svc`, spec(`${token.host}/team/app:v1`, {imagePullSecrets: [{name: `tokcred`}]}));
});

after(async () => {
  await Promise.all([api?.stop(), basic?.stop(), token?.stop()]);
  fs.rmSync(tmp, {recursive: true, force: true});
});

async function verify(args: string[], options: {stdin?: string} = {}): Promise<{code: number; report: Report; stdout: string; stderr: string}> {
  const result = await runCli([`verify`, `--kubeconfig`, api.kubeconfigPath, ...args, `-o`, `json`], options);
  let report: Report;
  try {
    report = JSON.parse(result.stdout) as Report;
  } catch {
    assert.fail(`no JSON on stdout (exit ${result.code}): ${result.stderr}`);
  }
  return {code: result.code, report, stdout: result.stdout, stderr: result.stderr};
}

const row = (report: Report, kind: string, name: string, container = `app`) => {
  const found = report.results.find(result => result.kind === kind && result.name === name && result.container === container);
  assert.ok(found, `no row for ${kind}/${name}/${container}: ${JSON.stringify(report.results.map(r => `${r.kind}/${r.name}/${r.container}`))}`);
  return found;
};

describe(`verify -n web (cluster mode)`, () => {
  let run: Awaited<ReturnType<typeof verify>>;
  before(async () => {
    run = await verify([`-n`, `web`]);
  });

  test(`exits 1 because some images are not pullable`, () => {
    assert.equal(run.code, 1);
  });

  test(`a template without its own list pulls with the ServiceAccount's secret`, () => {
    const result = row(run.report, `Deployment`, `api`);
    assert.equal(result.status, `ok`);
    assert.deepEqual(result.credential, {source: `web/regcred`, key: basic.host, username: `alice`});
  });

  test(`init containers are checked too: a public image on another registry is ok-anonymous`, () => {
    assert.equal(row(run.report, `Deployment`, `api`, `init`).status, `ok-anonymous`);
  });

  test(`a template's own secret with a wrong password is unauthorized`, () => {
    assert.equal(row(run.report, `Deployment`, `worker`).status, `unauthorized`);
  });

  test(`a custom ServiceAccount without secrets gives no-credentials`, () => {
    assert.equal(row(run.report, `Deployment`, `batch`).status, `no-credentials`);
  });

  test(`a missing ServiceAccount is reported: pod creation would be refused`, () => {
    assert.equal(row(run.report, `Deployment`, `ghost`).status, `serviceaccount-missing`);
  });

  test(`a missing only secret is secret-missing`, () => {
    assert.equal(row(run.report, `Deployment`, `lost`).status, `secret-missing`);
  });

  test(`a missing secret next to a working one is skipped with a warning, as the kubelet does`, () => {
    const result = row(run.report, `Deployment`, `partly`);
    assert.equal(result.status, `ok`);
    assert.ok(result.warnings.some(warning => /web\/gone not found/.test(warning)), JSON.stringify(result.warnings));
  });

  test(`an undecodable secret breaks the pod even though the next secret works`, () => {
    assert.equal(row(run.report, `StatefulSet`, `db`).status, `secret-invalid`);
  });

  test(`a referenced Opaque secret is read although only pull-secret types are listed, and the kubelet ignores it`, () => {
    const result = row(run.report, `Deployment`, `opaque-user`);
    assert.equal(result.status, `no-credentials`);
    assert.ok(result.warnings.some(warning => /web\/opaque is ignored by the kubelet/.test(warning)), JSON.stringify(result.warnings));
  });

  test(`a running pod identical to its template is folded into the template's row`, () => {
    assert.equal(run.report.results.some(result => result.kind === `Pod` && result.name === `db-0`), false);
  });

  test(`a CronJob's missing tag is not-found`, () => {
    assert.equal(row(run.report, `CronJob`, `nightly`).status, `not-found`);
  });

  test(`an uppercase repository is invalid-image`, () => {
    assert.equal(row(run.report, `DaemonSet`, `agent`).status, `invalid-image`);
  });

  test(`no password appears anywhere in the output`, () => {
    assert.doesNotMatch(run.stdout + run.stderr, new RegExp(`${PASSWORD}|not-the-password`));
  });

  test(`each row names the context`, () => {
    assert.ok(run.report.results.every(result => result.context === `admin`));
  });
});

describe(`verify, other scopes and modes`, () => {
  test(`a running pod created before its ServiceAccount got the secret keeps failing and warns about the drift`, async () => {
    const {report} = await verify([`-n`, `drift`]);
    const result = row(report, `Pod`, `old`);
    assert.equal(result.status, `no-credentials`);
    assert.ok(result.warnings.some(warning => /now lists regcred, which this pod lacks/.test(warning)), JSON.stringify(result.warnings));
  });

  test(`a token-mode registry credential from a secret's auth field is ok`, async () => {
    const {code, report} = await verify([`-n`, `tok`]);
    assert.equal(code, 0);
    assert.equal(row(report, `Deployment`, `svc`).status, `ok`);
  });

  test(`-A reads each kind with one cluster-wide list, never one request per namespace`, async () => {
    api.resetRequests();
    const {report} = await verify([`-A`]);
    assert.ok(report.results.length >= 10);
    const lists = api.requests.filter(request => request.verb === `list`);
    assert.equal(lists.filter(request => request.namespace !== undefined && request.namespace !== ``).length, 0, JSON.stringify(lists.map(request => request.path)));
    for (const resource of [`pods`, `deployments`, `serviceaccounts`, `cronjobs`])
      assert.equal(lists.filter(request => request.resource === resource).length, 1, resource);
    // Secrets: one list per pull-secret type, never every secret of the cluster.
    const secretLists = lists.filter(request => request.resource === `secrets`);
    assert.equal(secretLists.length, 2);
    assert.deepEqual(secretLists.map(request => (request.query as Record<string, string>).fieldSelector).sort(), [`type=kubernetes.io/dockercfg`, `type=kubernetes.io/dockerconfigjson`]);
  });

  test(`a user who cannot read secrets gets a note per secret instead of an abort`, async () => {
    const tokenValue = api.addUser(`nosecrets`, [{verbs: [`get`, `list`], resources: [`pods`, `serviceaccounts`, `namespaces`, `deployments`, `statefulsets`, `daemonsets`, `replicasets`, `jobs`, `cronjobs`, `replicationcontrollers`], apiGroups: [`*`]}]);
    assert.ok(tokenValue);
    const result = await runCli([`verify`, `--kubeconfig`, api.kubeconfigPath, `--context`, `nosecrets`, `-n`, `web`, `-o`, `json`]);
    const report = JSON.parse(result.stdout) as Report;
    const api_ = row(report, `Deployment`, `api`);
    assert.ok(api_.warnings.includes(`cannot read secret web/regcred: forbidden; its credentials were not checked`), JSON.stringify(api_.warnings));
    assert.equal(row(report, `Deployment`, `api`, `init`).status, `ok-anonymous`);
  });

  test(`the table groups rows by namespace and workload`, async () => {
    const result = await runCli([`verify`, `--kubeconfig`, api.kubeconfigPath, `-n`, `web`]);
    const lines = result.stdout.split(`\n`);
    const apiRows = lines.filter(line => line.includes(`deployment/api`));
    assert.equal(apiRows.length, 1, `the workload cell is printed once for its two containers`);
    assert.equal(lines.filter(line => /^web\s/.test(line)).length, 1, `the namespace cell is printed once`);
    assert.match(lines.filter(line => line !== ``).at(-1)!, /images checked: \d+ pullable, \d+ failing/);
  });

  test(`-l limits the check to matching workloads and pods`, async () => {
    const {report} = await verify([`-n`, `web`, `-l`, `app=worker`]);
    assert.deepEqual([...new Set(report.results.map(result => `${result.kind}/${result.name}`))], [`Deployment/worker`]);
  });

  test(`statuses are coloured on a colour terminal only`, async () => {
    const plain = await runCli([`verify`, `--kubeconfig`, api.kubeconfigPath, `-n`, `tok`]);
    assert.doesNotMatch(plain.stdout, /\u001b\[/);
    const coloured = await runCli([`verify`, `--kubeconfig`, api.kubeconfigPath, `-n`, `tok`], {context: {colorDepth: 24}});
    assert.match(coloured.stdout, /\u001b\[32mok\u001b\[0m/);
  });

  test(`several --context flags label each row with its context`, async () => {
    const {report} = await verify([`--context`, `admin`, `--context`, `readonly`, `-n`, `tok`]);
    assert.deepEqual(report.results.map(result => result.context).sort(), [`admin`, `readonly`]);
  });

  test(`an unreachable cluster exits 3`, async () => {
    const kubeconfig = path.join(tmp, `dead.yaml`);
    fs.writeFileSync(kubeconfig, `apiVersion: v1\nkind: Config\nclusters:\n- name: dead\n  cluster:\n    server: https://127.0.0.1:1\ncontexts:\n- name: dead\n  context:\n    cluster: dead\n    user: dead\ncurrent-context: dead\nusers:\n- name: dead\n  user:\n    token: x\n`);
    const result = await runCli([`verify`, `--kubeconfig`, kubeconfig, `-n`, `web`, `--request-timeout`, `2s`]);
    assert.equal(result.code, 3);
    assert.match(result.stderr, /^error: /);
  });

  test(`--image with --secret reads the secret from the cluster`, async () => {
    const {code, report} = await verify([`-n`, `web`, `--image`, `${basic.host}/team/app:v1`, `--secret`, `regcred`]);
    assert.equal(code, 0);
    assert.equal(report.results[0]!.credential?.source, `web/regcred`);
  });
});

describe(`verify -f (manifests)`, () => {
  const release = () => [
    `apiVersion: v1\nkind: Namespace\nmetadata:\n  name: release\n`,
    `apiVersion: v1\nkind: Secret\nmetadata:\n  name: relcred\n  namespace: release\ntype: kubernetes.io/dockerconfigjson\nstringData:\n  .dockerconfigjson: '${JSON.stringify({auths: {[basic.host]: {username: `alice`, password: PASSWORD}}})}'\n`,
    `apiVersion: apps/v1\nkind: Deployment\nmetadata:\n  name: front\n  namespace: release\nspec:\n  template:\n    spec:\n      imagePullSecrets:\n      - name: relcred\n      containers:\n      - name: app\n        image: ${basic.host}/team/app:v1\n`,
    `apiVersion: batch/v1\nkind: Job\nmetadata:\n  name: migrate\n  namespace: release\nspec:\n  template:\n    spec:\n      containers:\n      - name: app\n        image: ${basic.host}/team/app:v1\n`,
  ].join(`---\n`);

  test(`a multi-document file counts the secrets it defines and checks each workload`, async () => {
    const file = path.join(tmp, `release.yaml`);
    fs.writeFileSync(file, release());
    const {code, report} = await verify([`-f`, file]);
    assert.equal(code, 1);
    assert.equal(row(report, `Deployment`, `front`).status, `ok`);
    assert.equal(row(report, `Deployment`, `front`).credential?.source, `release/relcred`);
    assert.equal(row(report, `Job`, `migrate`).status, `no-credentials`);
    assert.equal(report.results.length, 2);
  });

  test(`a List from stdin lands in the -n namespace and uses the cluster's ServiceAccount`, async () => {
    const list = {apiVersion: `v1`, kind: `List`, items: [{apiVersion: `apps/v1`, kind: `Deployment`, metadata: {name: `from-stdin`}, spec: {template: {spec: spec(`${basic.host}/team/app:v1`)}}}]};
    const {code, report} = await verify([`-n`, `web`, `-f`, `-`], {stdin: JSON.stringify(list)});
    assert.equal(code, 0);
    const result = row(report, `Deployment`, `from-stdin`);
    assert.equal(result.namespace, `web`);
    assert.equal(result.credential?.source, `web/regcred`);
  });

  test(`a directory is read file by file`, async () => {
    const dir = path.join(tmp, `dir`);
    fs.mkdirSync(dir);
    fs.writeFileSync(path.join(dir, `a.yaml`), release());
    fs.writeFileSync(path.join(dir, `README.md`), `not a manifest`);
    const {report} = await verify([`-f`, dir]);
    assert.equal(report.results.length, 2);
  });

  test(`malformed YAML is an input error (exit 2) naming the file`, async () => {
    const file = path.join(tmp, `bad.yaml`);
    fs.writeFileSync(file, `kind: Deployment\nmetadata: [unclosed\n`);
    const result = await runCli([`verify`, `--kubeconfig`, api.kubeconfigPath, `-f`, file]);
    assert.equal(result.code, 2);
    assert.match(result.stderr, /^error: .*bad\.yaml/);
  });
});

// A release gate must not pass on what it could not read.
describe(`verify table warnings`, () => {
  // Three workloads in one namespace use a secret whose entry for the registry holds only an identity token.
  before(() => {
    api.seed.namespace(`noisy`);
    api.seed.secret(`noisy`, pullSecret(`idcred`, {[token.host]: {identitytoken: `refresh-token-value`}}));
    for (const name of [`one`, `two`, `three`])
      api.seed.workload(`Deployment`, `noisy`, name, spec(`${token.host}/public/tool:v1`, {imagePullSecrets: [{name: `idcred`}]}));
  });

  test(`a warning shared by several rows of a namespace is printed once in the table, with the number of rows`, async () => {
    const {report} = await verify([`-n`, `noisy`]);
    const shared = report.results[0]!.warnings.find(warning => /identity ?token/i.test(warning));
    assert.ok(shared, JSON.stringify(report.results[0]));
    const result = await runCli([`verify`, `--kubeconfig`, api.kubeconfigPath, `-n`, `noisy`]);
    const warningLines = result.stdout.split(`\n`).filter(line => line.includes(shared));
    assert.deepEqual(warningLines, [`    warning: ${shared} (3 rows in namespace noisy)`], result.stdout);
    assert.doesNotMatch(result.stdout, /refresh-token-value/);
  });

  test(`-o json keeps the warning on every result that has it`, async () => {
    const {report} = await verify([`-n`, `noisy`]);
    assert.equal(report.results.length, 3);
    for (const result of report.results)
      assert.ok(result.warnings.some(warning => /identity ?token/i.test(warning)), JSON.stringify(result));
  });

  test(`a warning shared across namespaces is printed once in each namespace, and a one-row warning stays under its row`, async () => {
    api.seed.namespace(`noisy-b`);
    api.seed.secret(`noisy-b`, pullSecret(`idcred`, {[token.host]: {identitytoken: `refresh-token-value`}}));
    api.seed.workload(`Deployment`, `noisy-b`, `solo`, spec(`${token.host}/public/tool:v1`, {imagePullSecrets: [{name: `idcred`}]}));
    const result = await runCli([`verify`, `--kubeconfig`, api.kubeconfigPath, `--namespaces`, `noisy,noisy-b`]);
    const lines = result.stdout.split(`\n`);
    const warnings = (namespace: string) => lines.filter(line => line.startsWith(`    warning:`) && line.includes(`${namespace}/idcred`));
    assert.ok(warnings(`noisy`).length > 0, result.stdout);
    for (const line of warnings(`noisy`))
      assert.match(line, /\(3 rows in namespace noisy\)$/);
    // The same texts for noisy-b (one row there): under the row, without a count.
    const solo = lines.findIndex(line => line.includes(`deployment/solo`));
    assert.equal(warnings(`noisy-b`).length, warnings(`noisy`).length, result.stdout);
    assert.deepEqual(lines.slice(solo + 1, solo + 1 + warnings(`noisy-b`).length), warnings(`noisy-b`), result.stdout);
    for (const line of warnings(`noisy-b`))
      assert.doesNotMatch(line, /rows in namespace/);
  });
});

describe(`verify over a namespace that was named but does not exist`, () => {
  const namespaceRequests = () => api.requests.filter(request => request.resource === `namespaces`);

  test(`-n with a namespace that does not exist checks nothing: one error line naming it, and exit 1`, async () => {
    const result = await runCli([`verify`, `--kubeconfig`, api.kubeconfigPath, `-n`, `typo`]);
    assert.equal(result.code, 1, result.stdout);
    assert.equal(result.stdout, ``);
    assert.equal(result.stderr, `error: namespace "typo" not found: nothing was verified; check the name with kubectl get namespaces\n`);
  });

  test(`--namespaces with only missing namespaces names them all in one error line`, async () => {
    const result = await runCli([`verify`, `--kubeconfig`, api.kubeconfigPath, `--namespaces`, `typo,other-typo`, `-o`, `json`]);
    assert.equal(result.code, 1, result.stdout);
    assert.equal(result.stdout, ``);
    assert.match(result.stderr, /^error: namespaces "typo", "other-typo" not found: nothing was verified/);
  });

  test(`--namespaces with one missing namespace checks the others, notes the missing one and exits 1`, async () => {
    const {code, report} = await verify([`--namespaces`, `tok,typo`]);
    assert.equal(code, 1);
    assert.equal(row(report, `Deployment`, `svc`).status, `ok`);
    assert.ok(report.summary.notes.includes(`namespace "typo" not found: nothing in it was checked, so verify exits 1`), JSON.stringify(report.summary.notes));
  });

  test(`an existing namespace without workloads still passes, with no note`, async () => {
    api.seed.namespace(`quiet`);
    const result = await runCli([`verify`, `--kubeconfig`, api.kubeconfigPath, `-n`, `quiet`]);
    assert.equal(result.code, 0, result.stderr);
    assert.match(result.stdout, /^no workloads or pods to check$/m);
    assert.doesNotMatch(result.stdout, /^note:/m);
  });

  test(`a namespace with workloads is not looked up: no namespace request on the normal path`, async () => {
    api.resetRequests();
    const {code} = await verify([`-n`, `tok`]);
    assert.equal(code, 0);
    assert.deepEqual(namespaceRequests(), []);
  });

  test(`when the namespace cannot be read, an empty result passes as before with a note that its existence was not checked`, async () => {
    const workloadResources = [`deployments`, `statefulsets`, `daemonsets`, `replicasets`, `jobs`, `cronjobs`, `replicationcontrollers`];
    api.addUser(`listonly`, [{verbs: [`list`], resources: [`pods`, `serviceaccounts`, `secrets`, ...workloadResources], apiGroups: [`*`]}]);
    const result = await runCli([`verify`, `--kubeconfig`, api.kubeconfigPath, `--context`, `listonly`, `-n`, `typo`]);
    assert.equal(result.code, 0, result.stderr);
    assert.match(result.stdout, /^note: nothing to check in namespace typo, and whether it exists could not be checked \(get namespaces is forbidden\)$/m);
  });
});

describe(`verify without the permissions it needs`, () => {
  const workloadResources = [`deployments`, `statefulsets`, `daemonsets`, `replicasets`, `jobs`, `cronjobs`, `replicationcontrollers`];
  const table = (context: string, args: string[]) => runCli([`verify`, `--kubeconfig`, api.kubeconfigPath, `--context`, context, ...args]);

  test(`a user who may list nothing in the namespace gets one error line naming the refused list, and exit 1`, async () => {
    api.addUser(`nothing`, []);
    const result = await table(`nothing`, [`-n`, `tok`]);
    assert.equal(result.code, 1, result.stderr);
    assert.equal(result.stdout, ``);
    assert.equal(result.stderr, `error: verify could list no pods and no workloads: cannot list pods in namespace "tok": forbidden for user "nothing" (needs RBAC verb "list" on "pods" in namespace "tok"); ask a cluster admin or use a context with more rights\n`);
  });

  test(`a user with rights in another namespace only is refused the same way, naming the namespace`, async () => {
    api.addUser(`elsewhere`, [{verbs: [`*`], resources: [`*`], apiGroups: [`*`], namespaces: [`web`]}]);
    const result = await table(`elsewhere`, [`-n`, `tok`, `-o`, `json`]);
    assert.equal(result.code, 1);
    assert.equal(result.stdout, ``);
    assert.match(result.stderr, /^error: verify could list no pods and no workloads: cannot list pods in namespace "tok": forbidden/);
  });

  test(`a kind that cannot be listed is noted, the rest is checked, and the incomplete check exits 1 although every row is ok`, async () => {
    const everything = [`pods`, `serviceaccounts`, `secrets`, ...workloadResources];
    api.addUser(`nopods`, [{verbs: [`list`, `get`], resources: everything.filter(resource => resource !== `pods` && resource !== `cronjobs`), apiGroups: [`*`]}]);
    const admin = await verify([`-n`, `tok`]);
    assert.equal(admin.code, 0);
    const result = await runCli([`verify`, `--kubeconfig`, api.kubeconfigPath, `--context`, `nopods`, `-n`, `tok`, `-o`, `json`]);
    assert.equal(result.code, 1, result.stderr);
    const report = JSON.parse(result.stdout) as Report;
    assert.equal(row(report, `Deployment`, `svc`).status, `ok`);
    assert.deepEqual(report.summary.notes, [
      `cannot list pods: forbidden`,
      `cannot list cronjobs: forbidden`,
      `the check is incomplete: what could not be read (see above) was not verified, so verify exits 1`,
    ]);
  });

  test(`a refused list of secrets is noted once, not once per pull-secret type`, async () => {
    api.addUser(`getsecrets`, [
      {verbs: [`list`], resources: [`pods`, `serviceaccounts`, ...workloadResources], apiGroups: [`*`]},
      {verbs: [`get`], resources: [`secrets`], apiGroups: [``]},
    ]);
    const result = await table(`getsecrets`, [`-n`, `tok`]);
    assert.equal(result.stdout.match(/^note: cannot list secrets: forbidden$/gm)?.length, 1, result.stdout);
    // The secrets the workloads use were read one by one: nothing is missing, so this check is complete.
    assert.equal(result.code, 0, result.stdout);
  });

  test(`a referenced secret that cannot be read makes the check incomplete even when the image pulls anonymously`, async () => {
    api.seed.namespace(`anon`);
    api.seed.workload(`Deployment`, `anon`, `tool`, spec(`${token.host}/public/tool:v1`, {imagePullSecrets: [{name: `hidden`}]}));
    api.addUser(`nosecrets-anon`, [{verbs: [`list`], resources: [`pods`, `serviceaccounts`, ...workloadResources], apiGroups: [`*`]}]);
    const admin = await verify([`-n`, `anon`]);
    assert.equal(row(admin.report, `Deployment`, `tool`).status, `ok-anonymous`);
    const result = await runCli([`verify`, `--kubeconfig`, api.kubeconfigPath, `--context`, `nosecrets-anon`, `-n`, `anon`, `-o`, `json`]);
    const report = JSON.parse(result.stdout) as Report;
    assert.ok(row(report, `Deployment`, `tool`).warnings.includes(`cannot read secret anon/hidden: forbidden; its credentials were not checked`));
    assert.equal(result.code, 1, `the unreadable secret could be undecodable or hold a rejected credential`);
  });

  test(`with --namespaces, a namespace whose lists are refused is noted by name while the others are checked`, async () => {
    api.addUser(`tokonly`, [{verbs: [`list`, `get`], resources: [`*`], apiGroups: [`*`], namespaces: [`tok`]}]);
    const result = await runCli([`verify`, `--kubeconfig`, api.kubeconfigPath, `--context`, `tokonly`, `--namespaces`, `tok,drift`, `-o`, `json`]);
    assert.equal(result.code, 1, result.stderr);
    const report = JSON.parse(result.stdout) as Report;
    assert.equal(row(report, `Deployment`, `svc`).status, `ok`);
    assert.ok(report.summary.notes.includes(`cannot list pods in namespace drift: forbidden`), JSON.stringify(report.summary.notes));
  });

  test(`over more than 8 namespaces with a Role in each, a refused cluster-wide list falls back to one list per namespace`, async () => {
    const names = Array.from({length: 9}, (_, index) => `many-${index}`);
    for (const name of names) {
      api.seed.namespace(name);
      api.seed.secret(name, pullSecret(`regcred`, {[basic.host]: {username: `alice`, password: PASSWORD}}));
      api.seed.workload(`Deployment`, name, `app`, spec(`${basic.host}/team/app:v1`, {imagePullSecrets: [{name: `regcred`}]}));
    }
    api.addUser(`manyroles`, [{verbs: [`list`], resources: [`pods`, `serviceaccounts`, `secrets`, ...workloadResources], apiGroups: [`*`], namespaces: names}]);
    const admin = await verify([`--namespaces`, names.join(`,`)]);
    api.resetRequests();
    const result = await runCli([`verify`, `--kubeconfig`, api.kubeconfigPath, `--context`, `manyroles`, `--namespaces`, names.join(`,`), `-o`, `json`]);
    assert.equal(result.code, 0, result.stdout + result.stderr);
    const report = JSON.parse(result.stdout) as Report;
    const strip = (results: Result[]) => results.map(({context: _context, ...rest}) => rest);
    assert.deepEqual(strip(report.results), strip(admin.report.results));
    assert.equal(report.results.length, 9);
    assert.deepEqual(report.summary.notes, []);
    const podLists = api.requests.filter(request => request.verb === `list` && request.resource === `pods`);
    assert.equal(podLists.filter(request => request.namespace === undefined || request.namespace === ``).length, 1, `one cluster-wide try`);
    assert.equal(podLists.filter(request => names.includes(request.namespace ?? ``)).length, 9, `then one list per namespace`);
  });

  test(`-f whose manifests hold no workload and no pod checks nothing: exit 1 with one error line`, async () => {
    const file = path.join(tmp, `no-workloads.yaml`);
    fs.writeFileSync(file, `apiVersion: example.com/v1\nkind: Frobnicator\nmetadata:\n  name: api\n---\napiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: settings\n`);
    api.resetRequests();
    const result = await runCli([`verify`, `--kubeconfig`, api.kubeconfigPath, `-n`, `web`, `-f`, file]);
    assert.equal(result.code, 1);
    assert.equal(result.stdout, ``);
    assert.equal(result.stderr, `error: nothing to verify: ${file} holds no Pod and no workload (Deployment, StatefulSet, DaemonSet, ReplicaSet, ReplicationController, Job, CronJob), only Frobnicator/api, ConfigMap/settings; pass the manifests that define the pods\n`);
    assert.equal(api.requests.length, 0, `nothing is asked of the cluster`);
  });
});
