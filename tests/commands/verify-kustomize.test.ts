// verify -k DIR: the output of the real `kubectl kustomize DIR`, checked like -f against the API emulator and a real
// docker-registry; with `buildMetadata: [originAnnotations]` the positions point into the resources' source files
// (an overlay over a base, a name prefix and an image tag set by kustomize), without it there are none.
import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import {after, before, test} from 'node:test';
import {runCli} from '../helpers/runCli.ts';
import {seedRegcred} from '../helpers/clusters.ts';
import {startApiEmulator} from '../helpers/apiEmulator/index.ts';
import type {ApiEmulator} from '../helpers/apiEmulator/index.ts';
import {startRegistry} from '../helpers/registry/index.ts';
import type {TestRegistry} from '../helpers/registry/index.ts';

const PASSWORD = `kustomize-pw-never-printed`;
const tmp = fs.mkdtempSync(path.join(os.tmpdir(), `verify-kustomize-`));
let api: ApiEmulator;
let registry: TestRegistry;
let base: string;

function write(file: string, text: string): void {
  fs.mkdirSync(path.dirname(path.join(tmp, file)), {recursive: true});
  fs.writeFileSync(path.join(tmp, file), text);
}

before(async () => {
  [api, registry] = await Promise.all([startApiEmulator(), startRegistry({mode: `basic`, users: {alice: PASSWORD}})]);
  await registry.push(`team/app`, `v1`);
  seedRegcred(api, `web`, registry.host, `alice`, PASSWORD);
  base = [
    `apiVersion: apps/v1\nkind: Deployment\nmetadata:\n  name: api\nspec:\n  template:\n    spec:\n      containers:\n      - name: app\n        image: ${registry.host}/team/app`,
    `apiVersion: apps/v1\nkind: Deployment\nmetadata:\n  name: worker\nspec:\n  template:\n    spec:\n      containers:\n      - name: app\n        image: ${registry.host}/team/worker:v1`,
  ].join(`\n---\n`);
  write(`base/deploy.yaml`, base);
  write(`base/kustomization.yaml`, `resources: [deploy.yaml]\n`);
  // The overlay renames (prefix), sets the tag of team/app, and asks kustomize to record origins.
  write(`overlay/kustomization.yaml`, `resources: [../base]\nnamespace: web\nnamePrefix: prod-\nimages:\n- name: ${registry.host}/team/app\n  newTag: v1\nbuildMetadata: [originAnnotations]\n`);
  write(`plain/kustomization.yaml`, `resources: [../base]\nnamespace: web\nimages:\n- name: ${registry.host}/team/app\n  newTag: v1\n`);
});

after(async () => {
  await Promise.all([api?.stop(), registry?.stop()]);
  fs.rmSync(tmp, {recursive: true, force: true});
});

const verify = (args: string[]) => runCli([`verify`, `--kubeconfig`, api.kubeconfigPath, ...args], {cwd: tmp, env: {PATH: process.env.PATH}});
const lineIn = (text: string, needle: string) => text.split(`\n`).findIndex(line => line.includes(needle)) + 1;

test(`-k overlay checks the rendered release and points at the image lines of the base's file`, async () => {
  const json = await verify([`-k`, `overlay`, `-o`, `json`]);
  assert.equal(json.code, 1, json.stderr);
  const rows = (JSON.parse(json.stdout) as {results: Array<{name: string; image: string; status: string; source?: {file?: string; line?: number}}>}).results;
  assert.deepEqual(rows.map(row => `${row.name} ${row.image.slice(registry.host.length)} ${row.status} ${row.source?.file}:${row.source?.line}`), [
    `prod-api /team/app:v1 ok ${path.join(`base`, `deploy.yaml`)}:${lineIn(base, `team/app`)}`,
    `prod-worker /team/worker:v1 not-found ${path.join(`base`, `deploy.yaml`)}:${lineIn(base, `team/worker`)}`,
  ]);
  const github = await verify([`-k`, `overlay`, `-o`, `github`]);
  assert.equal(github.code, 1);
  assert.match(github.stdout, new RegExp(`^::error file=base/deploy.yaml,line=${lineIn(base, `team/worker`)},title=not-found`, `m`));
});

test(`-k without origin annotations checks the same images, without positions`, async () => {
  const result = await verify([`-k`, `plain`, `-o`, `github`]);
  assert.equal(result.code, 1, result.stderr);
  assert.match(result.stdout, /^::error title=not-found%3A [^:]*team\/worker%3Av1::web deployment\/worker container app/m);
  assert.match(result.stdout, /^ok web deployment\/api container app \S+\/team\/app:v1 /m);
});

test(`-k of a directory without a kustomization is one error line from kubectl kustomize, exit 2`, async () => {
  fs.mkdirSync(path.join(tmp, `empty`), {recursive: true});
  const result = await verify([`-k`, `empty`]);
  assert.equal(result.code, 2);
  assert.equal(result.stdout, ``);
  assert.match(result.stderr, /^error: kubectl kustomize empty failed: [a-z].*kustomization/);
  assert.equal(result.stderr.trim().split(`\n`).length, 1, result.stderr);
});

test(`-k with -f is a usage error, as in kubectl`, async () => {
  const result = await verify([`-k`, `overlay`, `-f`, `base/deploy.yaml`]);
  assert.equal(result.code, 2);
  assert.match(result.stderr, /only one of -f or -k can be specified/);
});
