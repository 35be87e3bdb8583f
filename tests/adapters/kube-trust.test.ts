// Which certificates a run trusts (sources/adapters/trust.ts): the cluster only through its kubeconfig's CA, as
// kubectl trusts it, and registries through Node's default store even after a cluster session replaced that store
// for a moment. Child processes, because Node reads NODE_EXTRA_CA_CERTS (its default store) only at start.
import {after, before, test} from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import {startApiEmulator} from '../helpers/apiEmulator/index.ts';
import type {ApiEmulator} from '../helpers/apiEmulator/index.ts';
import {runProgramAsync} from '../helpers/binary.ts';
import {startRegistry} from '../helpers/registry/index.ts';
import type {TestRegistry} from '../helpers/registry/index.ts';
import {runKubectl} from '../helpers/apiEmulator/kubectl.ts';

const ROOT = path.resolve(import.meta.dirname, `..`, `..`);
const MAIN = path.join(ROOT, `sources`, `main.ts`);
const PASSWORD = `trust-s3cret`;
const tmp = fs.mkdtempSync(path.join(os.tmpdir(), `kube-trust-`));
let api: ApiEmulator;
let registry: TestRegistry;

before(async () => {
  [api, registry] = await Promise.all([startApiEmulator(), startRegistry({mode: `tls`, users: {alice: PASSWORD}})]);
  await registry.push(`team/app`, `1.0`);
  const auth = Buffer.from(`alice:${PASSWORD}`).toString(`base64`);
  api.seed.namespace(`ci`);
  api.seed.secret(`ci`, {metadata: {name: `regcred`}, type: `kubernetes.io/dockerconfigjson`, data: {'.dockerconfigjson': Buffer.from(JSON.stringify({auths: {[registry.host]: {auth}}})).toString(`base64`)}});
  api.seed.pod(`ci`, `app-1`, {containers: [{name: `app`, image: `${registry.host}/team/app:1.0`}], imagePullSecrets: [{name: `regcred`}]});
});
after(async () => {
  await Promise.all([api?.stop(), registry?.stop()]);
  fs.rmSync(tmp, {recursive: true, force: true});
});

/** The emulator's kubeconfig with `ca` as its certificate-authority-data. */
function kubeconfigTrusting(name: string, ca: string): string {
  const file = path.join(tmp, name);
  api.writeKubeconfig(file);
  const text = fs.readFileSync(file, `utf8`).replace(/certificate-authority-data: \S+/, `certificate-authority-data: ${Buffer.from(ca).toString(`base64`)}`);
  fs.writeFileSync(file, text);
  return file;
}

const plugin = (args: string[], extraCaFile: string) => runProgramAsync(process.execPath, [MAIN, ...args], {env: {PATH: process.env.PATH ?? ``, HOME: tmp, NODE_EXTRA_CA_CERTS: extraCaFile}});

test(`the cluster is trusted only through the kubeconfig's CA, as kubectl trusts it, not through Node's default store`, async () => {
  // The server's CA is in Node's default store (NODE_EXTRA_CA_CERTS); the kubeconfig names another CA.
  const wrong = kubeconfigTrusting(`wrong-ca`, fs.readFileSync(registry.caFile!, `utf8`));
  const refused = await plugin([`decode`, `regcred`, `-n`, `ci`, `--kubeconfig`, wrong], api.caFile);
  assert.notEqual(refused.code, 0, refused.stdout);
  assert.match(refused.stderr, /certificate/i);
  assert.doesNotMatch(refused.stdout, /alice/);
  const kubectl = await runKubectl([`get`, `secret`, `regcred`, `-n`, `ci`], {kubeconfig: wrong});
  assert.notEqual(kubectl.code, 0, `kubectl refuses it too`);
  assert.match(kubectl.stderr, /certificate/i);
  // The same run with the right CA in the kubeconfig works: the refusal above is the CA's doing.
  const right = kubeconfigTrusting(`right-ca`, api.caPem);
  const accepted = await plugin([`decode`, `regcred`, `-n`, `ci`, `--kubeconfig`, right], api.caFile);
  assert.equal(accepted.code, 0, accepted.stderr);
  assert.match(accepted.stdout, /alice/);
});

test(`after the cluster session trusted only its CA, a registry is still checked against Node's default store`, async () => {
  // verify reads the pod from the cluster (a context trusting only the emulator's CA), then checks the image on the
  // TLS registry, whose CA is only in Node's default store.
  const kubeconfig = kubeconfigTrusting(`verify`, api.caPem);
  const result = await plugin([`verify`, `-n`, `ci`, `--kubeconfig`, kubeconfig, `-o`, `json`], registry.caFile!);
  assert.equal(result.code, 0, `${result.stdout}\n${result.stderr}`);
  const report = JSON.parse(result.stdout) as {summary: {byStatus: Record<string, number>}};
  assert.deepEqual(report.summary.byStatus, {ok: 1});
});
