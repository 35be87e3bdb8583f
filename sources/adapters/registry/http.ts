/**
 * The registry adapter's HTTP layer (as go-containerregistry's `transport/` is split): one request with a
 * deadline for connect, headers and body together, a capped body, manual redirects that never carry
 * `Authorization` to another origin, the CA list (default and system stores plus `--certificate-authority`
 * files), unverified TLS only for `--insecure-registry` hosts, and a guard that refuses to connect to an
 * address of the local machine when asked to (token realms named by a remote registry).
 *
 * Transport: node:https/node:http, not undici. undici would do (client-node ships it), but the build requires
 * `--help` and `version` not to evaluate it (40-80 ms of start-up, scripts/build.ts); node:https gives the same
 * control. Pure decisions (transport policy) live in sources/core/registry/policy.ts.
 */
import dns from 'node:dns';
import http from 'node:http';
import https from 'node:https';
import type {LookupAddress} from 'node:dns';
import tls from 'node:tls';
import {InputError, oneLine} from '../../core/errors.ts';
import type {RegistryCheck} from '../../core/ports.ts';
import {REGISTRY_MESSAGE_MAX, header} from '../../core/registry/classify.ts';
import type {HeaderMap} from '../../core/registry/classify.ts';
import {isInsecureHost, isLocalAddress, mayForwardAuthorization, redirectDecision} from '../../core/registry/policy.ts';
import {INPUT_CAPS, readBoundedFileSync} from '../local/files.ts';
import {useDefaultTrust} from '../trust.ts';

/** Error and token bodies are small; anything larger is cut off (and a token that large is refused). */
export const SMALL_BODY_LIMIT = 1024 * 1024;
const MAX_REDIRECTS = 5;

export type HttpResponse = {status: number; headers: HeaderMap; body: Buffer; truncated: boolean; url: URL};

export type SendInit = {
  method: string;
  headers: Record<string, string>;
  body?: string;
  limit: number;
  followRedirects: boolean;
  /** Refuse to connect to an address of this machine (loopback, unspecified, IPv4-mapped forms), whatever the name resolves to. */
  forbidLocal?: boolean;
};

/** A connection-level failure, carrying Node's error code (or `TIMEOUT`). */
export class TransportFailure extends Error {
  readonly code: string | undefined;
  readonly host: string;
  constructor(host: string, code: string | undefined, message: string) {
    super(message);
    this.code = code;
    this.host = host;
  }
}

/** Ends a check early with a final answer (token refused, realm refused, …). */
export class FinalCheck extends Error {
  readonly check: RegistryCheck;
  constructor(check: RegistryCheck) {
    super(check.detail);
    this.check = check;
  }
}

/** The error code of a Node error or of its causes. */
export function errorCode(error: unknown): string | undefined {
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
  // Node's default store, not a cluster's CA that a session of this run made it hold for a moment (adapters/trust.ts).
  useDefaultTrust();
  try {
    return [...new Set([...tls.getCACertificates(`default`), ...tls.getCACertificates(`system`)])];
  } catch {
    return [...tls.rootCertificates];
  }
}

const LOCAL_REFUSED = `ERR_PULLSECRET_LOCAL_ADDRESS`;

/** `dns.lookup` that fails when any address the name resolves to is on this machine. */
function lookupNotLocal(hostname: string, options: dns.LookupOptions, callback: (error: NodeJS.ErrnoException | null, address: string | LookupAddress[], family?: number) => void): void {
  dns.lookup(hostname, {...options, all: true}, (error, addresses) => {
    if (error) {
      callback(error, ``);
      return;
    }
    const local = addresses.find(entry => isLocalAddress(entry.address));
    if (local !== undefined) {
      const refused: NodeJS.ErrnoException = new Error(`${hostname} resolves to ${local.address}, an address of this machine`);
      refused.code = LOCAL_REFUSED;
      callback(refused, ``);
      return;
    }
    if (options.all)
      callback(null, addresses);
    else
      callback(null, addresses[0]!.address, addresses[0]!.family);
  });
}

export type RegistryHttpOptions = {timeoutMs: number; insecureHosts: readonly string[]; caFiles: readonly string[]; log?: (line: string) => void};

/** One per probe: keep-alive agents (verified and, for insecure hosts, unverified TLS) and the request deadline. */
export class RegistryHttp {
  readonly timeoutMs: number;
  readonly #insecureHosts: readonly string[];
  readonly #userCas: string[];
  readonly #log: ((line: string) => void) | undefined;
  readonly #announcedInsecure = new Set<string>();
  #httpAgent: http.Agent | undefined;
  #httpsAgent: https.Agent | undefined;
  #insecureAgent: https.Agent | undefined;

  constructor(options: RegistryHttpOptions) {
    this.timeoutMs = options.timeoutMs;
    this.#insecureHosts = options.insecureHosts;
    this.#userCas = readCaFiles(options.caFiles);
    this.#log = options.log;
  }

  /** One request with a deadline, a capped body, and manual redirects that never carry Authorization to another origin. */
  async send(url: URL, init: SendInit): Promise<HttpResponse> {
    let current = url;
    let headers = {...init.headers, 'user-agent': `kubectl-pullsecret`};
    for (let hop = 0; ; hop++) {
      const response = await this.#once(current, init.method, headers, init.body, init.limit, init.forbidLocal === true);
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

  #agentFor(url: URL): http.Agent {
    if (url.protocol === `http:`) {
      this.#httpAgent ??= new http.Agent({keepAlive: true, maxSockets: 16});
      return this.#httpAgent;
    }
    if (isInsecureHost(url.host, this.#insecureHosts)) {
      // --insecure-registry: TLS without certificate verification, as documented (and said under -v).
      if (!this.#announcedInsecure.has(url.host)) {
        this.#announcedInsecure.add(url.host);
        this.#log?.(`registry ${url.host}: TLS certificate verification is off (--insecure-registry)`);
      }
      this.#insecureAgent ??= new https.Agent({keepAlive: true, maxSockets: 16, rejectUnauthorized: false});
      return this.#insecureAgent;
    }
    // One secure context holding the CA list, built once: an agent given `ca` instead copies the whole list into every
    // request's options, and the agent's pool key (getName) concatenates it, ~200 KB of PEM per request, which was
    // the largest CPU cost of `verify` over thousands of TLS images (bench/verify-images.ts).
    this.#httpsAgent ??= new https.Agent({keepAlive: true, maxSockets: 16, secureContext: tls.createSecureContext({ca: [...systemCertificates(), ...this.#userCas]})});
    return this.#httpsAgent;
  }

  #once(url: URL, method: string, headers: Record<string, string>, body: string | undefined, limit: number, forbidLocal: boolean): Promise<HttpResponse> {
    if (forbidLocal && isLocalAddress(url.hostname))
      return Promise.reject(new FinalCheck({outcome: `tls-error`, detail: `${url.host} is an address of this machine; refusing to send credentials there`}));
    const send = url.protocol === `https:` ? https.request : http.request;
    if (url.protocol === `https:`)
      useDefaultTrust();
    return new Promise((resolve, reject) => {
      let settled = false;
      const fail = (error: Error) => {
        if (!settled) {
          settled = true;
          clearTimeout(timer);
          reject(error);
        }
      };
      const transportFailure = (error: Error) => errorCode(error) === LOCAL_REFUSED
        ? new FinalCheck({outcome: `tls-error`, detail: `${oneLine(error.message, REGISTRY_MESSAGE_MAX)}; refusing to send credentials there`})
        : new TransportFailure(url.host, errorCode(error), oneLine(error.message, REGISTRY_MESSAGE_MAX));
      const outgoing = send(url, {
        method,
        headers: body === undefined ? headers : {...headers, 'content-length': String(Buffer.byteLength(body))},
        // A guarded request gets its own connection, so a pooled socket to a checked host is never reused for it.
        agent: forbidLocal ? false : this.#agentFor(url),
        ...(forbidLocal ? {lookup: lookupNotLocal as unknown as typeof dns.lookup, ...(url.protocol === `https:` ? {ca: [...systemCertificates(), ...this.#userCas]} : {})} : {}),
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
        incoming.on(`error`, error => fail(transportFailure(error)));
      });
      // One deadline for connect, headers and body together.
      const timer = setTimeout(() => {
        fail(new TransportFailure(url.host, `TIMEOUT`, `timed out`));
        outgoing.destroy();
      }, this.timeoutMs);
      outgoing.on(`error`, error => fail(transportFailure(error)));
      outgoing.end(body);
    });
  }
}
