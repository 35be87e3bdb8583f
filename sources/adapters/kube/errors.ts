/**
 * Errors of the Kubernetes adapter: a failed API call becomes a `KubeApiError` (exit 1) whose one-line
 * message names the verb, resource and namespace; rejected credentials and unreachable servers become
 * `ClusterUnreachableError` (exit 3). No message ever quotes a request or response body.
 */
import {ClusterUnreachableError, PullSecretError} from '../../core/errors.ts';
import type {KubeApiErrorShape} from '../../core/ports.ts';
import type {SecretRedactor} from '../../core/redact.ts';

/**
 * A Kubernetes API call that the server answered with a failure `Status`. `message` is the one-line
 * summary shown to users; the server's own fields are on `shape` (whose `message` is the Status message
 * and whose `name` is the object's name: `Error#name` cannot carry it).
 */
export class KubeApiError extends PullSecretError {
  readonly shape: KubeApiErrorShape;
  readonly code: number;
  readonly reason: string;
  readonly verb: string;
  readonly resource: string;
  readonly namespace?: string;
  /** The object's name, when the request named one. */
  readonly objectName?: string;

  constructor(shape: KubeApiErrorShape, summary: string) {
    super(summary);
    this.name = `KubeApiError`;
    this.shape = shape;
    this.code = shape.code;
    this.reason = shape.reason;
    this.verb = shape.verb;
    this.resource = shape.resource;
    this.namespace = shape.namespace;
    this.objectName = shape.name;
  }
}

/**
 * True when `error` is a failed Kubernetes API call (optionally with the given HTTP code). Duck-typed on
 * the `KubeApiErrorShape` fields so that it also recognises errors crossing module copies.
 */
export function isKubeApiError(error: unknown, code?: number): error is KubeApiError {
  if (!(error instanceof PullSecretError))
    return false;
  const candidate = error as Partial<KubeApiError>;
  if (typeof candidate.code !== `number` || typeof candidate.reason !== `string` || typeof candidate.verb !== `string` || typeof candidate.shape !== `object`)
    return false;
  return code === undefined || candidate.code === code;
}

/** Where a request went, for messages. */
export type RequestDescription = {
  verb: string;
  resource: string;
  namespace?: string;
  name?: string;
  /** `apps`, `batch`, or `` for the core group. */
  group: string;
};

/** The `Status` fields of an error response, or a synthesized status for bodies that are not one. */
export type StatusBody = {code: number; reason: string; message: string; synthesized?: boolean};

// The reasons client-go's NewGenericServerResponse gives to bare HTTP statuses.
const GENERIC_REASONS: Record<number, string> = {
  400: `BadRequest`, 401: `Unauthorized`, 403: `Forbidden`, 404: `NotFound`, 405: `MethodNotAllowed`, 406: `NotAcceptable`,
  409: `Conflict`, 410: `Expired`, 413: `RequestEntityTooLarge`, 415: `UnsupportedMediaType`, 422: `Invalid`,
  429: `TooManyRequests`, 500: `InternalError`, 503: `ServiceUnavailable`, 504: `Timeout`,
};

/** Parses a response body as a `Status` (its message redacted, then cut to 400 characters); falls back to the HTTP status text without quoting the body. */
export function parseStatus(httpStatus: number, statusText: string, body: string, redactor?: SecretRedactor): StatusBody {
  try {
    const parsed = JSON.parse(body) as {kind?: string; reason?: string; message?: string; code?: number};
    if (parsed && parsed.kind === `Status`) {
      return {
        code: typeof parsed.code === `number` && parsed.code > 0 ? parsed.code : httpStatus,
        reason: typeof parsed.reason === `string` && parsed.reason !== `` ? parsed.reason : GENERIC_REASONS[httpStatus] ?? `Unknown`,
        // Redact first, then truncate: a secret the server quotes across the cut never shows its prefix.
        message: redactor === undefined ? truncate(typeof parsed.message === `string` ? parsed.message : statusText, 400) : redactor.safeText(typeof parsed.message === `string` ? parsed.message : statusText, 400),
      };
    }
  } catch {
    // Not JSON: a proxy or load balancer answered; its body is not shown.
  }
  return {code: httpStatus, reason: GENERIC_REASONS[httpStatus] ?? `Unknown`, message: `the server answered HTTP ${httpStatus} ${statusText}`.trim(), synthesized: true};
}

/** Builds the error for a failed API call: 401 → exit 3, anything else → `KubeApiError`. */
export function apiError(request: RequestDescription, status: StatusBody, server: string, contextName: string): PullSecretError {
  if (status.code === 401)
    return new ClusterUnreachableError(`the server ${server} rejected the credentials of context "${contextName}" (401 Unauthorized): log in again or fix the user in the kubeconfig`);
  const shape: KubeApiErrorShape = {
    code: status.code,
    reason: status.reason,
    message: status.message,
    verb: request.verb,
    resource: request.resource,
    namespace: request.namespace,
    name: request.name,
  };
  return new KubeApiError(shape, summarize(request, status));
}

function summarize(request: RequestDescription, status: StatusBody): string {
  const qualified = request.group === `` ? request.resource : `${request.resource}.${request.group}`;
  const object = request.name === undefined ? qualified : `${qualified} "${request.name}"`;
  const where = request.resource === `namespaces` || request.resource === `selfsubjectaccessreviews`
    ? ``
    : request.namespace === undefined ? ` in all namespaces` : ` in namespace "${request.namespace}"`;
  const action = `cannot ${request.verb} ${object}${where}`;
  if (status.code === 403) {
    const user = /User "([^"]*)"/.exec(status.message)?.[1];
    const scope = where === `` || request.namespace === undefined ? `cluster-wide, granted by a ClusterRoleBinding` : `in namespace "${request.namespace}"`;
    return `${action}: forbidden${user === undefined ? `` : ` for user "${user}"`} (needs RBAC verb "${request.verb}" on "${qualified}" ${scope}); ask a cluster admin or use a context with more rights`;
  }
  return status.synthesized ? `${action}: ${status.message}` : `${action}: ${status.message} (${status.reason})`;
}

/** Turns a transport failure into a one-line `ClusterUnreachableError` naming the server and the cause. */
export function networkError(error: unknown, server: string, contextName: string): ClusterUnreachableError {
  return new ClusterUnreachableError(`cannot reach the cluster at ${server} (context "${contextName}"): ${describeNetworkError(error)}`, {cause: error});
}

/** A short human cause for a socket/TLS/DNS error, with the fix where there is an obvious one. */
export function describeNetworkError(error: unknown): string {
  const code = (error as {code?: string} | undefined)?.code;
  const message = error instanceof Error ? error.message : String(error);
  switch (code) {
    case `ECONNREFUSED`: return `connection refused (is the API server running, and is the server URL right?)`;
    case `ENOTFOUND`: case `EAI_AGAIN`: return `no such host (${hostOf(message)})`;
    case `ECONNRESET`: case `EPIPE`: return `the connection was reset`;
    case `EHOSTUNREACH`: case `ENETUNREACH`: return `no route to host`;
    case `ETIMEDOUT`: case `ERR_PULLSECRET_TIMEOUT`: return message;
    case `UNABLE_TO_VERIFY_LEAF_SIGNATURE`: case `SELF_SIGNED_CERT_IN_CHAIN`: case `DEPTH_ZERO_SELF_SIGNED_CERT`: case `UNABLE_TO_GET_ISSUER_CERT_LOCALLY`: case `UNABLE_TO_GET_ISSUER_CERT`:
      return `TLS error: certificate signed by unknown authority (set certificate-authority in the kubeconfig)`;
    case `ERR_TLS_CERT_ALTNAME_INVALID`: return `TLS error: the server certificate is not valid for this host (${message.replace(/^Hostname\/IP does not match certificate's altnames: /, ``)}); fix the server URL or set tls-server-name`;
    case `CERT_HAS_EXPIRED`: return `TLS error: the server certificate has expired`;
    case `CERT_NOT_YET_VALID`: return `TLS error: the server certificate is not yet valid (check the clock)`;
    case `EPROTO`: case `ERR_SSL_WRONG_VERSION_NUMBER`:
      return /wrong version number|packet length too long|http request/i.test(message) ? `TLS handshake failed: the server does not speak TLS (is it http:// rather than https://?)` : `TLS handshake failed (${firstLine(message)})`;
    case `ERR_PULLSECRET_PROXY`: return message;
    default:
      if (/alert certificate required|alert bad certificate|certificate required/i.test(message))
        return `TLS error: the server requires a valid client certificate`;
      return firstLine(message);
  }
}

function hostOf(message: string): string {
  return /(?:getaddrinfo \w+ )(\S+)/.exec(message)?.[1] ?? message;
}

function firstLine(message: string): string {
  return truncate(message.split(`\n`)[0]!.trim(), 200);
}

function truncate(text: string, max: number): string {
  return text.length <= max ? text : `${text.slice(0, max - 1)}…`;
}
