import {test} from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import http from 'node:http';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import zlib from 'node:zlib';
import {stringify} from 'yaml';
import {connectCluster, isKubeApiError} from '../../sources/adapters/kube/connect.ts';
import {parseRetryAfter} from '../../sources/adapters/kube/transport.ts';
import type {ClusterSession} from '../../sources/core/ports.ts';

// Protocol corners the API emulator does not produce, against tiny scripted http:// servers.

type Handler = (req: http.IncomingMessage, res: http.ServerResponse, index: number) => void;

async function scripted(t: {after: (fn: () => unknown) => void}, handler: Handler, pacing: {sleep?: (ms: number) => Promise<void>; random?: () => number} = {}): Promise<{session: ClusterSession; seen: string[]}> {
  const seen: string[] = [];
  const server = http.createServer((req, res) => {
    seen.push(`${req.method} ${req.url}`);
    handler(req, res, seen.length - 1);
  });
  await new Promise<void>(resolve => server.listen(0, `127.0.0.1`, resolve));
  t.after(() => new Promise<void>(resolve => {
    server.closeAllConnections();
    server.close(() => resolve());
  }));
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), `h5-transport-`));
  t.after(() => fs.rmSync(dir, {recursive: true, force: true}));
  const file = path.join(dir, `kubeconfig`);
  fs.writeFileSync(file, stringify({
    apiVersion: `v1`,
    kind: `Config`,
    clusters: [{name: `c`, cluster: {server: `http://127.0.0.1:${(server.address() as net.AddressInfo).port}`}}],
    users: [{name: `u`, user: {}}],
    contexts: [{name: `ctx`, context: {cluster: `c`, user: `u`}}],
    [`current-context`]: `ctx`,
  }));
  return {session: await connectCluster({kubeconfig: file}, {retry: {baseDelayMs: 10, maxDelayMs: 20}, ...pacing}), seen};
}

function json(res: http.ServerResponse, status: number, body: unknown): void {
  res.writeHead(status, {[`content-type`]: `application/json`});
  res.end(JSON.stringify(body));
}

const item = (name: string) => ({metadata: {name, namespace: `ns`}});

test(`an expired continue token (410) restarts the list once without pagination`, async t => {
  const {session, seen} = await scripted(t, (req, res, index) => {
    if (index === 0)
      return json(res, 200, {kind: `SecretList`, metadata: {continue: `stale`}, items: [item(`a`)]});
    if (index === 1)
      return json(res, 410, {kind: `Status`, apiVersion: `v1`, status: `Failure`, reason: `Expired`, code: 410, message: `The provided continue parameter is too old`});
    return json(res, 200, {kind: `SecretList`, metadata: {}, items: [item(`a`), item(`b`)]});
  });
  const names = (await session.list(`secrets`, {namespace: `ns`})).map(secret => secret.metadata.name);
  assert.deepEqual(names, [`a`, `b`]);
  assert.deepEqual(seen, [
    `GET /api/v1/namespaces/ns/secrets?limit=500`,
    `GET /api/v1/namespaces/ns/secrets?limit=500&continue=stale`,
    `GET /api/v1/namespaces/ns/secrets`,
  ]);
});

test(`gzip-compressed answers are decompressed`, async t => {
  const {session} = await scripted(t, (_req, res) => {
    res.writeHead(200, {[`content-type`]: `application/json`, [`content-encoding`]: `gzip`});
    res.end(zlib.gzipSync(JSON.stringify({kind: `SecretList`, metadata: {}, items: [item(`zipped`)]})));
  });
  assert.deepEqual((await session.list(`secrets`, {namespace: `ns`})).map(secret => secret.metadata.name), [`zipped`]);
});

test(`a DELETE repeated after a lost answer that then finds nothing counts as deleted`, async t => {
  const {session, seen} = await scripted(t, (req, res, index) => {
    if (index === 0)
      return req.socket.destroy();
    json(res, 404, {kind: `Status`, apiVersion: `v1`, status: `Failure`, reason: `NotFound`, code: 404, message: `secrets "s" not found`});
  });
  await session.delete(`secrets`, `ns`, `s`);
  assert.equal(seen.length, 2);
});

test(`a DELETE of an object that is not there on the first attempt is a 404 KubeApiError`, async t => {
  const {session} = await scripted(t, (_req, res) => json(res, 404, {kind: `Status`, apiVersion: `v1`, status: `Failure`, reason: `NotFound`, code: 404, message: `secrets "s" not found`}));
  await assert.rejects(session.delete(`secrets`, `ns`, `s`), (error: unknown) => isKubeApiError(error, 404) && (error as Error).message === `cannot delete secrets "s" in namespace "ns": secrets "s" not found (NotFound)`);
});

test(`an error answer that is not a Status is described by its HTTP status, without quoting the body`, async t => {
  const {session} = await scripted(t, (_req, res) => {
    res.writeHead(418, {[`content-type`]: `text/html`});
    res.end(`<html>token=leaked-into-a-proxy-page</html>`);
  });
  await assert.rejects(session.get(`secrets`, `ns`, `s`), (error: unknown) => {
    assert.ok(isKubeApiError(error, 418));
    assert.equal((error as Error).message, `cannot get secrets "s" in namespace "ns": the server answered HTTP 418 I'm a Teapot`);
    return true;
  });
});

test(`a 2xx answer that is not JSON is an error, not a crash`, async t => {
  const {session} = await scripted(t, (_req, res) => {
    res.writeHead(200, {[`content-type`]: `text/plain`});
    res.end(`hello`);
  });
  await assert.rejects(session.get(`secrets`, `ns`, `s`), /body that is not JSON/);
});

test(`Retry-After is read as seconds or as an HTTP date`, () => {
  assert.equal(parseRetryAfter(`3`), 3000);
  assert.equal(parseRetryAfter(undefined), undefined);
  assert.equal(parseRetryAfter(`soon`), undefined);
  const inTwoSeconds = new Date(Date.now() + 2000).toUTCString();
  const parsed = parseRetryAfter(inTwoSeconds)!;
  assert.ok(parsed > 0 && parsed <= 2000, String(parsed));
});

test(`the back-off's jitter comes from the injected random: half the delay is fixed, the other half scales with it`, async t => {
  const pauses = async (random: number) => {
    const slept: number[] = [];
    const {session} = await scripted(t, (_req, res, index) => index < 3
      ? json(res, 503, {kind: `Status`, apiVersion: `v1`, status: `Failure`, reason: `ServiceUnavailable`, code: 503, message: `busy`})
      : json(res, 200, {kind: `SecretList`, metadata: {}, items: [item(`a`)]}), {sleep: async ms => { slept.push(ms); }, random: () => random});
    assert.deepEqual((await session.list(`secrets`, {namespace: `ns`})).map(secret => secret.metadata.name), [`a`]);
    return slept;
  };
  // baseDelayMs 10, maxDelayMs 20: the base doubles from 10 and stops at 20; the pause is base/2 + random * base/2.
  assert.deepEqual(await pauses(0), [5, 10, 10]);
  assert.deepEqual(await pauses(0.5), [8, 15, 15]);
  assert.deepEqual(await pauses(0.999), [10, 20, 20]);
});
