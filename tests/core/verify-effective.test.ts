import {test} from 'node:test';
import assert from 'node:assert/strict';
import {effectivePullSecrets, unreadableReferences} from '../../sources/core/verify/effective.ts';
import type {ClusterView, ServiceAccountState} from '../../sources/core/verify/effective.ts';
import {clusterSubjects, manifestSubjects, topLevelOwner, indexWorkloads} from '../../sources/core/verify/subjects.ts';
import type {PodSubject} from '../../sources/core/verify/types.ts';
import type {KubeObject} from '../../sources/core/ports.ts';

function view(serviceAccounts: Record<string, ServiceAccountState>): ClusterView {
  return {
    serviceAccount: (namespace, name) => serviceAccounts[`${namespace}/${name}`] ?? {state: `missing`},
    secret: () => ({state: `missing`}),
  };
}

function subject(overrides: Partial<PodSubject>): PodSubject {
  return {namespace: `web`, kind: `Deployment`, name: `api`, origin: `template`, ownPullSecrets: [], containers: [{name: `app`, image: `nginx`, kind: `container`}], ...overrides};
}

test(`a template without its own list gets the default ServiceAccount's list`, () => {
  const effective = effectivePullSecrets(subject({}), view({'web/default': {state: `found`, imagePullSecrets: [`regcred`]}}));
  assert.deepEqual(effective.names, [`regcred`]);
  assert.equal(effective.from, `serviceaccount`);
});

test(`a template with its own list never gets the ServiceAccount's list (no merge)`, () => {
  const effective = effectivePullSecrets(subject({ownPullSecrets: [`mine`]}), view({'web/default': {state: `found`, imagePullSecrets: [`regcred`]}}));
  assert.deepEqual(effective.names, [`mine`]);
});

test(`a template naming a missing ServiceAccount would be refused at admission`, () => {
  const effective = effectivePullSecrets(subject({serviceAccountName: `builder`}), view({'web/default': {state: `found`, imagePullSecrets: []}}));
  assert.equal(effective.serviceAccountMissing, `web/builder`);
});

test(`a custom ServiceAccount's list is used, not the default one's`, () => {
  const effective = effectivePullSecrets(subject({serviceAccountName: `builder`}), view({
    'web/default': {state: `found`, imagePullSecrets: [`regcred`]},
    'web/builder': {state: `found`, imagePullSecrets: []},
  }));
  assert.deepEqual(effective.names, []);
});

test(`a running pod keeps its actual list and warns when its ServiceAccount gained secrets since`, () => {
  const effective = effectivePullSecrets(subject({kind: `Pod`, origin: `pod`, ownPullSecrets: []}), view({'web/default': {state: `found`, imagePullSecrets: [`regcred`]}}));
  assert.deepEqual(effective.names, []);
  assert.match(effective.warnings[0] ?? ``, /now lists regcred, which this pod lacks.*restart/);
});

test(`a running pod whose template sets its own secrets gets no drift warning`, () => {
  const effective = effectivePullSecrets(subject({kind: `Pod`, origin: `pod`, ownPullSecrets: [`mine`], ownerTemplateHasOwnSecrets: true}), view({'web/default': {state: `found`, imagePullSecrets: [`regcred`]}}));
  assert.deepEqual(effective.warnings, []);
});

test(`an unreadable ServiceAccount is a warning, not an abort`, () => {
  const effective = effectivePullSecrets(subject({}), view({'web/default': {state: `forbidden`, message: `forbidden`}}));
  assert.deepEqual(effective.names, []);
  assert.match(effective.warnings[0] ?? ``, /cannot read serviceaccount web\/default/);
});

const meta = (kind: string, name: string, owner?: {kind: string; name: string}): KubeObject => ({
  kind,
  metadata: {name, namespace: `web`, ownerReferences: owner ? [{apiVersion: `apps/v1`, kind: owner.kind, name: owner.name, uid: `u`, controller: true}] : undefined},
});
const podSpec = {containers: [{name: `app`, image: `nginx`}], initContainers: [{name: `init`, image: `busybox`}], imagePullSecrets: [{name: `a`}, {name: ``}]};

test(`the owner chain of a pod leads from its ReplicaSet to the Deployment`, () => {
  const deployment = {...meta(`Deployment`, `api`), spec: {template: {spec: podSpec}}};
  const replicaSet = {...meta(`ReplicaSet`, `api-7f9`, {kind: `Deployment`, name: `api`}), spec: {template: {spec: podSpec}}};
  const pod = {...meta(`Pod`, `api-7f9-x`, {kind: `ReplicaSet`, name: `api-7f9`}), spec: podSpec};
  assert.deepEqual(topLevelOwner(pod, indexWorkloads([deployment, replicaSet])), {kind: `Deployment`, name: `api`});
});

test(`a cluster scan checks top-level templates and live pods, skipping owned ReplicaSets and finished pods`, () => {
  const deployment = {...meta(`Deployment`, `api`), spec: {template: {spec: podSpec}}};
  const replicaSet = {...meta(`ReplicaSet`, `api-7f9`, {kind: `Deployment`, name: `api`}), spec: {template: {spec: podSpec}}};
  const pod = {...meta(`Pod`, `api-7f9-x`, {kind: `ReplicaSet`, name: `api-7f9`}), spec: podSpec, status: {phase: `Running`}};
  const done = {...meta(`Pod`, `job-x`), spec: podSpec, status: {phase: `Succeeded`}};
  const cron = {...meta(`CronJob`, `nightly`), spec: {jobTemplate: {spec: {template: {spec: podSpec}}}}};
  const subjects = clusterSubjects([deployment, replicaSet, cron], [pod, done]);
  assert.deepEqual(subjects.map(s => `${s.kind}/${s.name}`), [`Deployment/api`, `CronJob/nightly`, `Pod/api-7f9-x`]);
  assert.deepEqual(subjects[0]!.ownPullSecrets, [`a`]);
  assert.deepEqual(subjects[0]!.containers.map(c => `${c.kind}:${c.image}`), [`init:busybox`, `container:nginx`]);
  assert.deepEqual(subjects[2]!.owner, {kind: `Deployment`, name: `api`});
});

test(`manifest subjects take the manifest's namespace, else the default one`, () => {
  const pod: KubeObject = {kind: `Pod`, metadata: {name: `p`}, spec: podSpec};
  const job: KubeObject = {kind: `Job`, metadata: {name: `j`, namespace: `batch`}, spec: {template: {spec: podSpec}}};
  const subjects = manifestSubjects([pod, job, {kind: `ConfigMap`, metadata: {name: `c`}}], `web`);
  assert.deepEqual(subjects.map(s => `${s.namespace}/${s.kind}/${s.name}`), [`web/Pod/p`, `batch/Job/j`]);
});

test(`unreadable references: a template's forbidden ServiceAccount and secrets count, a running pod's ServiceAccount does not`, () => {
  const forbidden = {state: `forbidden` as const, message: `forbidden`};
  const clusterView: ClusterView = {
    serviceAccount: (_namespace, name) => (name === `default` ? forbidden : {state: `found`, imagePullSecrets: [`hidden`]}),
    secret: (_namespace, name) => (name === `hidden` || name === `mine` ? forbidden : {state: `missing`}),
  };
  assert.deepEqual(unreadableReferences([subject({})], clusterView), [`serviceaccount web/default`]);
  assert.deepEqual(unreadableReferences([subject({serviceAccountName: `builder`})], clusterView), [`secret web/hidden`]);
  assert.deepEqual(unreadableReferences([subject({origin: `pod`, kind: `Pod`, ownPullSecrets: [`gone`]})], clusterView), []);
  assert.deepEqual(unreadableReferences([subject({origin: `pod`, kind: `Pod`, ownPullSecrets: [`mine`]})], clusterView), [`secret web/mine`]);
});
