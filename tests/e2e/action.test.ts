// The GitHub Action (action.yml): its install step (scripts/action/install.sh) against an archive and sha256sums.txt
// made by the release script (packageTarget, writeSumsAndManifest) and served over HTTP from loopback (the
// base-url override), then its verify step (scripts/action/verify.sh) running the installed plugin against the API
// emulator and a real docker-registry, as the runner would: env from the inputs, GITHUB_PATH, GITHUB_STEP_SUMMARY.
// To keep the build cheap, the archived "binary" is a launcher of this checkout's sources with the pinned Node.
import assert from 'node:assert/strict';
import {execFile} from 'node:child_process';
import fs from 'node:fs';
import http from 'node:http';
import type {AddressInfo} from 'node:net';
import os from 'node:os';
import path from 'node:path';
import {after, before, test} from 'node:test';
import {parse} from 'yaml';
import {ROOT, packageVersion} from '../../scripts/lib/sea.ts';
import {archiveFileName, packageTarget, writeSumsAndManifest} from '../../scripts/release.ts';
import {TARGETS} from '../../scripts/lib/targets.ts';
import {seedRegcred, writePluginLauncher} from '../helpers/clusters.ts';
import {startApiEmulator} from '../helpers/apiEmulator/index.ts';
import type {ApiEmulator} from '../helpers/apiEmulator/index.ts';
import {startRegistry} from '../helpers/registry/index.ts';
import type {TestRegistry} from '../helpers/registry/index.ts';

const VERSION = `v${packageVersion()}`;
const PASSWORD = `action-pw-never-printed`;
const tmp = fs.mkdtempSync(path.join(os.tmpdir(), `pullsecret-action-`));
const assets = path.join(tmp, `assets`, VERSION);
const ASSET = archiveFileName({os: `linux`, arch: `amd64`}, VERSION);
let server: http.Server;
let baseUrl: string;
let api: ApiEmulator;
let registry: TestRegistry;
/** What the server hands out for the archive (a test may swap in tampered bytes). */
let served: Buffer;

type Run = {code: number; stdout: string; stderr: string};

/** Runs a step script as the runner does (asynchronously: the emulator shares this event loop). */
function step(script: string, env: Record<string, string>): Promise<Run> {
  return new Promise(resolve => {
    execFile(`bash`, [path.join(ROOT, `scripts`, `action`, script)], {cwd: tmp, env: {PATH: process.env.PATH ?? ``, HOME: tmp, ...env}}, (error, stdout, stderr) => {
      resolve({code: error ? (typeof error.code === `number` ? error.code : 1) : 0, stdout, stderr});
    });
  });
}

const runner = (extra: Record<string, string> = {}) => ({RUNNER_OS: `Linux`, RUNNER_ARCH: `X64`, RUNNER_TEMP: tmp, GITHUB_PATH: path.join(tmp, `github-path`), PULLSECRET_VERSION: VERSION, PULLSECRET_BASE_URL: baseUrl, ...extra});

before(async () => {
  fs.mkdirSync(assets, {recursive: true});
  const launcher = path.join(tmp, `launcher`);
  writePluginLauncher(launcher, ROOT);
  for (const target of TARGETS)
    packageTarget(target, launcher, {version: VERSION, outDir: assets});
  writeSumsAndManifest(assets, {version: VERSION, repo: `example/kubectl-pullsecret`});
  // A release whose macOS amd64 asset is missing (listed in the sums, not served).
  fs.rmSync(path.join(assets, archiveFileName({os: `darwin`, arch: `amd64`}, VERSION)));
  served = fs.readFileSync(path.join(assets, ASSET));
  server = http.createServer((request, response) => {
    const name = decodeURIComponent(request.url ?? ``).replace(`/${VERSION}/`, ``);
    const file = path.join(assets, path.basename(name));
    if (!fs.existsSync(file)) {
      response.writeHead(404).end(`not found`);
      return;
    }
    response.writeHead(200).end(name === ASSET ? served : fs.readFileSync(file));
  });
  await new Promise<void>(resolve => server.listen(0, `127.0.0.1`, resolve));
  baseUrl = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  [api, registry] = await Promise.all([startApiEmulator(), startRegistry({mode: `basic`, users: {alice: PASSWORD}})]);
  await registry.push(`team/app`, `v1`);
  seedRegcred(api, `web`, registry.host, `alice`, PASSWORD);
  fs.writeFileSync(path.join(tmp, `release.yaml`), `apiVersion: apps/v1\nkind: Deployment\nmetadata:\n  name: api\nspec:\n  template:\n    spec:\n      containers:\n      - name: app\n        image: ${registry.host}/team/app:v1\n      - name: sidecar\n        image: ${registry.host}/team/sidecar:v1\n`);
});

after(async () => {
  await new Promise(resolve => server?.close(resolve));
  await Promise.all([api?.stop(), registry?.stop()]);
  fs.rmSync(tmp, {recursive: true, force: true});
});

test(`action.yml is a composite action whose steps run the two scripts with the inputs as environment`, () => {
  const action = parse(fs.readFileSync(path.join(ROOT, `action.yml`), `utf8`)) as {runs: {using: string; steps: Array<{shell: string; run: string; env: Record<string, string>}>}; inputs: Record<string, unknown>};
  assert.equal(action.runs.using, `composite`);
  assert.deepEqual(Object.keys(action.inputs).sort(), [`args`, `base-url`, `fail-on`, `format`, `kubeconfig`, `version`]);
  const [install, verify] = action.runs.steps;
  assert.match(install!.run, /scripts\/action\/install\.sh/);
  assert.match(verify!.run, /scripts\/action\/verify\.sh/);
  // Every variable a script reads is set by its step, from an input.
  for (const [stepDef, script] of [[install!, `install.sh`], [verify!, `verify.sh`]] as const) {
    const text = fs.readFileSync(path.join(ROOT, `scripts`, `action`, script), `utf8`);
    const read = [...new Set([...text.matchAll(/\$\{?(PULLSECRET_[A-Z_]+)/g)].map(match => match[1]!))].filter(name => name !== `PULLSECRET_INSTALL_DIR`);
    assert.deepEqual(read.sort(), Object.keys(stepDef.env).sort(), script);
    assert.ok(Object.values(stepDef.env).every(value => /\$\{\{ inputs\./.test(value)), script);
  }
});

test(`install: the archive is checked against sha256sums.txt, unpacked, and its directory added to GITHUB_PATH; verify then gates`, async () => {
  const installed = await step(`install.sh`, runner());
  assert.equal(installed.code, 0, installed.stderr);
  const dest = path.join(tmp, `kubectl-pullsecret`);
  assert.equal(fs.readFileSync(path.join(tmp, `github-path`), `utf8`), `${dest}\n`);
  assert.match(installed.stdout, new RegExp(`installed kubectl-pullsecret ${VERSION} \\(linux/amd64, sha256 [0-9a-f]{64}\\) in `));
  assert.ok(fs.statSync(path.join(dest, `kubectl-pullsecret`)).mode & 0o111);

  // The verify step, with the kubeconfig given as content (a secret), the default format github, and a summary file.
  const summary = path.join(tmp, `step-summary.md`);
  const kubeconfig = fs.readFileSync(api.kubeconfigPath, `utf8`);
  const verified = await step(`verify.sh`, {PATH: `${dest}:${process.env.PATH}`, PULLSECRET_ARGS: `-f release.yaml -n web`, PULLSECRET_KUBECONFIG: kubeconfig, PULLSECRET_FORMAT: `github`, PULLSECRET_FAIL_ON: ``, GITHUB_STEP_SUMMARY: summary});
  assert.equal(verified.code, 1, verified.stderr);
  assert.match(verified.stdout, /^::error file=release\.yaml,line=12,title=not-found%3A [^:]*team\/sidecar%3Av1::web deployment\/api container sidecar/m);
  assert.match(verified.stdout, /^ok web deployment\/api container app /m);
  assert.match(fs.readFileSync(summary, `utf8`), /^### kubectl pullsecret verify: failed$/m);
  // The kubeconfig written from the input is gone, and nothing printed holds the password.
  assert.deepEqual(fs.readdirSync(tmp).filter(name => name.startsWith(`kubeconfig.`)), []);
  assert.ok(!`${verified.stdout}${verified.stderr}`.includes(PASSWORD));

  // junit with --fail-on, the kubeconfig as a path: still exit 1, a JUnit document on stdout.
  const junit = await step(`verify.sh`, {PATH: `${dest}:${process.env.PATH}`, PULLSECRET_ARGS: `-f release.yaml -n web`, PULLSECRET_KUBECONFIG: api.kubeconfigPath, PULLSECRET_FORMAT: `junit`, PULLSECRET_FAIL_ON: `warning`});
  assert.equal(junit.code, 1, junit.stderr);
  assert.match(junit.stdout, /^<\?xml version="1\.0" encoding="UTF-8"\?>\n<testsuites name="kubectl pullsecret verify" tests="2" failures="1"/);
});

test(`verify's args input keeps a quoted file name with spaces together, expands nothing, and refuses an unmatched quote`, async () => {
  const dest = path.join(tmp, `kubectl-pullsecret`);
  assert.ok(fs.existsSync(path.join(dest, `kubectl-pullsecret`)), `the install test runs first`);
  fs.copyFileSync(path.join(tmp, `release.yaml`), path.join(tmp, `my release.yaml`));
  const env = {PATH: `${dest}:${process.env.PATH}`, PULLSECRET_KUBECONFIG: api.kubeconfigPath, PULLSECRET_FORMAT: `github`, PULLSECRET_FAIL_ON: ``};
  const quoted = await step(`verify.sh`, {...env, PULLSECRET_ARGS: `-f "my release.yaml" -n web`});
  assert.equal(quoted.code, 1, quoted.stderr);
  assert.match(quoted.stdout, /^::error file=my release\.yaml,line=12,title=not-found%3A /m);
  // A $ or a backtick is a character, not an expansion: the file named literally does not exist.
  const literal = await step(`verify.sh`, {...env, PULLSECRET_ARGS: `-f '$HOME/release.yaml' -n web`});
  assert.equal(literal.code, 2, literal.stdout);
  assert.match(literal.stderr, /\$HOME\/release\.yaml/);
  const unmatched = await step(`verify.sh`, {...env, PULLSECRET_ARGS: `-f "my release.yaml -n web`});
  assert.equal(unmatched.code, 2);
  assert.equal(unmatched.stderr, `error: the args input has an unmatched quote; close it, or escape it with a backslash\n`);
  assert.equal(unmatched.stdout, ``);
});

test(`install refuses an archive whose sha256 is not the one sha256sums.txt lists, and installs nothing`, async () => {
  const genuine = served;
  served = Buffer.concat([genuine, Buffer.from(`tampered`)]);
  const dest = path.join(tmp, `tampered-dest`);
  try {
    const result = await step(`install.sh`, runner({PULLSECRET_INSTALL_DIR: dest, GITHUB_PATH: path.join(tmp, `tampered-path`)}));
    assert.equal(result.code, 1);
    assert.match(result.stderr, new RegExp(`^error: sha256 of ${ASSET.replace(/\./g, `\\.`)} is [0-9a-f]{64}, but sha256sums.txt says [0-9a-f]{64}: not installed$`, `m`));
    assert.ok(!fs.existsSync(dest));
    assert.ok(!fs.existsSync(path.join(tmp, `tampered-path`)));
  } finally {
    served = genuine;
  }
});

test(`install: an arm64 runner gets the arm64 archive; an unknown runner, a missing asset or no version is one error line`, async () => {
  const arm = await step(`install.sh`, runner({RUNNER_ARCH: `ARM64`, PULLSECRET_INSTALL_DIR: path.join(tmp, `arm`)}));
  assert.equal(arm.code, 0, arm.stderr);
  assert.match(arm.stdout, /\(linux\/arm64, sha256 /);
  const cases: Array<[Record<string, string>, RegExp]> = [
    [{RUNNER_ARCH: `ARM`}, /^error: unsupported runner architecture "ARM" \(X64 or ARM64\)$/],
    [{RUNNER_OS: `macOS`}, /^error: could not download http:\/\/127\.0\.0\.1:\d+\/v[^/]+\/kubectl-pullsecret_v[^_]+_darwin_amd64\.tar\.gz$/],
    [{PULLSECRET_VERSION: ``}, /^error: no version to install: set the action's version input/],
    [{PULLSECRET_VERSION: `main`}, /^error: version "main" is not a release tag such as v0\.1\.0$/],
  ];
  for (const [env, pattern] of cases) {
    const result = await step(`install.sh`, runner({...env, PULLSECRET_INSTALL_DIR: path.join(tmp, `never`)}));
    assert.equal(result.code, 1, JSON.stringify(env));
    assert.match(result.stderr.trim().split(`\n`).at(-1)!, pattern);
    assert.ok(!fs.existsSync(path.join(tmp, `never`)));
  }
});
