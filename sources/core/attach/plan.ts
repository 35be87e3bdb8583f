/**
 * Pure planning for `attach`/`detach`: where a kind keeps its pull-secret list, which JSON-patch
 * makes the change without losing a concurrent writer's edit, and how `deploy/x` style references parse.
 *
 * Why JSON patch with a `test` op: ServiceAccount.imagePullSecrets has no patch strategy, so a strategic
 * merge patch REPLACES the whole list (docs/testing.md D.2) — the naive `kubectl patch sa` drops entries.
 * A `test` of the list we read, followed by the edit, makes the server refuse the write when another
 * writer changed the list in between; the caller then re-reads and plans again.
 */
import {InputError} from '../errors.ts';
import type {KubeObject, ResourceName} from '../ports.ts';
import {ATTACHABLE_WORKLOAD_KINDS, WORKLOADS} from '../workloads.ts';

/** The kinds `attach` can write to. */
export type TargetKind = `ServiceAccount` | `Deployment` | `StatefulSet` | `DaemonSet` | `ReplicaSet` | `CronJob`;

/** One object `attach`/`detach` may change. */
export type TargetRef = {kind: TargetKind; name: string};

/** One RFC 6902 operation. */
export type JsonPatchOp =
  | {op: `test`; path: string; value: unknown}
  | {op: `add`; path: string; value: unknown}
  | {op: `replace`; path: string; value: unknown}
  | {op: `remove`; path: string};

type KindInfo = {resource: ResourceName; group: string; pointer: string[]};

const KINDS = {ServiceAccount: {resource: `serviceaccounts`, group: ``, pointer: [`imagePullSecrets`]}} as Record<TargetKind, KindInfo>;
for (const kind of ATTACHABLE_WORKLOAD_KINDS)
  KINDS[kind] = {resource: WORKLOADS[kind].resource, group: WORKLOADS[kind].group, pointer: [...WORKLOADS[kind].podSpecPath, `imagePullSecrets`]};

/** The REST resource of a kind. */
export function resourceOf(kind: TargetKind): ResourceName {
  return KINDS[kind].resource;
}

/** kubectl's `resource.group/name` spelling, e.g. `serviceaccount/default`, `deployment.apps/web`. */
export function describeTarget(ref: TargetRef): string {
  const {group} = KINDS[ref.kind];
  return `${ref.kind.toLowerCase()}${group === `` ? `` : `.${group}`}/${ref.name}`;
}

// The spellings kubectl accepts for the workload kinds (singular, plural, short name, fully qualified).
const WORKLOAD_ALIASES: Record<string, TargetKind | `Job`> = {};
for (const kind of [...ATTACHABLE_WORKLOAD_KINDS, `Job`] as const) {
  const {group, names} = WORKLOADS[kind];
  for (const name of names) {
    WORKLOAD_ALIASES[name] = kind;
    WORKLOAD_ALIASES[`${name}.${group}`] = kind;
  }
}

/**
 * Parses `--workload KIND/NAME` the way kubectl reads `deploy/x`, `deployment/x`, `deployment.apps/x`.
 * Jobs are refused: their pod template is immutable once created.
 */
export function parseWorkloadRef(value: string): TargetRef {
  const slash = value.indexOf(`/`);
  if (slash <= 0 || slash === value.length - 1 || value.indexOf(`/`, slash + 1) !== -1)
    throw new InputError(`invalid --workload "${value}": expected KIND/NAME, e.g. deployment/web or sts/db`);
  const kindText = value.slice(0, slash).toLowerCase();
  const name = value.slice(slash + 1);
  const kind = WORKLOAD_ALIASES[kindText];
  if (kind === undefined)
    throw new InputError(`invalid --workload "${value}": unsupported kind "${value.slice(0, slash)}"; use deployments, statefulsets, daemonsets, replicasets or cronjobs`);
  if (kind === `Job`)
    throw new InputError(`--workload ${value}: a Job's pod template is immutable, so a pull secret cannot be added to it; attach to its ServiceAccount (--service-account) before the Job is created, or to the CronJob that creates it`);
  return {kind, name};
}

/** Reads a nested value along a pointer, or undefined. */
function dig(object: unknown, pointer: string[]): unknown {
  let current: unknown = object;
  for (const key of pointer) {
    if (current === null || typeof current !== `object`)
      return undefined;
    current = (current as Record<string, unknown>)[key];
  }
  return current;
}

/** The pull-secret list an object holds, as the server returned it (undefined when absent). */
export function readPullSecretList(object: KubeObject, kind: TargetKind): Array<{name?: string}> | undefined {
  const list = dig(object, KINDS[kind].pointer);
  return Array.isArray(list) ? list as Array<{name?: string}> : undefined;
}

/** The names in an object's pull-secret list, in order. */
export function pullSecretNames(object: KubeObject, kind: TargetKind): string[] {
  return (readPullSecretList(object, kind) ?? []).map(entry => entry?.name ?? ``);
}

/** The JSON pointer (RFC 6901) of a kind's pull-secret list. */
export function pullSecretPointer(kind: TargetKind): string {
  return `/${KINDS[kind].pointer.join(`/`)}`;
}

/** The outcome of planning one write: nothing to do, or the patch and the list it leads to. */
export type ListEdit =
  | {changed: false; names: string[]}
  | {changed: true; names: string[]; patch: JsonPatchOp[]};

/** The guard of every edit: the list is exactly what we read, or (when absent) the object is the version we read. */
function guard(object: KubeObject, kind: TargetKind): JsonPatchOp[] {
  const list = readPullSecretList(object, kind);
  if (list !== undefined)
    return [{op: `test`, path: pullSecretPointer(kind), value: list}];
  const resourceVersion = object.metadata.resourceVersion;
  if (resourceVersion === undefined)
    throw new Error(`Assertion failed: ${kind} ${object.metadata.name} has no resourceVersion`);
  return [{op: `test`, path: `/metadata/resourceVersion`, value: resourceVersion}];
}

/**
 * Plans adding `secretName` to an object's list: appended after the existing entries, never
 * duplicated, never touching any other entry.
 */
export function planAttach(object: KubeObject, kind: TargetKind, secretName: string): ListEdit {
  const list = readPullSecretList(object, kind);
  const names = (list ?? []).map(entry => entry?.name ?? ``);
  if (names.includes(secretName))
    return {changed: false, names};
  const after = [...names, secretName];
  const patch = guard(object, kind);
  if (list === undefined)
    patch.push({op: `add`, path: pullSecretPointer(kind), value: [{name: secretName}]});
  else
    patch.push({op: `add`, path: `${pullSecretPointer(kind)}/-`, value: {name: secretName}});
  return {changed: true, names: after, patch};
}

/**
 * Plans removing every entry named `secretName` (duplicates left by other tools included) and nothing else.
 * Indices are removed from the last to the first so that each one stays valid.
 */
export function planDetach(object: KubeObject, kind: TargetKind, secretName: string): ListEdit {
  const names = pullSecretNames(object, kind);
  if (!names.includes(secretName))
    return {changed: false, names};
  const patch = guard(object, kind);
  const after = names.filter(name => name !== secretName);
  if (after.length === 0) {
    // A clean undo: the field goes away with its last entry, as if it had never been set (no `imagePullSecrets: []`).
    patch.push({op: `remove`, path: pullSecretPointer(kind)});
    return {changed: true, names: after, patch};
  }
  for (let index = names.length - 1; index >= 0; index--) {
    if (names[index] === secretName)
      patch.push({op: `remove`, path: `${pullSecretPointer(kind)}/${index}`});
  }
  return {changed: true, names: after, patch};
}

/** The pod-template pointer of a workload kind (ServiceAccounts have none). */
function templatePointer(kind: TargetKind): string[] {
  return kind === `CronJob` ? [`spec`, `jobTemplate`, `spec`, `template`] : [`spec`, `template`];
}

/**
 * The merge patch `kubectl rollout restart` sends: it stamps the pod template with
 * `kubectl.kubernetes.io/restartedAt` (RFC 3339), which makes the controller replace every pod.
 */
export function restartPatch(kind: TargetKind, now: Date): Record<string, unknown> {
  if (kind === `ServiceAccount`)
    throw new Error(`Assertion failed: a ServiceAccount cannot be restarted`);
  const stamp = now.toISOString().replace(/\.\d{3}Z$/, `Z`);
  let patch: Record<string, unknown> = {metadata: {annotations: {[`kubectl.kubernetes.io/restartedAt`]: stamp}}};
  for (const key of [...templatePointer(kind)].reverse())
    patch = {[key]: patch};
  return patch;
}

/** The ServiceAccount a workload's pods run as (`default` when the template names none). */
export function templateServiceAccount(object: KubeObject, kind: TargetKind): string {
  const spec = dig(object, [...templatePointer(kind), `spec`]) as {serviceAccountName?: string; serviceAccount?: string} | undefined;
  return spec?.serviceAccountName || spec?.serviceAccount || `default`;
}
