/**
 * attach/detach engine: adds or removes one pull-secret reference on ServiceAccounts and workload pod
 * templates in one namespace, conflict-safe, idempotent, and honest about timing.
 *
 * STABLE ENTRY POINTS (other commands call these; signatures committed early, change only compatibly):
 *
 *   attachSecret(session, namespace, secretName, targets, options) → Promise<NamespaceAttachResult>
 *   detachSecret(session, namespace, secretName, targets, options) → Promise<NamespaceAttachResult>
 *   prepareAttach(session, namespaces, secretName, targets, options?) → Promise<AttachSnapshot>
 *
 * `targets` is `{serviceAccounts: 'default' | 'all' | string[]; workloads?: string[] | 'all'}` (workloads as
 * kubectl-style `KIND/NAME`, e.g. `deploy/web`; `'all'` only for detach: every workload that references it).
 * `options` is `{dryRun: boolean | 'none' | 'client' | 'server'; allowMissing: boolean; restart?; now?; snapshot?; timing?}`.
 *
 * For a fan-out over many namespaces, call `prepareAttach` ONCE with all namespaces (it does one
 * cluster-wide list per kind instead of one per namespace) and pass the result as `options.snapshot`
 * to each per-namespace call; a namespace then usually costs one PATCH per changed object.
 * A per-namespace call never throws for cluster errors: it returns `status: 'failed'` with the step.
 */
import type {ClusterSession, DryRun, KubeObject, ResourceName} from '../ports.ts';
import {DOCKERCFG_TYPE, DOCKER_CONFIG_JSON_TYPE, FIELD_MANAGER, PULL_SECRET_TYPES} from '../secrets/metadata.ts';
import {isApiError} from '../apiError.ts';
import {errorLine} from '../errors.ts';
import {jitteredBackoff, retryOnConflict} from '../retry.ts';
import type {Pacing} from '../retry.ts';
import {ATTACHABLE_WORKLOAD_KINDS} from '../workloads.ts';
import type {JsonPatchOp, ListEdit, TargetKind, TargetRef} from './plan.ts';
import {describeTarget, parseWorkloadRef, planAttach, planDetach, pullSecretNames, resourceOf, restartPatch} from './plan.ts';
import type {HidingWorkload, StalePod} from './timing.ts';
import {timingTruth} from './timing.ts';
import {listInScope} from '../cluster/gather.ts';
import type {ListLog} from '../cluster/gather.ts';

/** Which ServiceAccounts to act on. */
export type ServiceAccountSelection = `default` | `all` | string[];

/** What to attach to / detach from in each namespace. */
export type AttachTargets = {
  serviceAccounts: ServiceAccountSelection;
  /** `KIND/NAME` references (`deploy/web`); `'all'` (detach only) means every workload whose template references the secret. */
  workloads?: string[] | `all`;
};

export type AttachOptions = {
  /** `true` is the same as `'client'`: plan and report, write nothing. `'server'` sends the writes with dryRun=All. */
  dryRun: boolean | DryRun;
  /** Attach even when the secret does not exist in the namespace (ignored by detach). */
  allowMissing: boolean;
  /** Roll the workloads whose running pods will not get the secret until recreated (attach only). */
  restart?: boolean;
  /** The clock for `--restart`'s restartedAt stamp. */
  now?: () => Date;
  /** Cluster-wide lists fetched once by `prepareAttach` for a fan-out. */
  snapshot?: AttachSnapshot;
  /** Compute the stale-pod / hiding-workload report (attach only; default true). */
  timing?: boolean;
  /** Field manager sent with every write. */
  fieldManager?: string;
  /** How to wait between the attempts of a write that lost a race. */
  pacing: Pacing;
};

export type TargetAction = `attached` | `detached` | `unchanged` | `restarted`;

/** What happened to one object. `imagePullSecrets` is its list after the change (names only). */
export type TargetResult = {kind: TargetKind; name: string; action: TargetAction; imagePullSecrets?: string[]};

/** The result for one namespace: either every step done (`ok`), or `failed` naming the step. */
export type NamespaceAttachResult = {
  namespace: string;
  status: `ok` | `failed`;
  /** The step that failed, e.g. `check secret`, `patch serviceaccount/default`. */
  failedStep?: string;
  /** One line, never containing secret data. */
  error?: string;
  /** The objects examined, in the order they were handled (the failed one last). */
  targets: TargetResult[];
  /** Running pods that will not use the secret until recreated. */
  stalePods: StalePod[];
  /** Workloads whose own imagePullSecrets hide the ServiceAccount's list. */
  hidingWorkloads: HidingWorkload[];
  /** Workloads rolled by `--restart`. */
  restarted: TargetRef[];
  /** Non-fatal notes (e.g. pods could not be listed for the timing report). */
  warnings: string[];
};

/** Lists fetched once for many namespaces; a field left undefined is fetched per namespace on demand. */
export type AttachSnapshot = {
  namespaces: ReadonlySet<string>;
  serviceAccounts?: Map<string, KubeObject[]>;
  /** Namespaces in which the secret exists. */
  secretPresent?: Set<string>;
  /** The secret's type in each namespace where it exists (from the same list as `secretPresent`). */
  secretTypes?: Map<string, string>;
  pods?: Map<string, KubeObject[]>;
  workloads?: Map<string, Array<{kind: TargetKind; object: KubeObject}>>;
  /**
   * Lists that failed when `prepareAttach` sent them in the snapshot's only namespace: a per-namespace call
   * does not send them again just to find named targets (it reads each one with a `get`).
   */
  failedInNamespace?: ReadonlySet<`serviceaccounts` | `workloads`>;
  /**
   * Per-namespace lists the cluster refused (403/404) when `prepareAttach` sent them (in the only namespace, or in
   * each after a refused cluster-wide list), with the error: the per-namespace call reports it instead of sending the
   * same list again.
   */
  refusedIn?: Map<string, Map<SnapshotList, unknown>>;
};

/** The lists a snapshot holds per namespace (every attachable workload kind counts as `workloads`). */
type SnapshotList = `serviceaccounts` | `pods` | `workloads`;


/** A failed step: carries the step name up to the per-namespace result. */
class StepError extends Error {
  readonly step: string;
  constructor(step: string, message: string) {
    super(message);
    this.step = step;
  }
}

/** `items` by namespace, with an empty list for each namespace in `covered` that has none; other namespaces are dropped. */
function groupByNamespace<T>(items: T[], covered: ReadonlySet<string>, namespaceOf: (item: T) => string | undefined = item => (item as KubeObject).metadata.namespace): Map<string, T[]> {
  const map = new Map<string, T[]>();
  for (const namespace of covered)
    map.set(namespace, []);
  for (const item of items)
    map.get(namespaceOf(item) ?? ``)?.push(item);
  return map;
}

/**
 * Fetches, with one list per kind (cluster-wide when there are several namespaces, paginated by the session),
 * what the per-namespace calls need, through the one cluster-read layer (`listInScope`). A cluster-wide list the
 * user may not read (403) falls back there to one list per namespace (a Role bound in each namespace suffices); a
 * namespace whose list is refused too is left out of the snapshot, and its per-namespace call then lists there
 * itself, reading a named object with a `get` only when that list fails again.
 */
export async function prepareAttach(session: ClusterSession, namespaces: string[], secretName: string, targets: AttachTargets, options: {timing?: boolean; checkSecret?: boolean} = {}): Promise<AttachSnapshot> {
  const wanted = new Set(namespaces);
  const snapshot: AttachSnapshot = {namespaces: wanted};
  if (wanted.size === 0)
    return snapshot;
  const single = wanted.size === 1;
  // The namespaces a list covered (those whose list was refused are left out), or undefined when no list succeeded
  // or the cluster failed otherwise: the per-namespace calls then list again, where an error is reported with its step.
  const refusedIn = new Map<string, Map<SnapshotList, unknown>>();
  const list = async (resource: ResourceName, extra: {fieldSelector?: string} = {}, as?: SnapshotList): Promise<{items: KubeObject[]; covered: Set<string>; complete: boolean} | undefined> => {
    const log: ListLog = {notes: [], refused: []};
    try {
      const items = await listInScope(session, resource, [...wanted], log, extra, {perNamespaceLimit: 1});
      // A namespace's refusal is kept, so that namespace's call reports it without asking again.
      if (as !== undefined) {
        for (const refusal of log.refused) {
          if (refusal.namespace === undefined)
            continue;
          const lists = refusedIn.get(refusal.namespace) ?? new Map<SnapshotList, unknown>();
          if (!lists.has(as))
            lists.set(as, refusal.error);
          refusedIn.set(refusal.namespace, lists);
        }
      }
      if (items === undefined)
        return undefined;
      const refusedNamespaces = new Set(log.refused.map(refusal => refusal.namespace));
      return {items, covered: new Set([...wanted].filter(namespace => !refusedNamespaces.has(namespace))), complete: log.refused.length === 0};
    } catch {
      return undefined;
    }
  };
  const failed = new Set<`serviceaccounts` | `workloads`>();
  const jobs: Array<Promise<void>> = [];
  jobs.push(list(`serviceaccounts`, {}, `serviceaccounts`).then(listed => {
    if (listed)
      snapshot.serviceAccounts = groupByNamespace(listed.items, listed.covered);
    else
      failed.add(`serviceaccounts`);
  }));
  if (options.checkSecret ?? true) {
    jobs.push(list(`secrets`, {fieldSelector: `metadata.name=${secretName}`}).then(listed => {
      // Only a complete list says where the secret is absent.
      if (listed?.complete) {
        const named = listed.items.filter(item => item.metadata.name === secretName);
        snapshot.secretPresent = new Set(named.map(item => item.metadata.namespace ?? ``));
        snapshot.secretTypes = new Map(named.map(item => [item.metadata.namespace ?? ``, typeof item.type === `string` ? item.type : `Opaque`]));
      }
    }));
  }
  const needWorkloads = (options.timing ?? true) || targets.workloads !== undefined;
  if (options.timing ?? true) {
    jobs.push(list(`pods`, {}, `pods`).then(listed => {
      if (listed)
        snapshot.pods = groupByNamespace(listed.items, listed.covered);
    }));
  }
  if (needWorkloads) {
    jobs.push(Promise.all(ATTACHABLE_WORKLOAD_KINDS.map(kind => list(resourceOf(kind), {}, `workloads`).then(listed => listed && {kind, ...listed}))).then(perKind => {
      if (perKind.every(listed => listed !== undefined)) {
        // A namespace is in the snapshot only when every kind was listed there.
        const covered = new Set([...wanted].filter(namespace => perKind.every(listed => listed!.covered.has(namespace))));
        snapshot.workloads = groupByNamespace(perKind.flatMap(listed => listed!.items.map(object => ({kind: listed!.kind, object}))), covered, item => item.object.metadata.namespace);
      } else {
        failed.add(`workloads`);
      }
    }));
  }
  await Promise.all(jobs);
  if (refusedIn.size > 0)
    snapshot.refusedIn = refusedIn;
  // Sent in the only namespace, a failed list would fail again there; sent cluster-wide, it may not.
  if (single && failed.size > 0)
    snapshot.failedInNamespace = failed;
  return snapshot;
}

/** Normalizes the dry-run option. */
function dryRunMode(value: boolean | DryRun): DryRun {
  if (value === true)
    return `client`;
  if (value === false)
    return `none`;
  return value;
}

/** Attaches `secretName` to the targets in one namespace. Never throws for cluster errors. */
export async function attachSecret(session: ClusterSession, namespace: string, secretName: string, targets: AttachTargets, options: AttachOptions): Promise<NamespaceAttachResult> {
  return editReferences(session, namespace, secretName, targets, options, `attach`);
}

/** Removes every reference to `secretName` from the targets in one namespace, and nothing else. Never throws for cluster errors. */
export async function detachSecret(session: ClusterSession, namespace: string, secretName: string, targets: AttachTargets, options: AttachOptions): Promise<NamespaceAttachResult> {
  return editReferences(session, namespace, secretName, targets, {...options, restart: false, timing: false}, `detach`);
}

async function editReferences(session: ClusterSession, namespace: string, secretName: string, targets: AttachTargets, options: AttachOptions, mode: `attach` | `detach`): Promise<NamespaceAttachResult> {
  const result: NamespaceAttachResult = {namespace, status: `ok`, targets: [], stalePods: [], hidingWorkloads: [], restarted: [], warnings: []};
  const dryRun = dryRunMode(options.dryRun);
  const writeOptions = {dryRun: dryRun === `server`, fieldManager: options.fieldManager ?? FIELD_MANAGER};
  const snapshot = options.snapshot !== undefined && options.snapshot.namespaces.has(namespace) ? options.snapshot : undefined;
  const step = async <T>(name: string, action: () => Promise<T>): Promise<T> => {
    try {
      return await action();
    } catch (error) {
      if (error instanceof StepError)
        throw error;
      throw new StepError(name, errorLine(error));
    }
  };

  try {
    // 1. The secret must exist (attach), unless --allow-missing.
    // A secret that exists must be a pull secret: the kubelet ignores any other type in imagePullSecrets.
    if (mode === `attach`) {
      // The cluster-wide list is trusted when it saw the secret; an absence is confirmed by a GET, since the
      // secret may have been created after the list (e.g. by a concurrent `add`).
      const listedType = snapshot?.secretTypes?.get(namespace);
      // With --allow-missing (and after add or sync, which pass it) no GET is sent: only a listed type is checked.
      const type = listedType !== undefined
        ? listedType
        : options.allowMissing
          ? null
          : await step(`check secret`, async () => {
            const found = await session.get(`secrets`, namespace, secretName);
            return found === null ? null : typeof found.type === `string` ? found.type : `Opaque`;
          });
      if (type === null && !options.allowMissing)
        throw new StepError(`check secret`, `secret "${secretName}" not found in namespace "${namespace}"; create it first (kubectl pullsecret add or sync) or pass --allow-missing`);
      if (type !== null && !PULL_SECRET_TYPES.has(type))
        throw new StepError(`check secret`, `secret ${namespace}/${secretName} has type ${type}, and the kubelet ignores imagePullSecrets that are not of type ${DOCKER_CONFIG_JSON_TYPE} or ${DOCKERCFG_TYPE}; nothing was attached (only a pull secret can be)`);
    }

    // 2. Resolve the targets.
    const refusedHere = snapshot?.refusedIn?.get(namespace);
    let workloadsCache = snapshot?.workloads?.get(namespace);
    let workloadsRefused: unknown = refusedHere?.get(`workloads`);
    const namespaceWorkloads = async () => {
      if (workloadsCache === undefined) {
        workloadsCache = await step(`list workloads`, async () => {
          if (workloadsRefused !== undefined)
            throw workloadsRefused; // a refused (403) list is not sent again in this namespace
          try {
            return (await Promise.all(ATTACHABLE_WORKLOAD_KINDS.map(async kind =>
              (await session.list(resourceOf(kind), {namespace})).map(object => ({kind, object}))))).flat();
          } catch (error) {
            if (isApiError(error, 403))
              workloadsRefused = error;
            throw error;
          }
        });
      }
      return workloadsCache;
    };
    let accountsCache = snapshot?.serviceAccounts?.get(namespace);
    const serviceAccounts = async () => {
      if (accountsCache === undefined) {
        accountsCache = await step(`list serviceaccounts`, async () => {
          if (refusedHere?.has(`serviceaccounts`))
            throw refusedHere.get(`serviceaccounts`); // refused when the snapshot was taken: not sent again
          return session.list(`serviceaccounts`, {namespace});
        });
      }
      return accountsCache;
    };
    // Named targets: the namespace's list when it can be read (a Role's `list` suffices), else a `get` of
    // each (writeWithRetry reads a target it has no copy of), whose error is then the one reported.
    const listedOrNothing = async <T>(what: `serviceaccounts` | `workloads`, read: () => Promise<T>): Promise<T | undefined> => {
      if (snapshot?.failedInNamespace?.has(what) || refusedHere?.has(what))
        return undefined;
      try {
        return await read();
      } catch {
        return undefined;
      }
    };

    const work: Array<{ref: TargetRef; object: KubeObject | null}> = [];
    const selection = targets.serviceAccounts;
    if (selection === `all`) {
      for (const object of await serviceAccounts())
        work.push({ref: {kind: `ServiceAccount`, name: object.metadata.name}, object});
    } else {
      const names = selection === `default` ? [`default`] : selection;
      const listed = names.length === 0 ? undefined : await listedOrNothing(`serviceaccounts`, serviceAccounts);
      for (const name of names) {
        const cached = listed?.find(object => object.metadata.name === name);
        work.push({ref: {kind: `ServiceAccount`, name}, object: cached ?? null});
      }
    }
    if (targets.workloads === `all`) {
      for (const workload of await namespaceWorkloads()) {
        // A Deployment's ReplicaSets follow its template; editing them directly would fight the controller.
        const controlledByDeployment = (workload.object.metadata.ownerReferences ?? []).some(owner => owner.controller && owner.kind === `Deployment`);
        if (workload.kind === `ReplicaSet` && controlledByDeployment)
          continue;
        if (pullSecretNames(workload.object, workload.kind).includes(secretName))
          work.push({ref: {kind: workload.kind, name: workload.object.metadata.name}, object: workload.object});
      }
    } else {
      const refs = (targets.workloads ?? []).map(parseWorkloadRef);
      const listed = refs.length === 0 ? undefined : await listedOrNothing(`workloads`, namespaceWorkloads);
      for (const ref of refs) {
        const cached = listed?.find(item => item.kind === ref.kind && item.object.metadata.name === ref.name)?.object;
        work.push({ref, object: cached ?? null});
      }
    }

    // 3. Write each target, conflict-safe.
    const withSecret = new Set<string>();
    const attachedWorkloads = new Set<string>();
    for (const item of work) {
      const label = describeTarget(item.ref);
      const planner = mode === `attach` ? planAttach : planDetach;
      const {edit} = await step(`patch ${label}`, () => writeWithRetry(session, namespace, item.ref, item.object, object => {
        const owner = (object.metadata.ownerReferences ?? []).find(reference => reference.controller && reference.kind === `Deployment`);
        if (item.ref.kind === `ReplicaSet` && owner !== undefined && mode === `attach`)
          throw new Error(`replicaset "${item.ref.name}" is run by deployment "${owner.name}", which would undo the change; attach to --workload deployment/${owner.name} instead`);
        return planner(object, item.ref.kind, secretName);
      }, dryRun, writeOptions, options.pacing));
      const action: TargetAction = !edit.changed ? `unchanged` : mode === `attach` ? `attached` : `detached`;
      result.targets.push({kind: item.ref.kind, name: item.ref.name, action, imagePullSecrets: edit.names});
      if (item.ref.kind === `ServiceAccount` && edit.names.includes(secretName))
        withSecret.add(item.ref.name);
      if (item.ref.kind !== `ServiceAccount` && edit.changed)
        attachedWorkloads.add(label);
    }

    // 4. Timing truth and --restart (attach only).
    if (mode === `attach` && (options.timing ?? true)) {
      let pods = snapshot?.pods?.get(namespace);
      let workloads: Array<{kind: TargetKind; object: KubeObject}> | undefined;
      try {
        if (pods === undefined && refusedHere?.has(`pods`))
          throw refusedHere.get(`pods`); // refused when the snapshot was taken: not sent again
        pods ??= await session.list(`pods`, {namespace});
        workloads = await namespaceWorkloads();
      } catch (error) {
        const reason = errorLine(error instanceof StepError ? error.message : error);
        // The report is advice, but a restart the user asked for that cannot be planned is a failure.
        if (options.restart)
          throw new StepError(`find workloads to restart`, reason);
        result.warnings.push(`could not check running pods in namespace "${namespace}": ${reason}`);
      }
      if (pods !== undefined && workloads !== undefined) {
        const serviceAccountLists = new Map(result.targets.filter(target => target.kind === `ServiceAccount` && target.imagePullSecrets !== undefined).map(target => [target.name, target.imagePullSecrets!]));
        const report = timingTruth({secretName, serviceAccountsWithSecret: withSecret, attachedWorkloads, pods, workloads, serviceAccountLists});
        result.stalePods = report.stalePods;
        result.hidingWorkloads = report.hidingWorkloads;
        for (const pod of report.ownListPods) {
          const what = pod.owner === undefined ? `pod ${pod.name}` : `pod ${pod.name} of ${pod.owner.kind.toLowerCase()}/${pod.owner.name}`;
          result.warnings.push(`${what} lists its own imagePullSecrets (${pod.imagePullSecrets.join(`, `)}), so it will not get ${secretName} from its ServiceAccount even when recreated; add ${secretName} to the imagePullSecrets of its manifest and re-create it`);
        }
        if (options.restart) {
          const now = (options.now ?? (() => new Date()))();
          for (const ref of report.restartTargets) {
            const label = describeTarget(ref);
            if (dryRun !== `client`)
              await step(`restart ${label}`, () => session.patch(resourceOf(ref.kind), namespace, ref.name, restartPatch(ref.kind, now), `merge`, writeOptions));
            result.restarted.push(ref);
            result.targets.push({kind: ref.kind, name: ref.name, action: `restarted`});
          }
        }
      }
    }
  } catch (error) {
    result.status = `failed`;
    if (error instanceof StepError) {
      result.failedStep = error.step;
      result.error = error.message;
    } else {
      result.failedStep = `plan`;
      result.error = errorLine(error);
    }
  }
  return result;
}

/** Many writers may race on one ServiceAccount (a fan-out per secret): sixty attempts, jitter up to 100 ms. */
const BACKOFF = jitteredBackoff(60, 100);

/**
 * Read-plan-write with optimistic concurrency (core/retry.ts): the JSON patch starts with a `test` of what
 * was read, so the server refuses it (409/422) when another writer got there first; then re-read and plan
 * again. A 422 after which the object is unchanged (same resourceVersion) was no race but a refusal (a policy,
 * a validation rule): it is reported at once. Also heals a write whose response was lost: the re-read shows
 * the change done and plans nothing.
 */
async function writeWithRetry(session: ClusterSession, namespace: string, ref: TargetRef, cached: KubeObject | null, plan: (object: KubeObject) => ListEdit, dryRun: DryRun, writeOptions: {dryRun: boolean; fieldManager: string}, pacing: Pacing): Promise<{edit: ListEdit; object: KubeObject}> {
  let object = cached;
  let refused: {resourceVersion: string | undefined; error: unknown} | undefined;
  let persistent: unknown;
  return retryOnConflict({backoff: BACKOFF, pacing, isConflict: error => isApiError(error, 422) && error !== persistent}, async ({attempt}) => {
    if (attempt > 1 || object === null) {
      object = await session.get(resourceOf(ref.kind), namespace, ref.name);
      if (object === null)
        throw new Error(`${describeTarget(ref).replace(/\/.*/, ``)} "${ref.name}" not found in namespace "${namespace}"`);
    }
    if (refused !== undefined && object.metadata.resourceVersion === refused.resourceVersion) {
      persistent = refused.error;
      throw persistent;
    }
    const edit = plan(object);
    if (!edit.changed || dryRun === `client`)
      return {edit, object};
    try {
      return {edit, object: await session.patch(resourceOf(ref.kind), namespace, ref.name, edit.patch satisfies JsonPatchOp[], `json`, writeOptions)};
    } catch (error) {
      if (isApiError(error, 422))
        refused = {resourceVersion: object.metadata.resourceVersion, error};
      throw error;
    }
  });
}
