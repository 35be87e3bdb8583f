/**
 * `refresh` as a use case over the ClusterSession port: for a managed secret whose password comes from a
 * recorded `--password-command`, decide whether it is due (its token expires within `before`, or, when no
 * expiry is known, it is older than `maxAge`), run the command(s), write the new password into the secret
 * (as `rotate` does: other registries kept, conflict-safe) and into every copy `sync` made of it.
 *
 * A command that fails leaves the secret and its copies as they were: nothing is written before every
 * command of the secret has answered. Time is passed in (`now`), commands run through an injected runner.
 */
import type {ClusterSession, KubeObject} from '../ports.ts';
import {errorLine} from '../errors.ts';
import type {Pacing} from '../retry.ts';
import {fanOut} from '../fanout.ts';
import {resolveNamespaces} from '../scope.ts';
import {planAddSecret} from '../secrets/plan.ts';
import {applySecretPlan} from '../secrets/apply.ts';
import type {RegistryCredential} from '../secrets/build.ts';
import {DOCKER_CONFIG_JSON_KEY, EXPIRES_AT_ANNOTATION, MANAGED_BY_LABEL, MANAGED_BY_VALUE, REFRESHED_AT_ANNOTATION, SOURCE_ANNOTATION, rfc3339} from '../secrets/metadata.ts';
import {recordedCommands, refreshedAtStamp} from '../secrets/passwordCommand.ts';
import {isCopyOf} from '../sync/plan.ts';
import {syncCopy} from '../sync/syncSecret.ts';

/** What happened to one secret. */
export type RefreshOutcome = `refreshed` | `unchanged` | `failed`;

/** The result for one secret (a `RefreshResult` entry). */
export type SecretRefresh = {
  namespace: string;
  name: string;
  result: RefreshOutcome;
  /** Why it was (not) refreshed, in words: `the token expires at … (within 3h)`, `not due: …`. */
  reason: string;
  /** Present when `result` is `failed`: what failed, one line, no secret. */
  error?: string;
  /** The expiry known after the run, RFC 3339, or null. */
  expiresAt: string | null;
  /** The copies `sync` made: how many were updated, already current, or failed (with their namespaces). */
  copies: {updated: number; unchanged: number; failed: Array<{namespace: string; error: string}>};
};

/** When a secret counts as due. */
export type RefreshWindow = {
  /** Refresh when the known expiry is this close (ms). */
  beforeMs: number;
  /** Refresh a secret without known expiry when its last refresh (or creation) is this old (ms); undefined: never. */
  maxAgeMs?: number;
};

/** The inputs a refresh needs from outside: the clock, the command runner, and the token-expiry reader. */
export type RefreshDeps = {
  now: Date;
  /** Runs one recorded command and returns the password (throws a one-line error otherwise). */
  runCommand: (command: string) => Promise<string>;
  /** Earliest token expiry in a `.dockerconfigjson` text (ECR), or null. */
  expiryOf: (dockerConfigJson: string) => Date | null;
  sameRegistry: (a: string, b: string) => boolean;
  /** How many copies to update at once. */
  concurrency: number;
  /** How to wait between the attempts of a write that lost a race. */
  pacing: Pacing;
};

/** True for a secret `refresh` looks at: managed, not a copy, with a password-command record. */
export function isRefreshable(secret: KubeObject): boolean {
  return secret.metadata.labels?.[MANAGED_BY_LABEL] === MANAGED_BY_VALUE
    && secret.metadata.annotations?.[SOURCE_ANNOTATION] === undefined
    && recordedCommands(secret).state !== `none`;
}

/** The known expiry of a secret: the earlier of its expires-at annotation and the tokens in its data. */
export function knownExpiry(secret: KubeObject, expiryOf: RefreshDeps[`expiryOf`]): Date | null {
  const candidates: Date[] = [];
  const annotation = secret.metadata.annotations?.[EXPIRES_AT_ANNOTATION];
  if (annotation !== undefined && !Number.isNaN(Date.parse(annotation)))
    candidates.push(new Date(annotation));
  const data = (secret.data ?? {}) as Record<string, unknown>;
  if (typeof data[DOCKER_CONFIG_JSON_KEY] === `string`) {
    const fromData = expiryOf(Buffer.from(data[DOCKER_CONFIG_JSON_KEY] as string, `base64`).toString(`utf8`));
    if (fromData !== null)
      candidates.push(fromData);
  }
  return candidates.length === 0 ? null : candidates.reduce((a, b) => (a.getTime() <= b.getTime() ? a : b));
}

/** `3h`, `45m`, `90s`: a duration for people. */
export function humanDuration(ms: number): string {
  const seconds = Math.round(ms / 1000);
  if (seconds % 3600 === 0 && seconds > 0)
    return `${seconds / 3600}h`;
  if (seconds % 60 === 0 && seconds > 0)
    return `${seconds / 60}m`;
  return `${seconds}s`;
}

/** Whether a secret is due, and why (pure). */
export function refreshDue(secret: KubeObject, window: RefreshWindow, now: Date, expiryOf: RefreshDeps[`expiryOf`]): {due: boolean; reason: string} {
  const expiry = knownExpiry(secret, expiryOf);
  if (expiry !== null) {
    const left = expiry.getTime() - now.getTime();
    if (left <= 0)
      return {due: true, reason: `the token expired at ${rfc3339(expiry)}`};
    if (left <= window.beforeMs)
      return {due: true, reason: `the token expires at ${rfc3339(expiry)}, within ${humanDuration(window.beforeMs)}`};
    return {due: false, reason: `not due: the token expires at ${rfc3339(expiry)}`};
  }
  const stamp = secret.metadata.annotations?.[REFRESHED_AT_ANNOTATION] ?? secret.metadata.creationTimestamp;
  if (window.maxAgeMs === undefined)
    return {due: false, reason: `not due: no token expiry is known (give --max-age to refresh it by age)`};
  const since = stamp === undefined || Number.isNaN(Date.parse(stamp)) ? Number.POSITIVE_INFINITY : now.getTime() - Date.parse(stamp);
  if (since >= window.maxAgeMs)
    return {due: true, reason: `last refreshed ${stamp === undefined ? `never` : `at ${stamp}`}, more than ${humanDuration(window.maxAgeMs)} ago`};
  return {due: false, reason: `not due: last refreshed at ${stamp}, less than ${humanDuration(window.maxAgeMs)} ago`};
}

/** Refreshes one secret if due; never throws for a cluster or command failure (the result says `failed`). */
export async function refreshSecret(session: ClusterSession, secret: KubeObject, window: RefreshWindow, deps: RefreshDeps): Promise<SecretRefresh> {
  const namespace = secret.metadata.namespace ?? ``;
  const name = secret.metadata.name;
  const base: SecretRefresh = {namespace, name, result: `unchanged`, reason: ``, expiresAt: null, copies: {updated: 0, unchanged: 0, failed: []}};
  const expiresAt = () => {
    const expiry = knownExpiry(secret, deps.expiryOf);
    return expiry === null ? null : rfc3339(expiry);
  };
  const recorded = recordedCommands(secret);
  if (recorded.state !== `ok`)
    return {...base, result: `failed`, reason: `cannot read the password-command record`, error: recorded.state === `invalid` ? `the annotation is not valid: ${recorded.reason}` : `no command recorded`, expiresAt: expiresAt()};
  const due = refreshDue(secret, window, deps.now, deps.expiryOf);
  if (!due.due)
    return {...base, reason: due.reason, expiresAt: expiresAt()};

  // 1. Every command answers before anything is written: a failure leaves the old secret in place.
  const credentials: RegistryCredential[] = [];
  for (const entry of recorded.entries) {
    try {
      credentials.push({server: entry.server, username: entry.username, password: await deps.runCommand(entry.command)});
    } catch (error) {
      return {...base, result: `failed`, reason: due.reason, error: `${entry.server}: ${errorLine(error)}; the secret was left as it was`, expiresAt: expiresAt()};
    }
  }

  // 2. The secret itself, as rotate writes it.
  let written: KubeObject;
  let changed: boolean;
  try {
    const applied = await applySecretPlan(session, namespace, name, existing => {
      if (existing === null)
        throw new Error(`secret ${namespace}/${name} was deleted while refreshing`);
      return planAddSecret(existing, {name, namespace, credentials, replace: false, force: false, expiryOf: deps.expiryOf, sameRegistry: deps.sameRegistry, annotationsOnChange: refreshedAtStamp(deps.now)});
    }, {dryRun: false, pacing: deps.pacing});
    written = {...applied.object, metadata: {...applied.object.metadata, namespace}};
    changed = applied.verb !== `unchanged`;
  } catch (error) {
    return {...base, result: `failed`, reason: due.reason, error: `update secret: ${errorLine(error)}`, expiresAt: expiresAt()};
  }

  // 3. Its copies (one cluster-wide list; ignored and terminating namespaces left alone, as rotate does).
  const copies = base.copies;
  try {
    const usable = new Set((await resolveNamespaces(session, {kind: `all`, exclude: []})).namespaces);
    const found = (await session.list(`secrets`, {fieldSelector: `metadata.name=${name}`}))
      .filter(candidate => candidate.metadata.namespace !== namespace && isCopyOf(candidate, {namespace, name}) && usable.has(candidate.metadata.namespace ?? ``));
    const results = await fanOut(found, deps.concurrency, copy => syncCopy(session, copy.metadata.namespace ?? ``, written, copy, {force: false, dryRun: `none`, createMissing: false, pacing: deps.pacing}));
    for (const outcome of results) {
      const where = outcome.item.metadata.namespace ?? ``;
      if (!outcome.ok)
        copies.failed.push({namespace: where, error: errorLine(outcome.error)});
      else if (outcome.value.status === `failed`)
        copies.failed.push({namespace: where, error: `${outcome.value.failedStep}: ${outcome.value.error}`});
      else if (outcome.value.action === `unchanged`)
        copies.unchanged++;
      else
        copies.updated++;
    }
  } catch (error) {
    copies.failed.push({namespace: ``, error: `find copies: ${errorLine(error)}`});
  }
  const after = knownExpiry(written, deps.expiryOf);
  const result: RefreshOutcome = copies.failed.length > 0 ? `failed` : changed || copies.updated > 0 ? `refreshed` : `unchanged`;
  return {
    ...base,
    result,
    reason: changed ? due.reason : `${due.reason}; the command gave the same password`,
    ...(copies.failed.length > 0 ? {error: `${copies.failed.length} cop${copies.failed.length === 1 ? `y` : `ies`} not updated: ${copies.failed.map(entry => `${entry.namespace || `(list)`}: ${entry.error}`).join(`; `)}`} : {}),
    expiresAt: after === null ? null : rfc3339(after),
    copies,
  };
}
