import {after, before, test} from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import {runCli} from '../helpers/runCli.ts';
import {b64} from '../helpers/encoding.ts';
import {useApiEmulator} from '../helpers/apiEmulator/fixture.ts';

const api = await useApiEmulator();
let dir: string;
before(async () => {
  dir = fs.mkdtempSync(path.join(os.tmpdir(), `password-command-`));
});
after(async () => {
  fs.rmSync(dir, {recursive: true, force: true});
});

const kube = () => [`--kubeconfig`, api.kubeconfigPath];
const ENV = {PATH: `/usr/bin:/bin`};
const COMMAND = `pullsecret.kubectl.io/password-command`;

function config(namespace: string, name = `regcred`): any {
  const secret = api.getObject(`secrets`, namespace, name);
  return JSON.parse(Buffer.from(secret.data[`.dockerconfigjson`], `base64`).toString(`utf8`));
}

const addArgs = (namespace: string, command: string, ...more: string[]) => [`add`, `regcred`, `-n`, namespace, `--docker-server`, `registry.example.com`, `--docker-username`, `AWS`, `--password-command`, command, ...more, ...kube()];

test(`add --password-command stores what the command prints and records the command, never the password`, async () => {
  api.seed.namespace(`pc1`);
  const result = await runCli(addArgs(`pc1`, `printf '%s\\n' "token-from-$TOKEN_SUFFIX"`), {env: {...ENV, TOKEN_SUFFIX: `the-command-4242`}});
  assert.equal(result.code, 0, result.stderr);
  assert.equal(result.stdout, `secret/regcred created\n`);
  assert.equal(result.stderr, ``);
  assert.equal(config(`pc1`).auths[`registry.example.com`].password, `token-from-the-command-4242`, `one trailing newline removed, environment passed`);
  const secret = api.getObject(`secrets`, `pc1`, `regcred`);
  assert.deepEqual(JSON.parse(secret.metadata.annotations[COMMAND]), [{server: `registry.example.com`, username: `AWS`, command: `printf '%s\\n' "token-from-$TOKEN_SUFFIX"`}]);
  assert.match(secret.metadata.annotations[`pullsecret.kubectl.io/refreshed-at`], /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$/);
  assert.doesNotMatch(JSON.stringify(secret.metadata), /token-from-the-command/);
});

test(`the password a command printed is redacted from everything the run prints`, async () => {
  api.seed.namespace(`pc2`);
  // -o yaml prints the secret the user asked for; -v logs the requests: neither leaks the raw password into stderr.
  const result = await runCli(addArgs(`pc2`, `echo very-secret-password-99`, `-v`), {env: ENV});
  assert.equal(result.code, 0, result.stderr);
  assert.doesNotMatch(result.stderr + result.stdout, /very-secret-password-99/);
});

test(`a failing command is one error line with its exit status and stderr (never its stdout), and nothing is written`, async () => {
  api.seed.namespace(`pc3`);
  api.resetRequests();
  const result = await runCli(addArgs(`pc3`, `echo leaked-stdout-77; echo 'ExpiredToken: the session expired' >&2; exit 3`), {env: ENV});
  assert.equal(result.code, 1);
  assert.equal(result.stderr, `error: --password-command failed (exit 3): ExpiredToken: the session expired\n`);
  assert.equal(result.stdout, ``);
  assert.deepEqual(api.requests, [], `no request before the password is known`);
});

test(`a command that outlives --password-command-timeout is stopped with everything it started`, async () => {
  api.seed.namespace(`pc4`);
  const pidFile = path.join(dir, `child.pid`);
  const started = Date.now();
  const result = await runCli(addArgs(`pc4`, `sleep 30 & echo $! > ${pidFile}; wait`, `--password-command-timeout`, `1s`), {env: ENV});
  assert.equal(result.code, 1);
  assert.match(result.stderr, /^error: --password-command did not finish within 1s and was stopped \(raise --password-command-timeout\)\n$/);
  assert.ok(Date.now() - started < 10_000);
  const pid = Number(fs.readFileSync(pidFile, `utf8`));
  await new Promise(resolve => setTimeout(resolve, 200));
  // Gone, or a zombie waiting for a parent to reap it (a container's PID 1 may never do so): not running.
  const state = fs.existsSync(`/proc/${pid}/stat`) ? fs.readFileSync(`/proc/${pid}/stat`, `utf8`).replace(/^.*\) /s, ``)[0] : `gone`;
  assert.ok(state === `gone` || state === `Z`, `the background sleep was killed with its process group (state ${state})`);
});

test(`output that is empty, several lines, over 1 MiB or not UTF-8 is refused`, async () => {
  api.seed.namespace(`pc5`);
  const cases: Array<[string, RegExp]> = [
    [`true`, /^error: --password-command printed no password on stdout\n$/],
    [`printf 'a\\nb\\n'`, /^error: --password-command printed more than one line; it must print only the password\n$/],
    [`head -c 2000000 /dev/zero | tr '\\0' a`, /^error: --password-command printed more than 1 MiB; it must print only the password\n$/],
    [`printf '\\377\\376'`, /^error: the output of --password-command is not valid UTF-8 text/],
  ];
  for (const [command, expected] of cases) {
    const result = await runCli(addArgs(`pc5`, command), {env: ENV});
    assert.notEqual(result.code, 0, command);
    assert.match(result.stderr, expected, command);
  }
  assert.equal(api.getObject(`secrets`, `pc5`, `regcred`), undefined);
});

test(`--password-command cannot be combined with another password source, and must not be empty`, async () => {
  const both = await runCli([...addArgs(`default`, `echo x`), `--docker-password-stdin`]);
  assert.equal(both.code, 2);
  assert.match(both.stderr, /^error: --password-command and --docker-password-stdin cannot be combined; give the password one way\n/);
  const empty = await runCli(addArgs(`default`, ` `));
  assert.equal(empty.code, 2);
  assert.match(empty.stderr, /^error: --password-command must not be empty/);
  const timeout = await runCli([`add`, `regcred`, `--docker-username`, `u`, `--docker-password-stdin`, `--password-command-timeout`, `5s`, ...kube()], {stdin: `x`});
  assert.equal(timeout.code, 2);
  assert.match(timeout.stderr, /^error: --password-command-timeout only applies with --password-command/);
});

test(`rotate --password-command updates the source and its copies and records the command; a later password from stdin drops the record`, async () => {
  api.seed.namespace(`pc6-src`);
  api.seed.namespace(`pc6-a`);
  api.seed.secret(`pc6-src`, {metadata: {name: `regcred`}, type: `kubernetes.io/dockerconfigjson`, data: {'.dockerconfigjson': b64(JSON.stringify({auths: {'registry.example.com': {username: `AWS`, password: `old`, auth: b64(`AWS:old`)}}}))}});
  assert.equal((await runCli([`sync`, `regcred`, `--from-namespace`, `pc6-src`, `-n`, `pc6-a`, ...kube()])).code, 0);
  const result = await runCli([`rotate`, `regcred`, `--from-namespace`, `pc6-src`, `--docker-server`, `registry.example.com`, `--docker-username`, `AWS`, `--password-command`, `echo rotated-by-command`, ...kube()], {env: ENV});
  assert.equal(result.code, 0, result.stderr);
  assert.deepEqual(result.stdout.trim().split(`\n`), [`pc6-a: secret/regcred configured`, `pc6-src: secret/regcred configured`]);
  for (const namespace of [`pc6-src`, `pc6-a`])
    assert.equal(config(namespace).auths[`registry.example.com`].password, `rotated-by-command`);
  assert.equal(JSON.parse(api.getObject(`secrets`, `pc6-src`, `regcred`).metadata.annotations[COMMAND])[0].command, `echo rotated-by-command`);
  assert.equal(api.getObject(`secrets`, `pc6-a`, `regcred`).metadata.annotations[COMMAND], undefined, `copies do not carry the command`);

  const manual = await runCli([`rotate`, `regcred`, `--from-namespace`, `pc6-src`, `--docker-server`, `registry.example.com`, `--docker-username`, `AWS`, `--docker-password-stdin`, ...kube()], {stdin: `typed-by-hand`});
  assert.equal(manual.code, 0, manual.stderr);
  const annotations = api.getObject(`secrets`, `pc6-src`, `regcred`).metadata.annotations ?? {};
  assert.equal(annotations[COMMAND], undefined);
  assert.equal(annotations[`pullsecret.kubectl.io/refreshed-at`], undefined);
});
