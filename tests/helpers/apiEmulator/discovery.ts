/**
 * The resources the emulator serves and the discovery documents kubectl reads:
 * `/version`, aggregated discovery (apidiscovery.k8s.io/v2) for `/api` and `/apis`,
 * legacy `/api`, `/api/v1`, `/apis`, `/apis/<group>/<version>`, and a minimal OpenAPI v3
 * (kubectl `create -f`/`apply -f` need one, docs/testing.md C.4).
 */

export type ResourceDef = {
  /** Plural REST name, e.g. `secrets`. */
  resource: string;
  singular: string;
  group: string;
  version: string;
  kind: string;
  namespaced: boolean;
  shortNames?: string[];
  verbs: string[];
  categories?: string[];
  /** Virtual resources (SelfSubjectAccessReview) are never stored. */
  virtual?: boolean;
  /** Whether metadata.generation is maintained (spec changes bump it). */
  hasGeneration?: boolean;
};

const ALL = [`create`, `delete`, `deletecollection`, `get`, `list`, `patch`, `update`, `watch`];

/** Every resource served, in discovery order. */
export const RESOURCES: ResourceDef[] = [
  {resource: `namespaces`, singular: `namespace`, group: ``, version: `v1`, kind: `Namespace`, namespaced: false, shortNames: [`ns`], verbs: [`create`, `delete`, `get`, `list`, `patch`, `update`, `watch`]},
  {resource: `nodes`, singular: `node`, group: ``, version: `v1`, kind: `Node`, namespaced: false, shortNames: [`no`], verbs: [`create`, `delete`, `deletecollection`, `get`, `list`, `patch`, `update`, `watch`]},
  {resource: `secrets`, singular: `secret`, group: ``, version: `v1`, kind: `Secret`, namespaced: true, verbs: ALL},
  {resource: `serviceaccounts`, singular: `serviceaccount`, group: ``, version: `v1`, kind: `ServiceAccount`, namespaced: true, shortNames: [`sa`], verbs: ALL},
  {resource: `pods`, singular: `pod`, group: ``, version: `v1`, kind: `Pod`, namespaced: true, shortNames: [`po`], verbs: ALL, categories: [`all`]},
  {resource: `events`, singular: `event`, group: ``, version: `v1`, kind: `Event`, namespaced: true, shortNames: [`ev`], verbs: ALL},
  {resource: `replicationcontrollers`, singular: `replicationcontroller`, group: ``, version: `v1`, kind: `ReplicationController`, namespaced: true, shortNames: [`rc`], verbs: ALL, categories: [`all`], hasGeneration: true},
  {resource: `deployments`, singular: `deployment`, group: `apps`, version: `v1`, kind: `Deployment`, namespaced: true, shortNames: [`deploy`], verbs: ALL, categories: [`all`], hasGeneration: true},
  {resource: `statefulsets`, singular: `statefulset`, group: `apps`, version: `v1`, kind: `StatefulSet`, namespaced: true, shortNames: [`sts`], verbs: ALL, categories: [`all`], hasGeneration: true},
  {resource: `daemonsets`, singular: `daemonset`, group: `apps`, version: `v1`, kind: `DaemonSet`, namespaced: true, shortNames: [`ds`], verbs: ALL, categories: [`all`], hasGeneration: true},
  {resource: `replicasets`, singular: `replicaset`, group: `apps`, version: `v1`, kind: `ReplicaSet`, namespaced: true, shortNames: [`rs`], verbs: ALL, categories: [`all`], hasGeneration: true},
  {resource: `jobs`, singular: `job`, group: `batch`, version: `v1`, kind: `Job`, namespaced: true, verbs: ALL, categories: [`all`], hasGeneration: true},
  {resource: `cronjobs`, singular: `cronjob`, group: `batch`, version: `v1`, kind: `CronJob`, namespaced: true, shortNames: [`cj`], verbs: ALL, categories: [`all`], hasGeneration: true},
  {resource: `clusterroles`, singular: `clusterrole`, group: `rbac.authorization.k8s.io`, version: `v1`, kind: `ClusterRole`, namespaced: false, verbs: ALL},
  {resource: `clusterrolebindings`, singular: `clusterrolebinding`, group: `rbac.authorization.k8s.io`, version: `v1`, kind: `ClusterRoleBinding`, namespaced: false, verbs: ALL},
  {resource: `roles`, singular: `role`, group: `rbac.authorization.k8s.io`, version: `v1`, kind: `Role`, namespaced: true, verbs: ALL},
  {resource: `rolebindings`, singular: `rolebinding`, group: `rbac.authorization.k8s.io`, version: `v1`, kind: `RoleBinding`, namespaced: true, verbs: ALL},
  {resource: `leases`, singular: `lease`, group: `coordination.k8s.io`, version: `v1`, kind: `Lease`, namespaced: true, verbs: ALL},
  {resource: `selfsubjectaccessreviews`, singular: `selfsubjectaccessreview`, group: `authorization.k8s.io`, version: `v1`, kind: `SelfSubjectAccessReview`, namespaced: false, verbs: [`create`], virtual: true},
  {resource: `selfsubjectrulesreviews`, singular: `selfsubjectrulesreview`, group: `authorization.k8s.io`, version: `v1`, kind: `SelfSubjectRulesReview`, namespaced: false, verbs: [`create`], virtual: true},
  {resource: `selfsubjectreviews`, singular: `selfsubjectreview`, group: `authentication.k8s.io`, version: `v1`, kind: `SelfSubjectReview`, namespaced: false, verbs: [`create`], virtual: true},
];

const byKey = new Map(RESOURCES.map(r => [`${r.group}/${r.version}/${r.resource}`, r]));
const byResource = new Map(RESOURCES.map(r => [r.resource, r]));

/** Looks a resource up by group, version and plural name. */
export function findResource(group: string, version: string, resource: string): ResourceDef | undefined {
  return byKey.get(`${group}/${version}/${resource}`);
}

/** Looks a resource up by its plural name (names are unique among the served resources). */
export function resourceByName(resource: string): ResourceDef {
  const def = byResource.get(resource);
  if (!def)
    throw new Error(`Assertion failed: the emulator does not serve "${resource}"`);
  return def;
}

/** `v1` or `apps/v1`. */
export function apiVersionOf(def: ResourceDef): string {
  return def.group === `` ? def.version : `${def.group}/${def.version}`;
}

/** The group/versions served, core first. */
export function groupVersions(): Array<{group: string; version: string}> {
  const seen = new Map<string, {group: string; version: string}>();
  for (const r of RESOURCES)
    seen.set(`${r.group}/${r.version}`, {group: r.group, version: r.version});
  return [...seen.values()];
}

export const VERSION_INFO = {
  major: `1`,
  minor: `32`,
  gitVersion: `v1.32.5`,
  gitCommit: `9894294ef13a5b32803e3ca2c0d620a088cc84d1`,
  gitTreeState: `clean`,
  buildDate: `2025-05-15T09:00:00Z`,
  goVersion: `go1.23.8`,
  compiler: `gc`,
  platform: `linux/amd64`,
};

/** The aggregated discovery media type kubectl asks for first. */
export const AGGREGATED_V2 = `application/json;g=apidiscovery.k8s.io;v=v2;as=APIGroupDiscoveryList`;
export const AGGREGATED_V2BETA1 = `application/json;g=apidiscovery.k8s.io;v=v2beta1;as=APIGroupDiscoveryList`;

function aggregatedResource(r: ResourceDef) {
  return {
    resource: r.resource,
    responseKind: {group: r.group, version: r.version, kind: r.kind},
    scope: r.namespaced ? `Namespaced` : `Cluster`,
    singularResource: r.singular,
    verbs: r.verbs,
    ...(r.shortNames ? {shortNames: r.shortNames} : {}),
    ...(r.categories ? {categories: r.categories} : {}),
    ...(STATUS_RESOURCES.has(r.resource) ? {subresources: [{subresource: `status`, responseKind: {group: r.group, version: r.version, kind: r.kind}, verbs: [`get`, `patch`, `update`]}]} : {}),
  };
}

/** Resources with a `status` subresource (get, patch, update). */
export const STATUS_RESOURCES = new Set([`namespaces`, `pods`, `deployments`, `statefulsets`, `daemonsets`, `replicasets`, `jobs`, `cronjobs`, `replicationcontrollers`]);

/** APIGroupDiscoveryList for `/api` (core) or `/apis` (named groups). */
export function aggregatedDiscovery(core: boolean, apiVersion: string) {
  const items = groupVersions().filter(gv => (gv.group === ``) === core).map(gv => ({
    metadata: core ? {creationTimestamp: null} : {name: gv.group, creationTimestamp: null},
    versions: [{
      version: gv.version,
      resources: RESOURCES.filter(r => r.group === gv.group && r.version === gv.version).map(aggregatedResource),
      freshness: `Current`,
    }],
  }));
  return {kind: `APIGroupDiscoveryList`, apiVersion, metadata: {}, items};
}

/** Legacy `/api`: APIVersions. */
export function legacyCoreVersions() {
  return {kind: `APIVersions`, versions: [`v1`], serverAddressByClientCIDRs: [{clientCIDR: `0.0.0.0/0`, serverAddress: `127.0.0.1:6443`}]};
}

/** Legacy `/apis`: APIGroupList. */
export function legacyGroupList() {
  const groups = groupVersions().filter(gv => gv.group !== ``).map(gv => ({
    name: gv.group,
    versions: [{groupVersion: `${gv.group}/${gv.version}`, version: gv.version}],
    preferredVersion: {groupVersion: `${gv.group}/${gv.version}`, version: gv.version},
  }));
  return {kind: `APIGroupList`, apiVersion: `v1`, groups};
}

/** Legacy `/apis/<group>`: APIGroup, or undefined for an unknown group. */
export function legacyGroup(group: string) {
  const gv = groupVersions().find(g => g.group === group && group !== ``);
  if (!gv)
    return undefined;
  const v = {groupVersion: `${gv.group}/${gv.version}`, version: gv.version};
  return {kind: `APIGroup`, apiVersion: `v1`, name: gv.group, versions: [v], preferredVersion: v};
}

/** Legacy `/api/v1` or `/apis/<g>/<v>`: APIResourceList, or undefined when not served. */
export function resourceList(group: string, version: string) {
  const resources = RESOURCES.filter(r => r.group === group && r.version === version);
  if (resources.length === 0)
    return undefined;
  return {
    kind: `APIResourceList`,
    apiVersion: `v1`,
    groupVersion: group === `` ? version : `${group}/${version}`,
    resources: resources.flatMap(r => [{
      name: r.resource,
      singularName: r.singular,
      namespaced: r.namespaced,
      kind: r.kind,
      verbs: r.verbs,
      ...(r.shortNames ? {shortNames: r.shortNames} : {}),
      ...(r.categories ? {categories: r.categories} : {}),
    }, ...(STATUS_RESOURCES.has(r.resource) ? [{name: `${r.resource}/status`, singularName: ``, namespaced: r.namespaced, kind: r.kind, verbs: [`get`, `patch`, `update`]}] : [])]),
  };
}

/** `/openapi/v3`: one path entry per served group/version. */
export function openApiRoot() {
  const paths: Record<string, {serverRelativeURL: string}> = {};
  for (const gv of groupVersions()) {
    const p = gv.group === `` ? `api/${gv.version}` : `apis/${gv.group}/${gv.version}`;
    paths[p] = {serverRelativeURL: `/openapi/v3/${p}?hash=EMULATOR${gv.group.length}${gv.version}`};
  }
  return {paths};
}

/**
 * `/openapi/v3/api/v1` etc.: enough for kubectl to know each kind exists and that the server
 * supports `fieldValidation` (so it validates server-side). Schemas are left open.
 */
export function openApiGroupVersion(p: string) {
  const gv = groupVersions().find(g => (g.group === `` ? `api/${g.version}` : `apis/${g.group}/${g.version}`) === p);
  if (!gv)
    return undefined;
  const paths: Record<string, unknown> = {};
  const schemas: Record<string, unknown> = {};
  for (const r of RESOURCES.filter(x => x.group === gv.group && x.version === gv.version)) {
    const prefix = `/${p}${r.namespaced ? `/namespaces/{namespace}` : ``}/${r.resource}`;
    const gvk = {group: r.group, version: r.version, kind: r.kind};
    const params = [{name: `fieldValidation`, in: `query`, schema: {type: `string`, uniqueItems: true}}, {name: `dryRun`, in: `query`, schema: {type: `string`, uniqueItems: true}}, {name: `fieldManager`, in: `query`, schema: {type: `string`, uniqueItems: true}}];
    paths[prefix] = {post: {'x-kubernetes-group-version-kind': gvk, 'x-kubernetes-action': `post`, parameters: params}};
    paths[`${prefix}/{name}`] = {
      get: {'x-kubernetes-group-version-kind': gvk, 'x-kubernetes-action': `get`},
      put: {'x-kubernetes-group-version-kind': gvk, 'x-kubernetes-action': `put`, parameters: params},
      patch: {'x-kubernetes-group-version-kind': gvk, 'x-kubernetes-action': `patch`, parameters: params},
    };
    const schemaName = `io.k8s.api.${r.group === `` ? `core` : r.group.split(`.`)[0]}.${r.version}.${r.kind}`;
    schemas[schemaName] = {type: `object`, 'x-kubernetes-group-version-kind': [gvk], additionalProperties: true};
  }
  return {openapi: `3.0.0`, info: {title: `Kubernetes`, version: VERSION_INFO.gitVersion}, paths, components: {schemas}};
}
