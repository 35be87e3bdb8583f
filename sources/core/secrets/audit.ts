import {parsePullSecret} from '../dockerconfig/parse.ts';
import type {KubeObject} from '../ports.ts';
import {podSpecOf, pullSecretNames} from '../verify/subjects.ts';
import type {ExpiryReader} from './describe.ts';
import {describePullSecret} from './describe.ts';
import {encodePolicy, recordedPolicy} from '../sync/policy.ts';
import {DOCKERCFG_KEY, DOCKERCFG_TYPE, DOCKER_CONFIG_JSON_KEY, DOCKER_CONFIG_JSON_TYPE, EXPIRES_AT_ANNOTATION, MANAGED_BY_LABEL, MANAGED_BY_VALUE, SOURCE_ANNOTATION} from './metadata.ts';
import {compareText} from '../text.ts';

/** List statuses (docs/design.md vocabulary). */
export type ListStatus = `ok` | `orphan` | `invalid` | `expiring` | `expired`;

/** An object that names a pull secret: a ServiceAccount, a workload's pod template, or a pod. */
export type Referrer = {kind: string; name: string};

/** One pull secret in the audit. */
export type AuditedSecret = {
  namespace: string;
  name: string;
  type: string;
  status: ListStatus;
  /** Registry keys, in the secret's order. */
  registries: string[];
  /** Effective usernames, one per registry (empty when none). */
  usernames: string[];
  referencedBy: Referrer[];
  managed: boolean;
  /** `namespace/name` of the secret this is a copy of (`pullsecret.kubectl.io/source`), or null. */
  copyOf: string | null;
  /** Earliest known expiry (ECR token or the expires-at annotation), RFC 3339, or null. */
  expiresAt: string | null;
  /** The sync policy recorded with `sync --keep` (the annotation's fields), `{error}` when it cannot be read, or null. */
  syncPolicy: Record<string, unknown> | {error: string} | null;
  createdAt: string | null;
  /** Why the status is `invalid`, `expired` or `expiring` (one line each, no secret data). */
  reasons: string[];
};

/** A ServiceAccount, workload template or pod naming a secret that does not exist in its namespace. */
export type DanglingReference = {namespace: string; secret: string; referencedBy: Referrer};

/** What `list` reports. */
export type PullSecretAudit = {secrets: AuditedSecret[]; dangling: DanglingReference[]};

/** What `auditPullSecrets` reads: plain objects as the API returns them, already limited to the namespaces in scope. */
export type AuditInput = {
  secrets: KubeObject[];
  serviceAccounts: KubeObject[];
  /** Workloads (Deployment, StatefulSet, DaemonSet, ReplicaSet, Job, CronJob, ReplicationController), each with `kind` set. */
  workloads: KubeObject[];
  pods: KubeObject[];
  now: Date;
  expiryOf: ExpiryReader;
};

/** The `syncPolicy` field of a secret: the policy's fields in the annotation's form, or why it cannot be read. */
function policyField(secret: KubeObject): AuditedSecret[`syncPolicy`] {
  const recorded = recordedPolicy(secret);
  if (recorded.state === `none`)
    return null;
  if (recorded.state === `invalid`)
    return {error: recorded.reason};
  return JSON.parse(encodePolicy(recorded.policy)) as Record<string, unknown>;
}

/** Tokens expiring within this window are reported as `expiring`. */
export const EXPIRING_WINDOW_MS = 24 * 3600_000;

/** True for secrets `list` shows: both pull-secret types, and any secret holding `.dockerconfigjson` or `.dockercfg` (the Opaque trap). */
export function isPullSecretCandidate(secret: KubeObject): boolean {
  if (secret.type === DOCKER_CONFIG_JSON_TYPE || secret.type === DOCKERCFG_TYPE)
    return true;
  const data = secret.data as Record<string, unknown> | undefined;
  return data !== undefined && data !== null && (DOCKER_CONFIG_JSON_KEY in data || DOCKERCFG_KEY in data);
}

function referrersByNamespace(input: AuditInput): Map<string, Array<{referrer: Referrer; secrets: string[]}>> {
  const map = new Map<string, Array<{referrer: Referrer; secrets: string[]}>>();
  const add = (namespace: string, referrer: Referrer, secrets: string[]) => {
    if (secrets.length === 0)
      return;
    map.set(namespace, [...(map.get(namespace) ?? []), {referrer, secrets}]);
  };
  for (const account of input.serviceAccounts)
    add(account.metadata.namespace ?? ``, {kind: `ServiceAccount`, name: account.metadata.name}, pullSecretNames({imagePullSecrets: account.imagePullSecrets}));
  for (const workload of input.workloads) {
    const spec = podSpecOf(workload);
    if (spec)
      add(workload.metadata.namespace ?? ``, {kind: workload.kind ?? `Workload`, name: workload.metadata.name}, pullSecretNames(spec));
  }
  for (const pod of input.pods) {
    const spec = podSpecOf({...pod, kind: `Pod`});
    if (spec)
      add(pod.metadata.namespace ?? ``, {kind: `Pod`, name: pod.metadata.name}, pullSecretNames(spec));
  }
  return map;
}

function earliest(dates: Array<Date | null>): Date | null {
  let best: Date | null = null;
  for (const date of dates) {
    if (date && !Number.isNaN(date.getTime()) && (best === null || date < best))
      best = date;
  }
  return best;
}

function rfc3339(date: Date): string {
  return date.toISOString().replace(/\.\d{3}Z$/, `Z`);
}

/**
 * The audit behind `list`: every pull secret with its registries, users, referrers, provenance and
 * expiry, and a status (`invalid` > `expired` > `expiring` > `orphan` > `ok`); plus dangling references
 * (a ServiceAccount, workload template or standalone pod naming a secret missing from its namespace).
 * Pods created by a controller are counted as referrers but not reported as dangling (their workload is).
 */
export function auditPullSecrets(input: AuditInput): PullSecretAudit {
  const referrers = referrersByNamespace(input);
  const existing = new Set(input.secrets.map(secret => `${secret.metadata.namespace ?? ``}/${secret.metadata.name}`));
  const secrets: AuditedSecret[] = [];
  for (const secret of input.secrets.filter(isPullSecretCandidate)) {
    const namespace = secret.metadata.namespace ?? ``;
    const decoded = describePullSecret(secret as Parameters<typeof describePullSecret>[0], {now: input.now, expiryOf: input.expiryOf});
    const parsed = parsePullSecret(secret as Parameters<typeof parsePullSecret>[0]);
    const reasons: string[] = [];
    if (parsed.status === `invalid`)
      reasons.push(...parsed.problems);
    else if (parsed.status === `ignored`)
      reasons.push(parsed.reason);
    else if (parsed.entries.length === 0)
      reasons.push(`it holds no registries`);
    else if (parsed.entries.every(entry => entry.username === `` || entry.password === ``))
      reasons.push(`no registry in it has both a username and a password; pulls with it are anonymous`);
    const annotation = secret.metadata.annotations?.[EXPIRES_AT_ANNOTATION];
    const expiry = earliest([...decoded.entries.map(entry => entry.expiresAt), annotation ? new Date(annotation) : null]);
    let status: ListStatus;
    const referencedBy = (referrers.get(namespace) ?? []).filter(({secrets: names}) => names.includes(secret.metadata.name)).map(({referrer}) => referrer);
    if (reasons.length > 0) {
      status = `invalid`;
    } else if (expiry && expiry.getTime() <= input.now.getTime()) {
      status = `expired`;
      reasons.push(`the token expired at ${rfc3339(expiry)}`);
    } else if (expiry && expiry.getTime() - input.now.getTime() < EXPIRING_WINDOW_MS) {
      status = `expiring`;
      reasons.push(`the token expires at ${rfc3339(expiry)}`);
    } else {
      status = referencedBy.length === 0 ? `orphan` : `ok`;
    }
    secrets.push({
      namespace,
      name: secret.metadata.name,
      type: typeof secret.type === `string` ? secret.type : `Opaque`,
      status,
      registries: decoded.entries.map(entry => entry.key),
      usernames: decoded.entries.map(entry => entry.username),
      referencedBy,
      managed: secret.metadata.labels?.[MANAGED_BY_LABEL] === MANAGED_BY_VALUE,
      copyOf: secret.metadata.annotations?.[SOURCE_ANNOTATION] ?? null,
      expiresAt: expiry ? rfc3339(expiry) : null,
      syncPolicy: policyField(secret),
      createdAt: secret.metadata.creationTimestamp ?? null,
      reasons,
    });
  }
  const dangling: DanglingReference[] = [];
  const owned = new Set(input.pods.filter(pod => (pod.metadata.ownerReferences ?? []).length > 0).map(pod => `${pod.metadata.namespace ?? ``}/${pod.metadata.name}`));
  for (const [namespace, list] of referrers) {
    for (const {referrer, secrets: names} of list) {
      if (referrer.kind === `Pod` && owned.has(`${namespace}/${referrer.name}`))
        continue;
      for (const name of new Set(names)) {
        if (!existing.has(`${namespace}/${name}`))
          dangling.push({namespace, secret: name, referencedBy: referrer});
      }
    }
  }
  const byName = (a: {namespace: string}, b: {namespace: string}, x: string, y: string) => compareText(a.namespace, b.namespace) || compareText(x, y);
  secrets.sort((a, b) => byName(a, b, a.name, b.name));
  dangling.sort((a, b) => byName(a, b, a.secret, b.secret) || compareText(a.referencedBy.kind, b.referencedBy.kind) || compareText(a.referencedBy.name, b.referencedBy.name));
  return {secrets, dangling};
}

/** `sa/default`, `deploy/web`: kubectl's short resource names for the REFERENCED BY column. */
export function shortReferrer(referrer: Referrer): string {
  const short: Record<string, string> = {ServiceAccount: `sa`, Deployment: `deploy`, StatefulSet: `sts`, DaemonSet: `ds`, ReplicaSet: `rs`, Job: `job`, CronJob: `cronjob`, ReplicationController: `rc`, Pod: `pod`};
  return `${short[referrer.kind] ?? referrer.kind.toLowerCase()}/${referrer.name}`;
}
