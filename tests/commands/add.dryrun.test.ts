import {test} from 'node:test';
import assert from 'node:assert/strict';
import {execFile, spawn} from 'node:child_process';
import fs from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import {PassThrough} from 'node:stream';
import {promisify} from 'node:util';
import {parse as parseYaml} from 'yaml';
import {runCli} from '../helpers/runCli.ts';

const execFileAsync = promisify(execFile);
const ROOT = path.resolve(import.meta.dirname, `../..`);
const NODE = path.join(ROOT, `node_modules/.bin/node`);
const MANAGED_BY = {'app.kubernetes.io/managed-by': `kubectl-pullsecret`};

/** The oracle: real kubectl, offline (`--kubeconfig=/dev/null`, client dry run). */
async function kubectlCreate(args: string[]): Promise<string> {
  const {stdout} = await execFileAsync(`kubectl`, [`--kubeconfig=/dev/null`, `create`, `secret`, `docker-registry`, ...args, `--dry-run=client`]);
  return stdout;
}

function decodedConfig(object: {data: Record<string, string>}): string {
  return Buffer.from(object.data[`.dockerconfigjson`]!, `base64`).toString(`utf8`);
}

/** Our object with the managed-by label removed, to compare with kubectl's. */
function withoutOurLabel(object: {metadata: {labels?: Record<string, string>}}) {
  assert.deepEqual(object.metadata.labels, MANAGED_BY);
  const {labels: _labels, ...metadata} = object.metadata;
  return {...object, metadata};
}

async function tempDir(t: {after: (fn: () => Promise<void>) => void}): Promise<string> {
  const dir = await fs.mkdtemp(path.join(os.tmpdir(), `pullsecret-add-`));
  t.after(() => fs.rm(dir, {recursive: true, force: true}));
  return dir;
}

test(`add --dry-run=client -o json prints the object kubectl prints, plus only our label`, async () => {
  const flags = [`--docker-server=registry.example.com`, `--docker-username=u`, `--docker-email=e@example.com`, `-n`, `ns`];
  const expected = JSON.parse(await kubectlCreate([`regcred`, ...flags, `--docker-password=p`, `-o`, `json`]));
  const ours = await runCli([`add`, `regcred`, ...flags, `--docker-password-stdin`, `--dry-run=client`, `-o`, `json`], {stdin: `p\n`});
  assert.equal(ours.code, 0, ours.stderr);
  const object = JSON.parse(ours.stdout);
  assert.deepEqual(withoutOurLabel(object), expected);
  assert.equal(decodedConfig(object), decodedConfig(expected));
  assert.equal(object.metadata.namespace, `ns`);
  assert.equal(object.metadata.creationTimestamp, null);
});

test(`add --dry-run=client -o yaml matches kubectl's YAML and leaves out the namespace without -n`, async () => {
  const expected = parseYaml(await kubectlCreate([`regcred`, `--docker-username=u`, `--docker-password=p`, `-o`, `yaml`]));
  const ours = await runCli([`add`, `regcred`, `--docker-username=u`, `--docker-password-stdin`, `--dry-run=client`, `-o`, `yaml`], {stdin: `p`});
  assert.equal(ours.code, 0, ours.stderr);
  const object = parseYaml(ours.stdout);
  assert.deepEqual(withoutOurLabel(object), expected);
  assert.equal(`namespace` in object.metadata, false);
  assert.match(decodedConfig(object), /"https:\/\/index\.docker\.io\/v1\/"/);
  assert.match(ours.stdout, /^ {2}creationTimestamp: null$/m);
});

test(`add --dry-run=client encodes HTML characters, colons and non-ASCII byte for byte like kubectl`, async () => {
  const flags = [`--docker-server=https://r.example.com:5000/v2/`, `--docker-username=a<b>&c`, `--docker-email=x&y@example.com`];
  const expected = JSON.parse(await kubectlCreate([`regcred`, ...flags, `--docker-password=pä:ss`, `-o`, `json`]));
  const ours = await runCli([`add`, `regcred`, ...flags, `--docker-password-stdin`, `--dry-run=client`, `-o`, `json`], {stdin: `pä:ss\n`});
  assert.equal(ours.code, 0, ours.stderr);
  assert.equal(decodedConfig(JSON.parse(ours.stdout)), decodedConfig(expected));
});

test(`add --dry-run=client -o name prints secret/NAME on stdout`, async () => {
  const result = await runCli([`add`, `regcred`, `--docker-username=u`, `--docker-password-stdin`, `--dry-run=client`, `-o`, `name`], {stdin: `p`});
  assert.equal(result.code, 0, result.stderr);
  assert.equal(result.stdout, `secret/regcred\n`);
});

test(`add --dry-run without -o says "created (dry run)" on stdout, like kubectl, and nothing on stderr`, async () => {
  const result = await runCli([`add`, `regcred`, `--docker-username=u`, `--docker-password-stdin`, `--dry-run`], {stdin: `p`});
  assert.equal(result.code, 0, result.stderr);
  assert.equal(result.stderr, ``);
  assert.equal(result.stdout, `secret/regcred created (dry run)\n`);
});

test(`add --dry-run=client needs no kubeconfig and never loads client-node`, async t => {
  const home = await tempDir(t);
  // A resolve hook reports every attempt to load @kubernetes/client-node.
  const hook = `data:text/javascript,${encodeURIComponent(`import {registerHooks} from 'node:module'; registerHooks({resolve(specifier, context, next) { if (specifier.includes('@kubernetes/client-node')) process.stderr.write('LOADED client-node\\n'); return next(specifier, context); }});`)}`;
  const child = spawn(NODE, [`--import`, hook, path.join(ROOT, `sources/main.ts`), `add`, `regcred`, `--docker-username=u`, `--docker-password-stdin`, `--dry-run=client`, `-o`, `json`], {
    env: {PATH: process.env.PATH, HOME: home, KUBECONFIG: path.join(home, `missing`)},
    stdio: [`pipe`, `pipe`, `pipe`],
  });
  child.stdin.end(`p`);
  let stdout = ``;
  let stderr = ``;
  child.stdout.on(`data`, chunk => stdout += chunk);
  child.stderr.on(`data`, chunk => stderr += chunk);
  const code = await new Promise(resolve => child.on(`close`, resolve));
  assert.equal(code, 0, stderr);
  assert.doesNotMatch(stderr, /LOADED client-node/);
  assert.equal(JSON.parse(stdout).metadata.name, `regcred`);
});

test(`add --docker-password-stdin removes exactly one trailing newline, and refuses a second rather than storing it`, async () => {
  const one = await runCli([`add`, `regcred`, `--docker-username=u`, `--docker-password-stdin`, `--dry-run=client`, `-o`, `json`], {stdin: `p\n`});
  assert.equal(one.code, 0, one.stderr);
  assert.equal(JSON.parse(decodedConfig(JSON.parse(one.stdout))).auths[`https://index.docker.io/v1/`].password, `p`);
  const two = await runCli([`add`, `regcred`, `--docker-username=u`, `--docker-password-stdin`, `--dry-run=client`, `-o`, `json`], {stdin: `p\n\n`});
  assert.equal(two.code, 2);
  assert.equal(two.stdout, ``);
  assert.equal(two.stderr, `error: the password ends with a line feed (\\n) (after the one trailing newline that is removed)\n`);
});

test(`add --docker-password-file reads the password and strips one newline`, async t => {
  const dir = await tempDir(t);
  await fs.writeFile(path.join(dir, `token.txt`), `s3cret\r\n`);
  const result = await runCli([`add`, `regcred`, `--docker-username=u`, `--docker-password-file`, `token.txt`, `--dry-run=client`, `-o`, `json`], {cwd: dir});
  assert.equal(result.code, 0, result.stderr);
  assert.equal(JSON.parse(decodedConfig(JSON.parse(result.stdout))).auths[`https://index.docker.io/v1/`].password, `s3cret`);
});

test(`add --docker-password warns like docker login that argv is visible`, async () => {
  const result = await runCli([`add`, `regcred`, `--docker-username=u`, `--docker-password=p`, `--dry-run=client`]);
  assert.equal(result.code, 0, result.stderr);
  assert.match(result.stderr, /^WARNING! Using --docker-password via the CLI is insecure\. Use --docker-password-stdin\.$/m);
});

test(`add prompts for the password on a terminal without echoing it`, async () => {
  const rawModes: boolean[] = [];
  const stdin = Object.assign(new PassThrough(), {isTTY: true, setRawMode: (mode: boolean) => rawModes.push(mode)});
  setTimeout(() => stdin.write(`hunter2x\u007f\r`), 20);
  const result = await runCli([`add`, `regcred`, `--docker-username=u`, `--dry-run=client`, `-o`, `json`], {context: {stdin}});
  assert.equal(result.code, 0, result.stderr);
  assert.deepEqual(rawModes, [true, false]);
  assert.match(result.stderr, /^Password for u@https:\/\/index\.docker\.io\/v1\/: \n/);
  assert.doesNotMatch(result.stderr, /hunter2/);
  assert.equal(JSON.parse(decodedConfig(JSON.parse(result.stdout))).auths[`https://index.docker.io/v1/`].password, `hunter2`);
});

const badInputs: Array<[string, string[], RegExp, {stdin?: string}?]> = [
  [`no password source off a terminal`, [`--docker-username=u`], /^error: no password given: use --docker-password-stdin, --docker-password-file or run in a terminal$/m],
  [`a missing username`, [`--docker-password-stdin`], /^error: missing --docker-username/m, {stdin: `p`}],
  [`an invalid secret name`, [`--docker-username=u`, `--docker-password-stdin`], /^error: invalid secret name "Reg_Cred"/m, {stdin: `p`}],
  [`two password sources`, [`--docker-username=u`, `--docker-password=p`, `--docker-password-stdin`], /^error: --docker-password and --docker-password-stdin cannot be combined/m],
  [`--from-docker-config with --docker-username`, [`--from-docker-config`, `--docker-username=u`], /^error: --from-docker-config cannot be combined with --docker-username/m],
  [`an unreadable password file`, [`--docker-username=u`, `--docker-password-file=/nonexistent/token`], /^error: cannot read --docker-password-file \/nonexistent\/token: no such file$/m],
  [`an empty password`, [`--docker-username=u`, `--docker-password-stdin`], /^error: the password is empty: give the registry password or token on stdin or in the file$/m, {stdin: `\n`}],
  [`an unknown --dry-run value`, [`--docker-username=u`, `--docker-password=p`, `--dry-run=maybe`], /^error: invalid value "maybe" for --dry-run/m],
  [`an unknown output format`, [`--docker-username=u`, `--docker-password=p`, `-o`, `wide`], /^error: unsupported output format "wide"/m],
  [`--attach=all mixed with names`, [`--docker-username=u`, `--docker-password=p`, `--attach=all,ci`], /^error: --attach=all means every ServiceAccount/m],
  [`--from-docker-config with --from-podman-auth`, [`--from-docker-config`, `--from-podman-auth`], /^error: --from-docker-config and --from-podman-auth cannot be combined/m],
  [`--dry-run=client with -A`, [`--docker-username=u`, `--docker-password=p`, `-A`], /^error: --dry-run=client cannot list namespaces for -A/m],
  [`--registry without a config file`, [`--docker-username=u`, `--docker-password=p`, `--registry`, `ghcr.io`], /^error: --registry only applies with --from-docker-config/m],
];
for (const [what, flags, message, options] of badInputs) {
  test(`add refuses ${what} with one error line, exit 2 and nothing on stdout`, async () => {
    const name = what === `an invalid secret name` ? `Reg_Cred` : `regcred`;
    const dryRun = flags.some(flag => flag.startsWith(`--dry-run`)) ? [] : [`--dry-run=client`];
    const result = await runCli([`add`, name, ...flags, ...dryRun], {stdin: options?.stdin});
    assert.equal(result.code, 2, result.stderr);
    assert.match(result.stderr, message);
    assert.equal(result.stderr.split(`\n`).filter(line => line.startsWith(`error:`)).length, 1);
    assert.equal(result.stdout, ``);
  });
}

test(`a username from a file with Windows line endings ("$(cat user.txt)" keeps the \r) is refused with one line naming the character`, async t => {
  const dir = await tempDir(t);
  await fs.writeFile(path.join(dir, `user.txt`), `developer\r\n`);
  // The shell's $(…) strips the \n but keeps the \r, exactly as a user's command line does.
  const {stdout: username} = await execFileAsync(`sh`, [`-c`, `printf %s "$(cat user.txt)"`], {cwd: dir});
  assert.equal(username, `developer\r`);
  const result = await runCli([`add`, `regcred`, `--docker-username=${username}`, `--docker-password-stdin`, `--dry-run=client`, `-o`, `yaml`], {stdin: `pw\n`});
  assert.equal(result.code, 2);
  assert.equal(result.stdout, ``);
  assert.equal(result.stderr, `error: --docker-username ends with a carriage return (\\r) (a file with Windows line endings? remove them, e.g. with tr -d '\\r')\nSee 'kubectl pullsecret add --help' for usage.\n`);
});

test(`a password file ending in two Windows line breaks is refused (one trailing newline is stripped, the rest would be stored)`, async t => {
  const dir = await tempDir(t);
  const file = path.join(dir, `password.txt`);
  await fs.writeFile(file, `s3cret\r\n\r\n`);
  const result = await runCli([`add`, `regcred`, `--docker-username=developer`, `--docker-password-file`, file, `--dry-run=client`, `-o`, `yaml`]);
  assert.equal(result.code, 2);
  assert.equal(result.stdout, ``);
  assert.equal(result.stderr, `error: the password contains a carriage return (\\r) (a file with Windows line endings? remove them, e.g. with tr -d '\\r') (after the one trailing newline that is removed)\n`);
  assert.doesNotMatch(result.stderr, /s3cret/);
  // One trailing CRLF alone is still stripped, as today.
  await fs.writeFile(file, `s3cret\r\n`);
  const ok = await runCli([`add`, `regcred`, `--docker-username=developer`, `--docker-password-file`, file, `--dry-run=client`, `-o`, `json`]);
  assert.equal(ok.code, 0, ok.stderr);
  const auth = JSON.parse(Buffer.from(JSON.parse(ok.stdout).data[`.dockerconfigjson`], `base64`).toString()).auths[`https://index.docker.io/v1/`];
  assert.equal(auth.password, `s3cret`);
});

test(`kubectl's --from-file and --append-hash, which add does not take, are refused with one line saying what to use instead`, async () => {
  const fromFile = await runCli([`add`, `regcred`, `--from-file=.dockerconfigjson=config.json`, `--dry-run=client`]);
  assert.equal(fromFile.code, 2);
  assert.equal(fromFile.stdout, ``);
  assert.match(fromFile.stderr, /^error: --from-file is not supported by add .*use --from-docker-config=PATH/);
  const appendHash = await runCli([`add`, `regcred`, `--docker-username=u`, `--docker-password-stdin`, `--append-hash`, `--dry-run=client`], {stdin: `p\n`});
  assert.equal(appendHash.code, 2);
  assert.match(appendHash.stderr, /^error: --append-hash is not supported by add/);
});

test(`add warns about keys the kubelet never matches, as explain and decode do`, async () => {
  for (const [server, pattern] of [
    [`registry-1.docker.io`, /never matches registry-1\.docker\.io keys to Docker Hub images/],
    [`docker://ghcr.io`, /only lowercase "https:\/\/" and "http:\/\/" prefixes, so key "docker:\/\/ghcr\.io" is read as a host named "docker:" and never matches; write the host alone, e\.g\. "ghcr\.io"/],
    [`GHCR.IO`, /key "GHCR\.IO" never matches; write "ghcr\.io"/],
  ] as const) {
    const result = await runCli([`add`, `x`, `--docker-server`, server, `--docker-username`, `u`, `--docker-password-stdin`, `--dry-run=client`], {stdin: `p\n`});
    assert.equal(result.code, 0, result.stderr);
    assert.match(result.stderr, new RegExp(`^warning: registry ${server.replace(/[.*+?^${}()|[\]\\/]/g, `\\$&`)}: `, `m`));
    assert.match(result.stderr, pattern);
  }
});

test(`decode -f warns about a docker:// key and an uppercase host, which the kubelet never matches`, async t => {
  const dir = await tempDir(t);
  const file = path.join(dir, `config.json`);
  const config = JSON.stringify({auths: {'docker://ghcr.io': {auth: Buffer.from(`u:p`).toString(`base64`)}, 'QUAY.IO': {auth: Buffer.from(`u:p`).toString(`base64`)}}});
  await fs.writeFile(file, JSON.stringify({apiVersion: `v1`, kind: `Secret`, metadata: {name: `regcred`}, type: `kubernetes.io/dockerconfigjson`, data: {'.dockerconfigjson': Buffer.from(config).toString(`base64`)}}));
  const result = await runCli([`decode`, `-f`, file]);
  assert.match(result.stderr, /entry "docker:\/\/ghcr\.io": the kubelet recognises only lowercase/);
  assert.match(result.stderr, /entry "QUAY\.IO": image hosts are lowercase/);
});
