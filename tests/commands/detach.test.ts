import {after, before, test} from 'node:test';
import assert from 'node:assert/strict';
import {execFile} from 'node:child_process';
import {promisify} from 'node:util';
import {mkdtempSync, rmSync} from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import {runCli} from '../helpers/runCli.ts';
import {useApiEmulator} from '../helpers/apiEmulator/fixture.ts';

const api = await useApiEmulator();
let cacheRoot: string;
before(async () => {
  cacheRoot = mkdtempSync(path.join(os.tmpdir(), `detach-kubectl-cache-`));
});
after(async () => {
  rmSync(cacheRoot, {recursive: true, force: true});
});

const kube = () => [`--kubeconfig`, api.kubeconfigPath];
const POD_SPEC = {containers: [{name: `app`, image: `registry.example.com/app:1`}]};

async function kubectlJson(...args: string[]): Promise<any> {
  const cacheDir = mkdtempSync(path.join(cacheRoot, `c-`));
  const {stdout} = await promisify(execFile)(`kubectl`, [`--kubeconfig`, api.kubeconfigPath, `--cache-dir`, cacheDir, ...args, `-o`, `json`], {encoding: `utf8`});
  return JSON.parse(stdout);
}

test(`detach removes only that entry and keeps the others in order, as kubectl reads it`, async () => {
  api.seed.namespace(`det-keep`);
  api.seed.serviceAccount(`det-keep`, `default`, {imagePullSecrets: [`a`, `regcred`, `b`]});
  const result = await runCli([`detach`, `regcred`, `-n`, `det-keep`, ...kube()]);
  assert.equal(result.code, 0, result.stderr);
  assert.equal(result.stdout, `serviceaccount/default configured\n`);
  assert.deepEqual((await kubectlJson(`get`, `sa`, `default`, `-n`, `det-keep`)).imagePullSecrets, [{name: `a`}, {name: `b`}]);
});

test(`detach leaves the secret itself in place`, async () => {
  api.seed.namespace(`det-secret`);
  api.seed.secret(`det-secret`, {metadata: {name: `regcred`}, type: `kubernetes.io/dockerconfigjson`, data: {'.dockerconfigjson': Buffer.from(`{"auths":{}}`).toString(`base64`)}});
  api.seed.serviceAccount(`det-secret`, `default`, {imagePullSecrets: [`regcred`]});
  assert.equal((await runCli([`detach`, `regcred`, `-n`, `det-secret`, ...kube()])).code, 0);
  assert.notEqual(api.getObject(`secrets`, `det-secret`, `regcred`), undefined);
  assert.deepEqual(api.getObject(`serviceaccounts`, `det-secret`, `default`).imagePullSecrets ?? [], []);
});

test(`detaching the last entry removes the field, a clean undo of attach (no imagePullSecrets: [] left behind)`, async () => {
  api.seed.namespace(`det-last`);
  api.seed.serviceAccount(`det-last`, `default`, {});
  api.seed.workload(`Deployment`, `det-last`, `web`, POD_SPEC);
  assert.equal((await runCli([`attach`, `regcred`, `-n`, `det-last`, `--workload`, `deploy/web`, `--service-account`, `default`, `--allow-missing`, ...kube()])).code, 0);
  const result = await runCli([`detach`, `regcred`, `-n`, `det-last`, `--workload`, `deploy/web`, `--service-account`, `default`, ...kube()]);
  assert.equal(result.code, 0, result.stderr);
  const sa = await kubectlJson(`get`, `sa`, `default`, `-n`, `det-last`);
  assert.equal(`imagePullSecrets` in sa, false, JSON.stringify(sa));
  const deployment = await kubectlJson(`get`, `deployment`, `web`, `-n`, `det-last`);
  assert.equal(`imagePullSecrets` in deployment.spec.template.spec, false, JSON.stringify(deployment.spec.template.spec));
});

test(`detaching a secret that is not listed is unchanged and writes nothing`, async () => {
  api.seed.namespace(`det-none`);
  api.seed.serviceAccount(`det-none`, `default`, {imagePullSecrets: [`other`]});
  api.resetRequests();
  const result = await runCli([`detach`, `regcred`, `-n`, `det-none`, ...kube()]);
  assert.equal(result.code, 0, result.stderr);
  assert.equal(result.stdout, `serviceaccount/default unchanged\n`);
  assert.deepEqual(api.requests.filter(request => request.method !== `GET`), []);
});

test(`detach --workload removes the entry from a cronjob's pod template only`, async () => {
  api.seed.namespace(`det-cron`);
  api.seed.serviceAccount(`det-cron`, `default`, {imagePullSecrets: [`regcred`]});
  api.seed.workload(`CronJob`, `det-cron`, `nightly`, {...POD_SPEC, restartPolicy: `OnFailure`, imagePullSecrets: [{name: `regcred`}, {name: `keep`}]}, {schedule: `0 1 * * *`});
  const result = await runCli([`detach`, `regcred`, `-n`, `det-cron`, `--workload`, `cronjob/nightly`, ...kube()]);
  assert.equal(result.code, 0, result.stderr);
  assert.equal(result.stdout, `cronjob.batch/nightly configured\n`);
  assert.deepEqual((await kubectlJson(`get`, `cronjob`, `nightly`, `-n`, `det-cron`)).spec.jobTemplate.spec.template.spec.imagePullSecrets, [{name: `keep`}]);
  assert.deepEqual(api.getObject(`serviceaccounts`, `det-cron`, `default`).imagePullSecrets, [{name: `regcred`}]);
});

test(`detach --all-service-accounts over several namespaces reports one line per namespace`, async () => {
  for (const namespace of [`detm-a`, `detm-b`]) {
    api.seed.namespace(namespace);
    api.seed.serviceAccount(namespace, `builder`, {imagePullSecrets: [`regcred`, `x`]});
  }
  const result = await runCli([`detach`, `regcred`, `--namespaces`, `detm-a,detm-b`, `--all-service-accounts`, ...kube()]);
  assert.equal(result.code, 0, result.stderr);
  assert.deepEqual(result.stdout.trim().split(`\n`), [
    `detm-a: serviceaccount/builder configured, serviceaccount/default unchanged`,
    `detm-b: serviceaccount/builder configured, serviceaccount/default unchanged`,
  ]);
  assert.deepEqual(result.stderr.trim().split(`\n`), [
    `detach regcred: 2 of 2 namespaces ok (2 changed, 0 unchanged)`,
  ]);
  assert.deepEqual(api.getObject(`serviceaccounts`, `detm-b`, `builder`).imagePullSecrets, [{name: `x`}]);
});

test(`detach in a namespace that does not exist fails with exit code 1`, async () => {
  const result = await runCli([`detach`, `regcred`, `--namespaces`, `no-such-ns`, ...kube()]);
  assert.equal(result.code, 1);
  assert.equal(result.stderr, `error: failed at check namespace: namespace "no-such-ns" not found\n`);
});

test(`detach --namespaces with only a Role (list, patch serviceaccounts) in each namespace works when the cluster-wide list is refused`, async () => {
  for (const namespace of [`detr-a`, `detr-b`]) {
    api.seed.namespace(namespace);
    api.seed.serviceAccount(namespace, `default`, {imagePullSecrets: [`keep`, `regcred`]});
  }
  api.addUser(`detach-role`, [{verbs: [`list`, `patch`], resources: [`serviceaccounts`], namespaces: [`detr-a`, `detr-b`]}]);
  const result = await runCli([`detach`, `regcred`, `--namespaces`, `detr-a,detr-b`, `--context`, `detach-role`, ...kube()]);
  assert.equal(result.code, 0, result.stderr);
  assert.deepEqual(result.stdout.trim().split(`\n`), [
    `detr-a: serviceaccount/default configured`,
    `detr-b: serviceaccount/default configured`,
  ]);
  assert.deepEqual(result.stderr.trim().split(`\n`), [
    `detach regcred: 2 of 2 namespaces ok (2 changed, 0 unchanged)`,
  ]);
  for (const namespace of [`detr-a`, `detr-b`])
    assert.deepEqual(api.getObject(`serviceaccounts`, namespace, `default`).imagePullSecrets, [{name: `keep`}]);
});
