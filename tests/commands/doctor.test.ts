// doctor against the API emulator and real docker-registry instances: one namespace per scenario, covering every
// row of the seed recipe's "Common Issues" table plus the registry-side failures.
import assert from 'node:assert/strict';
import {execFile} from 'node:child_process';
import {promisify} from 'node:util';
import http from 'node:http';
import type {AddressInfo} from 'node:net';
import {after, before, describe, test} from 'node:test';
import {runCli} from '../helpers/runCli.ts';
import {startApiEmulator} from '../helpers/apiEmulator/index.ts';
import type {ApiEmulator} from '../helpers/apiEmulator/index.ts';
import {startRegistry} from '../helpers/registry/index.ts';
import {pluginBin, runPrinted} from '../helpers/printedCommand.ts';
import type {TestRegistry} from '../helpers/registry/index.ts';
import {b64} from '../helpers/encoding.ts';

type Diagnosis = {id: string; cause: string; fix: string[]; notes: string[]};
type DoctorReport = {summary: {failing: number; byDiagnosis: Record<string, number>}; pods: Array<{namespace: string; pod: string; container: string; status: string; events: string[]; diagnosis: Diagnosis}>};

const PASSWORD = `s3cret-doctor-pw`;
let api: ApiEmulator;
let basic: TestRegistry;
let tls: TestRegistry;
let limiter: http.Server;
let limitedHost: string;
let bin: ReturnType<typeof pluginBin>;

const pullSecret = (name: string, auths: Record<string, Record<string, unknown>>) =>
  ({metadata: {name}, type: `kubernetes.io/dockerconfigjson`, data: {'.dockerconfigjson': b64(JSON.stringify({auths}))}});
const spec = (image: string, extra: Record<string, unknown> = {}) => ({containers: [{name: `app`, image}], ...extra});

before(async () => {
  [api, basic, tls] = await Promise.all([
    startApiEmulator(),
    startRegistry({mode: `basic`, users: {alice: PASSWORD}}),
    startRegistry({mode: `tls`, users: {alice: PASSWORD}}),
  ]);
  await Promise.all([basic.push(`team/app`, `v1`), tls.push(`team/app`, `v1`)]);
  limiter = http.createServer((_request, response) => {
    response.writeHead(429, {'retry-after': `60`, 'content-type': `application/json`});
    response.end(`{"errors":[{"code":"TOOMANYREQUESTS","message":"slow down"}]}`);
  });
  await new Promise<void>(resolve => limiter.listen(0, `127.0.0.1`, resolve));
  limitedHost = `127.0.0.1:${(limiter.address() as AddressInfo).port}`;
  // A stand-in for the AWS CLI: prints a fresh ECR token (ECR's shape: base64 JSON with an expiration) on stdout.
  const token = b64(JSON.stringify({payload: `p`, datakey: `d`, version: `2`, type: `DATA_KEY`, expiration: Math.floor(Date.now() / 1000) + 12 * 3600}));
  bin = pluginBin({aws: `#!/bin/sh\n[ "$*" = "ecr get-login-password --region eu-west-1" ] || exit 9\necho ${token}\n`});
});

after(async () => {
  bin?.remove();
  await Promise.all([api?.stop(), basic?.stop(), tls?.stop(), new Promise(resolve => limiter ? limiter.close(resolve) : resolve(undefined))]);
});

const good = () => ({[basic.host]: {username: `alice`, password: PASSWORD}});
const image = () => `${basic.host}/team/app:v1`;

async function doctor(namespace: string, extra: string[] = []): Promise<{code: number; report: DoctorReport; stdout: string; stderr: string}> {
  const result = await runCli([`doctor`, `--kubeconfig`, api.kubeconfigPath, `-n`, namespace, `-o`, `json`, ...extra]);
  let report: DoctorReport;
  try {
    report = JSON.parse(result.stdout) as DoctorReport;
  } catch {
    assert.fail(`no JSON on stdout (exit ${result.code}): ${result.stderr}`);
  }
  assert.doesNotMatch(result.stdout + result.stderr, new RegExp(PASSWORD));
  return {code: result.code, report, stdout: result.stdout, stderr: result.stderr};
}

async function only(namespace: string): Promise<Diagnosis> {
  const {code, report} = await doctor(namespace);
  assert.equal(code, 1);
  assert.equal(report.pods.length, 1, JSON.stringify(report.pods));
  return report.pods[0]!.diagnosis;
}

/** A printed fix line that is a command (the others are instructions for what no command can do). */
const isCommand = (line: string) => /^(kubectl|aws) /.test(line);

/**
 * Runs every command of a fix exactly as printed, through a shell and real kubectl, with the variables the line asks
 * for and the password on stdin when it says it reads one; each must succeed (a `decode` of the broken secret
 * reports it with exit 1, which is what it is run for). Returns the instructions, which no command can carry out.
 */
async function runFix(diagnosis: Diagnosis, options: {env?: Record<string, string>; stdin?: string} = {}): Promise<string[]> {
  for (const line of diagnosis.fix.filter(isCommand)) {
    const stdin = /reads the password from stdin/.test(line) ? `${options.stdin ?? PASSWORD}\n` : ``;
    const result = await runPrinted(line, {bin: bin.dir, kubeconfig: api.kubeconfigPath, env: {REGISTRY_USERNAME: `alice`, ...options.env}, stdin});
    assert.equal(result.code, / decode /.test(line) ? 1 : 0, `${line}\n${result.stdout}${result.stderr}`);
    assert.doesNotMatch(result.stdout + result.stderr, new RegExp(PASSWORD));
  }
  return diagnosis.fix.filter(line => !isCommand(line));
}

describe(`doctor`, () => {
  test(`exits 0 and says so when no pod is failing`, async () => {
    api.seed.namespace(`calm`);
    api.seed.pod(`calm`, `fine`, spec(image()));
    const result = await runCli([`doctor`, `--kubeconfig`, api.kubeconfigPath, `-n`, `calm`]);
    assert.equal(result.code, 0);
    assert.equal(result.stdout, ``);
    assert.match(result.stderr, /no pod is failing to pull its images in namespace calm/);
  });

  test(`missing imagePullSecrets with a usable secret in the namespace: attach it to the pod's ServiceAccount`, async () => {
    api.seed.namespace(`d-attach`);
    api.seed.secret(`d-attach`, pullSecret(`regcred`, good()));
    api.seed.pod(`d-attach`, `p`, spec(image()), {waiting: `ImagePullBackOff`});
    const diagnosis = await only(`d-attach`);
    assert.equal(diagnosis.id, `missing-pull-secrets`);
    assert.equal(diagnosis.fix[0], `kubectl pullsecret attach regcred -n d-attach --service-account default`);
    assert.deepEqual(await runFix(diagnosis), [`re-create pod p from its manifest (kubectl delete pod p -n d-attach, then apply the manifest again); a bare pod is not replaced by anyone`]);
    assert.equal((await only(`d-attach`)).id, `pod-predates-serviceaccount-change`);
  });

  test(`no credentials anywhere for the registry: add a secret and attach it`, async () => {
    api.seed.namespace(`d-none`);
    api.seed.pod(`d-none`, `p`, spec(`${tls.host}/team/app:v1`), {waiting: `ErrImagePull`});
    const {report} = await doctor(`d-none`, [`--certificate-authority`, tls.caFile!]);
    const {diagnosis} = report.pods[0]!;
    assert.equal(diagnosis.id, `missing-pull-secrets`);
    assert.deepEqual(diagnosis.fix.slice(0, 2), [
      `kubectl pullsecret add regcred -n d-none --docker-server ${tls.host} --docker-username "$REGISTRY_USERNAME" --docker-password-stdin  # set REGISTRY_USERNAME first; reads the password from stdin`,
      `kubectl pullsecret attach regcred -n d-none --service-account default`,
    ]);
    await runFix(diagnosis);
    assert.equal((await doctor(`d-none`, [`--certificate-authority`, tls.caFile!])).report.pods[0]!.diagnosis.id, `pod-predates-serviceaccount-change`);
  });

  test(`a pod that lists its own imagePullSecrets is fixed through its workload's template, never its ServiceAccount`, async () => {
    api.seed.namespace(`d-own`);
    api.seed.namespace(`ci-own`);
    api.seed.secret(`d-own`, pullSecret(`regcred`, good()));
    api.seed.secret(`ci-own`, pullSecret(`regcred`, good()));
    const own = spec(image(), {imagePullSecrets: [{name: `ghost`}]});
    const deployment = api.seed.workload(`Deployment`, `d-own`, `web`, own);
    const replicaSet = api.seed.workload(`ReplicaSet`, `d-own`, `web-5d8`, own, {ownerReferences: [{apiVersion: `apps/v1`, kind: `Deployment`, name: `web`, uid: deployment.metadata.uid, controller: true}]});
    api.seed.pod(`d-own`, `web-5d8-x`, own, {waiting: `ImagePullBackOff`, ownerReferences: [{apiVersion: `apps/v1`, kind: `ReplicaSet`, name: `web-5d8`, uid: replicaSet.metadata.uid, controller: true}]});
    const diagnosis = await only(`d-own`);
    assert.equal(diagnosis.id, `secret-not-found`);
    // True of the namespace: it holds a matching secret, so "exists only in namespace ci-own" would be false.
    assert.equal(diagnosis.cause, `the pod lists secret ghost, which does not exist in namespace d-own; secret regcred in the same namespace holds credentials for ${basic.host}`);
    assert.deepEqual(diagnosis.fix, [`kubectl pullsecret attach regcred -n d-own --workload deployment/web  # the pod lists its own imagePullSecrets, so its ServiceAccount's never reach it`]);
    await runFix(diagnosis);
    assert.deepEqual(api.getObject(`deployments`, `d-own`, `web`).spec.template.spec.imagePullSecrets, [{name: `ghost`}, {name: `regcred`}]);
    assert.equal(api.getObject(`serviceaccounts`, `d-own`, `default`)?.imagePullSecrets, undefined);
  });

  test(`a registry whose certificate the CLI cannot verify is a TLS diagnosis`, async () => {
    api.seed.namespace(`d-tls`);
    api.seed.pod(`d-tls`, `p`, spec(`${tls.host}/team/app:v1`), {waiting: `ErrImagePull`});
    const diagnosis = await only(`d-tls`);
    assert.equal(diagnosis.id, `registry-tls`);
    // The check it prints, run with the CA: TLS now works (what remains is that the pod has no credentials).
    const check = diagnosis.fix.find(isCommand)!;
    assert.equal(check, `kubectl pullsecret verify --image ${tls.host}/team/app:v1 --certificate-authority "$CA_FILE" -n d-tls  # set CA_FILE first; check again with that CA`);
    const result = await runPrinted(check, {bin: bin.dir, kubeconfig: api.kubeconfigPath, env: {CA_FILE: tls.caFile!}});
    assert.equal(result.code, 1, result.stderr);
    assert.doesNotMatch(result.stdout, /tls-error/);
    assert.match(result.stdout, /no-credentials|unauthorized/);
  });

  test(`wrong credentials: rotate the secret, then restart the Deployment found through the ReplicaSet`, async () => {
    api.seed.namespace(`d-wrong`);
    api.seed.secret(`d-wrong`, pullSecret(`regcred`, {[basic.host]: {username: `alice`, password: `wrong`}, 'quay.io': {username: `q`, password: `other`}}));
    const deployment = api.seed.workload(`Deployment`, `d-wrong`, `api`, spec(image(), {imagePullSecrets: [{name: `regcred`}]}));
    const replicaSet = api.seed.workload(`ReplicaSet`, `d-wrong`, `api-7f9c`, spec(image(), {imagePullSecrets: [{name: `regcred`}]}));
    // Asynchronously: the emulator runs in this process and must keep answering.
    await promisify(execFile)(`kubectl`, [`--kubeconfig`, api.kubeconfigPath, `-n`, `d-wrong`, `patch`, `replicaset`, `api-7f9c`, `--type`, `merge`, `-p`,
      JSON.stringify({metadata: {ownerReferences: [{apiVersion: `apps/v1`, kind: `Deployment`, name: `api`, uid: deployment.metadata.uid, controller: true}]}})]);
    api.seed.pod(`d-wrong`, `api-7f9c-x`, spec(image(), {imagePullSecrets: [{name: `regcred`}]}), {
      waiting: `ErrImagePull`,
      ownerReferences: [{apiVersion: `apps/v1`, kind: `ReplicaSet`, name: `api-7f9c`, uid: replicaSet.metadata.uid, controller: true}],
    });
    api.seed.event(`d-wrong`, {kind: `Pod`, name: `api-7f9c-x`}, `Failed`, `Failed to pull image "${image()}": unauthorized: authentication required`);
    const {report} = await doctor(`d-wrong`);
    const {diagnosis, events} = report.pods[0]!;
    assert.equal(diagnosis.id, `wrong-credentials`);
    assert.deepEqual(diagnosis.fix, [
      `kubectl pullsecret rotate regcred -n d-wrong --docker-server ${basic.host} --docker-username alice --docker-password-stdin  # reads the password from stdin`,
      `kubectl rollout restart deployment/api -n d-wrong  # to retry at once; the kubelet retries by itself with back-off (up to 5 minutes)`,
    ]);
    assert.ok(events.some(event => /unauthorized: authentication required/.test(event)));
    // The rotation lands on the registry that failed, and on no other (no Docker Hub entry appears).
    await runFix(diagnosis);
    const auths = JSON.parse(Buffer.from(api.getObject(`secrets`, `d-wrong`, `regcred`).data[`.dockerconfigjson`], `base64`).toString()).auths;
    assert.deepEqual(Object.keys(auths).sort(), [basic.host, `quay.io`].sort());
    assert.equal(auths[`quay.io`].password, `other`);
    assert.equal((await only(`d-wrong`)).id, `pulls-now`);
  });

  test(`secret not found anywhere: create it under the name the pod expects`, async () => {
    api.seed.namespace(`d-missing`);
    // The host as `localhost`: no secret of the other scenarios has a key for it.
    const host = tls.host.replace(`127.0.0.1`, `localhost`);
    api.seed.pod(`d-missing`, `p`, spec(`${host}/team/app:v1`, {imagePullSecrets: [{name: `tls-cred`}]}), {waiting: `ImagePullBackOff`});
    const {code, report} = await doctor(`d-missing`, [`--certificate-authority`, tls.caFile!]);
    assert.equal(code, 1);
    const {diagnosis} = report.pods[0]!;
    assert.equal(diagnosis.id, `secret-not-found`);
    assert.equal(diagnosis.fix[0], `kubectl pullsecret add tls-cred -n d-missing --docker-server ${host} --docker-username "$REGISTRY_USERNAME" --docker-password-stdin  # set REGISTRY_USERNAME first; reads the password from stdin`);
    await runFix(diagnosis);
    assert.equal((await doctor(`d-missing`, [`--certificate-authority`, tls.caFile!])).report.pods[0]!.diagnosis.id, `pulls-now`);
  });

  test(`secret in another namespace: sync it into the pod's namespace`, async () => {
    api.seed.namespace(`d-other`);
    api.seed.namespace(`ci`);
    api.seed.secret(`ci`, pullSecret(`shared-cred`, good()));
    api.seed.pod(`d-other`, `p`, spec(image(), {imagePullSecrets: [{name: `shared-cred`}]}), {waiting: `ErrImagePull`});
    const diagnosis = await only(`d-other`);
    assert.equal(diagnosis.id, `secret-in-other-namespace`);
    assert.equal(diagnosis.fix[0], `kubectl pullsecret sync shared-cred --from-namespace ci -n d-other`);
    await runFix(diagnosis);
    assert.equal((await only(`d-other`)).id, `pulls-now`);
  });

  test(`an expired ECR token: refresh it with aws ecr get-login-password`, async () => {
    api.seed.namespace(`d-ecr`);
    const host = `123456789012.dkr.ecr.eu-west-1.amazonaws.com`;
    const token = b64(JSON.stringify({payload: `p`, datakey: `d`, version: `2`, type: `DATA_KEY`, expiration: 1_600_000_000}));
    api.seed.secret(`d-ecr`, pullSecret(`ecr`, {[host]: {username: `AWS`, password: token}}));
    api.seed.pod(`d-ecr`, `p`, spec(`${host}/app:v1`, {imagePullSecrets: [{name: `ecr`}]}), {waiting: `ErrImagePull`});
    const diagnosis = await only(`d-ecr`);
    assert.equal(diagnosis.id, `ecr-token-expired`);
    assert.equal(diagnosis.fix[0], `aws ecr get-login-password --region eu-west-1 | kubectl pullsecret rotate ecr -n d-ecr --docker-server ${host} --docker-username AWS --docker-password-stdin`);
    // Run with a stand-in aws: the fresh token replaces the expired one under the ECR key, and no other key appears.
    await runFix(diagnosis);
    const auths = JSON.parse(Buffer.from(api.getObject(`secrets`, `d-ecr`, `ecr`).data[`.dockerconfigjson`], `base64`).toString()).auths;
    assert.deepEqual(Object.keys(auths), [host]);
    assert.notEqual(auths[host].password, token);
    assert.equal((await only(`d-ecr`)).id === `ecr-token-expired`, false);
  });

  test(`a server key that does not match the image ("no basic auth credentials") shows the key that would`, async () => {
    api.seed.namespace(`d-key`);
    api.seed.secret(`d-key`, pullSecret(`regcred`, {[`https://${basic.host.replace(`127.0.0.1`, `localhost`)}/v2/`]: {username: `alice`, password: PASSWORD}}));
    api.seed.pod(`d-key`, `p`, spec(image(), {imagePullSecrets: [{name: `regcred`}]}), {waiting: `ErrImagePull`});
    const diagnosis = await only(`d-key`);
    assert.equal(diagnosis.id, `server-key-mismatch`);
    assert.match(diagnosis.cause, new RegExp(`the key that would match is ${basic.host}`));
    assert.ok(diagnosis.notes.some(note => note.includes(`localhost`)), JSON.stringify(diagnosis.notes));
    assert.equal(diagnosis.fix[0], `kubectl pullsecret add regcred -n d-key --docker-server ${basic.host} --docker-username "$REGISTRY_USERNAME" --docker-password-stdin  # set REGISTRY_USERNAME first; reads the password from stdin; adds the key that matches, keeping the others`);
    await runFix(diagnosis);
    assert.equal((await only(`d-key`)).id, `pulls-now`);
  });

  test(`works with the default ServiceAccount but not a custom one: attach to that ServiceAccount`, async () => {
    api.seed.namespace(`d-sa`);
    api.seed.secret(`d-sa`, pullSecret(`regcred`, good()));
    api.seed.serviceAccount(`d-sa`, `default`, {imagePullSecrets: [`regcred`]});
    api.seed.serviceAccount(`d-sa`, `builder`, {});
    api.seed.pod(`d-sa`, `p`, spec(image(), {serviceAccountName: `builder`}), {waiting: `ImagePullBackOff`});
    const diagnosis = await only(`d-sa`);
    assert.equal(diagnosis.id, `custom-serviceaccount-missing-secret`);
    assert.equal(diagnosis.fix[0], `kubectl pullsecret attach regcred -n d-sa --service-account builder`);
    // The same world in another namespace, healed by the fix run as printed.
    api.seed.namespace(`d-sa-fix`);
    api.seed.secret(`d-sa-fix`, pullSecret(`regcred`, good()));
    api.seed.serviceAccount(`d-sa-fix`, `default`, {imagePullSecrets: [`regcred`]});
    api.seed.serviceAccount(`d-sa-fix`, `builder`, {});
    api.seed.pod(`d-sa-fix`, `p`, spec(image(), {serviceAccountName: `builder`}), {waiting: `ImagePullBackOff`});
    await runFix(await only(`d-sa-fix`));
    assert.equal((await only(`d-sa-fix`)).id, `pod-predates-serviceaccount-change`);
  });

  test(`a pod whose ServiceAccount was deleted: create it and give it the namespace's matching secret`, async () => {
    api.seed.namespace(`d-nosa`);
    api.seed.secret(`d-nosa`, pullSecret(`regcred`, good()));
    api.seed.pod(`d-nosa`, `p`, spec(image(), {serviceAccountName: `gone`}), {waiting: `ImagePullBackOff`});
    const diagnosis = await only(`d-nosa`);
    assert.equal(diagnosis.id, `missing-pull-secrets`);
    assert.deepEqual(diagnosis.fix.slice(0, 2), [`kubectl create serviceaccount gone -n d-nosa`, `kubectl pullsecret attach regcred -n d-nosa --service-account gone`]);
    await runFix(diagnosis);
    assert.equal((await only(`d-nosa`)).id, `pod-predates-serviceaccount-change`);
  });

  test(`a pod created before its ServiceAccount got the secret: restart it`, async () => {
    api.seed.namespace(`d-stale`);
    api.seed.secret(`d-stale`, pullSecret(`regcred`, good()));
    api.seed.pod(`d-stale`, `p`, spec(image()), {waiting: `ImagePullBackOff`});
    api.seed.serviceAccount(`d-stale`, `default`, {imagePullSecrets: [`regcred`]});
    const diagnosis = await only(`d-stale`);
    assert.equal(diagnosis.id, `pod-predates-serviceaccount-change`);
    assert.deepEqual(diagnosis.fix, [`re-create pod p from its manifest (kubectl delete pod p -n d-stale, then apply the manifest again); a bare pod is not replaced by anyone`]);
  });

  test(`an undecodable secret breaks every pull of the pod: inspect and re-create it`, async () => {
    api.seed.namespace(`d-broken`);
    api.seed.secret(`d-broken`, {metadata: {name: `broken`}, type: `kubernetes.io/dockerconfigjson`, data: {'.dockerconfigjson': b64(`{"auths":{"${basic.host}":{"username":"alice","password":5}}}`)}});
    api.seed.secret(`d-broken`, pullSecret(`regcred`, good()));
    api.seed.pod(`d-broken`, `p`, spec(image(), {imagePullSecrets: [{name: `broken`}, {name: `regcred`}]}), {waiting: `ErrImagePull`});
    const diagnosis = await only(`d-broken`);
    assert.equal(diagnosis.id, `secret-invalid`);
    assert.equal(diagnosis.fix[0], `kubectl pullsecret decode broken -n d-broken  # see what is wrong`);
    await runFix(diagnosis);
    assert.equal((await only(`d-broken`)).id, `pulls-now`);
  });

  test(`an image tag that does not exist`, async () => {
    api.seed.namespace(`d-tag`);
    api.seed.secret(`d-tag`, pullSecret(`regcred`, good()));
    api.seed.pod(`d-tag`, `p`, spec(`${basic.host}/team/app:v404`, {imagePullSecrets: [{name: `regcred`}]}), {waiting: `ErrImagePull`});
    const diagnosis = await only(`d-tag`);
    assert.equal(diagnosis.id, `image-not-found`);
    assert.equal(diagnosis.fix[1], `kubectl set image pod/p app="$IMAGE" -n d-tag  # set IMAGE first; with IMAGE set to an image that exists`);
    await runFix(diagnosis, {env: {IMAGE: image()}});
    assert.equal((await only(`d-tag`)).id, `pulls-now`);
  });

  test(`an invalid image name`, async () => {
    api.seed.namespace(`d-name`);
    api.seed.pod(`d-name`, `p`, spec(`${basic.host}/Team/App:v1`), {waiting: `InvalidImageName`});
    const diagnosis = await only(`d-name`);
    assert.equal(diagnosis.id, `invalid-image`);
    api.seed.secret(`d-name`, pullSecret(`regcred`, good()));
    api.seed.serviceAccount(`d-name`, `default`, {imagePullSecrets: [`regcred`]});
    await runFix(diagnosis, {env: {IMAGE: image()}});
    assert.equal(api.getObject(`pods`, `d-name`, `p`).spec.containers[0].image, image());
  });

  test(`imagePullPolicy Never without the image on the node`, async () => {
    api.seed.namespace(`d-never`);
    api.seed.pod(`d-never`, `p`, {containers: [{name: `app`, image: image(), imagePullPolicy: `Never`}]}, {waiting: `ErrImageNeverPull`});
    const diagnosis = await only(`d-never`);
    assert.equal(diagnosis.id, `image-never-pull`);
    assert.ok(diagnosis.notes.some(note => /^worked on older nodes, fails on 1\.35\+ ones\? .*KEP-2535/.test(note)), diagnosis.notes.join(`\n`));
  });

  test(`a rate-limited registry`, async () => {
    api.seed.namespace(`d-rate`);
    api.seed.pod(`d-rate`, `p`, spec(`${limitedHost}/team/app:v1`), {waiting: `ErrImagePull`});
    const diagnosis = await only(`d-rate`);
    assert.equal(diagnosis.id, `rate-limited`);
    await runFix(diagnosis);
    assert.deepEqual(api.getObject(`serviceaccounts`, `d-rate`, `default`).imagePullSecrets, [{name: `regcred`}]);
  });

  test(`an unreachable registry`, async () => {
    api.seed.namespace(`d-down`);
    api.seed.pod(`d-down`, `p`, spec(`127.0.0.1:1/team/app:v1`), {waiting: `ErrImagePull`});
    assert.equal((await only(`d-down`)).id, `registry-unreachable`);
  });

  test(`an image that pulls now: the failure was transient`, async () => {
    api.seed.namespace(`d-now`);
    api.seed.secret(`d-now`, pullSecret(`regcred`, good()));
    api.seed.pod(`d-now`, `p`, spec(image(), {imagePullSecrets: [{name: `regcred`}]}), {waiting: `ImagePullBackOff`});
    assert.equal((await only(`d-now`)).id, `pulls-now`);
  });

  test(`a named pod is diagnosed alone, as readable text`, async () => {
    const result = await runCli([`doctor`, `p`, `--kubeconfig`, api.kubeconfigPath, `-n`, `d-sa`]);
    assert.equal(result.code, 1);
    assert.match(result.stdout, /^pod d-sa\/p, container app: ImagePullBackOff for /);
    assert.match(result.stdout, /\n {2}fix:\n {4}kubectl pullsecret attach regcred -n d-sa --service-account builder\n/);
  });

  test(`a named pod that does not exist is one error line`, async () => {
    const result = await runCli([`doctor`, `nope`, `--kubeconfig`, api.kubeconfigPath, `-n`, `d-sa`]);
    assert.equal(result.code, 1);
    assert.equal(result.stderr, `error: pod "nope" not found in namespace d-sa\n`);
  });

  test(`-A finds failing pods in every namespace`, async () => {
    const result = await runCli([`doctor`, `-A`, `--kubeconfig`, api.kubeconfigPath, `-o`, `json`]);
    const report = JSON.parse(result.stdout) as DoctorReport;
    assert.ok(new Set(report.pods.map(pod => pod.namespace)).size >= 10);
    assert.equal(result.code, 1);
  });
});

// doctor must not invent a cause from evidence it could not read, and must honour the namespace scope.
describe(`doctor without the permissions it needs, and its scope`, () => {
  async function doctorAs(context: string, args: string[]): Promise<{code: number; report: DoctorReport; stderr: string}> {
    const result = await runCli([`doctor`, `--kubeconfig`, api.kubeconfigPath, `--context`, context, ...args, `-o`, `json`]);
    assert.doesNotMatch(result.stdout + result.stderr, new RegExp(PASSWORD));
    return {code: result.code, report: JSON.parse(result.stdout) as DoctorReport, stderr: result.stderr};
  }

  test(`a pod's secret that cannot be read is named as unread, not diagnosed as missing or useless`, async () => {
    api.seed.namespace(`e-secret`);
    api.seed.secret(`e-secret`, pullSecret(`regcred`, good()));
    api.seed.pod(`e-secret`, `p`, spec(image(), {imagePullSecrets: [{name: `regcred`}]}), {waiting: `ImagePullBackOff`});
    api.addUser(`doctor-nosecrets`, [{verbs: [`get`, `list`], resources: [`pods`, `events`, `serviceaccounts`], apiGroups: [``]}]);
    assert.equal((await only(`e-secret`)).id, `pulls-now`);
    const {code, report} = await doctorAs(`doctor-nosecrets`, [`-n`, `e-secret`]);
    assert.equal(code, 1);
    const {diagnosis} = report.pods[0]!;
    assert.equal(diagnosis.id, `evidence-unreadable`);
    assert.match(diagnosis.cause, /^cannot read secrets in e-secret: forbidden \(needs get or list on secrets; unread: regcred\): the cause cannot be determined without them/);
    assert.deepEqual(diagnosis.fix.filter(isCommand), []);
  });

  test(`a ServiceAccount that cannot be read is named as unread instead of guessing which secret it lacks`, async () => {
    api.addUser(`doctor-nosa`, [{verbs: [`get`, `list`], resources: [`pods`, `events`, `secrets`], apiGroups: [``]}]);
    assert.equal((await only(`d-sa`)).id, `custom-serviceaccount-missing-secret`);
    const {report} = await doctorAs(`doctor-nosa`, [`-n`, `d-sa`]);
    const {diagnosis} = report.pods[0]!;
    assert.equal(diagnosis.id, `evidence-unreadable`);
    assert.match(diagnosis.cause, /^cannot read serviceaccounts in d-sa: forbidden \(needs get or list on serviceaccounts; unread: builder, default\)/);
  });

  test(`without list on secrets, doctor does not claim that no secret in the cluster holds credentials`, async () => {
    // The namespace holds a matching secret that nothing references: only a list can find it.
    api.addUser(`doctor-getonly`, [
      {verbs: [`get`, `list`], resources: [`pods`, `events`, `serviceaccounts`], apiGroups: [``]},
      {verbs: [`get`], resources: [`secrets`], apiGroups: [``]},
    ]);
    api.seed.namespace(`e-getonly`);
    api.seed.secret(`e-getonly`, pullSecret(`regcred`, good()));
    api.seed.pod(`e-getonly`, `p`, spec(image()), {waiting: `ImagePullBackOff`});
    const {report} = await doctorAs(`doctor-getonly`, [`-n`, `e-getonly`]);
    const {diagnosis} = report.pods[0]!;
    assert.doesNotMatch(diagnosis.cause, /no secret in the cluster/);
    assert.match(diagnosis.cause, /no secret it could read holds credentials for .* \(not searched: cannot list secrets in e-getonly: forbidden \(needs list on secrets\); cannot list secrets in other namespaces: forbidden/);
  });

  test(`-A leaves out the namespaces --exclude-namespaces names`, async () => {
    const all = await doctorAs(`admin`, [`-A`]);
    assert.ok(all.report.pods.some(pod => pod.namespace.startsWith(`d-`)));
    const {code, report} = await doctorAs(`admin`, [`-A`, `--exclude-namespaces`, `d-*`]);
    assert.equal(code, 1);
    assert.ok(report.pods.length > 0);
    assert.deepEqual(report.pods.filter(pod => pod.namespace.startsWith(`d-`)).map(pod => pod.namespace), []);
  });

  test(`-A skips a namespace annotated pullsecret.kubectl.io/ignore=true`, async () => {
    api.seed.namespace(`e-ignored`, {annotations: {'pullsecret.kubectl.io/ignore': `true`}});
    api.seed.pod(`e-ignored`, `p`, spec(`${basic.host}/Team/App:v1`), {waiting: `InvalidImageName`});
    const {report} = await doctorAs(`admin`, [`-A`]);
    assert.ok(report.pods.length > 0);
    assert.equal(report.pods.some(pod => pod.namespace === `e-ignored`), false);
    // Named with -n it is diagnosed anyway, as everywhere.
    assert.equal((await only(`e-ignored`)).id, `invalid-image`);
  });
});
