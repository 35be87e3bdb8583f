/**
 * Failed Kubernetes API calls as the `ClusterSession` port reports them: an `Error` carrying the HTTP status
 * in `code` (and, from the kube adapter, the `Status` reason, verb, resource and namespace). One guard, so
 * that no caller casts an unknown error to read its status.
 */
import type {KubeApiErrorShape} from './ports.ts';

/** A failed API call: an `Error` with the HTTP status of the answer; the other `Status` fields when the adapter had them. */
export type ApiError = Error & {code: number} & Partial<Omit<KubeApiErrorShape, `code` | `message` | `name`>>;

/** True when `error` is a failed API call (answered with an HTTP status), optionally with the given status. */
export function isApiError(error: unknown, code?: number): error is ApiError {
  if (!(error instanceof Error))
    return false;
  const status = (error as {code?: unknown}).code;
  return typeof status === `number` && (code === undefined || status === code);
}

/** `forbidden`, `not found`, or the error's own message, for per-object notes. */
export function apiErrorReason(error: unknown): string {
  if (isApiError(error, 403))
    return `forbidden`;
  if (isApiError(error, 404))
    return `not found`;
  return error instanceof Error ? error.message : String(error);
}
