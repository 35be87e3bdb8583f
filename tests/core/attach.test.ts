import {test} from 'node:test';
import assert from 'node:assert/strict';
import {execFileSync} from 'node:child_process';
import {mkdtempSync, rmSync, writeFileSync} from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import type {KubeObject} from '../../sources/core/ports.ts';
import type {TargetKind} from '../../sources/core/attach/plan.ts';
import {describeTarget, parseWorkloadRef, planAttach, planDetach, restartPatch} from '../../sources/core/attach/plan.ts';
import {timingTruth} from '../../sources/core/attach/timing.ts';
import {InputError} from '../../sources/core/errors.ts';

const serviceAccount = (names?: string[], resourceVersion = `7`): KubeObject => ({
  apiVersion: `v1`, kind: `ServiceAccount`,
  metadata: {name: `default`, namespace: `team`, resourceVersion},
  ...(names === undefined ? {} : {imagePullSecrets: names.map(name => ({name}))}),
});

const deployment = (name: string, options: {sa?: string; own?: string[]} = {}): KubeObject => ({
  apiVersion: `apps/v1`, kind: `Deployment`,
  metadata: {name, namespace: `team`, resourceVersion: `3`, uid: `uid-${name}`},
  spec: {template: {metadata: {}, spec: {
    ...(options.sa === undefined ? {} : {serviceAccountName: options.sa}),
    ...(options.own === undefined ? {} : {imagePullSecrets: options.own.map(n => ({name: n}))}),
    containers: [{name: `app`, image: `registry.example.com/app:1`}],
  }}},
});

/** Applies a JSON patch with real kubectl (`patch --local --type=json`), the oracle for RFC 6902 semantics. */
function kubectlJsonPatch(t: {after: (fn: () => void) => void}, object: KubeObject, patch: unknown): {ok: true; object: KubeObject} | {ok: false; error: string} {
  const dir = mkdtempSync(path.join(os.tmpdir(), `attach-oracle-`));
  t.after(() => rmSync(dir, {recursive: true, force: true}));
  const file = path.join(dir, `object.json`);
  writeFileSync(file, JSON.stringify(object));
  try {
    const out = execFileSync(`kubectl`, [`--kubeconfig=/dev/null`, `patch`, `--local`, `-f`, file, `--type=json`, `-p`, JSON.stringify(patch), `-o`, `json`], {encoding: `utf8`, stdio: [`ignore`, `pipe`, `pipe`]});
    return {ok: true, object: JSON.parse(out)};
  } catch (error) {
    return {ok: false, error: String((error as {stderr?: string}).stderr)};
  }
}

test(`attaching appends after the existing entries, as real kubectl applies the patch`, t => {
  const before = serviceAccount([`old`, `other`]);
  const edit = planAttach(before, `ServiceAccount`, `regcred`);
  assert.equal(edit.changed, true);
  assert.ok(edit.changed);
  const applied = kubectlJsonPatch(t, before, edit.patch);
  assert.ok(applied.ok, applied.ok ? `` : applied.error);
  assert.deepEqual(applied.object.imagePullSecrets, [{name: `old`}, {name: `other`}, {name: `regcred`}]);
});

test(`attaching to a ServiceAccount with no list creates the list`, t => {
  const before = serviceAccount(undefined);
  const edit = planAttach(before, `ServiceAccount`, `regcred`);
  assert.ok(edit.changed);
  const applied = kubectlJsonPatch(t, before, edit.patch);
  assert.ok(applied.ok, applied.ok ? `` : applied.error);
  assert.deepEqual(applied.object.imagePullSecrets, [{name: `regcred`}]);
});

test(`an attach patch is refused when another writer changed the list after we read it`, t => {
  const read = serviceAccount([`old`]);
  const edit = planAttach(read, `ServiceAccount`, `regcred`);
  assert.ok(edit.changed);
  const meanwhile = serviceAccount([`old`, `theirs`], `8`);
  const applied = kubectlJsonPatch(t, meanwhile, edit.patch);
  assert.equal(applied.ok, false);
});

test(`an attach patch on an absent list is refused when the object changed after we read it`, t => {
  const edit = planAttach(serviceAccount(undefined, `7`), `ServiceAccount`, `regcred`);
  assert.ok(edit.changed);
  const meanwhile = serviceAccount([`theirs`], `8`);
  assert.equal(kubectlJsonPatch(t, meanwhile, edit.patch).ok, false);
});

test(`attaching a secret that is already listed changes nothing`, () => {
  const edit = planAttach(serviceAccount([`a`, `regcred`, `b`]), `ServiceAccount`, `regcred`);
  assert.deepEqual(edit, {changed: false, names: [`a`, `regcred`, `b`]});
});

test(`detaching removes every entry of that name and keeps the others in order`, t => {
  const before = serviceAccount([`a`, `regcred`, `b`, `regcred`]);
  const edit = planDetach(before, `ServiceAccount`, `regcred`);
  assert.ok(edit.changed);
  const applied = kubectlJsonPatch(t, before, edit.patch);
  assert.ok(applied.ok, applied.ok ? `` : applied.error);
  assert.deepEqual(applied.object.imagePullSecrets, [{name: `a`}, {name: `b`}]);
});

test(`detaching a secret that is not listed changes nothing`, () => {
  assert.equal(planDetach(serviceAccount([`a`]), `ServiceAccount`, `regcred`).changed, false);
  assert.equal(planDetach(serviceAccount(undefined), `ServiceAccount`, `regcred`).changed, false);
});

test(`attaching to a deployment edits the pod template's list`, t => {
  const before = deployment(`web`, {own: [`mine`]});
  const edit = planAttach(before, `Deployment`, `regcred`);
  assert.ok(edit.changed);
  const applied = kubectlJsonPatch(t, before, edit.patch);
  assert.ok(applied.ok, applied.ok ? `` : applied.error);
  assert.deepEqual((applied.object as unknown as {spec: {template: {spec: {imagePullSecrets: unknown}}}}).spec.template.spec.imagePullSecrets, [{name: `mine`}, {name: `regcred`}]);
});

test(`attaching to a cronjob edits the job template's pod template`, () => {
  const cronjob: KubeObject = {apiVersion: `batch/v1`, kind: `CronJob`, metadata: {name: `nightly`, resourceVersion: `1`}, spec: {jobTemplate: {spec: {template: {spec: {containers: []}}}}}};
  const edit = planAttach(cronjob, `CronJob`, `regcred`);
  assert.ok(edit.changed);
  assert.deepEqual(edit.patch.at(-1), {op: `add`, path: `/spec/jobTemplate/spec/template/spec/imagePullSecrets`, value: [{name: `regcred`}]});
});

test(`workload references accept kubectl's spellings`, () => {
  for (const text of [`deploy/web`, `deployment/web`, `deployments/web`, `deployment.apps/web`, `Deployment/web`])
    assert.deepEqual(parseWorkloadRef(text), {kind: `Deployment`, name: `web`}, text);
  assert.deepEqual(parseWorkloadRef(`sts/db`), {kind: `StatefulSet`, name: `db`});
  assert.deepEqual(parseWorkloadRef(`ds/agent`), {kind: `DaemonSet`, name: `agent`});
  assert.deepEqual(parseWorkloadRef(`rs/x`), {kind: `ReplicaSet`, name: `x`});
  assert.deepEqual(parseWorkloadRef(`cronjob.batch/nightly`), {kind: `CronJob`, name: `nightly`});
});

test(`a job is refused because its pod template is immutable`, () => {
  assert.throws(() => parseWorkloadRef(`job/migrate`), (error: unknown) => error instanceof InputError && /immutable/.test(error.message));
});

test(`malformed and unknown workload references are input errors`, () => {
  for (const text of [`web`, `deploy/`, `/web`, `pod/web`, `deploy/a/b`])
    assert.throws(() => parseWorkloadRef(text), InputError, text);
});

test(`targets are described like kubectl names them`, () => {
  assert.equal(describeTarget({kind: `ServiceAccount`, name: `default`}), `serviceaccount/default`);
  assert.equal(describeTarget({kind: `Deployment`, name: `web`}), `deployment.apps/web`);
  assert.equal(describeTarget({kind: `CronJob`, name: `n`}), `cronjob.batch/n`);
});

test(`the restart patch stamps the pod template like kubectl rollout restart`, () => {
  const now = new Date(`2026-11-29T06:30:15.123Z`);
  assert.deepEqual(restartPatch(`Deployment`, now), {spec: {template: {metadata: {annotations: {'kubectl.kubernetes.io/restartedAt': `2026-11-29T06:30:15Z`}}}}});
});

const pod = (name: string, options: {sa?: string; secrets?: string[]; owner?: {kind: string; name: string}; phase?: string} = {}): KubeObject => ({
  apiVersion: `v1`, kind: `Pod`,
  metadata: {name, namespace: `team`, ...(options.owner ? {ownerReferences: [{apiVersion: `apps/v1`, kind: options.owner.kind, name: options.owner.name, uid: `u`, controller: true}]} : {})},
  spec: {serviceAccountName: options.sa ?? `default`, ...(options.secrets ? {imagePullSecrets: options.secrets.map(n => ({name: n}))} : {})},
  status: {phase: options.phase ?? `Running`},
});

const replicaSet = (name: string, deploymentName: string): KubeObject => ({
  apiVersion: `apps/v1`, kind: `ReplicaSet`,
  metadata: {name, namespace: `team`, ownerReferences: [{apiVersion: `apps/v1`, kind: `Deployment`, name: deploymentName, uid: `d`, controller: true}]},
  spec: {template: {spec: {}}},
});

const workloads = (...items: Array<[TargetKind, KubeObject]>) => items.map(([kind, object]) => ({kind, object}));

test(`running pods of the ServiceAccount that lack the secret are reported, with the deployment to restart`, () => {
  const report = timingTruth({
    secretName: `regcred`,
    serviceAccountsWithSecret: new Set([`default`]),
    attachedWorkloads: new Set(),
    pods: [pod(`web-1`, {owner: {kind: `ReplicaSet`, name: `web-rs`}}), pod(`fresh`, {secrets: [`regcred`]}), pod(`other-sa`, {sa: `builder`}), pod(`done`, {phase: `Succeeded`})],
    workloads: workloads([`Deployment`, deployment(`web`)], [`ReplicaSet`, replicaSet(`web-rs`, `web`)]),
  });
  assert.deepEqual(report.stalePods, [{name: `web-1`, serviceAccount: `default`, owner: {kind: `Deployment`, name: `web`}, restartable: true}]);
  assert.deepEqual(report.restartTargets, [{kind: `Deployment`, name: `web`}]);
  assert.deepEqual(report.hidingWorkloads, []);
});

test(`a workload whose template lists its own pull secrets is reported as hiding the ServiceAccount's, not as restartable`, () => {
  const report = timingTruth({
    secretName: `regcred`,
    serviceAccountsWithSecret: new Set([`default`]),
    attachedWorkloads: new Set(),
    pods: [pod(`api-1`, {secrets: [`own`], owner: {kind: `ReplicaSet`, name: `api-rs`}})],
    workloads: workloads([`Deployment`, deployment(`api`, {own: [`own`]})], [`ReplicaSet`, replicaSet(`api-rs`, `api`)]),
  });
  assert.deepEqual(report.hidingWorkloads, [{kind: `Deployment`, name: `api`, serviceAccount: `default`, imagePullSecrets: [`own`]}]);
  assert.deepEqual(report.stalePods, []);
  assert.deepEqual(report.restartTargets, []);
});

test(`a bare pod is reported as stale but not restartable`, () => {
  const report = timingTruth({secretName: `regcred`, serviceAccountsWithSecret: new Set([`default`]), attachedWorkloads: new Set(), pods: [pod(`debug`)], workloads: []});
  assert.deepEqual(report.stalePods, [{name: `debug`, serviceAccount: `default`, restartable: false}]);
  assert.deepEqual(report.restartTargets, []);
});

test(`pods of a deployment whose template this run changed are not reported: the rollout replaces them`, () => {
  const report = timingTruth({
    secretName: `regcred`,
    serviceAccountsWithSecret: new Set([`default`]),
    attachedWorkloads: new Set([`deployment.apps/api`]),
    pods: [pod(`api-1`, {secrets: [`own`], owner: {kind: `ReplicaSet`, name: `api-rs`}})],
    workloads: workloads([`Deployment`, deployment(`api`, {own: [`own`]})], [`ReplicaSet`, replicaSet(`api-rs`, `api`)]),
  });
  assert.deepEqual(report, {stalePods: [], hidingWorkloads: [], restartTargets: [], ownListPods: []});
});

test(`a bare pod with its own list is not a stale pod (recreating it would not help); one whose list its ServiceAccount holds is`, () => {
  const pod = (name: string, list: string[]) => ({kind: `Pod`, metadata: {name, namespace: `team`}, spec: {containers: [], imagePullSecrets: list.map(entry => ({name: entry}))}, status: {phase: `Running`}});
  const report = timingTruth({
    secretName: `regcred`,
    serviceAccountsWithSecret: new Set([`default`]),
    attachedWorkloads: new Set(),
    pods: [pod(`own`, [`mine`]), pod(`admitted`, [`old`]), pod(`empty`, [])],
    workloads: [],
    serviceAccountLists: new Map([[`default`, [`old`, `regcred`]]]),
  });
  assert.deepEqual(report.ownListPods, [{name: `own`, imagePullSecrets: [`mine`]}]);
  assert.deepEqual(report.stalePods.map(stale => stale.name), [`admitted`, `empty`]);
});
