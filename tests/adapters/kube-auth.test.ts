import {after, before, test} from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import http from 'node:http';
import https from 'node:https';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import {stringify} from 'yaml';
import {startApiEmulator} from '../helpers/apiEmulator/index.ts';
import type {ApiEmulator} from '../helpers/apiEmulator/index.ts';
import {createPki} from '../helpers/apiEmulator/tls.ts';
import {connectCluster} from '../../sources/adapters/kube/connect.ts';
import {ClusterUnreachableError, PullSecretError} from '../../sources/core/errors.ts';

// kubeconfig breadth (issue 7 §7): every way a kubeconfig can authenticate and reach the API server.

let api: ApiEmulator;
let dir: string;
const PLUGIN = path.join(import.meta.dirname, `../corpus/kubeconfig/exec-credential.sh`);

before(async () => {
  api = await startApiEmulator({plainHttp: true});
  dir = fs.mkdtempSync(path.join(os.tmpdir(), `h5-auth-`));
});
after(async () => {
  await api?.stop();
  if (dir)
    fs.rmSync(dir, {recursive: true, force: true});
});

/** Writes a one-context kubeconfig into its own directory (so relative paths are relative to it). */
function kubeconfig(name: string, cluster: Record<string, unknown>, user: Record<string, unknown>): string {
  const folder = path.join(dir, name);
  fs.mkdirSync(folder, {recursive: true});
  const file = path.join(folder, `kubeconfig`);
  fs.writeFileSync(file, stringify({
    apiVersion: `v1`,
    kind: `Config`,
    clusters: [{name: `c`, cluster: {server: api.url, ...cluster}}],
    users: [{name: `u`, user}],
    contexts: [{name: `ctx`, context: {cluster: `c`, user: `u`}}],
    [`current-context`]: `ctx`,
  }));
  return file;
}

/** The user the emulator saw on the last request. */
async function whoAmI(file: string, env: Record<string, string | undefined> = {}): Promise<string | undefined> {
  api.resetRequests();
  const session = await connectCluster({kubeconfig: file, env});
  // Authentication is what matters here; a 403 from RBAC still shows who the server saw.
  await session.get(`namespaces`, undefined, `default`).catch(() => null);
  assert.equal(api.requests.length, 1);
  return api.requests[0]!.user;
}

test(`a bearer token authenticates`, async () => {
  assert.equal(await whoAmI(kubeconfig(`token`, {[`certificate-authority`]: api.caFile}, {token: api.tokens.readonly})), `readonly`);
});

test(`a token-file relative to the kubeconfig is read and its trailing newline ignored`, async () => {
  const file = kubeconfig(`token-file`, {[`certificate-authority`]: api.caFile}, {[`token-file`]: `secrets/token`});
  fs.mkdirSync(path.join(path.dirname(file), `secrets`));
  fs.writeFileSync(path.join(path.dirname(file), `secrets/token`), `${api.tokens.limited}\n`);
  assert.equal(await whoAmI(file), `limited`);
});

test(`a client certificate and key (files relative to the kubeconfig) authenticate`, async () => {
  const cert = api.issueClientCert(`readonly`);
  const file = kubeconfig(`client-cert-files`, {[`certificate-authority`]: api.caFile}, {[`client-certificate`]: `client.crt`, [`client-key`]: `client.key`});
  fs.copyFileSync(cert.certFile, path.join(path.dirname(file), `client.crt`));
  fs.copyFileSync(cert.keyFile, path.join(path.dirname(file), `client.key`));
  assert.equal(await whoAmI(file), `readonly`);
});

test(`inline client-certificate-data and client-key-data authenticate`, async () => {
  const cert = api.issueClientCert(`limited`);
  const file = kubeconfig(`client-cert-data`, {[`certificate-authority`]: api.caFile}, {
    [`client-certificate-data`]: Buffer.from(cert.certPem).toString(`base64`),
    [`client-key-data`]: Buffer.from(cert.keyPem).toString(`base64`),
  });
  assert.equal(await whoAmI(file), `limited`);
});

test(`a client key that does not match its certificate is a one-line kubeconfig error`, async () => {
  const one = api.issueClientCert(`readonly`);
  const other = api.issueClientCert(`limited`);
  const file = kubeconfig(`client-cert-mismatch`, {[`certificate-authority`]: api.caFile}, {[`client-certificate`]: one.certFile, [`client-key`]: other.keyFile});
  await assert.rejects(connectCluster({kubeconfig: file}), (error: Error) => error instanceof PullSecretError && /client certificate or key of user "u" cannot be used/.test(error.message) && !/\n/.test(error.message));
});

test(`a client certificate without its key is a one-line kubeconfig error`, async () => {
  const cert = api.issueClientCert(`readonly`);
  const file = kubeconfig(`client-cert-no-key`, {[`certificate-authority`]: api.caFile}, {[`client-certificate`]: cert.certFile});
  await assert.rejects(connectCluster({kubeconfig: file}), /has a client certificate without its key; set both client-certificate and client-key$/);
});

test(`certificate-authority-data inline and a relative certificate-authority file both verify the server`, async () => {
  assert.equal(await whoAmI(kubeconfig(`ca-data`, {[`certificate-authority-data`]: Buffer.from(api.caPem).toString(`base64`)}, {token: api.tokens.admin})), `admin`);
  const file = kubeconfig(`ca-file`, {[`certificate-authority`]: `pki/ca.crt`}, {token: api.tokens.admin});
  fs.mkdirSync(path.join(path.dirname(file), `pki`));
  fs.copyFileSync(api.caFile, path.join(path.dirname(file), `pki/ca.crt`));
  assert.equal(await whoAmI(file), `admin`);
});

test(`insecure-skip-tls-verify reaches the server without a CA`, async () => {
  assert.equal(await whoAmI(kubeconfig(`insecure`, {[`insecure-skip-tls-verify`]: true}, {token: api.tokens.admin})), `admin`);
});

test(`without the CA the server certificate is rejected: exit 3, "certificate signed by unknown authority"`, async () => {
  const session = await connectCluster({kubeconfig: kubeconfig(`no-ca`, {}, {token: api.tokens.admin})});
  await assert.rejects(session.list(`secrets`, {namespace: `default`}), (error: Error) => {
    assert.ok(error instanceof ClusterUnreachableError);
    assert.equal(error.exitCode, 3);
    assert.match(error.message, new RegExp(`^cannot reach the cluster at ${api.url.replace(/\./g, `\\.`)} \\(context "ctx"\\): TLS error: certificate signed by unknown authority`));
    return true;
  });
  assert.equal(session.requestCount(), 1);
});

test(`tls-server-name verifies the certificate against that name`, async () => {
  const file = kubeconfig(`tls-server-name`, {server: api.url.replace(`127.0.0.1`, `localhost`), [`certificate-authority`]: api.caFile, [`tls-server-name`]: `localhost`}, {token: api.tokens.readonly});
  assert.equal(await whoAmI(file), `readonly`);
});

test(`a certificate that does not match the server name is a TLS error naming the fix`, async () => {
  const file = kubeconfig(`wrong-name`, {[`certificate-authority`]: api.caFile, [`tls-server-name`]: `api.wrong.example`}, {token: api.tokens.readonly});
  const session = await connectCluster({kubeconfig: file});
  await assert.rejects(session.list(`namespaces`), (error: Error) => {
    assert.ok(error instanceof ClusterUnreachableError);
    assert.match(error.message, /TLS error: the server certificate is not valid for this host .*set tls-server-name$/);
    return true;
  });
});

test(`an https:// URL pointing at a plain http server says the server does not speak TLS`, async () => {
  const file = kubeconfig(`https-to-http`, {server: api.httpUrl!.replace(`http:`, `https:`), [`insecure-skip-tls-verify`]: true}, {token: api.tokens.readonly});
  const session = await connectCluster({kubeconfig: file});
  await assert.rejects(session.list(`namespaces`), (error: Error) => error instanceof ClusterUnreachableError && /TLS handshake failed: the server does not speak TLS \(is it http:\/\/ rather than https:\/\/\?\)/.test(error.message));
});

test(`an exec credential plugin (relative command) supplies the token and gets KUBERNETES_EXEC_INFO`, async () => {
  const marker = path.join(dir, `exec-marker`);
  const file = kubeconfig(`exec`, {[`certificate-authority`]: api.caFile}, {
    exec: {
      apiVersion: `client.authentication.k8s.io/v1beta1`,
      command: `./bin/exec-credential.sh`,
      env: [{name: `PULLSECRET_TEST_TOKEN`, value: api.tokens.limited}, {name: `PULLSECRET_TEST_MARKER`, value: marker}],
    },
  });
  fs.mkdirSync(path.join(path.dirname(file), `bin`));
  fs.copyFileSync(PLUGIN, path.join(path.dirname(file), `bin/exec-credential.sh`));
  fs.chmodSync(path.join(path.dirname(file), `bin/exec-credential.sh`), 0o755);
  assert.equal(await whoAmI(file), `limited`);
  const info = JSON.parse(fs.readFileSync(marker, `utf8`).trim().split(`\n`)[0]!) as {kind: string; apiVersion: string; spec: {interactive: boolean}};
  assert.deepEqual(info, {apiVersion: `client.authentication.k8s.io/v1beta1`, kind: `ExecCredential`, spec: {interactive: false}});
});

test(`a failing exec plugin is a one-line error naming the plugin and its first stderr line`, async () => {
  const file = kubeconfig(`exec-fails`, {[`certificate-authority`]: api.caFile}, {exec: {apiVersion: `client.authentication.k8s.io/v1beta1`, command: `sh`, args: [`-c`, `echo "login expired, run sso login" >&2; exit 1`]}});
  await assert.rejects(connectCluster({kubeconfig: file, env: {PATH: process.env.PATH}}), (error: Error) => {
    assert.ok(error instanceof PullSecretError);
    assert.match(error.message, /^exec credential plugin "sh" of user "u" \(.*\) failed: login expired, run sso login$/);
    return true;
  });
});

test(`proxy-url sends the requests through an HTTP CONNECT proxy`, async t => {
  const proxy = await startConnectProxy();
  t.after(() => proxy.stop());
  const file = kubeconfig(`proxy`, {[`certificate-authority`]: api.caFile, [`proxy-url`]: proxy.url}, {token: api.tokens.readonly});
  assert.equal(await whoAmI(file), `readonly`);
  assert.deepEqual(proxy.tunnels, [new URL(api.url).host]);
});

test(`HTTPS_PROXY from the environment is not used for a loopback API server, as in kubectl`, async t => {
  const proxy = await startConnectProxy();
  t.after(() => proxy.stop());
  const file = kubeconfig(`env-proxy`, {[`certificate-authority`]: api.caFile}, {token: api.tokens.readonly});
  assert.equal(await whoAmI(file, {HTTPS_PROXY: proxy.url}), `readonly`);
  assert.deepEqual(proxy.tunnels, []);
});

test(`an http:// server works (as with kubectl proxy)`, async () => {
  const file = kubeconfig(`plain-http`, {server: api.httpUrl}, {token: api.tokens.readonly});
  const session = await connectCluster({kubeconfig: file});
  const namespaces = await session.list(`namespaces`);
  assert.ok(namespaces.some(namespace => namespace.metadata.name === `kube-system`));
});

test(`over plain http no credentials are sent, like kubectl`, async t => {
  const seen: http.IncomingHttpHeaders[] = [];
  const server = http.createServer((req, res) => {
    seen.push(req.headers);
    res.writeHead(200, {[`content-type`]: `application/json`});
    res.end(JSON.stringify({kind: `NamespaceList`, apiVersion: `v1`, metadata: {}, items: []}));
  });
  await new Promise<void>(resolve => server.listen(0, `127.0.0.1`, resolve));
  t.after(() => new Promise<void>(resolve => server.close(() => resolve())));
  const url = `http://127.0.0.1:${(server.address() as net.AddressInfo).port}`;
  for (const user of [{token: `plain-token`}, {username: `bob`, password: `plain-password`}]) {
    const session = await connectCluster({kubeconfig: kubeconfig(`plain-${Object.keys(user)[0]}`, {server: url}, user)});
    await session.list(`namespaces`);
  }
  assert.equal(seen.length, 2);
  assert.ok(seen.every(headers => headers.authorization === undefined), JSON.stringify(seen));
});

test(`basic auth and impersonation from the kubeconfig become request headers over https`, async t => {
  const pkiDir = fs.mkdtempSync(path.join(os.tmpdir(), `h5-pki-`));
  t.after(() => fs.rmSync(pkiDir, {recursive: true, force: true}));
  const pki = createPki(pkiDir);
  const seen: http.IncomingHttpHeaders[] = [];
  const server = https.createServer({cert: pki.serverCertPem, key: pki.serverKeyPem}, (req, res) => {
    seen.push(req.headers);
    res.writeHead(200, {[`content-type`]: `application/json`});
    res.end(JSON.stringify({kind: `NamespaceList`, apiVersion: `v1`, metadata: {}, items: []}));
  });
  await new Promise<void>(resolve => server.listen(0, `127.0.0.1`, resolve));
  t.after(() => new Promise<void>(resolve => server.close(() => resolve())));
  const url = `https://127.0.0.1:${(server.address() as net.AddressInfo).port}`;
  const file = kubeconfig(`basic`, {server: url, [`certificate-authority`]: pki.caFile}, {username: `bob`, password: `s3cret`, as: `alice`, [`as-groups`]: [`devs`]});
  const session = await connectCluster({kubeconfig: file});
  await session.list(`namespaces`);
  assert.equal(seen[0]!.authorization, `Basic ${Buffer.from(`bob:s3cret`).toString(`base64`)}`);
  assert.equal(seen[0]![`impersonate-user`], `alice`);
  assert.equal(seen[0]![`impersonate-group`], `devs`);
});

/** A minimal HTTP CONNECT proxy that records the tunnels it opened. */
async function startConnectProxy(): Promise<{url: string; tunnels: string[]; stop: () => Promise<void>}> {
  const tunnels: string[] = [];
  const sockets = new Set<net.Socket>();
  const server = http.createServer((_req, res) => {
    res.writeHead(405);
    res.end();
  });
  server.on(`connect`, (req: http.IncomingMessage, client: net.Socket, head: Buffer) => {
    tunnels.push(req.url ?? ``);
    const [host, port] = (req.url ?? ``).split(`:`);
    const upstream = net.connect(Number(port), host, () => {
      client.write(`HTTP/1.1 200 Connection Established\r\n\r\n`);
      upstream.write(head);
      upstream.pipe(client);
      client.pipe(upstream);
    });
    for (const socket of [client, upstream]) {
      sockets.add(socket);
      socket.on(`error`, () => socket.destroy());
      socket.on(`close`, () => sockets.delete(socket));
    }
  });
  await new Promise<void>(resolve => server.listen(0, `127.0.0.1`, resolve));
  return {
    url: `http://127.0.0.1:${(server.address() as net.AddressInfo).port}`,
    tunnels,
    stop: () => new Promise<void>(resolve => {
      for (const socket of sockets)
        socket.destroy();
      server.close(() => resolve());
    }),
  };
}
