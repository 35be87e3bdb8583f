/**
 * sync/rotate/remove engine for one namespace, over the ClusterSession port. Every write is
 * conflict-safe (PUT with the resourceVersion read, POST that fails on AlreadyExists, both re-read and
 * re-planned on 409), and every call is idempotent: a rerun after a partial run finishes the job.
 * A per-namespace call never throws for cluster errors; it returns `status: 'failed'` and the step.
 */
import type {ClusterSession, DryRun, KubeObject} from '../ports.ts';
import {FIELD_MANAGER} from '../secrets/metadata.ts';
import type {AttachTargets, NamespaceAttachResult, AttachSnapshot} from '../attach/attachSecret.ts';
import {apiErrorCode, attachSecret, describeError, detachSecret} from '../attach/attachSecret.ts';
import {planCopy} from './plan.ts';

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
};

export type SyncCopyOptions = {
  force: boolean;
  dryRun: DryRun;
  /** False for `rotate`: only existing copies are updated. */
  createMissing?: boolean;
  /** `sync --attach`: attach the copy afterwards. */
  attach?: {targets: AttachTargets; snapshot?: AttachSnapshot; restart?: boolean; now?: () => Date};
  fieldManager?: string;
};

const MAX_ATTEMPTS = 20;
/** Re-reads after a create that failed with an unknown outcome (5xx, connection reset). */
const MAX_TRANSIENT_RETRIES = 3;

function failed(result: NamespaceSyncResult, step: string, error: unknown): NamespaceSyncResult {
  return {...result, status: `failed`, failedStep: step, error: typeof error === `string` ? error : describeError(error)};
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
  let outcome: CopyOutcome | undefined;
  let transientRetries = 0;
  let createAttempted = false;
  for (let attempt = 1; outcome === undefined; attempt++) {
    if (current === undefined) {
      try {
        current = await session.get(`secrets`, namespace, name);
      } catch (error) {
        return failed(result, `read secret`, error);
      }
    }
    const plan = planCopy(current, source, namespace, {force: options.force, createMissing: options.createMissing});
    let step = `read secret`;
    try {
      switch (plan.action) {
        case `absent`:
          outcome = `absent`;
          break;
        case `unchanged`:
          // After a create whose response was lost, the copy found is the one we created.
          outcome = createAttempted ? `created` : `unchanged`;
          break;
        case `conflict`:
          return failed(result, `check existing secret`, plan.reason);
        case `create`:
          step = `create secret`;
          if (options.dryRun !== `client`)
            await session.create(`secrets`, namespace, plan.body, writeOptions);
          outcome = `created`;
          break;
        case `update`:
          step = `update secret`;
          if (options.dryRun !== `client`)
            await session.replace(`secrets`, namespace, name, plan.body, writeOptions);
          outcome = `configured`;
          break;
        case `recreate`:
          // `type` is immutable: the only way to turn a wrong-type secret into a pull secret.
          step = `delete secret of type ${plan.previousType}`;
          if (options.dryRun !== `client`) {
            try {
              await session.delete(`secrets`, namespace, name, writeOptions);
            } catch (error) {
              if (apiErrorCode(error) !== 404)
                throw error;
            }
            step = `create secret`;
            if (options.dryRun === `none`)
              await session.create(`secrets`, namespace, plan.body, writeOptions);
          }
          outcome = `replaced`;
          break;
      }
    } catch (error) {
      const code = apiErrorCode(error);
      // 409: someone created or changed it since we read it: read again and re-plan.
      if (code === 409 && attempt < MAX_ATTEMPTS) {
        current = undefined;
        await new Promise(resolve => setTimeout(resolve, Math.random() * Math.min(2 ** attempt, 50)));
        continue;
      }
      // The session does not repeat a POST whose fate is unknown (5xx, reset). Re-reading tells: if our copy
      // is there, the create went through; if not, creating again is safe (a duplicate POST gets 409).
      if (plan.action === `create` && (code === undefined || code >= 500) && transientRetries < MAX_TRANSIENT_RETRIES) {
        transientRetries++;
        createAttempted = true;
        current = undefined;
        await new Promise(resolve => setTimeout(resolve, 100 * 2 ** transientRetries * (0.5 + Math.random())));
        continue;
      }
      return failed(result, step, error);
    }
  }
  result = {...result, action: outcome};
  if (options.attach !== undefined && outcome !== `absent`) {
    const references = await attachSecret(session, namespace, name, options.attach.targets, {
      dryRun: options.dryRun,
      // The copy was just written (or, with --dry-run=client, would have been).
      allowMissing: true,
      restart: options.attach.restart,
      now: options.attach.now,
      snapshot: options.attach.snapshot,
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
export async function removeSecret(session: ClusterSession, namespace: string, name: string, options: {dryRun: DryRun; snapshot?: AttachSnapshot; fieldManager?: string}): Promise<NamespaceSyncResult> {
  const result: NamespaceSyncResult = {namespace, status: `ok`};
  const references = await detachSecret(session, namespace, name, {serviceAccounts: `all`, workloads: `all`}, {dryRun: options.dryRun, allowMissing: true, snapshot: options.snapshot, fieldManager: options.fieldManager});
  result.references = references;
  if (references.status === `failed`)
    return {...result, status: `failed`, failedStep: references.failedStep, error: references.error};
  // The cluster-wide list already says the secret is not there: no DELETE to send.
  if (options.snapshot?.secretPresent !== undefined && !options.snapshot.secretPresent.has(namespace))
    return {...result, action: `not-found`};
  try {
    if (options.dryRun === `client`) {
      const existing = options.snapshot?.secretPresent?.has(namespace) ? {} : await session.get(`secrets`, namespace, name);
      return {...result, action: existing === null ? `not-found` : `deleted`};
    }
    await session.delete(`secrets`, namespace, name, {dryRun: options.dryRun === `server`, fieldManager: options.fieldManager ?? FIELD_MANAGER});
    return {...result, action: `deleted`};
  } catch (error) {
    if (apiErrorCode(error) === 404)
      return {...result, action: `not-found`};
    return failed(result, `delete secret`, error);
  }
}
