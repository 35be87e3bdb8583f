import {after, before, test} from 'node:test';
import assert from 'node:assert/strict';
import {runCli} from '../helpers/runCli.ts';
import {startRegistry} from '../helpers/registry/index.ts';
import {b64} from '../helpers/encoding.ts';
import {useApiEmulator} from '../helpers/apiEmulator/fixture.ts';

const api = await useApiEmulator();

const kube = () => [`--kubeconfig`, api.kubeconfigPath];
const OLD = {auths: {'registry.example.com': {username: `bot`, password: `old-token`, auth: b64(`bot:old-token`)}, 'other.example.com': {username: `x`, password: `y`, auth: b64(`x:y`)}}};

function decoded(namespace: string): any {
  const secret = api.getObject(`secrets`, namespace, `regcred`);
  return JSON.parse(Buffer.from(secret.data[`.dockerconfigjson`], `base64`).toString(`utf8`));
}

/** A source and managed copies made by sync, plus an unmanaged secret of the same name. */
async function world(prefix: string, copies: string[]): Promise<void> {
  api.seed.namespace(`${prefix}-src`);
  api.seed.secret(`${prefix}-src`, {metadata: {name: `regcred`}, type: `kubernetes.io/dockerconfigjson`, data: {'.dockerconfigjson': b64(JSON.stringify(OLD))}});
  for (const namespace of copies)
    api.seed.namespace(namespace);
  const synced = await runCli([`sync`, `regcred`, `--from-namespace`, `${prefix}-src`, `--namespaces`, copies.join(`,`), ...kube()]);
  assert.equal(synced.code, 0, synced.stderr);
  api.seed.namespace(`${prefix}-unmanaged`);
  api.seed.secret(`${prefix}-unmanaged`, {metadata: {name: `regcred`}, type: `kubernetes.io/dockerconfigjson`, data: {'.dockerconfigjson': b64(JSON.stringify(OLD))}});
}

const rotateArgs = (prefix: string) => [`rotate`, `regcred`, `--from-namespace`, `${prefix}-src`, `--docker-server`, `registry.example.com`, `--docker-username`, `bot`, `--docker-password-stdin`, ...kube()];

test(`rotate writes the new password into the source and every managed copy, keeping the other registries`, async () => {
  await world(`r1`, [`r1-a`, `r1-b`]);
  const result = await runCli(rotateArgs(`r1`), {stdin: `new-token\n`});
  assert.equal(result.code, 0, result.stderr);
  assert.deepEqual(result.stdout.trim().split(`\n`), [
    `r1-a: secret/regcred configured`,
    `r1-b: secret/regcred configured`,
    `r1-src: secret/regcred configured`,
  ]);
  assert.deepEqual(result.stderr.trim().split(`\n`), [
    `rotate regcred: 3 of 3 namespaces ok (3 changed, 0 unchanged)`,
  ]);
  for (const namespace of [`r1-src`, `r1-a`, `r1-b`]) {
    const config = decoded(namespace);
    assert.equal(config.auths[`registry.example.com`].password, `new-token`, namespace);
    assert.equal(config.auths[`registry.example.com`].auth, b64(`bot:new-token`), namespace);
    assert.deepEqual(config.auths[`other.example.com`], OLD.auths[`other.example.com`], namespace);
  }
  assert.equal(decoded(`r1-unmanaged`).auths[`registry.example.com`].password, `old-token`, `an unmanaged secret of the same name is not a copy`);
  assert.doesNotMatch(result.stderr + result.stdout, /new-token|old-token/);
});

test(`rotate with the same credentials again changes nothing`, async () => {
  await world(`r2`, [`r2-a`]);
  assert.equal((await runCli(rotateArgs(`r2`), {stdin: `t2`})).code, 0);
  api.resetRequests();
  const result = await runCli(rotateArgs(`r2`), {stdin: `t2`});
  assert.equal(result.code, 0, result.stderr);
  assert.match(result.stderr, /2 of 2 namespaces ok \(0 changed, 2 unchanged\)/);
  assert.deepEqual(api.requests.filter(request => request.method !== `GET`), []);
});

test(`rotate --namespaces updates only the copies in those namespaces, and a later full rotate heals the rest`, async () => {
  await world(`r3`, [`r3-a`, `r3-b`]);
  const narrow = await runCli([...rotateArgs(`r3`), `--namespaces`, `r3-a`], {stdin: `t3`});
  assert.equal(narrow.code, 0, narrow.stderr);
  assert.equal(decoded(`r3-a`).auths[`registry.example.com`].password, `t3`);
  assert.equal(decoded(`r3-b`).auths[`registry.example.com`].password, `old-token`);
  const full = await runCli(rotateArgs(`r3`), {stdin: `t3`});
  assert.equal(full.code, 0, full.stderr);
  assert.match(full.stdout, /^r3-b: secret\/regcred configured$/m);
  assert.match(full.stdout, /^r3-a: secret\/regcred unchanged$/m);
  assert.equal(decoded(`r3-b`).auths[`registry.example.com`].password, `t3`);
});

test(`rotate --dry-run=server stores nothing`, async () => {
  await world(`r4`, [`r4-a`]);
  const result = await runCli([...rotateArgs(`r4`), `--dry-run=server`], {stdin: `t4`});
  assert.equal(result.code, 0, result.stderr);
  assert.match(result.stdout, /^r4-a: secret\/regcred configured \(server dry run\)$/m);
  assert.equal(decoded(`r4-src`).auths[`registry.example.com`].password, `old-token`);
  assert.equal(decoded(`r4-a`).auths[`registry.example.com`].password, `old-token`);
});

test(`rotate of a source that does not exist fails and creates nothing`, async () => {
  api.seed.namespace(`r5-src`);
  const result = await runCli(rotateArgs(`r5`), {stdin: `t5`});
  assert.equal(result.code, 1);
  assert.equal(result.stderr, `error: source secret "regcred" not found in namespace "r5-src"\n`);
  assert.equal(api.getObject(`secrets`, `r5-src`, `regcred`), undefined);
});

test(`rotate without a password source fails before contacting the cluster`, async () => {
  api.resetRequests();
  const result = await runCli([`rotate`, `regcred`, `--from-namespace`, `x`, `--docker-username`, `bot`, ...kube()]);
  assert.equal(result.code, 2);
  assert.match(result.stderr, /^error: no password given/);
  assert.deepEqual(api.requests, []);
});

test(`rotate --verify proves against the real registry that the workloads of the rotated namespaces pull with the new credentials`, {timeout: 60_000}, async t => {
  const registry = await startRegistry({mode: `basic`, users: {alice: `right-password`}});
  t.after(() => registry.stop());
  await registry.push(`team/app`, `v1`);
  api.seed.namespace(`rv-src`);
  api.seed.secret(`rv-src`, {metadata: {name: `regcred`}, type: `kubernetes.io/dockerconfigjson`, data: {'.dockerconfigjson': b64(JSON.stringify({auths: {[registry.host]: {username: `alice`, password: `expired`, auth: b64(`alice:expired`)}}}))}});
  api.seed.namespace(`rv-a`);
  assert.equal((await runCli([`sync`, `regcred`, `--from-namespace`, `rv-src`, `-n`, `rv-a`, `--attach`, ...kube()])).code, 0);
  api.seed.workload(`Deployment`, `rv-a`, `app`, {containers: [{name: `app`, image: `${registry.host}/team/app:v1`}]});
  const rotate = (password: string) => runCli([`rotate`, `regcred`, `--from-namespace`, `rv-src`, `--namespaces`, `rv-a`, `--docker-server`, registry.host, `--docker-username`, `alice`, `--docker-password-stdin`, `--verify`, ...kube()], {stdin: password});

  const good = await rotate(`right-password`);
  assert.equal(good.code, 0, good.stderr + good.stdout);
  assert.match(good.stderr, /^verifying 2 namespaces$/m);
  assert.match(good.stdout, /rv-a[\s\S]*app[\s\S]*\bok\b/);
  assert.doesNotMatch(good.stdout + good.stderr, /right-password/);

  const bad = await rotate(`wrong-password`);
  assert.equal(bad.code, 1, bad.stderr + bad.stdout);
  assert.match(bad.stdout, /unauthorized/);
});

test(`rotate --verify refuses --dry-run, since there would be nothing new to verify`, async () => {
  const result = await runCli([`rotate`, `regcred`, `--verify`, `--dry-run=server`, `--docker-username`, `u`, `--docker-password-stdin`, ...kube()], {stdin: `x`});
  assert.equal(result.code, 2);
  assert.match(result.stderr, /^error: --verify checks what was written; it cannot be combined with --dry-run/);
});

test(`rotate as a user who may not list secrets cluster-wide fails with one error line naming the permission, and writes nothing`, async () => {
  await world(`r6`, [`r6-a`]);
  // Every right on secrets in the source's and the copy's namespaces, and namespaces listed; but no cluster-wide list of secrets.
  api.addUser(`r6-no-list`, [
    {verbs: [`list`], resources: [`namespaces`]},
    {verbs: [`get`, `list`, `update`, `patch`], resources: [`secrets`], namespaces: [`r6-src`, `r6-a`]},
  ]);
  api.resetRequests();
  const result = await runCli([...rotateArgs(`r6`), `--context`, `r6-no-list`], {stdin: `t6`});
  assert.equal(result.code, 1, result.stderr);
  assert.deepEqual(api.requests.filter(request => request.method !== `GET`).map(request => `${request.method} ${request.path}`), [], `nothing may be written`);
  assert.equal(decoded(`r6-src`).auths[`registry.example.com`].password, `old-token`);
  assert.equal(decoded(`r6-a`).auths[`registry.example.com`].password, `old-token`);
  assert.equal(result.stdout, ``);
  const lines = result.stderr.trimEnd().split(`\n`);
  assert.equal(lines.length, 1, result.stderr);
  assert.match(lines[0]!, /^error: cannot find the copies of r6-src\/regcred, so nothing was rotated: cannot list secrets in all namespaces: forbidden for user "r6-no-list" \(needs RBAC verb "list" on "secrets" cluster-wide/);
});
