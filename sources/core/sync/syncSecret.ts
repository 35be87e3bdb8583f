/**
 * sync/rotate/remove engine for one namespace, over the ClusterSession port. Every write is
 * conflict-safe (PUT with the resourceVersion read, POST that fails on AlreadyExists, both re-read and
 * re-planned on 409), and every call is idempotent: a rerun after a partial run finishes the job.
 * A per-namespace call never throws for cluster errors; it returns `status: 'failed'` and the step.
 */
import type {ClusterSession, DryRun, KubeObject} from '../ports.ts';
import type {AttachTargets, NamespaceAttachResult, AttachSnapshot} from '../attach/attachSecret.ts';
import {attachSecret, detachSecret} from '../attach/attachSecret.ts';
import {isApiError} from '../apiError.ts';
import {jitteredBackoff, retryOnConflict} from '../retry.ts';
import type {Pacing} from '../retry.ts';
import {planCopy} from './plan.ts';
import {pullSecretNames as podPullSecretNames} from '../verify/subjects.ts';
import {bareReport, fromAttachResult} from '../attach/report.ts';
import type {NamespaceReport} from '../attach/report.ts';
import {InputError, PullSecretError, errorLine} from '../errors.ts';
import {DOCKERCFG_TYPE, DOCKER_CONFIG_JSON_TYPE, FIELD_MANAGER, PULL_SECRET_TYPES} from '../secrets/metadata.ts';

/** What happened to the copy in one namespace. */
export type CopyOutcome = `created` | `configured` | `replaced` | `unchanged` | `absent` | `deleted` | `not-found`;

/** The result for one namespace. */
export type NamespaceSyncResult = {
  namespace: string;
  status: `ok` | `failed`;
  /** What happened to the secret (absent when the step before failed). */
  action?: CopyOutcome;
  failedStep?: string;
  error?: string;
  /** The attach (sync --attach) or detach (remove, prune) part, when there is one. */
  references?: NamespaceAttachResult;
  /** Facts the user must act on (remove: running pods that still list the deleted secret). */
  warnings?: string[];
};

export type SyncCopyOptions = {
  force: boolean;
  dryRun: DryRun;
  /** False for `rotate`: only existing copies are updated. */
  createMissing?: boolean;
  /** `sync --attach`: attach the copy afterwards. */
  attach?: {targets: AttachTargets; snapshot?: AttachSnapshot; restart?: boolean; now?: () => Date; timing?: boolean};
  fieldManager?: string;
  /** How to wait between the attempts of a write that lost a race. */
  pacing: Pacing;
};

/** Twenty attempts, jitter up to 50 ms: a copy races with other syncs of the same source. */
const BACKOFF = jitteredBackoff(20, 50);

function failed(result: NamespaceSyncResult, step: string, error: unknown): NamespaceSyncResult {
  return {...result, status: `failed`, failedStep: step, error: typeof error === `string` ? error : errorLine(error)};
}

/**
 * Makes the secret in `namespace` a current copy of `source` (created, updated or left alone), then
 * attaches it if asked. `existing` is what a cluster-wide list returned (null: absent; undefined: not
 * known, read it here).
 */
export async function syncCopy(session: ClusterSession, namespace: string, source: KubeObject, existing: KubeObject | null | undefined, options: SyncCopyOptions): Promise<NamespaceSyncResult> {
  const name = source.metadata.name;
  let result: NamespaceSyncResult = {namespace, status: `ok`};
  const writeOptions = {dryRun: options.dryRun === `server`, fieldManager: options.fieldManager ?? FIELD_MANAGER};
  let current = existing;
  let step = `read secret`;
  let written: CopyOutcome | {conflict: string};
  try {
    written = await retryOnConflict({backoff: BACKOFF, pacing: options.pacing}, async ({attempt, createMayHaveLanded, creating}): Promise<CopyOutcome | {conflict: string}> => {
      step = `read secret`;
      // A retry re-reads: the copy changed, or a create's answer was lost.
      if (current === undefined || attempt > 1)
        current = await session.get(`secrets`, namespace, name);
      const plan = planCopy(current, source, namespace, {force: options.force, createMissing: options.createMissing});
      switch (plan.action) {
        case `absent`:
          return `absent`;
        case `unchanged`:
          // After a create whose response was lost, the copy found is the one we created.
          return createMayHaveLanded ? `created` : `unchanged`;
        case `conflict`:
          return {conflict: plan.reason};
        case `create`:
          step = `create secret`;
          creating();
          if (options.dryRun !== `client`)
            await session.create(`secrets`, namespace, plan.body, writeOptions);
          return `created`;
        case `update`:
          step = `update secret`;
          if (options.dryRun !== `client`)
            await session.replace(`secrets`, namespace, name, plan.body, writeOptions);
          return `configured`;
        case `recreate`:
          // `type` is immutable: the only way to turn a wrong-type secret into a pull secret.
          step = `delete secret of type ${plan.previousType}`;
          if (options.dryRun !== `client`) {
            try {
              await session.delete(`secrets`, namespace, name, writeOptions);
            } catch (error) {
              if (!isApiError(error, 404))
                throw error;
            }
            step = `create secret`;
            if (options.dryRun === `none`)
              await session.create(`secrets`, namespace, plan.body, writeOptions);
          }
          return `replaced`;
      }
    });
  } catch (error) {
    return failed(result, step, error);
  }
  if (typeof written !== `string`)
    return failed(result, `check existing secret`, written.conflict);
  const outcome = written;
  result = {...result, action: outcome};
  if (options.attach !== undefined && outcome !== `absent`) {
    const references = await attachSecret(session, namespace, name, options.attach.targets, {
      dryRun: options.dryRun,
      // The copy was just written (or, with --dry-run=client, would have been).
      allowMissing: true,
      restart: options.attach.restart,
      now: options.attach.now,
      snapshot: options.attach.snapshot,
      timing: options.attach.timing,
      pacing: options.pacing,
    });
    result.references = references;
    if (references.status === `failed`)
      return {...result, status: `failed`, failedStep: references.failedStep, error: references.error};
  }
  return result;
}

/**
 * Detaches `name` from every ServiceAccount and workload in the namespace that references it, then
 * deletes the secret (`remove`, and `sync --prune` for a copy). Detaching first means a failure never
 * leaves references to a deleted secret behind; a rerun finishes the delete.
 */
export async function removeSecret(session: ClusterSession, namespace: string, name: string, options: {dryRun: DryRun; snapshot?: AttachSnapshot; fieldManager?: string; pacing: Pacing; force?: boolean; warnPods?: boolean; detachFrom?: AttachTargets}): Promise<NamespaceSyncResult> {
  const result: NamespaceSyncResult = {namespace, status: `ok`};
  // Only pull secrets are deleted without --force: checked before any reference is touched (`sync --prune` passes
  // force: its victims are copies it made, pull secrets by construction, found by their provenance).
  if (!options.force) {
    let type: string | null | undefined = options.snapshot?.secretTypes?.get(namespace);
    if (type === undefined && options.snapshot?.secretPresent?.has(namespace) !== false) {
      try {
        const existing = await session.get(`secrets`, namespace, name);
        type = existing === null ? null : typeof existing.type === `string` ? existing.type : `Opaque`;
      } catch (error) {
        return failed(result, `check secret`, error);
      }
    }
    if (typeof type === `string` && !PULL_SECRET_TYPES.has(type))
      return {...result, status: `failed`, failedStep: `check secret`, error: `secret ${namespace}/${name} has type ${type}, not a pull secret (${DOCKER_CONFIG_JSON_TYPE} or ${DOCKERCFG_TYPE}); nothing was changed; use --force to detach and delete it anyway`};
  }
  // `detachFrom`: where references may be (the agent only ever attaches to ServiceAccounts); by default everywhere.
  const references = await detachSecret(session, namespace, name, options.detachFrom ?? {serviceAccounts: `all`, workloads: `all`}, {dryRun: options.dryRun, allowMissing: true, snapshot: options.snapshot, fieldManager: options.fieldManager, pacing: options.pacing});
  result.references = references;
  if (references.status === `failed`)
    return {...result, status: `failed`, failedStep: references.failedStep, error: references.error};
  // The cluster-wide list already says the secret is not there: no DELETE to send.
  if (options.snapshot?.secretPresent !== undefined && !options.snapshot.secretPresent.has(namespace))
    return {...result, action: `not-found`};
  try {
    if (options.dryRun === `client`) {
      const existing = options.snapshot?.secretPresent?.has(namespace) ? {} : await session.get(`secrets`, namespace, name);
      return existing === null ? {...result, action: `not-found`} : {...result, action: `deleted`, warnings: options.warnPods ? await podsStillListing(session, namespace, name, options.snapshot) : []};
    }
    await session.delete(`secrets`, namespace, name, {dryRun: options.dryRun === `server`, fieldManager: options.fieldManager ?? FIELD_MANAGER});
  } catch (error) {
    if (isApiError(error, 404))
      return {...result, action: `not-found`};
    return failed(result, `delete secret`, error);
  }
  return {...result, action: `deleted`, warnings: options.warnPods ? await podsStillListing(session, namespace, name, options.snapshot) : []};
}

/**
 * Running pods that still list a deleted secret: a pod's imagePullSecrets cannot be changed, so detaching never
 * reaches them. They run on, but any pull they need (a restart on another node, a new image) finds no secret.
 */
async function podsStillListing(session: ClusterSession, namespace: string, name: string, snapshot: AttachSnapshot | undefined): Promise<string[]> {
  let pods = snapshot?.pods?.get(namespace);
  if (pods === undefined) {
    try {
      pods = await session.list(`pods`, {namespace});
    } catch (error) {
      return [`could not check for running pods that still list ${name} in namespace "${namespace}": ${errorLine(error)}`];
    }
  }
  const listing = pods.filter(pod => pod.metadata.deletionTimestamp === undefined
    && ![`Succeeded`, `Failed`].includes(String((pod.status as {phase?: unknown} | undefined)?.phase ?? ``))
    && podPullSecretNames((pod.spec ?? {}) as Record<string, unknown>).includes(name)).map(pod => pod.metadata.name).sort();
  if (listing.length === 0)
    return [];
  const shown = listing.length > 5 ? `${listing.slice(0, 5).join(`, `)} and ${listing.length - 5} more` : listing.join(`, `);
  return [`${listing.length} running pod${listing.length === 1 ? `` : `s`} (${shown}) still list${listing.length === 1 ? `s` : ``} ${name} in imagePullSecrets, which a pod's spec cannot drop: ${listing.length === 1 ? `it keeps` : `they keep`} running, but a pull needed later (a restart on another node, a new image) finds no secret; recreate ${listing.length === 1 ? `it` : `them`} (kubectl rollout restart of ${listing.length === 1 ? `its` : `their`} Deployment, StatefulSet or DaemonSet, or delete and re-create a bare pod)`];
}

/** A NamespaceReport from a sync/rotate/remove result. */
export function fromSyncResult(context: string, result: NamespaceSyncResult): NamespaceReport {
  const base = result.references === undefined
    ? bareReport(context, result.namespace, {status: result.status})
    : fromAttachResult(context, result.references);
  const {failedStep: _step, error: _error, ...rest} = base;
  return {
    ...rest,
    status: result.status,
    ...(result.action === undefined ? {} : {secret: result.action}),
    warnings: [...rest.warnings, ...(result.warnings ?? [])],
    ...(result.failedStep === undefined ? {} : {failedStep: result.failedStep, error: result.error}),
  };
}

/** Reads the source secret; it must exist and be a pull secret. */
export async function readSource(session: ClusterSession, namespace: string, name: string): Promise<KubeObject> {
  const source = await session.get(`secrets`, namespace, name);
  if (source === null)
    throw new PullSecretError(`source secret "${name}" not found in namespace "${namespace}"`);
  const type = typeof source.type === `string` ? source.type : `Opaque`;
  if (!PULL_SECRET_TYPES.has(type))
    throw new InputError(`source secret ${namespace}/${name} has type ${type}, not kubernetes.io/dockerconfigjson or kubernetes.io/dockercfg; only pull secrets are synced`);
  return {...source, metadata: {...source.metadata, namespace}};
}

/**
 * The secrets named `name` in `namespaces`: one cluster-wide list (by field selector) when there are
 * several, so that a fan-out over hundreds of namespaces costs one request, not one per namespace.
 */
export async function secretsByNamespace(session: ClusterSession, name: string): Promise<{all: KubeObject[]; byNamespace: Map<string, KubeObject>}> {
  const all = (await session.list(`secrets`, {fieldSelector: `metadata.name=${name}`})).filter(secret => secret.metadata.name === name);
  return {all, byNamespace: new Map(all.map(secret => [secret.metadata.namespace ?? ``, secret]))};
}
