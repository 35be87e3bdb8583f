/**
 * The kube transport's own HTTP/2 client (RFC 9113) over a TLS connection that negotiated `h2`: requests that run
 * together (`list`'s ten reads, a fan-out's writes) share it, as kubectl's share one connection. Loading node:http2
 * (with the node:http, node:assert and fs/promises it pulls in) and running its session for the first time cost
 * `list` about 9 ms of a 65 ms run; this client is part of the bundle and its code cache (docs/toolchain.md).
 *
 * What it does: the connection preface and SETTINGS (no server push, a 4 MiB window per stream and 16 MiB per
 * connection, which it keeps open as it reads, since the transport buffers every answer itself and caps its size),
 * requests as HEADERS (+ CONTINUATION) and flow-controlled DATA, answers as HEADERS (informational ones skipped,
 * trailers accepted) and DATA, PING answered, the peer's SETTINGS applied (frame size, windows, concurrent streams:
 * requests beyond the peer's limit wait for a stream to end), RST_STREAM and GOAWAY. A request the server provably did
 * not process (a stream refused, or above a GOAWAY's last stream) fails as `unprocessed`, so that the transport may
 * send it again on a new connection whatever its method. A peer that breaks the protocol ends the connection with
 * GOAWAY and the error code RFC 9113 names; its requests fail. Header values are bytes read as Latin-1, as node:http does.
 */
import type {Socket} from 'node:net';
import {HpackDecoder, encodeHeaderBlock} from './hpack.ts';
import {checkHeaderField} from './http1.ts';

/** A field name HTTP/2 may carry: a lowercase token, or a pseudo-header field's (RFC 9113 §8.2.1, §8.3). */
const HTTP2_FIELD_NAME = /^:?[!#$%&'*+\-.^_`|~0-9a-z]+$/;

const PREFACE = Buffer.from(`PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n`, `latin1`);

const DATA = 0x0;
const HEADERS = 0x1;
const RST_STREAM = 0x3;
const SETTINGS = 0x4;
const PUSH_PROMISE = 0x5;
const PING = 0x6;
const GOAWAY = 0x7;
const WINDOW_UPDATE = 0x8;
const CONTINUATION = 0x9;

const END_STREAM = 0x1;
const ACK = 0x1;
const END_HEADERS = 0x4;
const PADDED = 0x8;
const PRIORITY = 0x20;

/** RFC 9113 §7 error codes, by name (for messages) and number. */
const ERROR_NAMES = [`NO_ERROR`, `PROTOCOL_ERROR`, `INTERNAL_ERROR`, `FLOW_CONTROL_ERROR`, `SETTINGS_TIMEOUT`, `STREAM_CLOSED`, `FRAME_SIZE_ERROR`, `REFUSED_STREAM`, `CANCEL`, `COMPRESSION_ERROR`, `CONNECT_ERROR`, `ENHANCE_YOUR_CALM`, `INADEQUATE_SECURITY`, `HTTP_1_1_REQUIRED`];
const NO_ERROR = 0x0;
const PROTOCOL_ERROR = 0x1;
const FLOW_CONTROL_ERROR = 0x3;
const FRAME_SIZE_ERROR = 0x6;
const REFUSED_STREAM = 0x7;
const CANCEL = 0x8;
const COMPRESSION_ERROR = 0x9;
const ENHANCE_YOUR_CALM = 0xb;

const MAX_WINDOW = 2 ** 31 - 1;
const MAX_STREAM_ID = 2 ** 31 - 1;
/** The frame size we accept (the protocol's default; we never raise it). */
const OUR_MAX_FRAME = 16_384;
/** Our receive windows: per stream (SETTINGS_INITIAL_WINDOW_SIZE) and for the connection (raised by WINDOW_UPDATE). */
const STREAM_WINDOW = 4 * 1024 * 1024;
const CONNECTION_WINDOW = 16 * 1024 * 1024;
/** The largest header list we accept (SETTINGS_MAX_HEADER_LIST_SIZE), and the largest compressed block. */
const MAX_HEADER_LIST_BYTES = 256 * 1024;
const MAX_HEADER_BLOCK_BYTES = 2 * MAX_HEADER_LIST_BYTES;
/** How long a connection without requests stays open (Go's http.Transport IdleConnTimeout). */
export const IDLE_TIMEOUT_MS = 90_000;
/** The peer's dynamic table may hold this much (SETTINGS_HEADER_TABLE_SIZE, the protocol's default). */
const HEADER_TABLE_BYTES = 4096;

/** Header fields of an answer, as node:http gives them: lowercase names, repeated fields joined (set-cookie kept as a list). */
export type AnswerHeaders = Record<string, string | string[]>;

/** A failed request. `unprocessed`: the server did not act on it (refused stream, or above a GOAWAY's last stream). */
export type Http2Failure = Error & {code: string; unprocessed: boolean; responseStarted: boolean};

/** What the transport hears of one request's stream. Exactly one of `end` and `error` ends it. */
export type StreamHandlers = {
  response(status: number, headers: AnswerHeaders): void;
  data(chunk: Buffer): void;
  end(): void;
  error(failure: Http2Failure): void;
};

/** A request on the connection: `cancel` resets its stream (RST_STREAM CANCEL) and nothing more is heard of it. */
export type Http2Request = {cancel(): void};

/** A header field to send: lowercase name, value, and whether it must never be indexed (credentials). */
export type RequestField = readonly [name: string, value: string, sensitive?: boolean];

function failure(message: string, code: string, unprocessed = false, responseStarted = false): Http2Failure {
  return Object.assign(new Error(message), {code, unprocessed, responseStarted});
}

function codeName(code: number): string {
  return ERROR_NAMES[code] ?? `0x${code.toString(16)}`;
}

/** A frame's 9-byte header and payload, as one buffer. */
function frame(type: number, flags: number, stream: number, payload?: Buffer | Uint8Array, length = payload?.length ?? 0): Buffer {
  const out = Buffer.allocUnsafe(9 + length);
  out.writeUIntBE(length, 0, 3);
  out[3] = type;
  out[4] = flags;
  out.writeUInt32BE(stream, 5);
  if (payload !== undefined && length > 0)
    out.set(payload.subarray(0, length), 9);
  return out;
}

function uint32(value: number): Buffer {
  const out = Buffer.allocUnsafe(4);
  out.writeUInt32BE(value);
  return out;
}

/** A protocol violation by the peer: the connection ends with GOAWAY carrying `code`. */
class ConnectionError extends Error {
  readonly h2code: number;

  constructor(h2code: number, message: string) {
    super(message);
    this.h2code = h2code;
  }
}

type Stream = {
  id: number;
  handlers: StreamHandlers;
  /** What the peer still lets us send on this stream. */
  sendWindow: number;
  /** Body bytes not yet sent (flow control), and whether END_STREAM is still to send. */
  body: Buffer | undefined;
  bodyOffset: number;
  /** DATA bytes read since our last WINDOW_UPDATE for the stream. */
  unread: number;
  /** `headers`: waiting for the answer; `body`: the answer has started (trailers may end it). */
  phase: `headers` | `body`;
  status: number;
  /** A HEAD request's answer has no body, whatever its content-length says. */
  head: boolean;
  expectedLength: number | undefined;
  received: number;
  /** We have ended our side (the request fully sent). */
  localClosed: boolean;
};

/** One HTTP/2 connection. */
export class Http2Connection {
  private readonly socket: Socket;
  private readonly decoder = new HpackDecoder({maxTableSize: HEADER_TABLE_BYTES, maxHeaderListBytes: MAX_HEADER_LIST_BYTES});
  private readonly streams = new Map<number, Stream>();
  /** Requests waiting for the peer's concurrent-stream limit. */
  private readonly waiting: Array<() => void> = [];
  private nextId = 1;
  private peerMaxFrame = 16_384;
  private peerInitialWindow = 65_535;
  private peerMaxStreams = Infinity;
  private sendWindow = 65_535;
  /** DATA bytes read since the last WINDOW_UPDATE for the connection. */
  private connectionUnread = 0;
  private pending: Buffer | undefined;
  private settingsSeen = false;
  /** The header block being read (HEADERS then CONTINUATION): its stream, flags and fragments. */
  private block: {stream: number; endStream: boolean; fragments: Buffer[]; size: number} | undefined;
  private goingAway = false;
  private closed = false;
  private corked = false;
  /** Streams started on this connection so far. */
  started = 0;
  private readonly onClose: () => void;
  private readonly idleTimeoutMs: number;
  private idleTimer: NodeJS.Timeout | undefined;

  /**
   * Starts HTTP/2 on `socket` (TLS, `h2` negotiated): the preface and our SETTINGS are written at once. A connection
   * without a request for `idleTimeoutMs` (default 90 s, Go's IdleConnTimeout) closes itself, so that a long-running
   * process (`agent`) never sends into a connection a load balancer dropped without a word while it idled.
   */
  constructor(socket: Socket, options: {onClose?: () => void; idleTimeoutMs?: number} = {}) {
    this.socket = socket;
    this.onClose = options.onClose ?? (() => {});
    this.idleTimeoutMs = options.idleTimeoutMs ?? IDLE_TIMEOUT_MS;
    const settings = Buffer.allocUnsafe(18);
    // ENABLE_PUSH 0, INITIAL_WINDOW_SIZE, MAX_HEADER_LIST_SIZE.
    settings.writeUInt16BE(0x2, 0);
    settings.writeUInt32BE(0, 2);
    settings.writeUInt16BE(0x4, 6);
    settings.writeUInt32BE(STREAM_WINDOW, 8);
    settings.writeUInt16BE(0x6, 12);
    settings.writeUInt32BE(MAX_HEADER_LIST_BYTES, 14);
    this.write(Buffer.concat([PREFACE, frame(SETTINGS, 0, 0, settings), frame(WINDOW_UPDATE, 0, 0, uint32(CONNECTION_WINDOW - 65_535))]));
    socket.on(`data`, (chunk: Buffer) => this.read(chunk));
    socket.on(`error`, () => {});
    socket.once(`close`, () => this.fail(failure(`the connection closed before the answer was complete`, `ECONNRESET`)));
    this.updateRef();
  }

  /** False once the connection is going away or gone: a new request needs a new connection. */
  get usable(): boolean {
    return !this.goingAway && !this.closed && this.nextId <= MAX_STREAM_ID;
  }

  /**
   * Sends a request: `fields` are the pseudo-header fields (:method, :scheme, :authority, :path) then the others,
   * all lowercase. Throws (nothing sent) when the connection is no longer usable or a value would be malformed.
   */
  request(fields: readonly RequestField[], body: Buffer | undefined, handlers: StreamHandlers): Http2Request {
    if (!this.usable)
      throw failure(`the HTTP/2 connection is closing`, `ECONNRESET`, true);
    for (const [name, value] of fields)
      checkHeaderField(name, value, HTTP2_FIELD_NAME);
    const block = encodeHeaderBlock(fields);
    let stream: Stream | undefined;
    let cancelled = false;
    const start = () => {
      if (cancelled)
        return;
      if (!this.usable) {
        handlers.error(failure(`the HTTP/2 connection is closing`, `ECONNRESET`, true));
        return;
      }
      stream = this.open(block, body, handlers, fields.some(([name, value]) => name === `:method` && value === `HEAD`));
    };
    if (this.streams.size < this.peerMaxStreams)
      start();
    else
      this.waiting.push(start);
    this.updateRef();
    return {
      cancel: () => {
        cancelled = true;
        // Still waiting for a free stream: it leaves the queue (which would keep the process alive).
        const queued = this.waiting.indexOf(start);
        if (queued >= 0)
          this.waiting.splice(queued, 1);
        if (stream !== undefined && this.streams.get(stream.id) === stream) {
          this.forget(stream);
          if (!this.closed)
            this.write(frame(RST_STREAM, 0, stream.id, uint32(CANCEL)));
        }
        this.updateRef();
      },
    };
  }

  /** Ends the connection politely (GOAWAY NO_ERROR); requests in flight fail. */
  close(): void {
    if (!this.closed)
      this.goAway(NO_ERROR, failure(`the HTTP/2 connection was closed`, `ECONNRESET`));
  }

  private open(block: Buffer, body: Buffer | undefined, handlers: StreamHandlers, head: boolean): Stream {
    const id = this.nextId;
    this.nextId += 2;
    this.started++;
    const stream: Stream = {id, handlers, sendWindow: this.peerInitialWindow, body, bodyOffset: 0, unread: 0, phase: `headers`, status: 0, head, expectedLength: undefined, received: 0, localClosed: false};
    this.streams.set(id, stream);
    const noBody = body === undefined || body.length === 0;
    // The header block in frames no larger than the peer allows, one after another (nothing may come between).
    for (let offset = 0, first = true; first || offset < block.length; first = false) {
      const size = Math.min(this.peerMaxFrame, block.length - offset);
      const last = offset + size >= block.length;
      const flags = (last ? END_HEADERS : 0) | (first && noBody ? END_STREAM : 0);
      this.write(frame(first ? HEADERS : CONTINUATION, flags, id, block.subarray(offset, offset + size)));
      offset += size;
    }
    if (noBody) {
      stream.body = undefined;
      stream.localClosed = true;
    } else {
      this.sendBody(stream);
    }
    return stream;
  }

  /** Sends what the flow-control windows allow of a stream's body, END_STREAM with its last byte. */
  private sendBody(stream: Stream): void {
    const body = stream.body;
    if (body === undefined || stream.localClosed)
      return;
    while (stream.bodyOffset < body.length) {
      const size = Math.min(this.peerMaxFrame, body.length - stream.bodyOffset, stream.sendWindow, this.sendWindow);
      if (size <= 0)
        return;
      const last = stream.bodyOffset + size >= body.length;
      this.write(frame(DATA, last ? END_STREAM : 0, stream.id, body.subarray(stream.bodyOffset, stream.bodyOffset + size)));
      stream.bodyOffset += size;
      stream.sendWindow -= size;
      this.sendWindow -= size;
    }
    stream.body = undefined;
    stream.localClosed = true;
  }

  /** Frames written in one turn of the event loop leave in one write (one TLS record for list's ten requests). */
  private write(bytes: Buffer): void {
    if (this.closed)
      return;
    if (!this.corked) {
      this.corked = true;
      this.socket.cork();
      process.nextTick(() => {
        this.corked = false;
        this.socket.uncork();
      });
    }
    this.socket.write(bytes);
  }

  private read(chunk: Buffer): void {
    if (this.closed)
      return;
    const data = this.pending === undefined ? chunk : Buffer.concat([this.pending, chunk]);
    this.pending = undefined;
    try {
      let offset = 0;
      while (data.length - offset >= 9) {
        const length = data.readUIntBE(offset, 3);
        if (length > OUR_MAX_FRAME)
          throw new ConnectionError(FRAME_SIZE_ERROR, `a frame of ${length} bytes, more than the ${OUR_MAX_FRAME} allowed`);
        if (data.length - offset < 9 + length)
          break;
        const type = data[offset + 3]!;
        const flags = data[offset + 4]!;
        const id = data.readUInt32BE(offset + 5) & 0x7fffffff;
        const payload = data.subarray(offset + 9, offset + 9 + length);
        offset += 9 + length;
        this.onFrame(type, flags, id, payload);
        if (this.closed)
          return;
      }
      if (offset < data.length)
        this.pending = Buffer.from(data.subarray(offset));
    } catch (error) {
      if (error instanceof ConnectionError) {
        this.abort(error.h2code, error.message);
        return;
      }
      throw error;
    }
  }

  private onFrame(type: number, flags: number, id: number, payload: Buffer): void {
    if (!this.settingsSeen && type !== SETTINGS)
      throw new ConnectionError(PROTOCOL_ERROR, `the server's first frame was not SETTINGS`);
    if (this.block !== undefined && (type !== CONTINUATION || id !== this.block.stream))
      throw new ConnectionError(PROTOCOL_ERROR, `a header block was interrupted by another frame`);
    switch (type) {
      case DATA: return this.onData(flags, id, payload);
      case HEADERS: return this.onHeaders(flags, id, payload);
      case RST_STREAM: return this.onReset(id, payload);
      case SETTINGS: return this.onSettings(flags, id, payload);
      case PUSH_PROMISE: throw new ConnectionError(PROTOCOL_ERROR, `the server pushed a stream although push is disabled`);
      case PING: return this.onPing(flags, id, payload);
      case GOAWAY: return this.onGoaway(id, payload);
      case WINDOW_UPDATE: return this.onWindowUpdate(id, payload);
      case CONTINUATION: return this.onContinuation(flags, id, payload);
      default:
        // PRIORITY and unknown frame types are ignored (RFC 9113 §5.5, §6.3).
    }
  }

  /** A stream frame's stream: ours and open, or undefined when it ended already; a stream never opened is an error. */
  private streamOf(id: number, what: string): Stream | undefined {
    if (id === 0)
      throw new ConnectionError(PROTOCOL_ERROR, `${what} on stream 0`);
    const stream = this.streams.get(id);
    if (stream !== undefined)
      return stream;
    if (id % 2 === 0 || id >= this.nextId)
      throw new ConnectionError(PROTOCOL_ERROR, `${what} on stream ${id}, which this client never opened`);
    return undefined;
  }

  /** A frame's payload without its padding (PADDED flag). */
  private unpad(flags: number, payload: Buffer, what: string): Buffer {
    if ((flags & PADDED) === 0)
      return payload;
    if (payload.length < 1 || payload[0]! >= payload.length)
      throw new ConnectionError(PROTOCOL_ERROR, `${what} with more padding than payload`);
    return payload.subarray(1, payload.length - payload[0]!);
  }

  private onData(flags: number, id: number, payload: Buffer): void {
    const stream = this.streamOf(id, `DATA`);
    // Every DATA frame is read at once (the transport buffers and caps each answer), so both windows are given back
    // as frames arrive: once half of one has been read, a WINDOW_UPDATE restores it. Padding counts too.
    this.connectionUnread += payload.length;
    if (this.connectionUnread >= CONNECTION_WINDOW / 2) {
      this.write(frame(WINDOW_UPDATE, 0, 0, uint32(this.connectionUnread)));
      this.connectionUnread = 0;
    }
    const data = this.unpad(flags, payload, `DATA`);
    if (stream === undefined)
      return;
    if (stream.phase !== `body`)
      return this.streamError(stream, PROTOCOL_ERROR, `the server sent DATA before its answer's headers`);
    stream.received += data.length;
    if (data.length > 0)
      stream.handlers.data(data);
    if (this.streams.get(id) !== stream)
      return;
    if ((flags & END_STREAM) !== 0)
      return this.finish(stream);
    stream.unread += payload.length;
    if (stream.unread >= STREAM_WINDOW / 2) {
      this.write(frame(WINDOW_UPDATE, 0, id, uint32(stream.unread)));
      stream.unread = 0;
    }
  }

  private onHeaders(flags: number, id: number, payload: Buffer): void {
    if (id === 0)
      throw new ConnectionError(PROTOCOL_ERROR, `HEADERS on stream 0`);
    let fragment = this.unpad(flags, payload, `HEADERS`);
    if ((flags & PRIORITY) !== 0) {
      if (fragment.length < 5)
        throw new ConnectionError(FRAME_SIZE_ERROR, `HEADERS too short for its priority fields`);
      fragment = fragment.subarray(5);
    }
    this.block = {stream: id, endStream: (flags & END_STREAM) !== 0, fragments: [fragment], size: fragment.length};
    if ((flags & END_HEADERS) !== 0)
      this.endBlock();
  }

  private onContinuation(flags: number, id: number, payload: Buffer): void {
    const block = this.block;
    if (block === undefined)
      throw new ConnectionError(PROTOCOL_ERROR, `CONTINUATION without HEADERS before it`);
    block.size += payload.length;
    if (block.size > MAX_HEADER_BLOCK_BYTES)
      throw new ConnectionError(ENHANCE_YOUR_CALM, `a header block larger than ${MAX_HEADER_BLOCK_BYTES} bytes`);
    block.fragments.push(payload);
    if ((flags & END_HEADERS) !== 0)
      this.endBlock();
  }

  /** A complete header block: decoded whatever its stream (the decoder's table must follow every block), then used. */
  private endBlock(): void {
    const block = this.block!;
    this.block = undefined;
    let fields: Array<[string, string]>;
    try {
      fields = this.decoder.decode(block.fragments.length === 1 ? block.fragments[0]! : Buffer.concat(block.fragments));
    } catch (error) {
      throw new ConnectionError(COMPRESSION_ERROR, `the server's header block could not be decoded: ${(error as Error).message}`);
    }
    const stream = this.streamOf(block.stream, `HEADERS`);
    if (stream === undefined)
      return;
    if (stream.phase === `body`) {
      // Trailers: they end the stream (their fields are not used).
      if (!block.endStream)
        return this.streamError(stream, PROTOCOL_ERROR, `the server sent a second header block that does not end the stream`);
      if (fields.some(([name]) => name.startsWith(`:`)))
        return this.streamError(stream, PROTOCOL_ERROR, `the server's trailers hold pseudo-header fields`);
      return this.finish(stream);
    }
    const answer = parseAnswer(fields);
    if (typeof answer === `string`)
      return this.streamError(stream, PROTOCOL_ERROR, answer);
    if (answer.status < 200) {
      // An informational answer (100, 103): the final one follows; 101 has no meaning in HTTP/2.
      if (answer.status === 101 || block.endStream)
        return this.streamError(stream, PROTOCOL_ERROR, `the server answered ${answer.status}${block.endStream ? ` and ended the stream` : ``}`);
      return;
    }
    stream.phase = `body`;
    stream.status = answer.status;
    const length = answer.headers[`content-length`];
    if (typeof length === `string`) {
      if (!/^\d{1,15}$/.test(length))
        return this.streamError(stream, PROTOCOL_ERROR, `the server's content-length is not a number`);
      stream.expectedLength = Number(length);
    }
    stream.handlers.response(answer.status, answer.headers);
    if (this.streams.get(stream.id) === stream && block.endStream)
      this.finish(stream);
  }

  private onReset(id: number, payload: Buffer): void {
    if (payload.length !== 4)
      throw new ConnectionError(FRAME_SIZE_ERROR, `RST_STREAM of ${payload.length} bytes`);
    const stream = this.streamOf(id, `RST_STREAM`);
    if (stream === undefined)
      return;
    const code = payload.readUInt32BE(0);
    this.forget(stream);
    stream.handlers.error(failure(`the server reset the HTTP/2 stream (${codeName(code)})`, `ECONNRESET`, code === REFUSED_STREAM, stream.phase === `body`));
    this.updateRef();
  }

  private onSettings(flags: number, id: number, payload: Buffer): void {
    if (id !== 0)
      throw new ConnectionError(PROTOCOL_ERROR, `SETTINGS on stream ${id}`);
    if ((flags & ACK) !== 0) {
      if (payload.length !== 0)
        throw new ConnectionError(FRAME_SIZE_ERROR, `a SETTINGS acknowledgement with a payload`);
      return;
    }
    if (payload.length % 6 !== 0)
      throw new ConnectionError(FRAME_SIZE_ERROR, `SETTINGS of ${payload.length} bytes`);
    this.settingsSeen = true;
    for (let offset = 0; offset < payload.length; offset += 6) {
      const setting = payload.readUInt16BE(offset);
      const value = payload.readUInt32BE(offset + 2);
      if (setting === 0x2 && value > 1)
        throw new ConnectionError(PROTOCOL_ERROR, `SETTINGS_ENABLE_PUSH of ${value}`);
      if (setting === 0x3) {
        this.peerMaxStreams = value;
      } else if (setting === 0x4) {
        if (value > MAX_WINDOW)
          throw new ConnectionError(FLOW_CONTROL_ERROR, `SETTINGS_INITIAL_WINDOW_SIZE of ${value}`);
        const delta = value - this.peerInitialWindow;
        this.peerInitialWindow = value;
        for (const stream of this.streams.values()) {
          stream.sendWindow += delta;
          if (stream.sendWindow > MAX_WINDOW)
            throw new ConnectionError(FLOW_CONTROL_ERROR, `a stream's window above 2^31-1`);
        }
      } else if (setting === 0x5) {
        if (value < 16_384 || value > 16_777_215)
          throw new ConnectionError(PROTOCOL_ERROR, `SETTINGS_MAX_FRAME_SIZE of ${value}`);
        this.peerMaxFrame = value;
      }
      // HEADER_TABLE_SIZE: our encoder never indexes, so any size suits it; MAX_HEADER_LIST_SIZE is advisory.
    }
    this.write(frame(SETTINGS, ACK, 0));
    for (const stream of [...this.streams.values()])
      this.sendBody(stream);
    this.startWaiting();
  }

  private onPing(flags: number, id: number, payload: Buffer): void {
    if (id !== 0)
      throw new ConnectionError(PROTOCOL_ERROR, `PING on stream ${id}`);
    if (payload.length !== 8)
      throw new ConnectionError(FRAME_SIZE_ERROR, `PING of ${payload.length} bytes`);
    if ((flags & ACK) === 0)
      this.write(frame(PING, ACK, 0, payload));
  }

  private onGoaway(id: number, payload: Buffer): void {
    if (id !== 0)
      throw new ConnectionError(PROTOCOL_ERROR, `GOAWAY on stream ${id}`);
    if (payload.length < 8)
      throw new ConnectionError(FRAME_SIZE_ERROR, `GOAWAY of ${payload.length} bytes`);
    const last = payload.readUInt32BE(0) & 0x7fffffff;
    const code = payload.readUInt32BE(4);
    this.goingAway = true;
    // Streams above the last one the server processed were not acted on: they may be sent again elsewhere.
    for (const stream of [...this.streams.values()]) {
      if (stream.id > last) {
        this.forget(stream);
        stream.handlers.error(failure(`the server is closing the HTTP/2 connection (GOAWAY ${codeName(code)}) and did not process the request`, `ECONNRESET`, true));
      }
    }
    for (const start of this.waiting.splice(0))
      start();
    this.afterStreamEnd();
  }

  private onWindowUpdate(id: number, payload: Buffer): void {
    if (payload.length !== 4)
      throw new ConnectionError(FRAME_SIZE_ERROR, `WINDOW_UPDATE of ${payload.length} bytes`);
    const increment = payload.readUInt32BE(0) & 0x7fffffff;
    if (id === 0) {
      if (increment === 0)
        throw new ConnectionError(PROTOCOL_ERROR, `a WINDOW_UPDATE of 0 for the connection`);
      this.sendWindow += increment;
      if (this.sendWindow > MAX_WINDOW)
        throw new ConnectionError(FLOW_CONTROL_ERROR, `the connection's window above 2^31-1`);
      for (const stream of [...this.streams.values()])
        this.sendBody(stream);
      return;
    }
    const stream = this.streamOf(id, `WINDOW_UPDATE`);
    if (stream === undefined)
      return;
    if (increment === 0)
      return this.streamError(stream, PROTOCOL_ERROR, `a WINDOW_UPDATE of 0`);
    stream.sendWindow += increment;
    if (stream.sendWindow > MAX_WINDOW)
      return this.streamError(stream, FLOW_CONTROL_ERROR, `a stream's window above 2^31-1`);
    this.sendBody(stream);
  }

  /** The server ended its side of the stream: the answer is complete (checked against its content-length). */
  private finish(stream: Stream): void {
    if (stream.expectedLength !== undefined && stream.received !== stream.expectedLength && !stream.head && stream.status !== 204 && stream.status !== 304)
      return this.streamError(stream, PROTOCOL_ERROR, `the answer's body is ${stream.received} bytes, its content-length says ${stream.expectedLength}`);
    this.forget(stream);
    // A request whose body the server did not wait for: the stream is done either way (RFC 9113 §8.1).
    if (!stream.localClosed)
      this.write(frame(RST_STREAM, 0, stream.id, uint32(0)));
    stream.handlers.end();
    this.updateRef();
  }

  /** A stream the server broke: reset it and fail its request (not retried as unprocessed: it may have been acted on). */
  private streamError(stream: Stream, code: number, message: string): void {
    this.forget(stream);
    this.write(frame(RST_STREAM, 0, stream.id, uint32(code)));
    stream.handlers.error(failure(`HTTP/2 ${codeName(code)}: ${message}`, `ERR_PULLSECRET_HTTP2`, false, stream.phase === `body`));
    this.updateRef();
  }

  private forget(stream: Stream): void {
    this.streams.delete(stream.id);
    this.afterStreamEnd();
  }

  private afterStreamEnd(): void {
    this.startWaiting();
    if (this.goingAway && this.streams.size === 0 && this.waiting.length === 0 && !this.closed) {
      this.closed = true;
      this.socket.end();
      this.onClose();
    }
  }

  private startWaiting(): void {
    while (this.waiting.length > 0 && this.streams.size < this.peerMaxStreams)
      this.waiting.shift()!();
  }

  /** The connection keeps the process alive only while a request is in flight or waiting; idle, it counts down. */
  private updateRef(): void {
    clearTimeout(this.idleTimer);
    this.idleTimer = undefined;
    if (this.closed)
      return;
    if (this.streams.size > 0 || this.waiting.length > 0) {
      this.socket.ref();
      return;
    }
    this.socket.unref();
    this.idleTimer = setTimeout(() => this.close(), this.idleTimeoutMs);
    this.idleTimer.unref();
  }

  /** The peer broke the protocol: GOAWAY with the code, the connection ends, every request fails. */
  private abort(code: number, message: string): void {
    this.goAway(code, failure(`HTTP/2 ${codeName(code)}: ${message}`, `ERR_PULLSECRET_HTTP2`));
  }

  /** Ends the connection from this side: GOAWAY with `code` (no stream of the server's was processed), then `fail`. */
  private goAway(code: number, error: Http2Failure): void {
    this.write(frame(GOAWAY, 0, 0, Buffer.concat([uint32(0), uint32(code)])));
    this.socket.end();
    this.fail(error);
  }

  /** The connection is gone: every request in flight or waiting fails with `error`. */
  private fail(error: Http2Failure): void {
    clearTimeout(this.idleTimer);
    const wasClosed = this.closed;
    this.closed = true;
    this.goingAway = true;
    const streams = [...this.streams.values()];
    this.streams.clear();
    for (const start of this.waiting.splice(0))
      start();
    for (const stream of streams)
      stream.handlers.error(failure(error.message, error.code, error.unprocessed, stream.phase === `body`));
    if (!this.socket.destroyed)
      setImmediate(() => this.socket.destroy());
    if (!wasClosed)
      this.onClose();
  }
}

/** The answer's status and headers from a decoded block, or why it is malformed (RFC 9113 §8.3.2, §8.2). */
function parseAnswer(fields: Array<[string, string]>): {status: number; headers: AnswerHeaders} | string {
  let status: number | undefined;
  const headers: AnswerHeaders = {};
  let regular = false;
  for (const [name, value] of fields) {
    if (name.startsWith(`:`)) {
      if (regular)
        return `a pseudo-header field after a regular one`;
      if (name !== `:status` || status !== undefined)
        return `an unexpected pseudo-header field ${name}`;
      if (!/^\d{3}$/.test(value))
        return `the :status is not three digits`;
      status = Number(value);
      continue;
    }
    regular = true;
    if (/[A-Z]/.test(name))
      return `an uppercase header field name`;
    if (name === `connection` || name === `keep-alive` || name === `proxy-connection` || name === `transfer-encoding` || name === `upgrade`)
      return `a connection-specific header field (${name})`;
    const previous = headers[name];
    if (name === `set-cookie`)
      headers[name] = [...(previous as string[] | undefined ?? []), value];
    else
      headers[name] = previous === undefined ? value : `${String(previous)}, ${value}`;
  }
  if (status === undefined)
    return `no :status`;
  return {status, headers};
}
