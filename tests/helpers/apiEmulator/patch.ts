/**
 * The three patch types the API server accepts for built-in kinds:
 * JSON merge patch (RFC 7386), JSON patch (RFC 6902, incl. `test`) and strategic merge patch
 * with the merge keys of the fields the product touches (from the Go struct tags in k8s.io/api):
 * PodSpec `containers`/`initContainers`/`ephemeralContainers`/`volumes`/`imagePullSecrets` by `name`,
 * Container `env` by `name`, `ports` by `containerPort`, `volumeMounts` by `mountPath`;
 * ServiceAccount `secrets` by `name`; ServiceAccount `imagePullSecrets` is atomic (no patchStrategy).
 * Directives: `$patch: replace|delete|merge`, `$setElementOrder/<list>`, `$retainKeys`,
 * `$deleteFromPrimitiveList/<list>`.
 */

export class PatchError extends Error {}

const isObject = (v: unknown): v is Record<string, any> => typeof v === `object` && v !== null && !Array.isArray(v);

/** Deep equality over JSON values. */
export function jsonEqual(a: unknown, b: unknown): boolean {
  if (a === b)
    return true;
  if (Array.isArray(a) && Array.isArray(b))
    return a.length === b.length && a.every((x, i) => jsonEqual(x, b[i]));
  if (isObject(a) && isObject(b)) {
    const ka = Object.keys(a);
    const kb = Object.keys(b);
    return ka.length === kb.length && ka.every(k => Object.prototype.hasOwnProperty.call(b, k) && jsonEqual(a[k], b[k]));
  }
  return false;
}

const clone = <T>(v: T): T => (v === undefined ? v : structuredClone(v));

// ---------------------------------------------------------------- RFC 7386

/** JSON merge patch: objects merge recursively, `null` deletes, everything else (lists too) replaces. */
export function applyMergePatch(target: unknown, patch: unknown): unknown {
  if (!isObject(patch))
    return clone(patch);
  const out: Record<string, any> = isObject(target) ? {...target} : {};
  for (const [k, v] of Object.entries(patch)) {
    if (v === null)
      delete out[k];
    else
      out[k] = applyMergePatch(out[k], v);
  }
  return out;
}

// ---------------------------------------------------------------- RFC 6902

type Op = {op: string; path: string; value?: unknown; from?: string};

function parsePointer(pointer: string): string[] {
  if (pointer === ``)
    return [];
  if (!pointer.startsWith(`/`))
    throw new PatchError(`JSON pointer must start with "/": ${JSON.stringify(pointer)}`);
  return pointer.slice(1).split(`/`).map(s => s.replace(/~1/g, `/`).replace(/~0/g, `~`));
}

function arrayIndex(token: string, length: number, forInsert: boolean, path: string): number {
  if (token === `-` && forInsert)
    return length;
  if (!/^(0|[1-9][0-9]*)$/.test(token))
    throw new PatchError(`Unable to access invalid index: ${token}`);
  const i = Number(token);
  if (forInsert ? i > length : i >= length)
    throw new PatchError(`Unable to access invalid index: ${i}`);
  return i;
}

/** Resolves the parent container of `path`; throws with the evanphx/json-patch wording when missing. */
function parentOf(doc: any, tokens: string[], path: string): {parent: any; key: string} {
  let cur = doc;
  for (const t of tokens.slice(0, -1)) {
    if (Array.isArray(cur)) {
      if (!/^(0|[1-9][0-9]*)$/.test(t) || Number(t) >= cur.length)
        throw new PatchError(`doc is missing path: ${JSON.stringify(path)}: missing value`);
      cur = cur[Number(t)];
    } else if (isObject(cur) && Object.prototype.hasOwnProperty.call(cur, t)) {
      cur = cur[t];
    } else {
      throw new PatchError(`doc is missing path: ${JSON.stringify(path)}: missing value`);
    }
  }
  if (!Array.isArray(cur) && !isObject(cur))
    throw new PatchError(`doc is missing path: ${JSON.stringify(path)}: missing value`);
  return {parent: cur, key: tokens[tokens.length - 1]!};
}

function getAt(doc: any, path: string): unknown {
  const tokens = parsePointer(path);
  if (tokens.length === 0)
    return doc;
  const {parent, key} = parentOf(doc, tokens, path);
  if (Array.isArray(parent)) {
    const i = arrayIndex(key, parent.length, false, path);
    return parent[i];
  }
  if (!Object.prototype.hasOwnProperty.call(parent, key))
    return undefined;
  return parent[key];
}

function addAt(doc: any, path: string, value: unknown): any {
  const tokens = parsePointer(path);
  if (tokens.length === 0)
    return clone(value);
  const {parent, key} = parentOf(doc, tokens, path);
  if (Array.isArray(parent)) {
    const i = arrayIndex(key, parent.length, true, path);
    parent.splice(i, 0, clone(value));
  } else {
    parent[key] = clone(value);
  }
  return doc;
}

function removeAt(doc: any, path: string, opName = `remove`): unknown {
  const tokens = parsePointer(path);
  const {parent, key} = parentOf(doc, tokens, path);
  if (Array.isArray(parent)) {
    const i = arrayIndex(key, parent.length, false, path);
    return parent.splice(i, 1)[0];
  }
  if (!Object.prototype.hasOwnProperty.call(parent, key))
    throw new PatchError(`Unable to ${opName} nonexistent key: ${key}: missing value`);
  const old = parent[key];
  delete parent[key];
  return old;
}

/** Applies an RFC 6902 patch to a copy of `doc`; a failing `test` or a missing path throws PatchError. */
export function applyJsonPatch(doc: unknown, ops: unknown): unknown {
  if (!Array.isArray(ops))
    throw new PatchError(`json: cannot unmarshal object into Go value of type jsonpatch.Patch`);
  let out: any = clone(doc);
  for (const raw of ops as Op[]) {
    if (!isObject(raw) || typeof raw.op !== `string`)
      throw new PatchError(`Unexpected kind: unknown`);
    const path = raw.path;
    if (typeof path !== `string`)
      throw new PatchError(`${raw.op} operation missing path`);
    switch (raw.op) {
      case `add`:
        if (!(`value` in raw)) throw new PatchError(`add operation missing value`);
        out = addAt(out, path, raw.value);
        break;
      case `remove`:
        removeAt(out, path);
        break;
      case `replace`: {
        if (!(`value` in raw)) throw new PatchError(`replace operation missing value`);
        const tokens = parsePointer(path);
        if (tokens.length === 0) {
          out = clone(raw.value);
          break;
        }
        const {parent, key} = parentOf(out, tokens, path);
        if (Array.isArray(parent)) {
          const i = arrayIndex(key, parent.length, false, path);
          parent[i] = clone(raw.value);
        } else {
          if (!Object.prototype.hasOwnProperty.call(parent, key))
            throw new PatchError(`replace operation does not apply: doc is missing key: ${path}: missing value`);
          parent[key] = clone(raw.value);
        }
        break;
      }
      case `move`: {
        if (typeof raw.from !== `string`) throw new PatchError(`move operation missing from`);
        const value = removeAt(out, raw.from, `move`);
        out = addAt(out, path, value);
        break;
      }
      case `copy`: {
        if (typeof raw.from !== `string`) throw new PatchError(`copy operation missing from`);
        const value = getAt(out, raw.from);
        if (value === undefined) throw new PatchError(`copy operation does not apply: doc is missing from path: ${raw.from}: missing value`);
        out = addAt(out, path, value);
        break;
      }
      case `test`: {
        let actual: unknown;
        try {
          actual = getAt(out, path);
        } catch {
          actual = undefined;
        }
        const expected = raw.value === undefined ? null : raw.value;
        if (actual === undefined ? expected !== null : !jsonEqual(actual, expected))
          throw new PatchError(`testing value ${path} failed: test failed`);
        break;
      }
      default:
        throw new PatchError(`Unexpected kind: ${raw.op}`);
    }
  }
  return out;
}

// ---------------------------------------------------------------- strategic merge patch

/** What SMP needs to know about one field: a nested struct, or a list and how it merges. */
type Schema = {
  fields?: Record<string, Schema>;
  list?: {strategy: `merge` | `atomic`; mergeKey?: string; item?: Schema};
};

const mergeList = (mergeKey: string | undefined, item?: Schema): Schema => ({list: {strategy: `merge`, mergeKey, item}});

const CONTAINER: Schema = {fields: {
  env: mergeList(`name`),
  ports: mergeList(`containerPort`),
  volumeMounts: mergeList(`mountPath`),
  volumeDevices: mergeList(`devicePath`),
}};
const OBJECT_META: Schema = {fields: {finalizers: mergeList(undefined), ownerReferences: mergeList(`uid`)}};
const POD_SPEC: Schema = {fields: {
  containers: mergeList(`name`, CONTAINER),
  initContainers: mergeList(`name`, CONTAINER),
  ephemeralContainers: mergeList(`name`, CONTAINER),
  volumes: mergeList(`name`),
  imagePullSecrets: mergeList(`name`),
  hostAliases: mergeList(`ip`),
}};
const POD_TEMPLATE: Schema = {fields: {metadata: OBJECT_META, spec: POD_SPEC}};
const WORKLOAD: Schema = {fields: {metadata: OBJECT_META, spec: {fields: {template: POD_TEMPLATE}}}};

/** SMP schemas per kind (kinds not listed merge maps and replace lists). */
export const SMP_SCHEMAS: Record<string, Schema> = {
  Pod: {fields: {metadata: OBJECT_META, spec: POD_SPEC}},
  // ServiceAccount.imagePullSecrets has no patchStrategy: it is replaced as a whole (docs/testing.md D.2).
  ServiceAccount: {fields: {metadata: OBJECT_META, secrets: mergeList(`name`)}},
  Deployment: WORKLOAD,
  StatefulSet: WORKLOAD,
  DaemonSet: WORKLOAD,
  ReplicaSet: WORKLOAD,
  ReplicationController: WORKLOAD,
  Job: WORKLOAD,
  CronJob: {fields: {metadata: OBJECT_META, spec: {fields: {jobTemplate: {fields: {metadata: OBJECT_META, spec: {fields: {template: POD_TEMPLATE}}}}}}}},
  Secret: {fields: {metadata: OBJECT_META}},
  Namespace: {fields: {metadata: OBJECT_META}},
  Event: {fields: {metadata: OBJECT_META}},
};

/** Applies a strategic merge patch for an object of `kind`. */
export function applyStrategicMergePatch(original: unknown, patch: unknown, kind: string): unknown {
  if (!isObject(patch))
    throw new PatchError(`unable to find api field in struct ${kind} for the json field "${String(patch)}"`);
  return mergeMap(isObject(original) ? original : {}, patch, SMP_SCHEMAS[kind] ?? {});
}

function mergeMap(original: Record<string, any>, patch: Record<string, any>, schema: Schema): Record<string, any> | undefined {
  const directive = patch[`$patch`];
  if (directive === `replace`) {
    const {$patch, ...rest} = patch;
    return stripDirectives(rest);
  }
  if (directive === `delete`)
    return undefined;
  if (directive !== undefined && directive !== `merge`)
    throw new PatchError(`Unknown patch type: ${String(directive)} in map: ${JSON.stringify(patch)}`);

  const out: Record<string, any> = {...original};
  const retainKeys: string[] | undefined = patch[`$retainKeys`];
  for (const [key, value] of Object.entries(patch)) {
    if (key === `$patch` || key === `$retainKeys` || key.startsWith(`$setElementOrder/`) || key.startsWith(`$deleteFromPrimitiveList/`))
      continue;
    const fieldSchema = schema.fields?.[key] ?? {};
    if (value === null) {
      delete out[key];
    } else if (isObject(value) && isObject(out[key])) {
      const merged = mergeMap(out[key], value, fieldSchema);
      if (merged === undefined) delete out[key];
      else out[key] = merged;
    } else if (Array.isArray(value) && fieldSchema.list?.strategy === `merge`) {
      const order = patch[`$setElementOrder/${key}`];
      out[key] = mergeListValues(Array.isArray(out[key]) ? out[key] : [], value, fieldSchema.list, Array.isArray(order) ? order : undefined);
    } else {
      out[key] = stripDirectives(clone(value));
    }
  }
  for (const [key, value] of Object.entries(patch)) {
    if (!key.startsWith(`$deleteFromPrimitiveList/`))
      continue;
    const field = key.slice(`$deleteFromPrimitiveList/`.length);
    if (Array.isArray(out[field]) && Array.isArray(value))
      out[field] = out[field].filter((x: unknown) => !value.some(v => jsonEqual(v, x)));
  }
  for (const [key, value] of Object.entries(patch)) {
    if (!key.startsWith(`$setElementOrder/`) || !Array.isArray(value))
      continue;
    const field = key.slice(`$setElementOrder/`.length);
    if (Object.prototype.hasOwnProperty.call(patch, field) || !Array.isArray(out[field]))
      continue;
    const list = schema.fields?.[field]?.list;
    if (list?.strategy === `merge`)
      out[field] = mergeListValues(out[field], [], list, value);
  }
  if (Array.isArray(retainKeys)) {
    for (const key of Object.keys(out)) {
      if (!retainKeys.includes(key))
        delete out[key];
    }
  }
  return out;
}

function stripDirectives(value: any): any {
  if (Array.isArray(value))
    return value.filter(v => !(isObject(v) && v.$patch !== undefined && Object.keys(v).length === 1)).map(stripDirectives);
  if (isObject(value)) {
    const out: Record<string, any> = {};
    for (const [k, v] of Object.entries(value)) {
      if (!k.startsWith(`$`))
        out[k] = stripDirectives(v);
    }
    return out;
  }
  return value;
}

function mergeListValues(original: any[], patch: any[], list: NonNullable<Schema[`list`]>, order: any[] | undefined): any[] {
  const key = list.mergeKey;
  if (patch.some(p => isObject(p) && p.$patch === `replace`))
    return stripDirectives(patch.filter(p => !(isObject(p) && p.$patch === `replace`)));

  // Primitive merge lists (e.g. finalizers) are keyed by the value itself.
  const keyOf = (v: any) => (key !== undefined && isObject(v) ? JSON.stringify(v[key]) : JSON.stringify(v));
  const deleted = new Set(patch.filter(p => isObject(p) && p.$patch === `delete`).map(keyOf));
  const server = original.filter(v => !deleted.has(keyOf(v)));
  const serverIndex = new Map(server.map((v, i) => [keyOf(v), i]));

  // Patch items merged with their server counterparts, in patch (or $setElementOrder) order.
  const patched = new Map<string, any>();
  for (const p of patch) {
    if (isObject(p) && p.$patch === `delete`)
      continue;
    if (key !== undefined && isObject(p) && !(key in p))
      throw new PatchError(`map: ${JSON.stringify(p)} does not contain declared merge key: ${key}`);
    const k = keyOf(p);
    const base = patched.get(k) ?? server[serverIndex.get(k) ?? -1];
    patched.set(k, isObject(p) && isObject(base) ? mergeMap(base, p, list.item ?? {}) : stripDirectives(clone(p)));
  }
  let right: any[];
  if (order) {
    const orderKeys = order.map(keyOf);
    const rank = new Map(orderKeys.map((k, i) => [k, i]));
    for (const k of orderKeys) {
      if (!patched.has(k) && serverIndex.has(k))
        patched.set(k, server[serverIndex.get(k)!]);
    }
    right = [...patched.entries()].sort((a, b) => (rank.get(a[0]) ?? Infinity) - (rank.get(b[0]) ?? Infinity)).map(e => e[1]);
  } else {
    right = [...patched.values()];
  }
  const rightKeys = new Set([...patched.keys()]);
  const left = server.filter(v => !rightKeys.has(keyOf(v)));
  // Interleave server-only items by their server position (new patch items go first), like apimachinery's mergeSortedSlice.
  const out: any[] = [];
  let i = 0;
  let j = 0;
  while (i < left.length && j < right.length) {
    const li = serverIndex.get(keyOf(left[i]))!;
    const ri = serverIndex.get(keyOf(right[j])) ?? -1;
    if (ri !== -1 && li < ri)
      out.push(left[i++]);
    else
      out.push(right[j++]);
  }
  return [...out, ...right.slice(j), ...left.slice(i)].filter(v => v !== undefined);
}
