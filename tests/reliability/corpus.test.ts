// Bad input corpus (issue 7 §4): every file under tests/corpus/{dockerconfig,secret,manifest} and every bad image
// reference and flag combination below is fed to each command that reads it. Each must fail with ONE `error:` line
// on stderr (plus kubectl's "See … --help" hint for usage errors) naming the input, the exit code the command
// documents, no stack trace, nothing on stdout, and no write to the cluster.
// Exit codes: explain documents 1 for a malformed config file; verify documents 2 for a malformed -f/--docker-config
// file; add and decode follow core/errors.ts (a malformed input file is an InputError, exit 2); usage errors are 2.
import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import {after, before, test} from 'node:test';
import {runCli} from '../helpers/runCli.ts';
import type {CliResult} from '../helpers/runCli.ts';
import {b64} from '../helpers/encoding.ts';
import {useApiEmulator} from '../helpers/apiEmulator/fixture.ts';

const CORPUS = path.join(import.meta.dirname, `..`, `corpus`);
const corpusFiles = (kind: string) => fs.readdirSync(path.join(CORPUS, kind)).sort().map(name => path.join(CORPUS, kind, name));

const api = await useApiEmulator();
const tmp = fs.mkdtempSync(path.join(os.tmpdir(), `corpus-`));
const goodConfig = path.join(tmp, `good-config.json`);
const hugeConfig = path.join(tmp, `huge-config.json`);

before(async () => {
  // Targets a slipped validation would write to: a source secret, namespaces, ServiceAccounts.
  const auth = b64(`bot:pw`);
  for (const ns of [`web`, `ci`, `x`]) {
    api.seed.namespace(ns);
    api.seed.secret(ns, {metadata: {name: `regcred`}, type: `kubernetes.io/dockerconfigjson`, data: {'.dockerconfigjson': b64(JSON.stringify({auths: {'registry.example.com': {auth}}}))}});
  }
  fs.writeFileSync(goodConfig, JSON.stringify({auths: {'registry.example.com': {auth}}}));
  // A config file of 6 MiB: one entry with a huge email. Generated here rather than committed.
  fs.writeFileSync(hugeConfig, JSON.stringify({auths: {'registry.example.com': {auth, email: `x`.repeat(6 * 1024 * 1024)}}}));
});
after(async () => {
  fs.rmSync(tmp, {recursive: true, force: true});
});

type Expectation = {
  code: number;
  /** Every string must appear in the `error:` line (the input's path, the flag or the bad value). */
  names: string[];
  usage?: boolean;
};

const MUTATING = new Set([`POST`, `PUT`, `PATCH`, `DELETE`]);

async function runBad(argv: string[], options: {stdin?: string} = {}): Promise<CliResult> {
  api.resetRequests();
  return runCli(argv, {env: {KUBECONFIG: api.kubeconfigPath}, home: tmp, cwd: tmp, stdin: options.stdin});
}

function assertOneError(what: string, result: CliResult, expected: Expectation): void {
  const detail = `${what}\n--- stderr:\n${result.stderr}--- stdout:\n${result.stdout}`;
  assert.equal(result.code, expected.code, `exit code: ${detail}`);
  assert.equal(result.stdout, ``, `stdout must be empty: ${detail}`);
  assert.doesNotMatch(result.stderr, /^\s+at /m, `no stack trace: ${detail}`);
  const lines = result.stderr.split(`\n`).filter(line => line !== ``);
  const hint = /^See 'kubectl pullsecret [a-z-]+ --help' for usage\.$/;
  const allowed = expected.usage ? 2 : 1;
  assert.ok(lines.length >= 1 && lines.length <= allowed, `expected ${allowed === 2 ? `one error line and at most the --help hint` : `exactly one line`}: ${detail}`);
  assert.match(lines[0]!, /^error: \S/, `the line starts with "error:": ${detail}`);
  if (lines.length === 2)
    assert.match(lines[1]!, hint, `the second line may only be the --help hint: ${detail}`);
  for (const name of expected.names)
    assert.ok(lines[0]!.includes(name), `the error names ${JSON.stringify(name)}: ${detail}`);
  const writes = api.requests.filter(request => MUTATING.has(request.method));
  assert.deepEqual(writes.map(request => `${request.method} ${request.path}`), [], `nothing written to the cluster: ${detail}`);
}

// Docker config files: each command that reads one. The error names the file as given on the command line
// (add resolves it to an absolute path, which contains the file's name).
const CONFIG_READERS: Array<{label: string; argv: (file: string) => string[]; code: number}> = [
  {label: `explain --docker-config`, argv: file => [`explain`, `registry.example.com/team/app:1`, `--docker-config`, file], code: 1},
  {label: `verify --image --docker-config`, argv: file => [`verify`, `--image`, `registry.example.com/team/app:1`, `--docker-config`, file], code: 2},
  {label: `add --from-docker-config (cluster)`, argv: file => [`add`, `fromfile`, `-n`, `web`, `--from-docker-config=${file}`], code: 2},
];

// Bytes that are not UTF-8 make the file unreadable as text: an input error (exit 2) everywhere, explain included.
const UNREADABLE = new Set([`non-utf8.json`]);

for (const file of corpusFiles(`dockerconfig`)) {
  for (const reader of CONFIG_READERS) {
    test(`${reader.label} rejects the Docker config ${path.basename(file)} with one error line naming the file`, async () => {
      const result = await runBad(reader.argv(file));
      assertOneError(`${reader.label} ${path.basename(file)}`, result, {code: UNREADABLE.has(path.basename(file)) ? 2 : reader.code, names: [path.basename(file)]});
    });
  }
}

for (const reader of CONFIG_READERS) {
  test(`${reader.label} refuses a Docker config of several MiB without reading it whole`, async () => {
    const result = await runBad(reader.argv(hugeConfig));
    // An unreadable file is an input error (exit 2) for every command, explain included (README "Exit codes").
    assertOneError(`${reader.label} huge`, result, {code: 2, names: [path.basename(hugeConfig), `larger than`]});
  });
  test(`${reader.label} names a file that does not exist`, async () => {
    const result = await runBad(reader.argv(path.join(tmp, `nope.json`)));
    assertOneError(`${reader.label} missing`, result, {code: 2, names: [`nope.json`]});
  });
}

test(`--docker-password-stdin refuses bytes that are not UTF-8 instead of storing replacement characters`, async () => {
  api.resetRequests();
  const result = await runCli([`add`, `pw`, `-n`, `web`, `--docker-server`, `registry.example.com`, `--docker-username`, `bot`, `--docker-password-stdin`], {env: {KUBECONFIG: api.kubeconfigPath}, home: tmp, stdin: Buffer.from([0x70, 0xff, 0x77, 0x0a])});
  assertOneError(`password stdin not UTF-8`, result, {code: 2, names: [`stdin`, `UTF-8`]});
});

// Secret manifests. decode -f reports what the kubelet makes of a well-formed Secret (wrong pairing, undecodable
// payload: a diagnosis on stdout with a warning); it errors on files that hold no readable Secret at all.
const SECRET_DIAGNOSES = new Set([`wrong-type-key-pairing.yaml`, `data-not-base64.yaml`, `payload-not-json.yaml`, `type-not-string.yaml`]);
// A Secret with a wrong type/key pairing is valid for the API server and silently ignored by the kubelet: explain
// and verify report that as a warning, so only add (which would copy nothing) refuses it.
const KUBELET_IGNORED = new Set([`wrong-type-key-pairing.yaml`]);
// Used as one pull secret, a Secret manifest's name does not matter (the file's path stands in for it), so only
// decode -f, which prints the name, refuses a Secret without one.
const NAME_IRRELEVANT = new Set([`missing-name.yaml`]);

for (const file of corpusFiles(`secret`)) {
  const base = path.basename(file);
  if (!SECRET_DIAGNOSES.has(base)) {
    test(`decode -f rejects the Secret manifest ${base} with one error line naming the file`, async () => {
      const result = await runBad([`decode`, `-f`, file]);
      assertOneError(`decode -f ${base}`, result, {code: 2, names: [base]});
    });
  }
  for (const reader of CONFIG_READERS) {
    if ((KUBELET_IGNORED.has(base) && !reader.label.startsWith(`add`)) || NAME_IRRELEVANT.has(base))
      continue;
    test(`${reader.label} rejects the Secret manifest ${base} with one error line naming the file`, async () => {
      const result = await runBad(reader.argv(file));
      assertOneError(`${reader.label} ${base}`, result, {code: reader.code, names: [base]});
    });
  }
}

test(`decode -f diagnoses a Secret the kubelet cannot use: a warning naming the problem, exit 1 when it breaks pulls`, async () => {
  // Ignored by the kubelet (exit 0, the secret is simply not used) or invalid (exit 1: every pull of the pod fails).
  for (const [base, problem, code] of [[`wrong-type-key-pairing.yaml`, /needs the data key \.dockercfg/, 0], [`type-not-string.yaml`, /not a pull-secret type/, 0], [`data-not-base64.yaml`, /not valid base64/, 1], [`payload-not-json.yaml`, /invalid JSON/, 1]] as const) {
    const result = await runBad([`decode`, `-f`, path.join(CORPUS, `secret`, base)]);
    assert.equal(result.code, code, `${base}: ${result.stderr}`);
    assert.doesNotMatch(result.stderr, /^error:|^\s+at /m, `${base}: ${result.stderr}`);
    assert.match(result.stderr, /^warning: /m, `${base}: ${result.stderr}`);
    assert.match(result.stderr, problem, `${base}: ${result.stderr}`);
  }
});

test(`explain and verify --image warn that a Secret with a wrong type/key pairing is ignored by the kubelet`, async () => {
  const file = path.join(CORPUS, `secret`, `wrong-type-key-pairing.yaml`);
  const explain = await runBad([`explain`, `registry.example.com/team/app:1`, `--docker-config`, file]);
  assert.equal(explain.code, 0, explain.stderr);
  assert.match(explain.stdout, /the kubelet ignores it/);
  const verify = await runBad([`verify`, `--image`, `registry.example.com/team/app:1`, `--docker-config`, file, `-o`, `json`]);
  assert.match(JSON.stringify(JSON.parse(verify.stdout)), /kubelet ignores it/, verify.stdout);
});

// Manifests for verify -f, against the cluster.
for (const file of corpusFiles(`manifest`)) {
  const base = path.basename(file);
  const names = [base, ...(base.startsWith(`list-`) ? [`item 2`] : []), ...(base.startsWith(`second-document`) ? [`document 2`] : [])];
  if (base === `unknown-kind.yaml`)
    continue;
  test(`verify -f rejects the manifest ${base} with one error line naming the file${names.length > 1 ? ` and the ${names[1]}` : ``}`, async () => {
    const result = await runBad([`verify`, `-n`, `web`, `-f`, file]);
    assertOneError(`verify -f ${base}`, result, {code: 2, names});
  });
}

// Generated hostile documents: 30,000 (JSON) and 20,000 (YAML) nested brackets (JSON and YAML flow), and a YAML alias bomb (9^9 nodes).
function hostileFiles(): Record<string, string> {
  let bomb = `apiVersion: v1\nkind: Secret\nmetadata: {name: bomb}\na: &a [x, x, x, x, x, x, x, x, x]\n`;
  let previous = `a`;
  for (const name of `bcdefghi`) {
    bomb += `${name}: &${name} [${Array(9).fill(`*${previous}`).join(`, `)}]\n`;
    previous = name;
  }
  const files = {'deep.json': `[`.repeat(30_000) + `]`.repeat(30_000), 'deep.yaml': `a: ${`[`.repeat(20_000)}${`]`.repeat(20_000)}\n`, 'alias-bomb.yaml': bomb};
  for (const [name, text] of Object.entries(files))
    fs.writeFileSync(path.join(tmp, name), text);
  return files;
}

test(`deeply nested documents and a YAML alias bomb get one error line naming the file from every reader`, async () => {
  for (const name of Object.keys(hostileFiles())) {
    const file = path.join(tmp, name);
    for (const [label, argv, code] of [
      [`decode -f`, [`decode`, `-f`, file], 2],
      [`verify -f`, [`verify`, `-n`, `web`, `-f`, file], 2],
      ...CONFIG_READERS.map(reader => [reader.label, reader.argv(file), reader.code] as const),
    ] as const) {
      const result = await runBad([...argv]);
      assertOneError(`${label} ${name}`, result, {code, names: [name]});
    }
  }
});

test(`verify -f names a missing file, an empty directory and a second "-f -"`, async () => {
  const empty = fs.mkdtempSync(path.join(tmp, `empty-dir-`));
  for (const [argv, name] of [[[`-f`, path.join(tmp, `nope.yaml`)], `nope.yaml`], [[`-f`, empty], path.basename(empty)], [[`-f`, `-`, `-f`, `-`], `-f -`]] as const) {
    const result = await runBad([`verify`, `-n`, `web`, ...argv], {stdin: ``});
    assertOneError(`verify ${argv.join(` `)}`, result, {code: 2, names: [name]});
  }
});

test(`verify -f of an unknown kind checks nothing in it: one error line naming the file and exit 1, so a release gate does not pass on it`, async () => {
  for (const extra of [[`-o`, `json`], []]) {
    const result = await runBad([`verify`, `-n`, `web`, `-f`, path.join(CORPUS, `manifest`, `unknown-kind.yaml`), ...extra]);
    assertOneError(`verify -f unknown-kind.yaml ${extra.join(` `)}`, result, {code: 1, names: [`unknown-kind.yaml`, `nothing to verify`]});
  }
});

// Image references: an invalid one is a result (status invalid-image, exit 1, the runtime's reason), not a crash.
const BAD_IMAGES: Array<{image: string; reason: RegExp}> = [
  {image: `Nginx`, reason: /must be lowercase/},
  {image: `REGISTRY.example.com/Team/App:1`, reason: /must be lowercase|invalid reference format/},
  {image: `nginx@sha256:abc`, reason: /invalid reference format|digest/},
  {image: `nginx@sha256:${`0`.repeat(64)}X`, reason: /invalid reference format|digest/},
  {image: `nginx@md5:${`0`.repeat(32)}`, reason: /invalid reference format|digest/},
  {image: `registry.example.com/${`a`.repeat(300)}/x`, reason: /must not be more than 255 characters/},
  {image: `ng inx`, reason: /invalid reference format/},
  {image: `nginx:tag with space`, reason: /invalid reference format/},
  {image: `nginx:`, reason: /invalid reference format/},
  {image: `a//b`, reason: /invalid reference format/},
  {image: `nginx\nINJECTED`, reason: /invalid reference format/},
];

for (const {image, reason} of BAD_IMAGES) {
  const label = JSON.stringify(image.length > 40 ? `${image.slice(0, 37)}...` : image);
  test(`verify --image ${label} reports invalid-image with the runtime's reason and exits 1`, async () => {
    const result = await runBad([`verify`, `--image`, image, `--docker-config`, goodConfig, `-o`, `json`]);
    assert.equal(result.code, 1, result.stderr);
    assert.doesNotMatch(result.stderr, /^\s+at |^error:/m, result.stderr);
    const [row] = JSON.parse(result.stdout).results;
    assert.equal(row.status, `invalid-image`);
    assert.match(row.detail, reason);
    assert.equal(api.requests.length, 0, `no cluster needed`);
  });
  test(`explain ${label} reports the invalid reference on one line and exits 1`, async () => {
    const result = await runBad([`explain`, image, `--docker-config`, goodConfig]);
    assert.equal(result.code, 1, result.stderr);
    assert.doesNotMatch(result.stderr + result.stdout, /^\s+at /m);
    const errorLines = result.stdout.split(`\n`).filter(line => /^\s*error:/.test(line));
    assert.equal(errorLines.length, 1, result.stdout);
    assert.match(errorLines[0]!, reason);
  });
}

test(`verify --image "" is a usage error naming --image, not a row about a container`, async () => {
  const result = await runBad([`verify`, `--image`, ``, `--docker-config`, goodConfig]);
  assertOneError(`verify --image ""`, result, {code: 2, names: [`--image`], usage: true});
});

// Flag combinations: conflicting, missing values, invalid values. Usage errors: exit 2, the --help hint allowed,
// and no request to the cluster at all (validation comes before connecting).
const PW = [`--docker-server`, `registry.example.com`, `--docker-username`, `bot`];
const FLAG_CASES: Array<{argv: string[]; names: string[]; stdin?: string}> = [
  // conflicting
  ...[[`list`], [`attach`, `regcred`], [`detach`, `regcred`], [`remove`, `regcred`], [`sync`, `regcred`, `--from-namespace`, `ci`], [`verify`], [`doctor`]].map(cmd => ({argv: [...cmd, `-n`, `x`, `-A`], names: [`-n`, `-A`]})),
  {argv: [`add`, `regcred`, `-n`, `x`, `-A`, ...PW, `--docker-password-stdin`], names: [`-n`, `-A`], stdin: `pw\n`},
  {argv: [`list`, `--namespaces`, `a,b`, `--namespace-selector`, `team=web`], names: [`--namespaces`, `--namespace-selector`]},
  {argv: [`add`, `regcred`, `-n`, `web`, ...PW, `--docker-password`, `pw`, `--docker-password-stdin`], names: [`--docker-password`, `--docker-password-stdin`], stdin: `pw\n`},
  {argv: [`rotate`, `regcred`, `-n`, `web`, ...PW, `--docker-password`, `pw`, `--docker-password-stdin`], names: [`--docker-password`, `--docker-password-stdin`], stdin: `pw\n`},
  {argv: [`add`, `regcred`, `-n`, `web`, `--from-docker-config`, `--docker-username`, `bot`], names: [`--from-docker-config`, `--docker-username`]},
  {argv: [`add`, `regcred`, `-n`, `web`, `--from-docker-config=/dev/null`, `--docker-username`, `bot`], names: [`--from-docker-config`, `--docker-username`]},
  {argv: [`verify`, `--image`, `nginx`, `-f`, `/dev/null`], names: [`--image`, `-f`]},
  {argv: [`explain`, `nginx`, `--docker-config`, `/dev/null`, `--secret`, `regcred`], names: [`--docker-config`, `--secret`]},
  // missing values
  {argv: [`list`, `-n`], names: [`-n`]},
  {argv: [`attach`, `regcred`, `-n`], names: [`-n`]},
  {argv: [`add`, `regcred`, ...PW, `--docker-password-stdin`, `-n`], names: [`-n`], stdin: `pw\n`},
  {argv: [`verify`, `--context`], names: [`--context`]},
  {argv: [`remove`, `regcred`, `--context`], names: [`--context`]},
  {argv: [`decode`, `regcred`, `--kubeconfig`], names: [`--kubeconfig`]},
  // invalid values
  ...[[`add`, `regcred`, `-n`, `web`, ...PW, `--docker-password-stdin`], [`attach`, `regcred`, `-n`, `web`], [`sync`, `regcred`, `--from-namespace`, `ci`, `-n`, `web`], [`remove`, `regcred`, `-n`, `web`], [`detach`, `regcred`, `-n`, `web`]].map(cmd => ({argv: [...cmd, `--dry-run=maybe`], names: [`--dry-run`, `maybe`], stdin: `pw\n`})),
  ...[[`list`], [`verify`], [`decode`, `regcred`], [`explain`, `nginx`], [`doctor`], [`attach`, `regcred`], [`add`, `regcred`, ...PW, `--docker-password-stdin`]].map(cmd => ({argv: [...cmd, `-n`, `web`, `-o`, `xml`], names: [`xml`], stdin: `pw\n`})),
  ...[[`list`], [`verify`], [`attach`, `regcred`], [`sync`, `regcred`, `--from-namespace`, `ci`]].map(cmd => ({argv: [...cmd, `-A`, `--concurrency`, `0`], names: [`--concurrency`, `0`]})),
  {argv: [`list`, `-A`, `--concurrency`, `many`], names: [`--concurrency`, `many`]},
  ...[[`list`], [`verify`], [`decode`, `regcred`], [`attach`, `regcred`], [`doctor`]].map(cmd => ({argv: [...cmd, `-n`, `web`, `--request-timeout`, `abc`], names: [`--request-timeout`, `abc`]})),
  {argv: [`add`, `regcred`, `-n`, `web`, `--docker-server`, `registry.example.com`, `--docker-username`, `team:bot`, `--docker-password-stdin`], names: [`--docker-username`, `":"`], stdin: `pw\n`},
  {argv: [`rotate`, `regcred`, `-n`, `web`, `--docker-server`, `registry.example.com`, `--docker-username`, `team:bot`, `--docker-password-stdin`], names: [`--docker-username`, `":"`], stdin: `pw\n`},
  {argv: [`add`, `regcred`, `-n`, `web`, `--docker-server`, `registry example.com`, `--docker-username`, `bot`, `--docker-password-stdin`], names: [`--docker-server`, `spaces`], stdin: `pw\n`},
  {argv: [`verify`, `--fail-on`, `sometimes`], names: [`--fail-on`, `sometimes`]},
  {argv: [`verify`, `--image`, `nginx`, `--timeout`, `soon`], names: [`--timeout`, `soon`]},
];

for (const {argv, names, stdin} of FLAG_CASES) {
  test(`"${argv.join(` `)}" is a usage error naming ${names.join(` and `)}, before any request`, async () => {
    const result = await runBad(argv, {stdin});
    assertOneError(argv.join(` `), result, {code: 2, names, usage: true});
    assert.deepEqual(api.requests.map(request => `${request.method} ${request.path}`), [], `no request at all`);
  });
}
