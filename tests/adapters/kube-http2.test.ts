// The kube transport over HTTP/2 (sources/adapters/kube/transport.ts): against an API server that speaks it, as real
// ones do, requests that run together share one TLS connection however many there are, and a request that runs alone
// goes over the transport's own HTTP/1.1 connection (neither uses node:http2 or node:http); against one that speaks
// only HTTP/1.1 (the emulator's default) lone requests take that connection too, and requests together the keep-alive
// agent.
import {after, before, test} from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import {connectCluster} from '../../sources/adapters/kube/connect.ts';
import {startApiEmulator} from '../helpers/apiEmulator/index.ts';
import type {ApiEmulator} from '../helpers/apiEmulator/index.ts';
import {runKubectl} from '../helpers/apiEmulator/kubectl.ts';
import {runCli} from '../helpers/runCli.ts';
import {ensureBinary, pluginEnv, runProgramAsync} from '../helpers/binary.ts';

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
  [h2, h1] = await Promise.all([startApiEmulator({http2: true}), startApiEmulator({http2: false})]);
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
  h2.faults.add({method: `GET`, route: /\/namespaces\/ci\/secrets$/, nth: 1, kind: `reset`});
  try {
    const {result, requests} = await run(h2, [`list`, `-n`, `ci`]);
    assert.equal(result.code, 0, result.stderr);
    assert.match(result.stdout, /^regcred\s/m);
    assert.deepEqual(requests.filter(request => /\/namespaces\/ci\/secrets$/.test(request.path)).map(request => `${request.httpVersion} ${request.status}`), [`2.0 -1`, `2.0 200`]);
  } finally {
    h2.faults.clear();
  }
});

/** Three reads sent together over HTTP/2 from one session, and the reads' record on the server. */
async function goawayWorld(name: string) {
  const kubeconfig = path.join(tmp, `h2-${name}.kubeconfig`);
  h2.writeKubeconfig(kubeconfig);
  const session = await connectCluster({kubeconfig}, {retry: {baseDelayMs: 1, maxDelayMs: 2}});
  const read = async () => {
    const [secret, account, accounts] = await Promise.all([session.get(`secrets`, `ci`, `regcred`), session.get(`serviceaccounts`, `ci`, `builder`), session.list(`serviceaccounts`, {namespace: `ci`})]);
    assert.deepEqual([secret?.metadata.name, account?.metadata.name, accounts.map(item => item.metadata.name).includes(`builder`)], [`regcred`, `builder`, true]);
  };
  return {read, from: h2.requests.length, tls: h2.tlsConnections()};
}

test(`after the server's GOAWAY (kube-apiserver's --goaway-chance) the answers in flight arrive, and the next requests open a new connection`, async () => {
  // The GOAWAY comes with the last of the three answers: all three were processed.
  h2.faults.add({method: `GET`, route: /\/serviceaccounts$/, nth: 1, kind: `goaway`});
  try {
    const {read, from, tls} = await goawayWorld(`goaway-last`);
    await read();
    await read();
    assert.deepEqual(h2.requests.slice(from).map(request => `${request.httpVersion} ${request.status}`), Array(6).fill(`2.0 200`));
    assert.equal(h2.tlsConnections() - tls, 2, `the second three went over a new connection`);
  } finally {
    h2.faults.clear();
  }
});

test(`requests a GOAWAY leaves unprocessed are sent again, and each is processed once`, async () => {
  // The GOAWAY comes with the first answer and names its stream: the two reads behind it are not processed there.
  h2.faults.add({method: `GET`, route: `/secrets/regcred`, nth: 1, kind: `goaway`});
  try {
    const {read, from} = await goawayWorld(`goaway-first`);
    await read();
    const paths = h2.requests.slice(from).map(request => `${request.status} ${request.path}`).sort();
    assert.deepEqual(paths, [`200 /api/v1/namespaces/ci/secrets/regcred`, `200 /api/v1/namespaces/ci/serviceaccounts`, `200 /api/v1/namespaces/ci/serviceaccounts/builder`]);
  } finally {
    h2.faults.clear();
  }
});

test(`the transport's own connections close after idling, and the next requests open new ones`, async () => {
  const kubeconfig = path.join(tmp, `h2-idle.kubeconfig`);
  h2.writeKubeconfig(kubeconfig);
  const session = await connectCluster({kubeconfig}, {idleTimeoutMs: 150});
  const tls = h2.tlsConnections();
  const together = () => Promise.all([session.get(`secrets`, `ci`, `regcred`), session.get(`serviceaccounts`, `ci`, `builder`)]);
  // A lone read (HTTP/1.1) and two together (HTTP/2): two connections, each reused while it is fresh.
  await session.get(`secrets`, `ci`, `regcred`);
  await together();
  await session.get(`secrets`, `ci`, `regcred`);
  await together();
  assert.equal(h2.tlsConnections() - tls, 2);
  await new Promise(resolve => setTimeout(resolve, 400));
  const from = h2.requests.length;
  await session.get(`secrets`, `ci`, `regcred`);
  await together();
  assert.equal(h2.tlsConnections() - tls, 4, `both idle connections were closed and replaced`);
  assert.deepEqual(h2.requests.slice(from).map(request => request.httpVersion), [`1.1`, `2.0`, `2.0`]);
});

test(`an HTTP/2 request that outlives --request-timeout fails with the timeout's message`, async () => {
  h2.faults.add({method: `GET`, route: /\/namespaces\/ci\/secrets$/, kind: `latency`, latencyMs: 3000});
  try {
    const {result, requests} = await run(h2, [`list`, `-n`, `ci`, `--request-timeout=300ms`]);
    assert.notEqual(result.code, 0);
    assert.match(result.stderr, /timed out after 300ms/);
    assert.ok(requests.some(request => /\/namespaces\/ci\/secrets$/.test(request.path) && request.httpVersion === `2.0`));
  } finally {
    h2.faults.clear();
  }
});

test(`a lone read goes over HTTP/1.1 even when the server speaks HTTP/2: decode opens one connection for its one request`, async () => {
  const {result, tcpConnections, requests} = await run(h2, [`decode`, `regcred`, `-n`, `ci`]);
  assert.equal(result.code, 0, result.stderr);
  assert.match(result.stdout, /^registry\.example\.com\s/m);
  assert.deepEqual(requests.map(request => request.httpVersion), [`1.1`]);
  assert.equal(tcpConnections, 1);
});

test(`requests one after another share one HTTP/1.1 keep-alive connection when the server speaks HTTP/2 too`, async () => {
  const kubeconfig = path.join(tmp, `h2-add.kubeconfig`);
  h2.writeKubeconfig(kubeconfig);
  const [from, tcp] = [h2.requests.length, h2.tcpConnections()];
  const result = await runCli([`add`, `pushed`, `-n`, `ci`, `--docker-server`, `registry.example.com`, `--docker-username`, `bot`, `--docker-password-stdin`, `--kubeconfig`, kubeconfig], {home: tmp, stdin: `pw\n`});
  assert.equal(result.code, 0, result.stderr);
  assert.equal(result.stdout, `secret/pushed created\n`);
  const requests = h2.requests.slice(from);
  assert.ok(requests.length >= 2, `${requests.length} requests`);
  assert.ok(requests.every(request => request.httpVersion === `1.1`), requests.map(request => request.httpVersion).join(` `));
  assert.equal(h2.tcpConnections() - tcp, 1);
});

test(`a request sent while another is in flight takes HTTP/2, and later ones use that connection`, async () => {
  const kubeconfig = path.join(tmp, `h2-overlap.kubeconfig`);
  h2.writeKubeconfig(kubeconfig);
  const session = await connectCluster({kubeconfig});
  h2.faults.add({method: `GET`, route: `/secrets/regcred`, nth: 1, kind: `latency`, latencyMs: 200});
  try {
    const from = h2.requests.length;
    const slow = session.get(`secrets`, `ci`, `regcred`);
    // The slow read has been sent (alone: over HTTP/1.1) before the next one starts.
    await new Promise(resolve => setTimeout(resolve, 50));
    assert.ok(await session.get(`serviceaccounts`, `ci`, `builder`));
    assert.ok(await slow);
    assert.ok(await session.get(`serviceaccounts`, `ci`, `builder`));
    const versions = h2.requests.slice(from).map(request => `${request.path.includes(`/secrets/`) ? `secret` : `sa`} ${request.httpVersion}`);
    assert.deepEqual(versions.sort(), [`sa 2.0`, `sa 2.0`, `secret 1.1`]);
  } finally {
    h2.faults.clear();
  }
});

test(`the binary loads none of node:http2, node:https and node:http, neither for decode's one read nor for list's ten over HTTP/2`, async () => {
  const binary = await ensureBinary();
  const kubeconfig = path.join(tmp, `h2-modules.kubeconfig`);
  h2.writeKubeconfig(kubeconfig);
  // A preload (NODE_OPTIONS reaches the single executable) reports at exit whether node:http2 was loaded.
  const hook = path.join(tmp, `http2-hook.cjs`);
  fs.writeFileSync(hook, `process.on('exit', () => process.stderr.write('LOADED: ' + (['http2', 'https', 'http'].filter(name => process.moduleLoadList.includes('NativeModule ' + name)).join(' ') || 'none') + '\\n'));\n`);
  // Asynchronously: the emulator answers from this process.
  const loads = async (args: string[]) => {
    const result = await runProgramAsync(binary, [...args, `--kubeconfig`, kubeconfig], {env: {...pluginEnv(tmp), NODE_OPTIONS: `--require ${hook}`}});
    assert.equal(result.code, 0, result.stderr);
    return result.stderr.trim().split(`\n`).pop();
  };
  assert.equal(await loads([`decode`, `regcred`, `-n`, `ci`]), `LOADED: none`);
  // The ten reads go over the transport's own HTTP/2 client (http2.ts).
  assert.equal(await loads([`list`, `-n`, `ci`]), `LOADED: none`);
  // Refused reads too: an HTTP/2 answer's reason phrase comes from the transport's own table, not node:http's.
  const refused = await runProgramAsync(binary, [`list`, `-n`, `ci`, `--context`, `limited`, `--kubeconfig`, kubeconfig], {env: {...pluginEnv(tmp), NODE_OPTIONS: `--require ${hook}`}});
  assert.equal(refused.code, 1, refused.stderr);
  assert.match(refused.stderr, /you may not list secrets in namespace ci \(forbidden\)/);
  assert.equal(refused.stderr.trim().split(`\n`).pop(), `LOADED: none`);
});

test(`a lone write whose kept connection the server drops before answering is sent again over a new connection`, async () => {
  const kubeconfig = path.join(tmp, `h2-stale.kubeconfig`);
  h2.writeKubeconfig(kubeconfig);
  const session = await connectCluster({kubeconfig}, {retry: {baseDelayMs: 1, maxDelayMs: 2}});
  assert.ok(await session.get(`secrets`, `ci`, `regcred`));
  // The connection the read was answered on is kept; the server drops it when the create arrives, unanswered.
  h2.faults.add({method: `POST`, nth: 1, kind: `reset`});
  try {
    const [from, tcp] = [h2.requests.length, h2.tcpConnections()];
    await session.create(`secrets`, `ci`, {apiVersion: `v1`, kind: `Secret`, metadata: {name: `stale-retry`}, type: `Opaque`, data: {}});
    assert.deepEqual(h2.requests.slice(from).map(request => `${request.method} ${request.httpVersion} ${request.status}`), [`POST 1.1 -1`, `POST 1.1 201`]);
    assert.equal(h2.tcpConnections() - tcp, 1, `one new connection for the repeated create`);
  } finally {
    h2.faults.clear();
  }
});
