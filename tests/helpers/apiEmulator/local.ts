/**
 * In-process access to the emulator for the cluster's own components (controllers, scheduler, the
 * simulated kubelet): the same REST semantics as HTTP (admission, resourceVersions, status subresource),
 * without a socket, plus change notifications and an Event recorder that aggregates like the real one.
 */
import {resourceByName} from './discovery.ts';
import type {Rest} from './rest.ts';
import type {WatchEvent} from './store.ts';
import {ApiError} from './status.ts';

export type ObjectRef = {kind: string; name: string; namespace: string; uid?: string; apiVersion?: string; resourceVersion?: string; fieldPath?: string};

export type LocalApi = {
  get(resource: string, namespace: string | undefined, name: string): any | undefined;
  list(resource: string, namespace?: string): any[];
  create(resource: string, namespace: string | undefined, body: any, fieldManager: string): any;
  /** PUT of the main resource (status is kept as stored). */
  update(resource: string, namespace: string | undefined, body: any, fieldManager: string): any;
  delete(resource: string, namespace: string | undefined, name: string): void;
  /** PUT …/status with the given status (no-op when equal). */
  updateStatus(resource: string, namespace: string | undefined, name: string, status: any, fieldManager: string): any;
  /** The scheduler's binding. */
  bindPod(namespace: string, name: string, nodeName: string): void;
  /** Records an Event; an identical one (same object, reason, message, source) gets its count bumped instead. */
  event(involved: ObjectRef, type: `Normal` | `Warning`, reason: string, message: string, component: string, host?: string): void;
  /** Calls `listener` after every stored change (asynchronously, never inside the write). Returns an unsubscribe function. */
  onChange(listener: (event: WatchEvent) => void): () => void;
  now(): Date;
};

function timestamp(date: Date): string {
  return date.toISOString().replace(/\.\d{3}Z$/, `Z`);
}

export function makeLocalApi(rest: Rest, now: () => Date): LocalApi {
  const store = rest.store;
  return {
    get(resource, namespace, name) {
      const def = resourceByName(resource);
      return store.get(resource, def.namespaced ? namespace : undefined, name);
    },
    list(resource, namespace) {
      return store.all(resource, namespace);
    },
    create(resource, namespace, body, fieldManager) {
      return rest.create(resourceByName(resource), namespace, body, {fieldManager});
    },
    update(resource, namespace, body, fieldManager) {
      return rest.update(resourceByName(resource), namespace, body.metadata.name, body, {fieldManager});
    },
    delete(resource, namespace, name) {
      try {
        rest.delete(resourceByName(resource), namespace, name, {propagationPolicy: `Background`});
      } catch (e) {
        if (!(e instanceof ApiError && e.status.code === 404))
          throw e;
      }
    },
    updateStatus(resource, namespace, name, status, fieldManager) {
      return rest.updateStatus(resourceByName(resource), namespace, name, {status}, {fieldManager});
    },
    bindPod(namespace, name, nodeName) {
      rest.bindPod(namespace, name, nodeName);
    },
    event(involved, type, reason, message, component, host) {
      const ts = timestamp(now());
      const existing = store.all(`events`, involved.namespace).find(e => e.involvedObject?.uid === involved.uid && e.involvedObject?.fieldPath === involved.fieldPath
        && e.reason === reason && e.message === message && e.source?.component === component);
      if (existing) {
        const def = resourceByName(`events`);
        rest.update(def, involved.namespace, existing.metadata.name, {...existing, count: (existing.count ?? 1) + 1, lastTimestamp: ts}, {fieldManager: component});
        return;
      }
      const suffix = `${Date.now().toString(16)}${Math.floor(Math.random() * 0xfffff).toString(16)}`;
      rest.create(resourceByName(`events`), involved.namespace, {
        metadata: {name: `${involved.name}.${suffix}`, namespace: involved.namespace},
        involvedObject: Object.fromEntries(Object.entries({kind: involved.kind, namespace: involved.namespace, name: involved.name, uid: involved.uid, apiVersion: involved.apiVersion ?? `v1`, resourceVersion: involved.resourceVersion, fieldPath: involved.fieldPath}).filter(([, v]) => v !== undefined)),
        reason,
        message,
        source: {component, ...(host ? {host} : {})},
        firstTimestamp: ts,
        lastTimestamp: ts,
        count: 1,
        type,
        eventTime: null,
        reportingComponent: component,
        reportingInstance: host ?? ``,
      }, {fieldManager: component});
    },
    onChange(listener) {
      const handler = (event: WatchEvent) => setImmediate(() => listener(event));
      store.events.on(`change`, handler);
      return () => store.events.off(`change`, handler);
    },
    now,
  };
}
