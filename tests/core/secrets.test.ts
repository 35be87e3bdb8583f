import {test} from 'node:test';
import assert from 'node:assert/strict';
import {buildPullSecret, asClientDryRunObject} from '../../sources/core/secrets/build.ts';
import type {RegistryCredential} from '../../sources/core/secrets/build.ts';
import {mergeDockerConfigJson} from '../../sources/core/secrets/merge.ts';
import {planAddSecret} from '../../sources/core/secrets/plan.ts';
import type {AddSecretInput} from '../../sources/core/secrets/plan.ts';
import {registryKeyIdentity, sameRegistryKey} from '../../sources/core/secrets/registryKey.ts';
import {applySecretPlan} from '../../sources/core/secrets/apply.ts';
import type {ClusterSession, KubeObject} from '../../sources/core/ports.ts';
import {b64, unb64} from '../helpers/encoding.ts';

const ghcr: RegistryCredential = {server: `ghcr.io`, username: `bot`, password: `pat`};
// Retries without waiting: these tests count writes, not time.
const NO_WAIT = {sleep: async () => {}, random: () => 0};

function existingSecret(config: string, extra: Partial<KubeObject> = {}): KubeObject {
  return {apiVersion: `v1`, kind: `Secret`, metadata: {name: `regcred`, namespace: `ns`, resourceVersion: `7`, labels: {team: `web`}}, type: `kubernetes.io/dockerconfigjson`, data: {'.dockerconfigjson': b64(config)}, ...extra};
}

function input(overrides: Partial<AddSecretInput> = {}): AddSecretInput {
  return {name: `regcred`, namespace: `ns`, credentials: [ghcr], replace: false, force: false, expiryOf: () => null, sameRegistry: sameRegistryKey, ...overrides};
}

test(`buildPullSecret labels the secret as managed and writes kubectl's .dockerconfigjson`, () => {
  const secret = buildPullSecret({name: `regcred`, credentials: [ghcr]});
  assert.deepEqual(secret.metadata, {name: `regcred`, labels: {'app.kubernetes.io/managed-by': `kubectl-pullsecret`}});
  assert.equal(secret.type, `kubernetes.io/dockerconfigjson`);
  assert.equal(unb64((secret.data as Record<string, string>)[`.dockerconfigjson`]!), `{"auths":{"ghcr.io":{"username":"bot","password":"pat","auth":"Ym90OnBhdA=="}}}`);
});

test(`buildPullSecret records a known token expiry as an RFC 3339 annotation`, () => {
  const secret = buildPullSecret({name: `regcred`, credentials: [ghcr], expiresAt: new Date(`2026-11-29T18:00:00.123Z`)});
  assert.deepEqual(secret.metadata.annotations, {'pullsecret.kubectl.io/expires-at': `2026-11-29T18:00:00Z`});
});

test(`the client dry-run object puts creationTimestamp: null after name and namespace, as Go's ObjectMeta`, () => {
  const object = asClientDryRunObject(buildPullSecret({name: `regcred`, namespace: `ns`, credentials: [ghcr]}));
  assert.deepEqual(Object.keys(object), [`kind`, `apiVersion`, `metadata`, `data`, `type`]);
  assert.deepEqual(Object.keys(object.metadata as object), [`name`, `namespace`, `creationTimestamp`, `labels`]);
});

test(`merging keeps the other registries and top-level fields and sorts keys like Go`, () => {
  const existing = `{"auths":{"quay.io":{"auth":"cjp0"}},"HttpHeaders":{"X":"1"}}`;
  const merged = mergeDockerConfigJson(existing, [ghcr]);
  assert.equal(merged.changed, true);
  assert.equal(merged.json, `{"HttpHeaders":{"X":"1"},"auths":{"ghcr.io":{"username":"bot","password":"pat","auth":"Ym90OnBhdA=="},"quay.io":{"auth":"cjp0"}}}`);
});

test(`merging credentials that are already there returns the existing bytes unchanged`, () => {
  const existing = `{ "auths": {"ghcr.io": {"username":"bot","password":"pat","auth":"Ym90OnBhdA=="}} }`;
  const merged = mergeDockerConfigJson(existing, [ghcr]);
  assert.equal(merged.changed, false);
  assert.equal(merged.json, existing);
});

test(`merging replaces an entry whose password changed`, () => {
  const existing = `{"auths":{"ghcr.io":{"username":"bot","password":"old","auth":"Ym90Om9sZA=="}}}`;
  const merged = mergeDockerConfigJson(existing, [ghcr]);
  assert.equal(merged.changed, true);
  assert.equal(JSON.parse(merged.json).auths[`ghcr.io`].password, `pat`);
});

test(`merging removes an older key naming the same registry under another spelling`, () => {
  const existing = `{"auths":{"docker.io":{"auth":"${b64(`old:pw`)}"},"ghcr.io":{"auth":"x"}}}`;
  const merged = mergeDockerConfigJson(existing, [{server: `https://index.docker.io/v1/`, username: `new`, password: `pw`}], sameRegistryKey);
  assert.deepEqual(merged.supersededKeys, [`docker.io`]);
  assert.deepEqual(Object.keys(JSON.parse(merged.json).auths), [`ghcr.io`, `https://index.docker.io/v1/`]);
});

test(`registry keys are identified without scheme, /v1/ or /v2/ prefix and with Docker Hub aliases folded`, () => {
  assert.equal(registryKeyIdentity(`https://index.docker.io/v1/`), `docker.io`);
  assert.equal(registryKeyIdentity(`HTTPS://Reg.Example.com:5000/v2/`), `reg.example.com:5000`);
  assert.equal(registryKeyIdentity(`quay.io/team/`), `quay.io/team`);
  assert.equal(sameRegistryKey(`registry-1.docker.io`, `docker.io`), false);
  assert.equal(sameRegistryKey(`quay.io/team`, `quay.io`), false);
});

test(`planAddSecret creates a missing secret with the namespace set`, () => {
  const plan = planAddSecret(null, input());
  assert.equal(plan.action, `create`);
  assert.equal(plan.action === `create` && plan.body.metadata.namespace, `ns`);
});

test(`planAddSecret says unchanged when the secret already holds the credentials`, () => {
  const plan = planAddSecret(existingSecret(`{"auths":{"ghcr.io":{"username":"bot","password":"pat","auth":"Ym90OnBhdA=="}}}`), input());
  assert.equal(plan.action, `unchanged`);
});

test(`planAddSecret updates in place, keeping resourceVersion, labels and other registries`, () => {
  const plan = planAddSecret(existingSecret(`{"auths":{"quay.io":{"auth":"cjp0"}}}`), input());
  assert.equal(plan.action, `update`);
  if (plan.action !== `update`)
    return;
  assert.equal(plan.body.metadata.resourceVersion, `7`);
  assert.deepEqual(plan.body.metadata.labels, {team: `web`});
  assert.deepEqual(Object.keys(JSON.parse(unb64((plan.body.data as Record<string, string>)[`.dockerconfigjson`]!)).auths), [`ghcr.io`, `quay.io`]);
});

test(`planAddSecret --replace drops the other registries`, () => {
  const plan = planAddSecret(existingSecret(`{"auths":{"quay.io":{"auth":"cjp0"}}}`), input({replace: true}));
  assert.equal(plan.action, `update`);
  if (plan.action === `update`)
    assert.deepEqual(Object.keys(JSON.parse(unb64((plan.body.data as Record<string, string>)[`.dockerconfigjson`]!)).auths), [`ghcr.io`]);
});

test(`planAddSecret --replace is unchanged when the content is already exactly that`, () => {
  const plan = planAddSecret(existingSecret(`{"auths":{"ghcr.io":{"username":"bot","password":"pat","auth":"Ym90OnBhdA=="}}}`), input({replace: true}));
  assert.equal(plan.action, `unchanged`);
});

test(`planAddSecret refuses a secret of another type unless --force, which recreates it`, () => {
  const opaque = existingSecret(`{}`, {type: `Opaque`});
  assert.throws(() => planAddSecret(opaque, input()), /already exists with type Opaque.*use --force/);
  const plan = planAddSecret(opaque, input({force: true}));
  assert.equal(plan.action, `recreate`);
});

test(`planAddSecret refuses to merge into unparseable content unless --replace`, () => {
  assert.throws(() => planAddSecret(existingSecret(`not json`), input()), /not valid JSON; use --replace/);
  assert.equal(planAddSecret(existingSecret(`not json`), input({replace: true})).action, `update`);
});

test(`planAddSecret sets and removes the expires-at annotation from the final content`, () => {
  const withExpiry = planAddSecret(existingSecret(`{"auths":{}}`), input({expiryOf: () => new Date(`2030-01-01T00:00:00Z`)}));
  assert.equal(withExpiry.action === `update` && withExpiry.body.metadata.annotations?.[`pullsecret.kubectl.io/expires-at`], `2030-01-01T00:00:00Z`);
  const stale = existingSecret(`{"auths":{"ghcr.io":{"username":"bot","password":"pat","auth":"Ym90OnBhdA=="}}}`);
  stale.metadata.annotations = {'pullsecret.kubectl.io/expires-at': `2020-01-01T00:00:00Z`};
  const cleared = planAddSecret(stale, input());
  assert.equal(cleared.action, `update`);
  assert.equal(cleared.action === `update` && cleared.body.metadata.annotations, undefined);
});

/** A scripted session for the retry loop: `get` answers from a queue, writes can be told to conflict. */
function scriptedSession(reads: Array<KubeObject | null>, conflicts: number): ClusterSession & {writes: string[]} {
  const writes: string[] = [];
  let conflictsLeft = conflicts;
  const write = async (verb: string, body: KubeObject) => {
    writes.push(`${verb} rv=${body.metadata.resourceVersion ?? `-`}`);
    if (conflictsLeft-- > 0)
      throw Object.assign(new Error(`conflict`), {code: 409});
    return body;
  };
  return {
    contextName: `test`, namespace: `ns`, namespaceExplicit: false, writes,
    get: async () => reads.shift() ?? null,
    list: async () => [],
    create: async (_r, _n, body) => write(`create`, body),
    replace: async (_r, _n, _name, body) => write(`replace`, body),
    patch: async () => { throw new Error(`unexpected patch`); },
    delete: async () => {},
    canI: async () => true,
    requestCount: () => 0,
  };
}

test(`applySecretPlan re-reads and retries after a 409 instead of overwriting another writer`, async () => {
  const first = existingSecret(`{"auths":{}}`);
  const second = existingSecret(`{"auths":{"quay.io":{"auth":"cjp0"}}}`);
  second.metadata.resourceVersion = `8`;
  const session = scriptedSession([first, second], 1);
  const result = await applySecretPlan(session, `ns`, `regcred`, existing => planAddSecret(existing, input()), {dryRun: false, pacing: NO_WAIT});
  assert.deepEqual(session.writes, [`replace rv=7`, `replace rv=8`]);
  assert.equal(result.verb, `configured`);
  assert.deepEqual(Object.keys(JSON.parse(unb64((result.object.data as Record<string, string>)[`.dockerconfigjson`]!)).auths), [`ghcr.io`, `quay.io`]);
});

test(`applySecretPlan turns a create that lost a race into an update`, async () => {
  const session = scriptedSession([null, existingSecret(`{"auths":{}}`)], 1);
  const result = await applySecretPlan(session, `ns`, `regcred`, existing => planAddSecret(existing, input()), {dryRun: false, pacing: NO_WAIT});
  assert.deepEqual(session.writes, [`create rv=-`, `replace rv=7`]);
  assert.equal(result.verb, `configured`);
});
