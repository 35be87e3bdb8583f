// verify's platform check against the API emulator (nodes with their nodeInfo) and a real docker-registry holding
// images built here: an OCI index for linux/amd64 and linux/arm64 (plus an attestation entry), an index for
// linux/amd64 only, and a single-platform image. A pod that may run on a platform its image lacks is
// `platform-missing`; --platform wins over the nodes; a nodeSelector narrows them; the check GETs the manifest instead
// of a HEAD when platforms are checked, so an index costs no extra request and a single manifest one (its config).
import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import {after, before, describe, test} from 'node:test';
import {runCli} from '../helpers/runCli.ts';
import {seedRegcred} from '../helpers/clusters.ts';
import {startApiEmulator} from '../helpers/apiEmulator/index.ts';
import type {ApiEmulator} from '../helpers/apiEmulator/index.ts';
import {startRegistry} from '../helpers/registry/index.ts';
import type {LoggedRequest, TestRegistry} from '../helpers/registry/index.ts';
import {makeRegistryProbe} from '../../sources/adapters/registry/probe.ts';
import type {RegistryProbe} from '../../sources/core/ports.ts';

type Row = {name: string; container: string; status: string; detail: string; warnings: string[]};
const PASSWORD = `platform-pw-never-printed`;
const AMD64 = {os: `linux`, architecture: `amd64`};
const ARM64 = {os: `linux`, architecture: `arm64`, variant: `v8`};
let api: ApiEmulator;
let registry: TestRegistry;
let image: (name: string) => string;

before(async () => {
  [api, registry] = await Promise.all([startApiEmulator(), startRegistry({mode: `basic`, users: {alice: PASSWORD}})]);
  image = name => `${registry.host}/team/${name}:v1`;
  await Promise.all([
    registry.push(`team/multi`, `v1`, `index`, {platforms: [AMD64, ARM64], attestation: true}),
    registry.push(`team/amd-only`, `v1`, `index`, {platforms: [AMD64], attestation: true}),
    registry.push(`team/single`, `v1`, `oci`, {platforms: [AMD64]}),
  ]);
  api.seed.node(`node-amd`, {architecture: `amd64`});
  api.seed.node(`node-arm`, {architecture: `arm64`});
  seedRegcred(api, `web`, registry.host, `alice`, PASSWORD);
  api.seed.workload(`Deployment`, `web`, `multi`, {containers: [{name: `app`, image: image(`multi`)}]});
  api.seed.workload(`Deployment`, `web`, `amd-only`, {containers: [{name: `app`, image: image(`amd-only`)}]});
  api.seed.workload(`Deployment`, `web`, `single`, {containers: [{name: `app`, image: image(`single`)}]});
  api.seed.workload(`Deployment`, `web`, `pinned`, {nodeSelector: {'kubernetes.io/arch': `amd64`}, containers: [{name: `app`, image: image(`amd-only`)}]});
  api.seed.workload(`Deployment`, `web`, `volume`, {containers: [{name: `app`, image: image(`multi`)}], volumes: [{name: `data`, image: {reference: image(`single`)}}]});
});

after(async () => {
  await Promise.all([api?.stop(), registry?.stop()]);
});

async function verify(args: string[]): Promise<{code: number; rows: Map<string, Row>; notes: string[]; probe: RegistryProbe}> {
  let probe: RegistryProbe | undefined;
  const result = await runCli([`verify`, `--kubeconfig`, api.kubeconfigPath, `-n`, `web`, ...args, `-o`, `json`], {context: {makeRegistryProbe: async options => (probe = makeRegistryProbe(options))}});
  const report = JSON.parse(result.stdout) as {results: Row[]; summary: {notes: string[]}};
  assert.ok(!result.stdout.includes(PASSWORD) && !result.stderr.includes(PASSWORD));
  return {code: result.code, rows: new Map(report.results.map(row => [`${row.name}/${row.container}`, row])), notes: report.summary.notes, probe: probe!};
}

describe(`the platforms of the cluster's nodes (linux/amd64 and linux/arm64)`, () => {
  test(`an index with both platforms passes; one with amd64 only, or a single amd64 image, is platform-missing`, async () => {
    const {code, rows} = await verify([]);
    assert.equal(code, 1);
    assert.equal(rows.get(`multi/app`)!.status, `ok`);
    const amd = rows.get(`amd-only/app`)!;
    assert.equal(amd.status, `platform-missing`);
    assert.match(amd.detail, /offers linux\/amd64, not linux\/arm64 \(needed: the cluster's nodes\); the runtime would fail with "no match for platform in manifest"/);
    assert.equal(rows.get(`single/app`)!.status, `platform-missing`);
    // The image volume's image is checked like a container's.
    assert.equal(rows.get(`volume/volume:data`)!.status, `platform-missing`);
    assert.equal(rows.get(`volume/app`)!.status, `ok`);
  });

  test(`a nodeSelector on kubernetes.io/arch narrows the platforms a pod needs`, async () => {
    const {rows} = await verify([]);
    assert.equal(rows.get(`pinned/app`)!.status, `ok`);
  });

  test(`the check reads the manifest itself: an index costs no extra request, a single manifest one GET of its config`, async () => {
    const base = await verifyWithoutPlatforms();
    const from = fs.statSync(registry.logFile).size;
    const withNodes = await verify([]);
    // Images: multi, amd-only (indexes) and single (a manifest), each with one credential: the same number of manifest
    // requests as without platforms, plus the config blob of the single one.
    assert.equal(withNodes.probe.stats().manifestRequests - base, 1);
    const logged = await requestsLogged(from, 4);
    assert.deepEqual(logged.filter(request => request.status === 200).map(request => `${request.method} ${request.uri.replace(/@?sha256:\w+|:v1$/, ``)}`).sort(), [
      `GET /v2/team/amd-only/manifests/v1`, `GET /v2/team/multi/manifests/v1`, `GET /v2/team/single/blobs/`, `GET /v2/team/single/manifests/v1`,
    ]);
  });

  test(`without platforms to check, the check is a HEAD: no manifest body is read`, async () => {
    const from = fs.statSync(registry.logFile).size;
    await verifyWithoutPlatforms();
    const logged = await requestsLogged(from, 3);
    assert.deepEqual(logged.filter(request => request.status === 200).map(request => request.method), [`HEAD`, `HEAD`, `HEAD`]);
  });
});

/** The requests the registry logged after byte `from`, once at least `successes` answers with 200 are in. */
function requestsLogged(from: number, successes: number): Promise<LoggedRequest[]> {
  return registry.settledRequestLog(from, requests => requests.filter(request => request.status === 200).length >= successes);
}

/** The manifest requests of the same run with no platform to check (no nodes listed: a user without list nodes). */
async function verifyWithoutPlatforms(): Promise<number> {
  api.addUser(`nonodes`, [{verbs: [`list`, `get`], resources: [`pods`, `serviceaccounts`, `secrets`, `deployments`, `statefulsets`, `daemonsets`, `replicasets`, `replicationcontrollers`, `jobs`, `cronjobs`], apiGroups: [`*`]}]);
  let probe: RegistryProbe | undefined;
  const result = await runCli([`verify`, `--kubeconfig`, api.kubeconfigPath, `--context`, `nonodes`, `-n`, `web`, `-o`, `json`], {context: {makeRegistryProbe: async options => (probe = makeRegistryProbe(options))}});
  const report = JSON.parse(result.stdout) as {results: Row[]};
  // Without the nodes, nothing is platform-missing.
  assert.ok(report.results.every(row => row.status === `ok`), result.stdout);
  assert.equal(result.code, 0);
  return probe!.stats().manifestRequests;
}

describe(`--platform`, () => {
  test(`an explicit --platform wins over the nodes'`, async () => {
    const {code, rows} = await verify([`--platform`, `linux/amd64`]);
    assert.equal(code, 0);
    assert.ok([...rows.values()].every(row => row.status === `ok`));
  });

  test(`--platform linux/arm64/v8 needs the variant (arm64 without one counts as v8), linux/arm/v7 is missing everywhere`, async () => {
    assert.equal((await verify([`--platform`, `linux/arm64/v8`])).rows.get(`multi/app`)!.status, `ok`);
    const arm = await verify([`--platform=linux/arm/v7`]);
    assert.match(arm.rows.get(`multi/app`)!.detail, /offers linux\/amd64, linux\/arm64\/v8, not linux\/arm\/v7 \(needed: --platform\)/);
  });

  test(`--image without a cluster checks the platforms named with --platform`, async () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), `verify-platforms-`));
    const config = path.join(dir, `config.json`);
    fs.writeFileSync(config, JSON.stringify({auths: {[registry.host]: {username: `alice`, password: PASSWORD}}}));
    const result = await runCli([`verify`, `--image`, image(`amd-only`), `--image`, image(`multi`), `--docker-config`, config, `--platform`, `linux/amd64,linux/arm64`, `-o`, `json`]);
    fs.rmSync(dir, {recursive: true, force: true});
    assert.equal(result.code, 1, result.stderr);
    const rows = (JSON.parse(result.stdout) as {results: Row[]}).results.map(row => `${row.name.split(`/`).at(-1)}=${row.status}`);
    assert.deepEqual(rows.sort(), [`amd-only:v1=platform-missing`, `multi:v1=ok`]);
  });

  test(`a malformed --platform is a usage error naming the value`, async () => {
    const result = await runCli([`verify`, `--image`, `nginx`, `--platform`, `amd64`]);
    assert.equal(result.code, 2);
    assert.match(result.stderr, /invalid platform "amd64": use OS\/ARCH or OS\/ARCH\/VARIANT, e\.g\. linux\/amd64,linux\/arm64/);
  });
});
