import {serializeDockerConfigJson} from '../dockerconfig/serialize.ts';
import type {KubeObject} from '../ports.ts';
import {DOCKER_CONFIG_JSON_KEY, DOCKER_CONFIG_JSON_TYPE, EXPIRES_AT_ANNOTATION, MANAGED_BY_LABEL, MANAGED_BY_VALUE, rfc3339} from './metadata.ts';

/** One registry's credentials, as given by flags or read from a local config. */
export type RegistryCredential = {
  /** The key written in `.dockerconfigjson`, verbatim (kubectl writes `--docker-server` as given). */
  server: string;
  username: string;
  password: string;
  email?: string;
};

/** What `add` was asked to create. */
export type PullSecretSpec = {
  name: string;
  /** Written into metadata only when given (kubectl writes it only for an explicit `-n`). */
  namespace?: string;
  credentials: RegistryCredential[];
  /** Earliest known expiry of a token in the secret (ECR); recorded as an annotation. */
  expiresAt?: Date | null;
};

/** base64 of a UTF-8 string. */
export function toBase64(text: string): string {
  return Buffer.from(text, `utf8`).toString(`base64`);
}

/** The `.dockerconfigjson` bytes for these credentials, exactly as kubectl writes them. */
export function dockerConfigJsonFor(credentials: RegistryCredential[]): string {
  return serializeDockerConfigJson(credentials.map(({server, username, password, email}) => [server, {username, password, email}]));
}

/**
 * Builds the Secret that `add` creates: the same object as `kubectl create secret docker-registry`
 * (field order kind, apiVersion, metadata, data, type) plus our managed-by label and, when a token
 * expiry is known, the expires-at annotation.
 */
export function buildPullSecret(spec: PullSecretSpec): KubeObject {
  const metadata: KubeObject[`metadata`] = {name: spec.name};
  if (spec.namespace !== undefined)
    metadata.namespace = spec.namespace;
  metadata.labels = {[MANAGED_BY_LABEL]: MANAGED_BY_VALUE};
  if (spec.expiresAt)
    metadata.annotations = {[EXPIRES_AT_ANNOTATION]: rfc3339(spec.expiresAt)};
  return {
    kind: `Secret`,
    apiVersion: `v1`,
    metadata,
    data: {[DOCKER_CONFIG_JSON_KEY]: toBase64(dockerConfigJsonFor(spec.credentials))},
    type: DOCKER_CONFIG_JSON_TYPE,
  };
}

/**
 * The object as kubectl prints it for `--dry-run=client`: `creationTimestamp: null` right after
 * name/namespace (Go's ObjectMeta field order), nothing else added.
 */
export function asClientDryRunObject(secret: KubeObject): Record<string, unknown> {
  const {name, namespace, labels, annotations, ...rest} = secret.metadata;
  const metadata: Record<string, unknown> = {name};
  if (namespace !== undefined)
    metadata.namespace = namespace;
  metadata.creationTimestamp = null;
  if (labels !== undefined)
    metadata.labels = labels;
  if (annotations !== undefined)
    metadata.annotations = annotations;
  Object.assign(metadata, rest);
  return {...secret, metadata};
}
