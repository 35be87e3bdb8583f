import {after, before, test} from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import {runCli} from '../helpers/runCli.ts';
import {useApiEmulator} from '../helpers/apiEmulator/fixture.ts';

const api = await useApiEmulator();
let dir: string;
before(async () => {
  dir = fs.mkdtempSync(path.join(os.tmpdir(), `refresh-`));
});
after(async () => {
  fs.rmSync(dir, {recursive: true, force: true});
});

const kube = () => [`--kubeconfig`, api.kubeconfigPath];
const ENV = {PATH: `/usr/bin:/bin`};
const ECR = `123456789012.dkr.ecr.us-east-1.amazonaws.com`;
const HOUR = 3600_000;

/** A token shaped like `aws ecr get-login-password`'s: base64 of JSON carrying `expiration` (Unix seconds). */
function ecrToken(expires: Date, nonce: string): string {
  return Buffer.from(JSON.stringify({payload: nonce.repeat(8), datakey: `k`, version: `2`, type: `DATA_KEY`, expiration: Math.floor(expires.getTime() / 1000)})).toString(`base64`);
}

function password(namespace: string, server: string, name = `regcred`): string {
  const secret = api.getObject(`secrets`, namespace, name);
  return JSON.parse(Buffer.from(secret.data[`.dockerconfigjson`], `base64`).toString(`utf8`)).auths[server].password;
}

/** `regcred` in `<prefix>-src` whose password comes from `cat <file>`, synced into `<prefix>-a` and `<prefix>-b`. */
async function world(prefix: string, server: string, firstPassword: string): Promise<string> {
  const file = path.join(dir, `${prefix}.token`);
  fs.writeFileSync(file, `${firstPassword}\n`);
  // Fails like the AWS CLI when <file>.fail exists.
  const command = `if [ -e ${file}.fail ]; then echo 'AccessDenied: not authorized to perform ecr:GetAuthorizationToken' >&2; exit 254; fi; cat ${file}`;
  for (const namespace of [`${prefix}-src`, `${prefix}-a`, `${prefix}-b`])
    api.seed.namespace(namespace);
  const added = await runCli([`add`, `regcred`, `-n`, `${prefix}-src`, `--docker-server`, server, `--docker-username`, `AWS`, `--password-command`, command, ...kube()], {env: ENV});
  assert.equal(added.code, 0, added.stderr);
  const synced = await runCli([`sync`, `regcred`, `--from-namespace`, `${prefix}-src`, `--namespaces`, `${prefix}-a,${prefix}-b`, ...kube()]);
  assert.equal(synced.code, 0, synced.stderr);
  return file;
}

test(`refresh re-runs the command of a token about to expire and updates the source and every copy`, async () => {
  const now = new Date();
  const old = ecrToken(new Date(now.getTime() + HOUR), `old`);
  const file = await world(`rf1`, ECR, old);
  const fresh = ecrToken(new Date(now.getTime() + 12 * HOUR), `new`);
  fs.writeFileSync(file, `${fresh}\n`);
  const result = await runCli([`refresh`, `-n`, `rf1-src`, ...kube()], {env: ENV});
  assert.equal(result.code, 0, result.stderr);
  assert.match(result.stdout, /^secret\/regcred refreshed \(the token expires at \S+Z, within 3h, 2 copies updated\)\n$/);
  assert.equal(result.stderr, ``);
  for (const namespace of [`rf1-src`, `rf1-a`, `rf1-b`])
    assert.equal(password(namespace, ECR), fresh, namespace);
  const expiresAt = new Date(Math.floor((now.getTime() + 12 * HOUR) / 1000) * 1000).toISOString().replace(`.000Z`, `Z`);
  assert.equal(api.getObject(`secrets`, `rf1-src`, `regcred`).metadata.annotations[`pullsecret.kubectl.io/expires-at`], expiresAt);
  assert.equal(api.getObject(`secrets`, `rf1-a`, `regcred`).metadata.annotations[`pullsecret.kubectl.io/expires-at`], expiresAt, `the expiry travels with the copy`);
  assert.doesNotMatch(result.stdout + result.stderr, new RegExp(fresh.slice(0, 20)));

  // Now 12 hours away: not due, nothing runs or is written.
  fs.rmSync(file);
  api.resetRequests();
  const again = await runCli([`refresh`, `-n`, `rf1-src`, ...kube()], {env: ENV});
  assert.equal(again.code, 0, again.stderr);
  assert.equal(again.stdout, `secret/regcred unchanged (not due: the token expires at ${expiresAt})\n`);
  assert.deepEqual(api.requests.filter(request => request.method !== `GET`), []);
});

test(`a command that fails leaves the old secret and its copies in place, reports failed and exits 1`, async () => {
  const old = ecrToken(new Date(Date.now() + HOUR), `old`);
  const file = await world(`rf2`, ECR, old);
  fs.writeFileSync(`${file}.fail`, ``);
  fs.writeFileSync(file, `${ecrToken(new Date(Date.now() + 12 * HOUR), `new`)}\n`);
  api.resetRequests();
  const result = await runCli([`refresh`, `-n`, `rf2-src`, `-o`, `json`, ...kube()], {env: ENV});
  assert.equal(result.code, 1);
  const document = JSON.parse(result.stdout);
  assert.equal(document.kind, `RefreshResult`);
  assert.deepEqual(document.summary, {secrets: 1, refreshed: 0, unchanged: 0, failed: 1});
  assert.equal(document.results[0].result, `failed`);
  assert.equal(result.stderr, `error: rf2-src/regcred: ${ECR}: --password-command failed (exit 254): AccessDenied: not authorized to perform ecr:GetAuthorizationToken; the secret was left as it was\n`);
  for (const namespace of [`rf2-src`, `rf2-a`, `rf2-b`])
    assert.equal(password(namespace, ECR), old, namespace);
  assert.deepEqual(api.requests.filter(request => request.method !== `GET`), []);
  // Once the command works again, the next run refreshes.
  fs.rmSync(`${file}.fail`);
  assert.equal((await runCli([`refresh`, `-n`, `rf2-src`, ...kube()], {env: ENV})).code, 0);
  assert.notEqual(password(`rf2-b`, ECR), old);
});

test(`without a known expiry a secret is refreshed only by --max-age, measured from its last refresh`, async () => {
  const file = await world(`rf3`, `registry.example.com`, `static-one`);
  fs.writeFileSync(file, `static-two\n`);
  const notDue = await runCli([`refresh`, `-n`, `rf3-src`, ...kube()], {env: ENV});
  assert.equal(notDue.code, 0, notDue.stderr);
  assert.equal(notDue.stdout, `secret/regcred unchanged (not due: no token expiry is known (give --max-age to refresh it by age))\n`);
  const young = await runCli([`refresh`, `-n`, `rf3-src`, `--max-age`, `12h`, ...kube()], {env: ENV});
  assert.match(young.stdout, /^secret\/regcred unchanged \(not due: last refreshed at \S+, less than 12h ago\)\n$/);
  const later = new Date(Date.now() + 13 * HOUR);
  const old = await runCli([`refresh`, `-n`, `rf3-src`, `--max-age`, `12h`, ...kube()], {env: ENV, context: {now: () => later}});
  assert.equal(old.code, 0, old.stderr);
  assert.match(old.stdout, /^secret\/regcred refreshed \(last refreshed at \S+, more than 12h ago, 2 copies updated\)\n$/);
  for (const namespace of [`rf3-src`, `rf3-a`, `rf3-b`])
    assert.equal(password(namespace, `registry.example.com`), `static-two`);
  assert.equal(api.getObject(`secrets`, `rf3-src`, `regcred`).metadata.annotations[`pullsecret.kubectl.io/refreshed-at`], later.toISOString().replace(/\.\d{3}Z$/, `Z`));
  // The same password again: reported unchanged, nothing written.
  api.resetRequests();
  const same = await runCli([`refresh`, `-n`, `rf3-src`, `--max-age`, `1s`, ...kube()], {env: ENV, context: {now: () => new Date(later.getTime() + 2 * HOUR)}});
  assert.equal(same.code, 0, same.stderr);
  assert.match(same.stdout, /^secret\/regcred unchanged \(.*; the command gave the same password\)\n$/);
  assert.deepEqual(api.requests.filter(request => request.method !== `GET`), []);
});

test(`refresh -A looks at every namespace with one secret list and sums up on stderr; copies are never refreshed themselves`, async () => {
  await world(`rf4`, `registry.example.com`, `p1`);
  await world(`rf5`, `registry.example.com`, `p2`);
  api.resetRequests();
  const result = await runCli([`refresh`, `-A`, `--max-age`, `1h`, `-o`, `yaml`, ...kube()], {env: ENV, context: {now: () => new Date(Date.now() + 2 * HOUR)}});
  assert.equal(result.code, 0, result.stderr);
  assert.match(result.stdout, /^apiVersion: pullsecret\.kubectl\.io\/v1alpha1\nkind: RefreshResult\n/);
  const names = [...result.stdout.matchAll(/namespace: (\S+)/g)].map(match => match[1]);
  assert.ok(names.includes(`rf4-src`) && names.includes(`rf5-src`));
  assert.ok(!names.some(name => /-(a|b)$/.test(name!)), `copies are not refreshed on their own`);
  assert.match(result.stderr, /^refresh: \d+ refreshed, \d+ unchanged, 0 failed\n$/);
  assert.equal(api.requests.filter(request => request.verb === `list` && request.resource === `secrets` && request.query.labelSelector !== undefined).length, 1);
});

test(`refresh rejects bad durations and formats before contacting the cluster`, async () => {
  for (const [args, message] of [
    [[`--before`, `soon`], /^error: invalid value "soon" for --before/],
    [[`--max-age`, `0`], /^error: --max-age must be longer than 0/],
    [[`-o`, `wide`], /^error: unsupported output format "wide": use json or yaml/],
  ] as Array<[string[], RegExp]>) {
    const result = await runCli([`refresh`, ...args, `--kubeconfig`, `/nonexistent`]);
    assert.equal(result.code, 2, args.join(` `));
    assert.match(result.stderr, message);
  }
});
