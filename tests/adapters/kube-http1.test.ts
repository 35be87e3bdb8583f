// The HTTP/1.1 answer reader and request writer of the kube transport's own connections
// (sources/adapters/kube/http1.ts). Every answer is also fed split at every byte, as a connection may deliver it.
import {test} from 'node:test';
import assert from 'node:assert/strict';
import {AnswerReader, MalformedAnswerError, requestText} from '../../sources/adapters/kube/http1.ts';

class TooLarge extends Error {}

/** Reads `text` fed in the given pieces; returns what the reader made of it once complete (or at the connection's end). */
function read(pieces: string[], options: {head?: boolean; max?: number; end?: boolean} = {}) {
  const reader = new AnswerReader({head: options.head ?? false, maxBodyBytes: options.max ?? 1024 * 1024, tooLarge: () => new TooLarge(`too large`)});
  let complete = false;
  for (const piece of pieces)
    complete = reader.push(Buffer.from(piece, `latin1`));
  if (!complete && options.end)
    complete = reader.end();
  return {complete, status: reader.status, statusText: reader.statusText, headers: reader.headers, body: Buffer.concat(reader.chunks).toString(`latin1`), reusable: reader.reusable};
}

/** The same answer fed whole, and split in two at every byte: every way must read the same. */
function readEveryWay(text: string, options: {head?: boolean; end?: boolean} = {}) {
  const whole = read([text], options);
  for (let at = 1; at < text.length; at++)
    assert.deepEqual(read([text.slice(0, at), text.slice(at)], options), whole, `split at ${at}`);
  assert.deepEqual(read([...text], options), whole, `one byte at a time`);
  return whole;
}

test(`an answer with a Content-Length is complete at its last byte, and the connection can carry the next request`, () => {
  const answer = readEveryWay(`HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: 11\r\n\r\n{"kind":""}`);
  assert.deepEqual(answer, {complete: true, status: 200, statusText: `OK`, headers: {'content-type': `application/json`, 'content-length': `11`}, body: `{"kind":""}`, reusable: true});
});

test(`a chunked answer is put back together, chunk extensions and trailers dropped`, () => {
  const answer = readEveryWay(`HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n5;ext=1\r\nhello\r\n19\r\n, world of many chunks!..\r\n0\r\nX-Trailer: t\r\n\r\n`);
  assert.equal(answer.complete, true);
  assert.equal(answer.body, `hello, world of many chunks!..`);
  assert.equal(answer.reusable, true);
});

test(`an answer is not complete before its last byte`, () => {
  assert.equal(read([`HTTP/1.1 200 OK\r\nContent-Length: 5\r\n\r\nhell`]).complete, false);
  assert.equal(read([`HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nhello\r\n0\r\n`]).complete, false);
  assert.equal(read([`HTTP/1.1 200 OK\r\nContent-Length: 5\r\n`]).complete, false);
});

test(`interim answers (100 Continue, 103 Early Hints) are skipped for the real one`, () => {
  const answer = readEveryWay(`HTTP/1.1 100 Continue\r\n\r\nHTTP/1.1 103 Early Hints\r\nLink: </x>\r\n\r\nHTTP/1.1 201 Created\r\nContent-Length: 2\r\n\r\n{}`);
  assert.deepEqual([answer.status, answer.body, answer.headers.link], [201, `{}`, undefined]);
});

test(`204, 304 and answers to HEAD have no body whatever their headers say`, () => {
  assert.deepEqual(read([`HTTP/1.1 204 No Content\r\nContent-Length: 10\r\n\r\n`]).complete, true);
  assert.deepEqual(read([`HTTP/1.1 304 Not Modified\r\n\r\n`]).complete, true);
  assert.deepEqual(read([`HTTP/1.1 200 OK\r\nContent-Length: 10\r\n\r\n`], {head: true}).complete, true);
});

test(`an answer without a length ends with the connection, which then carries nothing else`, () => {
  const answer = readEveryWay(`HTTP/1.1 200 OK\r\n\r\nall of it`, {end: true});
  assert.deepEqual([answer.complete, answer.body, answer.reusable], [true, `all of it`, false]);
  assert.equal(read([`HTTP/1.1 200 OK\r\n\r\nall of it`]).complete, false);
});

test(`a connection is not reused after Connection: close, an HTTP/1.0 answer, or bytes nobody asked for`, () => {
  assert.equal(read([`HTTP/1.1 200 OK\r\nConnection: close\r\nContent-Length: 0\r\n\r\n`]).reusable, false);
  assert.equal(read([`HTTP/1.0 200 OK\r\nContent-Length: 0\r\n\r\n`]).reusable, false);
  assert.equal(read([`HTTP/1.0 200 OK\r\nConnection: keep-alive\r\nContent-Length: 0\r\n\r\n`]).reusable, true);
  assert.equal(read([`HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\nHTTP/1.1 200 OK`]).reusable, false);
});

test(`an answer cut short by the end of the connection is not complete`, () => {
  const reader = new AnswerReader({head: false, maxBodyBytes: 100, tooLarge: () => new TooLarge()});
  reader.push(Buffer.from(`HTTP/1.1 200 OK\r\nContent-Length: 10\r\n\r\nabc`));
  assert.equal(reader.end(), false);
  assert.equal(reader.started, true);
});

test(`headers are read case-insensitively; repeated ones are joined, Set-Cookie kept apart`, () => {
  const answer = read([`HTTP/1.1 200 OK\r\nWarning: 299 - "a"\r\nwarning: 299 - "b"\r\nSet-Cookie: a=1\r\nSet-Cookie: b=2\r\nContent-Length: 0\r\n\r\n`]);
  assert.equal(answer.headers.warning, `299 - "a", 299 - "b"`);
  assert.deepEqual(answer.headers[`set-cookie`], [`a=1`, `b=2`]);
});

test(`a body over the cap is refused as soon as its size is known`, () => {
  assert.throws(() => read([`HTTP/1.1 200 OK\r\nContent-Length: 101\r\n\r\n`], {max: 100}), TooLarge);
  assert.throws(() => read([`HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n65\r\n`], {max: 100}), TooLarge);
  assert.throws(() => read([`HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n32\r\n${`x`.repeat(50)}\r\n33\r\n`], {max: 100}), TooLarge);
  assert.throws(() => read([`HTTP/1.1 200 OK\r\n\r\n${`x`.repeat(101)}`], {max: 100}), TooLarge);
});

test(`malformed answers are errors, never guesses`, () => {
  for (const text of [
    `HTTP/2 200\r\n\r\n`,
    `HTTP/1.1 20 OK\r\n\r\n`,
    `HTTP/1.1 200 OK\r\nno colon here\r\n\r\n`,
    `HTTP/1.1 200 OK\r\n folded: header\r\n\r\n`,
    `HTTP/1.1 200 OK\r\nContent-Length: 1, 2\r\n\r\n`,
    `HTTP/1.1 200 OK\r\nContent-Length: -1\r\n\r\n`,
    `HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\n`,
    `HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n2\r\nabX`,
    `HTTP/1.1 101 Switching Protocols\r\n\r\n`,
    `HTTP/1.1 200 OK\r\nX: ${`y`.repeat(70 * 1024)}`,
  ])
    assert.throws(() => read([text]), MalformedAnswerError, JSON.stringify(text.slice(0, 60)));
});

test(`the same Content-Length given twice is one length`, () => {
  assert.equal(read([`HTTP/1.1 200 OK\r\nContent-Length: 2\r\nContent-Length: 2\r\n\r\nok`]).body, `ok`);
});

test(`a request is written with Host, its headers and a Content-Length in bytes`, () => {
  assert.equal(
    requestText({method: `POST`, path: `/api/v1/namespaces/ci/secrets?fieldManager=x`, host: `127.0.0.1:6443`, headers: {Authorization: `Bearer t`}, body: `{"é":1}`}),
    `POST /api/v1/namespaces/ci/secrets?fieldManager=x HTTP/1.1\r\nHost: 127.0.0.1:6443\r\nAuthorization: Bearer t\r\nContent-Length: 8\r\n\r\n{"é":1}`,
  );
  assert.equal(requestText({method: `GET`, path: `/version`, host: `h`, headers: {}}), `GET /version HTTP/1.1\r\nHost: h\r\n\r\n`);
});

test(`a header value that would split the request, or a header name that is no token, is refused as node:http refuses it`, () => {
  assert.throws(() => requestText({method: `GET`, path: `/`, host: `h`, headers: {Authorization: `Bearer t\r\nX-Evil: 1`}}), {code: `ERR_INVALID_CHAR`});
  assert.throws(() => requestText({method: `GET`, path: `/`, host: `h`, headers: {Authorization: `Bearer t\n`}}), {code: `ERR_INVALID_CHAR`});
  assert.throws(() => requestText({method: `GET`, path: `/`, host: `h`, headers: {'Bad Name': `x`}}), {code: `ERR_INVALID_HTTP_TOKEN`});
});
