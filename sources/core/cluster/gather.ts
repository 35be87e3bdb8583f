/**
 * The one cluster-read layer: how `verify`, `doctor` and `list` read a cluster through the ClusterSession port
 * (workloads, pods, ServiceAccounts and Secrets, and Events for doctor). Pages are the session's (kubectl's 500).
 *
 * - For `-A` (and any scope of more than a few namespaces) each kind is ONE cluster-wide list (the session pages
 *   through it with `limit`/`continue`), filtered locally to the namespaces in scope; never one request per
 *   namespace.
 * - A user who may not list secrets (or ServiceAccounts) still gets every check that does not need them: the
 *   referenced objects are then read one by one, and those that stay unreadable are reported per object
 *   (`cannot read secret web/regcred: forbidden`), not as an abort.
 */
import type {ClusterSession, KubeObject, ListOptions, ResourceName} from '../ports.ts';
import type {ClusterView, SecretState, ServiceAccountState} from '../verify/effective.ts';
import {serviceAccountPullSecrets} from '../verify/effective.ts';
import {pullSecretNames, podSpecOf} from '../verify/subjects.ts';
import {apiErrorReason, isApiError} from '../apiError.ts';
import {WORKLOADS, WORKLOAD_RESOURCES, isWorkloadKind} from '../workloads.ts';
import {PULL_SECRET_TYPES} from '../secrets/metadata.ts';
import {compareText} from '../text.ts';


// Above this many namespaces one cluster-wide list per kind is cheaper than one list per namespace.
const PER_NAMESPACE_LIMIT = 8;


/** What one gather found, ready to be turned into a ClusterView. */
export type ClusterSnapshot = {
  workloads: KubeObject[];
  pods: KubeObject[];
  serviceAccounts: Map<string, KubeObject>;
  secrets: Map<string, KubeObject>;
  /** `ns/name` of secrets (or ServiceAccounts) that could not be read, with the reason. */
  unreadableSecrets: Map<string, string>;
  unreadableServiceAccounts: Map<string, string>;
  /** Kinds that could not be listed at all (e.g. `cronjobs: forbidden`), reported as notes (one per kind and scope). */
  notes: string[];
  /** Every list that was refused (403/404), with the error's one-line message (it names verb, resource and namespace). */
  refused: ListRefusal[];
  /** True when at least one list of pods or of a workload kind succeeded: something could be checked. */
  listedSubjects: boolean;
};

/** A list the cluster refused: the resource, the namespace (undefined: cluster-wide) and the one-line reason. */
export type ListRefusal = {resource: ResourceName; namespace?: string; reason: string; message: string; error: unknown};

/** What the lists of a gather learned, shared by its `listInScope` calls. */
export type ListLog = {notes: string[]; refused: ListRefusal[]};

const key = (namespace: string | undefined, name: string) => `${namespace ?? ``}/${name}`;

/**
 * When a set of namespaces is listed one namespace at a time: up to `perNamespaceLimit` of them (default 8, where
 * one cluster-wide list starts to be cheaper). The attach engine passes 1: its fan-outs list cluster-wide as soon as
 * there are two namespaces.
 */
export type ListPolicy = {perNamespaceLimit?: number};

/**
 * Lists one resource over a set of namespaces: cluster-wide and filtered when they are many (or `all`), else one list
 * per namespace. A refused (403/404) list becomes a note and a refusal in `log`; the namespaces whose list was
 * refused are left out of the result, the others kept. When a cluster-wide list for a set of namespaces is refused
 * (a user with Roles in each namespace but no ClusterRole), it falls back to one list per namespace.
 * Returns undefined when no list of the resource succeeded.
 */
export async function listInScope(session: ClusterSession, resource: ResourceName, namespaces: string[] | `all`, log: ListLog, extra: Omit<ListOptions, `namespace`> = {}, policy: ListPolicy = {}): Promise<KubeObject[] | undefined> {
  if (namespaces === `all` || namespaces.length > (policy.perNamespaceLimit ?? PER_NAMESPACE_LIMIT)) {
    try {
      const items = await session.list(resource, {...extra});
      if (namespaces === `all`)
        return items;
      const wanted = new Set(namespaces);
      return items.filter(item => wanted.has(item.metadata.namespace ?? ``));
    } catch (error) {
      if (!isRefusal(error))
        throw error;
      if (namespaces === `all`) {
        refuse(log, resource, undefined, error, false);
        return undefined;
      }
    }
  }
  const lists = await mapLimited(namespaces, LIST_CONCURRENCY, async namespace => {
    try {
      return await session.list(resource, {namespace, ...extra});
    } catch (error) {
      if (!isRefusal(error))
        throw error;
      refuse(log, resource, namespace, error, namespaces.length > 1);
      return undefined;
    }
  });
  const listed = lists.filter((list): list is KubeObject[] => list !== undefined);
  return listed.length === 0 && namespaces.length > 0 ? undefined : listed.flat();
}

/** `listInScope` for a list the caller cannot do without: the first refusal is thrown. */
export async function listAllInScope(session: ClusterSession, resource: ResourceName, namespaces: string[] | `all`, extra: Omit<ListOptions, `namespace`> = {}): Promise<KubeObject[]> {
  const log: ListLog = {notes: [], refused: []};
  const items = await listInScope(session, resource, namespaces, log, extra);
  if (log.refused.length > 0)
    throw log.refused[0]!.error;
  return items ?? [];
}

/** True when some list of `resource` was refused (in some namespace or cluster-wide). */
function wasRefused(log: ListLog, resource: ResourceName): boolean {
  return log.refused.some(refusal => refusal.resource === resource);
}

// At most this many per-namespace lists of one resource in flight (the fallback may cover many namespaces).
const LIST_CONCURRENCY = 8;

function isRefusal(error: unknown): boolean {
  const code = isApiError(error) ? error.code : undefined;
  return code === 403 || code === 404;
}

/** Records a refused list; the note names the namespace only when several are in scope, and is written once. */
function refuse(log: ListLog, resource: ResourceName, namespace: string | undefined, error: unknown, nameNamespace: boolean): void {
  const reason = apiErrorReason(error);
  log.refused.push({resource, namespace, reason, message: error instanceof Error ? error.message : String(error), error});
  const note = `cannot list ${resource}${nameNamespace && namespace !== undefined ? ` in namespace ${namespace}` : ``}: ${reason}`;
  if (!log.notes.includes(note))
    log.notes.push(note);
}

/** `work` over `items`, at most `limit` at a time; results in input order. */
async function mapLimited<T, R>(items: T[], limit: number, work: (item: T) => Promise<R>): Promise<R[]> {
  const results: R[] = new Array(items.length);
  let next = 0;
  const worker = async () => {
    while (next < items.length) {
      const index = next++;
      results[index] = await work(items[index]!);
    }
  };
  await Promise.all(Array.from({length: Math.min(limit, items.length)}, worker));
  return results;
}

/**
 * Keeps only what verify reads of a workload or pod (names, owners, the pod spec's service account, pull secrets
 * and container images, the pod phase): 20,000 full pods hold ~130 MB, their slim forms a tenth of it.
 */
export function slim(object: KubeObject, kind: string): KubeObject {
  const {name, namespace, ownerReferences, uid} = object.metadata;
  const metadata = {name, namespace, uid, ...(ownerReferences ? {ownerReferences} : {})};
  const spec = podSpecOf({...object, kind});
  const slimSpec = spec ? {
    serviceAccountName: spec.serviceAccountName,
    serviceAccount: spec.serviceAccount,
    imagePullSecrets: spec.imagePullSecrets,
    containers: slimContainers(spec.containers),
    initContainers: slimContainers(spec.initContainers),
    ephemeralContainers: slimContainers(spec.ephemeralContainers),
    volumes: slimImageVolumes(spec.volumes),
    nodeSelector: spec.nodeSelector,
  } : undefined;
  switch (kind) {
    case `Pod`:
      return {kind, metadata, spec: slimSpec, status: {phase: (object.status as {phase?: unknown} | undefined)?.phase}};
    case `CronJob`:
      return {kind, metadata, spec: {jobTemplate: {spec: {template: {spec: slimSpec}}}}};
    default:
      return {kind, metadata, spec: {template: {spec: slimSpec}}};
  }
}

function slimContainers(list: unknown): unknown {
  if (!Array.isArray(list))
    return undefined;
  return list.map(item => {
    const container = item as {name?: unknown; image?: unknown; imagePullPolicy?: unknown};
    return {name: container.name, image: container.image, imagePullPolicy: container.imagePullPolicy};
  });
}

/** Only the image volumes (`volumes[].image`), the ones the kubelet pulls. */
function slimImageVolumes(list: unknown): unknown {
  if (!Array.isArray(list))
    return undefined;
  const images = list.filter(item => typeof item === `object` && item !== null && (item as {image?: unknown}).image !== undefined)
    .map(item => ({name: (item as {name?: unknown}).name, image: (item as {image?: unknown}).image}));
  return images.length === 0 ? undefined : images;
}

/**
 * Gathers workloads, live pods, ServiceAccounts and Secrets for a set of namespaces. Secrets are listed by the two
 * pull-secret types only; referenced secrets of other types are then read one by one (or, when there are many,
 * with one list of every secret).
 */
export async function gatherForVerify(session: ClusterSession, namespaces: string[] | `all`, options: {labelSelector?: string} = {}): Promise<ClusterSnapshot> {
  const log: ListLog = {notes: [], refused: []};
  const selector = options.labelSelector === undefined ? {} : {labelSelector: options.labelSelector};
  // Pods first and alone: by far the largest list, slimmed page by page as it arrives (lower peak memory).
  const pods = await listInScope(session, `pods`, namespaces, log, {...selector, transform: item => slim(item, `Pod`)});
  const [workloadLists, serviceAccounts, secrets] = await Promise.all([
    Promise.all(WORKLOAD_RESOURCES.map(([resource, kind]) => listInScope(session, resource, namespaces, log, {...selector, transform: item => slim(item, kind)}))),
    listInScope(session, `serviceaccounts`, namespaces, log),
    listPullSecrets(session, namespaces, log),
  ]);
  const snapshot: ClusterSnapshot = {
    workloads: workloadLists.flatMap(list => list ?? []),
    pods: pods ?? [],
    serviceAccounts: new Map(),
    secrets: new Map(),
    unreadableSecrets: new Map(),
    unreadableServiceAccounts: new Map(),
    notes: log.notes,
    refused: log.refused,
    listedSubjects: pods !== undefined || workloadLists.some(list => list !== undefined),
  };
  for (const serviceAccount of serviceAccounts ?? [])
    snapshot.serviceAccounts.set(key(serviceAccount.metadata.namespace, serviceAccount.metadata.name), serviceAccount);
  for (const secret of secrets ?? [])
    snapshot.secrets.set(key(secret.metadata.namespace, secret.metadata.name), secret);

  // Fall back to reading referenced objects one by one when a list was refused.
  if (serviceAccounts === undefined || wasRefused(log, `serviceaccounts`))
    await readOneByOne(session, `serviceaccounts`, referencedServiceAccounts([...snapshot.workloads, ...snapshot.pods]), snapshot.serviceAccounts, snapshot.unreadableServiceAccounts);
  const referenced = referencedSecrets([...snapshot.workloads, ...snapshot.pods], snapshot.serviceAccounts.values());
  if (secrets === undefined) {
    await readOneByOne(session, `secrets`, referenced, snapshot.secrets, snapshot.unreadableSecrets);
    return snapshot;
  }
  // Referenced secrets of other types (Opaque…, which the kubelet ignores) or missing ones: read one by one when
  // they are few, else with one list of every secret.
  const unknown = [...new Set(referenced)].filter(ref => !snapshot.secrets.has(ref));
  if (unknown.length > ONE_BY_ONE_LIMIT) {
    const wanted = new Set(unknown);
    for (const secret of (await listInScope(session, `secrets`, namespaces, log)) ?? []) {
      const ref = key(secret.metadata.namespace, secret.metadata.name);
      if (wanted.has(ref))
        snapshot.secrets.set(ref, secret);
    }
  } else if (unknown.length > 0) {
    await readOneByOne(session, `secrets`, unknown, snapshot.secrets, snapshot.unreadableSecrets);
  }
  return snapshot;
}

/** The two pull-secret types the kubelet reads (R1.1); other secrets (Helm releases, TLS…) are never downloaded in bulk. */
// Up to this many referenced secrets of other types (or missing) are read one by one instead of listing every secret.
const ONE_BY_ONE_LIMIT = 100;

/**
 * Every pull secret in scope: one list per pull-secret type (field selector on `type`); undefined when refused
 * (then the referenced secrets are read one by one). A refusal is noted once, not once per type.
 */
async function listPullSecrets(session: ClusterSession, namespaces: string[] | `all`, log: ListLog): Promise<KubeObject[] | undefined> {
  const refusedBefore = log.refused.length;
  const lists = await Promise.all([...PULL_SECRET_TYPES].map(type => listInScope(session, `secrets`, namespaces, log, {fieldSelector: `type=${type}`})));
  // A list refused in some namespaces only leaves the others listed: read the rest one by one, as when all are refused.
  if (lists.some(list => list === undefined) || log.refused.length > refusedBefore)
    return undefined;
  return lists.flat() as KubeObject[];
}

/** Reads the named objects one at a time (bounded), recording found objects and unreadable ones. */
export async function readOneByOne(session: ClusterSession, resource: ResourceName, refs: Iterable<string>, found: Map<string, KubeObject>, unreadable: Map<string, string>): Promise<void> {
  const pending = [...new Set(refs)].filter(ref => !found.has(ref));
  let next = 0;
  const worker = async () => {
    while (next < pending.length) {
      const ref = pending[next++]!;
      const slash = ref.indexOf(`/`);
      try {
        const object = await session.get(resource, ref.slice(0, slash), ref.slice(slash + 1));
        if (object)
          found.set(ref, object);
      } catch (error) {
        const code = isApiError(error) ? error.code : undefined;
        if (code === 404)
          continue;
        if (code === 403) {
          unreadable.set(ref, `forbidden`);
          continue;
        }
        throw error;
      }
    }
  };
  await Promise.all(Array.from({length: Math.min(16, pending.length)}, worker));
}

/** `ns/sa` of every ServiceAccount the objects' pod specs use (`default` when unset). */
export function referencedServiceAccounts(objects: KubeObject[]): string[] {
  const refs: string[] = [];
  for (const object of objects) {
    const spec = podSpecOf(object);
    if (!spec)
      continue;
    const name = typeof spec.serviceAccountName === `string` && spec.serviceAccountName !== `` ? spec.serviceAccountName : `default`;
    refs.push(key(object.metadata.namespace, name));
  }
  return refs;
}

/** `ns/name` of every secret named by pod specs or ServiceAccounts. */
export function referencedSecrets(objects: KubeObject[], serviceAccounts: Iterable<KubeObject>): string[] {
  const refs: string[] = [];
  for (const object of objects) {
    const spec = podSpecOf(object);
    if (spec)
      refs.push(...pullSecretNames(spec).map(name => key(object.metadata.namespace, name)));
  }
  for (const serviceAccount of serviceAccounts)
    refs.push(...serviceAccountPullSecrets(serviceAccount).map(name => key(serviceAccount.metadata.namespace, name)));
  return refs;
}

/** The ClusterView over a snapshot, with objects from manifests taking precedence (they will be applied too). */
export function snapshotView(snapshot: ClusterSnapshot, overlay: KubeObject[] = [], overlayNamespace = `default`): ClusterView {
  const serviceAccounts = new Map(snapshot.serviceAccounts);
  const secrets = new Map(snapshot.secrets);
  for (const object of overlay) {
    const ref = key(object.metadata.namespace ?? overlayNamespace, object.metadata.name);
    if (object.kind === `ServiceAccount`)
      serviceAccounts.set(ref, object);
    else if (object.kind === `Secret`)
      secrets.set(ref, normalizeManifestSecret(object));
  }
  return {
    serviceAccount(namespace: string, name: string): ServiceAccountState {
      const ref = key(namespace, name);
      const found = serviceAccounts.get(ref);
      if (found)
        return {state: `found`, imagePullSecrets: serviceAccountPullSecrets(found)};
      const reason = snapshot.unreadableServiceAccounts.get(ref);
      return reason === undefined ? {state: `missing`} : {state: `forbidden`, message: reason};
    },
    secret(namespace: string, name: string): SecretState {
      const ref = key(namespace, name);
      const found = secrets.get(ref);
      if (found)
        return {state: `found`, secret: found};
      const reason = snapshot.unreadableSecrets.get(ref);
      return reason === undefined ? {state: `missing`} : {state: `forbidden`, message: reason};
    },
  };
}

/** A Secret from a manifest may use `stringData`; the API server would fold it into base64 `data`. */
export function normalizeManifestSecret(secret: KubeObject): KubeObject {
  const stringData = secret.stringData;
  if (typeof stringData !== `object` || stringData === null)
    return secret;
  const data: Record<string, string> = {...(secret.data as Record<string, string> | undefined)};
  for (const [name, value] of Object.entries(stringData as Record<string, unknown>)) {
    if (typeof value === `string`)
      data[name] = Buffer.from(value, `utf8`).toString(`base64`);
  }
  const {stringData: _dropped, ...rest} = secret;
  return {...rest, data} as KubeObject;
}

/** Adds the serviceaccounts and secrets of a few namespaces (manifest mode), one list each, falling back to gets. */
export async function gatherNamespaces(session: ClusterSession, namespaces: string[], refs: {serviceAccounts: string[]; secrets: string[]}): Promise<ClusterSnapshot> {
  const log: ListLog = {notes: [], refused: []};
  const [serviceAccounts, secrets] = await Promise.all([
    listInScope(session, `serviceaccounts`, namespaces, log),
    listInScope(session, `secrets`, namespaces, log),
  ]);
  const snapshot: ClusterSnapshot = {
    workloads: [], pods: [], serviceAccounts: new Map(), secrets: new Map(), unreadableSecrets: new Map(), unreadableServiceAccounts: new Map(),
    notes: log.notes, refused: log.refused, listedSubjects: false,
  };
  for (const serviceAccount of serviceAccounts ?? [])
    snapshot.serviceAccounts.set(key(serviceAccount.metadata.namespace, serviceAccount.metadata.name), serviceAccount);
  for (const secret of secrets ?? [])
    snapshot.secrets.set(key(secret.metadata.namespace, secret.metadata.name), secret);
  if (serviceAccounts === undefined || wasRefused(log, `serviceaccounts`))
    await readOneByOne(session, `serviceaccounts`, refs.serviceAccounts, snapshot.serviceAccounts, snapshot.unreadableServiceAccounts);
  if (secrets === undefined || wasRefused(log, `secrets`))
    await readOneByOne(session, `secrets`, [...refs.secrets, ...referencedSecrets([], snapshot.serviceAccounts.values())], snapshot.secrets, snapshot.unreadableSecrets);
  return snapshot;
}

/** Events about one object (doctor), newest last; an unreadable event list yields none. */
export async function eventsFor(session: ClusterSession, namespace: string, kind: string, name: string): Promise<KubeObject[]> {
  try {
    const events = await session.list(`events`, {namespace, fieldSelector: `involvedObject.kind=${kind},involvedObject.name=${name}`});
    return events.sort((a, b) => compareText(eventTime(a), eventTime(b)));
  } catch (error) {
    const code = isApiError(error) ? error.code : undefined;
    if (code === 403 || code === 404)
      return [];
    throw error;
  }
}

function eventTime(event: KubeObject): string {
  const value = event.lastTimestamp ?? event.eventTime ?? event.metadata.creationTimestamp ?? ``;
  return typeof value === `string` ? value : ``;
}


/**
 * The top-level workload owning an object, following controller references through the API
 * (Pod → ReplicaSet → Deployment, Pod → Job → CronJob); an unreadable link ends the walk at the last known owner.
 * `podPullSecrets` is the imagePullSecrets of a controller's pod template, when one could be read.
 */
export async function topLevelOwnerOf(session: ClusterSession, object: KubeObject): Promise<{kind: string; name: string; podPullSecrets?: string[]} | undefined> {
  const namespace = object.metadata.namespace;
  let current = object;
  let top: {kind: string; name: string} | undefined;
  let template: string[] | undefined;
  for (let depth = 0; depth < 8; depth++) {
    const refs = current.metadata.ownerReferences ?? [];
    const ref = refs.find(candidate => candidate.controller) ?? refs[0];
    if (!ref)
      break;
    top = {kind: ref.kind, name: ref.name};
    const resource = isWorkloadKind(ref.kind) ? WORKLOADS[ref.kind].resource : undefined;
    if (!resource)
      break;
    let parent: KubeObject | null;
    try {
      parent = await session.get(resource, namespace, ref.name);
    } catch (error) {
      const code = isApiError(error) ? error.code : undefined;
      if (code === 403 || code === 404)
        break;
      throw error;
    }
    if (!parent)
      break;
    current = parent;
    // The imagePullSecrets of a controller's pod template (each level copies the one above, so any level's is the pod's).
    const spec = podSpecOf(parent);
    if (spec !== undefined)
      template = pullSecretNames(spec);
  }
  return top === undefined || template === undefined ? top : {...top, podPullSecrets: template};
}

/**
 * Whether a namespace exists, with one `get namespaces/<name>`: `found`, `missing` (404), or `unknown` when the GET
 * is refused (a user with Roles only may not read namespaces, which are cluster-scoped).
 */
export async function namespaceExists(session: ClusterSession, name: string): Promise<`found` | `missing` | `unknown`> {
  try {
    return (await session.get(`namespaces`, undefined, name)) ? `found` : `missing`;
  } catch (error) {
    const code = isApiError(error) ? error.code : undefined;
    if (code === 404)
      return `missing`;
    if (code === 403)
      return `unknown`;
    throw error;
  }
}

/**
 * The nodes' platforms, from one cluster-wide list of nodes (slimmed to `status.nodeInfo` as pages arrive). Nodes are
 * cluster-scoped, so a user with Roles only may not list them: a refused list (403, or 404 from a server without
 * nodes) gives no platforms, silently, as documented (docs/rbac.md; `--platform` names them instead); any other
 * failure gives a note.
 */
export async function listNodePlatforms(session: ClusterSession): Promise<{nodes: KubeObject[]; note?: string}> {
  try {
    const nodes = await session.list(`nodes`, {transform: node => {
      const info = (node.status as {nodeInfo?: {operatingSystem?: unknown; architecture?: unknown}} | undefined)?.nodeInfo;
      return {kind: `Node`, metadata: {name: node.metadata.name}, status: {nodeInfo: {operatingSystem: info?.operatingSystem, architecture: info?.architecture}}};
    }});
    return {nodes};
  } catch (error) {
    if (!isApiError(error))
      throw error;
    if (error.code === 403 || error.code === 404)
      return {nodes: []};
    return {nodes: [], note: `cannot list nodes: ${apiErrorReason(error)}; image platforms were not checked (name them with --platform, e.g. --platform linux/amd64,linux/arm64)`};
  }
}
