import {PullSecretError} from '../errors.ts';
import type {KubeObject} from '../ports.ts';
import {buildPullSecret, dockerConfigJsonFor, toBase64} from './build.ts';
import type {RegistryCredential} from './build.ts';
import {UnmergeableConfigError, mergeDockerConfigJson} from './merge.ts';
import {DOCKER_CONFIG_JSON_KEY, DOCKER_CONFIG_JSON_TYPE, EXPIRES_AT_ANNOTATION, rfc3339} from './metadata.ts';

/** What `add` will do to one namespace's secret. */
export type SecretPlan =
  | {action: `create`; body: KubeObject; notes: string[]}
  | {action: `update`; body: KubeObject; notes: string[]}
  | {action: `recreate`; body: KubeObject; previousType: string; notes: string[]}
  | {action: `unchanged`; current: KubeObject; notes: string[]};

/** The inputs of `planAddSecret`. */
export type AddSecretInput = {
  name: string;
  namespace: string;
  credentials: RegistryCredential[];
  /** `--replace`: the secret holds exactly the given registries afterwards. */
  replace: boolean;
  /** `--force`: a secret of another type is deleted and recreated. */
  force: boolean;
  /** Earliest token expiry in a `.dockerconfigjson` text (ECR), or null when none is known. */
  expiryOf: (dockerConfigJson: string) => Date | null;
  /** Whether two registry keys name the same registry (see `mergeDockerConfigJson`). */
  sameRegistry?: (a: string, b: string) => boolean;
  /** Annotations to set (a string) or remove (null) whatever else changes (the password-command record). */
  annotations?: Record<string, string | null>;
  /** Annotations set only when the data changes or the secret is created (`refreshed-at`). */
  annotationsOnChange?: Record<string, string>;
};

/** Applies set (string) / remove (null) changes to a copy of `annotations`. */
function withChanges(annotations: Record<string, string>, changes: Record<string, string | null> | undefined): Record<string, string> {
  const result = {...annotations};
  for (const [key, value] of Object.entries(changes ?? {})) {
    if (value === null)
      delete result[key];
    else
      result[key] = value;
  }
  return result;
}

function decodeData(value: unknown): string | null {
  return typeof value === `string` ? Buffer.from(value, `base64`).toString(`utf8`) : null;
}

function sameJson(a: string, b: string): boolean {
  try {
    return JSON.stringify(canonical(JSON.parse(a))) === JSON.stringify(canonical(JSON.parse(b)));
  } catch {
    return false;
  }
}

function canonical(value: unknown): unknown {
  if (Array.isArray(value))
    return value.map(canonical);
  if (typeof value === `object` && value !== null)
    return Object.fromEntries(Object.keys(value).sort().map(key => [key, canonical((value as Record<string, unknown>)[key])]));
  return value;
}

/**
 * Decides what `add` does given the secret currently in the namespace (null when absent):
 * create it; merge the registries into it (keeping the others) or, with `replace`, overwrite its
 * content; leave it unchanged when it already holds exactly that; or, for a secret of another type
 * (immutable), refuse unless `force` asks to delete and recreate it.
 */
export function planAddSecret(existing: KubeObject | null, input: AddSecretInput): SecretPlan {
  const fresh = (): KubeObject => {
    const json = dockerConfigJsonFor(input.credentials);
    const secret = buildPullSecret({name: input.name, namespace: input.namespace, credentials: input.credentials, expiresAt: input.expiryOf(json)});
    const annotations = withChanges({...secret.metadata.annotations, ...input.annotationsOnChange}, input.annotations);
    if (Object.keys(annotations).length > 0)
      secret.metadata.annotations = annotations;
    return secret;
  };
  if (existing === null)
    return {action: `create`, body: fresh(), notes: []};
  const where = `${input.namespace}/${input.name}`;
  const type = typeof existing.type === `string` ? existing.type : `Opaque`;
  if (type !== DOCKER_CONFIG_JSON_TYPE) {
    if (!input.force)
      throw new PullSecretError(`secret ${where} already exists with type ${type}, and a Secret's type cannot be changed; use --force to delete and recreate it as ${DOCKER_CONFIG_JSON_TYPE}`);
    return {action: `recreate`, body: fresh(), previousType: type, notes: [`secret ${where} had type ${type}; deleting and recreating it`]};
  }
  const data = (typeof existing.data === `object` && existing.data !== null ? existing.data : {}) as Record<string, unknown>;
  const currentText = decodeData(data[DOCKER_CONFIG_JSON_KEY]);
  let newText: string;
  let newData: Record<string, unknown>;
  const notes: string[] = [];
  if (input.replace) {
    newText = dockerConfigJsonFor(input.credentials);
    newData = {[DOCKER_CONFIG_JSON_KEY]: toBase64(newText)};
    const onlyKey = Object.keys(data).length === 1;
    if (onlyKey && currentText !== null && sameJson(currentText, newText))
      newText = currentText;
  } else {
    if (currentText === null)
      throw new PullSecretError(`secret ${where} has no ${DOCKER_CONFIG_JSON_KEY} key; use --replace to overwrite its content`);
    let merged;
    try {
      merged = mergeDockerConfigJson(currentText, input.credentials, input.sameRegistry);
    } catch (error) {
      if (error instanceof UnmergeableConfigError)
        throw new PullSecretError(`cannot add registries to secret ${where}: ${error.message}; use --replace to overwrite its content`);
      throw error;
    }
    for (const key of merged.supersededKeys)
      notes.push(`removed registry key "${key}" from secret ${where}: it names the same registry as "${input.credentials.find(c => input.sameRegistry?.(key, c.server))?.server ?? key}"`);
    newText = merged.json;
    newData = {...data, [DOCKER_CONFIG_JSON_KEY]: merged.changed ? toBase64(newText) : data[DOCKER_CONFIG_JSON_KEY]};
  }
  const expiry = input.expiryOf(newText);
  const dataSame = newText === currentText && Object.keys(newData).length === Object.keys(data).length;
  const before = existing.metadata.annotations ?? {};
  const annotations = withChanges({...before, ...(dataSame ? {} : input.annotationsOnChange)}, {...input.annotations, [EXPIRES_AT_ANNOTATION]: expiry ? rfc3339(expiry) : null});
  const annotationsSame = JSON.stringify(Object.entries(annotations).sort()) === JSON.stringify(Object.entries(before).sort());
  if (dataSame && annotationsSame)
    return {action: `unchanged`, current: existing, notes};
  const metadata = {...existing.metadata};
  if (Object.keys(annotations).length > 0)
    metadata.annotations = annotations;
  else
    delete metadata.annotations;
  return {action: `update`, body: {...existing, metadata, data: newData}, notes};
}
