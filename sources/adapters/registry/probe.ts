/**
 * The registry client: what containerd does on the wire for ONE kubelet credential
 * (docs/credential-rules.md R3.6–R3.10): manifest HEAD with the full Accept list, the 401 challenge,
 * Basic retry or a Bearer token (OAuth2 POST first, GET + Basic fallback, anonymous GET without
 * a credential), one retry on `insufficient_scope`, GET when HEAD is refused or gives no digest.
 *
 * Why not `@snyk/docker-registry-v2-client` (4.0.5, read from its npm tarball on 2026-11-29):
 * it pulls in needle, psl and tslib, reads `process.env` for retry settings, only knows the GET
 * token flow (no OAuth2 POST with containerd's fallback rules), follows redirects inside needle,
 * retries 429/5xx with backoff (we must report them, not hide them) and throws HTTP errors rather
 * than classifying them. None of the safety rules below (per-request CA, plain HTTP only on
 * loopback, no cross-host Authorization, bounded bodies) would be under our control, so the
 * ~400 lines here are cheaper than adapting it.
 *
 * Transport: node:https/node:http, not undici. undici would do (client-node ships it), but the
 * build requires `--help` and `version` not to evaluate it (40-80 ms of start-up, scripts/build.ts;
 * this module itself is loaded lazily by main.ts, on a command's first registry check); node:https gives the same control: one
 * keep-alive Agent per probe whose CA list is the default and system stores plus `caFiles`, a
 * deadline on every request, capped body reads and manual redirects. Pure decisions (challenge
 * parsing, classification, transport policy) live in sources/core/registry and are unit-tested there.
 */
import crypto from 'node:crypto';
import {INPUT_CAPS, readBoundedFileSync} from '../local/files.ts';
import http from 'node:http';
import https from 'node:https';
import tls from 'node:tls';
import type {RegistryProbeOptions} from '../../core/ports.ts';
import {InputError, oneLine} from '../../core/errors.ts';
import {SecretRedactor} from '../../core/redact.ts';
import type {BasicCredential, ManifestTarget, PlatformsCheck, RegistryCheck, RegistryProbe} from '../../core/ports.ts';
import {platformsOfConfig, platformsOfManifest} from '../../core/registry/platforms.ts';
import {challengeScopes, parseWwwAuthenticate, preferredChallenge} from '../../core/registry/challenge.ts';
import type {AuthChallenge} from '../../core/registry/challenge.ts';
import {classifyManifestFailure, classifyTokenFailure, classifyTransportError, describeTarget, header, invalidTargetReason, parseRegistryErrors, REGISTRY_MESSAGE_MAX} from '../../core/registry/classify.ts';
import type {HeaderMap} from '../../core/registry/classify.ts';
import {mayCarryCredentials, mayForwardAuthorization, realmDecision, redirectDecision, schemesFor, splitHostPort} from '../../core/registry/policy.ts';

/** Media types a runtime accepts for the top-level manifest (an index or a single-platform manifest). */
export const MANIFEST_ACCEPT = [
  `application/vnd.oci.image.index.v1+json`,
  `application/vnd.oci.image.manifest.v1+json`,
  `application/vnd.docker.distribution.manifest.list.v2+json`,
  `application/vnd.docker.distribution.manifest.v2+json`,
].join(`, `);

/** The OAuth2 `client_id` we announce (containerd says `containerd-client`). */
export const CLIENT_ID = `kubectl-pullsecret`;

const DEFAULT_TIMEOUT_MS = 10_000;
/** Error and token bodies are small; anything larger is cut off (and a token that large is refused). */
const SMALL_BODY_LIMIT = 1024 * 1024;
/** containerd's manifest size limit. */
const MANIFEST_LIMIT = 4 * 1024 * 1024;
const MAX_REDIRECTS = 5;
const DOCKER_HUB_API_HOST = `registry-1.docker.io`;
/** Token servers may say less; clients treat anything below 60 s as 60 s (R3.5). */
const MIN_TOKEN_LIFETIME_S = 60;
/** Node error codes meaning "the peer does not speak TLS" (a plain-HTTP server answered our ClientHello). */
const NOT_TLS_CODES = new Set([`ERR_SSL_WRONG_VERSION_NUMBER`, `ERR_SSL_PACKET_LENGTH_TOO_LONG`, `ERR_SSL_HTTP_REQUEST`, `EPROTO`]);

type HttpResponse = {status: number; headers: HeaderMap; body: Buffer; truncated: boolean; url: URL};

/** A connection-level failure, carrying Node's error code (or `TIMEOUT`). */
class TransportFailure extends Error {
  readonly code: string | undefined;
  readonly host: string;
  constructor(host: string, code: string | undefined, message: string) {
    super(message);
    this.code = code;
    this.host = host;
  }
}

/** Ends a check early with a final answer (token refused, realm refused, …). */
class FinalCheck extends Error {
  readonly check: RegistryCheck;
  constructor(check: RegistryCheck) {
    super(check.detail);
    this.check = check;
  }
}

/** What goes on a manifest request: the header, and whether it carries (or derives from) a credential. */
type AuthState = {authorization?: string; credentialSent: boolean; scheme?: string};

type CachedToken = {token: string; expiresAt: number};

function errorCode(error: unknown): string | undefined {
  let current: unknown = error;
  for (let depth = 0; depth < 4 && typeof current === `object` && current !== null; depth++) {
    const code = (current as {code?: unknown}).code;
    if (typeof code === `string`)
      return code;
    current = (current as {cause?: unknown}).cause;
  }
  return undefined;
}

function readCaFiles(files: readonly string[]): string[] {
  return files.map(file => {
    let text: string;
    try {
      text = readBoundedFileSync(file, INPUT_CAPS.pem, `the CA file ${file}`).toString(`utf8`);
    } catch (error) {
      if (error instanceof InputError)
        throw error;
      throw new InputError(`cannot read the CA file ${file} (${errorCode(error) ?? String(error)}); pass a readable PEM file`);
    }
    if (!text.includes(`-----BEGIN CERTIFICATE-----`))
      throw new InputError(`the CA file ${file} holds no PEM certificate ("-----BEGIN CERTIFICATE-----")`);
    return text;
  });
}

function systemCertificates(): string[] {
  try {
    return [...new Set([...tls.getCACertificates(`default`), ...tls.getCACertificates(`system`)])];
  } catch {
    return [...tls.rootCertificates];
  }
}

const basicHeader = (credential: BasicCredential): string => `Basic ${Buffer.from(`${credential.username}:${credential.password}`).toString(`base64`)}`;

/** Builds the containerd-like registry probe; one per run, so its token cache lives for the run. */
export function makeRegistryProbe(options: RegistryProbeOptions = {}): RegistryProbe {
  return new HttpRegistryProbe(options);
}

class HttpRegistryProbe implements RegistryProbe {
  readonly #timeoutMs: number;
  readonly #insecureHosts: string[];
  readonly #userCas: string[];
  /** The run's secret register (or this probe's own): credentials and tokens are added before they are sent. */
  readonly #redactor: SecretRedactor;
  #httpAgent: http.Agent | undefined;
  #httpsAgent: https.Agent | undefined;
  readonly #counters = {tokenRequests: 0, manifestRequests: 0, pings: 0};
  /** The scheme that worked per host (HTTPS, or the plain-HTTP fallback for loopback/insecure hosts). */
  readonly #schemes = new Map<string, `https` | `http`>();
  /** Last challenge per host, so later checks authenticate up front as containerd's authorizer does. */
  readonly #challenges = new Map<string, AuthChallenge>();
  /** Tokens per (realm, service, scopes, credential), shared by concurrent checks. */
  readonly #tokens = new Map<string, Promise<CachedToken>>();

  constructor(options: RegistryProbeOptions) {
    this.#timeoutMs = options.timeoutMs ?? DEFAULT_TIMEOUT_MS;
    this.#insecureHosts = options.insecureHosts ?? [];
    this.#userCas = readCaFiles(options.caFiles ?? []);
    this.#redactor = options.redactor ?? new SecretRedactor();
  }

  stats(): {tokenRequests: number; manifestRequests: number; pings: number} {
    return {...this.#counters};
  }

  async checkManifest(target: ManifestTarget, credential: BasicCredential | null): Promise<RegistryCheck> {
    const invalid = invalidTargetReason(target);
    if (invalid !== null)
      return {outcome: `invalid-reference`, detail: invalid};
    if (credential !== null)
      this.#redactor.addCredential(credential.username, credential.password);
    const secrets: string[] = [];
    let check: RegistryCheck;
    try {
      check = await this.#check(dialHost(target.host), target, credential, secrets);
    } catch (error) {
      if (error instanceof FinalCheck)
        check = error.check;
      else if (error instanceof TransportFailure)
        check = classifyTransportError(error.host, error.code, error.message, this.#timeoutMs);
      else
        throw error;
    }
    // Registries echo text back; make sure nothing secret ever reaches a message.
    return {...check, detail: oneLine(this.#redactor.redact(check.detail))};
  }

  async platforms(target: ManifestTarget, credential: BasicCredential | null): Promise<PlatformsCheck> {
    if (credential !== null)
      this.#redactor.addCredential(credential.username, credential.password);
    const secrets: string[] = [];
    const failed = (detail: string): PlatformsCheck => ({ok: false, detail: oneLine(this.#redactor.redact(detail))});
    try {
      const host = dialHost(target.host);
      // The host's challenge is known from checkManifest: authenticate up front, one GET of the manifest.
      const auth = await this.#upFrontAuth(host, credential, `repository:${target.repository}:pull`, secrets);
      const response = await this.#manifestRequest(`GET`, host, `/v2/${target.repository}/manifests/${target.reference}`, auth);
      if (response.status < 200 || response.status >= 300 || response.truncated)
        return failed(`GET of the manifest of ${describeTarget(target)} answered HTTP ${response.status}${response.truncated ? ` (larger than 4 MiB)` : ``}`);
      const manifest = platformsOfManifest(response.body.toString(`utf8`), header(response.headers, `content-type`)?.split(`;`)[0]?.trim());
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
        return failed(classifyTransportError(error.host, error.code, error.message, this.#timeoutMs).detail);
      throw error;
    }
  }

  async #check(host: string, target: ManifestTarget, credential: BasicCredential | null, secrets: string[]): Promise<RegistryCheck> {
    const path = `/v2/${target.repository}/manifests/${target.reference}`;
    const scope = `repository:${target.repository}:pull`;
    let auth = await this.#upFrontAuth(host, credential, scope, secrets);
    let response = await this.#manifestRequest(`HEAD`, host, path, auth);
    // A token sent up front and refused makes the next token the one fresh retry containerd allows.
    const sentTokenUpFront = auth.scheme === `bearer`;

    if (response.status === 401) {
      const challenge = preferredChallenge(parseWwwAuthenticate(response.headers[`www-authenticate`]));
      if (challenge === undefined)
        return this.#final401(target, response, auth, credential, `no usable WWW-Authenticate challenge`);
      this.#challenges.set(host, challenge);
      const answered = await this.#answerChallenge(host, challenge, credential, challengeScopes(challenge).length > 0 ? challengeScopes(challenge) : [scope], secrets, sentTokenUpFront);
      if (answered === null)
        return this.#final401(target, response, auth, credential);
      auth = answered;
      response = await this.#manifestRequest(`HEAD`, host, path, auth);
      if (response.status === 401 && challenge.scheme === `bearer` && !sentTokenUpFront) {
        // containerd: a challenge carrying `error=` earns exactly one retry with a fresh token.
        const again = preferredChallenge(parseWwwAuthenticate(response.headers[`www-authenticate`]));
        if (again?.scheme === `bearer` && again.params.error !== undefined) {
          const retried = await this.#answerChallenge(host, again, credential, challengeScopes(again).length > 0 ? challengeScopes(again) : [scope], secrets, true);
          if (retried !== null) {
            auth = retried;
            response = await this.#manifestRequest(`HEAD`, host, path, auth);
          }
        }
      }
    }

    // Some registries refuse HEAD (405/501): ask with GET, as containerd does.
    if (response.status === 405 || response.status === 501)
      response = await this.#manifestRequest(`GET`, host, path, auth);

    if (response.status >= 200 && response.status < 300) {
      let digest = header(response.headers, `docker-content-digest`);
      let mediaType = header(response.headers, `content-type`)?.split(`;`)[0]?.trim();
      if (digest === undefined || digest === ``) {
        // No digest on HEAD (older registries): GET the manifest and hash it, as containerd does.
        const full = response.body.length > 0 || response.truncated ? response : await this.#manifestRequest(`GET`, host, path, auth);
        if (full.status >= 200 && full.status < 300 && !full.truncated) {
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
      };
    }

    if (response.status === 401)
      return this.#final401(target, response, auth, credential);

    let errors = parseRegistryErrors(this.#redactor.redact(response.body.toString(`utf8`), {cut: response.truncated}));
    // Docker Hub counts manifest GETs against the pull quota (R3.8), so it only ever gets HEADs.
    if ((response.status === 403 || response.status === 404) && errors.length === 0 && host !== DOCKER_HUB_API_HOST) {
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
  async #upFrontAuth(host: string, credential: BasicCredential | null, scope: string, secrets: string[]): Promise<AuthState> {
    const known = this.#challenges.get(host);
    if (known === undefined)
      return {credentialSent: false};
    // A token failure here is final: asking again after the registry's challenge would only repeat it.
    return await this.#answerChallenge(host, known, credential, [scope], secrets, false) ?? {credentialSent: false};
  }

  /**
   * Answers a challenge: Basic → the credential itself; Bearer → a token (cached unless `fresh`).
   * Returns null when there is nothing to answer with (anonymous facing Basic, unsupported scheme).
   */
  async #answerChallenge(host: string, challenge: AuthChallenge, credential: BasicCredential | null, scopes: string[], secrets: string[], fresh: boolean): Promise<AuthState | null> {
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
    const token = await this.#token(host, challenge, credential, scopes, fresh);
    this.#redactor.add(token);
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

  #token(host: string, challenge: AuthChallenge, credential: BasicCredential | null, scopes: string[], fresh: boolean): Promise<string> {
    const realm = challenge.params.realm ?? ``;
    const decision = realmDecision(realm, host, {withCredentials: credential !== null, insecureHosts: this.#insecureHosts});
    if (!decision.allowed)
      throw new FinalCheck({outcome: decision.kind === `insecure` ? `tls-error` : `unavailable`, detail: `${host}: ${decision.reason}`});
    const service = challenge.params.service ?? ``;
    const credentialKey = credential === null ? `anonymous` : crypto.createHash(`sha256`).update(`${credential.username}\0${credential.password}`).digest(`hex`);
    const key = [realm, service, [...scopes].sort().join(` `), credentialKey].join(`\n`);
    const start = (): Promise<string> => {
      // Registered synchronously, so concurrent checks for the same key share this one request.
      const pending = this.#fetchToken(host, new URL(realm), service, scopes, credential);
      this.#tokens.set(key, pending);
      // A rejection (401/403 from the token server) stays cached for the run like a token would;
      // transient failures (network, 5xx, 429) are forgotten so a later check may try again.
      pending.catch((error: unknown) => {
        const transient = !(error instanceof FinalCheck) || [`unavailable`, `rate-limited`, `unreachable`].includes(error.check.outcome);
        if (transient && this.#tokens.get(key) === pending)
          this.#tokens.delete(key);
      });
      return pending.then(entry => entry.token);
    };
    const cached = this.#tokens.get(key);
    if (cached === undefined || fresh)
      return start();
    // Waiters share the outcome of the request in flight, failure included.
    return cached.then(entry => entry.expiresAt > Date.now() ? entry.token : (this.#tokens.get(key) === cached ? start() : this.#token(host, challenge, credential, scopes, false)));
  }

  /** R3.4: POST (password or refresh_token grant) when there is a credential, GET + Basic on 404/401/400 (405 with a username); anonymous GET otherwise. */
  async #fetchToken(host: string, realm: URL, service: string, scopes: string[], credential: BasicCredential | null): Promise<CachedToken> {
    const hasSecret = credential !== null && (credential.username !== `` || credential.password !== ``);
    if (hasSecret) {
      const form = new URLSearchParams();
      if (credential.username !== ``) {
        form.set(`grant_type`, `password`);
        form.set(`username`, credential.username);
        form.set(`password`, credential.password);
      } else {
        form.set(`grant_type`, `refresh_token`);
        form.set(`refresh_token`, credential.password);
      }
      if (service !== ``)
        form.set(`service`, service);
      form.set(`client_id`, CLIENT_ID);
      if (scopes.length > 0)
        form.set(`scope`, scopes.join(` `));
      this.#counters.tokenRequests++;
      const response = await this.#send(realm, {method: `POST`, headers: {'content-type': `application/x-www-form-urlencoded`}, body: form.toString(), limit: SMALL_BODY_LIMIT, followRedirects: false});
      const fallBack = response.status === 404 || response.status === 401 || response.status === 400 || (response.status === 405 && credential.username !== ``);
      if (response.status === 200)
        return this.#parseToken(host, realm, response);
      if (!fallBack)
        throw new FinalCheck(classifyTokenFailure(host, realm.host, response.status, response.headers, true, credential.username, new Date()));
    }
    const url = new URL(realm);
    if (service !== ``)
      url.searchParams.set(`service`, service);
    for (const scope of scopes)
      url.searchParams.append(`scope`, scope);
    this.#counters.tokenRequests++;
    const headers: Record<string, string> = hasSecret ? {authorization: basicHeader(credential)} : {};
    const response = await this.#send(url, {method: `GET`, headers, limit: SMALL_BODY_LIMIT, followRedirects: false});
    if (response.status === 200)
      return this.#parseToken(host, realm, response);
    throw new FinalCheck(classifyTokenFailure(host, realm.host, response.status, response.headers, hasSecret, credential?.username, new Date()));
  }

  #parseToken(host: string, realm: URL, response: HttpResponse): CachedToken {
    const unusable = (why: string) => new FinalCheck({outcome: `unavailable`, httpStatus: response.status, detail: `the token server ${realm.host} for ${host} returned an unusable answer (${why})`});
    if (response.truncated)
      throw unusable(`larger than ${SMALL_BODY_LIMIT / 1024 / 1024} MiB`);
    let body: {token?: unknown; access_token?: unknown; expires_in?: unknown};
    try {
      body = JSON.parse(response.body.toString(`utf8`)) as typeof body;
    } catch {
      throw unusable(`not JSON`);
    }
    if (typeof body !== `object` || body === null)
      throw unusable(`not a JSON object`);
    // containerd and distribution prefer access_token when both are present.
    const token = typeof body.access_token === `string` && body.access_token !== `` ? body.access_token : body.token;
    if (typeof token !== `string` || token === ``)
      throw unusable(`no token or access_token`);
    if (!/^[\x21-\x7e]+$/.test(token))
      throw unusable(`the token has characters a header cannot carry`);
    const lifetime = typeof body.expires_in === `number` && body.expires_in > MIN_TOKEN_LIFETIME_S ? body.expires_in : MIN_TOKEN_LIFETIME_S;
    return {token, expiresAt: Date.now() + lifetime * 1000};
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
        const response = await this.#send(url, {method, headers, limit: method === `GET` ? MANIFEST_LIMIT : SMALL_BODY_LIMIT, followRedirects: true});
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

  #agentFor(url: URL): http.Agent {
    if (url.protocol === `http:`) {
      this.#httpAgent ??= new http.Agent({keepAlive: true, maxSockets: 16});
      return this.#httpAgent;
    }
    this.#httpsAgent ??= new https.Agent({keepAlive: true, maxSockets: 16, ca: [...systemCertificates(), ...this.#userCas]});
    return this.#httpsAgent;
  }

  /** One request with a deadline, a capped body, and manual redirects that never carry Authorization to another origin. */
  async #send(url: URL, init: {method: string; headers: Record<string, string>; body?: string; limit: number; followRedirects: boolean}): Promise<HttpResponse> {
    let current = url;
    let headers = {...init.headers, 'user-agent': `kubectl-pullsecret`};
    for (let hop = 0; ; hop++) {
      const response = await this.#once(current, init.method, headers, init.body, init.limit);
      const location = header(response.headers, `location`);
      if (!init.followRedirects || ![301, 302, 303, 307, 308].includes(response.status) || location === undefined)
        return response;
      if (hop >= MAX_REDIRECTS)
        throw new FinalCheck({outcome: `unavailable`, httpStatus: response.status, detail: `${url.host} redirected more than ${MAX_REDIRECTS} times`});
      let next: URL;
      try {
        next = new URL(location, current);
      } catch {
        throw new FinalCheck({outcome: `unavailable`, httpStatus: response.status, detail: `${url.host} redirected to an invalid location`});
      }
      const decision = redirectDecision(next, this.#insecureHosts);
      if (!decision.allowed)
        throw new FinalCheck({outcome: `tls-error`, httpStatus: response.status, detail: `${url.host}: ${decision.reason}`});
      if (!mayForwardAuthorization(current, next)) {
        const {authorization: _dropped, ...rest} = headers as Record<string, string>;
        headers = rest as typeof headers;
      }
      current = next;
    }
  }

  #once(url: URL, method: string, headers: Record<string, string>, body: string | undefined, limit: number): Promise<HttpResponse> {
    const send = url.protocol === `https:` ? https.request : http.request;
    return new Promise((resolve, reject) => {
      let settled = false;
      const fail = (error: TransportFailure) => {
        if (!settled) {
          settled = true;
          clearTimeout(timer);
          reject(error);
        }
      };
      const outgoing = send(url, {
        method,
        headers: body === undefined ? headers : {...headers, 'content-length': String(Buffer.byteLength(body))},
        agent: this.#agentFor(url),
      }, incoming => {
        const chunks: Buffer[] = [];
        let size = 0;
        let truncated = false;
        // Only a successful manifest may be large; error bodies are capped at 1 MiB whatever was asked.
        const status = incoming.statusCode ?? 0;
        const cap = status >= 200 && status < 300 ? limit : Math.min(limit, SMALL_BODY_LIMIT);
        const finish = () => {
          if (settled)
            return;
          settled = true;
          clearTimeout(timer);
          resolve({status, headers: incoming.headers as HeaderMap, body: Buffer.concat(chunks), truncated, url});
        };
        incoming.on(`data`, (chunk: Buffer) => {
          if (truncated)
            return;
          size += chunk.length;
          if (size > cap) {
            // Stop reading: the rest of an oversized body is never buffered.
            truncated = true;
            chunks.push(chunk.subarray(0, Math.max(0, cap - (size - chunk.length))));
            outgoing.destroy();
            finish();
            return;
          }
          chunks.push(chunk);
        });
        incoming.on(`end`, finish);
        incoming.on(`error`, error => fail(new TransportFailure(url.host, errorCode(error), oneLine(error.message, REGISTRY_MESSAGE_MAX))));
      });
      // One deadline for connect, headers and body together.
      const timer = setTimeout(() => {
        fail(new TransportFailure(url.host, `TIMEOUT`, `timed out`));
        outgoing.destroy();
      }, this.#timeoutMs);
      outgoing.on(`error`, error => {
        fail(new TransportFailure(url.host, errorCode(error), oneLine(error.message, REGISTRY_MESSAGE_MAX)));
      });
      outgoing.end(body);
    });
  }
}

/** Docker Hub's image host is not its API host (R3.8); every other host is dialled as written. */
function dialHost(host: string): string {
  const lower = host.toLowerCase();
  return lower === `docker.io` || lower === `index.docker.io` ? DOCKER_HUB_API_HOST : host;
}

