import {test} from 'node:test';
import assert from 'node:assert/strict';
import {bareReport, buildReport, changedNames, humanLines, timingWarnings} from '../../sources/core/attach/report.ts';
import type {NamespaceReport} from '../../sources/core/attach/report.ts';

const ok = (namespace: string, action: `attached` | `unchanged`, context = `prod`): NamespaceReport =>
  bareReport(context, namespace, {status: `ok`, targets: [{kind: `ServiceAccount`, name: `default`, action}]});

test(`the summary counts changed, unchanged, failed and skipped namespaces`, () => {
  const report = buildReport(`AttachResult`, `regcred`, `none`, [
    ok(`b`, `attached`),
    ok(`a`, `unchanged`),
    bareReport(`prod`, `c`, {status: `failed`, failedStep: `check secret`, error: `secret "regcred" not found`}),
    bareReport(`prod`, `d`, {status: `skipped`, note: `ignored`}),
  ]);
  assert.deepEqual(report.summary, {namespaces: 4, ok: 2, changed: 1, unchanged: 1, failed: 1, skipped: 1});
  assert.deepEqual(report.results.map(result => result.namespace), [`a`, `b`, `c`, `d`]);
});

test(`one namespace prints kubectl's status lines on stdout; several print one stdout line per namespace and a summary on stderr`, () => {
  assert.deepEqual(humanLines(buildReport(`AttachResult`, `regcred`, `none`, [ok(`web`, `attached`)]), {command: `attach`}), {stdout: [`serviceaccount/default configured`], stderr: []});
  assert.deepEqual(humanLines(buildReport(`AttachResult`, `regcred`, `server`, [ok(`web`, `attached`), ok(`api`, `unchanged`)]), {command: `attach`}), {
    stdout: [
      `api: serviceaccount/default unchanged (server dry run)`,
      `web: serviceaccount/default configured (server dry run)`,
    ],
    stderr: [`attach regcred (server dry run): 2 of 2 namespaces ok (1 changed, 1 unchanged)`],
  });
});

test(`a failed namespace names the step and what was already done, on stderr`, () => {
  const failed = bareReport(`prod`, `web`, {status: `failed`, secret: `created`, failedStep: `patch serviceaccount/default`, error: `the server is unavailable`});
  const lines = humanLines(buildReport(`SyncResult`, `regcred`, `none`, [failed, ok(`api`, `attached`)]), {command: `sync`});
  assert.ok(lines.stderr.includes(`web: failed at patch serviceaccount/default: the server is unavailable (done: secret/regcred created)`), lines.stderr.join(`\n`));
  assert.deepEqual(lines.stdout, [`api: serviceaccount/default configured`]);
});

test(`with several contexts each line is labelled with its context`, () => {
  const lines = humanLines(buildReport(`AttachResult`, `regcred`, `none`, [ok(`web`, `attached`, `east`), ok(`web`, `attached`, `west`)]), {command: `attach`});
  assert.deepEqual(lines.stdout, [`east/web: serviceaccount/default configured`, `west/web: serviceaccount/default configured`]);
});

test(`stale pods are grouped by owner with the restart command, and hiding workloads name the fix`, () => {
  const report = bareReport(`prod`, `web`, {
    status: `ok`,
    stalePods: [
      {name: `api-1`, serviceAccount: `default`, owner: {kind: `Deployment`, name: `api`}, restartable: true},
      {name: `api-2`, serviceAccount: `default`, owner: {kind: `Deployment`, name: `api`}, restartable: true},
      {name: `debug`, serviceAccount: `default`, restartable: false},
    ],
    hidingWorkloads: [{kind: `Deployment`, name: `legacy`, serviceAccount: `default`, imagePullSecrets: [`old`]}],
  });
  const warnings = timingWarnings(report, `regcred`, false);
  assert.equal(warnings.length, 3);
  assert.match(warnings[0]!, /^2 running pods \(api-1, api-2\) of deployment\/api will not use regcred until recreated.*kubectl rollout restart deployment\/api -n web$/);
  assert.match(warnings[1]!, /^1 running pod \(debug\) will not use regcred until recreated.*delete and recreate it$/);
  assert.match(warnings[2]!, /^deployment\/legacy lists its own imagePullSecrets \(old\).*--workload deployment\/legacy$/);
  assert.match(timingWarnings(report, `regcred`, true)[0]!, /will get regcred as the restart replaces them/);
});

test(`-o name lists only what changed`, () => {
  const report = buildReport(`SyncResult`, `regcred`, `none`, [
    bareReport(`prod`, `a`, {status: `ok`, secret: `created`, targets: [{kind: `ServiceAccount`, name: `default`, action: `attached`}, {kind: `ServiceAccount`, name: `x`, action: `unchanged`}]}),
    bareReport(`prod`, `b`, {status: `ok`, secret: `unchanged`}),
  ]);
  assert.deepEqual(changedNames(report), [`secret/regcred`, `serviceaccount/default`]);
});
