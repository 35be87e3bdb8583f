// Secret hygiene sweep (issue 7 §5): every command that can touch a credential runs with -v and -v=9 against the
// API emulator and a real registry (docker-registry, htpasswd), with known passwords. The password, its JSON and
// URL escapes, its base64, the `auth` value (base64 of user:password) and every `.dockerconfigjson` base64 the run
// produced must never appear in stdout or stderr, except in output the user asked for (--reveal, -o json|yaml of a
// secret by add/decode --reveal). No new or changed file under os.tmpdir() or HOME may hold a password, and a
// credential helper gets the server URL on stdin and nothing but `get` in argv.
import assert from 'node:assert/strict';
import crypto from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import {after, before, test} from 'node:test';
import {runCli} from '../helpers/runCli.ts';
import type {CliResult} from '../helpers/runCli.ts';
import {startApiEmulator} from '../helpers/apiEmulator/index.ts';
import type {ApiEmulator} from '../helpers/apiEmulator/index.ts';
import {startRegistry} from '../helpers/registry/index.ts';
import type {TestRegistry} from '../helpers/registry/index.ts';
import {echoingInvalid, startHostileApi} from '../helpers/hostileApi.ts';
import {sendJson, startHostileServer} from '../helpers/registry/hostileServer.ts';
import type {SeenRequest} from '../helpers/registry/hostileServer.ts';
import {b64} from '../helpers/encoding.ts';

// A password with characters that JSON encoders (Go's, kubectl's) and URLs escape, one long random one (bob's,
// the rotation target), one a credential helper hands out, and a wrong one that the registry rejects.
// `random` is the random part: any 8 characters of it in the output count as a leak (a truncated echo, a parser's
// snippet of the text around an error).
const randomPart = () => crypto.randomBytes(48).toString(`base64url`);
type Credential = {user: string; password: string; random?: string};
const credential = (user: string, prefix: string): Credential => {
  const random = randomPart();
  return {user, password: `${prefix}${random}`, random};
};
// Unique per run too, so that files of a concurrent run of this test never look like a leak of this one.
const ALICE: Credential = {user: `alice`, password: `Pa55-w0rd!<&>${crypto.randomBytes(4).toString(`hex`)}`};
const BOB = credential(`bob`, `R`);
const HELPER = credential(`helper-bot`, `Helper-`);
const WRONG = credential(`alice`, `Wrong-`);
const ALL = [ALICE, BOB, HELPER, WRONG];

let api: ApiEmulator;
let registry: TestRegistry;
let image: string;
const tmp = fs.mkdtempSync(path.join(os.tmpdir(), `hygiene-sweep-`));
const home = path.join(tmp, `home`);
const bin = path.join(tmp, `bin`);
const helperLog = path.join(tmp, `helper-calls.log`);
/** Every `.dockerconfigjson` value seen in the cluster during the run (they change with add/rotate). */
const payloads = new Set<string>();

/** docker-credential-x: records argv and stdin (one block per call), answers with HELPER's credentials. */
const HELPER_SCRIPT = `#!/bin/sh
url=$(cat)
{ printf 'argv:'; for a in "$0" "$@"; do printf ' [%s]' "$a"; done; printf '\\nstdin: [%s]\\n' "$url"; } >> '${helperLog}'
printf '{"ServerURL":"%s","Username":"${HELPER.user}","Secret":"${HELPER.password}"}' "$url"
`;

before(async () => {
  fs.mkdirSync(path.join(home, `.docker`), {recursive: true});
  fs.mkdirSync(bin);
  fs.writeFileSync(path.join(bin, `docker-credential-x`), HELPER_SCRIPT, {mode: 0o755});
  registry = await startRegistry({mode: `basic`, users: {[ALICE.user]: ALICE.password, [BOB.user]: BOB.password, [HELPER.user]: HELPER.password}});
  await registry.push(`team/app`, `v1`);
  image = `${registry.host}/team/app:v1`;
  api = await startApiEmulator();
  for (const ns of [`web`, `copies`])
    api.seed.namespace(ns);
  const spec = (secret: string) => ({containers: [{name: `app`, image}], imagePullSecrets: [{name: secret}]});
  api.seed.workload(`Deployment`, `web`, `api`, spec(`regcred`));
  // A pod failing with a secret whose password the registry rejects, for doctor.
  api.seed.secret(`web`, {metadata: {name: `stale`}, type: `kubernetes.io/dockerconfigjson`, data: {'.dockerconfigjson': b64(JSON.stringify({auths: {[registry.host]: {auth: b64(`${WRONG.user}:${WRONG.password}`)}}}))}});
  api.seed.pod(`web`, `broken`, spec(`stale`), {waiting: `ErrImagePull`});
  collectPayloads();
});
after(async () => {
  await api?.stop();
  await registry?.stop();
  fs.rmSync(tmp, {recursive: true, force: true});
});

function collectPayloads(): void {
  for (const secret of api.objects(`secrets`)) {
    for (const key of [`.dockerconfigjson`, `.dockercfg`]) {
      const value = secret.data?.[key];
      if (typeof value === `string` && value.length > 20)
        payloads.add(value);
    }
  }
}

/** Every form in which a credential could leak. */
function forbidden(): Array<{label: string; text: string}> {
  const out: Array<{label: string; text: string}> = [];
  for (const {user, password, random} of ALL) {
    out.push({label: `${user}'s password`, text: password});
    out.push({label: `${user}'s password, JSON-escaped`, text: JSON.stringify(password).slice(1, -1).replace(/</g, `\\u003c`).replace(/>/g, `\\u003e`).replace(/&/g, `\\u0026`)});
    out.push({label: `${user}'s password, URL-encoded`, text: encodeURIComponent(password)});
    out.push({label: `${user}'s password in base64`, text: b64(password)});
    out.push({label: `${user}'s auth value`, text: b64(`${user}:${password}`)});
    for (let i = 0; random !== undefined && i + 8 <= random.length; i++)
      out.push({label: `${user}'s password, 8 of its characters`, text: random.slice(i, i + 8)});
  }
  for (const payload of payloads)
    out.push({label: `a .dockerconfigjson base64`, text: payload.slice(0, 40)});
  return out;
}

function leaks(text: string): string[] {
  return forbidden().filter(({text: secret}) => text.includes(secret)).map(({label}) => label);
}

type Run = {what: string; result: CliResult; allowStdout?: boolean};

/** Runs the CLI against the emulator with a HOME, a PATH holding the credential helper and no proxy settings. */
async function cli(argv: string[], options: {stdin?: string; kube?: boolean} = {}): Promise<CliResult> {
  const kube = options.kube ?? true;
  const result = await runCli([...argv, ...(kube ? [`--kubeconfig`, api.kubeconfigPath] : [])], {
    env: {PATH: `${bin}:/usr/bin:/bin`, HOME: home},
    home,
    cwd: tmp,
    stdin: options.stdin,
  });
  collectPayloads();
  return result;
}

function assertClean(runs: Run[]): void {
  for (const {what, result, allowStdout} of runs) {
    const stderrLeaks = leaks(result.stderr);
    assert.deepEqual(stderrLeaks, [], `${what}: stderr holds ${stderrLeaks.join(`, `)}\n${result.stderr}`);
    if (!allowStdout) {
      const stdoutLeaks = leaks(result.stdout);
      assert.deepEqual(stdoutLeaks, [], `${what}: stdout holds ${stdoutLeaks.join(`, `)}\n${result.stdout}`);
    }
  }
}

/** Files (path → mtime:size) under the temp dir and HOME, to find what a run created or changed. */
function snapshot(): Map<string, string> {
  const files = new Map<string, string>();
  const walk = (dir: string, depth: number) => {
    let entries: fs.Dirent[];
    try {
      entries = fs.readdirSync(dir, {withFileTypes: true});
    } catch {
      return; // removed meanwhile by another test, or unreadable
    }
    for (const entry of entries) {
      const file = path.join(dir, entry.name);
      if (entry.isDirectory() && depth < 12)
        walk(file, depth + 1);
      else if (entry.isFile()) {
        try {
          const stat = fs.statSync(file);
          files.set(file, `${stat.mtimeMs}:${stat.size}`);
        } catch {
          // gone
        }
      }
    }
  };
  walk(os.tmpdir(), 0);
  walk(home, 0);
  return files;
}

/** Runs `body`, then greps every file created or changed meanwhile under os.tmpdir() and HOME for the passwords. */
async function withoutSecretFiles(body: () => Promise<void>): Promise<void> {
  const before = snapshot();
  await body();
  const secrets = ALL.flatMap(({user, password}) => [password, b64(password), b64(`${user}:${password}`)]);
  const offending: string[] = [];
  for (const [file, stamp] of snapshot()) {
    if (before.get(file) === stamp || file === helperLog)
      continue;
    let content: Buffer;
    try {
      if (fs.statSync(file).size > 8 * 1024 * 1024)
        continue;
      content = fs.readFileSync(file);
    } catch {
      continue;
    }
    if (secrets.some(secret => content.includes(secret)))
      offending.push(file);
  }
  assert.deepEqual(offending, [], `new or changed files hold a password`);
}

test(`add from stdin, a password file and --docker-password prints no credential with -v or -v=9, and warns about the flag`, async () => {
  const runs: Run[] = [];
  const passwordFile = path.join(tmp, `alice.pw`);
  fs.writeFileSync(passwordFile, `${ALICE.password}\n`, {mode: 0o600});
  await withoutSecretFiles(async () => {
    const server = [`--docker-server`, registry.host, `--docker-username`, ALICE.user];
    for (const verbosity of [`-v`, `-v=9`]) {
      runs.push({what: `add stdin ${verbosity}`, result: await cli([`add`, `regcred`, `-n`, `web`, ...server, `--docker-password-stdin`, verbosity], {stdin: `${ALICE.password}\n`})});
      runs.push({what: `add file ${verbosity}`, result: await cli([`add`, `filecred`, `-n`, `web`, ...server, `--docker-password-file`, passwordFile, verbosity])});
      runs.push({what: `add unchanged ${verbosity}`, result: await cli([`add`, `regcred`, `-n`, `web`, ...server, `--docker-password-stdin`, verbosity], {stdin: ALICE.password})});
      runs.push({what: `add server dry run ${verbosity}`, result: await cli([`add`, `dry`, `-n`, `web`, ...server, `--docker-password-stdin`, `--dry-run=server`, verbosity], {stdin: ALICE.password})});
    }
    const flag = await cli([`add`, `flagcred`, `-n`, `web`, ...server, `--docker-password`, ALICE.password, `-v=9`]);
    runs.push({what: `add --docker-password -v=9`, result: flag});
    assert.equal(flag.code, 0, flag.stderr);
    assert.match(flag.stderr, /^WARNING! Using --docker-password via the CLI is insecure\. Use --docker-password-stdin\.$/m);
    // The secret printed on request holds the credentials (so the checks above look at real material).
    const printed = await cli([`add`, `printed`, `-n`, `web`, ...server, `--docker-password-stdin`, `-o`, `yaml`, `-v=9`], {stdin: ALICE.password});
    runs.push({what: `add -o yaml`, result: printed, allowStdout: true});
    assert.ok(printed.stdout.includes(b64(JSON.stringify({auths: {[registry.host]: {username: ALICE.user, password: ALICE.password, auth: b64(`${ALICE.user}:${ALICE.password}`)}}}).replace(/</g, `\\u003c`).replace(/>/g, `\\u003e`).replace(/&/g, `\\u0026`))), printed.stdout);
  });
  for (const {what, result} of runs)
    assert.equal(result.code, 0, `${what}: ${result.stderr}`);
  assert.ok(api.getObject(`secrets`, `web`, `regcred`), `the secret was created`);
  assertClean(runs);
});

test(`add and rotate --from-docker-config run the credential helper with the server URL on stdin and only "get" in argv`, async () => {
  fs.rmSync(helperLog, {force: true});
  fs.writeFileSync(path.join(home, `.docker`, `config.json`), JSON.stringify({auths: {[registry.host]: {}}, credsStore: `x`}));
  const runs: Run[] = [];
  await withoutSecretFiles(async () => {
    runs.push({what: `add --from-docker-config -v=9`, result: await cli([`add`, `helpercred`, `-n`, `web`, `--from-docker-config`, `-v=9`])});
    runs.push({what: `rotate --from-docker-config -v=9`, result: await cli([`rotate`, `helpercred`, `-n`, `web`, `--from-docker-config`, `-v=9`])});
  });
  for (const {what, result} of runs)
    assert.equal(result.code, 0, `${what}: ${result.stderr}`);
  const calls = fs.readFileSync(helperLog, `utf8`).trim().split(`\n`);
  assert.ok(calls.length >= 4, `the helper was called by add and rotate:\n${calls.join(`\n`)}`);
  for (let i = 0; i < calls.length; i += 2) {
    assert.equal(calls[i], `argv: [${path.join(bin, `docker-credential-x`)}] [get]`);
    assert.equal(calls[i + 1], `stdin: [${registry.host}]`);
  }
  const stored = JSON.parse(Buffer.from(api.getObject(`secrets`, `web`, `helpercred`).data[`.dockerconfigjson`], `base64`).toString(`utf8`));
  assert.equal(stored.auths[registry.host].password, HELPER.password, `the helper's answer reached the secret`);
  assertClean(runs);
});

test(`attach, sync, list, decode, explain and remove print no credential with -v=9`, async () => {
  const runs: Run[] = [];
  await withoutSecretFiles(async () => {
    for (const verbosity of [`-v`, `-v=9`]) {
      runs.push({what: `attach ${verbosity}`, result: await cli([`attach`, `regcred`, `-n`, `web`, verbosity])});
      runs.push({what: `sync ${verbosity}`, result: await cli([`sync`, `regcred`, `--from-namespace`, `web`, `-n`, `copies`, `--attach`, verbosity])});
      for (const format of [[], [`-o`, `wide`], [`-o`, `json`], [`-o`, `yaml`]])
        runs.push({what: `list ${format.join(` `)} ${verbosity}`, result: await cli([`list`, `-A`, ...format, verbosity])});
      for (const format of [[], [`-o`, `json`], [`-o`, `yaml`]]) {
        runs.push({what: `decode ${format.join(` `)} ${verbosity}`, result: await cli([`decode`, `regcred`, `-n`, `web`, ...format, verbosity])});
        runs.push({what: `explain --secret ${format.join(` `)} ${verbosity}`, result: await cli([`explain`, image, `-n`, `web`, `--secret`, `regcred`, `--secret`, `stale`, ...format, verbosity])});
        runs.push({what: `explain --service-account ${format.join(` `)} ${verbosity}`, result: await cli([`explain`, image, `-n`, `copies`, ...format, verbosity])});
      }
    }
    const revealed = await cli([`decode`, `regcred`, `-n`, `web`, `--reveal`, `-v=9`]);
    assert.ok(revealed.stdout.includes(ALICE.password), `--reveal shows the password`);
    assert.ok(leaks(revealed.stdout).length > 0, `the leak detector sees the revealed password`);
    runs.push({what: `decode --reveal`, result: revealed, allowStdout: true});
    runs.push({what: `remove -v=9`, result: await cli([`remove`, `regcred`, `-n`, `copies`, `-v=9`])});
  });
  for (const {what, result} of runs) {
    if (!what.startsWith(`explain --secret`)) // stale's wrong password only fails verify, explain is fine either way
      assert.equal(result.code, 0, `${what}: ${result.stderr}`);
  }
  assert.equal(api.getObject(`secrets`, `copies`, `regcred`), undefined, `remove deleted the copy`);
  assertClean(runs);
});

test(`explain --docker-config and decode -f of files holding the password print no credential`, async () => {
  const config = path.join(tmp, `alice-config.json`);
  fs.writeFileSync(config, JSON.stringify({auths: {[registry.host]: {auth: b64(`${ALICE.user}:${ALICE.password}`)}}}));
  const manifest = path.join(tmp, `secret.yaml`);
  fs.writeFileSync(manifest, `apiVersion: v1\nkind: Secret\nmetadata:\n  name: shipped\ntype: kubernetes.io/dockerconfigjson\nstringData:\n  .dockerconfigjson: '${JSON.stringify({auths: {[registry.host]: {username: BOB.user, password: BOB.password}}})}'\n`);
  const runs: Run[] = [];
  await withoutSecretFiles(async () => {
    for (const format of [[], [`-o`, `json`], [`-o`, `yaml`]]) {
      runs.push({what: `explain --docker-config ${format.join(` `)}`, result: await cli([`explain`, image, `--docker-config`, config, `--docker-config`, manifest, ...format, `-v=9`], {kube: false})});
      runs.push({what: `explain --docker-config - ${format.join(` `)}`, result: await cli([`explain`, image, `--docker-config`, `-`, ...format, `-v=9`], {kube: false, stdin: fs.readFileSync(manifest, `utf8`)})});
      runs.push({what: `decode -f ${format.join(` `)}`, result: await cli([`decode`, `-f`, manifest, ...format, `-v=9`], {kube: false})});
    }
  });
  for (const {what, result} of runs)
    assert.equal(result.code, 0, `${what}: ${result.stderr}`);
  assertClean(runs);
});

test(`verify (cluster, -f, --image; every output format) and doctor prove against the registry and print no credential with -v=9`, async () => {
  const config = path.join(tmp, `verify-config.json`);
  fs.writeFileSync(config, JSON.stringify({auths: {[registry.host]: {auth: b64(`${ALICE.user}:${ALICE.password}`)}}}));
  const wrongConfig = path.join(tmp, `wrong-config.json`);
  fs.writeFileSync(wrongConfig, JSON.stringify({auths: {[registry.host]: {username: WRONG.user, password: WRONG.password}}}));
  const manifest = path.join(tmp, `release.yaml`);
  fs.writeFileSync(manifest, [
    `apiVersion: v1\nkind: Secret\nmetadata:\n  name: shipped\n  namespace: web\ntype: kubernetes.io/dockerconfigjson\nstringData:\n  .dockerconfigjson: '${JSON.stringify({auths: {[registry.host]: {username: BOB.user, password: BOB.password}}})}'`,
    `apiVersion: apps/v1\nkind: Deployment\nmetadata:\n  name: release\n  namespace: web\nspec:\n  selector: {matchLabels: {app: release}}\n  template:\n    metadata: {labels: {app: release}}\n    spec:\n      imagePullSecrets: [{name: shipped}]\n      containers: [{name: app, image: "${image}"}]`,
  ].join(`\n---\n`));
  const runs: Run[] = [];
  const statuses: Record<string, string[]> = {};
  await withoutSecretFiles(async () => {
    for (const verbosity of [`-v`, `-v=9`]) {
      for (const [what, argv, kube] of [
        [`verify cluster`, [`verify`, `-n`, `web`], true],
        [`verify -f`, [`verify`, `-f`, manifest], true],
        [`verify --image`, [`verify`, `--image`, image, `--docker-config`, config], false],
        [`verify --image wrong password`, [`verify`, `--image`, image, `--docker-config`, wrongConfig, `--all-credentials`], false],
      ] as const) {
        for (const format of [[], [`-o`, `json`], [`-o`, `yaml`], [`-o`, `junit`], [`-o`, `github`], [`-o`, `sarif`], [`-o`, `markdown`]]) {
          const result = await cli([...argv, ...format, verbosity], {kube});
          runs.push({what: `${what} ${format.join(` `)} ${verbosity}`, result});
          if (format[1] === `json`)
            statuses[what] = JSON.parse(result.stdout).results.map((row: {name: string; status: string}) => `${row.name}=${row.status}`).sort();
        }
      }
      for (const format of [[], [`-o`, `json`]])
        runs.push({what: `doctor ${format.join(` `)} ${verbosity}`, result: await cli([`doctor`, `-n`, `web`, ...format, verbosity])});
    }
  });
  // The registry really saw the credentials: good ones pass, the wrong one is rejected.
  assert.deepEqual(statuses[`verify cluster`], [`api=ok`, `broken=unauthorized`]);
  assert.deepEqual(statuses[`verify -f`], [`release=ok`]);
  assert.deepEqual(statuses[`verify --image`], [`${image}=ok`]);
  assert.equal(statuses[`verify --image wrong password`]![0], `${image}=unauthorized`);
  const doctor = runs.find(run => run.what === `doctor  -v=9`)!.result;
  assert.equal(doctor.code, 1, doctor.stderr);
  assert.match(doctor.stdout, /broken/);
  assertClean(runs);
});

test(`rotate --verify writes the new password everywhere and proves it against the registry without printing it`, async () => {
  const runs: Run[] = [];
  await withoutSecretFiles(async () => {
    runs.push({what: `sync before rotate`, result: await cli([`sync`, `regcred`, `--from-namespace`, `web`, `-n`, `copies`, `-v`])});
    runs.push({what: `rotate --verify -v=9`, result: await cli([`rotate`, `regcred`, `-n`, `web`, `--docker-server`, registry.host, `--docker-username`, BOB.user, `--docker-password-stdin`, `--verify`, `-v=9`], {stdin: `${BOB.password}\n`})});
    runs.push({what: `rotate -o json -v`, result: await cli([`rotate`, `regcred`, `-n`, `web`, `--docker-server`, registry.host, `--docker-username`, BOB.user, `--docker-password-stdin`, `-o`, `json`, `-v`], {stdin: BOB.password})});
  });
  for (const {what, result} of runs.filter(run => run.what !== `rotate --verify -v=9`))
    assert.equal(result.code, 0, `${what}: ${result.stderr}\n${result.stdout}`);
  // verify's exit code counts: the pod using `stale` still fails, the rotated secret pulls as bob.
  const verified = runs.find(run => run.what === `rotate --verify -v=9`)!.result;
  assert.equal(verified.code, 1, verified.stderr);
  assert.match(verified.stdout, /deployment\/api\s.*\sok\s+web\/regcred \(bob\)/);
  assert.match(verified.stdout, /pod\/broken\s.*\sunauthorized\s/);
  for (const ns of [`web`, `copies`]) {
    const stored = JSON.parse(Buffer.from(api.getObject(`secrets`, ns, `regcred`).data[`.dockerconfigjson`], `base64`).toString(`utf8`));
    assert.equal(stored.auths[registry.host].password, BOB.password, `${ns}/regcred holds the new password`);
  }
  assertClean(runs);
});

test(`the sweep's detectors see a password written to a new temp file or printed in any encoded form`, async () => {
  await assert.rejects(withoutSecretFiles(async () => {
    fs.writeFileSync(path.join(os.tmpdir(), `hygiene-probe-${process.pid}`), `x ${b64(`${BOB.user}:${BOB.password}`)} x`);
  }), /new or changed files hold a password/);
  fs.rmSync(path.join(os.tmpdir(), `hygiene-probe-${process.pid}`), {force: true});
  for (const text of [ALICE.password, `"${ALICE.password.replace(/</g, `\\u003c`).replace(/>/g, `\\u003e`).replace(/&/g, `\\u0026`)}"`, encodeURIComponent(ALICE.password), b64(`${ALICE.user}:${ALICE.password}`), BOB.random!.slice(20, 28), [...payloads][0]!])
    assert.notDeepEqual(leaks(`prefix ${text} suffix`), [], text);
});

test(`malformed files holding a password get error lines that never quote it (JSON snippets, YAML tokens, aliases, tags)`, async () => {
  const pw = BOB.password;
  const files: Record<string, string> = {
    'unquoted-json.json': `{"auths": {"${registry.host}": {"username": "bob", "password": ${pw}}}}`,
    'unquoted-manifest.json': `{"apiVersion": "v1", "kind": "Secret", "metadata": {"name": "x"}, "stringData": {"a": ${pw}}}`,
    'alias.yaml': `apiVersion: v1\nkind: Secret\nmetadata: {name: x}\ntype: kubernetes.io/dockerconfigjson\ndata:\n  .dockerconfigjson: *${pw}\n`,
    'block-header.yaml': `apiVersion: v1\nkind: Secret\nmetadata: {name: x}\nstringData:\n  password: |${pw}\n    x\n`,
    'stray-token.yaml': `apiVersion: v1\nkind: Secret\nmetadata: {name: x}\nstringData: [a, ${pw}]]\n`,
    'verbatim-tag.yaml': `apiVersion: v1\nkind: Secret\nmetadata: {name: x}\nstringData:\n  password: !<${pw}> x\n  broken: [\n`,
  };
  for (const [name, content] of Object.entries(files))
    fs.writeFileSync(path.join(tmp, name), content);
  const runs: Run[] = [];
  await withoutSecretFiles(async () => {
    for (const name of Object.keys(files)) {
      const file = path.join(tmp, name);
      for (const argv of [[`decode`, `-f`, file], [`verify`, `-n`, `web`, `-f`, file], [`explain`, image, `--docker-config`, file], [`verify`, `--image`, image, `--docker-config`, file], [`add`, `leaky`, `-n`, `web`, `--from-docker-config=${file}`]]) {
        for (const verbosity of [[], [`-v=9`]]) {
          const result = await cli([...argv, ...verbosity], {kube: argv[0] !== `decode`});
          runs.push({what: `${argv[0]} ${argv[1]} ${name} ${verbosity.join(``)}`, result});
        }
      }
    }
  });
  // Every one of them is refused (an error line naming the file), none quotes the password.
  for (const {what, result} of runs) {
    assert.notEqual(result.code, 0, `${what}: ${result.stdout}`);
    assert.match(result.stderr, /^error: .*\.(json|yaml)/m, `${what}: ${result.stderr}`);
  }
  assert.equal(api.getObject(`secrets`, `web`, `leaky`), undefined);
  assertClean(runs);
});

test(`the -o json|yaml|name documents of attach, sync, remove and rotate, and their refusals, hold no credential`, async () => {
  const server = [`--docker-server`, registry.host, `--docker-username`, ALICE.user, `--docker-password-stdin`];
  await cli([`add`, `outcred`, `-n`, `web`, ...server], {stdin: ALICE.password});
  // A foreign secret of the same name where sync would copy: refused without --force.
  api.seed.namespace(`foreign`);
  api.seed.secret(`foreign`, {metadata: {name: `outcred`}, type: `kubernetes.io/dockerconfigjson`, data: {'.dockerconfigjson': b64(JSON.stringify({auths: {[registry.host]: {auth: b64(`${WRONG.user}:${WRONG.password}`)}}}))}});
  collectPayloads();
  const runs: Run[] = [];
  await withoutSecretFiles(async () => {
    for (const format of [`json`, `yaml`, `name`]) {
      runs.push({what: `attach -o ${format}`, result: await cli([`attach`, `outcred`, `-n`, `web`, `-o`, format, `-v=9`])});
      runs.push({what: `sync -o ${format}`, result: await cli([`sync`, `outcred`, `--from-namespace`, `web`, `--namespaces`, `copies,foreign`, `-o`, format, `-v=9`])});
      runs.push({what: `sync --dry-run=server -o ${format}`, result: await cli([`sync`, `outcred`, `--from-namespace`, `web`, `--namespaces`, `copies,foreign`, `--force`, `--dry-run=server`, `-o`, format, `-v=9`])});
      runs.push({what: `rotate --dry-run=server -o ${format}`, result: await cli([`rotate`, `outcred`, `-n`, `web`, ...server, `--dry-run=server`, `-o`, format, `-v=9`], {stdin: BOB.password})});
    }
    runs.push({what: `remove -o yaml`, result: await cli([`remove`, `outcred`, `-n`, `copies`, `-o`, `yaml`, `-v=9`])});
  });
  const refused = runs.find(run => run.what === `sync -o json`)!.result;
  assert.equal(refused.code, 1, `the foreign secret is refused: ${refused.stderr}`);
  assert.match(refused.stdout + refused.stderr, /foreign/);
  for (const {what, result} of runs.filter(run => !run.what.startsWith(`sync -o`)))
    assert.equal(result.code, 0, `${what}: ${result.stderr}`);
  assertClean(runs);
});

// ---- Error paths (hostile world, round 2): what servers, helpers and events echo back is redacted too. ----

/** Runs the CLI like `cli` but against another kubeconfig. */
async function cliAt(kubeconfig: string, argv: string[], options: {stdin?: string} = {}): Promise<CliResult> {
  return runCli([...argv, `--kubeconfig`, kubeconfig], {env: {PATH: `${bin}:/usr/bin:/bin`, HOME: home}, home, cwd: tmp, stdin: options.stdin});
}

test(`API 400 and 422 answers quoting the refused secret (data, the request body) print no credential on any path`, async () => {
  const plain = await startApiEmulator({plainHttp: true});
  const server = [`--docker-server`, registry.host, `--docker-username`, ALICE.user, `--docker-password-stdin`];
  try {
    for (const ns of [`web`, `copies`, `locked`])
      plain.seed.namespace(ns);
    for (const ns of [`web`, `locked`])
      plain.seed.secret(ns, {metadata: {name: `regcred`}, type: `kubernetes.io/dockerconfigjson`, data: {'.dockerconfigjson': b64(JSON.stringify({auths: {[registry.host]: {username: ALICE.user, password: ALICE.password, auth: b64(`${ALICE.user}:${ALICE.password}`)}}}))}});
    for (const secret of plain.objects(`secrets`)) {
      const value = secret.data?.[`.dockerconfigjson`];
      if (typeof value === `string`)
        payloads.add(value);
    }
    // 422 for creates, 400 for updates and patches of secrets outside `web`, each quoting the values and the body.
    const hostile = await startHostileApi(plain.httpUrl!, request => request.method !== `GET` && /\/secrets/.test(request.path) && !/\/namespaces\/web\//.test(request.path) ? echoingInvalid(request, request.method === `POST` ? 422 : 400) : undefined);
    const runs: Run[] = [];
    try {
      await withoutSecretFiles(async () => {
        for (const verbosity of [`-v`, `-v=9`]) {
          runs.push({what: `add ${verbosity}`, result: await cliAt(hostile.kubeconfigPath, [`add`, `regcred`, `-n`, `copies`, ...server, verbosity], {stdin: ALICE.password})});
          runs.push({what: `add --dry-run=server -o json ${verbosity}`, result: await cliAt(hostile.kubeconfigPath, [`add`, `regcred`, `-n`, `copies`, ...server, `--dry-run=server`, `-o`, `json`, verbosity], {stdin: ALICE.password})});
          for (const format of [[], [`-o`, `json`], [`-o`, `yaml`]])
            runs.push({what: `sync ${format.join(` `)} ${verbosity}`, result: await cliAt(hostile.kubeconfigPath, [`sync`, `regcred`, `--from-namespace`, `web`, `-n`, `copies`, ...format, verbosity])});
          runs.push({what: `rotate ${verbosity}`, result: await cliAt(hostile.kubeconfigPath, [`rotate`, `regcred`, `-n`, `locked`, `--docker-server`, registry.host, `--docker-username`, BOB.user, `--docker-password-stdin`, `-o`, `json`, verbosity], {stdin: BOB.password})});
        }
      });
    } finally {
      await hostile.close();
    }
    for (const {what, result} of runs) {
      assert.notEqual(result.code, 0, `${what} was refused by the hostile server: ${result.stderr}`);
      assert.match(result.stdout + result.stderr, /denied the request/, what);
    }
    assertClean(runs);
  } finally {
    await plain.stop();
  }
});

test(`token servers and registries echoing the password, the Basic header or the form body print no credential`, async () => {
  const echo = (request: SeenRequest) => `you sent ${request.body} with ${String(request.headers.authorization ?? ``)}`;
  const tokenServer = await startHostileServer((request, response) => sendJson(response, request.method === `POST` ? 400 : 401, {errors: [{code: `UNAUTHORIZED`, message: echo(request)}], details: echo(request)}, {'www-authenticate': `Basic realm="${echo(request).slice(0, 500)}"`}));
  const tokenRegistry = await startHostileServer((_request, response) => {
    response.writeHead(401, {'www-authenticate': `Bearer realm="${tokenServer.url}/token",service="r"`});
    response.end();
  });
  const basicRegistry = await startHostileServer((request, response) => {
    if (request.headers.authorization === undefined) {
      response.writeHead(401, {'www-authenticate': `Basic realm="r"`});
      response.end();
    } else {
      // The password it was given, decoded and quoted so that it straddles the 200-character cut of messages.
      const given = Buffer.from(String(request.headers.authorization).slice(6), `base64`).toString(`utf8`).split(`:`).slice(1).join(`:`);
      sendJson(response, 403, {errors: [{code: `DENIED`, message: `${`x`.repeat(175)} password ${given} is not allowed; ${echo(request)}`}]});
    }
  });
  const runs: Run[] = [];
  try {
    for (const [what, host] of [[`token server`, tokenServer.host], [`token registry`, tokenRegistry.host], [`basic registry`, basicRegistry.host]] as const) {
      const config = path.join(tmp, `echo-${what.replace(/ /g, `-`)}.json`);
      fs.writeFileSync(config, JSON.stringify({auths: {[host]: {username: BOB.user, password: BOB.password}}}));
      for (const format of [[], [`-o`, `json`]])
        runs.push({what: `verify --image ${what} ${format.join(` `)}`, result: await cli([`verify`, `--image`, `${host}/team/app:v1`, `--docker-config`, config, ...format, `-v=9`], {kube: false})});
    }
  } finally {
    await Promise.all([tokenServer.close(), tokenRegistry.close(), basicRegistry.close()]);
  }
  // The echoes really happened: the servers saw the password (so the checks below look at real material).
  assert.ok(tokenServer.requests.some(request => request.body.includes(encodeURIComponent(BOB.password))), `the token server got the password`);
  assert.ok(basicRegistry.requests.some(request => String(request.headers.authorization).includes(b64(`${BOB.user}:${BOB.password}`))));
  assertClean(runs);
});

test(`a credential helper that fails printing the password on stderr and stdout prints no credential`, async () => {
  fs.writeFileSync(path.join(bin, `docker-credential-leaky`), `#!/bin/sh\ncat >/dev/null\necho "password ${HELPER.password} rejected" >&2\necho "{\\"Secret\\":\\"${HELPER.password}\\"" \nexit 3\n`, {mode: 0o755});
  const config = path.join(tmp, `leaky-config.json`);
  fs.writeFileSync(config, JSON.stringify({auths: {[registry.host]: {}}, credsStore: `leaky`}));
  const runs: Run[] = [];
  for (const argv of [[`add`, `leaky`, `-n`, `web`, `--from-docker-config=${config}`], [`explain`, image, `--docker-config`, config], [`verify`, `--image`, image, `--docker-config`, config]])
    runs.push({what: argv.slice(0, 2).join(` `), result: await cli([...argv, `-v=9`], {kube: argv[0] === `add`})});
  assert.match(runs[0]!.result.stderr, /credential helper docker-credential-leaky failed/);
  assertClean(runs);
});

test(`event messages quoting a pull secret's password print no credential in doctor's text and JSON`, async () => {
  api.seed.event(`web`, {kind: `Pod`, name: `broken`}, `Failed`, `Failed to pull image: login as ${WRONG.user} with ${WRONG.password} (auth ${b64(`${WRONG.user}:${WRONG.password}`)}) failed`, {type: `Warning`});
  const runs: Run[] = [];
  for (const format of [[], [`-o`, `json`]])
    runs.push({what: `doctor ${format.join(` `)}`, result: await cli([`doctor`, `-n`, `web`, ...format, `-v=9`])});
  assert.match(runs[1]!.result.stdout, /login as alice with \[redacted\]/, `the event was read and redacted`);
  assertClean(runs);
});
