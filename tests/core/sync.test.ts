import {test} from 'node:test';
import assert from 'node:assert/strict';
import type {KubeObject} from '../../sources/core/ports.ts';
import {CONTENT_HASH_ANNOTATION, buildCopy, classifyCopy, contentHash, planCopy, planPrune} from '../../sources/core/sync/plan.ts';
import {b64} from '../helpers/encoding.ts';

const CONFIG = b64(`{"auths":{"registry.example.com":{"username":"u","password":"p","auth":"dTpw"}}}`);

const source = (data = CONFIG): KubeObject => ({
  apiVersion: `v1`, kind: `Secret`,
  metadata: {name: `regcred`, namespace: `platform`, resourceVersion: `10`, labels: {team: `platform`}, annotations: {'pullsecret.kubectl.io/expires-at': `2026-12-01T00:00:00Z`}},
  type: `kubernetes.io/dockerconfigjson`,
  data: {'.dockerconfigjson': data},
});

test(`a copy keeps the source's type and data and records where it came from`, () => {
  const copy = buildCopy(source(), `team-a`);
  assert.equal(copy.type, `kubernetes.io/dockerconfigjson`);
  assert.deepEqual(copy.data, {'.dockerconfigjson': CONFIG});
  assert.equal(copy.metadata.namespace, `team-a`);
  assert.equal(copy.metadata.name, `regcred`);
  assert.deepEqual(copy.metadata.labels, {'app.kubernetes.io/managed-by': `kubectl-pullsecret`});
  assert.equal(copy.metadata.annotations?.[`pullsecret.kubectl.io/source`], `platform/regcred`);
  assert.match(copy.metadata.annotations?.[CONTENT_HASH_ANNOTATION] ?? ``, /^sha256:[0-9a-f]{64}$/);
  assert.equal(copy.metadata.annotations?.[`pullsecret.kubectl.io/expires-at`], `2026-12-01T00:00:00Z`);
  assert.equal(copy.metadata.resourceVersion, undefined);
});

test(`the content hash ignores key order but not type or values`, () => {
  assert.equal(contentHash(`t`, {a: `1`, b: `2`}), contentHash(`t`, {b: `2`, a: `1`}));
  assert.notEqual(contentHash(`t`, {a: `1`}), contentHash(`u`, {a: `1`}));
  assert.notEqual(contentHash(`t`, {a: `1`}), contentHash(`t`, {a: `2`}));
});

test(`a missing copy is created`, () => {
  assert.equal(planCopy(null, source(), `team-a`, {force: false}).action, `create`);
});

test(`rotate never creates a copy where there is none`, () => {
  assert.equal(planCopy(null, source(), `team-a`, {force: false, createMissing: false}).action, `absent`);
});

test(`a current copy is left unchanged`, () => {
  const existing = {...buildCopy(source(), `team-a`), metadata: {...buildCopy(source(), `team-a`).metadata, resourceVersion: `3`}};
  assert.equal(classifyCopy(existing, source()), `current`);
  assert.equal(planCopy(existing, source(), `team-a`, {force: false}).action, `unchanged`);
});

test(`a copy of older content is updated in place, keeping its resourceVersion and foreign labels`, () => {
  const old = buildCopy(source(b64(`{"auths":{}}`)), `team-a`);
  old.metadata.resourceVersion = `3`;
  old.metadata.labels = {...old.metadata.labels, keep: `me`};
  const plan = planCopy(old, source(), `team-a`, {force: false});
  assert.equal(plan.action, `update`);
  assert.ok(plan.action === `update`);
  assert.equal(plan.body.metadata.resourceVersion, `3`);
  assert.equal(plan.body.metadata.labels?.keep, `me`);
  assert.deepEqual(plan.body.data, {'.dockerconfigjson': CONFIG});
  assert.equal(plan.body.metadata.annotations?.[CONTENT_HASH_ANNOTATION], contentHash(`kubernetes.io/dockerconfigjson`, {'.dockerconfigjson': CONFIG}));
});

test(`a copy edited by hand is stale even though its hash annotation still matches the source`, () => {
  const edited = buildCopy(source(), `team-a`);
  edited.data = {'.dockerconfigjson': b64(`{"auths":{"evil":{}}}`)};
  assert.equal(classifyCopy(edited, source()), `stale`);
});

test(`a copy turned Opaque is recreated with the pull-secret type`, () => {
  const opaque = {...buildCopy(source(), `team-a`), type: `Opaque`};
  const plan = planCopy(opaque, source(), `team-a`, {force: false});
  assert.equal(plan.action, `recreate`);
  assert.ok(plan.action === `recreate`);
  assert.equal(plan.body.type, `kubernetes.io/dockerconfigjson`);
  assert.equal(plan.previousType, `Opaque`);
});

test(`an unmanaged secret with the same name is never overwritten without --force`, () => {
  const mine: KubeObject = {apiVersion: `v1`, kind: `Secret`, metadata: {name: `regcred`, namespace: `team-a`, resourceVersion: `1`}, type: `kubernetes.io/dockerconfigjson`, data: {'.dockerconfigjson': b64(`{}`)}};
  const plan = planCopy(mine, source(), `team-a`, {force: false});
  assert.equal(plan.action, `conflict`);
  assert.ok(plan.action === `conflict`);
  assert.match(plan.reason, /not managed by kubectl-pullsecret; pass --force/);
  assert.equal(planCopy(mine, source(), `team-a`, {force: true}).action, `update`);
});

test(`a copy of another source counts as foreign`, () => {
  const other = buildCopy({...source(), metadata: {...source().metadata, namespace: `elsewhere`}}, `team-a`);
  const plan = planCopy(other, source(), `team-a`, {force: false});
  assert.ok(plan.action === `conflict`);
  assert.match(plan.reason, /a copy of elsewhere\/regcred/);
});

test(`prune selects only this source's copies outside the selection, never the source namespace`, () => {
  const copyIn = (namespace: string) => ({...buildCopy(source(), namespace), metadata: {...buildCopy(source(), namespace).metadata}});
  const unmanaged: KubeObject = {metadata: {name: `regcred`, namespace: `old-2`}, type: `kubernetes.io/dockerconfigjson`};
  const otherSource = buildCopy({...source(), metadata: {...source().metadata, namespace: `x`}}, `old-3`);
  const pruned = planPrune([copyIn(`team-a`), copyIn(`old-1`), unmanaged, otherSource, copyIn(`platform`), copyIn(`ignored`)], {namespace: `platform`, name: `regcred`}, new Set([`team-a`]), new Set([`ignored`]));
  assert.deepEqual(pruned.map(secret => secret.metadata.namespace), [`old-1`]);
});

test(`taking over a secret made by kubectl apply drops the last-applied annotation, which holds the old data`, () => {
  const applied: KubeObject = {
    apiVersion: `v1`, kind: `Secret`,
    metadata: {name: `regcred`, namespace: `team-a`, resourceVersion: `4`, annotations: {'kubectl.kubernetes.io/last-applied-configuration': `{"data":{".dockerconfigjson":"b2xk"}}`, keep: `yes`}},
    type: `kubernetes.io/dockerconfigjson`, data: {'.dockerconfigjson': b64(`{}`)},
  };
  const plan = planCopy(applied, source(), `team-a`, {force: true});
  assert.ok(plan.action === `update`);
  assert.equal(plan.body.metadata.annotations?.[`kubectl.kubernetes.io/last-applied-configuration`], undefined);
  assert.equal(plan.body.metadata.annotations?.keep, `yes`);
});
