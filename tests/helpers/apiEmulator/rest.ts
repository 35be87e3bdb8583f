/**
 * REST semantics on top of the store: create / get / list / update / patch / delete with
 * uid, creationTimestamp, generation, resourceVersion preconditions (409 Conflict),
 * AlreadyExists, NotFound (also for a missing namespace), dry-run, managedFields,
 * namespace lifecycle (default ServiceAccount, cascade delete) and SelfSubjectAccessReview.
 */
import crypto from 'node:crypto';
import {Store} from './store.ts';
import {apiVersionOf, resourceByName, type ResourceDef} from './discovery.ts';
import {errors} from './status.ts';
import {admitPod, applyDefaults, validate} from './admission.ts';
import {applyJsonPatch, applyMergePatch, applyStrategicMergePatch, jsonEqual, PatchError} from './patch.ts';
import {parseFieldSelector, parseLabelSelector} from './selectors.ts';
import type {Authorizer, User} from './rbac.ts';

export type WriteOptions = {dryRun?: boolean; fieldManager?: string; userAgent?: string};

export type ListParams = {labelSelector?: string; fieldSelector?: string; limit?: number; continue?: string};

export type PatchKind = `json` | `merge` | `strategic`;

const NAMESPACED_RESOURCES = [`secrets`, `serviceaccounts`, `pods`, `events`, `replicationcontrollers`, `deployments`, `statefulsets`, `daemonsets`, `replicasets`, `jobs`, `cronjobs`];

function timestamp(date: Date): string {
  return date.toISOString().replace(/\.\d{3}Z$/, `Z`);
}

/** `{"f:data":{".":{},"f:key":{}}}`-style field sets, close enough to what the real server records. */
function fieldSet(value: any, top: boolean): any {
  const out: any = {};
  for (const [k, v] of Object.entries(value ?? {})) {
    if (top && (k === `apiVersion` || k === `kind` || k === `status`))
      continue;
    if (top && k === `metadata`) {
      const meta: any = {};
      for (const mk of [`labels`, `annotations`]) {
        if ((v as any)?.[mk])
          meta[`f:${mk}`] = {'.': {}, ...Object.fromEntries(Object.keys((v as any)[mk]).map(x => [`f:${x}`, {}]))};
      }
      if (Object.keys(meta).length > 0)
        out[`f:metadata`] = meta;
      continue;
    }
    if (v !== null && typeof v === `object` && !Array.isArray(v)) {
      const inner = fieldSet(v, false);
      out[`f:${k}`] = [`data`, `stringData`, `labels`, `annotations`, `matchLabels`, `binaryData`, `nodeSelector`].includes(k) ? {'.': {}, ...inner} : inner;
    } else {
      out[`f:${k}`] = {};
    }
  }
  return out;
}

/** The API's behaviour, independent of HTTP. */
export class Rest {
  readonly store: Store;
  private readonly authorizer: Authorizer;
  private readonly now: () => Date;

  constructor(store: Store, authorizer: Authorizer, now: () => Date = () => new Date()) {
    this.store = store;
    this.authorizer = authorizer;
    this.now = now;
  }

  private recordManager(obj: any, old: any | undefined, opts: WriteOptions): void {
    const manager = opts.fieldManager ?? opts.userAgent?.split(`/`)[0] ?? `unknown`;
    const apiVersion = obj.apiVersion;
    const entries = (old?.metadata?.managedFields ?? obj.metadata.managedFields ?? []).filter((e: any) => !(e.manager === manager && e.operation === `Update`));
    entries.push({manager, operation: `Update`, apiVersion, time: timestamp(this.now()), fieldsType: `FieldsV1`, fieldsV1: fieldSet(obj, true)});
    obj.metadata.managedFields = entries;
  }

  private requireNamespace(def: ResourceDef, namespace: string | undefined): void {
    if (!def.namespaced)
      return;
    if (!namespace)
      throw errors.badRequest(`the server could not find the requested resource`);
    if (!this.store.get(`namespaces`, undefined, namespace))
      throw errors.notFound(`namespaces`, ``, namespace);
  }

  /** GET one object (the stored object; do not mutate). */
  get(def: ResourceDef, namespace: string | undefined, name: string): any {
    const obj = this.store.get(def.resource, def.namespaced ? namespace : undefined, name);
    if (!obj)
      throw errors.notFound(def.resource, def.group, name);
    return obj;
  }

  /** One page of a list, as the List object the server returns. */
  list(def: ResourceDef, namespace: string | undefined, params: ListParams): any {
    const labelMatch = params.labelSelector ? parseLabelSelector(params.labelSelector) : undefined;
    const field = params.fieldSelector ? parseFieldSelector(def.resource, params.fieldSelector) : undefined;
    const matches = labelMatch && field ? (o: any) => labelMatch(o) && field.matches(o) : labelMatch ?? field?.matches;
    let startAfter: string | undefined;
    let listRv = this.store.currentResourceVersion();
    if (params.continue) {
      const token = decodeContinue(params.continue);
      if (token.rv < this.compactedRv)
        throw errors.gone(`The provided continue parameter is too old to display a consistent list result. You can start a new list without the continue parameter, or use the continue token in this response to retrieve the remainder of the results. Continuing with the provided token results in an inconsistent list - objects that were created, modified, or deleted between the time the first chunk was returned and now may show up in the list.`);
      startAfter = token.start;
      listRv = String(token.rv);
    }
    const ns = def.namespaced ? namespace ?? field?.namespace : undefined;
    const page = this.store.list(def.resource, {
      namespace: ns,
      name: field?.name,
      matches,
      limit: params.limit,
      startAfter,
    });
    const metadata: any = {resourceVersion: listRv};
    if (page.nextStartAfter !== undefined) {
      metadata.continue = encodeContinue(Number(listRv), page.nextStartAfter);
      if (page.remainingItemCount !== undefined)
        metadata.remainingItemCount = page.remainingItemCount;
    }
    return {
      kind: `${def.kind}List`,
      apiVersion: apiVersionOf(def),
      metadata,
      // Stored objects, not copies: serialize with `listJson`, which drops each item's apiVersion/kind.
      items: page.items,
    };
  }

  /** POST. */
  create(def: ResourceDef, namespace: string | undefined, body: any, opts: WriteOptions & {user?: User; lenientServiceAccount?: boolean} = {}): any {
    if (def.resource === `selfsubjectaccessreviews`)
      return this.selfSubjectAccessReview(body, opts.user);
    if (def.resource === `selfsubjectrulesreviews`)
      return this.selfSubjectRulesReview(body, opts.user);
    if (def.resource === `selfsubjectreviews`)
      return {kind: `SelfSubjectReview`, apiVersion: `authentication.k8s.io/v1`, metadata: {creationTimestamp: null}, status: {userInfo: {username: opts.user?.name ?? ``, groups: opts.user?.groups ?? []}}};
    if (!body || typeof body !== `object` || Array.isArray(body))
      throw errors.badRequest(`Object 'Kind' is missing in '${JSON.stringify(body)}'`);
    const obj: any = structuredClone(body);
    obj.apiVersion = apiVersionOf(def);
    obj.kind = def.kind;
    obj.metadata = {...obj.metadata};
    if (def.namespaced) {
      if (obj.metadata.namespace && namespace && obj.metadata.namespace !== namespace)
        throw errors.badRequest(`the namespace of the provided object does not match the namespace sent on the request`);
      obj.metadata.namespace = namespace;
    } else {
      delete obj.metadata.namespace;
    }
    const generatedName = !obj.metadata.name && !!obj.metadata.generateName;
    if (generatedName)
      obj.metadata.name = `${obj.metadata.generateName}${randomSuffix()}`;
    for (const k of [`uid`, `resourceVersion`, `creationTimestamp`, `deletionTimestamp`, `generation`, `selfLink`, `managedFields`])
      delete obj.metadata[k];
    // The real order: defaulting at decode, mutating admission (NamespaceLifecycle, ServiceAccount),
    // validation (422), then the storage's AlreadyExists.
    applyDefaults(def, obj);
    this.requireNamespace(def, namespace);
    if (def.resource === `pods` && obj.metadata.name)
      admitPod(obj, (ns, name) => this.store.get(`serviceaccounts`, ns, name), {rejectMissing: !opts.lenientServiceAccount, generatedName});
    validate(def, obj);
    if (this.store.get(def.resource, obj.metadata.namespace, obj.metadata.name))
      throw errors.alreadyExists(def.resource, def.group, obj.metadata.name);
    obj.metadata.uid = crypto.randomUUID();
    obj.metadata.creationTimestamp = timestamp(this.now());
    if (def.hasGeneration)
      obj.metadata.generation = 1;
    this.recordManager(obj, undefined, opts);
    if (opts.dryRun)
      return orderObject(obj);
    obj.metadata.resourceVersion = this.store.nextResourceVersion();
    const stored = orderObject(obj);
    this.store.put(def.resource, stored);
    if (def.resource === `namespaces`)
      this.createDefaultServiceAccount(obj.metadata.name);
    return stored;
  }

  private createDefaultServiceAccount(namespace: string): void {
    if (this.store.get(`serviceaccounts`, namespace, `default`))
      return;
    const sa = {apiVersion: `v1`, kind: `ServiceAccount`, metadata: {name: `default`, namespace}};
    this.create(resourceByName(`serviceaccounts`), namespace, sa, {fieldManager: `kube-controller-manager`});
  }

  /** PUT. */
  update(def: ResourceDef, namespace: string | undefined, name: string, body: any, opts: WriteOptions = {}): any {
    checkPutBody(body, name);
    const old = this.get(def, namespace, name);
    return this.replaceWith(def, old, body, opts);
  }

  private replaceWith(def: ResourceDef, old: any, body: any, opts: WriteOptions): any {
    const name = old.metadata.name;
    const rv = body.metadata?.resourceVersion;
    if (rv !== undefined && rv !== `` && rv !== old.metadata.resourceVersion)
      throw errors.conflict(def.resource, def.group, name);
    if (body.metadata?.uid !== undefined && body.metadata.uid !== `` && body.metadata.uid !== old.metadata.uid)
      throw errors.conflict(def.resource, def.group, name, `Precondition failed: UID in precondition: ${body.metadata.uid}, UID in object meta: ${old.metadata.uid}`);
    const obj: any = structuredClone(body);
    obj.apiVersion = apiVersionOf(def);
    obj.kind = def.kind;
    obj.metadata = {...obj.metadata, name, uid: old.metadata.uid, creationTimestamp: old.metadata.creationTimestamp};
    if (def.namespaced)
      obj.metadata.namespace = old.metadata.namespace;
    else
      delete obj.metadata.namespace;
    delete obj.metadata.resourceVersion;
    if (obj.metadata.managedFields === undefined && old.metadata.managedFields)
      obj.metadata.managedFields = old.metadata.managedFields;
    // Status is owned by the status subresource: a main-resource write keeps the old status.
    if (old.status !== undefined && def.resource !== `events`)
      obj.status = old.status;
    applyDefaults(def, obj);
    if (def.hasGeneration)
      obj.metadata.generation = jsonEqual(old.spec, obj.spec) ? old.metadata.generation : (old.metadata.generation ?? 0) + 1;
    validate(def, obj, old);
    const {managedFields: _a, resourceVersion: _b, ...oldMeta} = old.metadata;
    const {managedFields: _c, ...newMeta} = obj.metadata;
    if (jsonEqual({...old, metadata: oldMeta}, {...obj, metadata: newMeta}))
      return old; // a no-op write does not bump resourceVersion (kubectl prints "(no change)")
    this.recordManager(obj, old, opts);
    if (opts.dryRun)
      return orderObject({...obj, metadata: {...obj.metadata, resourceVersion: old.metadata.resourceVersion}});
    obj.metadata.resourceVersion = this.store.nextResourceVersion();
    const stored = orderObject(obj);
    this.store.put(def.resource, stored);
    return stored;
  }

  /** PATCH with one of the three patch types. */
  patch(def: ResourceDef, namespace: string | undefined, name: string, kind: PatchKind, patch: unknown, opts: WriteOptions = {}): any {
    const old = this.get(def, namespace, name);
    const current = structuredClone(old);
    let patched: any;
    try {
      if (kind === `json`)
        patched = applyJsonPatch(current, patch);
      else if (kind === `merge`)
        patched = applyMergePatch(current, patch);
      else
        patched = applyStrategicMergePatch(current, patch, def.kind);
    } catch (e) {
      if (e instanceof PatchError) {
        if (kind === `json`)
          throw errors.unprocessable(`the server rejected our request due to an error in our request`);
        throw errors.badRequest(e.message);
      }
      throw e;
    }
    if (!patched || typeof patched !== `object` || Array.isArray(patched))
      throw errors.badRequest(`the patch produced a ${Array.isArray(patched) ? `list` : typeof patched}, not an object`);
    if (patched.metadata?.name !== name)
      throw errors.badRequest(`the name of the object (${patched.metadata?.name}) does not match the name on the URL (${name})`);
    return this.replaceWith(def, old, patched, opts);
  }

  /** PUT on the `status` subresource: only `.status` of the body is kept (spec and metadata stay as stored). */
  updateStatus(def: ResourceDef, namespace: string | undefined, name: string, body: any, opts: WriteOptions = {}): any {
    checkPutBody(body, name);
    const old = this.get(def, namespace, name);
    const rv = body.metadata?.resourceVersion;
    if (rv !== undefined && rv !== `` && rv !== old.metadata.resourceVersion)
      throw errors.conflict(def.resource, def.group, name);
    return this.writeStatus(def, old, body.status, opts);
  }

  /** PATCH on the `status` subresource: the patch applies to the whole object, then only `.status` is kept. */
  patchStatus(def: ResourceDef, namespace: string | undefined, name: string, kind: PatchKind, patch: unknown, opts: WriteOptions = {}): any {
    const old = this.get(def, namespace, name);
    let patched: any;
    try {
      const current = structuredClone(old);
      patched = kind === `json` ? applyJsonPatch(current, patch) : kind === `merge` ? applyMergePatch(current, patch) : applyStrategicMergePatch(current, patch, def.kind);
    } catch (e) {
      if (e instanceof PatchError)
        throw kind === `json` ? errors.unprocessable(`the server rejected our request due to an error in our request`) : errors.badRequest(e.message);
      throw e;
    }
    const rv = patched?.metadata?.resourceVersion;
    if (rv !== undefined && rv !== `` && rv !== old.metadata.resourceVersion)
      throw errors.conflict(def.resource, def.group, name);
    return this.writeStatus(def, old, patched?.status, opts);
  }

  private writeStatus(def: ResourceDef, old: any, status: any, opts: WriteOptions): any {
    if (jsonEqual(old.status, status))
      return old;
    const obj: any = {...old, metadata: {...old.metadata}, status: structuredClone(status)};
    if (obj.status === undefined)
      delete obj.status;
    this.recordManager(obj, old, opts);
    if (opts.dryRun)
      return obj;
    obj.metadata.resourceVersion = this.store.nextResourceVersion();
    this.store.put(def.resource, obj);
    return obj;
  }

  /** The `binding` subresource (what the scheduler writes): sets `spec.nodeName` of an unscheduled pod. */
  bindPod(namespace: string, name: string, nodeName: string): any {
    const def = resourceByName(`pods`);
    const old = this.get(def, namespace, name);
    if (old.spec?.nodeName)
      throw errors.conflict(`pods`, ``, name, `pod ${name} is already assigned to node "${old.spec.nodeName}"`);
    const obj: any = {...old, metadata: {...old.metadata, resourceVersion: this.store.nextResourceVersion()}, spec: {...old.spec, nodeName}};
    this.store.put(`pods`, obj);
    return obj;
  }

  /** DELETE one object; returns what the server returns (the object for pods/namespaces, else a Success Status). */
  delete(def: ResourceDef, namespace: string | undefined, name: string, opts: {dryRun?: boolean; preconditionResourceVersion?: string; preconditionUid?: string; propagationPolicy?: string} = {}): any {
    const old = this.get(def, namespace, name);
    if (opts.preconditionResourceVersion && opts.preconditionResourceVersion !== old.metadata.resourceVersion)
      throw errors.conflict(def.resource, def.group, name, `Precondition failed: ResourceVersion in precondition: ${opts.preconditionResourceVersion}, ResourceVersion in object meta: ${old.metadata.resourceVersion}`);
    if (opts.preconditionUid && opts.preconditionUid !== old.metadata.uid)
      throw errors.conflict(def.resource, def.group, name, `Precondition failed: UID in precondition: ${opts.preconditionUid}, UID in object meta: ${old.metadata.uid}`);
    if (!opts.dryRun) {
      this.store.remove(def.resource, def.namespaced ? namespace : undefined, name);
      // The garbage collector's background cascade, done at once: dependents (by ownerReferences uid) go too.
      if (def.namespaced && opts.propagationPolicy !== `Orphan`)
        this.collectDependents(old.metadata.namespace, old.metadata.uid);
      if (def.resource === `namespaces`) {
        for (const r of NAMESPACED_RESOURCES) {
          for (const o of this.store.all(r, name))
            this.store.remove(r, name, o.metadata.name);
        }
      }
    }
    if (def.resource === `namespaces`)
      return {...old, status: {phase: `Terminating`}, metadata: {...old.metadata, deletionTimestamp: timestamp(this.now())}};
    if (def.resource === `pods`)
      return {...old, metadata: {...old.metadata, deletionTimestamp: timestamp(this.now()), deletionGracePeriodSeconds: 0}};
    return {kind: `Status`, apiVersion: `v1`, metadata: {}, status: `Success`, details: {name, ...(def.group ? {group: def.group} : {}), kind: def.resource, uid: old.metadata.uid}};
  }

  private collectDependents(namespace: string, uid: string): void {
    for (const r of NAMESPACED_RESOURCES) {
      for (const o of this.store.all(r, namespace)) {
        if ((o.metadata.ownerReferences ?? []).some((ref: any) => ref.uid === uid)) {
          this.store.remove(r, namespace, o.metadata.name);
          this.collectDependents(namespace, o.metadata.uid);
        }
      }
    }
  }

  /** Makes every continue token issued so far expire (410 Gone), as an etcd compaction does. */
  compact(): void {
    // Tokens carry the list's resourceVersion; taking a fresh one marks every earlier token as compacted.
    this.compactedRv = Number(this.store.nextResourceVersion());
    this.store.compactHistory();
  }

  private compactedRv = 0;

  /** DELETE on a collection. */
  deleteCollection(def: ResourceDef, namespace: string | undefined, params: ListParams, opts: {dryRun?: boolean} = {}): any {
    const list = this.list(def, namespace, {labelSelector: params.labelSelector, fieldSelector: params.fieldSelector});
    for (const item of list.items)
      this.delete(def, item.metadata.namespace, item.metadata.name, opts);
    return listObject(list);
  }

  /** SelfSubjectRulesReview (`kubectl auth can-i --list`): the user's rules that apply in a namespace. */
  selfSubjectRulesReview(body: any, user: User | undefined): any {
    const namespace = body?.spec?.namespace;
    if (!namespace)
      throw errors.invalid(`SelfSubjectRulesReview`, `authorization.k8s.io`, ``, [{field: `spec.namespace`, type: `Required value`, detail: `namespace must be specified`}]);
    const rules = !user ? [] : user.groups.includes(`system:masters`)
      ? [{verbs: [`*`], apiGroups: [`*`], resources: [`*`]}]
      : user.rules.filter(r => r.namespaces === undefined || r.namespaces.includes(namespace)).map(r => ({verbs: r.verbs, apiGroups: r.apiGroups ?? [`*`], resources: r.resources}));
    return {
      kind: `SelfSubjectRulesReview`,
      apiVersion: `authorization.k8s.io/v1`,
      metadata: {creationTimestamp: null},
      spec: {namespace},
      status: {resourceRules: [...rules, {verbs: [`create`], apiGroups: [`authorization.k8s.io`], resources: [`selfsubjectaccessreviews`, `selfsubjectrulesreviews`]}], nonResourceRules: [{verbs: [`get`], nonResourceURLs: [`/api`, `/api/*`, `/apis`, `/apis/*`, `/version`, `/openapi/*`, `/healthz`, `/livez`, `/readyz`]}], incomplete: false},
    };
  }

  /** SelfSubjectAccessReview, answered from the same rules that authorize requests. */
  selfSubjectAccessReview(body: any, user: User | undefined): any {
    const ra = body?.spec?.resourceAttributes;
    const nra = body?.spec?.nonResourceAttributes;
    if (!ra && !nra)
      throw errors.invalid(`SelfSubjectAccessReview`, `authorization.k8s.io`, ``, [{field: `spec.resourceAttributes`, type: `Invalid value`, value: `null`, detail: `exactly one of nonResourceAttributes or resourceAttributes must be specified`}]);
    let allowed = false;
    if (user && ra)
      allowed = this.authorizer.allows(user, {verb: ra.verb ?? ``, group: ra.group ?? ``, resource: ra.resource ?? ``, namespace: ra.namespace, name: ra.name, subresource: ra.subresource});
    if (user && nra)
      allowed = user.groups.includes(`system:masters`) || user.rules.some(r => r.resources.includes(`*`) && (r.verbs.includes(`*`) || r.verbs.includes(nra.verb)) && r.namespaces === undefined);
    return {
      kind: `SelfSubjectAccessReview`,
      apiVersion: `authorization.k8s.io/v1`,
      metadata: {creationTimestamp: null},
      spec: body.spec,
      status: {allowed, ...(allowed && user && this.authorizer.allowReason(user) ? {reason: this.authorizer.allowReason(user)} : {})},
    };
  }
}

/** A PUT body must be an object named as the URL names it. */
function checkPutBody(body: any, name: string): void {
  if (!body || typeof body !== `object` || Array.isArray(body))
    throw errors.badRequest(`Object 'Kind' is missing in '${JSON.stringify(body)}'`);
  if (body.metadata?.name !== undefined && body.metadata.name !== name)
    throw errors.badRequest(`the name of the object (${body.metadata.name}) does not match the name on the URL (${name})`);
}

/** Puts apiVersion, kind, metadata first, like the real server's JSON. */
function orderObject(obj: any): any {
  const {apiVersion, kind, metadata, ...rest} = obj;
  const {name, generateName, namespace, uid, resourceVersion, generation, creationTimestamp, deletionTimestamp, deletionGracePeriodSeconds, labels, annotations, ownerReferences, finalizers, managedFields, ...metaRest} = metadata;
  const meta = dropUndefined({name, generateName, namespace, uid, resourceVersion, generation, creationTimestamp, deletionTimestamp, deletionGracePeriodSeconds, labels, annotations, ownerReferences, finalizers, managedFields, ...metaRest});
  return {kind, apiVersion, metadata: meta, ...rest};
}

function dropUndefined(o: Record<string, unknown>): Record<string, unknown> {
  return Object.fromEntries(Object.entries(o).filter(([, v]) => v !== undefined));
}

function randomSuffix(): string {
  const alphabet = `bcdfghjklmnpqrstvwxz2456789`;
  return Array.from(crypto.randomBytes(5), b => alphabet[b % alphabet.length]).join(``);
}

/** Opaque continue token, shaped like the real server's (base64 of {"v","rv","start"}). */
function encodeContinue(rv: number, lastKey: string): string {
  return Buffer.from(JSON.stringify({v: `meta.k8s.io/v1`, rv, start: `${lastKey}\u0000`})).toString(`base64url`);
}

function decodeContinue(token: string): {rv: number; start: string} {
  try {
    const parsed = JSON.parse(Buffer.from(token, `base64url`).toString(`utf8`));
    if (parsed.v !== `meta.k8s.io/v1` || typeof parsed.start !== `string` || typeof parsed.rv !== `number`)
      throw new Error(`bad token`);
    return {rv: parsed.rv, start: parsed.start.replace(/\u0000$/, ``)};
  } catch {
    throw errors.badRequest(`continue key is not valid: invalid continue token`);
  }
}

const itemJsonCache = new WeakMap<object, string>();

/** One list item as JSON: a typed list's items carry no apiVersion/kind on the real server. Cached per (immutable) stored object. */
function itemJson(obj: any): string {
  let text = itemJsonCache.get(obj);
  if (text === undefined) {
    const {apiVersion, kind, ...rest} = obj;
    text = JSON.stringify(rest);
    itemJsonCache.set(obj, text);
  }
  return text;
}

/** Serializes a List returned by `Rest.list` without re-encoding unchanged objects. */
export function listJson(list: {kind: string; apiVersion: string; metadata: unknown; items: any[]}): string {
  return `{"kind":${JSON.stringify(list.kind)},"apiVersion":${JSON.stringify(list.apiVersion)},"metadata":${JSON.stringify(list.metadata)},"items":[${list.items.map(itemJson).join(`,`)}]}`;
}

/** A List as plain data (items without apiVersion/kind), for callers that need objects rather than JSON. */
export function listObject(list: {kind: string; apiVersion: string; metadata: unknown; items: any[]}): any {
  return {...list, items: list.items.map(({apiVersion, kind, ...rest}) => rest)};
}
