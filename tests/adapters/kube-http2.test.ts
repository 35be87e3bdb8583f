// The kube transport over HTTP/2 (sources/adapters/kube/transport.ts): against an API server that speaks it, as real
// ones do, a run's requests share one TLS connection however many run at once; against one that speaks only
// HTTP/1.1 (the emulator's default) the keep-alive agent carries them as before.
import {after, before, test} from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import {startApiEmulator} from '../helpers/apiEmulator/index.ts';
import type {ApiEmulator} from '../helpers/apiEmulator/index.ts';
import {runKubectl} from '../helpers/apiEmulator/kubectl.ts';
import {runCli} from '../helpers/runCli.ts';

const tmp = fs.mkdtempSync(path.join(os.tmpdir(), `kube-http2-`));
let h2: ApiEmulator;
let h1: ApiEmulator;

function seed(api: ApiEmulator): void {
  api.seed.namespace(`ci`);
  const auth = Buffer.from(`bot:s3cret`).toString(`base64`);
  api.seed.secret(`ci`, {metadata: {name: `regcred`}, type: `kubernetes.io/dockerconfigjson`, data: {'.dockerconfigjson': Buffer.from(JSON.stringify({auths: {'registry.example.com': {auth}}})).toString(`base64`)}});
  api.seed.serviceAccount(`ci`, `builder`, {imagePullSecrets: [`regcred`]});
  api.seed.workload(`Deployment`, `ci`, `app`, {containers: [{name: `app`, image: `registry.example.com/team/app:1.0`}], imagePullSecrets: [{name: `regcred`}]});
}

before(async () => {
  [h2, h1] = await Promise.all([startApiEmulator({http2: true}), startApiEmulator()]);
  seed(h2);
  seed(h1);
});
after(async () => {
  await Promise.all([h2?.stop(), h1?.stop()]);
  fs.rmSync(tmp, {recursive: true, force: true});
});

/**
 * Runs the plugin in-process against `api`; returns its result, the TLS connections it opened, the TCP connections (a
 * connection the client closes right after its side of the handshake never counts as a TLS one) and its requests.
 */
async function run(api: ApiEmulator, argv: string[]) {
  const kubeconfig = path.join(tmp, `${api.url.replace(/\W/g, `-`)}.kubeconfig`);
  api.writeKubeconfig(kubeconfig);
  const [connections, tcp, requests] = [api.tlsConnections(), api.tcpConnections(), api.requests.length];
  const result = await runCli([...argv, `--kubeconfig`, kubeconfig], {home: tmp});
  return {result, connections: api.tlsConnections() - connections, tcpConnections: api.tcpConnections() - tcp, requests: api.requests.slice(requests)};
}

test(`real kubectl reads the emulator over HTTP/2 when it offers it`, async () => {
  const kubeconfig = path.join(tmp, `kubectl.kubeconfig`);
  h2.writeKubeconfig(kubeconfig);
  const from = h2.requests.length;
  const result = await runKubectl([`get`, `secret`, `regcred`, `-n`, `ci`, `-o`, `json`], {kubeconfig});
  assert.equal(result.code, 0, result.stderr);
  assert.equal(JSON.parse(result.stdout).metadata.name, `regcred`);
  const asked = h2.requests.slice(from).filter(request => request.path.endsWith(`/secrets/regcred`));
  assert.deepEqual(asked.map(request => request.httpVersion), [`2.0`]);
});

test(`list -n NS sends its reads at once over one HTTP/2 connection`, async () => {
  // Each read waits a little on the server, so that reads sent at once are seen in flight together.
  h2.faults.add({method: `GET`, kind: `latency`, latencyMs: 30});
  try {
    const {result, connections, requests} = await run(h2, [`list`, `-n`, `ci`]);
    assert.equal(result.code, 0, result.stderr);
    assert.match(result.stdout, /^regcred\s/m);
    assert.ok(requests.length >= 8, `${requests.length} requests`);
    assert.ok(requests.every(request => request.httpVersion === `2.0`), requests.map(request => request.httpVersion).join(` `));
    assert.equal(connections, 1);
    assert.ok(Math.max(...requests.map(request => request.inFlight)) > 1, `the reads were sent one after another`);
  } finally {
    h2.faults.clear();
  }
});

test(`against a server without HTTP/2 the same list goes over HTTP/1.1 (one connection per read in flight)`, async () => {
  const {result, tcpConnections, requests} = await run(h1, [`list`, `-n`, `ci`]);
  assert.equal(result.code, 0, result.stderr);
  assert.match(result.stdout, /^regcred\s/m);
  assert.ok(requests.every(request => request.httpVersion === `1.1`));
  // The ALPN connection carries the first read; the agent opens one more per read in flight beside it.
  assert.ok(tcpConnections > 2 && tcpConnections <= requests.length, `${tcpConnections} connections for ${requests.length} reads`);
});

test(`against a server without HTTP/2 a one-read command opens one TLS connection: the ALPN one carries the HTTP/1.1 request`, async () => {
  const {result, tcpConnections, requests} = await run(h1, [`decode`, `regcred`, `-n`, `ci`]);
  assert.equal(result.code, 0, result.stderr);
  assert.match(result.stdout, /^registry\.example\.com\s/m);
  assert.deepEqual(requests.map(request => request.httpVersion), [`1.1`]);
  assert.equal(tcpConnections, 1);
});

test(`against a server without HTTP/2 requests one after another share the ALPN connection through the keep-alive agent`, async () => {
  // add reads the secret, then creates it: two requests in turn.
  const from = h1.requests.length;
  const kubeconfig = path.join(tmp, `h1-add.kubeconfig`);
  h1.writeKubeconfig(kubeconfig);
  const tcp = h1.tcpConnections();
  const result = await runCli([`add`, `pushed`, `-n`, `ci`, `--docker-server`, `registry.example.com`, `--docker-username`, `bot`, `--docker-password-stdin`, `--kubeconfig`, kubeconfig], {home: tmp, stdin: `pw\n`});
  assert.equal(result.code, 0, result.stderr);
  assert.equal(result.stdout, `secret/pushed created\n`);
  const requests = h1.requests.slice(from);
  assert.ok(requests.length >= 2, `${requests.length} requests`);
  assert.equal(h1.tcpConnections() - tcp, 1, `${h1.tcpConnections() - tcp} connections for ${requests.length} requests`);
});

test(`a read whose HTTP/2 stream is reset before the answer is sent again`, async () => {
  h2.faults.add({method: `GET`, route: `/secrets/regcred`, nth: 1, kind: `reset`});
  try {
    const {result, requests} = await run(h2, [`decode`, `regcred`, `-n`, `ci`]);
    assert.equal(result.code, 0, result.stderr);
    assert.match(result.stdout, /registry\.example\.com/);
    assert.deepEqual(requests.filter(request => request.path.endsWith(`/secrets/regcred`)).map(request => `${request.httpVersion} ${request.status}`), [`2.0 -1`, `2.0 200`]);
  } finally {
    h2.faults.clear();
  }
});

test(`an HTTP/2 request that outlives --request-timeout fails with the timeout's message`, async () => {
  h2.faults.add({method: `GET`, route: `/secrets/regcred`, kind: `latency`, latencyMs: 3000});
  try {
    const {result} = await run(h2, [`decode`, `regcred`, `-n`, `ci`, `--request-timeout=300ms`]);
    assert.notEqual(result.code, 0);
    assert.match(result.stderr, /timed out after 300ms/);
  } finally {
    h2.faults.clear();
  }
});
