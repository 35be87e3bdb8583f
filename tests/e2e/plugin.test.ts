import {before, test} from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import {BINARY, DIST, ensureBinary, pluginEnv, runProgram, runProgramAsync} from '../helpers/binary.ts';
import {startApiEmulator} from '../helpers/apiEmulator/index.ts';

let home = ``;
before(async () => {
  await ensureBinary();
  home = fs.mkdtempSync(path.join(os.tmpdir(), `pullsecret-plugin-`));
});
test.after(() => fs.rmSync(home, {recursive: true, force: true}));

test(`kubectl plugin list finds kubectl-pullsecret in dist/ and reports no broken plugin there`, () => {
  const result = runProgram(`kubectl`, [`plugin`, `list`], {env: pluginEnv(home)});
  assert.match(result.stdout, new RegExp(`^${BINARY.replace(/[.*+?^${}()|[\]\\]/g, `\\$&`)}$`, `m`));
  assert.doesNotMatch(result.stderr, new RegExp(DIST.replace(/[.*+?^${}()|[\]\\]/g, `\\$&`)), `no warning about a file in dist/`);
});

test(`kubectl pullsecret --help prints the plugin's usage and exits 0`, () => {
  const result = runProgram(`kubectl`, [`pullsecret`, `--help`], {env: pluginEnv(home)});
  assert.equal(result.code, 0, result.stderr);
  assert.match(result.stdout, /^Available Commands:$/m);
  assert.match(result.stdout, /^  verify +prove that workloads/m);
  assert.match(result.stdout, /Use "kubectl pullsecret <command> --help"/);
  assert.equal(result.stderr, ``);
});

test(`kubectl pullsecret version prints the version built from package.json and the git commit`, () => {
  const result = runProgram(`kubectl`, [`pullsecret`, `version`, `-o`, `json`], {env: pluginEnv(home)});
  assert.equal(result.code, 0, result.stderr);
  const info = JSON.parse(result.stdout) as {version: string; gitCommit: string; nodeVersion: string};
  const pkg = JSON.parse(fs.readFileSync(path.join(DIST, `..`, `package.json`), `utf8`)) as {version: string};
  assert.equal(info.version, pkg.version);
  assert.match(info.gitCommit, /^([0-9a-f]{7,}|unknown)$/);
  assert.match(info.nodeVersion, /^v24\./);
});

test(`the binary prints no experimental-feature warning and passes errors through as one line with exit 2`, () => {
  const result = runProgram(BINARY, [`frobnicate`], {env: pluginEnv(home)});
  assert.equal(result.code, 2);
  assert.equal(result.stdout, ``);
  assert.doesNotMatch(result.stderr, /ExperimentalWarning|Code cache data rejected/);
  assert.match(result.stderr, /^error: unknown command "frobnicate" for "kubectl pullsecret"\n/);
});

test(`kubectl __complete pullsecret '' returns the plugin's subcommands through kubectl_complete-pullsecret`, () => {
  const result = runProgram(`kubectl`, [`__complete`, `pullsecret`, ``], {env: pluginEnv(home)});
  assert.equal(result.code, 0, result.stderr);
  const lines = result.stdout.trimEnd().split(`\n`);
  assert.equal(lines.at(-1), `:4`);
  const values = lines.slice(0, -1).map(line => line.split(`\t`)[0]);
  for (const command of [`version`, `completion`])
    assert.ok(values.includes(command), `${command} in ${values.join(` `)}`);
  assert.match(result.stderr, /About to call: .*kubectl_complete-pullsecret/);
});

test(`kubectl __complete pullsecret version -- returns the command's long flags`, () => {
  const result = runProgram(`kubectl`, [`__complete`, `pullsecret`, `version`, `--`], {env: pluginEnv(home)});
  assert.equal(result.stdout, `--verbose\tprint debug information (request log, stack traces); -v=N is accepted for kubectl parity\n--output\toutput format: json or yaml\n:4\n`);
});

test(`the completion executable is a symlink to the binary`, () => {
  assert.equal(fs.readlinkSync(path.join(DIST, `kubectl_complete-pullsecret`)), path.basename(BINARY));
});

test(`kubectl __complete pullsecret list -n '' lists the cluster's namespaces through the plugin`, async t => {
  const api = await startApiEmulator();
  t.after(() => api.stop());
  await api.seed.namespace(`team-web`);
  const started = Date.now();
  const result = await runProgramAsync(`kubectl`, [`__complete`, `pullsecret`, `list`, `-n`, ``], {env: pluginEnv(home, {KUBECONFIG: api.kubeconfigPath})});
  assert.ok(Date.now() - started < 5_000, `answered in ${Date.now() - started} ms`);
  assert.equal(result.code, 0, result.stderr);
  const lines = result.stdout.trimEnd().split(`\n`);
  assert.equal(lines.at(-1), `:4`);
  assert.ok(lines.includes(`team-web`), lines.join(` `));
  assert.ok(lines.includes(`kube-system`), lines.join(` `));
});

test(`the binary authenticates an auth-provider user with client-node, which it loads from its own asset on first use`, async t => {
  const api = await startApiEmulator();
  t.after(() => api.stop());
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), `plugin-auth-provider-`));
  t.after(() => fs.rmSync(dir, {recursive: true, force: true}));
  const kubeconfig = path.join(dir, `config`);
  fs.writeFileSync(kubeconfig, JSON.stringify({
    apiVersion: `v1`,
    kind: `Config`,
    clusters: [{name: `c`, cluster: {server: api.url, [`certificate-authority`]: api.caFile}}],
    users: [{name: `u`, user: {[`auth-provider`]: {name: `gcp`, config: {[`access-token`]: api.tokens.admin, expiry: new Date(Date.now() + 3600_000).toISOString()}}}}],
    contexts: [{name: `ctx`, context: {cluster: `c`, user: `u`}}],
    [`current-context`]: `ctx`,
  }));
  api.resetRequests();
  const result = await runProgramAsync(BINARY, [`add`, `regcred`, `--docker-server`, `r.example`, `--docker-username`, `u`, `--docker-password-stdin`, `--dry-run=server`, `--kubeconfig`, kubeconfig], {env: pluginEnv(home), input: `p`});
  assert.equal(result.code, 0, result.stderr);
  assert.match(result.stdout, /secret\/regcred created \(server dry run\)/);
  // The request went out with the provider's token (the emulator would have answered 401 otherwise).
  assert.ok(api.requests.some(request => request.method === `POST` && request.user === `admin`), JSON.stringify(api.requests.map(r => [r.method, r.path, r.user])));
});
