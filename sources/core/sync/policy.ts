/**
 * The sync policy declared with `sync --keep`: which namespaces get a copy of a source secret, which are
 * left out, which ServiceAccounts each copy is attached to, and whether copies outside the selection are
 * pruned. It is recorded as one annotation on the source secret, so that one-shot `sync` runs and the
 * agent read the same intent. Pure: encodes, decodes (strictly, bounded) and describes; no I/O.
 *
 * The annotation value is compact JSON with a fixed key order (README, "Labels and annotations"):
 *
 *   {"namespaces":"all" | ["a","b"], "namespaceSelector":"team=web", "exclude":["kube-*"],
 *    "attach":"default" | "all" | ["builder"], "prune":true}
 *
 * exactly one of `namespaces` and `namespaceSelector`; `exclude`, `attach` and `prune` only when set.
 */
import type {NamespaceScope} from '../scope.ts';
import type {AttachTargets} from '../attach/attachSecret.ts';
import {SYNC_POLICY_ANNOTATION} from '../secrets/metadata.ts';
import type {KubeObject} from '../ports.ts';

export {SYNC_POLICY_ANNOTATION};

/** A declared sync policy. */
export type SyncPolicy = {
  /** Every namespace, a fixed list, or the namespaces matching a label selector. */
  namespaces: {kind: `all`} | {kind: `list`; names: string[]} | {kind: `selector`; selector: string};
  /** Namespace globs left out (`--exclude-namespaces`). */
  exclude: string[];
  /** ServiceAccounts each copy is attached to (`--attach`), or none. */
  attach: AttachTargets[`serviceAccounts`] | null;
  /** Copies outside the selection are deleted (`--prune`). */
  prune: boolean;
};

/** Longest annotation value accepted when reading (the API allows 256 KiB for all annotations together). */
const MAX_POLICY_LENGTH = 64 * 1024;
const NAME_RE = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/;
const SUBDOMAIN_RE = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$/;

/** The policy for a resolved command-line scope; `current` (`-n NS`, or the context's namespace) becomes a list of that one namespace. */
export function policyFromFlags(scope: NamespaceScope, currentNamespace: string, attach: AttachTargets | null, prune: boolean): SyncPolicy {
  const namespaces: SyncPolicy[`namespaces`] = scope.kind === `current`
    ? {kind: `list`, names: [currentNamespace]}
    : scope.kind === `list` ? {kind: `list`, names: [...new Set(scope.names)]} : scope.kind === `selector` ? {kind: `selector`, selector: scope.selector} : {kind: `all`};
  return {namespaces, exclude: [...scope.exclude], attach: attach === null ? null : attach.serviceAccounts, prune};
}

/** The namespace scope a policy selects, as the fan-out commands resolve it. */
export function scopeOfPolicy(policy: SyncPolicy): NamespaceScope {
  const exclude = [...policy.exclude];
  switch (policy.namespaces.kind) {
    case `all`:
      return {kind: `all`, exclude};
    case `list`:
      return {kind: `list`, names: [...policy.namespaces.names], exclude};
    case `selector`:
      return {kind: `selector`, selector: policy.namespaces.selector, exclude};
  }
}

/** The attach targets a policy names, or null. */
export function attachOfPolicy(policy: SyncPolicy): AttachTargets | null {
  return policy.attach === null ? null : {serviceAccounts: policy.attach};
}

/** The annotation value: compact JSON, keys in a fixed order, optional keys only when set. */
export function encodePolicy(policy: SyncPolicy): string {
  const value: Record<string, unknown> = {};
  if (policy.namespaces.kind === `selector`)
    value.namespaceSelector = policy.namespaces.selector;
  else
    value.namespaces = policy.namespaces.kind === `all` ? `all` : policy.namespaces.names;
  if (policy.exclude.length > 0)
    value.exclude = policy.exclude;
  if (policy.attach !== null)
    value.attach = policy.attach;
  if (policy.prune)
    value.prune = true;
  return JSON.stringify(value);
}

/** Thrown for an annotation that is not a policy this version understands; the message names what is wrong. */
export class PolicyFormatError extends Error {}

function stringList(value: unknown, field: string, check: (item: string) => boolean): string[] {
  if (!Array.isArray(value) || value.length === 0 || !value.every(item => typeof item === `string` && check(item)))
    throw new PolicyFormatError(`"${field}" must be a non-empty list of names`);
  return [...new Set(value as string[])];
}

/** Decodes an annotation value; throws PolicyFormatError naming the first problem (never echoing the whole value). */
export function decodePolicy(text: string): SyncPolicy {
  if (text.length > MAX_POLICY_LENGTH)
    throw new PolicyFormatError(`it is longer than ${MAX_POLICY_LENGTH} characters`);
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch {
    throw new PolicyFormatError(`it is not JSON`);
  }
  if (typeof value !== `object` || value === null || Array.isArray(value))
    throw new PolicyFormatError(`it is not a JSON object`);
  const fields = value as Record<string, unknown>;
  const unknownKey = Object.keys(fields).find(key => ![`namespaces`, `namespaceSelector`, `exclude`, `attach`, `prune`].includes(key));
  if (unknownKey !== undefined)
    throw new PolicyFormatError(`unknown field "${unknownKey.slice(0, 64)}"`);
  let namespaces: SyncPolicy[`namespaces`];
  if (fields.namespaces !== undefined && fields.namespaceSelector !== undefined)
    throw new PolicyFormatError(`"namespaces" and "namespaceSelector" cannot both be set`);
  if (fields.namespaceSelector !== undefined) {
    if (typeof fields.namespaceSelector !== `string` || fields.namespaceSelector.trim() === ``)
      throw new PolicyFormatError(`"namespaceSelector" must be a label selector`);
    namespaces = {kind: `selector`, selector: fields.namespaceSelector};
  } else if (fields.namespaces === `all`) {
    namespaces = {kind: `all`};
  } else if (fields.namespaces !== undefined) {
    namespaces = {kind: `list`, names: stringList(fields.namespaces, `namespaces`, name => NAME_RE.test(name) && name.length <= 63)};
  } else {
    throw new PolicyFormatError(`it names no namespaces ("namespaces" or "namespaceSelector")`);
  }
  const exclude = fields.exclude === undefined ? [] : stringList(fields.exclude, `exclude`, glob => glob !== `` && glob.length <= 253);
  let attach: SyncPolicy[`attach`] = null;
  if (fields.attach === `default` || fields.attach === `all`)
    attach = fields.attach;
  else if (fields.attach !== undefined)
    attach = stringList(fields.attach, `attach`, name => SUBDOMAIN_RE.test(name) && name.length <= 253);
  if (fields.prune !== undefined && typeof fields.prune !== `boolean`)
    throw new PolicyFormatError(`"prune" must be true or false`);
  return {namespaces, exclude, attach, prune: fields.prune === true};
}

/** The policy recorded on a secret: absent, readable, or broken (with the reason). */
export type RecordedPolicy = {state: `none`} | {state: `ok`; policy: SyncPolicy} | {state: `invalid`; reason: string};

/** Reads the policy annotation of a secret. */
export function recordedPolicy(secret: KubeObject): RecordedPolicy {
  const text = secret.metadata.annotations?.[SYNC_POLICY_ANNOTATION];
  if (text === undefined)
    return {state: `none`};
  try {
    return {state: `ok`, policy: decodePolicy(text)};
  } catch (error) {
    if (error instanceof PolicyFormatError)
      return {state: `invalid`, reason: error.message};
    throw error;
  }
}

/** One line for people: `namespaces a,b except kube-*; attach to default; prune`. */
export function describePolicy(policy: SyncPolicy): string {
  const parts: string[] = [];
  const scope = policy.namespaces.kind === `all` ? `all namespaces` : policy.namespaces.kind === `list` ? `namespaces ${policy.namespaces.names.join(`,`)}` : `namespaces matching ${policy.namespaces.selector}`;
  parts.push(policy.exclude.length > 0 ? `${scope} except ${policy.exclude.join(`,`)}` : scope);
  if (policy.attach !== null)
    parts.push(`attach to ${typeof policy.attach === `string` ? policy.attach === `all` ? `all ServiceAccounts` : `default` : policy.attach.join(`,`)}`);
  if (policy.prune)
    parts.push(`prune`);
  return parts.join(`; `);
}

/** What the command line says about scope and policy. `scope` is null when no scope flag was given. */
export type SyncFlags = {
  scope: NamespaceScope | null;
  /** `--attach` as given (null when absent). */
  attach: AttachTargets | null;
  prune: boolean;
  /** `--keep` (true), `--keep=false` (false), or absent. */
  keep: boolean | undefined;
};

/** What one `sync` run does, decided from the flags and the policy recorded on the source. */
export type SyncRunPlan =
  | {
    kind: `sync`;
    scope: NamespaceScope;
    attach: AttachTargets | null;
    prune: boolean;
    /** The recorded policy is re-applied (no scope flag given). */
    applied: SyncPolicy | null;
    /** What to do with the annotation: write this value, delete it, or leave it. */
    annotation: {action: `record`; policy: SyncPolicy; value: string} | {action: `remove`} | {action: `keep`};
  }
  /** `--keep=false` without scope flags: only the annotation is removed, nothing is synced. */
  | {kind: `forget`; present: boolean}
  /** The recorded policy cannot be read: the message says so and how to replace or remove it. */
  | {kind: `invalid`; reason: string}
  /** `--keep` without scope flags and no policy to keep. */
  | {kind: `keep-without-scope`};

/** Decides a sync run. With no scope flag, a recorded policy is the scope (its attach and prune unless the flags say more). */
export function planSyncRun(recorded: RecordedPolicy, flags: SyncFlags, currentNamespace: string): SyncRunPlan {
  let scope: NamespaceScope;
  let attach = flags.attach;
  let prune = flags.prune;
  let applied: SyncPolicy | null = null;
  if (flags.scope !== null) {
    scope = flags.scope;
  } else if (flags.keep === false) {
    return {kind: `forget`, present: recorded.state !== `none`};
  } else if (recorded.state === `invalid`) {
    return {kind: `invalid`, reason: recorded.reason};
  } else if (recorded.state === `ok`) {
    applied = recorded.policy;
    scope = scopeOfPolicy(recorded.policy);
    attach = flags.attach ?? attachOfPolicy(recorded.policy);
    prune = flags.prune || recorded.policy.prune;
  } else if (flags.keep === true) {
    return {kind: `keep-without-scope`};
  } else {
    scope = {kind: `current`, exclude: []};
  }
  let annotation: Extract<SyncRunPlan, {kind: `sync`}>[`annotation`] = {action: `keep`};
  if (flags.keep === true) {
    const policy = policyFromFlags(scope, currentNamespace, attach, prune);
    const value = encodePolicy(policy);
    const current = recorded.state === `ok` ? encodePolicy(recorded.policy) : undefined;
    annotation = value === current ? {action: `keep`} : {action: `record`, policy, value};
  } else if (flags.keep === false && recorded.state !== `none`) {
    annotation = {action: `remove`};
  }
  return {kind: `sync`, scope, attach, prune, applied, annotation};
}
