/**
 * One HTTP/1.1 request and its answer over a connection the kube transport holds itself (transport.ts), for a
 * request that runs alone: node:http's client (its agent, request and message streams, and node:https) costs a
 * one-request command about 8 ms to load and run for the first time, more than the request itself (docs/toolchain.md).
 * The answer is framed as RFC 9112 §6 says (chunked, Content-Length, or the connection's end), so that the connection
 * can carry the next lone request. Anything this reader does not expect of an API server is an error, never a guess.
 */
import type {IncomingHttpHeaders} from 'node:http';

/** The largest header section read (Node's own limit is 16 KiB). */
const MAX_HEAD_BYTES = 64 * 1024;

/** A malformed answer: the connection cannot be trusted with another request. */
export class MalformedAnswerError extends Error {
  readonly code = `ERR_PULLSECRET_BAD_ANSWER`;
}

/** A header name as HTTP/1.1 writes it: a token (RFC 9110 §5.6.2). */
const HTTP_TOKEN = /^[!#$%&'*+\-.^_`|~0-9A-Za-z]+$/;

/**
 * Throws as node:http does for a header field the transport's own connections must not send: a name that `name`
 * does not match (a token by default; http2.ts asks for lowercase, pseudo-header fields allowed), or a value that
 * would split the request (CR, LF, NUL).
 */
export function checkHeaderField(fieldName: string, value: string, name: RegExp = HTTP_TOKEN): void {
  if (!name.test(fieldName))
    throw Object.assign(new TypeError(`Header name must be a valid HTTP token ["${fieldName}"]`), {code: `ERR_INVALID_HTTP_TOKEN`});
  if (/[\r\n\0]/.test(value))
    throw Object.assign(new TypeError(`Invalid character in header content ["${fieldName}"]`), {code: `ERR_INVALID_CHAR`});
}

/** The text of one request; throws like node:http for a header field it must not send (`checkHeaderField`). */
export function requestText(request: {method: string; path: string; host: string; headers: Record<string, string>; body?: string}): string {
  const lines = [`${request.method} ${request.path} HTTP/1.1`, `Host: ${request.host}`];
  for (const [name, value] of Object.entries(request.headers)) {
    checkHeaderField(name, value);
    lines.push(`${name}: ${value}`);
  }
  if (request.body !== undefined)
    lines.push(`Content-Length: ${Buffer.byteLength(request.body)}`);
  return `${lines.join(`\r\n`)}\r\n\r\n${request.body ?? ``}`;
}

type Framing = {kind: `none`} | {kind: `length`; left: number} | {kind: `chunked`} | {kind: `close`};

/**
 * Reads one answer from the bytes of a connection, as they come. `push` returns true once the answer is complete;
 * `end` is called when the connection ends. Throws `MalformedAnswerError`, or `tooLarge()` when the body (as received)
 * passes `maxBodyBytes`.
 */
export class AnswerReader {
  status = 0;
  statusText = ``;
  headers: IncomingHttpHeaders = {};
  readonly chunks: Buffer[] = [];
  /** False when the connection must not carry another request after this answer. */
  reusable = true;
  /** True once a byte of the answer has arrived. */
  started = false;
  private pending: Buffer = Buffer.alloc(0);
  private framing: Framing | undefined;
  private size = 0;
  private complete = false;
  /** Chunked: the bytes left of the current chunk, or the state between chunks. */
  private chunkLeft = -1;
  private inTrailers = false;
  private readonly head: boolean;
  private readonly maxBodyBytes: number;
  private readonly tooLarge: () => Error;

  constructor(options: {head: boolean; maxBodyBytes: number; tooLarge: () => Error}) {
    this.head = options.head;
    this.maxBodyBytes = options.maxBodyBytes;
    this.tooLarge = options.tooLarge;
  }

  push(chunk: Buffer): boolean {
    if (chunk.length === 0)
      return this.complete;
    this.started = true;
    if (this.complete) {
      // Bytes after a complete answer that nobody asked for: do not reuse the connection.
      this.reusable = false;
      return true;
    }
    this.pending = this.pending.length === 0 ? chunk : Buffer.concat([this.pending, chunk]);
    for (;;) {
      if (this.framing === undefined) {
        if (!this.readHead())
          return false;
        continue;
      }
      if (!this.readBody())
        return false;
      this.complete = true;
      if (this.pending.length > 0)
        this.reusable = false;
      return true;
    }
  }

  /** The connection ended: completes an answer delimited by its end, else the answer was cut short. */
  end(): boolean {
    if (this.complete)
      return true;
    this.reusable = false;
    if (this.framing?.kind === `close`) {
      this.complete = true;
      return true;
    }
    return false;
  }

  /** Reads the status line and headers when they are all there; skips 1xx answers. */
  private readHead(): boolean {
    const endOfHead = this.pending.indexOf(`\r\n\r\n`);
    if (endOfHead < 0) {
      if (this.pending.length > MAX_HEAD_BYTES)
        throw new MalformedAnswerError(`the API server's answer has a header section larger than ${MAX_HEAD_BYTES / 1024} KiB`);
      return false;
    }
    const lines = this.pending.subarray(0, endOfHead).toString(`latin1`).split(`\r\n`);
    this.pending = this.pending.subarray(endOfHead + 4);
    const statusLine = /^HTTP\/1\.([01]) (\d{3})(?: (.*))?$/.exec(lines[0]!);
    if (statusLine === null)
      throw new MalformedAnswerError(`the API server's answer does not start with an HTTP/1.1 status line`);
    const status = Number(statusLine[2]);
    const headers: IncomingHttpHeaders = {};
    for (const line of lines.slice(1)) {
      const colon = line.indexOf(`:`);
      if (colon <= 0 || /^[ \t]/.test(line) || !/^[!#$%&'*+\-.^_`|~0-9A-Za-z]+$/.test(line.slice(0, colon)))
        throw new MalformedAnswerError(`the API server's answer has a malformed header line`);
      const name = line.slice(0, colon).toLowerCase();
      const value = line.slice(colon + 1).trim();
      const previous = headers[name];
      if (name === `set-cookie`)
        headers[name] = [...(previous as string[] | undefined ?? []), value];
      else
        headers[name] = previous === undefined ? value : `${String(previous)}, ${value}`;
    }
    if (status >= 100 && status < 200) {
      // 100 Continue, 103 Early Hints: the real answer follows. An upgrade (101) is nothing a request here asks for.
      if (status === 101)
        throw new MalformedAnswerError(`the API server switched protocols (101) in answer to a plain request`);
      return true;
    }
    this.status = status;
    this.statusText = statusLine[3] ?? ``;
    this.headers = headers;
    const connection = String(headers.connection ?? ``).toLowerCase().split(/\s*,\s*/);
    if (connection.includes(`close`) || (statusLine[1] === `0` && !connection.includes(`keep-alive`)))
      this.reusable = false;
    this.framing = this.framingOf(status, headers);
    return true;
  }

  private framingOf(status: number, headers: IncomingHttpHeaders): Framing {
    if (this.head || status === 204 || status === 304)
      return {kind: `none`};
    const transferEncoding = headers[`transfer-encoding`];
    if (transferEncoding !== undefined) {
      const codings = String(transferEncoding).toLowerCase().split(/\s*,\s*/);
      if (codings[codings.length - 1] === `chunked`)
        return {kind: `chunked`};
      this.reusable = false;
      return {kind: `close`};
    }
    const contentLength = headers[`content-length`];
    if (contentLength !== undefined) {
      const values = [...new Set(String(contentLength).split(/\s*,\s*/))];
      if (values.length !== 1 || !/^\d{1,15}$/.test(values[0]!))
        throw new MalformedAnswerError(`the API server's answer has an invalid Content-Length`);
      const length = Number(values[0]);
      if (length > this.maxBodyBytes)
        throw this.tooLarge();
      return {kind: `length`, left: length};
    }
    this.reusable = false;
    return {kind: `close`};
  }

  /** Takes what there is of the body; true when it is complete. */
  private readBody(): boolean {
    const framing = this.framing!;
    switch (framing.kind) {
      case `none`:
        return true;
      case `length`: {
        const take = Math.min(framing.left, this.pending.length);
        this.take(this.pending.subarray(0, take));
        this.pending = this.pending.subarray(take);
        framing.left -= take;
        return framing.left === 0;
      }
      case `close`:
        this.take(this.pending);
        this.pending = Buffer.alloc(0);
        return false;
      case `chunked`:
        return this.readChunks();
    }
  }

  private readChunks(): boolean {
    for (;;) {
      if (this.inTrailers) {
        // Trailer fields end with an empty line; they are read and dropped, as nothing here needs them.
        const lineEnd = this.pending.indexOf(`\r\n`);
        if (lineEnd < 0)
          return this.keepAtMost(MAX_HEAD_BYTES);
        this.pending = this.pending.subarray(lineEnd + 2);
        if (lineEnd === 0)
          return true;
        continue;
      }
      if (this.chunkLeft < 0) {
        const lineEnd = this.pending.indexOf(`\r\n`);
        if (lineEnd < 0)
          return this.keepAtMost(1024);
        const sizeText = /^([0-9A-Fa-f]{1,15})[ \t]*(?:;.*)?$/.exec(this.pending.subarray(0, lineEnd).toString(`latin1`));
        if (sizeText === null)
          throw new MalformedAnswerError(`the API server's answer has a malformed chunk size`);
        this.pending = this.pending.subarray(lineEnd + 2);
        const size = parseInt(sizeText[1]!, 16);
        if (size === 0) {
          this.inTrailers = true;
          continue;
        }
        if (this.size + size > this.maxBodyBytes)
          throw this.tooLarge();
        this.chunkLeft = size;
      }
      if (this.chunkLeft > 0) {
        const take = Math.min(this.chunkLeft, this.pending.length);
        this.take(this.pending.subarray(0, take));
        this.pending = this.pending.subarray(take);
        this.chunkLeft -= take;
        if (this.chunkLeft > 0)
          return false;
      }
      // The CRLF after a chunk's data.
      if ((this.pending.length > 0 && this.pending[0] !== 0x0d) || (this.pending.length > 1 && this.pending[1] !== 0x0a))
        throw new MalformedAnswerError(`the API server's answer has a chunk without its line end`);
      if (this.pending.length < 2)
        return false;
      this.pending = this.pending.subarray(2);
      this.chunkLeft = -1;
    }
  }

  /** Waits for more of a line, unless the line is already longer than any honest one. */
  private keepAtMost(bytes: number): false {
    if (this.pending.length > bytes)
      throw new MalformedAnswerError(`the API server's answer has an over-long chunk line`);
    return false;
  }

  private take(bytes: Buffer): void {
    if (bytes.length === 0)
      return;
    this.size += bytes.length;
    if (this.size > this.maxBodyBytes)
      throw this.tooLarge();
    this.chunks.push(bytes);
  }
}
