/**
 * The HTTP layer of the Kubernetes adapter: one request with a per-request timeout, retries with
 * exponential backoff and jitter (honouring `Retry-After`), gzip, a request counter and `-v` log lines.
 * It never logs headers or bodies.
 *
 * Requests that run together share one HTTP/2 connection (ALPN), as kubectl's do: API servers speak it, and `list`
 * sends ten lists at once over one TLS handshake instead of ten. The HTTP/2 client is the transport's own (http2.ts):
 * node:http2 cost such a run more to load and to run for the first time than its requests (docs/toolchain.md). A
 * request that runs alone (nothing else in flight or sent in the same turn of the event loop: `decode`'s one read,
 * `add`'s read then its write) goes over an HTTP/1.1 connection the transport keeps itself (http1.ts), reused by the
 * next lone request: one request gains nothing from HTTP/2, and node:https with node:http's client cost as much. A server that answers the HTTP/2 offer with HTTP/1.1 gets the
 * keep-alive agent, whose first request uses the connection ALPN was offered on (one handshake, as Go's transport);
 * so do requests through a proxy, watches, and requests that run together on a plain-HTTP server. node:http and
 * node:https load only for the agent.
 */
import type {Agent, ClientRequest, IncomingHttpHeaders, IncomingMessage, RequestOptions} from 'node:http';
import {connect as netConnect} from 'node:net';
import type {Socket} from 'node:net';
import {connect as tlsConnect} from 'node:tls';
import type {SecureContext, TLSSocket} from 'node:tls';
import {VERSION} from '../../version.ts';
import {networkError} from './errors.ts';
import {AnswerReader, requestText} from './http1.ts';
import {Http2Connection, IDLE_TIMEOUT_MS} from './http2.ts';
import type {AnswerHeaders, Http2Failure, Http2Request, RequestField} from './http2.ts';

/** One request as the session builds it. */
export type TransportRequest = {
  method: `GET` | `POST` | `PUT` | `PATCH` | `DELETE`;
  /** Path and query, appended to the server URL (which may carry a path prefix). */
  path: string;
  body?: string;
  contentType?: string;
  /**
   * True when sending the request twice has the same effect as once (GET, PUT with resourceVersion,
   * DELETE, PATCH, access reviews). A non-idempotent request (POST create) is retried only when the
   * failure proves the server did not process it: 429, a 503 with Retry-After, or a reset on a reused
   * keep-alive socket before any response byte.
   */
  idempotent: boolean;
};

/** The answer, whatever its status (the session maps statuses to errors). */
export type TransportResponse = {status: number; statusText: string; headers: IncomingHttpHeaders; body: string; attempts: number};

/** Retry limits; the defaults suit an interactive CLI. */
export type RetryPolicy = {
  /** Attempts in total, the first included. */
  maxAttempts: number;
  /** First backoff in ms; doubled per retry, capped at `maxDelayMs`, with jitter. */
  baseDelayMs: number;
  maxDelayMs: number;
  /** Total backoff per request when the server gives no `Retry-After`. */
  budgetMs: number;
  /** A single `Retry-After` wait is capped at this, and the total wait when the server asks for more. */
  retryAfterCapMs: number;
};

export const DEFAULT_RETRY: RetryPolicy = {maxAttempts: 5, baseDelayMs: 250, maxDelayMs: 4000, budgetMs: 10_000, retryAfterCapMs: 30_000};

/** Statuses that mean "try again later" in Kubernetes (client-go retries the same set when Retry-After is present). */
const RETRYABLE_STATUSES = new Set([429, 500, 502, 503, 504]);
/** Socket errors after which an idempotent request may be repeated. */
const RETRYABLE_CODES = new Set([`ECONNRESET`, `EPIPE`, `ECONNABORTED`, `EAI_AGAIN`, `ETIMEDOUT`, `ERR_PULLSECRET_TIMEOUT`]);
/** The largest watch event line accepted (a Secret may hold up to 1 MiB of data, base64 and JSON around it). */
const MAX_STREAM_LINE = 4 * 1024 * 1024;
/** kubectl's dial timeout, used when `--request-timeout` is not set. */
const CONNECT_TIMEOUT_MS = 30_000;

/**
 * The TLS settings of the connections the transport opens itself (HTTP/2, and HTTP/1.1 for a lone request): the
 * agent's, kept as one object per agent, so that connections are never shared across client certificates.
 */
export type TlsSettings = {secureContext: SecureContext; servername?: string; rejectUnauthorized: boolean};

/**
 * What the transport's own connections need when no proxy is in the way: the TLS settings for an https:// server,
 * nothing more for http://. One object per agent (connections are kept per object).
 */
export type DirectSettings = {tls?: TlsSettings};

/** What one request authenticates with: headers and the agent carrying the TLS client certificate. */
export type RequestAuth = {
  headers: Record<string, string>;
  /** The keep-alive HTTP/1.1 agent, made on first use (node:http and node:https load only then). */
  agent: () => Agent;
  /** Without a proxy: what the transport's own connections need (absent: everything goes through `agent`). */
  direct?: DirectSettings;
  /** After a 401: fresh credentials (an exec plugin run again) to retry the request with once. */
  renew?: () => Promise<RequestAuth>;
};

type AttemptError = Error & {code?: string; reusedSocket?: boolean; responseStarted?: boolean};

/** The most of one API answer read, as received and once gunzipped (a page of 500 large objects stays far below). */
export const MAX_RESPONSE_BYTES = 512 * 1024 * 1024;

function tooLargeAnswer(max: number): AttemptError {
  return attemptError(`the API server's answer is larger than ${Math.round(max / 1024 / 1024)} MiB, the most this plugin reads from one answer`, `ERR_PULLSECRET_TOO_LARGE`);
}

function attemptError(message: string, code: string): AttemptError {
  const error: AttemptError = new Error(message);
  error.code = code;
  return error;
}

const requestTimedOut = (ms: number) => attemptError(`the request timed out after ${formatMs(ms)} (--request-timeout)`, `ERR_PULLSECRET_TIMEOUT`);
const connectionTimedOut = (ms: number) => attemptError(`the connection timed out after ${formatMs(ms)}`, `ETIMEDOUT`);

/**
 * An answer's body as text: gunzipped when the server compressed it (node:zlib loads only then; API servers compress
 * large lists), never more than `max` bytes once gunzipped. Throws the error the attempt fails with.
 */
function answerBody(chunks: Buffer[], contentEncoding: string | string[] | undefined, max: number): string {
  let raw = Buffer.concat(chunks);
  if (/gzip/i.test(String(contentEncoding ?? ``))) {
    try {
      raw = process.getBuiltinModule(`node:zlib`).gunzipSync(raw, {maxOutputLength: max});
    } catch (error) {
      throw (error as NodeJS.ErrnoException).code === `ERR_BUFFER_TOO_LARGE` ? tooLargeAnswer(max) : error;
    }
  }
  return raw.toString(`utf8`);
}

/** How an attempt ends: with an error, or with the answer. */
type AttemptDone = (error: AttemptError | undefined, value?: Omit<TransportResponse, `attempts`>) => void;

/** Ends an attempt with its complete answer: the body as answerBody reads it, or the error reading it makes. */
function endWithAnswer(done: AttemptDone, answer: Omit<TransportResponse, `attempts` | `body`>, chunks: Buffer[], max: number): void {
  let body: string;
  try {
    body = answerBody(chunks, answer.headers[`content-encoding`], max);
  } catch (error) {
    done(error as AttemptError);
    return;
  }
  done(undefined, {...answer, body});
}

/** The timers of one attempt, and its end: `end()` is true only the first time, and clears the timers then. */
class AttemptEnd {
  readonly timers: NodeJS.Timeout[] = [];
  private ended = false;

  end(): boolean {
    if (this.ended)
      return false;
    this.ended = true;
    for (const timer of this.timers)
      clearTimeout(timer);
    return true;
  }
}

/** The headers of a request (the agent's connections, the transport's own: http2Fields lowercases them), Content-Length aside. */
function http1Headers(request: TransportRequest, auth: RequestAuth): Record<string, string> {
  const headers: Record<string, string> = {
    Accept: `application/json`,
    [`Accept-Encoding`]: `gzip`,
    [`User-Agent`]: `kubectl-pullsecret/${VERSION}`,
    ...auth.headers,
  };
  if (request.body !== undefined)
    headers[`Content-Type`] = request.contentType ?? `application/json`;
  return headers;
}

/** Sends requests to one API server. */
export class Transport {
  private readonly server: string;
  private readonly contextName: string;
  private readonly auth: () => Promise<RequestAuth>;
  private readonly timeoutMs: number;
  private readonly log?: (line: string) => void;
  private readonly retry: RetryPolicy;
  private readonly sleep: (ms: number) => Promise<void>;
  private readonly random: () => number;
  private readonly maxResponseBytes: number;
  private readonly idleTimeoutMs: number;
  private sent = 0;
  /** One HTTP/2 connection per TLS settings; null once the server answered HTTP/1.1 (the agent's then). */
  private readonly http2Sessions = new Map<TlsSettings, Promise<Http2Connection | null>>();

  constructor(options: {server: string; contextName: string; auth: () => Promise<RequestAuth>; timeoutMs?: number; log?: (line: string) => void; retry?: Partial<RetryPolicy>; sleep?: (ms: number) => Promise<void>; random?: () => number; maxResponseBytes?: number; idleTimeoutMs?: number}) {
    this.maxResponseBytes = options.maxResponseBytes ?? MAX_RESPONSE_BYTES;
    this.idleTimeoutMs = options.idleTimeoutMs ?? IDLE_TIMEOUT_MS;
    this.server = options.server.replace(/\/+$/, ``);
    this.contextName = options.contextName;
    this.auth = options.auth;
    this.timeoutMs = options.timeoutMs ?? 0;
    this.log = options.log;
    this.retry = {...DEFAULT_RETRY, ...options.retry};
    this.sleep = options.sleep ?? (ms => new Promise(resolve => setTimeout(resolve, ms)));
    this.random = options.random ?? Math.random;
  }

  /** HTTP requests sent so far, retries included. */
  count(): number {
    return this.sent;
  }

  /**
   * Sends a request, retrying transient failures; throws `ClusterUnreachableError` when the server cannot be
   * reached. A 401 to renewable credentials (exec plugins) is retried once with fresh ones, like client-go;
   * that retry is safe for any request (the server did not process it) and does not count as an attempt.
   */
  async send(request: TransportRequest): Promise<TransportResponse> {
    let waited = 0;
    let timeouts = 0;
    let renewed: RequestAuth | undefined;
    let renewedOnce = false;
    for (let attempt = 1; ; attempt++) {
      const auth = renewed ?? await this.auth();
      renewed = undefined;
      let response: TransportResponse | undefined;
      let failure: AttemptError | undefined;
      try {
        response = {...await this.attempt(request, auth), attempts: attempt};
      } catch (error) {
        failure = error as AttemptError;
      }
      if (response?.status === 401 && auth.renew && !renewedOnce) {
        renewedOnce = true;
        this.log?.(`${request.method} ${this.server}${request.path}: the server rejected the credentials (401); renewing them and retrying once`);
        renewed = await auth.renew();
        attempt--;
        continue;
      }

      let delay: number | undefined;
      let why = ``;
      if (response) {
        if (!RETRYABLE_STATUSES.has(response.status))
          return response;
        const retryAfter = parseRetryAfter(response.headers[`retry-after`]);
        const safe = request.idempotent || response.status === 429 || (response.status === 503 && retryAfter !== undefined);
        if (!safe)
          return response;
        why = `${response.status} ${response.statusText}`;
        delay = retryAfter !== undefined ? Math.min(retryAfter, this.retry.retryAfterCapMs) : this.backoff(attempt);
        if (retryAfter === undefined && waited + delay > this.retry.budgetMs)
          return response;
        if (retryAfter !== undefined && waited + delay > this.retry.retryAfterCapMs)
          return response;
      } else {
        const code = failure!.code ?? ``;
        const timedOut = code === `ERR_PULLSECRET_TIMEOUT`;
        const staleSocket = code === `ECONNRESET` && failure!.reusedSocket === true && failure!.responseStarted !== true;
        const safe = (request.idempotent && RETRYABLE_CODES.has(code)) || staleSocket;
        // A timed-out request is repeated once: a server that is slow now is likely slow again.
        if (!safe || (timedOut && ++timeouts > 1))
          throw networkError(failure, this.server, this.contextName);
        why = code;
        delay = this.backoff(attempt);
        if (waited + delay > this.retry.budgetMs)
          throw networkError(failure, this.server, this.contextName);
      }
      if (attempt >= this.retry.maxAttempts) {
        if (response)
          return response;
        throw networkError(failure, this.server, this.contextName);
      }
      this.log?.(`retrying ${request.method} ${this.server}${request.path} in ${formatMs(delay)} (${why}; attempt ${attempt + 1} of ${this.retry.maxAttempts})`);
      await this.sleep(delay);
      waited += delay;
    }
  }

  /**
   * One streaming GET (a watch): no retry (the caller re-watches from its last resourceVersion). For a 2xx
   * answer, each complete line of the body goes to `onLine` as it arrives, and the promise resolves when
   * the server ends the stream or `signal` aborts it; other answers resolve with their (bounded) body.
   */
  async stream(path: string, onLine: (line: string) => void, signal: AbortSignal): Promise<{status: number; statusText: string; body: string}> {
    if (signal.aborted)
      return {status: 200, statusText: `aborted`, body: ``};
    const auth = await this.auth();
    const url = new URL(`${this.server}${path}`);
    this.sent++;
    const started = Date.now();
    return new Promise((resolve, reject) => {
      let settled = false;
      const finish = (error: Error | undefined, value?: {status: number; statusText: string; body: string}) => {
        if (settled)
          return;
        settled = true;
        signal.removeEventListener(`abort`, abort);
        this.log?.(`GET ${url.href} ${error ? (error as AttemptError).code ?? `error` : value!.status} (watch) ${Date.now() - started}ms`);
        if (error)
          reject(networkError(error, this.server, this.contextName));
        else
          resolve(value!);
      };
      const req = sendHttp1(url, {method: `GET`, agent: auth.agent(), headers: {Accept: `application/json`, [`User-Agent`]: `kubectl-pullsecret/${VERSION}`, ...auth.headers}}, res => {
        const status = res.statusCode ?? 0;
        if (status < 200 || status >= 300) {
          const chunks: Buffer[] = [];
          let size = 0;
          res.on(`data`, (chunk: Buffer) => {
            size += chunk.length;
            if (size <= MAX_STREAM_LINE)
              chunks.push(chunk);
          });
          res.on(`end`, () => finish(undefined, {status, statusText: res.statusMessage ?? ``, body: Buffer.concat(chunks).toString(`utf8`)}));
          res.on(`error`, error => finish(error));
          return;
        }
        let pending = ``;
        res.setEncoding(`utf8`);
        res.on(`data`, (chunk: string) => {
          pending += chunk;
          let newline: number;
          while ((newline = pending.indexOf(`\n`)) >= 0) {
            const line = pending.slice(0, newline);
            pending = pending.slice(newline + 1);
            if (line.trim() !== ``)
              onLine(line);
          }
          if (pending.length > MAX_STREAM_LINE)
            req.destroy(Object.assign(new Error(`a watch event is larger than ${MAX_STREAM_LINE} bytes`), {code: `ERR_PULLSECRET_EVENT_TOO_LARGE`}));
        });
        res.on(`end`, () => finish(undefined, {status, statusText: res.statusMessage ?? ``, body: ``}));
        res.on(`error`, error => (signal.aborted ? finish(undefined, {status, statusText: ``, body: ``}) : finish(error)));
      });
      const abort = () => {
        req.destroy();
        finish(undefined, {status: 200, statusText: `aborted`, body: ``});
      };
      signal.addEventListener(`abort`, abort);
      req.on(`error`, error => (signal.aborted ? undefined : finish(error)));
      req.end();
    });
  }

  /** Exponential backoff with "equal jitter": half fixed, half random (from the injected `random`, in [0, 1)). */
  private backoff(attempt: number): number {
    const base = Math.min(this.retry.maxDelayMs, this.retry.baseDelayMs * 2 ** (attempt - 1));
    return Math.round(base / 2 + this.random() * base / 2);
  }

  private async attempt(request: TransportRequest, auth: RequestAuth): Promise<Omit<TransportResponse, `attempts`>> {
    const url = new URL(`${this.server}${request.path}`);
    this.inFlight++;
    try {
      const direct = auth.direct;
      if (direct === undefined)
        return await this.attemptHttp1(request, auth, url);
      if (await this.runsAlone(direct))
        return await this.attemptLone(request, auth, direct, url);
      if (direct.tls !== undefined && url.protocol === `https:`)
        return await this.attemptHttp2(request, auth, direct.tls, url);
      return await this.attemptHttp1(request, auth, url);
    } finally {
      this.inFlight--;
    }
  }

  /** Requests of this transport in flight, over either protocol (counted from before a lone request's wait). */
  private inFlight = 0;
  /** The requests that arrived in this turn of the event loop, while none was in flight: they decide together. */
  private turn: {requests: number; decided: Promise<void>} | undefined;

  /**
   * Whether a request runs alone, and so goes over HTTP/1.1: no HTTP/2 connection is open or opening for these TLS
   * settings, no other request is in flight, and none other is sent in the same turn of the event loop (the requests
   * of a `Promise.all` all reach here before the turn ends). Requests that arrive together all take HTTP/2.
   */
  private async runsAlone(direct: DirectSettings): Promise<boolean> {
    const http2Open = () => direct.tls !== undefined && this.http2Sessions.has(direct.tls);
    if (http2Open())
      return false;
    if (this.turn === undefined) {
      if (this.inFlight > 1)
        return false;
      const turn = {requests: 0, decided: new Promise<void>(resolve => setImmediate(resolve))};
      this.turn = turn;
      void turn.decided.then(() => {
        if (this.turn === turn)
          this.turn = undefined;
      });
    }
    const turn = this.turn;
    turn.requests++;
    await turn.decided;
    return turn.requests === 1 && !http2Open();
  }

  /** The request over the session's HTTP/2 connection, or over HTTP/1.1 when the server does not speak HTTP/2. */
  private async attemptHttp2(request: TransportRequest, auth: RequestAuth, settings: TlsSettings, url: URL): Promise<Omit<TransportResponse, `attempts`>> {
    const started = Date.now();
    let connection: Http2Connection | null;
    try {
      connection = await this.http2Session(settings, url, auth.agent);
    } catch (error) {
      // Counted and logged as the request it was for, as a failed connection of the agent is.
      this.sent++;
      this.log?.(`${request.method} ${url.href} ${(error as AttemptError).code ?? `error`} ${Date.now() - started}ms`);
      throw error;
    }
    if (connection === null)
      return this.attemptHttp1(request, auth, url);
    const reused = connection.started > 0;
    this.sent++;
    const finish = (outcome: string) => this.log?.(`${request.method} ${url.href} ${outcome} ${Date.now() - started}ms`);
    return new Promise((resolve, reject) => {
      let responseStarted = false;
      let sent: Http2Request | undefined;
      const attempt = new AttemptEnd();
      const done: AttemptDone = (error, value) => {
        if (!attempt.end())
          return;
        if (error) {
          // A request the server provably did not act on may be sent again whatever its method, as after a stale socket.
          error.reusedSocket = reused || (error as Partial<Http2Failure>).unprocessed === true;
          error.responseStarted = responseStarted;
          sent?.cancel();
          finish(error.code ?? `error`);
          reject(error);
        } else {
          finish(String(value!.status));
          resolve(value!);
        }
      };
      let status = 0;
      let responseHeaders: AnswerHeaders = {};
      const chunks: Buffer[] = [];
      let size = 0;
      try {
        sent = connection.request(http2Fields(request, auth, url), request.body === undefined ? undefined : Buffer.from(request.body), {
          response: (answerStatus, headers) => {
            responseStarted = true;
            status = answerStatus;
            responseHeaders = headers;
          },
          data: chunk => {
            size += chunk.length;
            if (size > this.maxResponseBytes) {
              done(tooLargeAnswer(this.maxResponseBytes));
              return;
            }
            chunks.push(chunk);
          },
          end: () => endWithAnswer(done, {status, statusText: statusText(status), headers: responseHeaders}, chunks, this.maxResponseBytes),
          error: failure => done(failure),
        });
      } catch (error) {
        // A connection going away takes no new request (nothing was sent: it may be sent again); a header value
        // that would be malformed fails the request.
        done(error as AttemptError);
        return;
      }
      if (this.timeoutMs > 0) {
        // The connection's set-up counts against the request's time, as with the agent.
        attempt.timers.push(setTimeout(() => done(requestTimedOut(this.timeoutMs)), Math.max(0, this.timeoutMs - (Date.now() - started))));
      }
    });
  }

  /** The HTTP/2 connection for these TLS settings: opened on first use (null when the server chose HTTP/1.1). */
  private http2Session(settings: TlsSettings, url: URL, agent: () => Agent): Promise<Http2Connection | null> {
    let entry = this.http2Sessions.get(settings);
    if (entry !== undefined) {
      return entry.then(connection => {
        if (connection !== null && !connection.usable) {
          if (this.http2Sessions.get(settings) === entry)
            this.http2Sessions.delete(settings);
          return this.http2Session(settings, url, agent);
        }
        return connection;
      });
    }
    const forget = () => {
      if (this.http2Sessions.get(settings) === entry)
        this.http2Sessions.delete(settings);
    };
    entry = openHttp2(url, settings, this.timeoutMs > 0 ? this.timeoutMs : CONNECT_TIMEOUT_MS, {onClose: forget, idleTimeoutMs: this.idleTimeoutMs}).then(opened => {
      // HTTP/1.1 chosen: the connection is handed to the agent, whose first request uses it (no second handshake).
      if (opened instanceof Http2Connection)
        return opened;
      adoptConnection(agent(), opened);
      return null;
    }, error => {
      forget();
      throw error;
    });
    this.http2Sessions.set(settings, entry);
    return entry;
  }

  /**
   * The connection kept alive between lone requests, with the settings it was opened with; closed after
   * IDLE_TIMEOUT_MS without a request, as the HTTP/2 connections are.
   */
  private lone: {direct: DirectSettings; socket: Socket; idle: NodeJS.Timeout} | undefined;

  /**
   * A request that runs alone, over the transport's own HTTP/1.1 connection (http1.ts): the one kept open after the
   * last lone request when it still is, else a new one (over TLS, offering only HTTP/1.1 by ALPN). Failures carry what the
   * retry logic reads of the agent's (a reused connection, whether the answer had started).
   */
  private attemptLone(request: TransportRequest, auth: RequestAuth, direct: DirectSettings, url: URL): Promise<Omit<TransportResponse, `attempts`>> {
    const started = Date.now();
    this.sent++;
    const finish = (outcome: string) => this.log?.(`${request.method} ${url.href} ${outcome} ${Date.now() - started}ms`);
    let text: string;
    try {
      text = requestText({method: request.method, path: `${url.pathname}${url.search}`, host: url.host, headers: http1Headers(request, auth), body: request.body});
    } catch (error) {
      finish((error as AttemptError).code ?? `error`);
      return Promise.reject(error);
    }
    const kept = this.lone?.direct === direct && !this.lone.socket.destroyed && this.lone.socket.writable ? this.lone.socket : undefined;
    clearTimeout(this.lone?.idle);
    if (kept === undefined)
      this.lone?.socket.destroy();
    this.lone = undefined;
    const socket = kept ?? this.openLone(url, direct);
    return new Promise((resolve, reject) => {
      const reader = new AnswerReader({head: false, maxBodyBytes: this.maxResponseBytes, tooLarge: () => tooLargeAnswer(this.maxResponseBytes)});
      const attempt = new AttemptEnd();
      const done: AttemptDone = (error, value) => {
        if (!attempt.end())
          return;
        socket.off(`data`, onData);
        socket.off(`end`, onEnd);
        socket.off(`error`, onError);
        socket.off(`close`, onClose);
        if (error) {
          error.reusedSocket = kept !== undefined;
          error.responseStarted = reader.started;
          socket.destroy();
          finish(error.code ?? `error`);
          reject(error);
          return;
        }
        if (reader.reusable && !socket.destroyed && socket.writable) {
          // Kept for the next lone request; it keeps the process alive no longer.
          socket.pause();
          socket.unref();
          const idle = setTimeout(() => socket.destroy(), this.idleTimeoutMs);
          idle.unref();
          this.lone = {direct, socket, idle};
        } else {
          socket.destroy();
        }
        finish(String(value!.status));
        resolve(value!);
      };
      const complete = () => endWithAnswer(done, {status: reader.status, statusText: reader.statusText, headers: reader.headers}, reader.chunks, this.maxResponseBytes);
      const onData = (chunk: Buffer) => {
        let whole: boolean;
        try {
          whole = reader.push(chunk);
        } catch (error) {
          done(error as AttemptError);
          return;
        }
        if (whole)
          complete();
      };
      const onEnd = () => {
        if (reader.end())
          complete();
        else
          done(attemptError(reader.started ? `the connection closed before the answer was complete` : `the connection closed before the server answered`, `ECONNRESET`));
      };
      const onError = (error: Error) => done(error);
      const onClose = () => done(attemptError(`the connection closed before the answer was complete`, `ECONNRESET`));
      socket.on(`data`, onData);
      socket.once(`end`, onEnd);
      socket.once(`error`, onError);
      socket.once(`close`, onClose);
      socket.ref();
      socket.resume();
      if (this.timeoutMs > 0) {
        // The connection's set-up counts against the request's time, as with the agent.
        attempt.timers.push(setTimeout(() => done(requestTimedOut(this.timeoutMs)), this.timeoutMs));
      } else if (kept === undefined) {
        const timer = setTimeout(() => done(connectionTimedOut(CONNECT_TIMEOUT_MS)), CONNECT_TIMEOUT_MS);
        attempt.timers.push(timer);
        socket.once(direct.tls === undefined ? `connect` : `secureConnect`, () => clearTimeout(timer));
      }
      // Written as soon as the connection is up (a socket queues what is written before).
      socket.write(text);
    });
  }

  /** A new connection for lone requests (HTTP/1.1 only); its errors while idle are not the process's. */
  private openLone(url: URL, direct: DirectSettings): Socket {
    const socket = direct.tls === undefined
      ? netConnect({host: hostOf(url), port: Number(url.port || 80)})
      : connectTls(url, direct.tls, [`http/1.1`]);
    socket.on(`error`, () => {});
    socket.on(`close`, () => {
      if (this.lone?.socket === socket)
        this.lone = undefined;
    });
    return socket;
  }

  private attemptHttp1(request: TransportRequest, auth: RequestAuth, url: URL): Promise<Omit<TransportResponse, `attempts`>> {
    const started = Date.now();
    this.sent++;
    const finish = (outcome: string) => this.log?.(`${request.method} ${url.href} ${outcome} ${Date.now() - started}ms`);
    return new Promise((resolve, reject) => {
      let responseStarted = false;
      const attempt = new AttemptEnd();
      const done: AttemptDone = (error, value) => {
        if (!attempt.end())
          return;
        if (error) {
          error.reusedSocket = req.reusedSocket;
          error.responseStarted = responseStarted;
          finish(error.code ?? `error`);
          reject(error);
        } else {
          finish(String(value!.status));
          resolve(value!);
        }
      };
      const requestHeaders = http1Headers(request, auth);
      if (request.body !== undefined)
        requestHeaders[`Content-Length`] = String(Buffer.byteLength(request.body));
      const req = sendHttp1(url, {method: request.method, agent: auth.agent(), headers: requestHeaders}, res => {
        responseStarted = true;
        const chunks: Buffer[] = [];
        let size = 0;
        res.on(`data`, (chunk: Buffer) => {
          // A hostile or broken server cannot make us buffer without end: stop reading at the cap.
          size += chunk.length;
          if (size > this.maxResponseBytes) {
            req.destroy(tooLargeAnswer(this.maxResponseBytes));
            return;
          }
          chunks.push(chunk);
        });
        res.on(`error`, error => done(error as AttemptError));
        res.on(`end`, () => endWithAnswer(done, {status: res.statusCode ?? 0, statusText: res.statusMessage ?? ``, headers: res.headers}, chunks, this.maxResponseBytes));
      });
      req.on(`error`, error => done(error as AttemptError));
      if (this.timeoutMs > 0) {
        attempt.timers.push(setTimeout(() => req.destroy(requestTimedOut(this.timeoutMs)), this.timeoutMs));
      } else {
        req.on(`socket`, socket => {
          if (!socket.connecting)
            return;
          const timer = setTimeout(() => req.destroy(connectionTimedOut(CONNECT_TIMEOUT_MS)), CONNECT_TIMEOUT_MS);
          attempt.timers.push(timer);
          socket.once(`connect`, () => clearTimeout(timer));
        });
      }
      req.end(request.body);
    });
  }
}

/** The host to connect to: an IPv6 address without the brackets a URL gives it. */
function hostOf(url: URL): string {
  return url.hostname.replace(/^\[|\]$/g, ``);
}

/** A TLS connection to the server of `url` with the session's TLS settings, offering `protocols` by ALPN. */
function connectTls(url: URL, settings: TlsSettings, protocols: string[]): TLSSocket {
  const host = hostOf(url);
  return tlsConnect({
    host,
    port: Number(url.port || 443),
    secureContext: settings.secureContext,
    rejectUnauthorized: settings.rejectUnauthorized,
    ...(settings.servername !== undefined ? {servername: settings.servername} : /^[\d.]+$|:/.test(host) ? {} : {servername: host}),
    ALPNProtocols: protocols,
  });
}

/**
 * A TLS connection offering HTTP/2 and HTTP/1.1 (ALPN), as Go's client offers them; the HTTP/2 connection over it
 * (http2.ts), or the connection itself when the server picked HTTP/1.1 (as Go's transport then speaks HTTP/1.1 over it).
 * `options` go to the HTTP/2 connection (its `onClose` hears when it goes away).
 */
function openHttp2(url: URL, settings: TlsSettings, timeoutMs: number, options: {onClose: () => void; idleTimeoutMs: number}): Promise<Http2Connection | TLSSocket> {
  return new Promise((resolve, reject) => {
    const socket = connectTls(url, settings, [`h2`, `http/1.1`]);
    const timer = setTimeout(() => socket.destroy(connectionTimedOut(timeoutMs)), timeoutMs);
    socket.once(`error`, error => {
      clearTimeout(timer);
      reject(error);
    });
    socket.once(`secureConnect`, () => {
      clearTimeout(timer);
      resolve(socket.alpnProtocol === `h2` ? new Http2Connection(socket, options) : socket);
    });
  });
}

/** The header fields of an HTTP/2 request; credentials are marked never to be indexed by a proxy's compressor. */
function http2Fields(request: TransportRequest, auth: RequestAuth, url: URL): RequestField[] {
  const fields: RequestField[] = [[`:method`, request.method], [`:scheme`, `https`], [`:authority`, url.host], [`:path`, `${url.pathname}${url.search}`]];
  // The same header fields as over HTTP/1.1, lowercase as HTTP/2 writes names.
  for (const [name, value] of Object.entries(http1Headers(request, auth))) {
    const lower = name.toLowerCase();
    fields.push([lower, value, lower === `authorization` || lower === `proxy-authorization` || lower === `cookie`]);
  }
  return fields;
}

/**
 * Gives an HTTP/1.1 connection made with the agent's TLS settings to the agent: the next connection the agent would
 * open is this one, which then lives in its keep-alive pool like the others. Until then it does not keep the process
 * alive, and a connection that closed meanwhile is not used.
 */
function adoptConnection(agent: Agent, socket: TLSSocket): void {
  const own = agent.createConnection;
  let spare: TLSSocket | undefined = socket;
  socket.unref();
  socket.once(`close`, () => {
    spare = undefined;
  });
  agent.createConnection = function (this: Agent, ...args: Parameters<Agent[`createConnection`]>) {
    agent.createConnection = own;
    const adopted = spare;
    spare = undefined;
    if (adopted !== undefined && !adopted.destroyed && adopted.writable) {
      adopted.ref();
      return adopted;
    }
    return own.apply(this, args);
  };
}

/**
 * The reason phrases of the statuses API servers answer with, as Go's server writes them in an HTTP/1.1 status line,
 * so that messages read the same over both protocols; kept here because node:http's table would load node:http.
 */
const REASON_PHRASES: Record<number, string> = {
  400: `Bad Request`, 401: `Unauthorized`, 403: `Forbidden`, 404: `Not Found`, 405: `Method Not Allowed`, 406: `Not Acceptable`,
  409: `Conflict`, 410: `Gone`, 413: `Request Entity Too Large`, 415: `Unsupported Media Type`, 422: `Unprocessable Entity`,
  429: `Too Many Requests`, 500: `Internal Server Error`, 502: `Bad Gateway`, 503: `Service Unavailable`, 504: `Gateway Timeout`,
};

/** HTTP/2 has no reason phrase; messages name the status as HTTP/1.1 servers do. */
function statusText(status: number): string {
  if (status >= 200 && status < 300)
    return ``;
  return REASON_PHRASES[status] ?? process.getBuiltinModule(`node:http`).STATUS_CODES[status] ?? ``;
}

/** node:http's or node:https's `request`, loaded on first use (a run whose requests all go over the transport's own connections never needs them). */
function sendHttp1(url: URL, options: RequestOptions, onAnswer: (answer: IncomingMessage) => void): ClientRequest {
  return process.getBuiltinModule(url.protocol === `https:` ? `node:https` : `node:http`).request(url, options, onAnswer);
}

/** `Retry-After` in ms: delta-seconds or an HTTP date. */
export function parseRetryAfter(value: string | string[] | undefined): number | undefined {
  const text = Array.isArray(value) ? value[0] : value;
  if (text === undefined || text.trim() === ``)
    return undefined;
  if (/^\d+$/.test(text.trim()))
    return Number(text.trim()) * 1000;
  const date = Date.parse(text);
  return Number.isNaN(date) ? undefined : Math.max(0, date - Date.now());
}

function formatMs(ms: number): string {
  return ms >= 1000 ? `${(ms / 1000).toFixed(ms % 1000 === 0 ? 0 : 1)}s` : `${Math.round(ms)}ms`;
}
