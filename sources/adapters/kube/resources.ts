/** REST paths of the resources the product uses (the ones in `ResourceName`). */
import type {ResourceName} from '../../core/ports.ts';
import {checkNamespaceName, checkObjectName} from '../../core/names.ts';

/** API group, version, kind and scope of one resource. */
export type ResourceInfo = {group: string; version: string; kind: string; namespaced: boolean};

/** The resources the product touches, by plural name. */
export const RESOURCES: Record<ResourceName, ResourceInfo> = {
  namespaces: {group: ``, version: `v1`, kind: `Namespace`, namespaced: false},
  secrets: {group: ``, version: `v1`, kind: `Secret`, namespaced: true},
  serviceaccounts: {group: ``, version: `v1`, kind: `ServiceAccount`, namespaced: true},
  pods: {group: ``, version: `v1`, kind: `Pod`, namespaced: true},
  events: {group: ``, version: `v1`, kind: `Event`, namespaced: true},
  replicationcontrollers: {group: ``, version: `v1`, kind: `ReplicationController`, namespaced: true},
  deployments: {group: `apps`, version: `v1`, kind: `Deployment`, namespaced: true},
  statefulsets: {group: `apps`, version: `v1`, kind: `StatefulSet`, namespaced: true},
  daemonsets: {group: `apps`, version: `v1`, kind: `DaemonSet`, namespaced: true},
  replicasets: {group: `apps`, version: `v1`, kind: `ReplicaSet`, namespaced: true},
  jobs: {group: `batch`, version: `v1`, kind: `Job`, namespaced: true},
  cronjobs: {group: `batch`, version: `v1`, kind: `CronJob`, namespaced: true},
  leases: {group: `coordination.k8s.io`, version: `v1`, kind: `Lease`, namespaced: true},
  nodes: {group: ``, version: `v1`, kind: `Node`, namespaced: false},
};

/** Looks a resource up, failing loudly on a name outside `ResourceName` (a bug, not a user error). */
export function resourceInfo(resource: ResourceName): ResourceInfo {
  const info = RESOURCES[resource];
  if (!info)
    throw new Error(`Assertion failed: unknown resource "${String(resource)}"`);
  return info;
}

/** `v1` or `apps/v1`, as objects carry it in `apiVersion`. */
export function apiVersionOf(info: ResourceInfo): string {
  return info.group === `` ? info.version : `${info.group}/${info.version}`;
}

/**
 * The path of a collection (no name) or of one object. A namespaced resource without a namespace
 * is the cluster-wide collection (`/api/v1/pods`), valid only for lists.
 */
export function resourcePath(resource: ResourceName, namespace: string | undefined, name?: string): string {
  const info = resourceInfo(resource);
  // Last gate before a URL exists: `..` or `a/b` must never reach the path (sources/core/names.ts).
  if (info.namespaced && namespace !== undefined)
    checkNamespaceName(namespace);
  if (name !== undefined)
    (resource === `namespaces` ? checkNamespaceName : checkObjectName)(name, `${info.kind} name`);
  const prefix = info.group === `` ? `/api/${info.version}` : `/apis/${info.group}/${info.version}`;
  const scope = info.namespaced && namespace !== undefined ? `/namespaces/${encodeURIComponent(namespace)}` : ``;
  return `${prefix}${scope}/${resource}${name === undefined ? `` : `/${encodeURIComponent(name)}`}`;
}
