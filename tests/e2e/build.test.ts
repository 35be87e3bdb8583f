import {before, test} from 'node:test';
import assert from 'node:assert/strict';
import crypto from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import {BUNDLE, ROOT, assertNoDynamicImport, heavyPackagesEvaluatedBy, makeBlob} from '../../scripts/lib/sea.ts';
import {BINARY, ensureBinary, pluginEnv, runProgram} from '../helpers/binary.ts';

before(async () => {
  await ensureBinary();
});

/** Writes fixture entry points inside the repository, so that they resolve the project's node_modules. */
function fixtureDir(t: {after: (fn: () => void) => void}): string {
  fs.mkdirSync(path.join(ROOT, `.tmp`), {recursive: true});
  const dir = fs.mkdtempSync(path.join(ROOT, `.tmp`, `build-fixture-`));
  t.after(() => fs.rmSync(dir, {recursive: true, force: true}));
  return dir;
}

test(`the bundle is one CommonJS file with no dynamic import( left in it`, () => {
  const text = fs.readFileSync(BUNDLE, `utf8`);
  assert.doesNotThrow(() => assertNoDynamicImport(text, BUNDLE));
  assert.doesNotMatch(text, /^\s*(import|export)\s[^(]/m, `no ESM syntax`);
});

test(`the dynamic-import check rejects a bundle that still contains import(`, () => {
  assert.throws(() => assertNoDynamicImport(`var a=1;async function f(){return import("typanion")}`, BUNDLE), /dynamic import\(/);
  assert.throws(() => assertNoDynamicImport(`x=await import ('./x.js')`, BUNDLE), /dynamic import\(/);
  assert.doesNotThrow(() => assertNoDynamicImport(`obj.import("a");var reimport=1;`, BUNDLE));
});

test(`--help and version of the real CLI do not evaluate @kubernetes/client-node or undici`, async () => {
  const results = await heavyPackagesEvaluatedBy([[`--help`], [`version`], [`__complete`, ``]]);
  for (const {args, packages} of results)
    assert.deepEqual(packages, [], `${args.join(` `)} evaluated ${packages.join(`, `)}`);
});

test(`the lazy-load probe detects an eager import of @kubernetes/client-node`, async t => {
  const dir = fixtureDir(t);
  const entry = path.join(dir, `eager.ts`);
  fs.writeFileSync(entry, `import {KubeConfig} from '@kubernetes/client-node';\nprocess.stdout.write(typeof KubeConfig);\n`);
  const [result] = await heavyPackagesEvaluatedBy([[`--help`]], {entry});
  assert.deepEqual([...result!.packages].sort(), [`@kubernetes/client-node`, `undici`]);
});

test(`the lazy-load probe sees a lazily imported re-export module only when it is used`, async t => {
  const dir = fixtureDir(t);
  fs.writeFileSync(path.join(dir, `clientNode.ts`), `export {KubeConfig} from '@kubernetes/client-node';\n`);
  const entry = path.join(dir, `lazy.ts`);
  fs.writeFileSync(entry, `async function main() {\n  if (process.argv[2] === 'connect') {\n    const {KubeConfig} = await import('./clientNode.ts');\n    process.stdout.write(typeof KubeConfig);\n  }\n}\nvoid main();\n`);
  const [help, connect] = await heavyPackagesEvaluatedBy([[`--help`], [`connect`]], {entry});
  assert.deepEqual(help!.packages, []);
  assert.ok(connect!.packages.includes(`@kubernetes/client-node`));
});

test(`the binary starts without the experimental SEA warning and with nothing on stderr, and V8 accepts its code cache`, t => {
  const home = fixtureDir(t);
  const result = runProgram(BINARY, [`version`], {env: pluginEnv(home)});
  assert.equal(result.code, 0);
  assert.equal(result.stderr, ``);
  assert.match(result.stdout, /^kubectl-pullsecret \d+\.\d+\.\d+\S* \(commit ([0-9a-f]{7,}|unknown), node v\d+\.\d+\.\d+\)\n$/);
  // The binary is the very node that built it (the one running this test), so its code cache fits it.
  assert.ok(result.stdout.includes(`node ${process.version})`), result.stdout);
  const debug = runProgram(BINARY, [`version`], {env: {...pluginEnv(home), PULLSECRET_DEBUG_STARTUP: `1`}});
  assert.equal(debug.stderr, `start-up: code cache accepted\n`);
});

test(`the executable's blob (bundle, code cache) holds nothing of the machine that built it: no environment value, HOME, kubeconfig token or Docker password`, t => {
  // The blob is made, and the code-cache warm-up run, with canaries everywhere a careless read could pick them up
  // (process.env, os.homedir(), ~/.kube/config, ~/.docker/config.json, a proxy URL with a password); none may end up in it.
  const dir = fixtureDir(t);
  const canary = (what: string) => `${what}-canary-${crypto.randomUUID()}`;
  const home = path.join(dir, canary(`home`));
  const token = canary(`token`);
  const password = canary(`password`);
  const envValue = canary(`env`);
  fs.mkdirSync(path.join(home, `.kube`), {recursive: true});
  fs.mkdirSync(path.join(home, `.docker`));
  fs.writeFileSync(path.join(home, `.kube`, `config`), `apiVersion: v1\nkind: Config\nclusters:\n- name: c\n  cluster:\n    server: https://127.0.0.1:6443\ncontexts:\n- name: c\n  context:\n    cluster: c\n    user: u\ncurrent-context: c\nusers:\n- name: u\n  user:\n    token: ${token}\n`);
  const auth = Buffer.from(`user:${password}`).toString(`base64`);
  fs.writeFileSync(path.join(home, `.docker`, `config.json`), JSON.stringify({auths: {'registry.example.com': {auth}}}));
  const blob = path.join(dir, `sea.blob`);
  makeBlob({node: process.execPath, blob, codeCache: true, env: {
    PATH: process.env.PATH,
    HOME: home,
    KUBECONFIG: path.join(home, `.kube`, `config`),
    DOCKER_CONFIG: path.join(home, `.docker`),
    HTTPS_PROXY: `http://user:${password}@127.0.0.1:9`,
    PULLSECRET_BUILD_CANARY: envValue,
  }});
  const bytes = fs.readFileSync(blob);
  assert.ok(bytes.length > 1_000_000, `a blob was written (${bytes.length} bytes)`);
  for (const [what, value] of [[`the kubeconfig token`, token], [`the Docker password`, password], [`the Docker auth`, auth], [`an environment value`, envValue], [`the HOME directory`, home]] as const) {
    for (const encoding of [`utf8`, `utf16le`] as const)
      assert.equal(bytes.indexOf(Buffer.from(value, encoding)), -1, `${what} of the build machine is in the blob (${encoding})`);
  }
});

test(`the binary prints the overview the build rendered from the commands' declarations, for every way of asking, and only then`, async t => {
  const home = fixtureDir(t);
  const {renderOverview} = await import(`../../sources/cli.ts`);
  const {COMMANDS} = await import(`../../sources/commands/all.ts`);
  const expected = renderOverview(COMMANDS);
  for (const args of [[], [`--help`], [`-h`], [`help`]]) {
    const result = runProgram(BINARY, args, {env: pluginEnv(home)});
    assert.deepEqual([result.code, result.stdout, result.stderr], [0, expected, ``], args.join(` `));
  }
  // kubectl's completion runs the symlink with the words typed so far: that is completion, not the overview.
  const completion = runProgram(path.join(path.dirname(BINARY), `kubectl_complete-pullsecret`), [], {env: pluginEnv(home)});
  assert.equal(completion.code, 0);
  assert.match(completion.stdout, /^add\t/m);
  assert.notEqual(completion.stdout, expected);
  // `help COMMAND` is that command's usage, from the bundle.
  assert.match(runProgram(BINARY, [`help`, `add`], {env: pluginEnv(home)}).stdout, /kubectl pullsecret add/);
});

test(`the binary writing to a pipe its reader already closed (| true) ends quietly with its own exit code, for the overview and for a command`, t => {
  const home = fixtureDir(t);
  for (const args of [[`--help`], [`completion`, `bash`]]) {
    // `true` reads nothing and exits at once, so the binary's write meets a closed pipe (EPIPE); pipefail keeps its code.
    const result = runProgram(`bash`, [`-o`, `pipefail`, `-c`, `"$0" "$@" | true`, BINARY, ...args], {env: pluginEnv(home)});
    assert.deepEqual([result.code, result.stderr], [0, ``], args.join(` `));
  }
});

test(`the binary reads and writes YAML as the sources do (in the bundle the yaml package loads on first use)`, async t => {
  const dir = fixtureDir(t);
  const {runCli} = await import(`../helpers/runCli.ts`);
  const add = [`add`, `regcred`, `--docker-server`, `r.example.com`, `--docker-username`, `u`, `--docker-password-stdin`, `--dry-run=client`, `-o`, `yaml`];
  const binary = runProgram(BINARY, add, {env: pluginEnv(dir), input: `p`});
  const sources = await runCli(add, {stdin: `p`, home: dir});
  assert.equal(binary.code, 0, binary.stderr);
  assert.equal(binary.stdout, sources.stdout);
  assert.match(binary.stdout, /^kind: Secret$/m);
  // A YAML manifest read back (the Docker config reader of the core parses it with the yaml package).
  const manifest = path.join(dir, `secret.yaml`);
  fs.writeFileSync(manifest, binary.stdout);
  const decoded = runProgram(BINARY, [`decode`, `-f`, manifest], {env: pluginEnv(dir)});
  assert.equal(decoded.code, 0, decoded.stderr);
  assert.equal(decoded.stdout, (await runCli([`decode`, `-f`, manifest], {home: dir})).stdout);
  assert.match(decoded.stdout, /r\.example\.com/);
  // A kubeconfig in flow style (read by the yaml package, not the block reader): its error names the missing context.
  const kubeconfig = path.join(dir, `flow.kubeconfig`);
  fs.writeFileSync(kubeconfig, `apiVersion: v1\nclusters: [{name: c, cluster: {server: "https://127.0.0.1:9"}}]\ncontexts: [{name: c, context: {cluster: c, user: u}}]\ncurrent-context: c\nusers: [{name: u, user: {token: t}}]\n`);
  const missing = runProgram(BINARY, [`list`, `-n`, `ci`, `--kubeconfig`, kubeconfig, `--context`, `nope`], {env: pluginEnv(dir)});
  assert.notEqual(missing.code, 0);
  assert.match(missing.stderr, /context "nope"/);
});

test(`the bundle requires each Node built-in once, in its facade (its exports are not copied at every importer)`, () => {
  const text = fs.readFileSync(BUNDLE, `utf8`);
  const counts = new Map<string, number>();
  for (const [, name] of text.matchAll(/require\("(node:[a-z_/]+)"\)/g))
    counts.set(name!, (counts.get(name!) ?? 0) + 1);
  // Without the facades each importer required the module for itself (node:path 8 times, node:fs 5).
  assert.ok(counts.get(`node:fs`)! >= 1);
  assert.deepEqual([...counts].filter(([, count]) => count > 1), []);
});
