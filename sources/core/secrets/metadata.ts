/**
 * The names the tool writes and reads, defined once: its label and annotations (docs/design.md "Labels and
 * annotations"), its field manager, the apiVersion of its reports, and the pull-secret types with the data key
 * each one requires (docs/credential-rules.md "Which secrets count").
 */

/** The field manager recorded on every write unless the caller names another. */
export const FIELD_MANAGER = `kubectl-pullsecret`;
/** The apiVersion of every report the tool prints as data (`-o json|yaml`). */
export const PULLSECRET_API_VERSION = `pullsecret.kubectl.io/v1alpha1`;

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
/** Annotation recording the `--password-command` of each registry entry, as compact JSON (core/secrets/passwordCommand.ts). */
export const PASSWORD_COMMAND_ANNOTATION = `pullsecret.kubectl.io/password-command`;
/** Annotation recording when a password command last changed the secret's content, in RFC 3339. */
export const REFRESHED_AT_ANNOTATION = `pullsecret.kubectl.io/refreshed-at`;
/** Namespace annotation opting out of fan-out commands. */
export const IGNORE_ANNOTATION = `pullsecret.kubectl.io/ignore`;

/** The two pull-secret types and the data key each one requires (docs/credential-rules.md "Which secrets count"). */
export const DOCKER_CONFIG_JSON_TYPE = `kubernetes.io/dockerconfigjson`;
export const DOCKER_CONFIG_JSON_KEY = `.dockerconfigjson`;
export const DOCKERCFG_TYPE = `kubernetes.io/dockercfg`;
export const DOCKERCFG_KEY = `.dockercfg`;
/** Both pull-secret types. */
export const PULL_SECRET_TYPES: ReadonlySet<string> = new Set([DOCKER_CONFIG_JSON_TYPE, DOCKERCFG_TYPE]);

/** RFC 3339 in UTC without fractional seconds, e.g. `2026-11-29T18:00:00Z`. */
export function rfc3339(date: Date): string {
  return date.toISOString().replace(/\.\d{3}Z$/, `Z`);
}
