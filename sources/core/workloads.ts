/**
 * The workload kinds the tool reads or writes, defined once: REST resource, API group, where the pod template
 * sits, kubectl's spellings, and whether `attach` may edit the template and `--restart` may roll it.
 *
 * Verify and doctor read every kind here; `attach`/`detach` edit the kinds whose template can change (a Job's pod
 * template is immutable and a ReplicationController is left to its own tooling); `--restart` rolls the kinds that
 * support `kubectl rollout restart`.
 */
import type {ResourceName} from './ports.ts';

/** One workload kind. */
export type WorkloadInfo = {
  resource: ResourceName;
  group: `apps` | `batch` | ``;
  /** Path from the object to its pod spec. */
  podSpecPath: readonly string[];
  /** kubectl's lowercase spellings (singular, plural, short name). */
  names: readonly string[];
  /** `attach`/`detach` may edit the pod template. */
  attachable: boolean;
  /** `kubectl rollout restart` (and `--restart`) can roll it. */
  rolls: boolean;
};

const TEMPLATE = [`spec`, `template`, `spec`] as const;

/** Every workload kind, in the order reports list them. */
export const WORKLOADS = {
  Deployment: {resource: `deployments`, group: `apps`, podSpecPath: TEMPLATE, names: [`deployment`, `deployments`, `deploy`], attachable: true, rolls: true},
  StatefulSet: {resource: `statefulsets`, group: `apps`, podSpecPath: TEMPLATE, names: [`statefulset`, `statefulsets`, `sts`], attachable: true, rolls: true},
  DaemonSet: {resource: `daemonsets`, group: `apps`, podSpecPath: TEMPLATE, names: [`daemonset`, `daemonsets`, `ds`], attachable: true, rolls: true},
  ReplicaSet: {resource: `replicasets`, group: `apps`, podSpecPath: TEMPLATE, names: [`replicaset`, `replicasets`, `rs`], attachable: true, rolls: false},
  ReplicationController: {resource: `replicationcontrollers`, group: ``, podSpecPath: TEMPLATE, names: [`replicationcontroller`, `replicationcontrollers`, `rc`], attachable: false, rolls: false},
  Job: {resource: `jobs`, group: `batch`, podSpecPath: TEMPLATE, names: [`job`, `jobs`], attachable: false, rolls: false},
  CronJob: {resource: `cronjobs`, group: `batch`, podSpecPath: [`spec`, `jobTemplate`, `spec`, `template`, `spec`], names: [`cronjob`, `cronjobs`, `cj`], attachable: true, rolls: false},
} as const satisfies Record<string, WorkloadInfo>;

/** A workload kind name. */
export type WorkloadKind = keyof typeof WORKLOADS;

/** Every workload kind, in report order. */
export const WORKLOAD_KINDS = Object.keys(WORKLOADS) as WorkloadKind[];

/** The workload kinds `attach` may edit. */
export const ATTACHABLE_WORKLOAD_KINDS = WORKLOAD_KINDS.filter(kind => WORKLOADS[kind].attachable) as Array<`Deployment` | `StatefulSet` | `DaemonSet` | `ReplicaSet` | `CronJob`>;

/** `[resource, kind]` for every workload kind, in report order. */
export const WORKLOAD_RESOURCES: ReadonlyArray<[ResourceName, WorkloadKind]> = WORKLOAD_KINDS.map(kind => [WORKLOADS[kind].resource, kind]);

/** True for a kind string that names a workload kind. */
export function isWorkloadKind(kind: string | undefined): kind is WorkloadKind {
  return kind !== undefined && Object.hasOwn(WORKLOADS, kind);
}
