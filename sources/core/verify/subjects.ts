/**
 * From Kubernetes objects (plain JSON, from the cluster or from manifests) to the pod specs `verify` checks.
 *
 * What is checked, and why:
 * - the pod template of every top-level workload (Deployment, StatefulSet, DaemonSet, CronJob, and ReplicaSets,
 *   Jobs and ReplicationControllers that no checked workload owns): what the NEXT pod will get;
 * - every running (Pending/Running) pod, with its ACTUAL `imagePullSecrets` (admission copied them at creation).
 *   A pod whose images and effective secrets equal its owner's template adds nothing and is folded into the
 *   workload's row (the engine does that after resolution); pods that differ (created before a ServiceAccount
 *   change, for example) keep their own rows, with a drift warning.
 * The registry work is shared: each (image, credential) pair is checked once per run.
 */
import type {KubeObject} from '../ports.ts';
import type {ContainerImage, PodSubject, SourceLocation} from './types.ts';
import {WORKLOADS, isWorkloadKind} from '../workloads.ts';


type PodSpecLike = {
  serviceAccountName?: unknown;
  serviceAccount?: unknown;
  imagePullSecrets?: unknown;
  containers?: unknown;
  initContainers?: unknown;
  ephemeralContainers?: unknown;
  volumes?: unknown;
  nodeSelector?: unknown;
};

function asRecord(value: unknown): Record<string, unknown> | undefined {
  return typeof value === `object` && value !== null && !Array.isArray(value) ? value as Record<string, unknown> : undefined;
}

/** The pod spec of a Pod or of a workload's template; undefined for other kinds or malformed objects. */
export function podSpecOf(object: KubeObject): PodSpecLike | undefined {
  const spec = asRecord(object.spec);
  if (!spec)
    return undefined;
  if (object.kind === `Pod`)
    return spec;
  if (!isWorkloadKind(object.kind))
    return undefined;
  let node: Record<string, unknown> | undefined = spec;
  for (const key of WORKLOADS[object.kind].podSpecPath.slice(1))
    node = asRecord(node?.[key]);
  return node;
}

/** The path of the pod spec inside a Pod or workload (where `podSpecOf` finds it). */
export function podSpecPath(kind: string | undefined): readonly string[] {
  return isWorkloadKind(kind) ? WORKLOADS[kind].podSpecPath : [`spec`];
}

/** `spec.imagePullSecrets[].name` in order, skipping entries without a name (the kubelet skips them silently). */
export function pullSecretNames(spec: PodSpecLike): string[] {
  if (!Array.isArray(spec.imagePullSecrets))
    return [];
  const names: string[] = [];
  for (const ref of spec.imagePullSecrets) {
    const name = asRecord(ref)?.name;
    if (typeof name === `string` && name !== ``)
      names.push(name);
  }
  return names;
}

/**
 * Containers, init containers, (for running pods) ephemeral containers, and image volumes
 * (`spec.volumes[].image.reference`, pulled by the kubelet with the pod's pull secrets like a container image),
 * with their images, pull policies and field paths (relative to the pod spec).
 */
export function containerImages(spec: PodSpecLike, includeEphemeral: boolean): ContainerImage[] {
  const out: ContainerImage[] = [];
  const add = (list: unknown, kind: ContainerImage[`kind`], field: string) => {
    if (!Array.isArray(list))
      return;
    list.forEach((item, index) => {
      const container = asRecord(item);
      if (!container)
        return;
      const image = typeof container.image === `string` ? container.image : ``;
      const pullPolicy = typeof container.imagePullPolicy === `string` ? container.imagePullPolicy : undefined;
      out.push({name: typeof container.name === `string` ? container.name : `?`, image, kind, path: [field, index, `image`], ...(pullPolicy === undefined ? {} : {pullPolicy})});
    });
  };
  add(spec.initContainers, `init`, `initContainers`);
  add(spec.containers, `container`, `containers`);
  if (includeEphemeral)
    add(spec.ephemeralContainers, `ephemeral`, `ephemeralContainers`);
  if (Array.isArray(spec.volumes)) {
    spec.volumes.forEach((item, index) => {
      const volume = asRecord(item);
      const source = asRecord(volume?.image);
      if (!volume || !source)
        return;
      const image = typeof source.reference === `string` ? source.reference : ``;
      const pullPolicy = typeof source.pullPolicy === `string` ? source.pullPolicy : undefined;
      out.push({name: `volume:${typeof volume.name === `string` ? volume.name : `?`}`, image, kind: `volume`, path: [`volumes`, index, `image`, `reference`], ...(pullPolicy === undefined ? {} : {pullPolicy})});
    });
  }
  return out;
}

/** The pod spec's `nodeSelector` for `kubernetes.io/os` and `kubernetes.io/arch`, when either is set. */
export function platformSelectorOf(spec: PodSpecLike): {os?: string; architecture?: string} | undefined {
  const selector = asRecord(spec.nodeSelector);
  const os = selector?.[`kubernetes.io/os`];
  const architecture = selector?.[`kubernetes.io/arch`];
  if (typeof os !== `string` && typeof architecture !== `string`)
    return undefined;
  return {...(typeof os === `string` ? {os} : {}), ...(typeof architecture === `string` ? {architecture} : {})};
}

/** The ServiceAccount named in a pod spec (`serviceAccountName`, else the deprecated `serviceAccount`), if any. */
export function serviceAccountOf(spec: PodSpecLike): string | undefined {
  for (const value of [spec.serviceAccountName, spec.serviceAccount]) {
    if (typeof value === `string` && value !== ``)
      return value;
  }
  return undefined;
}

/** The controller owner reference of an object, if any. */
export function controllerOf(object: KubeObject): {kind: string; name: string} | undefined {
  const refs = object.metadata.ownerReferences ?? [];
  const ref = refs.find(candidate => candidate.controller) ?? refs[0];
  return ref ? {kind: ref.kind, name: ref.name} : undefined;
}

/** Index of workloads by `namespace/Kind/name`. */
export type WorkloadIndex = Map<string, KubeObject>;

function indexKey(namespace: string, kind: string, name: string): string {
  return `${namespace}/${kind}/${name}`;
}

/** Builds the index used to walk owner chains. */
export function indexWorkloads(workloads: KubeObject[]): WorkloadIndex {
  const index: WorkloadIndex = new Map();
  for (const workload of workloads)
    index.set(indexKey(workload.metadata.namespace ?? ``, workload.kind ?? ``, workload.metadata.name), workload);
  return index;
}

/**
 * The top-level workload that owns an object: ReplicaSet → Deployment, Job → CronJob, Pod → StatefulSet…
 * Owners missing from the index end the walk (the last known one is returned).
 */
export function topLevelOwner(object: KubeObject, index: WorkloadIndex): {kind: string; name: string} | undefined {
  const namespace = object.metadata.namespace ?? ``;
  let owner = controllerOf(object);
  let top: {kind: string; name: string} | undefined;
  for (let depth = 0; owner && depth < 8; depth++) {
    top = owner;
    const parent = index.get(indexKey(namespace, owner.kind, owner.name));
    owner = parent ? controllerOf(parent) : undefined;
  }
  return top;
}

function isOwnedByChecked(object: KubeObject, index: WorkloadIndex): boolean {
  const owner = controllerOf(object);
  return owner !== undefined && index.has(indexKey(object.metadata.namespace ?? ``, owner.kind, owner.name));
}

/** A subject from one workload or pod object. */
export function subjectOf(object: KubeObject, origin: PodSubject[`origin`], fallbackNamespace: string): PodSubject | undefined {
  const spec = podSpecOf(object);
  if (!spec)
    return undefined;
  const platformSelector = platformSelectorOf(spec);
  return {
    namespace: object.metadata.namespace ?? fallbackNamespace,
    kind: object.kind ?? `Pod`,
    name: object.metadata.name,
    origin,
    serviceAccountName: serviceAccountOf(spec),
    ownPullSecrets: pullSecretNames(spec),
    containers: containerImages(spec, object.kind === `Pod` && origin === `pod`),
    ...(platformSelector === undefined ? {} : {platformSelector}),
  };
}

/** True for pods whose containers may still pull (not Succeeded/Failed). */
export function isLivePod(pod: KubeObject): boolean {
  const phase = asRecord(pod.status)?.phase;
  return phase !== `Succeeded` && phase !== `Failed`;
}

/**
 * The subjects of a cluster scan: templates of top-level workloads, then live pods (with their top-level owner,
 * so that the engine can fold pods that match their template).
 */
export function clusterSubjects(workloads: KubeObject[], pods: KubeObject[]): PodSubject[] {
  const index = indexWorkloads(workloads);
  const subjects: PodSubject[] = [];
  const templateHasOwnSecrets = new Map<string, boolean>();
  for (const workload of workloads) {
    if (isOwnedByChecked(workload, index))
      continue;
    const subject = subjectOf(workload, `template`, `default`);
    if (!subject)
      continue;
    subjects.push(subject);
    templateHasOwnSecrets.set(indexKey(subject.namespace, subject.kind, subject.name), subject.ownPullSecrets.length > 0);
  }
  for (const pod of pods) {
    if (!isLivePod(pod))
      continue;
    const subject = subjectOf(pod, `pod`, `default`);
    if (!subject)
      continue;
    const owner = topLevelOwner(pod, index);
    if (owner) {
      subject.owner = owner;
      const hasOwn = templateHasOwnSecrets.get(indexKey(subject.namespace, owner.kind, owner.name));
      if (hasOwn !== undefined)
        subject.ownerTemplateHasOwnSecrets = hasOwn;
    }
    subjects.push(subject);
  }
  return subjects;
}

/** Finds where a field of a manifest object is (file and line), for `-f`/`-k` input. */
export type Locator = (object: KubeObject, path: Array<string | number>) => SourceLocation | undefined;

/**
 * The subjects of manifests: every Pod and workload template in the files (owner chains inside the files are folded).
 * With a locator, each image carries the file and line of its field.
 */
export function manifestSubjects(objects: KubeObject[], defaultNamespace: string, locate?: Locator): PodSubject[] {
  const workloads = objects.filter(object => isWorkloadKind(object.kind) || object.kind === `Pod`);
  const index = indexWorkloads(workloads);
  const subjects: PodSubject[] = [];
  for (const object of workloads) {
    if (isOwnedByChecked(object, index))
      continue;
    const subject = subjectOf(object, `manifest`, defaultNamespace);
    if (!subject)
      continue;
    if (locate) {
      const prefix = podSpecPath(object.kind);
      for (const container of subject.containers) {
        const location = container.path && locate(object, [...prefix, ...container.path]);
        if (location)
          container.location = location;
      }
    }
    subjects.push(subject);
  }
  return subjects;
}
