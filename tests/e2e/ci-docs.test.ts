// docs/ci.md's snippets, run as far as this machine allows: the GitHub Actions step through the action's verify
// script with the step's `with:` inputs, the GitLab job's script lines and the shell steps in bash (kubectl's plugin
// dispatch finding the plugin on PATH), each against the API emulator and a real docker-registry; every JUnit report
// the snippets write validates against docs/junit.xsd. `helm` is a stand-in that prints the rendered release.
import assert from 'node:assert/strict';
import {execFile} from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import {after, before, test} from 'node:test';
import {parse} from 'yaml';
import {ROOT} from '../../scripts/lib/sea.ts';
import {seedRegcred, writePluginLauncher} from '../helpers/clusters.ts';
import {startApiEmulator} from '../helpers/apiEmulator/index.ts';
import type {ApiEmulator} from '../helpers/apiEmulator/index.ts';
import {startRegistry} from '../helpers/registry/index.ts';
import type {TestRegistry} from '../helpers/registry/index.ts';

const PASSWORD = `ci-docs-pw-never-printed`;
const tmp = fs.mkdtempSync(path.join(os.tmpdir(), `pullsecret-ci-docs-`));
const bin = path.join(tmp, `bin`);
const doc = fs.readFileSync(path.join(ROOT, `docs`, `ci.md`), `utf8`);
let api: ApiEmulator;
let registry: TestRegistry;
let release: string;

/** The code block after `<!-- ci-snippet: NAME -->`. */
function snippet(name: string): string {
  const match = new RegExp(`<!-- ci-snippet: ${name} -->\\n\`\`\`[a-z]+\\n([\\s\\S]*?)\`\`\`\\n`).exec(doc);
  assert.ok(match, `docs/ci.md has no snippet ${name}`);
  return match[1]!;
}

type Run = {code: number; stdout: string; stderr: string};

/** bash -c SCRIPT in the work directory, with the plugin (and the helm stand-in) on PATH; asynchronous (the emulator shares this loop). */
function bash(script: string, env: Record<string, string> = {}): Promise<Run> {
  return new Promise(resolve => {
    execFile(`bash`, [`-e`, `-c`, script], {cwd: tmp, env: {PATH: `${bin}:${process.env.PATH ?? ``}`, HOME: tmp, KUBECONFIG: api.kubeconfigPath, ...env}}, (error, stdout, stderr) => {
      resolve({code: error ? (typeof error.code === `number` ? error.code : 1) : 0, stdout, stderr});
    });
  });
}

function validJunit(file: string): Promise<Run> {
  return new Promise(resolve => execFile(`xmllint`, [`--noout`, `--schema`, path.join(ROOT, `docs`, `junit.xsd`), file], (error, stdout, stderr) => resolve({code: error ? 1 : 0, stdout, stderr})));
}

before(async () => {
  [api, registry] = await Promise.all([startApiEmulator(), startRegistry({mode: `basic`, users: {alice: PASSWORD}})]);
  await registry.push(`team/app`, `v1`);
  seedRegcred(api, `web`, registry.host, `alice`, PASSWORD);
  release = `apiVersion: apps/v1\nkind: Deployment\nmetadata:\n  name: api\nspec:\n  template:\n    spec:\n      containers:\n      - name: app\n        image: ${registry.host}/team/app:v1\n      - name: sidecar\n        image: ${registry.host}/team/sidecar:v1\n`;
  fs.mkdirSync(path.join(tmp, `deploy`));
  fs.writeFileSync(path.join(tmp, `deploy`, `release.yaml`), release);
  fs.writeFileSync(path.join(tmp, `rendered.yaml`), release);
  fs.mkdirSync(bin);
  // The plugin as kubectl finds it (kubectl-pullsecret on PATH), launching this checkout's sources.
  writePluginLauncher(path.join(bin, `kubectl-pullsecret`), ROOT);
  fs.writeFileSync(path.join(bin, `helm`), `#!/bin/sh\ncat '${path.join(tmp, `deploy`, `release.yaml`)}'\n`, {mode: 0o755});
});

after(async () => {
  await Promise.all([api?.stop(), registry?.stop()]);
  fs.rmSync(tmp, {recursive: true, force: true});
});

const sidecarLine = () => release.split(`\n`).findIndex(line => line.includes(`team/sidecar`)) + 1;

test(`GitHub Actions: the workflow uses the action with known inputs, and its step gates with annotations`, async () => {
  const workflow = parse(snippet(`github`)) as {jobs: Record<string, {steps: Array<{uses?: string; with?: Record<string, string>}>}>};
  const action = parse(fs.readFileSync(path.join(ROOT, `action.yml`), `utf8`)) as {inputs: Record<string, unknown>};
  const gate = Object.values(workflow.jobs).flatMap(job => job.steps).find(step => /\/kubectl-pullsecret@v\d/.test(step.uses ?? ``));
  assert.ok(gate?.with, `a step uses the action`);
  for (const key of Object.keys(gate.with))
    assert.ok(key in action.inputs, `action.yml has no input ${key}`);
  // The verify step of the action, with the step's inputs (the secret is the test cluster's kubeconfig).
  const inputs = Object.fromEntries(Object.entries(gate.with).map(([key, value]) => [key, value === `\${{ secrets.KUBECONFIG }}` ? fs.readFileSync(api.kubeconfigPath, `utf8`) : value]));
  const result = await bash(`"${path.join(ROOT, `scripts`, `action`, `verify.sh`)}"`, {
    KUBECONFIG: ``,
    PULLSECRET_ARGS: inputs.args ?? ``,
    PULLSECRET_KUBECONFIG: inputs.kubeconfig ?? ``,
    PULLSECRET_FORMAT: inputs.format ?? `github`,
    PULLSECRET_FAIL_ON: inputs[`fail-on`] ?? ``,
  });
  assert.equal(result.code, 1, result.stderr);
  assert.match(result.stdout, new RegExp(`^::error file=deploy/release\\.yaml,line=${sidecarLine()},title=not-found`, `m`));
  assert.ok(!result.stdout.includes(PASSWORD) && !result.stderr.includes(PASSWORD));
});

test(`GitLab CI: the job's script fails the job and leaves a JUnit report that validates`, async () => {
  const job = (parse(snippet(`gitlab`)) as Record<string, {script: string[]; artifacts: {when: string; reports: {junit: string}}}>)[`verify-pulls`]!;
  assert.equal(job.artifacts.when, `always`);
  const result = await bash(job.script.join(`\n`));
  assert.equal(result.code, 1, result.stderr);
  const report = path.join(tmp, job.artifacts.reports.junit);
  const valid = await validJunit(report);
  assert.equal(valid.code, 0, valid.stderr);
  assert.match(fs.readFileSync(report, `utf8`), /<failure message="not-found: /);
  fs.rmSync(report);
});

test(`any shell: exit 1 blocks the release with a message, and the report validates`, async () => {
  const result = await bash(snippet(`shell`), {NAMESPACE: `web`});
  assert.equal(result.code, 1, result.stderr);
  assert.equal(result.stdout, `release blocked: an image cannot be pulled (details in verify-report.xml)\n`);
  assert.equal((await validJunit(path.join(tmp, `verify-report.xml`))).code, 0);
  // With a release whose images all pull, the same step passes.
  fs.writeFileSync(path.join(tmp, `rendered.yaml`), release.replace(/\n {6}- name: sidecar\n.*\n$/, `\n`));
  const passing = await bash(snippet(`shell`), {NAMESPACE: `web`});
  assert.equal(passing.code, 0, passing.stderr);
  assert.equal(passing.stdout, `every image can be pulled\n`);
});

test(`helm template piped into verify -f -: annotations without a file (stdin)`, async () => {
  const result = await bash(snippet(`helm`));
  assert.equal(result.code, 1, result.stderr);
  assert.match(result.stdout, /^::error title=not-found%3A [^:]*team\/sidecar%3Av1::web deployment\/api container sidecar/m);
});
