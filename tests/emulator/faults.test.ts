/** Fault injection: what clients see when the emulator is told to misbehave. */
import {test, before, after, afterEach} from 'node:test';
import assert from 'node:assert/strict';
import {startApiEmulator, type ApiEmulator} from '../helpers/apiEmulator/index.ts';
import {request} from '../helpers/apiEmulator/client.ts';

let api: ApiEmulator;

before(async () => {
  api = await startApiEmulator({seed: 42});
});
after(async () => {
  await api?.stop();
});
afterEach(() => {
  api.faults.clear();
});

test(`a 429 fault answers Too Many Requests with Retry-After and a Status body`, async () => {
  api.faults.add({route: `/api/v1/namespaces`, kind: `429`, retryAfterSeconds: 7});
  const reply = await request(api, `GET`, `/api/v1/namespaces`);
  assert.equal(reply.status, 429);
  assert.equal(reply.headers[`retry-after`], `7`);
  assert.equal(reply.json.kind, `Status`);
  assert.equal(reply.json.reason, `TooManyRequests`);
  assert.equal(reply.json.details.retryAfterSeconds, 7);
});

test(`500 and 503 faults answer InternalError and ServiceUnavailable Status bodies`, async () => {
  api.faults.add({route: /\/secrets$/, kind: `500`});
  api.faults.add({route: /\/serviceaccounts$/, kind: `503`});
  const internal = await request(api, `GET`, `/api/v1/namespaces/default/secrets`);
  assert.deepEqual([internal.status, internal.json.reason, internal.json.code], [500, `InternalError`, 500]);
  const unavailable = await request(api, `GET`, `/api/v1/namespaces/default/serviceaccounts`);
  assert.deepEqual([unavailable.status, unavailable.json.reason, unavailable.json.code], [503, `ServiceUnavailable`, 503]);
});

test(`a reset fault destroys the connection without an answer`, async () => {
  api.faults.add({route: `/api/v1/namespaces/default`, kind: `reset`});
  await assert.rejects(request(api, `GET`, `/api/v1/namespaces/default`), (e: NodeJS.ErrnoException) => e.code === `ECONNRESET` || /socket hang up/.test(e.message));
  assert.equal(api.requests.at(-1)!.status, -1);
});

test(`a latency fault delays the answer by at least latencyMs`, async () => {
  api.faults.add({route: `/version`, kind: `latency`, latencyMs: 150});
  const started = performance.now();
  const reply = await request(api, `GET`, `/version`);
  assert.equal(reply.status, 200);
  assert.ok(performance.now() - started >= 145, `answered after ${performance.now() - started} ms`);
});

test(`an nth fault hits only the Nth matching request`, async () => {
  api.faults.add({route: `/api/v1/namespaces/kube-system`, method: `GET`, nth: 2, kind: `503`});
  const statuses = [];
  for (let i = 0; i < 4; i++)
    statuses.push((await request(api, `GET`, `/api/v1/namespaces/kube-system`)).status);
  assert.deepEqual(statuses, [200, 503, 200, 200]);
});

test(`a method filter leaves other methods alone`, async () => {
  api.faults.add({route: `/api/v1/namespaces/default/secrets`, method: `POST`, kind: `500`});
  assert.equal((await request(api, `GET`, `/api/v1/namespaces/default/secrets`)).status, 200);
  assert.equal((await request(api, `POST`, `/api/v1/namespaces/default/secrets`, {body: {metadata: {name: `x`}, data: {}}})).status, 500);
  assert.equal(api.getObject(`secrets`, `default`, `x`), undefined);
});

test(`a fractional fault hits the same requests for the same seed`, async () => {
  const pattern = async (emulator: ApiEmulator) => {
    emulator.faults.add({route: `/version`, fraction: 0.5, kind: `503`});
    const out: number[] = [];
    for (let i = 0; i < 24; i++)
      out.push((await request(emulator, `GET`, `/version`)).status);
    return out;
  };
  const a = await startApiEmulator({seed: 7});
  const b = await startApiEmulator({seed: 7});
  const c = await startApiEmulator({seed: 8});
  try {
    const [pa, pb, pc] = [await pattern(a), await pattern(b), await pattern(c)];
    assert.deepEqual(pa, pb);
    assert.notDeepEqual(pa, pc);
    const hits = pa.filter(s => s === 503).length;
    assert.ok(hits > 4 && hits < 20, `${hits} of 24 hit`);
  } finally {
    await Promise.all([a.stop(), b.stop(), c.stop()]);
  }
});

test(`faults.clear() removes every fault`, async () => {
  api.faults.add({kind: `503`});
  assert.equal((await request(api, `GET`, `/version`)).status, 503);
  api.faults.clear();
  assert.equal((await request(api, `GET`, `/version`)).status, 200);
});
