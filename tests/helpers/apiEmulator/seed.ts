/**
 * Test-state builders that go through the same REST layer as HTTP requests (so objects get
 * uids, resourceVersions, defaults and admission), plus a fast bulk path for scale tests.
 */
import crypto from 'node:crypto';
import type {Rest} from './rest.ts';
import {resourceByName} from './discovery.ts';
import {Store} from './store.ts';

export type PullReason = `ErrImagePull` | `ImagePullBackOff` | `InvalidImageName` | `ErrImageNeverPull`;

export type PodSeedOptions = {
  labels?: Record<string, string>;
  annotations?: Record<string, string>;
  ownerReferences?: any[];
  /** Every container waits with this reason and a kubelet-style message (pod phase Pending). */
  waiting?: PullReason | {reason: PullReason | string; message?: string};
  /** Explicit container statuses (override `waiting`). */
  containerStatuses?: any[];
  phase?: string;
};

export type WorkloadKind = `Deployment` | `StatefulSet` | `DaemonSet` | `ReplicaSet` | `Job` | `CronJob` | `ReplicationController`;

export type BulkSpec = {
  namespaces: number;
  namespacePrefix?: string;
  podsPerNamespace?: number;
  secretsPerNamespace?: number;
  /** ServiceAccounts besides `default`. */
  serviceAccountsPerNamespace?: number;
  deploymentsPerNamespace?: number;
  image?: string;
};

export type BulkResult = {namespaces: string[]; counts: Record<string, number>};

export type Seeder = {
  namespace(name: string, opts?: {labels?: Record<string, string>; annotations?: Record<string, string>}): any;
  /** A Node whose kubelet reports `os`/`architecture` (status.nodeInfo) and carries the matching well-known labels. */
  node(name: string, opts?: {os?: string; architecture?: string; labels?: Record<string, string>}): any;
  secret(namespace: string, obj: any): any;
  serviceAccount(namespace: string, name: string, opts?: {imagePullSecrets?: Array<string | {name: string}>; labels?: Record<string, string>; annotations?: Record<string, string>}): any;
  workload(kind: WorkloadKind | string, namespace: string, name: string, podSpec: any, opts?: {labels?: Record<string, string>; annotations?: Record<string, string>; replicas?: number; templateAnnotations?: Record<string, string>; templateLabels?: Record<string, string>; schedule?: string; ownerReferences?: any[]}): any;
  pod(namespace: string, name: string, podSpec: any, opts?: PodSeedOptions): any;
  event(namespace: string, involvedObject: any, reason: string, message: string, opts?: {type?: `Normal` | `Warning`; count?: number; component?: string}): any;
  bulk(spec: BulkSpec): BulkResult;
};

const KIND_TO_RESOURCE: Record<string, string> = {
  pod: `pods`, serviceaccount: `serviceaccounts`, secret: `secrets`, namespace: `namespaces`,
  deployment: `deployments`, statefulset: `statefulsets`, daemonset: `daemonsets`, replicaset: `replicasets`,
  job: `jobs`, cronjob: `cronjobs`, replicationcontroller: `replicationcontrollers`,
};

/** kubelet/containerd-style messages for the pull failure reasons. */
export function pullMessage(reason: string, image: string): string {
  switch (reason) {
    case `ErrImagePull`:
      return `failed to pull and unpack image "${image}": failed to resolve reference "${image}": pull access denied, repository does not exist or may require authorization: server message: insufficient_scope: authorization failed`;
    case `ImagePullBackOff`:
      return `Back-off pulling image "${image}"`;
    case `InvalidImageName`:
      return `Failed to apply default image tag "${image}": couldn't parse image name "${image}": invalid reference format`;
    case `ErrImageNeverPull`:
      return `Container image "${image}" is not present with pull policy of Never`;
    default:
      return ``;
  }
}

function timestamp(d: Date): string {
  return d.toISOString().replace(/\.\d{3}Z$/, `Z`);
}

const copy = <T>(v: T): T => structuredClone(v);

/** Builds the seeder bound to a REST layer. */
export function makeSeeder(rest: Rest, now: () => Date): Seeder {
  const store = rest.store;
  const ensureNamespace = (name: string) => {
    if (!store.get(`namespaces`, undefined, name))
      rest.create(resourceByName(`namespaces`), undefined, {metadata: {name}}, {fieldManager: `seed`});
  };

  const seeder: Seeder = {
    namespace(name, opts = {}) {
      const def = resourceByName(`namespaces`);
      const existing = store.get(`namespaces`, undefined, name);
      const body = {metadata: {name, ...(opts.labels ? {labels: opts.labels} : {}), ...(opts.annotations ? {annotations: opts.annotations} : {})}};
      if (existing)
        return copy(rest.patch(def, undefined, name, `merge`, {metadata: {labels: opts.labels ?? {}, annotations: opts.annotations ?? {}}}, {fieldManager: `seed`}));
      return copy(rest.create(def, undefined, body, {fieldManager: `seed`}));
    },

    node(name, opts = {}) {
      const os = opts.os ?? `linux`;
      const architecture = opts.architecture ?? `amd64`;
      const created = rest.create(resourceByName(`nodes`), undefined, {metadata: {name, labels: {'kubernetes.io/os': os, 'kubernetes.io/arch': architecture, 'kubernetes.io/hostname': name, ...opts.labels}}}, {fieldManager: `seed`});
      // The kubelet reports nodeInfo in the status; written straight to the store, as the status subresource would.
      const stored = {...created, status: {nodeInfo: {operatingSystem: os, architecture, kubeletVersion: `v1.35.0`, containerRuntimeVersion: `containerd://2.1.0`}}};
      store.put(`nodes`, stored);
      return copy(stored);
    },

    secret(namespace, obj) {
      ensureNamespace(namespace);
      const body = {...obj, metadata: {...obj.metadata, namespace}};
      return copy(rest.create(resourceByName(`secrets`), namespace, body, {fieldManager: `seed`}));
    },

    serviceAccount(namespace, name, opts = {}) {
      ensureNamespace(namespace);
      const def = resourceByName(`serviceaccounts`);
      const pull = opts.imagePullSecrets?.map(s => (typeof s === `string` ? {name: s} : {name: s.name}));
      const existing = store.get(`serviceaccounts`, namespace, name);
      if (existing) {
        const patch: any = {metadata: {labels: opts.labels ?? {}, annotations: opts.annotations ?? {}}};
        if (pull) patch.imagePullSecrets = pull;
        return copy(rest.patch(def, namespace, name, `merge`, patch, {fieldManager: `seed`}));
      }
      const body: any = {metadata: {name, ...(opts.labels ? {labels: opts.labels} : {}), ...(opts.annotations ? {annotations: opts.annotations} : {})}};
      if (pull) body.imagePullSecrets = pull;
      return copy(rest.create(def, namespace, body, {fieldManager: `seed`}));
    },

    workload(kind, namespace, name, podSpec, opts = {}) {
      ensureNamespace(namespace);
      const resource = KIND_TO_RESOURCE[kind.toLowerCase()] ?? kind.toLowerCase();
      const def = resourceByName(resource);
      const selectorLabels = opts.templateLabels ?? {app: name};
      const template = {metadata: {labels: {...selectorLabels}, ...(opts.templateAnnotations ? {annotations: opts.templateAnnotations} : {})}, spec: copy(podSpec)};
      let spec: any;
      switch (def.resource) {
        case `cronjobs`:
          spec = {schedule: opts.schedule ?? `*/5 * * * *`, jobTemplate: {spec: {template: {...template, spec: {restartPolicy: `OnFailure`, ...template.spec}}}}};
          break;
        case `jobs`:
          spec = {template: {...template, spec: {restartPolicy: `Never`, ...template.spec}}};
          break;
        case `replicationcontrollers`:
          spec = {replicas: opts.replicas ?? 1, selector: selectorLabels, template};
          break;
        case `daemonsets`:
          spec = {selector: {matchLabels: selectorLabels}, template};
          break;
        default:
          spec = {replicas: opts.replicas ?? 1, selector: {matchLabels: selectorLabels}, template};
          break;
      }
      const body = {metadata: {name, labels: opts.labels ?? {...selectorLabels}, ...(opts.annotations ? {annotations: opts.annotations} : {}), ...(opts.ownerReferences ? {ownerReferences: opts.ownerReferences} : {})}, spec};
      return copy(rest.create(def, namespace, body, {fieldManager: `seed`}));
    },

    pod(namespace, name, podSpec, opts = {}) {
      ensureNamespace(namespace);
      const def = resourceByName(`pods`);
      const body = {metadata: {name, ...(opts.labels ? {labels: opts.labels} : {}), ...(opts.annotations ? {annotations: opts.annotations} : {}), ...(opts.ownerReferences ? {ownerReferences: opts.ownerReferences} : {})}, spec: copy(podSpec)};
      // Seeded pods may name a ServiceAccount that does not exist (as after the SA was deleted in a
      // real cluster): admission copies the SA's pull secrets when it can, but never rejects here.
      const created = rest.create(def, namespace, body, {fieldManager: `seed`, lenientServiceAccount: true});
      const status = podStatus(created, opts, now());
      // The scheduler has placed it: a pod the kubelet reports on has a node.
      const spec = created.spec.nodeName ? created.spec : {...created.spec, nodeName: `emulator-node`};
      const stored = {...created, metadata: {...created.metadata, resourceVersion: store.nextResourceVersion()}, spec, status};
      store.put(`pods`, stored);
      return copy(stored);
    },

    event(namespace, involvedObject, reason, message, opts = {}) {
      ensureNamespace(namespace);
      // Like the kubelet's events, point at the object's uid and resourceVersion (kubectl describe selects on the uid).
      const kindResource = KIND_TO_RESOURCE[(involvedObject.kind ?? `Pod`).toLowerCase()] ?? `${(involvedObject.kind ?? `Pod`).toLowerCase()}s`;
      const target = (() => {
        try {
          const targetDef = resourceByName(kindResource);
          return store.get(kindResource, targetDef.namespaced ? involvedObject.namespace ?? namespace : undefined, involvedObject.name);
        } catch {
          return undefined;
        }
      })();
      if (target)
        involvedObject = {uid: target.metadata.uid, resourceVersion: target.metadata.resourceVersion, apiVersion: target.apiVersion, ...involvedObject};
      const ts = timestamp(now());
      const body = {
        metadata: {name: `${involvedObject.name}.${crypto.randomBytes(8).toString(`hex`)}`},
        involvedObject: {kind: involvedObject.kind ?? `Pod`, namespace: involvedObject.namespace ?? namespace, name: involvedObject.name, ...(involvedObject.uid ? {uid: involvedObject.uid} : {}), apiVersion: involvedObject.apiVersion ?? `v1`, ...(involvedObject.fieldPath ? {fieldPath: involvedObject.fieldPath} : {}), ...(involvedObject.resourceVersion ? {resourceVersion: involvedObject.resourceVersion} : {})},
        reason,
        message,
        source: {component: opts.component ?? `kubelet`},
        firstTimestamp: ts,
        lastTimestamp: ts,
        count: opts.count ?? 1,
        type: opts.type ?? (/^(Err|Failed|BackOff|Invalid)/.test(reason) ? `Warning` : `Normal`),
        eventTime: null,
        reportingComponent: opts.component ?? `kubelet`,
        reportingInstance: ``,
      };
      return copy(rest.create(resourceByName(`events`), namespace, body, {fieldManager: `seed`}));
    },

    bulk(spec) {
      return bulkSeed(rest, spec, now());
    },
  };
  return seeder;
}

function podStatus(pod: any, opts: PodSeedOptions, now: Date): any {
  const containers: any[] = pod.spec.containers ?? [];
  const started = timestamp(now);
  let statuses: any[];
  let phase = opts.phase;
  if (opts.containerStatuses) {
    statuses = opts.containerStatuses;
  } else if (opts.waiting) {
    const w = typeof opts.waiting === `string` ? {reason: opts.waiting} : opts.waiting;
    statuses = containers.map(c => ({
      name: c.name, image: c.image, imageID: ``, ready: false, restartCount: 0, started: false,
      state: {waiting: {reason: w.reason, message: w.message ?? pullMessage(w.reason, c.image)}},
      lastState: {},
    }));
    phase ??= `Pending`;
  } else {
    statuses = containers.map(c => ({
      name: c.name, image: c.image, imageID: `${c.image.split(/[:@]/)[0]}@sha256:${crypto.createHash(`sha256`).update(c.image).digest(`hex`)}`,
      ready: true, restartCount: 0, started: true, state: {running: {startedAt: started}}, lastState: {},
      containerID: `containerd://${crypto.createHash(`sha256`).update(pod.metadata.uid + c.name).digest(`hex`)}`,
    }));
  }
  phase ??= `Running`;
  const ready = statuses.length > 0 && statuses.every(s => s.ready);
  return {
    phase,
    conditions: [
      {type: `PodReadyToStartContainers`, status: phase === `Running` ? `True` : `False`, lastProbeTime: null, lastTransitionTime: started},
      {type: `Initialized`, status: `True`, lastProbeTime: null, lastTransitionTime: started},
      {type: `Ready`, status: ready ? `True` : `False`, lastProbeTime: null, lastTransitionTime: started, ...(ready ? {} : {reason: `ContainersNotReady`, message: `containers with unready status: [${statuses.filter(s => !s.ready).map(s => s.name).join(` `)}]`})},
      {type: `ContainersReady`, status: ready ? `True` : `False`, lastProbeTime: null, lastTransitionTime: started},
      {type: `PodScheduled`, status: `True`, lastProbeTime: null, lastTransitionTime: started},
    ],
    hostIP: `10.0.0.10`,
    hostIPs: [{ip: `10.0.0.10`}],
    podIP: `10.244.0.${(parseInt(pod.metadata.uid.slice(0, 2), 16) % 250) + 2}`,
    podIPs: [{ip: `10.244.0.${(parseInt(pod.metadata.uid.slice(0, 2), 16) % 250) + 2}`}],
    startTime: started,
    containerStatuses: statuses,
    qosClass: `BestEffort`,
  };
}

/**
 * Writes many objects straight into the store (with uids, resourceVersions and defaults, but
 * without per-object validation or managedFields) so that scale fixtures seed in well under a second.
 */
function bulkSeed(rest: Rest, spec: BulkSpec, now: Date): BulkResult {
  const store: Store = rest.store;
  const ts = timestamp(now);
  const prefix = spec.namespacePrefix ?? `bulk`;
  const image = spec.image ?? `registry.example.com/team/app:1.0.0`;
  const counts: Record<string, number> = {namespaces: 0, serviceaccounts: 0, secrets: 0, pods: 0, deployments: 0};
  const namespaces: string[] = [];
  const width = String(spec.namespaces).length;
  const meta = (name: string, namespace?: string, extra: any = {}) => ({
    name, ...(namespace ? {namespace} : {}), uid: crypto.randomUUID(), resourceVersion: store.nextResourceVersion(), creationTimestamp: ts, ...extra,
  });
  const dockerconfig = Buffer.from(JSON.stringify({auths: {'registry.example.com': {username: `bulk`, password: `bulk-password`, auth: Buffer.from(`bulk:bulk-password`).toString(`base64`)}}})).toString(`base64`);
  const podSpec = (sa: string) => ({
    containers: [{name: `app`, image, imagePullPolicy: `IfNotPresent`, terminationMessagePath: `/dev/termination-log`, terminationMessagePolicy: `File`, resources: {}}],
    restartPolicy: `Always`, terminationGracePeriodSeconds: 30, dnsPolicy: `ClusterFirst`, serviceAccountName: sa, serviceAccount: sa,
    securityContext: {}, schedulerName: `default-scheduler`, enableServiceLinks: true, priority: 0, preemptionPolicy: `PreemptLowerPriority`,
    imagePullSecrets: [{name: `regcred-0`}],
  });
  for (let n = 0; n < spec.namespaces; n++) {
    const ns = `${prefix}-${String(n).padStart(width, `0`)}`;
    namespaces.push(ns);
    store.put(`namespaces`, {kind: `Namespace`, apiVersion: `v1`, metadata: meta(ns, undefined, {labels: {'kubernetes.io/metadata.name': ns}}), spec: {finalizers: [`kubernetes`]}, status: {phase: `Active`}});
    counts.namespaces!++;
    const saNames = [`default`, ...Array.from({length: spec.serviceAccountsPerNamespace ?? 0}, (_, i) => `sa-${i}`)];
    for (const sa of saNames) {
      store.put(`serviceaccounts`, {kind: `ServiceAccount`, apiVersion: `v1`, metadata: meta(sa, ns), ...(sa === `default` ? {} : {imagePullSecrets: [{name: `regcred-0`}]})});
      counts.serviceaccounts!++;
    }
    for (let i = 0; i < (spec.secretsPerNamespace ?? 0); i++) {
      store.put(`secrets`, {kind: `Secret`, apiVersion: `v1`, metadata: meta(`regcred-${i}`, ns), data: {'.dockerconfigjson': dockerconfig}, type: `kubernetes.io/dockerconfigjson`});
      counts.secrets!++;
    }
    for (let i = 0; i < (spec.deploymentsPerNamespace ?? 0); i++) {
      const name = `app-${i}`;
      store.put(`deployments`, {
        kind: `Deployment`, apiVersion: `apps/v1`, metadata: meta(name, ns, {generation: 1, labels: {app: name}}),
        spec: {replicas: 1, selector: {matchLabels: {app: name}}, template: {metadata: {labels: {app: name}}, spec: podSpec(saNames[i % saNames.length]!)}, strategy: {type: `RollingUpdate`, rollingUpdate: {maxUnavailable: `25%`, maxSurge: `25%`}}, revisionHistoryLimit: 10, progressDeadlineSeconds: 600},
        status: {},
      });
      counts.deployments!++;
    }
    for (let i = 0; i < (spec.podsPerNamespace ?? 0); i++) {
      const name = `pod-${String(i).padStart(4, `0`)}`;
      const sa = saNames[i % saNames.length]!;
      store.put(`pods`, {
        kind: `Pod`, apiVersion: `v1`, metadata: meta(name, ns, {labels: {app: `bulk`, index: String(i)}}),
        spec: podSpec(sa),
        status: {phase: `Running`, containerStatuses: [{name: `app`, image, imageID: ``, ready: true, restartCount: 0, started: true, state: {running: {startedAt: ts}}, lastState: {}}], qosClass: `BestEffort`, startTime: ts},
      });
      counts.pods!++;
    }
  }
  void Store;
  return {namespaces, counts};
}
