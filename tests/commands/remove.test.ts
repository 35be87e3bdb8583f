import {test} from 'node:test';
import assert from 'node:assert/strict';
import {runCli} from '../helpers/runCli.ts';
import {connectCluster} from '../../sources/adapters/kube/connect.ts';
import {useApiEmulator} from '../helpers/apiEmulator/fixture.ts';

const api = await useApiEmulator();

const kube = () => [`--kubeconfig`, api.kubeconfigPath];
const CONFIG = Buffer.from(`{"auths":{}}`).toString(`base64`);
const POD_SPEC = {containers: [{name: `app`, image: `registry.example.com/app:1`}]};

/** A namespace where regcred is referenced by two ServiceAccounts and a deployment. */
function world(namespace: string): void {
  api.seed.namespace(namespace);
  api.seed.secret(namespace, {metadata: {name: `regcred`}, type: `kubernetes.io/dockerconfigjson`, data: {'.dockerconfigjson': CONFIG}});
  api.seed.serviceAccount(namespace, `default`, {imagePullSecrets: [`regcred`, `keep`]});
  api.seed.serviceAccount(namespace, `builder`, {imagePullSecrets: [`keep`]});
  api.seed.workload(`Deployment`, namespace, `web`, {...POD_SPEC, imagePullSecrets: [{name: `keep`}, {name: `regcred`}]});
}

test(`remove detaches the secret from every ServiceAccount and workload, then deletes it`, async () => {
  world(`rm-a`);
  const result = await runCli([`remove`, `regcred`, `-n`, `rm-a`, ...kube()]);
  assert.equal(result.code, 0, result.stderr);
  assert.equal(result.stdout, `secret/regcred deleted\nserviceaccount/default configured\ndeployment.apps/web configured\n`);
  assert.equal(api.getObject(`secrets`, `rm-a`, `regcred`), undefined);
  assert.deepEqual(api.getObject(`serviceaccounts`, `rm-a`, `default`).imagePullSecrets, [{name: `keep`}]);
  assert.deepEqual(api.getObject(`serviceaccounts`, `rm-a`, `builder`).imagePullSecrets, [{name: `keep`}]);
  assert.deepEqual(api.getObject(`deployments`, `rm-a`, `web`).spec.template.spec.imagePullSecrets, [{name: `keep`}]);
});

test(`remove --dry-run shows what would change and changes nothing`, async () => {
  world(`rm-dry`);
  api.resetRequests();
  const result = await runCli([`remove`, `regcred`, `-n`, `rm-dry`, `--dry-run`, `-o`, `name`, ...kube()]);
  assert.equal(result.code, 0, result.stderr);
  assert.equal(result.stdout, `secret/regcred\nserviceaccount/default\ndeployment.apps/web\n`);
  assert.equal(result.stderr, ``);
  const lines = await runCli([`remove`, `regcred`, `-n`, `rm-dry`, `--dry-run`, ...kube()]);
  assert.equal(lines.stdout, `secret/regcred deleted (dry run)\nserviceaccount/default configured (dry run)\ndeployment.apps/web configured (dry run)\n`);
  assert.deepEqual(api.requests.filter(request => request.method !== `GET`), []);
  assert.notEqual(api.getObject(`secrets`, `rm-dry`, `regcred`), undefined);
  assert.deepEqual(api.getObject(`serviceaccounts`, `rm-dry`, `default`).imagePullSecrets, [{name: `regcred`}, {name: `keep`}]);
});

test(`remove of a secret that exists nowhere in scope and is referenced by nothing fails with exit code 1`, async () => {
  api.seed.namespace(`rm-none`);
  const result = await runCli([`remove`, `regcred`, `-n`, `rm-none`, ...kube()]);
  assert.equal(result.code, 1);
  assert.equal(result.stderr, `error: secret "regcred" not found in namespace "rm-none", and nothing references it\n`);
});

test(`remove still detaches dangling references when the secret is already gone (a rerun finishes a partial remove)`, async () => {
  api.seed.namespace(`rm-dangling`);
  api.seed.serviceAccount(`rm-dangling`, `default`, {imagePullSecrets: [`regcred`]});
  const result = await runCli([`remove`, `regcred`, `-n`, `rm-dangling`, ...kube()]);
  assert.equal(result.code, 0, result.stderr);
  assert.equal(result.stdout, `secret/regcred not found\nserviceaccount/default configured\n`);
  assert.deepEqual(api.getObject(`serviceaccounts`, `rm-dangling`, `default`).imagePullSecrets ?? [], []);
});

test(`remove over several namespaces prints one line per namespace that changed, one line for those without the secret, and a summary`, async () => {
  world(`rmm-a`);
  for (const namespace of [`rmm-b`, `rmm-c`, `rmm-d`])
    api.seed.namespace(namespace);
  const result = await runCli([`remove`, `regcred`, `--namespaces`, `rmm-a,rmm-b,rmm-c,rmm-d`, `--dry-run`, ...kube()]);
  assert.equal(result.code, 0, result.stderr);
  assert.deepEqual(result.stdout.trim().split(`\n`), [
    `rmm-a: secret/regcred deleted (dry run), serviceaccount/default configured (dry run), deployment.apps/web configured (dry run)`,
  ]);
  assert.deepEqual(result.stderr.trim().split(`\n`), [
    `secret/regcred not found in 3 namespaces (dry run): rmm-b, rmm-c, rmm-d`,
    `remove regcred (dry run): 4 of 4 namespaces ok (1 changed, 3 unchanged)`,
  ]);
});

test(`remove edits a Deployment but not the ReplicaSets it controls`, async () => {
  world(`rm-rs`);
  const deployment = api.getObject(`deployments`, `rm-rs`, `web`);
  // A ReplicaSet as the Deployment controller would have made it, and a bare one.
  const connection = await connectCluster({kubeconfig: api.kubeconfigPath, env: {}});
  const template = {spec: {containers: POD_SPEC.containers, imagePullSecrets: [{name: `regcred`}]}, metadata: {labels: {app: `x`}}};
  await connection.create(`replicasets`, `rm-rs`, {apiVersion: `apps/v1`, kind: `ReplicaSet`, metadata: {name: `web-abc`, ownerReferences: [{apiVersion: `apps/v1`, kind: `Deployment`, name: `web`, uid: deployment.metadata.uid, controller: true}]}, spec: {selector: {matchLabels: {app: `x`}}, template}});
  await connection.create(`replicasets`, `rm-rs`, {apiVersion: `apps/v1`, kind: `ReplicaSet`, metadata: {name: `bare`}, spec: {selector: {matchLabels: {app: `x`}}, template}});
  const result = await runCli([`remove`, `regcred`, `-n`, `rm-rs`, ...kube()]);
  assert.equal(result.code, 0, result.stderr);
  assert.match(result.stdout, /^replicaset\.apps\/bare configured$/m);
  assert.doesNotMatch(result.stderr, /web-abc/);
  assert.deepEqual(api.getObject(`replicasets`, `rm-rs`, `web-abc`).spec.template.spec.imagePullSecrets, [{name: `regcred`}]);
  assert.deepEqual(api.getObject(`replicasets`, `rm-rs`, `bare`).spec.template.spec.imagePullSecrets ?? [], []);
});

test(`remove refuses a secret that is not a pull secret and changes nothing; --force removes it`, async () => {
  api.seed.namespace(`rm-opaque`);
  api.seed.secret(`rm-opaque`, {metadata: {name: `db-password`}, type: `Opaque`, data: {password: Buffer.from(`x`).toString(`base64`)}});
  api.seed.serviceAccount(`rm-opaque`, `default`, {imagePullSecrets: [`db-password`]});
  api.resetRequests();
  const refused = await runCli([`remove`, `db-password`, `-n`, `rm-opaque`, ...kube()]);
  assert.equal(refused.code, 1);
  assert.equal(refused.stdout, ``);
  assert.equal(refused.stderr, `error: failed at check secret: secret rm-opaque/db-password has type Opaque, not a pull secret (kubernetes.io/dockerconfigjson or kubernetes.io/dockercfg); nothing was changed; use --force to detach and delete it anyway\n`);
  assert.deepEqual(api.requests.filter(request => request.method !== `GET`), []);
  assert.notEqual(api.getObject(`secrets`, `rm-opaque`, `db-password`), undefined);
  const forced = await runCli([`remove`, `db-password`, `-n`, `rm-opaque`, `--force`, ...kube()]);
  assert.equal(forced.code, 0, forced.stderr);
  assert.equal(forced.stdout, `secret/db-password deleted\nserviceaccount/default configured\n`);
  assert.equal(api.getObject(`secrets`, `rm-opaque`, `db-password`), undefined);
});

test(`remove warns about running pods that still list the secret (a pod's spec cannot drop it)`, async () => {
  world(`rm-pods`);
  api.seed.pod(`rm-pods`, `web-1`, {...POD_SPEC, imagePullSecrets: [{name: `keep`}, {name: `regcred`}]}, {phase: `Running`});
  api.seed.pod(`rm-pods`, `other`, {...POD_SPEC, imagePullSecrets: [{name: `keep`}]}, {phase: `Running`});
  const result = await runCli([`remove`, `regcred`, `-n`, `rm-pods`, ...kube()]);
  assert.equal(result.code, 0, result.stderr);
  assert.equal(result.stderr, `warning: 1 running pod (web-1) still lists regcred in imagePullSecrets, which a pod's spec cannot drop: it keeps running, but a pull needed later (a restart on another node, a new image) finds no secret; recreate it (kubectl rollout restart of its Deployment, StatefulSet or DaemonSet, or delete and re-create a bare pod)\n`);
});
