import {after, test} from 'node:test';
import assert from 'node:assert/strict';
import https from 'node:https';
import {runKubectl} from '../helpers/apiEmulator/index.ts';
import {request} from '../helpers/apiEmulator/client.ts';
import {useApiEmulator} from '../helpers/apiEmulator/fixture.ts';

const api = await useApiEmulator({bookmarkIntervalMs: 100});

const kubectl = (...args: string[]) => runKubectl(args, {kubeconfig: api.kubeconfigPath});

/** Opens a watch and collects its events until `until` says stop (or the server ends it); then closes it. */
function collect(path: string, until: (events: any[]) => boolean, timeoutMs = 5000): Promise<{status: number; events: any[]}> {
  const url = new URL(api.url);
  return new Promise((resolve, reject) => {
    const events: any[] = [];
    let buffer = ``;
    const timer = setTimeout(() => {
      req.destroy();
      resolve({status: -1, events});
    }, timeoutMs);
    const req = https.request({hostname: url.hostname, port: url.port, path, ca: api.caPem, headers: {authorization: `Bearer ${api.tokens.admin}`}, agent: false}, res => {
      const done = () => {
        clearTimeout(timer);
        req.destroy();
        resolve({status: res.statusCode ?? 0, events});
      };
      res.on(`data`, (chunk: Buffer) => {
        buffer += chunk.toString(`utf8`);
        let newline: number;
        while ((newline = buffer.indexOf(`\n`)) >= 0) {
          events.push(JSON.parse(buffer.slice(0, newline)));
          buffer = buffer.slice(newline + 1);
        }
        if (until(events))
          done();
      });
      res.on(`end`, done);
    });
    req.on(`error`, error => (error.message === `socket hang up` ? undefined : reject(error)));
    req.end();
  });
}

test(`a watch from a resourceVersion replays every later event, the deletion with its own resourceVersion`, async () => {
  api.seed.namespace(`w1`);
  const start = (await request(api, `GET`, `/api/v1/namespaces/w1/secrets`)).json.metadata.resourceVersion;
  const body = {metadata: {name: `s`}, type: `Opaque`, data: {a: `YQ==`}};
  const created = (await request(api, `POST`, `/api/v1/namespaces/w1/secrets`, {body})).json;
  await request(api, `PATCH`, `/api/v1/namespaces/w1/secrets/s`, {body: {data: {a: `Yg==`}}, contentType: `application/merge-patch+json`});
  await request(api, `DELETE`, `/api/v1/namespaces/w1/secrets/s`);
  const {events} = await collect(`/api/v1/namespaces/w1/secrets?watch=true&resourceVersion=${start}`, seen => seen.length >= 3);
  assert.deepEqual(events.map(event => event.type), [`ADDED`, `MODIFIED`, `DELETED`]);
  assert.equal(events[0].object.metadata.uid, created.metadata.uid);
  const versions = events.map(event => Number(event.object.metadata.resourceVersion));
  assert.ok(versions[0]! < versions[1]! && versions[1]! < versions[2]!, `increasing: ${versions.join(`, `)}`);
  // Resuming after the last event sends nothing old again.
  const resumed = await collect(`/api/v1/namespaces/w1/secrets?watch=true&resourceVersion=${versions[2]}`, seen => seen.length > 0, 500);
  assert.deepEqual(resumed.events, []);
});

test(`allowWatchBookmarks=true sends BOOKMARK events carrying the latest resourceVersion, and only then`, async () => {
  api.seed.namespace(`w2`);
  const {events} = await collect(`/api/v1/namespaces/w2/secrets?watch=true&resourceVersion=0&allowWatchBookmarks=true`, seen => seen.some(event => event.type === `BOOKMARK`));
  const bookmark = events.find(event => event.type === `BOOKMARK`);
  assert.deepEqual(Object.keys(bookmark.object.metadata), [`resourceVersion`]);
  assert.equal(bookmark.object.kind, `Secret`);
  assert.ok(Number(bookmark.object.metadata.resourceVersion) >= Number(api.getObject(`namespaces`, undefined, `w2`).metadata.resourceVersion));
  const plain = await collect(`/api/v1/namespaces/w2/secrets?watch=true&resourceVersion=0`, seen => seen.some(event => event.type === `BOOKMARK`), 400);
  assert.equal(plain.events.filter(event => event.type === `BOOKMARK`).length, 0);
});

test(`after a compaction a watch from an older resourceVersion gets one ERROR event with 410 Expired and ends`, async () => {
  api.seed.namespace(`w3`);
  const old = (await request(api, `GET`, `/api/v1/namespaces/w3/secrets`)).json.metadata.resourceVersion;
  api.seed.secret(`w3`, {metadata: {name: `after`}, type: `Opaque`});
  api.compact();
  const {events} = await collect(`/api/v1/namespaces/w3/secrets?watch=true&resourceVersion=${old}`, () => false);
  assert.equal(events.length, 1);
  assert.equal(events[0].type, `ERROR`);
  assert.equal(events[0].object.code, 410);
  assert.equal(events[0].object.reason, `Expired`);
  assert.match(events[0].object.message, new RegExp(`^too old resource version: ${old} \\(\\d+\\)$`));
  // A new list gives a resourceVersion to watch from again.
  const fresh = (await request(api, `GET`, `/api/v1/namespaces/w3/secrets`)).json.metadata.resourceVersion;
  api.seed.secret(`w3`, {metadata: {name: `later`}, type: `Opaque`});
  const again = await collect(`/api/v1/namespaces/w3/secrets?watch=true&resourceVersion=${fresh}`, seen => seen.length > 0);
  assert.deepEqual(again.events.map(event => [event.type, event.object.metadata.name]), [[`ADDED`, `later`]]);
});

test(`kubectl get --watch-only --output-watch-events streams what changes, as kubectl shows it`, async () => {
  api.seed.namespace(`w4`);
  const watching = kubectl(`get`, `secrets`, `-n`, `w4`, `--watch-only`, `--output-watch-events`, `-o`, `json`, `--request-timeout=3s`);
  const deadline = Date.now() + 10_000;
  while (!api.requests.some(r => r.verb === `watch` && r.namespace === `w4`)) {
    assert.ok(Date.now() < deadline, `kubectl never started watching`);
    await new Promise(resolve => setTimeout(resolve, 50));
  }
  api.seed.secret(`w4`, {metadata: {name: `one`}, type: `Opaque`});
  await request(api, `DELETE`, `/api/v1/namespaces/w4/secrets/one`);
  const result = await watching;
  const events = result.stdout.trim().split(`\n`).map(line => JSON.parse(line));
  assert.deepEqual(events.map(event => [event.type, event.object.metadata.name]), [[`ADDED`, `one`], [`DELETED`, `one`]]);
});

test(`Leases: kubectl creates, gets (HOLDER column) and updates them with resourceVersion conflicts`, async () => {
  api.seed.namespace(`w5`);
  const manifest = JSON.stringify({apiVersion: `coordination.k8s.io/v1`, kind: `Lease`, metadata: {name: `leader`, namespace: `w5`}, spec: {holderIdentity: `pod-a`, leaseDurationSeconds: 15, acquireTime: `2026-12-01T12:00:00.000000Z`, renewTime: `2026-12-01T12:00:00.000000Z`, leaseTransitions: 0}});
  const applied = await runKubectl([`apply`, `-f`, `-`], {kubeconfig: api.kubeconfigPath, stdin: manifest});
  assert.equal(applied.code, 0, applied.stderr);
  assert.equal(applied.stdout, `lease.coordination.k8s.io/leader created\n`);
  const table = await kubectl(`get`, `lease`, `-n`, `w5`);
  assert.equal(table.code, 0, table.stderr);
  assert.match(table.stdout, /^NAME\s+HOLDER\s+AGE\nleader\s+pod-a\s+\S+\n$/);
  const lease = (await request(api, `GET`, `/apis/coordination.k8s.io/v1/namespaces/w5/leases/leader`)).json;
  const taken = await request(api, `PUT`, `/apis/coordination.k8s.io/v1/namespaces/w5/leases/leader`, {body: {...lease, spec: {...lease.spec, holderIdentity: `pod-b`}}});
  assert.equal(taken.status, 200);
  const stale = await request(api, `PUT`, `/apis/coordination.k8s.io/v1/namespaces/w5/leases/leader`, {body: {...lease, spec: {...lease.spec, holderIdentity: `pod-c`}}});
  assert.equal(stale.status, 409, `an update from an old resourceVersion loses`);
  assert.equal((await kubectl(`get`, `lease`, `leader`, `-n`, `w5`, `-o`, `jsonpath={.spec.holderIdentity}`)).stdout, `pod-b`);
});
