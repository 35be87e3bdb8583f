/**
 * Pure planning for `sync`, `rotate` and `remove`: how a managed copy looks (provenance label and
 * annotations, content hash), whether an existing secret is a current copy, a stale one, or someone
 * else's, and which copies `--prune` deletes. No I/O here.
 *
 * Copies keep the source's `type` and every `data` key byte for byte: tools that turn copies into
 * `Opaque` break pulls (the kubelet skips an `Opaque` secret: docs/credential-rules.md R1.1).
 */
import type {KubeObject} from '../ports.ts';
import {sha256Hex} from '../sha256.ts';
import {EXPIRES_AT_ANNOTATION, MANAGED_BY_LABEL, MANAGED_BY_VALUE, SOURCE_ANNOTATION} from '../secrets/metadata.ts';
import {compareText} from '../text.ts';

/** Annotation holding `sha256:<hex>` of the copy's type and data, as written by `sync`/`rotate`. */
export const CONTENT_HASH_ANNOTATION = `pullsecret.kubectl.io/content-hash`;

/** Where `kubectl apply` records the last applied object (for a Secret: its data too). */
const LAST_APPLIED_ANNOTATION = `kubectl.kubernetes.io/last-applied-configuration`;

/** `<namespace>/<name>`, the value of the source annotation. */
export function sourceRef(namespace: string, name: string): string {
  return `${namespace}/${name}`;
}

/**
 * `sha256:<hex>` over a canonical encoding of type and data (keys sorted, values as the API's base64),
 * so that the same content always hashes the same whatever the key order the server returns.
 */
export function contentHash(type: string, data: Record<string, string> | undefined): string {
  const entries = Object.keys(data ?? {}).sort().map(key => [key, data![key]]);
  return `sha256:${sha256Hex(JSON.stringify({type, data: entries}))}`;
}

function secretType(secret: KubeObject): string {
  return typeof secret.type === `string` ? secret.type : `Opaque`;
}

function secretData(secret: KubeObject): Record<string, string> {
  return (secret.data as Record<string, string> | undefined) ?? {};
}

/** The content hash of a secret as it is now. */
export function hashOf(secret: KubeObject): string {
  return contentHash(secretType(secret), secretData(secret));
}

/** The body of a managed copy of `source` in `namespace`: same name, type and data; provenance metadata. */
export function buildCopy(source: KubeObject, namespace: string): KubeObject {
  const annotations: Record<string, string> = {
    [SOURCE_ANNOTATION]: sourceRef(source.metadata.namespace ?? ``, source.metadata.name),
    [CONTENT_HASH_ANNOTATION]: hashOf(source),
  };
  // The expiry of an ECR token travels with the data it describes.
  const expiresAt = source.metadata.annotations?.[EXPIRES_AT_ANNOTATION];
  if (expiresAt !== undefined)
    annotations[EXPIRES_AT_ANNOTATION] = expiresAt;
  return {
    apiVersion: `v1`,
    kind: `Secret`,
    metadata: {name: source.metadata.name, namespace, labels: {[MANAGED_BY_LABEL]: MANAGED_BY_VALUE}, annotations},
    type: secretType(source),
    data: {...secretData(source)},
  };
}

/**
 * The update of an existing secret into a current copy: keeps its other labels and annotations and its
 * resourceVersion (so that the PUT fails on a concurrent change), replaces data and provenance.
 */
export function updatedCopy(existing: KubeObject, source: KubeObject): KubeObject {
  const fresh = buildCopy(source, existing.metadata.namespace ?? ``);
  const annotations = {...existing.metadata.annotations, ...fresh.metadata.annotations};
  if (source.metadata.annotations?.[EXPIRES_AT_ANNOTATION] === undefined)
    delete annotations[EXPIRES_AT_ANNOTATION];
  // `kubectl apply` keeps the whole object, data included, in this annotation: left in place it would keep
  // the old credentials readable after a rotation.
  delete annotations[LAST_APPLIED_ANNOTATION];
  return {
    ...existing,
    metadata: {
      ...existing.metadata,
      labels: {...existing.metadata.labels, ...fresh.metadata.labels},
      annotations,
    },
    type: fresh.type,
    data: fresh.data,
  };
}

/** How an existing secret relates to a source. */
export type CopyState =
  /** No secret of that name. */
  | `missing`
  /** A managed copy of this source with the source's content. */
  | `current`
  /** A managed copy of this source whose content (or recorded hash) differs: update it. */
  | `stale`
  /** A managed copy of this source, but of another type (immutable): delete and recreate. */
  | `wrong-type`
  /** Not a copy of this source (made by hand, by another tool, or copied from another source). */
  | `foreign`;

/** True when `secret` carries the provenance of a copy of `source`. */
export function isCopyOf(secret: KubeObject, source: {namespace: string; name: string}): boolean {
  return secret.metadata.labels?.[MANAGED_BY_LABEL] === MANAGED_BY_VALUE
    && secret.metadata.annotations?.[SOURCE_ANNOTATION] === sourceRef(source.namespace, source.name);
}

/** Classifies an existing secret against the source it should copy. */
export function classifyCopy(existing: KubeObject | null, source: KubeObject): CopyState {
  if (existing === null)
    return `missing`;
  if (!isCopyOf(existing, {namespace: source.metadata.namespace ?? ``, name: source.metadata.name}))
    return `foreign`;
  if (secretType(existing) !== secretType(source))
    return `wrong-type`;
  const wanted = hashOf(source);
  // Compare the actual content too: a copy edited by hand keeps a hash annotation that no longer matches.
  if (hashOf(existing) !== wanted || existing.metadata.annotations?.[CONTENT_HASH_ANNOTATION] !== wanted)
    return `stale`;
  return `current`;
}

/** What to do in one target namespace. */
export type CopyAction =
  | {action: `create`; body: KubeObject}
  | {action: `update`; body: KubeObject}
  /** The type is immutable: delete the old secret (guarded by its resourceVersion) and create the copy. */
  | {action: `recreate`; body: KubeObject; previousType: string}
  | {action: `unchanged`}
  /** A foreign secret of that name, left alone (no `--force`). */
  | {action: `conflict`; reason: string};

/** Decides the action for one namespace; `force` takes over foreign secrets. */
export function planCopy(existing: KubeObject | null, source: KubeObject, namespace: string, options: {force: boolean; createMissing?: boolean}): CopyAction | {action: `absent`} {
  const state = classifyCopy(existing, source);
  switch (state) {
    case `missing`:
      return options.createMissing === false ? {action: `absent`} : {action: `create`, body: buildCopy(source, namespace)};
    case `current`:
      return {action: `unchanged`};
    case `stale`:
      return {action: `update`, body: updatedCopy(existing!, source)};
    case `wrong-type`:
      return {action: `recreate`, body: buildCopy(source, namespace), previousType: secretType(existing!)};
    case `foreign`: {
      if (!options.force) {
        const from = existing!.metadata.annotations?.[SOURCE_ANNOTATION];
        const owner = existing!.metadata.labels?.[MANAGED_BY_LABEL] === MANAGED_BY_VALUE && from !== undefined ? `a copy of ${from}` : `not managed by kubectl-pullsecret`;
        return {action: `conflict`, reason: `secret "${existing!.metadata.name}" already exists in namespace "${namespace}" and is ${owner}; pass --force to overwrite it`};
      }
      if (secretType(existing!) !== secretType(source))
        return {action: `recreate`, body: buildCopy(source, namespace), previousType: secretType(existing!)};
      return {action: `update`, body: updatedCopy(existing!, source)};
    }
  }
}

/**
 * The managed copies of `source` that `--prune` deletes: copies whose source annotation names this
 * source, outside the selected namespaces, never in the source namespace, never in ignored namespaces.
 */
export function planPrune(secrets: KubeObject[], source: {namespace: string; name: string}, selected: ReadonlySet<string>, protectedNamespaces: ReadonlySet<string> = new Set()): KubeObject[] {
  return secrets
    .filter(secret => secret.metadata.name === source.name && isCopyOf(secret, source))
    .filter(secret => {
      const namespace = secret.metadata.namespace ?? ``;
      return namespace !== source.namespace && !selected.has(namespace) && !protectedNamespaces.has(namespace);
    })
    .sort((a, b) => compareText(a.metadata.namespace ?? ``, b.metadata.namespace ?? ``));
}
