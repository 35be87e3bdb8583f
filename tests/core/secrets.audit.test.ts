import {test} from 'node:test';
import assert from 'node:assert/strict';
import {auditPullSecrets, isPullSecretCandidate} from '../../sources/core/secrets/audit.ts';
import type {AuditInput} from '../../sources/core/secrets/audit.ts';
import {describePullSecret, formatDuration, maskSecret} from '../../sources/core/secrets/describe.ts';
import type {KubeObject} from '../../sources/core/ports.ts';
import {b64} from '../helpers/encoding.ts';

const NOW = new Date(`2026-11-29T12:00:00Z`);
const secret = (name: string, auths: Record<string, unknown>, extra: Partial<KubeObject> = {}): KubeObject => ({
  metadata: {name, namespace: `ns`},
  type: `kubernetes.io/dockerconfigjson`,
  data: {'.dockerconfigjson': b64(JSON.stringify({auths}))},
  ...extra,
});
const good = {'ghcr.io': {auth: b64(`bot:pat`)}};
const sa = (name: string, secrets: string[]): KubeObject => ({metadata: {name, namespace: `ns`}, imagePullSecrets: secrets.map(s => ({name: s}))});
const deployment = (name: string, secrets: string[]): KubeObject => ({kind: `Deployment`, metadata: {name, namespace: `ns`}, spec: {template: {spec: {containers: [], imagePullSecrets: secrets.map(s => ({name: s}))}}}});

function audit(input: Partial<AuditInput>) {
  return auditPullSecrets({secrets: [], serviceAccounts: [], workloads: [], pods: [], now: NOW, expiryOf: () => null, ...input});
}

test(`a secret nothing references is an orphan, one referenced by a ServiceAccount is ok`, () => {
  const result = audit({secrets: [secret(`a`, good), secret(`b`, good)], serviceAccounts: [sa(`default`, [`a`])]});
  assert.deepEqual(result.secrets.map(s => [s.name, s.status]), [[`a`, `ok`], [`b`, `orphan`]]);
});

test(`a reference from another namespace does not count`, () => {
  const other = {...sa(`default`, [`a`]), metadata: {name: `default`, namespace: `elsewhere`}};
  assert.equal(audit({secrets: [secret(`a`, good)], serviceAccounts: [other]}).secrets[0]!.status, `orphan`);
});

test(`a CronJob's job template counts as a reference`, () => {
  const cron: KubeObject = {kind: `CronJob`, metadata: {name: `nightly`, namespace: `ns`}, spec: {jobTemplate: {spec: {template: {spec: {containers: [], imagePullSecrets: [{name: `a`}]}}}}}};
  assert.deepEqual(audit({secrets: [secret(`a`, good)], workloads: [cron]}).secrets[0]!.referencedBy, [{kind: `CronJob`, name: `nightly`}]);
});

test(`invalid wins over every other status, with the reason`, () => {
  const wrongKey = {...secret(`wrong`, good), data: {'.dockercfg': b64(`{}`)}};
  const empty = secret(`empty`, {'ghcr.io': {}});
  const result = audit({secrets: [wrongKey, empty], serviceAccounts: [sa(`default`, [`wrong`, `empty`])]});
  assert.deepEqual(result.secrets.map(s => s.status), [`invalid`, `invalid`]);
  assert.match(result.secrets[1]!.reasons[0]!, /kubernetes\.io\/dockerconfigjson needs the data key \.dockerconfigjson/);
  assert.match(result.secrets[0]!.reasons[0]!, /anonymous/);
});

test(`an Opaque secret holding .dockerconfigjson is listed as invalid; other secrets are not listed`, () => {
  const opaque = secret(`mirror`, good, {type: `Opaque`});
  const tls = {metadata: {name: `tls`, namespace: `ns`}, type: `kubernetes.io/tls`, data: {'tls.crt': ``}};
  assert.equal(isPullSecretCandidate(tls), false);
  assert.deepEqual(audit({secrets: [opaque, tls]}).secrets.map(s => [s.name, s.status]), [[`mirror`, `invalid`]]);
});

test(`expiry from the token or the annotation makes a secret expired or expiring (under 24 h)`, () => {
  const ecr = `123456789012.dkr.ecr.eu-west-1.amazonaws.com`;
  const expiryOf = (_key: string, password: string) => password === `old` ? new Date(`2026-11-29T11:00:00Z`) : password === `soon` ? new Date(`2026-11-30T06:00:00Z`) : null;
  const result = audit({
    expiryOf,
    secrets: [
      secret(`old`, {[ecr]: {username: `AWS`, password: `old`}}),
      secret(`soon`, {[ecr]: {username: `AWS`, password: `soon`}}),
      secret(`annotated`, good, {metadata: {name: `annotated`, namespace: `ns`, annotations: {'pullsecret.kubectl.io/expires-at': `2026-11-29T13:00:00Z`}}}),
      secret(`later`, good, {metadata: {name: `later`, namespace: `ns`, annotations: {'pullsecret.kubectl.io/expires-at': `2026-12-05T00:00:00Z`}}}),
    ],
  });
  assert.deepEqual(result.secrets.map(s => [s.name, s.status, s.expiresAt]), [
    [`annotated`, `expiring`, `2026-11-29T13:00:00Z`],
    [`later`, `orphan`, `2026-12-05T00:00:00Z`],
    [`old`, `expired`, `2026-11-29T11:00:00Z`],
    [`soon`, `expiring`, `2026-11-30T06:00:00Z`],
  ]);
});

test(`dangling references come from ServiceAccounts, templates and standalone pods, not controller-owned pods`, () => {
  const standalone: KubeObject = {metadata: {name: `debug`, namespace: `ns`}, spec: {containers: [], imagePullSecrets: [{name: `gone`}]}};
  const owned: KubeObject = {metadata: {name: `web-1`, namespace: `ns`, ownerReferences: [{apiVersion: `apps/v1`, kind: `ReplicaSet`, name: `web-x`, uid: `u`, controller: true}]}, spec: {containers: [], imagePullSecrets: [{name: `gone`}]}};
  const result = audit({secrets: [secret(`a`, good)], serviceAccounts: [sa(`builder`, [`missing`, `a`])], workloads: [deployment(`web`, [`gone`])], pods: [standalone, owned]});
  assert.deepEqual(result.dangling.map(d => `${d.secret}<-${d.referencedBy.kind}/${d.referencedBy.name}`), [`gone<-Deployment/web`, `gone<-Pod/debug`, `missing<-ServiceAccount/builder`]);
});

test(`managed label and source annotation are reported as provenance`, () => {
  const copy = secret(`copy`, good, {metadata: {name: `copy`, namespace: `ns`, labels: {'app.kubernetes.io/managed-by': `kubectl-pullsecret`}, annotations: {'pullsecret.kubectl.io/source': `platform/regcred`}}});
  const [row] = audit({secrets: [copy]}).secrets;
  assert.equal(row!.managed, true);
  assert.equal(row!.copyOf, `platform/regcred`);
});

test(`describePullSecret shows what an ignored secret holds and why the kubelet ignores it`, () => {
  const decoded = describePullSecret(secret(`mirror`, good, {type: `Opaque`}), {now: NOW, expiryOf: () => null});
  assert.equal(decoded.status, `ignored`);
  assert.deepEqual(decoded.entries.map(e => [e.key, e.username]), [[`ghcr.io`, `bot`]]);
  assert.match(decoded.warnings[0]!, /Opaque is not a pull-secret type/);
});

test(`describePullSecret normalizes keys like the kubelet and reports how auth relates to the fields`, () => {
  const decoded = describePullSecret(secret(`s`, {
    'https://index.docker.io/v1/': {username: `u`, password: `p`, auth: b64(`u:p`)},
    'reg.example.com:5000/v2/': {username: `u`, password: `p`},
    'quay.io': {username: `a`, password: `b`, auth: b64(`c:d`)},
  }), {now: NOW, expiryOf: () => null});
  assert.deepEqual(decoded.entries.map(e => [e.normalizedKey, e.auth]), [[`index.docker.io`, `agrees`], [`reg.example.com:5000`, `absent`], [`quay.io`, `disagrees`]]);
});

test(`masking keeps only the length, counting characters not bytes`, () => {
  assert.equal(maskSecret(`pä:ss`), `******** (5 chars)`);
  assert.equal(maskSecret(`x`), `******** (1 char)`);
  assert.equal(maskSecret(``), `<empty>`);
});

test(`durations read like kubectl's`, () => {
  assert.equal(formatDuration(45 * 60_000), `45m`);
  assert.equal(formatDuration(3 * 3600_000 + 12 * 60_000), `3h12m`);
  assert.equal(formatDuration(50 * 3600_000), `2d2h`);
});
