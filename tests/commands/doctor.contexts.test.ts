// doctor --context a --context b: two API emulators are two real clusters, named in one kubeconfig.
import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import {after, before, test} from 'node:test';
import {runCli} from '../helpers/runCli.ts';
import {writeEastWestKubeconfig} from '../helpers/clusters.ts';
import {startApiEmulator} from '../helpers/apiEmulator/index.ts';
import type {ApiEmulator} from '../helpers/apiEmulator/index.ts';

type Entry = {context?: string; namespace: string; pod: string; container: string; reason: string; diagnosis: {id: string}};
type Report = {summary: {failing: number; byDiagnosis: Record<string, number>}; pods: Entry[]; errors?: Array<{context: string; error: string}>};

let east: ApiEmulator;
let west: ApiEmulator;
let kubeconfig: string;
const tmp = fs.mkdtempSync(path.join(os.tmpdir(), `doctor-contexts-`));
// An image name with capitals is invalid: the kubelet reports InvalidImageName and no registry is ever asked.
const invalid = (name: string) => ({containers: [{name: `app`, image: `registry.example/Team/${name}:v1`}]});


before(async () => {
  [east, west] = await Promise.all([startApiEmulator(), startApiEmulator()]);
  east.seed.namespace(`web`);
  east.seed.pod(`web`, `east-pod`, invalid(`East`), {waiting: `InvalidImageName`});
  west.seed.namespace(`web`);
  west.seed.pod(`web`, `west-pod`, invalid(`West`), {waiting: `InvalidImageName`});
  west.seed.namespace(`calm`);
  west.seed.pod(`calm`, `fine`, {containers: [{name: `app`, image: `registry.example/team/app:v1`}]});
  east.seed.namespace(`calm`);
  east.seed.pod(`calm`, `fine`, {containers: [{name: `app`, image: `registry.example/team/app:v1`}]});
  kubeconfig = path.join(tmp, `kubeconfig`);
  await writeEastWestKubeconfig(kubeconfig, east, west);
});
after(async () => {
  await Promise.all([east?.stop(), west?.stop()]);
  fs.rmSync(tmp, {recursive: true, force: true});
});

function doctor(args: string[]) {
  return runCli([`doctor`, ...args, `--kubeconfig`, kubeconfig, `--request-timeout`, `5s`]);
}

function report(stdout: string, stderr: string): Report {
  try {
    return JSON.parse(stdout) as Report;
  } catch {
    return assert.fail(`no JSON on stdout: ${stderr}`);
  }
}

test(`doctor with two contexts diagnoses the failing pods of both clusters, each pod line labelled with its context`, async () => {
  const result = await doctor([`--context`, `east`, `--context`, `west`, `-n`, `web`]);
  assert.equal(result.code, 1, result.stderr);
  assert.match(result.stdout, /^context east: pod web\/east-pod, container app: InvalidImageName for registry\.example\/Team\/East:v1$/m);
  assert.match(result.stdout, /^context west: pod web\/west-pod, container app: InvalidImageName for registry\.example\/Team\/West:v1$/m);
  assert.ok(result.stdout.indexOf(`context east:`) < result.stdout.indexOf(`context west:`), `contexts keep the order of the flags`);
  assert.match(result.stderr, /^2 containers failing to pull$/m);
});

test(`doctor with one context keeps its output unlabelled`, async () => {
  const single = await doctor([`--context`, `west`, `-n`, `web`]);
  assert.equal(single.code, 1, single.stderr);
  assert.match(single.stdout, /^pod web\/west-pod, container app: InvalidImageName for /);
  assert.doesNotMatch(single.stdout + single.stderr, /context west:/);
  const json = report((await doctor([`--context`, `west`, `-n`, `web`, `-o`, `json`])).stdout, ``);
  assert.equal(json.errors, undefined);
  assert.equal(json.pods[0]!.context, undefined);
});

test(`doctor -o json with two contexts puts a context field on each pod entry and counts both in the summary`, async () => {
  const result = await doctor([`--context`, `west`, `--context`, `east`, `-n`, `web`, `-o`, `json`]);
  assert.equal(result.code, 1, result.stderr);
  const {summary, pods, errors} = report(result.stdout, result.stderr);
  assert.deepEqual(pods.map(entry => [entry.context, entry.namespace, entry.pod]), [[`west`, `web`, `west-pod`], [`east`, `web`, `east-pod`]]);
  assert.deepEqual(Object.keys(pods[0]!).slice(0, 2), [`context`, `namespace`]);
  assert.deepEqual(summary, {failing: 2, byDiagnosis: {'invalid-image': 2}});
  assert.deepEqual(errors, []);
});

test(`doctor reports an unreachable context as one error line while the other is still diagnosed, and exits 1`, async () => {
  const result = await doctor([`--context`, `down`, `--context`, `west`, `-n`, `web`]);
  assert.equal(result.code, 1, result.stderr);
  assert.match(result.stdout, /^context west: pod web\/west-pod, container app: InvalidImageName/m);
  const errors = result.stderr.split(`\n`).filter(line => line.startsWith(`error:`));
  assert.equal(errors.length, 1, result.stderr);
  assert.match(errors[0]!, /^error: context down: cannot reach the cluster at https:\/\/127\.0\.0\.1:\d+/);
});

test(`doctor exits 1 when no pod is failing but one context could not be reached, with the error in the JSON`, async () => {
  const result = await doctor([`--context`, `east`, `--context`, `down`, `-n`, `calm`, `-o`, `json`]);
  assert.equal(result.code, 1, result.stderr);
  const {summary, pods, errors} = report(result.stdout, result.stderr);
  assert.deepEqual(summary, {failing: 0, byDiagnosis: {}});
  assert.deepEqual(pods, []);
  assert.deepEqual(errors?.map(entry => entry.context), [`down`]);
  assert.match(errors![0]!.error, /^cannot reach the cluster at /);
  assert.match(result.stderr, /^error: context down: cannot reach the cluster at /m);
});

test(`doctor exits 0 only when no pod fails in any context and every context answered`, async () => {
  const result = await doctor([`--context`, `east`, `--context`, `west`, `-n`, `calm`]);
  assert.equal(result.code, 0, result.stderr);
  assert.equal(result.stdout, ``);
  assert.match(result.stderr, /^context east: no pod is failing to pull its images in namespace calm$/m);
  assert.match(result.stderr, /^context west: no pod is failing to pull its images in namespace calm$/m);
});

test(`doctor with one unreachable context still exits 3`, async () => {
  const result = await doctor([`--context`, `down`, `-n`, `web`]);
  assert.equal(result.code, 3, result.stderr);
  assert.match(result.stderr, /^error: cannot reach the cluster at /m);
});

test(`doctor with the same context named twice diagnoses that cluster once, unlabelled`, async () => {
  const result = await doctor([`--context`, `east`, `--context`, `east`, `-n`, `web`, `-o`, `json`]);
  assert.equal(result.code, 1, result.stderr);
  const {pods} = report(result.stdout, result.stderr);
  assert.deepEqual(pods.map(entry => entry.pod), [`east-pod`]);
});
