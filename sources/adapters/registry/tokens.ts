/**
 * Registry tokens (docs/credential-rules.md R3.3–R3.5): which challenge a credential may answer, the realm rules,
 * the OAuth2 POST with containerd's fallback to GET + Basic, an anonymous GET without a credential, one in-flight
 * request per (realm, service, scopes, credential) shared by concurrent checks, and expiry.
 *
 * A challenge is bound to the host that sent it, as containerd's authorizer keys its handlers by host: a 401 that
 * arrives from another host (the registry redirected there) is never answered with the registry's credential, so
 * a host the registry points at cannot collect its password through a token realm of its choosing. When the
 * registry is not on this machine, token requests also refuse to connect to an address of this machine whatever
 * the realm's name resolves to (`0.0.0.0`, `[::ffff:127.0.0.1]`, a name pointing at 127.0.0.1).
 */
import crypto from 'node:crypto';
import type {BasicCredential} from '../../core/ports.ts';
import type {SecretRedactor} from '../../core/redact.ts';
import {parseWwwAuthenticate, preferredChallenge} from '../../core/registry/challenge.ts';
import type {AuthChallenge} from '../../core/registry/challenge.ts';
import {classifyTokenFailure} from '../../core/registry/classify.ts';
import {isLoopbackHost, realmDecision, splitHostPort} from '../../core/registry/policy.ts';
import {FinalCheck, SMALL_BODY_LIMIT} from './http.ts';
import type {HttpResponse, RegistryHttp} from './http.ts';

/** The OAuth2 `client_id` we announce (containerd says `containerd-client`). */
export const CLIENT_ID = `kubectl-pullsecret`;
/** Token servers may say less; clients treat anything below 60 s as 60 s (R3.5). */
const MIN_TOKEN_LIFETIME_S = 60;

type CachedToken = {token: string; expiresAt: number};

export const basicHeader = (credential: BasicCredential): string => `Basic ${Buffer.from(`${credential.username}:${credential.password}`).toString(`base64`)}`;

/** The challenge of a 401, and the host that sent it when that is not the registry (then it must not be answered). */
export type BoundChallenge = {challenge: AuthChallenge | undefined; foreignHost?: string};

export class TokenSource {
  readonly #http: RegistryHttp;
  readonly #redactor: SecretRedactor;
  readonly #insecureHosts: readonly string[];
  readonly #counters: {tokenRequests: number};
  /** Last challenge per registry host (only challenges that host sent), so later checks authenticate up front. */
  readonly #challenges = new Map<string, AuthChallenge>();
  /** Tokens per (realm, service, scopes, credential), shared by concurrent checks. */
  readonly #tokens = new Map<string, Promise<CachedToken>>();

  constructor(options: {http: RegistryHttp; redactor: SecretRedactor; insecureHosts: readonly string[]; counters: {tokenRequests: number}}) {
    this.#http = options.http;
    this.#redactor = options.redactor;
    this.#insecureHosts = options.insecureHosts;
    this.#counters = options.counters;
  }

  /**
   * The challenge of a 401 answer for `registryHost`. It is remembered for the host only when that host sent it;
   * one from another host (after a redirect) comes back with `foreignHost` and is never remembered.
   */
  bind(registryHost: string, response: HttpResponse): BoundChallenge {
    const challenge = preferredChallenge(parseWwwAuthenticate(response.headers[`www-authenticate`]));
    const expected = new URL(`${response.url.protocol}//${registryHost}/`).host.toLowerCase();
    if (response.url.host.toLowerCase() !== expected)
      return {challenge, foreignHost: response.url.host};
    if (challenge !== undefined)
      this.#challenges.set(registryHost, challenge);
    return {challenge};
  }

  /** The challenge `host` last sent in this run, if any. */
  known(host: string): AuthChallenge | undefined {
    return this.#challenges.get(host);
  }

  /** A token for the challenge `host` sent (cached unless `fresh`); registered with the redactor before use. */
  async token(host: string, challenge: AuthChallenge, credential: BasicCredential | null, scopes: string[], fresh: boolean): Promise<string> {
    const token = await this.#cachedToken(host, challenge, credential, scopes, fresh);
    this.#redactor.add(token);
    return token;
  }

  #cachedToken(host: string, challenge: AuthChallenge, credential: BasicCredential | null, scopes: string[], fresh: boolean): Promise<string> {
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
    return cached.then(entry => entry.expiresAt > Date.now() ? entry.token : (this.#tokens.get(key) === cached ? start() : this.#cachedToken(host, challenge, credential, scopes, false)));
  }

  /** R3.4: POST (password or refresh_token grant) when there is a credential, GET + Basic on 404/401/400 (405 with a username); anonymous GET otherwise. */
  async #fetchToken(host: string, realm: URL, service: string, scopes: string[], credential: BasicCredential | null): Promise<CachedToken> {
    const hasSecret = credential !== null && (credential.username !== `` || credential.password !== ``);
    // A remote registry's realm must not reach this machine, whatever its name resolves to (its own host name,
    // on another port, may: that is the registry's own token service).
    const forbidLocal = !isLoopbackHost(host) && realm.hostname.toLowerCase() !== splitHostPort(host).hostname;
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
      const response = await this.#http.send(realm, {method: `POST`, headers: {'content-type': `application/x-www-form-urlencoded`}, body: form.toString(), limit: SMALL_BODY_LIMIT, followRedirects: false, forbidLocal});
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
    const response = await this.#http.send(url, {method: `GET`, headers, limit: SMALL_BODY_LIMIT, followRedirects: false, forbidLocal});
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
}
