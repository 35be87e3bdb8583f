/**
 * The registry check: what containerd does on the wire for ONE kubelet credential
 * (docs/credential-rules.md R3.6–R3.10): manifest HEAD with the full Accept list, the 401 challenge,
 * Basic retry or a Bearer token (tokens.ts), one retry on `insufficient_scope`, GET when HEAD is refused or
 * gives no digest. HTTP (deadline, body cap, redirects, CA, insecure TLS) is http.ts.
 *
 * Why not `@snyk/docker-registry-v2-client` (4.0.5, read from its npm tarball on 2026-11-29):
 * it pulls in needle, psl and tslib, reads `process.env` for retry settings, only knows the GET
 * token flow (no OAuth2 POST with containerd's fallback rules), follows redirects inside needle,
 * retries 429/5xx with backoff (we must report them, not hide them) and throws HTTP errors rather
 * than classifying them. None of the safety rules (per-request CA, plain HTTP only on loopback, no
 * cross-host Authorization, challenges bound to their host, bounded bodies) would be under our control.
 * Pure decisions (challenge parsing, classification, transport policy) live in sources/core/registry.
 */
import crypto from 'node:crypto';
import type {BasicCredential, ManifestTarget, PlatformsCheck, RegistryCheck, RegistryProbe, RegistryProbeOptions} from '../../core/ports.ts';
import {platformsOfConfig, platformsOfManifest} from '../../core/registry/platforms.ts';
import type {ManifestPlatforms} from '../../core/registry/platforms.ts';
import {oneLine} from '../../core/errors.ts';
import {SecretRedactor} from '../../core/redact.ts';
import {challengeScopes, parseWwwAuthenticate, preferredChallenge} from '../../core/registry/challenge.ts';
import type {AuthChallenge} from '../../core/registry/challenge.ts';
import {classifyManifestFailure, classifyTransportError, describeTarget, header, invalidTargetReason, parseRegistryErrors} from '../../core/registry/classify.ts';
import {mayCarryCredentials, schemesFor, splitHostPort} from '../../core/registry/policy.ts';
import {FinalCheck, RegistryHttp, SMALL_BODY_LIMIT, TransportFailure} from './http.ts';
import type {HttpResponse} from './http.ts';
import {TokenSource, basicHeader} from './tokens.ts';

export {CLIENT_ID} from './tokens.ts';

/** Media types a runtime accepts for the top-level manifest (an index or a single-platform manifest). */
export const MANIFEST_ACCEPT = [
  `application/vnd.oci.image.index.v1+json`,
  `application/vnd.oci.image.manifest.v1+json`,
  `application/vnd.docker.distribution.manifest.list.v2+json`,
  `application/vnd.docker.distribution.manifest.v2+json`,
].join(`, `);

const DEFAULT_TIMEOUT_MS = 10_000;
/** containerd's manifest size limit. */
const MANIFEST_LIMIT = 4 * 1024 * 1024;
const DOCKER_HUB_API_HOST = `registry-1.docker.io`;
/** Node error codes meaning "the peer does not speak TLS" (a plain-HTTP server answered our ClientHello). */
const NOT_TLS_CODES = new Set([`ERR_SSL_WRONG_VERSION_NUMBER`, `ERR_SSL_PACKET_LENGTH_TOO_LONG`, `ERR_SSL_HTTP_REQUEST`, `EPROTO`]);

/** What goes on a manifest request: the header, and whether it carries (or derives from) a credential. */
type AuthState = {authorization?: string; credentialSent: boolean; scheme?: string};

/** Builds the containerd-like registry probe; one per run, so its token cache lives for the run. */
export function makeRegistryProbe(options: RegistryProbeOptions = {}): RegistryProbe {
  return new HttpRegistryProbe(options);
}

class HttpRegistryProbe implements RegistryProbe {
  readonly #http: RegistryHttp;
  readonly #tokens: TokenSource;
  readonly #insecureHosts: string[];
  /** The run's secret register (or this probe's own): credentials and tokens are added before they are sent. */
  readonly #redactor: SecretRedactor;
  readonly #counters = {tokenRequests: 0, manifestRequests: 0, pings: 0};
  /** The scheme that worked per host (HTTPS, or the plain-HTTP fallback for loopback/insecure hosts). */
  readonly #schemes = new Map<string, `https` | `http`>();

  constructor(options: RegistryProbeOptions) {
    this.#insecureHosts = options.insecureHosts ?? [];
    this.#redactor = options.redactor ?? new SecretRedactor();
    this.#http = new RegistryHttp({timeoutMs: options.timeoutMs ?? DEFAULT_TIMEOUT_MS, insecureHosts: this.#insecureHosts, caFiles: options.caFiles ?? [], log: options.log});
    this.#tokens = new TokenSource({http: this.#http, redactor: this.#redactor, insecureHosts: this.#insecureHosts, counters: this.#counters});
  }

  stats(): {tokenRequests: number; manifestRequests: number; pings: number} {
    return {...this.#counters};
  }

  async checkManifest(target: ManifestTarget, credential: BasicCredential | null, options: {readManifest?: boolean} = {}): Promise<RegistryCheck> {
    const invalid = invalidTargetReason(target);
    if (invalid !== null)
      return {outcome: `invalid-reference`, detail: invalid};
    if (credential !== null)
      this.#redactor.addCredential(credential.username, credential.password);
    let check: RegistryCheck;
    try {
      const host = dialHost(target.host);
      // Docker Hub counts manifest GETs against the pull quota (R3.8): it gets a HEAD, and a GET only once pullable.
      check = await this.#check(host, target, credential, options.readManifest === true && host !== DOCKER_HUB_API_HOST ? `GET` : `HEAD`);
    } catch (error) {
      if (error instanceof FinalCheck)
        check = error.check;
      else if (error instanceof TransportFailure)
        check = classifyTransportError(error.host, error.code, error.message, this.#http.timeoutMs);
      else
        throw error;
    }
    // Registries echo text back; make sure nothing secret ever reaches a message.
    return {...check, detail: oneLine(this.#redactor.redact(check.detail))};
  }

  async platforms(target: ManifestTarget, credential: BasicCredential | null, known?: ManifestPlatforms): Promise<PlatformsCheck> {
    if (credential !== null)
      this.#redactor.addCredential(credential.username, credential.password);
    const failed = (detail: string): PlatformsCheck => ({ok: false, detail: oneLine(this.#redactor.redact(detail))});
    try {
      const host = dialHost(target.host);
      // The host's challenge is known from checkManifest: authenticate up front, one GET of the manifest (unless the
      // check read it already).
      const auth = await this.#upFrontAuth(host, credential, `repository:${target.repository}:pull`);
      let manifest = known;
      if (manifest === undefined) {
        const response = await this.#manifestRequest(`GET`, host, `/v2/${target.repository}/manifests/${target.reference}`, auth);
        if (response.status < 200 || response.status >= 300 || response.truncated)
          return failed(`GET of the manifest of ${describeTarget(target)} answered HTTP ${response.status}${response.truncated ? ` (larger than 4 MiB)` : ``}`);
        manifest = platformsOfManifest(response.body.toString(`utf8`), header(response.headers, `content-type`)?.split(`;`)[0]?.trim());
      }
      if (manifest.kind === `error`)
        return failed(`${describeTarget(target)}: ${manifest.detail}`);
      if (manifest.kind === `index`)
        return {ok: true, platforms: manifest.platforms, index: true};
      // A single-platform manifest: its platform is in the config blob (a second GET, redirects allowed as for pulls).
      const blob = await this.#manifestRequest(`GET`, host, `/v2/${target.repository}/blobs/${manifest.config}`, auth);
      if (blob.status < 200 || blob.status >= 300 || blob.truncated)
        return failed(`GET of the image config of ${describeTarget(target)} answered HTTP ${blob.status}`);
      const config = platformsOfConfig(blob.body.toString(`utf8`));
      return config.kind === `error` ? failed(`${describeTarget(target)}: ${config.detail}`) : {ok: true, platforms: config.platforms, index: false};
    } catch (error) {
      if (error instanceof FinalCheck)
        return failed(error.check.detail);
      if (error instanceof TransportFailure)
        return failed(classifyTransportError(error.host, error.code, error.message, this.#http.timeoutMs).detail);
      throw error;
    }
  }

  /** The containerd flow with `method` for the manifest request: HEAD, or GET when the manifest is wanted. */
  async #check(host: string, target: ManifestTarget, credential: BasicCredential | null, method: `HEAD` | `GET`): Promise<RegistryCheck> {
    const path = `/v2/${target.repository}/manifests/${target.reference}`;
    const scope = `repository:${target.repository}:pull`;
    let auth = await this.#upFrontAuth(host, credential, scope);
    let response = await this.#manifestRequest(method, host, path, auth);
    // A token sent up front and refused makes the next token the one fresh retry containerd allows.
    const sentTokenUpFront = auth.scheme === `bearer`;

    if (response.status === 401) {
      const {challenge, foreignHost} = this.#tokens.bind(host, response);
      if (foreignHost !== undefined)
        return {outcome: `denied`, httpStatus: 401, detail: `${host} redirected to ${foreignHost}, which asks for credentials (HTTP 401); the credential for ${host} answers only ${host}'s own challenges, so nothing was sent to ${foreignHost}`};
      if (challenge === undefined)
        return this.#final401(target, response, auth, credential, `no usable WWW-Authenticate challenge`);
      const answered = await this.#answerChallenge(host, challenge, credential, challengeScopes(challenge).length > 0 ? challengeScopes(challenge) : [scope], sentTokenUpFront);
      if (answered === null)
        return this.#final401(target, response, auth, credential);
      auth = answered;
      response = await this.#manifestRequest(method, host, path, auth);
      if (response.status === 401 && challenge.scheme === `bearer` && !sentTokenUpFront) {
        // containerd: a challenge carrying `error=` earns exactly one retry with a fresh token.
        const again = this.#tokens.bind(host, response);
        if (again.foreignHost === undefined && again.challenge?.scheme === `bearer` && again.challenge.params.error !== undefined) {
          const retried = await this.#answerChallenge(host, again.challenge, credential, challengeScopes(again.challenge).length > 0 ? challengeScopes(again.challenge) : [scope], true);
          if (retried !== null) {
            auth = retried;
            response = await this.#manifestRequest(method, host, path, auth);
          }
        }
      }
    }

    // Some registries refuse HEAD (405/501): ask with GET, as containerd does.
    if (method === `HEAD` && (response.status === 405 || response.status === 501))
      response = await this.#manifestRequest(`GET`, host, path, auth);

    if (response.status >= 200 && response.status < 300) {
      let digest = header(response.headers, `docker-content-digest`);
      let mediaType = header(response.headers, `content-type`)?.split(`;`)[0]?.trim();
      if (digest === undefined || digest === ``) {
        // No digest on HEAD (older registries): GET the manifest and hash it, as containerd does.
        const full = response.body.length > 0 || response.truncated ? response : await this.#manifestRequest(`GET`, host, path, auth);
        if (full.status >= 200 && full.status < 300 && full.truncated)
          return {outcome: `unavailable`, httpStatus: full.status, detail: `${describeTarget(target)}: the manifest is larger than ${MANIFEST_LIMIT / 1024 / 1024} MiB, more than a container runtime accepts (containerd refuses it), so it cannot be pulled`};
        if (full.status >= 200 && full.status < 300) {
          digest = header(full.headers, `docker-content-digest`) ?? `sha256:${crypto.createHash(`sha256`).update(full.body).digest(`hex`)}`;
          mediaType = header(full.headers, `content-type`)?.split(`;`)[0]?.trim() ?? mediaType;
        }
      }
      return {
        outcome: `ok`,
        detail: `${describeTarget(target)} is pullable ${auth.credentialSent ? `with user "${credential?.username ?? ``}"` : `anonymously`}`,
        httpStatus: response.status,
        ...(digest === undefined || digest === `` ? {} : {digest}),
        ...(mediaType === undefined || mediaType === `` ? {} : {mediaType}),
        // The manifest a GET read, for the platform check (none when it was cut at the size cap: read again there).
        ...(method === `GET` && !response.truncated && response.body.length > 0 ? {manifest: platformsOfManifest(response.body.toString(`utf8`), mediaType)} : {}),
      };
    }

    if (response.status === 401)
      return this.#final401(target, response, auth, credential);

    let errors = parseRegistryErrors(this.#redactor.redact(response.body.toString(`utf8`), {cut: response.truncated}));
    // Docker Hub counts manifest GETs against the pull quota (R3.8), so it only ever gets HEADs.
    if (method === `HEAD` && (response.status === 403 || response.status === 404) && errors.length === 0 && host !== DOCKER_HUB_API_HOST) {
      // A HEAD answer has no body: GET once for the registry's error code and message (containerd does this for 403).
      const detailed = await this.#manifestRequest(`GET`, host, path, auth);
      if (detailed.status === response.status)
        errors = parseRegistryErrors(this.#redactor.redact(detailed.body.toString(`utf8`), {cut: detailed.truncated}));
    }
    return classifyManifestFailure(target, {status: response.status, headers: response.headers, errors, credentialSent: auth.credentialSent, username: credential?.username}, new Date());
  }

  #final401(target: ManifestTarget, response: HttpResponse, auth: AuthState, credential: BasicCredential | null, note?: string): RegistryCheck {
    const challenge = preferredChallenge(parseWwwAuthenticate(response.headers[`www-authenticate`]));
    const check = classifyManifestFailure(target, {
      status: 401,
      headers: response.headers,
      errors: [],
      credentialSent: auth.credentialSent,
      bearerError: challenge?.params.error,
      scheme: challenge?.scheme ?? auth.scheme,
      username: credential?.username,
    }, new Date());
    return note === undefined ? check : {...check, detail: `${check.detail}; ${note}`};
  }

  /** Authorization for the first request to a host already challenged in this run (skips one 401 round trip). */
  async #upFrontAuth(host: string, credential: BasicCredential | null, scope: string): Promise<AuthState> {
    const known = this.#tokens.known(host);
    if (known === undefined)
      return {credentialSent: false};
    // A token failure here is final: asking again after the registry's challenge would only repeat it.
    return await this.#answerChallenge(host, known, credential, [scope], false) ?? {credentialSent: false};
  }

  /**
   * Answers a challenge `host` sent: Basic → the credential itself; Bearer → a token (cached unless `fresh`).
   * Returns null when there is nothing to answer with (anonymous facing Basic, unsupported scheme).
   */
  async #answerChallenge(host: string, challenge: AuthChallenge, credential: BasicCredential | null, scopes: string[], fresh: boolean): Promise<AuthState | null> {
    if (challenge.scheme === `basic`) {
      if (credential === null)
        return null;
      if (credential.username === `` || credential.password === ``)
        throw new FinalCheck({outcome: `unauthorized`, detail: `${host} asks for Basic credentials but the credential has an empty ${credential.username === `` ? `username` : `password`}`});
      this.#requireSafeChannel(host);
      return {authorization: basicHeader(credential), credentialSent: true, scheme: `basic`};
    }
    if (challenge.scheme !== `bearer`)
      return null;
    const token = await this.#tokens.token(host, challenge, credential, scopes, fresh);
    this.#requireSafeChannel(host);
    // An all-empty credential fetched its token anonymously (R3.4), so nothing of it was sent.
    const sentSecret = credential !== null && (credential.username !== `` || credential.password !== ``);
    return {authorization: `Bearer ${token}`, credentialSent: sentSecret, scheme: `bearer`};
  }

  /** Credentials (and tokens) go only over HTTPS or to loopback. */
  #requireSafeChannel(host: string): void {
    const scheme = this.#schemes.get(host) ?? `https`;
    if (!mayCarryCredentials(new URL(`${scheme}://${host}/`)))
      throw new FinalCheck({outcome: `tls-error`, detail: `${host} answers only over plain HTTP; credentials are never sent over plain HTTP to a non-loopback host (serve the registry over HTTPS)`});
  }

  async #manifestRequest(method: `HEAD` | `GET`, host: string, path: string, auth: AuthState): Promise<HttpResponse> {
    const headers: Record<string, string> = {accept: MANIFEST_ACCEPT};
    if (auth.authorization !== undefined)
      headers.authorization = auth.authorization;
    const known = this.#schemes.get(host);
    const schemes = known === undefined ? schemesFor(host, this.#insecureHosts) : [known];
    for (let index = 0; ; index++) {
      const scheme = schemes[index]!;
      const url = new URL(`${scheme}://${host}${path}`);
      if (auth.authorization !== undefined && !mayCarryCredentials(url))
        throw new FinalCheck({outcome: `tls-error`, detail: `${host} answers only over plain HTTP; credentials are never sent over plain HTTP to a non-loopback host (serve the registry over HTTPS)`});
      this.#counters.manifestRequests++;
      try {
        const response = await this.#http.send(url, {method, headers, limit: method === `GET` ? MANIFEST_LIMIT : SMALL_BODY_LIMIT, followRedirects: true});
        this.#schemes.set(host, scheme);
        return response;
      } catch (error) {
        // Plain-HTTP fallback (loopback and insecure hosts only): when the peer does not speak TLS, or,
        // without an explicit port, when nothing listens on 443.
        const code = error instanceof TransportFailure ? error.code : undefined;
        const notTls = code !== undefined && NOT_TLS_CODES.has(code);
        const noPortRefused = code === `ECONNREFUSED` && splitHostPort(host).port === undefined;
        if (index + 1 < schemes.length && (notTls || noPortRefused))
          continue;
        throw error;
      }
    }
  }
}

/** Docker Hub's image host is not its API host (R3.8); every other host is dialled as written. */
function dialHost(host: string): string {
  const lower = host.toLowerCase();
  return lower === `docker.io` || lower === `index.docker.io` ? DOCKER_HUB_API_HOST : host;
}
