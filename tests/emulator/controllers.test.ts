/**
 * The emulator's controllers and status subresource judged by the real kubectl: what `kubectl rollout restart`,
 * `kubectl delete pod`, `kubectl create job --from=cronjob/…`, `kubectl patch --subresource=status`,
 * `kubectl get` and `kubectl describe` show is what they show on a real cluster. No node runs here: the tests
 * write pod status themselves through the subresource, as a kubelet does.
 */
import {test, before, after} from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import {startApiEmulator, templateHash, type ApiEmulator} from '../helpers/apiEmulator/index.ts';
import {requireKubectl, runKubectl} from '../helpers/apiEmulator/kubectl.ts';

let api: ApiEmulator;
let tmp: string;
let counter = 0;

before(async () => {
  requireKubectl();
  api = await startApiEmulator({controllers: true});
  tmp = fs.mkdtempSync(path.join(os.tmpdir(), `kubectl-controllers-`));
});
after(async () => {
  await api?.stop();
  if (tmp)
    fs.rmSync(tmp, {recursive: true, force: true});
});

function freshNamespace(): string {
  const name = `c-${++counter}`;
  api.seed.namespace(name);
  return name;
}

async function kubectl(...args: string[]): Promise<string> {
  const result = await runKubectl(args, {kubeconfig: api.kubeconfigPath});
  assert.equal(result.code, 0, `kubectl ${args.join(` `)} failed: ${result.stderr}`);
  await api.settled();
  return result.stdout;
}

async function apply(ns: string, obj: unknown): Promise<void> {
  const file = path.join(tmp, `${++counter}.json`);
  fs.writeFileSync(file, JSON.stringify(obj));
  await kubectl(`apply`, `-f`, file, `-n`, ns);
}

const podSpec = {containers: [{name: `app`, image: `registry.example.com/team/app:1.0`}]};
const deployment = (name: string, replicas = 1, spec: any = podSpec) => ({apiVersion: `apps/v1`, kind: `Deployment`, metadata: {name}, spec: {replicas, selector: {matchLabels: {app: name}}, template: {metadata: {labels: {app: name}}, spec}}});

/** What a kubelet writes once a pod's containers run, sent with kubectl through the status subresource. */
async function markRunning(ns: string, pod: string): Promise<void> {
  const status = {status: {phase: `Running`, conditions: [{type: `Ready`, status: `True`}, {type: `ContainersReady`, status: `True`}], containerStatuses: [{name: `app`, image: podSpec.containers[0]!.image, imageID: ``, ready: true, restartCount: 0, started: true, state: {running: {startedAt: `2026-01-01T00:00:00Z`}}}]}};
  assert.equal(await kubectl(`patch`, `pod`, pod, `-n`, ns, `--subresource=status`, `--type=merge`, `-p`, JSON.stringify(status)), `pod/${pod} patched\n`);
}

const names = (resource: string, ns: string) => api.objects(resource, ns).map(o => o.metadata.name).sort();

test(`a Deployment gets a ReplicaSet named after its pod-template-hash, whose pods kubectl lists as Pending until a node runs them`, async () => {
  const ns = freshNamespace();
  await apply(ns, deployment(`web`, 2));
  const hash = templateHash(api.getObject(`deployments`, ns, `web`).spec.template);
  const rs = await kubectl(`get`, `rs`, `-n`, ns, `-o`, `jsonpath={range .items[*]}{.metadata.name} {.metadata.labels.pod-template-hash} {.metadata.ownerReferences[0].kind}/{.metadata.ownerReferences[0].name} {.metadata.annotations.deployment\\.kubernetes\\.io/revision}{"\\n"}{end}`);
  assert.equal(rs, `web-${hash} ${hash} Deployment/web 1\n`);
  const pods = (await kubectl(`get`, `pods`, `-n`, ns, `--no-headers`)).trim().split(`\n`);
  assert.equal(pods.length, 2);
  for (const line of pods)
    assert.match(line, new RegExp(`^web-${hash}-[bcdfghjklmnpqrstvwxz2456789]{5}\\s+0/1\\s+Pending\\s+0\\s`));
  const pod = api.objects(`pods`, ns)[0];
  assert.deepEqual(pod.metadata.labels, {app: `web`, 'pod-template-hash': hash});
  assert.equal(pod.metadata.ownerReferences[0].name, `web-${hash}`);
  assert.equal(pod.spec.nodeName, `emulator-node`, `the scheduler bound it`);
  assert.equal(pod.spec.serviceAccountName, `default`);
});

test(`kubectl rollout restart makes a new ReplicaSet; the old pods stay until the new ones are Ready, then go`, async () => {
  const ns = freshNamespace();
  await apply(ns, deployment(`web`));
  const [oldPod] = names(`pods`, ns);
  assert.equal(await kubectl(`rollout`, `restart`, `deployment/web`, `-n`, ns), `deployment.apps/web restarted\n`);
  const replicaSets = api.objects(`replicasets`, ns);
  assert.equal(replicaSets.length, 2);
  const fresh = replicaSets.find(rs => rs.metadata.annotations[`deployment.kubernetes.io/revision`] === `2`)!;
  assert.ok(fresh.spec.template.metadata.annotations[`kubectl.kubernetes.io/restartedAt`]);
  const newPods = names(`pods`, ns).filter(n => n !== oldPod);
  assert.equal(newPods.length, 1);
  assert.ok(names(`pods`, ns).includes(oldPod!), `the old pod waits for the new one to be Ready (maxUnavailable 0 for one replica)`);
  await markRunning(ns, newPods[0]!);
  assert.deepEqual(names(`pods`, ns), newPods, `the old pod is gone once the new one is Ready`);
  const table = await kubectl(`get`, `rs`, `-n`, ns, `--no-headers`);
  assert.match(table, new RegExp(`^${fresh.metadata.name}\\s+1\\s+1\\s+1\\s`, `m`));
  assert.match(table, /\s+0\s+0\s+0\s/);
  assert.match(await kubectl(`get`, `deployment`, `web`, `-n`, ns, `--no-headers`), /^web\s+1\/1\s+1\s+1\s/);
});

test(`kubectl delete pod of an owned pod gets a replacement with a new name and the same owner`, async () => {
  const ns = freshNamespace();
  await apply(ns, deployment(`web`));
  const [first] = api.objects(`pods`, ns);
  assert.equal(await kubectl(`delete`, `pod`, first.metadata.name, `-n`, ns), `pod "${first.metadata.name}" deleted\n`);
  const [second] = api.objects(`pods`, ns);
  assert.notEqual(second.metadata.name, first.metadata.name);
  assert.deepEqual(second.metadata.ownerReferences, first.metadata.ownerReferences);
});

test(`pods of a workload go through ServiceAccount admission: the SA's pull secrets are copied, a missing SA is a FailedCreate until it exists`, async () => {
  const ns = freshNamespace();
  await kubectl(`create`, `serviceaccount`, `puller`, `-n`, ns);
  await kubectl(`patch`, `serviceaccount`, `puller`, `-n`, ns, `-p`, `{"imagePullSecrets":[{"name":"regcred"}]}`);
  await apply(ns, deployment(`with-sa`, 1, {...podSpec, serviceAccountName: `puller`}));
  await apply(ns, deployment(`own-list`, 1, {...podSpec, serviceAccountName: `puller`, imagePullSecrets: [{name: `mine`}]}));
  await apply(ns, deployment(`no-sa`, 1, {...podSpec, serviceAccountName: `ghost`}));
  const pods = api.objects(`pods`, ns);
  assert.deepEqual(pods.find(p => p.metadata.labels.app === `with-sa`).spec.imagePullSecrets, [{name: `regcred`}]);
  assert.deepEqual(pods.find(p => p.metadata.labels.app === `own-list`).spec.imagePullSecrets, [{name: `mine`}]);
  assert.equal(pods.filter(p => p.metadata.labels.app === `no-sa`).length, 0);
  const rs = api.objects(`replicasets`, ns).find(r => r.metadata.name.startsWith(`no-sa-`))!;
  const described = await kubectl(`describe`, `rs`, rs.metadata.name, `-n`, ns);
  assert.ok(described.includes(`FailedCreate`), described);
  assert.ok(described.includes(`Error creating: pods "${rs.metadata.name}-" is forbidden: error looking up service account ${ns}/ghost: serviceaccount "ghost" not found`), described);
  await kubectl(`create`, `serviceaccount`, `ghost`, `-n`, ns);
  assert.equal(api.objects(`pods`, ns).filter(p => p.metadata.labels.app === `no-sa`).length, 1);
});

test(`the pods/status subresource: kubectl patch --subresource=status changes only status, a main-resource patch cannot change it, kubectl get --subresource=status reads it`, async () => {
  const ns = freshNamespace();
  await kubectl(`run`, `solo`, `--image=registry.example.com/team/app:1.0`, `-n`, ns);
  await kubectl(`patch`, `pod`, `solo`, `-n`, ns, `--subresource=status`, `--type=merge`, `-p`, `{"status":{"phase":"Running"},"spec":{"activeDeadlineSeconds":5}}`);
  assert.equal(await kubectl(`get`, `pod`, `solo`, `-n`, ns, `--subresource=status`, `-o`, `jsonpath={.status.phase}`), `Running`);
  assert.equal(api.getObject(`pods`, ns, `solo`).spec.activeDeadlineSeconds, undefined, `spec is not written through status`);
  const mainPatch = await runKubectl([`patch`, `pod`, `solo`, `-n`, ns, `--type=merge`, `-p`, `{"status":{"phase":"Failed"}}`], {kubeconfig: api.kubeconfigPath});
  assert.equal(mainPatch.code, 0, mainPatch.stderr);
  assert.equal(mainPatch.stdout, `pod/solo patched (no change)\n`);
  assert.equal(api.getObject(`pods`, ns, `solo`).status.phase, `Running`);
});

test(`kubectl describe pod and kubectl get pods show the container state a node reported, with its events`, async () => {
  const ns = freshNamespace();
  await kubectl(`run`, `solo`, `--image=registry.example.com/team/app:1.0`, `-n`, ns);
  const image = `registry.example.com/team/app:1.0`;
  const waiting = {reason: `ImagePullBackOff`, message: `Back-off pulling image "${image}"`};
  await kubectl(`patch`, `pod`, `solo`, `-n`, ns, `--subresource=status`, `--type=merge`, `-p`, JSON.stringify({status: {phase: `Pending`, containerStatuses: [{name: `solo`, image, imageID: ``, ready: false, restartCount: 0, started: false, state: {waiting}}]}}));
  const pod = api.getObject(`pods`, ns, `solo`);
  api.local.event({kind: `Pod`, name: `solo`, namespace: ns, uid: pod.metadata.uid, fieldPath: `spec.containers{solo}`}, `Normal`, `BackOff`, waiting.message, `kubelet`, `emulator-node`);
  api.local.event({kind: `Pod`, name: `solo`, namespace: ns, uid: pod.metadata.uid, fieldPath: `spec.containers{solo}`}, `Normal`, `BackOff`, waiting.message, `kubelet`, `emulator-node`);
  assert.match(await kubectl(`get`, `pods`, `-n`, ns, `--no-headers`), /^solo\s+0\/1\s+ImagePullBackOff\s+0\s/);
  const described = await kubectl(`describe`, `pod`, `solo`, `-n`, ns);
  assert.match(described, /State:\s+Waiting\n\s+Reason:\s+ImagePullBackOff/);
  assert.match(described, /Node:\s+emulator-node\//);
  assert.match(described, /Normal\s+BackOff\s+\S+ \(x2 over \S+\)\s+kubelet\s+Back-off pulling image "registry\.example\.com\/team\/app:1\.0"/);
});

test(`a StatefulSet creates ordinal pods one at a time, each waiting for the previous to be Running and Ready`, async () => {
  const ns = freshNamespace();
  await apply(ns, {apiVersion: `apps/v1`, kind: `StatefulSet`, metadata: {name: `db`}, spec: {replicas: 2, serviceName: `db`, selector: {matchLabels: {app: `db`}}, template: {metadata: {labels: {app: `db`}}, spec: podSpec}}});
  assert.deepEqual(names(`pods`, ns), [`db-0`]);
  await markRunning(ns, `db-0`);
  assert.deepEqual(names(`pods`, ns), [`db-0`, `db-1`]);
  const pod = api.getObject(`pods`, ns, `db-1`);
  assert.equal(pod.metadata.labels[`statefulset.kubernetes.io/pod-name`], `db-1`);
  assert.match(pod.metadata.labels[`controller-revision-hash`], /^db-/);
});

test(`kubectl rollout restart of a StatefulSet replaces its pods from the highest ordinal, once all are Running and Ready`, async () => {
  const ns = freshNamespace();
  await apply(ns, {apiVersion: `apps/v1`, kind: `StatefulSet`, metadata: {name: `db`}, spec: {replicas: 2, serviceName: `db`, selector: {matchLabels: {app: `db`}}, template: {metadata: {labels: {app: `db`}}, spec: podSpec}}});
  await markRunning(ns, `db-0`);
  await markRunning(ns, `db-1`);
  const before = Object.fromEntries(api.objects(`pods`, ns).map(p => [p.metadata.name, p.metadata.uid]));
  assert.equal(await kubectl(`rollout`, `restart`, `statefulset/db`, `-n`, ns), `statefulset.apps/db restarted\n`);
  const after = Object.fromEntries(api.objects(`pods`, ns).map(p => [p.metadata.name, p.metadata.uid]));
  assert.equal(after[`db-0`], before[`db-0`], `db-0 waits`);
  assert.notEqual(after[`db-1`], before[`db-1`], `db-1 is replaced first`);
  await markRunning(ns, `db-1`);
  assert.notEqual(api.getObject(`pods`, ns, `db-0`).metadata.uid, before[`db-0`], `then db-0`);
});

test(`kubectl rollout restart of a DaemonSet replaces its pod with one of the new template revision`, async () => {
  const ns = freshNamespace();
  await apply(ns, {apiVersion: `apps/v1`, kind: `DaemonSet`, metadata: {name: `agent`}, spec: {selector: {matchLabels: {app: `agent`}}, template: {metadata: {labels: {app: `agent`}}, spec: podSpec}}});
  const [first] = api.objects(`pods`, ns);
  assert.equal(first.spec.nodeName, `emulator-node`);
  assert.equal(await kubectl(`rollout`, `restart`, `daemonset/agent`, `-n`, ns), `daemonset.apps/agent restarted\n`);
  const pods = api.objects(`pods`, ns);
  assert.equal(pods.length, 1);
  assert.notEqual(pods[0].metadata.name, first.metadata.name);
  assert.notEqual(pods[0].metadata.labels[`controller-revision-hash`], first.metadata.labels[`controller-revision-hash`]);
  assert.match(await kubectl(`get`, `ds`, `agent`, `-n`, ns, `--no-headers`), /^agent\s+1\s+1\s+0\s+1\s+0\s/);
});

test(`kubectl create job --from=cronjob/NAME makes a Job owned by the CronJob, and the Job a pod`, async () => {
  const ns = freshNamespace();
  await apply(ns, {apiVersion: `batch/v1`, kind: `CronJob`, metadata: {name: `nightly`}, spec: {schedule: `0 2 * * *`, jobTemplate: {spec: {template: {spec: {...podSpec, restartPolicy: `Never`}}}}}});
  assert.equal(await kubectl(`create`, `job`, `manual-1`, `--from=cronjob/nightly`, `-n`, ns), `job.batch/manual-1 created\n`);
  const job = api.getObject(`jobs`, ns, `manual-1`);
  assert.equal(job.metadata.ownerReferences[0].kind, `CronJob`);
  assert.equal(job.metadata.annotations[`cronjob.kubernetes.io/instantiate`], `manual`);
  assert.equal(job.spec.template.spec.containers[0].image, podSpec.containers[0]!.image);
  const [pod] = api.objects(`pods`, ns);
  assert.equal(pod.metadata.labels[`job-name`], `manual-1`);
  assert.match(pod.metadata.name, /^manual-1-[a-z0-9]{5}$/);
  assert.match(await kubectl(`get`, `jobs`, `-n`, ns, `--no-headers`), /^manual-1\s+Running\s+0\/1\s/);
});
