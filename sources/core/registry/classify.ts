/**
 * Turns what a registry answered (or how the connection failed) into the stable outcome names
 * shared by explain, verify, doctor and list (docs/design.md), with one human line of detail.
 * Pure: the registry adapter hands in status codes, lower-cased headers, bodies and error codes.
 * Status meanings follow docs/credential-rules.md R3.7 and containerd's resolver (R3.9).
 */
import type {ManifestTarget, RegistryCheck, RegistryOutcome} from '../ports.ts';
import {oneLine} from '../errors.ts';

/** Lower-cased response headers as Node delivers them. */
export type HeaderMap = Record<string, string | string[] | undefined>;

/** One entry of a registry's `{"errors":[…]}` body. */
export type RegistryErrorEntry = {code: string; message: string};

/** First value of a header. */
export function header(headers: HeaderMap, name: string): string | undefined {
  const value = headers[name.toLowerCase()];
  return Array.isArray(value) ? value[0] : value;
}

/** The `errors` array of an OCI error body, or [] when the body is not one (HEAD answers have none). */
export function parseRegistryErrors(body: string): RegistryErrorEntry[] {
  try {
    const parsed = JSON.parse(body) as {errors?: unknown};
    if (!Array.isArray(parsed.errors))
      return [];
    return parsed.errors.flatMap(entry => {
      if (typeof entry !== `object` || entry === null)
        return [];
      const {code, message} = entry as {code?: unknown; message?: unknown};
      return typeof code === `string` ? [{code, message: typeof message === `string` ? message : ``}] : [];
    });
  } catch {
    return [];
  }
}

/**
 * Seconds to wait before retrying: `Retry-After` (seconds or HTTP date), else the `ratelimit-reset`
 * header (IETF RateLimit fields; seconds), else undefined. Docker Hub's `ratelimit-limit: 100;w=21600`
 * gives the window, not the time left, so it is reported in the detail instead.
 */
export function retryAfterSeconds(headers: HeaderMap, now: Date): number | undefined {
  const retryAfter = header(headers, `retry-after`)?.trim();
  if (retryAfter !== undefined && retryAfter !== ``) {
    if (/^\d+$/.test(retryAfter))
      return Number(retryAfter);
    const date = Date.parse(retryAfter);
    if (!Number.isNaN(date))
      return Math.max(0, Math.ceil((date - now.getTime()) / 1000));
  }
  const reset = header(headers, `ratelimit-reset`)?.trim();
  if (reset !== undefined && /^\d+/.test(reset))
    return Number(/^\d+/.exec(reset)![0]);
  return undefined;
}

/** Docker Hub's quota headers as `100 per 6h, 0 left`, or undefined when absent (absent means unlimited). */
export function describeRateLimit(headers: HeaderMap): string | undefined {
  const limit = /^(\d+)(?:;w=(\d+))?/.exec(header(headers, `ratelimit-limit`) ?? ``);
  if (limit === null)
    return undefined;
  const remaining = /^(\d+)/.exec(header(headers, `ratelimit-remaining`) ?? ``);
  const window = limit[2] === undefined ? `` : ` per ${formatDuration(Number(limit[2]))}`;
  return `${limit[1]}${window}${remaining === null ? `` : `, ${remaining[1]} left`}`;
}

function formatDuration(seconds: number): string {
  if (seconds % 3600 === 0)
    return `${seconds / 3600}h`;
  if (seconds % 60 === 0)
    return `${seconds / 60}m`;
  return `${seconds}s`;
}

/** `host/repository:tag` or `host/repository@digest`, for messages. */
export function describeTarget(target: ManifestTarget): string {
  return `${target.host}/${target.repository}${target.reference.includes(`:`) ? `@` : `:`}${target.reference}`;
}

const REPOSITORY = /^[a-z0-9]+(?:(?:\.|_|__|-+)[a-z0-9]+)*(?:\/[a-z0-9]+(?:(?:\.|_|__|-+)[a-z0-9]+)*)*$/;
const TAG = /^[A-Za-z0-9_][A-Za-z0-9._-]{0,127}$/;
const DIGEST = /^[a-z0-9]+(?:[.+_-][a-z0-9]+)*:[a-zA-Z0-9=_-]{32,}$/;
const HOST = /^(?:\[[0-9a-fA-F:.]+\]|[A-Za-z0-9](?:[A-Za-z0-9-]*[A-Za-z0-9])?(?:\.[A-Za-z0-9](?:[A-Za-z0-9-]*[A-Za-z0-9])?)*)(?::\d{1,5})?$/;

/** Why a target cannot be asked for (OCI distribution grammar, R3.6/R4.1), or null when it is well-formed. */
export function invalidTargetReason(target: ManifestTarget): string | null {
  if (!HOST.test(target.host))
    return `"${target.host}" is not a registry host`;
  if (target.repository.length > 255 || !REPOSITORY.test(target.repository))
    return `"${target.repository}" is not a valid repository name (lowercase letters, digits and separators)`;
  if (target.reference.includes(`:`)) {
    if (!DIGEST.test(target.reference) || (target.reference.startsWith(`sha256:`) && !/^sha256:[a-f0-9]{64}$/.test(target.reference)))
      return `"${target.reference}" is not a valid digest`;
  } else if (!TAG.test(target.reference)) {
    return `"${target.reference}" is not a valid tag`;
  }
  return null;
}

/** What the adapter knows about a final, non-successful manifest answer. */
export type ManifestFailure = {
  status: number;
  headers: HeaderMap;
  /** Parsed error body, when a GET could read one. */
  errors: RegistryErrorEntry[];
  /** Whether credentials (Basic or a token obtained with them) were sent with this request. */
  credentialSent: boolean;
  /** For 401: the `error=` parameter of the Bearer challenge (`insufficient_scope`, `invalid_token`). */
  bearerError?: string;
  /** For 401: the scheme of the challenge (`basic`, `bearer`), if any. */
  scheme?: string;
  username?: string;
};

/**
 * Classifies a final manifest answer other than 2xx.
 *
 * The 401 cases, decided deliberately:
 * - credentials were sent (Basic, or a Bearer token obtained with them) and the registry still says 401:
 *   - with `insufficient_scope` (after the one retry with a fresh token): the credentials were accepted
 *     but grant no pull on this repository, or it does not exist (Docker Hub and GHCR do not tell these
 *     apart) → `denied`;
 *   - otherwise (Basic rejected, token rejected) → `unauthorized`;
 * - nothing secret was sent (anonymous) and the registry insists on 401: there is no credential to
 *   blame, the repository simply is not public → `denied` ("requires credentials"). `unauthorized` is
 *   kept for "these credentials were rejected", which is what a user can fix by changing the secret.
 */
export function classifyManifestFailure(target: ManifestTarget, failure: ManifestFailure, now: Date): RegistryCheck {
  const what = describeTarget(target);
  const {status} = failure;
  const firstError = failure.errors[0];
  const said = firstError === undefined ? `` : `: ${oneLine(firstError.code, REGISTRY_MESSAGE_MAX)}${firstError.message === `` ? `` : ` ${oneLine(firstError.message, REGISTRY_MESSAGE_MAX)}`}`;
  const who = failure.username === undefined || failure.username === `` ? `the credentials` : `user "${failure.username}"`;
  const base = {httpStatus: status};
  if (status === 401) {
    if (!failure.credentialSent)
      return {...base, outcome: `denied`, detail: `${what} is not public: the registry requires credentials (HTTP 401)`};
    if (failure.bearerError === `insufficient_scope`)
      return {...base, outcome: `denied`, detail: `${target.host} accepted ${who} but grants no pull on ${target.repository} (or the repository does not exist): insufficient_scope`};
    if (failure.scheme === `bearer`)
      return {...base, outcome: `unauthorized`, detail: `${target.host} rejected the token issued for ${who} (${failure.bearerError === undefined ? `HTTP 401` : oneLine(failure.bearerError, REGISTRY_MESSAGE_MAX)})`};
    return {...base, outcome: `unauthorized`, detail: `${target.host} rejected ${who} (HTTP 401)`};
  }
  if (status === 403)
    return {...base, outcome: `denied`, detail: `${target.host} denied access to ${what}${said || ` (HTTP 403)`}`};
  if (status === 404) {
    const code = firstError?.code;
    if (code === `NAME_UNKNOWN`)
      return {...base, outcome: `not-found`, detail: `repository ${target.host}/${target.repository} does not exist${said}`};
    return {...base, outcome: `not-found`, detail: `${what} not found${said || ` (HTTP 404)`}`};
  }
  if (status === 429) {
    const retry = retryAfterSeconds(failure.headers, now);
    const quota = describeRateLimit(failure.headers);
    const parts = [retry === undefined ? undefined : `retry after ${retry}s`, quota === undefined ? undefined : `quota ${quota}`].filter(part => part !== undefined);
    return {...base, outcome: `rate-limited`, detail: `${target.host} is rate-limiting pulls (HTTP 429${parts.length > 0 ? `; ${parts.join(`; `)}` : ``})`, ...(retry === undefined ? {} : {retryAfterSeconds: retry})};
  }
  if (status >= 500) {
    const retry = retryAfterSeconds(failure.headers, now);
    return {...base, outcome: `unavailable`, detail: `${target.host} answered HTTP ${status}${said}; the registry is failing, try again later`, ...(retry === undefined ? {} : {retryAfterSeconds: retry})};
  }
  if (status === 400 || status === 414)
    return {...base, outcome: `invalid-reference`, detail: `${target.host} rejected the reference ${what}${said || ` (HTTP ${status})`}`};
  return {...base, outcome: `unavailable`, detail: `${target.host} answered an unexpected HTTP ${status} for ${what}${said}`};
}

/** Classifies a failed token request (docs/credential-rules.md R3.3/R3.7). */
export function classifyTokenFailure(registryHost: string, realmHost: string, status: number, headers: HeaderMap, credentialSent: boolean, username: string | undefined, now: Date): RegistryCheck {
  const who = username === undefined || username === `` ? `the credentials` : `user "${username}"`;
  const base = {httpStatus: status};
  if (status === 401) {
    return credentialSent
      ? {...base, outcome: `unauthorized`, detail: `the token server ${realmHost} rejected ${who} for ${registryHost} (HTTP 401: wrong or expired credentials)`}
      : {...base, outcome: `denied`, detail: `the token server ${realmHost} requires credentials for ${registryHost} (HTTP 401)`};
  }
  if (status === 403)
    return {...base, outcome: `denied`, detail: `the token server ${realmHost} refused a token to ${credentialSent ? who : `anonymous`} for ${registryHost} (HTTP 403)`};
  if (status === 429) {
    const retry = retryAfterSeconds(headers, now);
    return {...base, outcome: `rate-limited`, detail: `the token server ${realmHost} is rate-limiting (HTTP 429${retry === undefined ? `` : `; retry after ${retry}s`})`, ...(retry === undefined ? {} : {retryAfterSeconds: retry})};
  }
  return {...base, outcome: `unavailable`, detail: `the token server ${realmHost} answered HTTP ${status} for ${registryHost}`};
}

/** Classifies a connection-level failure from Node's error code (and the request's URL host). */
export function classifyTransportError(host: string, code: string | undefined, message: string, timeoutMs: number): {outcome: RegistryOutcome; detail: string} {
  switch (code) {
    case `TIMEOUT`:
      return {outcome: `unreachable`, detail: `${host} did not answer within ${formatMs(timeoutMs)} (timed out)`};
    case `ENOTFOUND`:
    case `EAI_AGAIN`:
    case `EAI_FAIL`:
    case `EAI_NONAME`:
      return {outcome: `unreachable`, detail: `cannot resolve ${host} (DNS lookup failed: ${code})`};
    case `ECONNREFUSED`:
      return {outcome: `unreachable`, detail: `${host} refused the connection (nothing listens there)`};
    case `ECONNRESET`:
    case `EPIPE`:
    case `UND_ERR_SOCKET`:
    case `UND_ERR_CLOSED`:
      return {outcome: `unreachable`, detail: `${host} closed the connection unexpectedly (${code})`};
    case `EHOSTUNREACH`:
    case `ENETUNREACH`:
    case `ENETDOWN`:
    case `EHOSTDOWN`:
    case `ETIMEDOUT`:
    case `UND_ERR_CONNECT_TIMEOUT`:
      return {outcome: `unreachable`, detail: `cannot reach ${host} (${code})`};
    case `UNABLE_TO_VERIFY_LEAF_SIGNATURE`:
    case `UNABLE_TO_GET_ISSUER_CERT`:
    case `UNABLE_TO_GET_ISSUER_CERT_LOCALLY`:
    case `SELF_SIGNED_CERT_IN_CHAIN`:
    case `DEPTH_ZERO_SELF_SIGNED_CERT`:
      return {outcome: `tls-error`, detail: `${host} presented a certificate signed by an unknown authority (${code}); give its CA certificate to trust it`};
    case `CERT_HAS_EXPIRED`:
      return {outcome: `tls-error`, detail: `${host} presented an expired certificate (CERT_HAS_EXPIRED)`};
    case `CERT_NOT_YET_VALID`:
      return {outcome: `tls-error`, detail: `${host} presented a certificate that is not valid yet (CERT_NOT_YET_VALID); check the clocks`};
    case `ERR_TLS_CERT_ALTNAME_INVALID`:
      return {outcome: `tls-error`, detail: `${host} presented a certificate for another host name (ERR_TLS_CERT_ALTNAME_INVALID)`};
    case `CERT_REVOKED`:
    case `CERT_SIGNATURE_FAILURE`:
    case `CERT_UNTRUSTED`:
    case `CERT_REJECTED`:
    case `INVALID_CA`:
    case `UNABLE_TO_DECRYPT_CERT_SIGNATURE`:
    case `ERR_TLS_CERT_SIGNATURE_ALGORITHM_UNSUPPORTED`:
      return {outcome: `tls-error`, detail: `${host} presented an unacceptable certificate (${code})`};
    default:
      if (code !== undefined && (code.startsWith(`ERR_SSL_`) || code === `EPROTO` || code.startsWith(`ERR_TLS_`)))
        return {outcome: `tls-error`, detail: `TLS handshake with ${host} failed (${code})`};
      return {outcome: `unreachable`, detail: `cannot reach ${host} (${code ?? oneLine(message, REGISTRY_MESSAGE_MAX)})`};
  }
}

function formatMs(ms: number): string {
  return ms % 1000 === 0 ? `${ms / 1000}s` : `${ms}ms`;
}

/** Longest registry message embedded in a detail. */
export const REGISTRY_MESSAGE_MAX = 200;
