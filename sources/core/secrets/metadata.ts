/** The label and annotations the tool writes and reads (DESIGN.md "Labels and annotations"). */

/** Label put on every secret the tool creates. */
export const MANAGED_BY_LABEL = `app.kubernetes.io/managed-by`;
/** Value of `MANAGED_BY_LABEL`. */
export const MANAGED_BY_VALUE = `kubectl-pullsecret`;
/** Annotation recording when a token inside the secret expires (ECR), in RFC 3339. */
export const EXPIRES_AT_ANNOTATION = `pullsecret.kubectl.io/expires-at`;
/** Annotation on copies made by `sync`: `<namespace>/<name>` of the source secret. */
export const SOURCE_ANNOTATION = `pullsecret.kubectl.io/source`;
/** Annotation on a source secret recording its declared sync policy (`sync --keep`), as compact JSON (core/sync/policy.ts). */
export const SYNC_POLICY_ANNOTATION = `pullsecret.kubectl.io/sync-policy`;
/** Namespace annotation opting out of fan-out commands. */
export const IGNORE_ANNOTATION = `pullsecret.kubectl.io/ignore`;

/** The two pull-secret types and the data key each one requires (credential-rules R1.1). */
export const DOCKER_CONFIG_JSON_TYPE = `kubernetes.io/dockerconfigjson`;
export const DOCKER_CONFIG_JSON_KEY = `.dockerconfigjson`;
export const DOCKERCFG_TYPE = `kubernetes.io/dockercfg`;
export const DOCKERCFG_KEY = `.dockercfg`;

/** RFC 3339 in UTC without fractional seconds, e.g. `2026-11-29T18:00:00Z`. */
export function rfc3339(date: Date): string {
  return date.toISOString().replace(/\.\d{3}Z$/, `Z`);
}
