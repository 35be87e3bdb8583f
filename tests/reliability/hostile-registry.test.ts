// Hostile registries and token servers (loopback only): a credential answers only challenges from the host it
// belongs to, a realm never reaches this machine for a registry elsewhere (whatever form the address takes),
// --insecure-registry does what it says, and an oversized manifest is not reported pullable.
import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import {after, test} from 'node:test';
import {makeRegistryProbe} from '../../sources/adapters/registry/probe.ts';
import type {BasicCredential} from '../../sources/core/ports.ts';
import {makeCa, makeServerCert} from '../helpers/registry/certs.ts';
import {sendJson, startHostileServer} from '../helpers/registry/hostileServer.ts';
import type {Handler, HostileServer, SeenRequest} from '../helpers/registry/hostileServer.ts';
import {runCli} from '../helpers/runCli.ts';
import {b64} from '../helpers/encoding.ts';

const credential: BasicCredential = {username: `owner`, password: `registry-A-password-${process.pid}`};
const servers: HostileServer[] = [];
const tmp = fs.mkdtempSync(path.join(os.tmpdir(), `hostile-registry-`));
after(async () => {
  await Promise.all(servers.map(server => server.close()));
  fs.rmSync(tmp, {recursive: true, force: true});
});

async function serve(handler: Handler, options?: Parameters<typeof startHostileServer>[1]): Promise<HostileServer> {
  const server = await startHostileServer(handler, options);
  servers.push(server);
  return server;
}

/** Whether a request carried the password in any form (form body, Basic header). */
const carriesPassword = (request: SeenRequest) => request.body.includes(credential.password) || request.body.includes(encodeURIComponent(credential.password)) || String(request.headers.authorization ?? ``).includes(b64(`${credential.username}:${credential.password}`));

test(`a 401 from the host a registry redirected to is not answered with the registry's password, and no foreign token goes back`, async () => {
  const thief = await serve((_request, response) => sendJson(response, 200, {token: `token-from-the-thief`}));
  const other = await serve((_request, response) => {
    response.writeHead(401, {'www-authenticate': `Bearer realm="${thief.url}/token",service="other"`});
    response.end();
  });
  const registry = await serve((request, response) => {
    response.writeHead(307, {location: `${other.url}${request.path}`});
    response.end();
  });
  const check = await makeRegistryProbe({}).checkManifest({host: registry.host, repository: `team/app`, reference: `v1`}, credential);
  assert.deepEqual(thief.requests.filter(carriesPassword), [], `the token server named by the other host got the password`);
  assert.equal(thief.requests.length, 0);
  assert.ok(!registry.requests.some(request => String(request.headers.authorization ?? ``).includes(`token-from-the-thief`)), `a foreign token was replayed to the registry`);
  assert.equal(check.outcome, `denied`);
  assert.match(check.detail, new RegExp(`${registry.host} redirected to ${other.host}, which asks for credentials .*answers only ${registry.host}'s own challenges`));
});

test(`a registry elsewhere cannot point its token realm at this machine through 0.0.0.0, [::ffff:127.0.0.1] or a name resolving to 127.0.0.1`, async () => {
  const ca = makeCa(path.join(tmp, `ca`));
  const local = makeServerCert(ca, `local`, {altNames: [`IP:127.0.0.1`, `IP:0.0.0.0`, `IP:::ffff:127.0.0.1`, `DNS:runsc`, `DNS:localhost`]});
  const remote = makeServerCert(ca, `remote`, {altNames: [`DNS:vm`]});
  const tokenServer = await serve((_request, response) => sendJson(response, 200, {token: `local-token`}), {tls: local});
  for (const realmHost of [`0.0.0.0:${tokenServer.port}`, `[::ffff:127.0.0.1]:${tokenServer.port}`, `runsc:${tokenServer.port}`]) {
    // `vm` is this machine's host name (/etc/hosts: 127.0.0.1); by name it is a registry elsewhere.
    const registry = await serve((_request, response) => {
      response.writeHead(401, {'www-authenticate': `Bearer realm="https://${realmHost}/token",service="r"`});
      response.end();
    }, {tls: remote, hostName: `vm`});
    const before = tokenServer.requests.length;
    const check = await makeRegistryProbe({caFiles: [ca.certFile]}).checkManifest({host: registry.host, repository: `team/app`, reference: `v1`}, credential);
    assert.equal(tokenServer.requests.length, before, `${realmHost}: the local token server was contacted`);
    assert.equal(check.outcome, `tls-error`, `${realmHost}: ${check.detail}`);
    assert.match(check.detail, /this machine|local machine/, realmHost);
  }
});

test(`--insecure-registry reaches a registry whose certificate cannot be verified, and -v says verification is off`, async () => {
  const ca = makeCa(path.join(tmp, `untrusted-ca`));
  const cert = makeServerCert(ca, `untrusted`);
  const manifest = JSON.stringify({schemaVersion: 2, mediaType: `application/vnd.oci.image.manifest.v1+json`, config: {mediaType: `application/vnd.oci.image.config.v1+json`, digest: `sha256:${`a`.repeat(64)}`, size: 2}, layers: []});
  const registry = await serve((request, response) => {
    response.writeHead(200, {'content-type': `application/vnd.oci.image.manifest.v1+json`, 'docker-content-digest': `sha256:${`b`.repeat(64)}`});
    response.end(request.method === `HEAD` ? undefined : manifest);
  }, {tls: cert});
  const image = `${registry.host}/team/app:v1`;
  const verified = await runCli([`verify`, `--image`, image, `-o`, `json`]);
  assert.equal(JSON.parse(verified.stdout).results[0].status, `tls-error`, `without the flag the certificate is checked`);
  const insecure = await runCli([`verify`, `--image`, image, `--insecure-registry`, registry.host, `-o`, `json`, `-v`]);
  assert.equal(JSON.parse(insecure.stdout).results[0].status, `ok-anonymous`, insecure.stdout);
  assert.match(insecure.stderr, new RegExp(`registry ${registry.host}: TLS certificate verification is off \\(--insecure-registry\\)`));
});

test(`a manifest over 4 MiB is not reported pullable without a digest`, async () => {
  const big = Buffer.alloc(5 * 1024 * 1024, ` `);
  const registry = await serve((request, response) => {
    response.writeHead(200, {'content-type': `application/vnd.oci.image.manifest.v1+json`});
    response.end(request.method === `HEAD` ? undefined : big);
  });
  const check = await makeRegistryProbe({}).checkManifest({host: registry.host, repository: `team/app`, reference: `v1`}, null);
  assert.notEqual(check.outcome, `ok`, check.detail);
  assert.match(check.detail, /larger than 4 MiB/);
});

test(`verify does not send a Docker Hub credential to the host of a Hub-like image name (localhost/app) unless asked`, async () => {
  const config = path.join(tmp, `hub-config.json`);
  const hub = {username: `hub-user`, password: `hub-password-${process.pid}`};
  fs.writeFileSync(config, JSON.stringify({auths: {'https://index.docker.io/v1/': {auth: b64(`${hub.username}:${hub.password}`)}}}));
  // The registry probe port, injected through the context as main.ts does: it records where each credential went.
  const sent: Array<{host: string; username?: string}> = [];
  const probe = {
    checkManifest: async (target: {host: string}, credential: BasicCredential | null) => {
      sent.push({host: target.host, username: credential?.username});
      return {outcome: `denied` as const, detail: `${target.host} requires credentials (HTTP 401)`};
    },
    platforms: async () => ({ok: false as const, detail: `not asked`}),
    stats: () => ({tokenRequests: 0, manifestRequests: sent.length, pings: 0}),
  };
  const context = {makeRegistryProbe: async () => probe};
  const guarded = await runCli([`verify`, `--image`, `localhost/team/app:v1`, `--docker-config`, config, `-o`, `json`], {context});
  assert.deepEqual(sent, [{host: `localhost`, username: undefined}], `only an anonymous check went to localhost`);
  const row = JSON.parse(guarded.stdout).results[0];
  assert.match(row.detail, /the kubelet would send the Docker Hub credential of .* to localhost, which verify does not do from this machine \(--send-docker-hub-credentials does\)/);
  assert.ok(row.warnings.some((warning: string) => /treats "localhost" like Docker Hub/.test(warning)), JSON.stringify(row.warnings));
  sent.length = 0;
  await runCli([`verify`, `--image`, `localhost/team/app:v1`, `--docker-config`, config, `--send-docker-hub-credentials`, `-o`, `json`], {context});
  assert.deepEqual(sent, [{host: `localhost`, username: hub.username}], `with the flag the kubelet's behaviour is proven`);
});

test(`a short password that is also an ordinary word or address is not "redacted" where it gives the password away`, async () => {
  const tokenServer = await serve((_request, response) => {
    response.writeHead(401, {'content-type': `application/json`});
    response.end(`{}`);
  });
  const registry = await serve((_request, response) => {
    response.writeHead(401, {'www-authenticate': `Bearer realm="${tokenServer.url}/token",service="r"`});
    response.end();
  });
  for (const password of [`wrong`, `127.0.0.1`, `expired`]) {
    const check = await makeRegistryProbe({}).checkManifest({host: registry.host, repository: `team/app`, reference: `v1`}, {username: `u`, password});
    assert.equal(check.outcome, `unauthorized`, check.detail);
    assert.equal(check.detail, `the token server ${tokenServer.host} rejected user "u" for ${registry.host} (HTTP 401: wrong or expired credentials)`, `password ${password}`);
  }
});
