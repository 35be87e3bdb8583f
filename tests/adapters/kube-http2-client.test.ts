// The kube transport's own HTTP/2 client (sources/adapters/kube/http2.ts), against three independent peers: Node's
// HTTP/2 server (nghttp2: its HPACK with Huffman and a dynamic table, its flow control, its resets and GOAWAY), Go's
// (the real registry, Debian's docker-registry, over TLS), and a raw server on a socket that writes exactly the frames
// a test gives it (protocol violations the client must refuse with the right error, and with bounded memory).
import {after, test} from 'node:test';
import assert from 'node:assert/strict';
import crypto from 'node:crypto';
import http2 from 'node:http2';
import net from 'node:net';
import tls from 'node:tls';
import {Http2Connection} from '../../sources/adapters/kube/http2.ts';
import type {AnswerHeaders, Http2Failure, RequestField, StreamHandlers} from '../../sources/adapters/kube/http2.ts';
import {frame} from '../helpers/http2Frames.ts';
import {startRegistry} from '../helpers/registry/index.ts';
import {basicAuth} from '../helpers/registry/http.ts';

const servers: Array<{close(): unknown}> = [];
after(() => {
  for (const server of servers)
    server.close();
});

type Outcome = {status: number; headers: AnswerHeaders; body: Buffer} | {failure: Http2Failure; status: number};

/** Sends one request and collects its answer or failure. */
function send(connection: Http2Connection, path: string, options: {method?: string; body?: Buffer; fields?: RequestField[]; scheme?: string; authority?: string} = {}): Promise<Outcome> {
  return new Promise(resolve => {
    let status = 0;
    let headers: AnswerHeaders = {};
    const chunks: Buffer[] = [];
    connection.request([[`:method`, options.method ?? `GET`], [`:scheme`, options.scheme ?? `http`], [`:authority`, options.authority ?? `localhost`], [`:path`, path], ...(options.fields ?? [])], options.body, {
      response: (answerStatus, answerHeaders) => {
        status = answerStatus;
        headers = answerHeaders;
      },
      data: chunk => chunks.push(chunk),
      end: () => resolve({status, headers, body: Buffer.concat(chunks)}),
      error: failure => resolve({failure, status}),
    });
  });
}

/** Handlers that only note whether anything at all was heard of the request (for requests that are cancelled). */
function listening(): {handlers: StreamHandlers; readonly heard: boolean} {
  let heard = false;
  const hear = () => {
    heard = true;
  };
  return {handlers: {response: hear, data: hear, end: hear, error: hear}, get heard() {
    return heard;
  }};
}

function ok(outcome: Outcome): {status: number; headers: AnswerHeaders; body: Buffer} {
  if (`failure` in outcome)
    assert.fail(`the request failed: ${outcome.failure.message}`);
  return outcome;
}

function failed(outcome: Outcome): Http2Failure {
  if (!(`failure` in outcome))
    assert.fail(`the request succeeded with ${outcome.status}`);
  return outcome.failure;
}

/** Node's HTTP/2 server (cleartext: the client works over any socket) and a connection of our client to it. */
async function nodeServer(handler: (stream: http2.ServerHttp2Stream, headers: http2.IncomingHttpHeaders, session: http2.ServerHttp2Session) => void, settings: http2.Settings = {}) {
  const server = http2.createServer({settings});
  const sessions: http2.ServerHttp2Session[] = [];
  server.on(`session`, session => sessions.push(session));
  server.on(`stream`, (stream, headers) => {
    // Resets the tests provoke are errors of the server's stream too.
    stream.on(`error`, () => {});
    handler(stream, headers, stream.session as http2.ServerHttp2Session);
  });
  await new Promise<void>(resolve => server.listen(0, `127.0.0.1`, resolve));
  servers.push({close: () => {
    for (const session of sessions)
      session.destroy();
    server.close();
  }});
  const port = (server.address() as net.AddressInfo).port;
  const connect = async (onClose?: () => void, idleTimeoutMs?: number) => {
    const socket = net.connect(port, `127.0.0.1`);
    await new Promise(resolve => socket.once(`connect`, resolve));
    return new Http2Connection(socket, {onClose, idleTimeoutMs});
  };
  return {connect, sessions};
}

test(`ten requests at once share one connection, and every answer comes back whole with its own headers`, async () => {
  const {connect, sessions} = await nodeServer((stream, headers) => {
    stream.respond({':status': 200, 'content-type': `application/json`, 'x-path': String(headers[`:path`]), 'set-cookie': [`a=1`, `b=2`]});
    stream.end(JSON.stringify({path: headers[`:path`]}));
  });
  const connection = await connect();
  const paths = Array.from({length: 10}, (_, index) => `/api/v1/things/${index}`);
  const answers = (await Promise.all(paths.map(path => send(connection, path)))).map(ok);
  assert.deepEqual(answers.map(answer => JSON.parse(answer.body.toString()).path), paths);
  assert.deepEqual(answers.map(answer => answer.headers[`x-path`]), paths);
  assert.deepEqual(answers[0]!.headers[`set-cookie`], [`a=1`, `b=2`]);
  assert.equal(sessions.length, 1);
  assert.equal(connection.started, 10);
});

test(`the headers a request carries reach the server exactly, credentials included`, async () => {
  let seen: http2.IncomingHttpHeaders = {};
  const {connect} = await nodeServer((stream, headers) => {
    seen = headers;
    stream.respond({':status': 204});
    stream.end();
  });
  const connection = await connect();
  const token = `Bearer ${crypto.randomBytes(600).toString(`base64`)}`;
  ok(await send(connection, `/api/v1/namespaces/ci/secrets?limit=500`, {fields: [[`authorization`, token, true], [`user-agent`, `kubectl-pullsecret/test`], [`impersonate-group`, `a,b`]]}));
  assert.equal(seen[`:path`], `/api/v1/namespaces/ci/secrets?limit=500`);
  assert.equal(seen[`:method`], `GET`);
  assert.equal(seen.authorization, token);
  assert.equal(seen[`user-agent`], `kubectl-pullsecret/test`);
  assert.equal(seen[`impersonate-group`], `a,b`);
});

test(`a request whose headers pass the server's frame size goes as HEADERS and CONTINUATION frames (a 40 KB token)`, async () => {
  let seen: http2.IncomingHttpHeaders = {};
  const {connect} = await nodeServer((stream, headers) => {
    seen = headers;
    stream.respond({':status': 200});
    stream.end();
  }, {maxHeaderListSize: 256 * 1024});
  const connection = await connect();
  const token = `Bearer ${crypto.randomBytes(30_000).toString(`base64`)}`;
  ok(await send(connection, `/big`, {fields: [[`authorization`, token, true]]}));
  assert.equal(seen.authorization, token);
  // And the connection goes on.
  ok(await send(connection, `/after`));
});

test(`answers of many megabytes flow: the client keeps the windows open as it reads`, async () => {
  const big = crypto.randomBytes(9 * 1024 * 1024);
  const {connect} = await nodeServer(stream => {
    stream.respond({':status': 200});
    stream.end(big);
  });
  const connection = await connect();
  const [first, second] = (await Promise.all([send(connection, `/a`), send(connection, `/b`)])).map(ok);
  assert.ok(first!.body.equals(big));
  assert.ok(second!.body.equals(big));
});

test(`a request body larger than the server's windows is sent in pieces as the server opens them`, async () => {
  const {connect} = await nodeServer(stream => {
    const hash = crypto.createHash(`sha256`);
    let size = 0;
    stream.on(`data`, (chunk: Buffer) => {
      size += chunk.length;
      hash.update(chunk);
    });
    stream.on(`end`, () => {
      stream.respond({':status': 200});
      stream.end(`${size} ${hash.digest(`hex`)}`);
    });
  }, {initialWindowSize: 10_000});
  const connection = await connect();
  const body = crypto.randomBytes(3 * 1024 * 1024 + 17);
  const answers = (await Promise.all([send(connection, `/x`, {method: `PUT`, body}), send(connection, `/y`, {method: `PUT`, body: body.subarray(0, 5)})])).map(ok);
  assert.equal(answers[0]!.body.toString(), `${body.length} ${crypto.createHash(`sha256`).update(body).digest(`hex`)}`);
  assert.equal(answers[1]!.body.toString(), `5 ${crypto.createHash(`sha256`).update(body.subarray(0, 5)).digest(`hex`)}`);
});

test(`requests beyond the server's concurrent-stream limit wait for a stream to end`, async () => {
  let open = 0;
  let most = 0;
  const {connect} = await nodeServer(stream => {
    open++;
    most = Math.max(most, open);
    setTimeout(() => {
      open--;
      stream.respond({':status': 200});
      stream.end(`done`);
    }, 20);
  }, {maxConcurrentStreams: 2});
  const connection = await connect();
  // The limit arrives with the server's SETTINGS: the first requests wait for them.
  ok(await send(connection, `/warm`));
  const answers = await Promise.all(Array.from({length: 9}, (_, index) => send(connection, `/${index}`)));
  assert.deepEqual(answers.map(answer => ok(answer).body.toString()), Array(9).fill(`done`));
  assert.equal(most, 2);
});

test(`a request cancelled while it waits for a free stream never reaches the server, and the ones after it go on`, async () => {
  const paths: string[] = [];
  const held: http2.ServerHttp2Stream[] = [];
  const {connect} = await nodeServer((stream, headers) => {
    paths.push(String(headers[`:path`]));
    if (headers[`:path`] === `/hold`) {
      held.push(stream);
      return;
    }
    stream.respond({':status': 200});
    stream.end();
  }, {maxConcurrentStreams: 1});
  const connection = await connect();
  ok(await send(connection, `/warm`));
  const holding = send(connection, `/hold`);
  const listener = listening();
  const waiting = connection.request([[`:method`, `GET`], [`:scheme`, `http`], [`:authority`, `x`], [`:path`, `/cancelled`]], undefined, listener.handlers);
  waiting.cancel();
  await new Promise(resolve => setTimeout(resolve, 30));
  held[0]!.respond({':status': 200});
  held[0]!.end();
  ok(await holding);
  ok(await send(connection, `/after`));
  assert.deepEqual(paths, [`/warm`, `/hold`, `/after`]);
  assert.equal(listener.heard, false);
});

test(`informational answers are skipped and trailers end the answer`, async () => {
  const {connect} = await nodeServer(stream => {
    stream.additionalHeaders({':status': 103, link: `</style.css>; rel=preload`});
    stream.respond({':status': 200}, {waitForTrailers: true});
    stream.on(`wantTrailers`, () => stream.sendTrailers({'x-checksum': `abc`}));
    stream.end(`body`);
  });
  const connection = await connect();
  const answer = ok(await send(connection, `/`));
  assert.equal(answer.status, 200);
  assert.equal(answer.body.toString(), `body`);
});

test(`a stream the server refuses fails as unprocessed; one it resets otherwise does not`, async () => {
  const {connect} = await nodeServer((stream, headers) => {
    stream.close(headers[`:path`] === `/refused` ? http2.constants.NGHTTP2_REFUSED_STREAM : http2.constants.NGHTTP2_INTERNAL_ERROR);
  });
  const connection = await connect();
  const refused = failed(await send(connection, `/refused`));
  assert.deepEqual([refused.code, refused.unprocessed], [`ECONNRESET`, true]);
  assert.match(refused.message, /REFUSED_STREAM/);
  const reset = failed(await send(connection, `/reset`));
  assert.deepEqual([reset.code, reset.unprocessed], [`ECONNRESET`, false]);
  assert.match(reset.message, /INTERNAL_ERROR/);
  // The connection itself is still good.
  assert.equal(connection.usable, true);
});

test(`after GOAWAY the streams the server processed finish, the others fail as unprocessed, and the connection takes no more`, async () => {
  const held: http2.ServerHttp2Stream[] = [];
  let closed = false;
  const {connect} = await nodeServer((stream, _headers, session) => {
    held.push(stream);
    if (held.length === 3) {
      // The first stream (id 1) was processed; 3 and 5 were not.
      session.goaway(http2.constants.NGHTTP2_NO_ERROR, 1);
      setTimeout(() => {
        held[0]!.respond({':status': 200});
        held[0]!.end(`first`);
      }, 20);
    }
  });
  const connection = await connect(() => {
    closed = true;
  });
  const outcomes = await Promise.all([send(connection, `/1`), send(connection, `/2`), send(connection, `/3`)]);
  assert.equal(ok(outcomes[0]!).body.toString(), `first`);
  for (const outcome of outcomes.slice(1)) {
    const failure = failed(outcome);
    assert.deepEqual([failure.code, failure.unprocessed], [`ECONNRESET`, true]);
    assert.match(failure.message, /GOAWAY/);
  }
  assert.equal(connection.usable, false);
  assert.throws(() => connection.request([[`:method`, `GET`], [`:path`, `/`]], undefined, {response() {}, data() {}, end() {}, error() {}}), (error: Http2Failure) => error.unprocessed);
  await new Promise(resolve => setTimeout(resolve, 50));
  assert.equal(closed, true);
});

test(`a connection without requests for its idle time closes itself with GOAWAY, and not while a request is in flight`, async () => {
  let goaway = false;
  const {connect} = await nodeServer((stream, headers, session) => {
    session.once(`goaway`, () => {
      goaway = true;
    });
    setTimeout(() => {
      stream.respond({':status': 200});
      stream.end(`ok`);
    }, headers[`:path`] === `/slow` ? 200 : 0);
  });
  let closed = false;
  const connection = await connect(() => {
    closed = true;
  }, 100);
  // A request that takes longer than the idle time keeps the connection open.
  assert.equal(ok(await send(connection, `/slow`)).body.toString(), `ok`);
  assert.equal(connection.usable, true);
  await new Promise(resolve => setTimeout(resolve, 250));
  assert.deepEqual([closed, connection.usable, goaway], [true, false, true]);
});

test(`a connection that drops mid-answer fails its requests, saying whether the answer had started`, async () => {
  const {connect} = await nodeServer((stream, headers, session) => {
    if (headers[`:path`] === `/started`) {
      stream.respond({':status': 200});
      stream.write(`partial`);
      setTimeout(() => session.socket.destroy(), 30);
    }
  });
  const connection = await connect();
  const [started, waiting] = (await Promise.all([send(connection, `/started`), send(connection, `/waiting`)])).map(failed);
  assert.deepEqual([started!.code, started!.responseStarted, started!.unprocessed], [`ECONNRESET`, true, false]);
  assert.deepEqual([waiting!.code, waiting!.responseStarted, waiting!.unprocessed], [`ECONNRESET`, false, false]);
  assert.equal(connection.usable, false);
});

test(`a cancelled request resets its stream on the server, and the connection carries on`, async () => {
  let aborted!: () => void;
  const serverSawReset = new Promise<void>(resolve => {
    aborted = resolve;
  });
  const {connect} = await nodeServer((stream, headers) => {
    if (headers[`:path`] === `/slow`) {
      stream.on(`close`, () => {
        if (stream.rstCode === http2.constants.NGHTTP2_CANCEL)
          aborted();
      });
      return;
    }
    stream.respond({':status': 200});
    stream.end(`fast`);
  });
  const connection = await connect();
  const listener = listening();
  const slow = connection.request([[`:method`, `GET`], [`:scheme`, `http`], [`:authority`, `x`], [`:path`, `/slow`]], undefined, listener.handlers);
  await new Promise(resolve => setTimeout(resolve, 30));
  slow.cancel();
  await serverSawReset;
  assert.equal(ok(await send(connection, `/fast`)).body.toString(), `fast`);
  assert.equal(listener.heard, false);
});

test(`a header value that would be malformed is refused before anything is sent`, async () => {
  const {connect} = await nodeServer(stream => {
    stream.respond({':status': 200});
    stream.end();
  });
  const connection = await connect();
  assert.throws(() => connection.request([[`:method`, `GET`], [`:path`, `/`], [`x-token`, `a\r\nb`]], undefined, {response() {}, data() {}, end() {}, error() {}}), {code: `ERR_INVALID_CHAR`});
  assert.throws(() => connection.request([[`:method`, `GET`], [`:path`, `/`], [`X-Upper`, `a`]], undefined, {response() {}, data() {}, end() {}, error() {}}), {code: `ERR_INVALID_HTTP_TOKEN`});
  assert.equal(connection.started, 0);
  ok(await send(connection, `/`));
});

// --- A raw server: exactly the frames a test writes. ---

const SERVER_SETTINGS = frame(0x4, 0, 0);
/** HPACK: `:status: 200` is index 8 of the static table (one byte, 0x80 | 8). */
const STATUS_200 = Buffer.from([0x88]);

type Frame = {type: number; flags: number; stream: number; payload: Buffer};

/**
 * A raw server: once the client's preface has arrived, `script` answers each request's stream id with the frames it
 * returns; `frames` are the frames the client sent (GOAWAY included).
 */
async function rawServer(script: (stream: number) => Buffer[]) {
  const received: Frame[] = [];
  const server = net.createServer(socket => {
    servers.push({close: () => socket.destroy()});
    let pending = Buffer.alloc(0);
    let preface = false;
    socket.on(`error`, () => {});
    socket.on(`data`, chunk => {
      pending = Buffer.concat([pending, chunk]);
      if (!preface) {
        if (pending.length < 24)
          return;
        pending = pending.subarray(24);
        preface = true;
      }
      while (pending.length >= 9 && pending.length >= 9 + pending.readUIntBE(0, 3)) {
        const length = pending.readUIntBE(0, 3);
        const parsed = {type: pending[3]!, flags: pending[4]!, stream: pending.readUInt32BE(5), payload: pending.subarray(9, 9 + length)};
        pending = pending.subarray(9 + length);
        received.push(parsed);
        if (parsed.type === 0x1 && !socket.destroyed)
          socket.write(Buffer.concat(script(parsed.stream)));
      }
    });
  });
  await new Promise<void>(resolve => server.listen(0, `127.0.0.1`, resolve));
  servers.push(server);
  const socket = net.connect((server.address() as net.AddressInfo).port, `127.0.0.1`);
  await new Promise(resolve => socket.once(`connect`, resolve));
  const connection = new Http2Connection(socket);
  const goaway = async () => {
    for (let wait = 0; wait < 100 && !received.some(f => f.type === 0x7); wait++)
      await new Promise(resolve => setTimeout(resolve, 10));
    const sent = received.find(f => f.type === 0x7);
    return sent === undefined ? undefined : sent.payload.readUInt32BE(4);
  };
  return {connection, received, goaway};
}

const PROTOCOL_ERROR = 0x1;

/** The client's answer to a broken server: the request fails, and the client sent GOAWAY with `code`. */
async function refusesWith(script: (stream: number) => Buffer[], code: number, message: RegExp) {
  const {connection, goaway} = await rawServer(script);
  const failure = failed(await send(connection, `/`));
  assert.equal(failure.code, `ERR_PULLSECRET_HTTP2`);
  assert.match(failure.message, message);
  assert.equal(await goaway(), code);
  assert.equal(connection.usable, false);
}

test(`a raw server's well-formed answer is read (the raw server itself is right)`, async () => {
  const {connection} = await rawServer(stream => [SERVER_SETTINGS, frame(0x1, 0x4, stream, STATUS_200), frame(0x0, 0x8 | 0x1, stream, Buffer.from([3, 0x68, 0x69, 0, 0, 0]))]);
  const answer = ok(await send(connection, `/`));
  assert.equal(answer.status, 200);
  assert.equal(answer.body.toString(), `hi`);
});

test(`a server whose first frame is not SETTINGS breaks the protocol`, async () => {
  await refusesWith(stream => [frame(0x1, 0x5, stream, STATUS_200)], PROTOCOL_ERROR, /first frame was not SETTINGS/);
});

test(`a frame larger than the client allows ends the connection with FRAME_SIZE_ERROR, before it is buffered`, async () => {
  const head = Buffer.alloc(9);
  head.writeUIntBE(16_385, 0, 3);
  await refusesWith(stream => [SERVER_SETTINGS, frame(0x1, 0x4, stream, STATUS_200), head, Buffer.alloc(100)], 0x6, /16385 bytes/);
});

test(`a pushed stream is refused: push was disabled`, async () => {
  await refusesWith(stream => [SERVER_SETTINGS, frame(0x5, 0x4, stream, Buffer.concat([Buffer.from([0, 0, 0, 2]), STATUS_200]))], PROTOCOL_ERROR, /pushed/);
});

test(`an answer shorter than its content-length is malformed`, async () => {
  // content-length: 10 (literal without indexing, static name index 28), then 2 bytes and the end.
  const block = Buffer.concat([STATUS_200, Buffer.from([0x0f, 28 - 15, 2]), Buffer.from(`10`)]);
  const {connection} = await rawServer(stream => [SERVER_SETTINGS, frame(0x1, 0x4, stream, block), frame(0x0, 0x1, stream, Buffer.from(`hi`))]);
  const failure = failed(await send(connection, `/`));
  assert.match(failure.message, /content-length says 10/);
  assert.equal(failure.responseStarted, true);
});

test(`a header block interrupted by another frame breaks the protocol`, async () => {
  await refusesWith(stream => [SERVER_SETTINGS, frame(0x1, 0, stream, STATUS_200), frame(0x6, 0, 0, Buffer.alloc(8))], PROTOCOL_ERROR, /interrupted/);
});

test(`endless CONTINUATION frames end the connection once the block passes its bound, not when memory runs out`, async () => {
  await refusesWith(stream => [SERVER_SETTINGS, frame(0x1, 0, stream, STATUS_200), ...Array.from({length: 40}, () => frame(0x9, 0, stream, Buffer.alloc(16_384, 0x40)))], 0xb, /larger than/);
});

test(`a frame on a stream the client never opened breaks the protocol`, async () => {
  await refusesWith(stream => [SERVER_SETTINGS, frame(0x1, 0x5, stream + 2, STATUS_200)], PROTOCOL_ERROR, /never opened/);
});

test(`a header block that does not decode is a compression error of the connection`, async () => {
  // Index 0 does not exist in HPACK.
  await refusesWith(stream => [SERVER_SETTINGS, frame(0x1, 0x5, stream, Buffer.from([0x80]))], 0x9, /could not be decoded/);
});

test(`an answer without :status is malformed, and only its stream fails`, async () => {
  const {connection} = await rawServer(stream => (stream === 1 ? [SERVER_SETTINGS, frame(0x1, 0x5, stream, Buffer.from([0x82]))] : [frame(0x1, 0x5, stream, STATUS_200)]));
  assert.match(failed(await send(connection, `/`)).message, /:method|pseudo-header|:status/);
  assert.equal(ok(await send(connection, `/`)).status, 200);
});

test(`the server's PING is answered with the same eight bytes`, async () => {
  const {connection, received} = await rawServer(stream => [SERVER_SETTINGS, frame(0x6, 0, 0, Buffer.from(`pingpong`)), frame(0x1, 0x5, stream, STATUS_200)]);
  ok(await send(connection, `/`));
  await new Promise(resolve => setTimeout(resolve, 30));
  const pong = received.find(f => f.type === 0x6);
  assert.ok(pong);
  assert.equal(pong.flags, 0x1);
  assert.equal(pong.payload.toString(), `pingpong`);
});

/** A SETTINGS frame holding one setting. */
function setting(id: number, value: number): Buffer {
  const payload = Buffer.alloc(6);
  payload.writeUInt16BE(id, 0);
  payload.writeUInt32BE(value, 2);
  return frame(0x4, 0, 0, payload);
}

test(`every other protocol violation ends the connection with the error code RFC 9113 names for it`, async () => {
  const u32 = (value: number) => {
    const out = Buffer.alloc(4);
    out.writeUInt32BE(value);
    return out;
  };
  const cases: Array<[string, (stream: number) => Buffer[], number, RegExp]> = [
    [`a window above 2^31-1 from SETTINGS`, () => [setting(0x4, 2 ** 31)], 0x3, /INITIAL_WINDOW_SIZE/],
    [`a connection window pushed above 2^31-1`, () => [SERVER_SETTINGS, frame(0x8, 0, 0, u32(2 ** 31 - 1))], 0x3, /connection's window/],
    [`a WINDOW_UPDATE of 0 for the connection`, () => [SERVER_SETTINGS, frame(0x8, 0, 0, u32(0))], PROTOCOL_ERROR, /WINDOW_UPDATE of 0/],
    [`a frame size below the protocol's minimum`, () => [setting(0x5, 16_383)], PROTOCOL_ERROR, /MAX_FRAME_SIZE/],
    [`an ENABLE_PUSH that is neither 0 nor 1`, () => [setting(0x2, 2)], PROTOCOL_ERROR, /ENABLE_PUSH/],
    [`SETTINGS whose length is not a multiple of 6`, () => [frame(0x4, 0, 0, Buffer.alloc(5))], 0x6, /SETTINGS of 5 bytes/],
    [`a SETTINGS acknowledgement with a payload`, () => [SERVER_SETTINGS, frame(0x4, 0x1, 0, Buffer.alloc(6))], 0x6, /acknowledgement/],
    [`SETTINGS on a stream`, () => [frame(0x4, 0, 1)], PROTOCOL_ERROR, /SETTINGS on stream 1/],
    [`more padding than payload`, stream => [SERVER_SETTINGS, frame(0x1, 0x4 | 0x8, stream, Buffer.from([5, 0x88]))], PROTOCOL_ERROR, /padding/],
    [`a RST_STREAM that is not 4 bytes`, stream => [SERVER_SETTINGS, frame(0x3, 0, stream, Buffer.alloc(3))], 0x6, /RST_STREAM of 3 bytes/],
    [`a GOAWAY shorter than 8 bytes`, () => [SERVER_SETTINGS, frame(0x7, 0, 0, Buffer.alloc(4))], 0x6, /GOAWAY of 4 bytes/],
    [`a PING that is not 8 bytes`, () => [SERVER_SETTINGS, frame(0x6, 0, 0, Buffer.alloc(7))], 0x6, /PING of 7 bytes/],
    [`DATA on stream 0`, () => [SERVER_SETTINGS, frame(0x0, 0, 0, Buffer.alloc(1))], PROTOCOL_ERROR, /DATA on stream 0/],
    [`CONTINUATION without HEADERS`, stream => [SERVER_SETTINGS, frame(0x9, 0x4, stream, STATUS_200)], PROTOCOL_ERROR, /CONTINUATION without HEADERS/],
  ];
  for (const [what, script, code, message] of cases) {
    await test(what, async () => {
      await refusesWith(script, code, message);
    });
  }
});

test(`a stream's window pushed above 2^31-1 fails that stream only`, async () => {
  const increment = Buffer.alloc(4);
  increment.writeUInt32BE(2 ** 31 - 1);
  const {connection} = await rawServer(stream => (stream === 1 ? [SERVER_SETTINGS, frame(0x8, 0, stream, increment)] : [frame(0x1, 0x5, stream, STATUS_200)]));
  assert.match(failed(await send(connection, `/`)).message, /FLOW_CONTROL_ERROR: a stream's window/);
  assert.equal(ok(await send(connection, `/`)).status, 200);
});

test(`DATA before the answer's headers fails that stream`, async () => {
  const {connection} = await rawServer(stream => (stream === 1 ? [SERVER_SETTINGS, frame(0x0, 0x1, stream, Buffer.from(`x`))] : [frame(0x1, 0x5, stream, STATUS_200)]));
  assert.match(failed(await send(connection, `/`)).message, /DATA before its answer's headers/);
  assert.equal(ok(await send(connection, `/`)).status, 200);
});

test(`a 101 or an informational answer that ends the stream fails it`, async () => {
  const status101 = Buffer.from([0x08, 3, 0x31, 0x30, 0x31]);
  const {connection} = await rawServer(stream => [...(stream === 1 ? [SERVER_SETTINGS] : []), frame(0x1, 0x5, stream, stream === 1 ? status101 : Buffer.from([0x08, 3, 0x31, 0x30, 0x33]))]);
  assert.match(failed(await send(connection, `/`)).message, /answered 101/);
  assert.match(failed(await send(connection, `/`)).message, /answered 103 and ended the stream/);
});

// --- Go's HTTP/2 server: the real registry (Debian's docker-registry) over TLS, which offers h2 by ALPN. ---

test(`against Go's HTTP/2 server (the real registry): answers, challenges, HEAD, and a body larger than its windows`, async () => {
  const registry = await startRegistry({mode: `tls`, users: {alice: `s3cret`}});
  servers.push({close: () => void registry.stop()});
  const {digest} = await registry.push(`team/app`, `1.0`);
  const url = new URL(registry.url);
  const socket = tls.connect({host: url.hostname, port: Number(url.port), ca: registry.caPem, ALPNProtocols: [`h2`]});
  await new Promise(resolve => socket.once(`secureConnect`, resolve));
  assert.equal(socket.alpnProtocol, `h2`);
  const connection = new Http2Connection(socket);
  const auth: RequestField = [`authorization`, basicAuth(`alice`, `s3cret`), true];
  const request = (method: string, path: string, fields: RequestField[] = [], body?: Buffer) => send(connection, path, {method, fields, body, scheme: `https`, authority: url.host});
  // Twenty at once: Go's encoder fills its dynamic table and Huffman-codes the values.
  const answers = (await Promise.all(Array.from({length: 20}, (_, index) => (index % 2 === 0 ? request(`GET`, `/v2/`, [auth]) : request(`GET`, `/v2/`))))).map(ok);
  assert.deepEqual(answers.map(answer => answer.status), Array.from({length: 20}, (_, index) => (index % 2 === 0 ? 200 : 401)));
  assert.match(String(answers[1]!.headers[`www-authenticate`]), /^Basic realm="basic-realm"/);
  assert.equal(answers[0]!.headers[`docker-distribution-api-version`], `registry/2.0`);
  const accept: RequestField = [`accept`, `application/vnd.docker.distribution.manifest.v2+json, application/vnd.oci.image.manifest.v1+json`];
  const manifest = ok(await request(`GET`, `/v2/team/app/manifests/1.0`, [auth, accept]));
  assert.equal(manifest.status, 200);
  assert.equal(`sha256:${crypto.createHash(`sha256`).update(manifest.body).digest(`hex`)}`, digest);
  const head = ok(await request(`HEAD`, `/v2/team/app/manifests/1.0`, [auth, accept]));
  assert.deepEqual([head.status, head.body.length, head.headers[`docker-content-digest`]], [200, 0, digest]);
  // A blob upload of 3 MiB: more than Go's initial windows, so it is sent as the server opens them.
  const blob = crypto.randomBytes(3 * 1024 * 1024);
  const blobDigest = `sha256:${crypto.createHash(`sha256`).update(blob).digest(`hex`)}`;
  const started = ok(await request(`POST`, `/v2/team/app/blobs/uploads/`, [auth]));
  assert.equal(started.status, 202);
  const location = new URL(String(started.headers.location), registry.url);
  location.searchParams.set(`digest`, blobDigest);
  const uploaded = ok(await request(`PUT`, `${location.pathname}${location.search}`, [auth, [`content-type`, `application/octet-stream`]], blob));
  assert.equal(uploaded.status, 201, uploaded.body.toString());
  const fetched = ok(await request(`GET`, `/v2/team/app/blobs/${blobDigest}`, [auth]));
  assert.ok(fetched.body.equals(blob));
  connection.close();
});
