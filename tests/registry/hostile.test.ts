// The registry probe against small local servers that misbehave on purpose (issue 7 §3).
// Everything listens on 127.0.0.1; no traffic ever goes to a non-loopback address (the rules for
// remote hosts are tested on names alone in policy.test.ts).
import assert from 'node:assert/strict';
import crypto from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import {after, before, describe, test} from 'node:test';
import {makeRegistryProbe} from '../../sources/adapters/registry/probe.ts';
import {realmDecision} from '../../sources/core/registry/policy.ts';
import type {BasicCredential} from '../../sources/core/ports.ts';
import {makeCa, makeServerCert} from '../helpers/registry/certs.ts';
import type {TestCa} from '../helpers/registry/certs.ts';
import {sendJson, startHostileServer} from '../helpers/registry/hostileServer.ts';
import type {Handler, HostileServer} from '../helpers/registry/hostileServer.ts';

const bot: BasicCredential = {username: `bot`, password: `pa55-w0rd-xyz`};
const target = (server: HostileServer, reference = `v1`) => ({host: server.host, repository: `team/app`, reference});
const MANIFEST = JSON.stringify({schemaVersion: 2, mediaType: `application/vnd.oci.image.manifest.v1+json`, config: {mediaType: `application/vnd.oci.image.config.v1+json`, digest: `sha256:${`a`.repeat(64)}`, size: 2}, layers: []});
const MANIFEST_DIGEST = `sha256:${crypto.createHash(`sha256`).update(MANIFEST).digest(`hex`)}`;

/** Starts a server for one test and closes it afterwards, also when the test fails. */
async function serve(t: {after: (fn: () => Promise<void> | void) => void}, handler: Handler, options?: Parameters<typeof startHostileServer>[1]): Promise<HostileServer> {
  const server = await startHostileServer(handler, options);
  t.after(() => server.close());
  return server;
}

const okManifest: Handler = (request, response) => {
  response.writeHead(200, {'content-type': `application/vnd.oci.image.manifest.v1+json`, 'docker-content-digest': MANIFEST_DIGEST, 'content-length': Buffer.byteLength(MANIFEST)});
  response.end(request.method === `HEAD` ? undefined : MANIFEST);
};

describe(`slow and failing registries`, () => {
  test(`a registry that never answers hits the timeout with a clear message`, async t => {
    const server = await serve(t, () => {/* never answers */});
    const started = Date.now();
    const check = await makeRegistryProbe({timeoutMs: 300}).checkManifest(target(server), bot);
    assert.equal(check.outcome, `unreachable`);
    assert.match(check.detail, /did not answer within 300ms \(timed out\)/);
    assert.ok(Date.now() - started < 3000, `took ${Date.now() - started} ms`);
  });

  test(`a body that never finishes also hits the timeout`, async t => {
    const server = await serve(t, (_request, response) => {
      response.writeHead(404, {'content-type': `application/json`});
      response.write(`{"errors":[`); // and nothing more
    });
    const check = await makeRegistryProbe({timeoutMs: 300}).checkManifest(target(server), null);
    assert.equal(check.outcome, `unreachable`);
    assert.match(check.detail, /timed out/);
  });

  test(`429 is rate-limited with Retry-After and Docker Hub's quota headers`, async t => {
    const server = await serve(t, (_request, response) => sendJson(response, 429, {errors: [{code: `TOOMANYREQUESTS`, message: `You have reached your pull rate limit.`}]}, {'retry-after': `37`, 'ratelimit-limit': `100;w=21600`, 'ratelimit-remaining': `0;w=21600`}));
    const check = await makeRegistryProbe({}).checkManifest(target(server), bot);
    assert.equal(check.outcome, `rate-limited`);
    assert.equal(check.retryAfterSeconds, 37);
    assert.equal(check.httpStatus, 429);
    assert.match(check.detail, /quota 100 per 6h, 0 left/);
  });

  test(`500 and 503 are unavailable`, async t => {
    for (const status of [500, 503]) {
      const server = await serve(t, (_request, response) => sendJson(response, status, {errors: [{code: `UNAVAILABLE`, message: `try later`}]}));
      const check = await makeRegistryProbe({}).checkManifest(target(server), bot);
      assert.equal(check.outcome, `unavailable`, String(status));
      assert.equal(check.httpStatus, status);
    }
  });
});

describe(`bad certificates`, () => {
  let dir: string;
  let ca: TestCa;
  before(() => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), `pullsecret-hostile-`));
    ca = makeCa(dir);
  });
  after(() => fs.rmSync(dir, {recursive: true, force: true}));

  test(`an expired certificate is a tls-error saying so, even with its CA trusted`, async t => {
    const cert = makeServerCert(ca, `expired`, {validity: {notBefore: `20200101000000Z`, notAfter: `20210101000000Z`}});
    const server = await serve(t, okManifest, {tls: cert});
    const check = await makeRegistryProbe({caFiles: [ca.certFile]}).checkManifest(target(server), bot);
    assert.equal(check.outcome, `tls-error`);
    assert.match(check.detail, /expired certificate/);
    assert.equal(server.requests.length, 0);
  });

  test(`a certificate for another host name is a tls-error saying so`, async t => {
    const cert = makeServerCert(ca, `othername`, {altNames: [`DNS:registry.other.example`], commonName: `registry.other.example`});
    const server = await serve(t, okManifest, {tls: cert});
    const check = await makeRegistryProbe({caFiles: [ca.certFile]}).checkManifest(target(server), bot);
    assert.equal(check.outcome, `tls-error`);
    assert.match(check.detail, /another host name/);
    assert.equal(server.requests.length, 0);
  });

  test(`a valid certificate from the given CA is ok (the control for the two tests above)`, async t => {
    const cert = makeServerCert(ca, `good`);
    const server = await serve(t, okManifest, {tls: cert});
    const check = await makeRegistryProbe({caFiles: [ca.certFile]}).checkManifest(target(server), null);
    assert.equal(check.outcome, `ok`, check.detail);
  });
});

describe(`redirects`, () => {
  test(`a redirect to another host is followed without the Authorization header`, async t => {
    const second = await serve(t, okManifest, {hostName: `localhost`});
    const first = await serve(t, (request, response) => {
      if (request.headers.authorization === undefined) {
        response.writeHead(401, {'www-authenticate': `Basic realm="r"`});
        response.end();
        return;
      }
      response.writeHead(307, {location: `${second.url}${request.path}`});
      response.end();
    });
    const check = await makeRegistryProbe({}).checkManifest(target(first), bot);
    assert.equal(check.outcome, `ok`, check.detail);
    assert.ok(first.requests.some(request => request.headers.authorization !== undefined), `the first host did get credentials`);
    assert.ok(second.requests.length > 0);
    assert.deepEqual(second.requests.map(request => request.headers.authorization), second.requests.map(() => undefined));
  });

  test(`a redirect on the same host keeps the Authorization header`, async t => {
    const server = await serve(t, (request, response) => {
      if (request.headers.authorization === undefined) {
        response.writeHead(401, {'www-authenticate': `Basic realm="r"`});
        response.end();
      } else if (request.path.startsWith(`/moved`)) {
        okManifest(request, response);
      } else {
        response.writeHead(302, {location: `/moved${request.path}`});
        response.end();
      }
    });
    const check = await makeRegistryProbe({}).checkManifest(target(server), bot);
    assert.equal(check.outcome, `ok`, check.detail);
    assert.ok(server.requests.some(request => request.path.startsWith(`/moved`) && request.headers.authorization !== undefined));
  });

  test(`an endless redirect loop stops`, async t => {
    const server = await serve(t, (request, response) => {
      response.writeHead(302, {location: request.path});
      response.end();
    });
    const check = await makeRegistryProbe({}).checkManifest(target(server), null);
    assert.equal(check.outcome, `unavailable`);
    assert.match(check.detail, /redirected more than 5 times/);
    assert.ok(server.requests.length <= 7);
  });
});

describe(`HEAD quirks`, () => {
  test(`HEAD answered 405 falls back to GET and the digest is computed from the body`, async t => {
    const server = await serve(t, (request, response) => {
      if (request.method === `HEAD`) {
        response.writeHead(405);
        response.end();
        return;
      }
      response.writeHead(200, {'content-type': `application/vnd.oci.image.manifest.v1+json`});
      response.end(MANIFEST);
    });
    const check = await makeRegistryProbe({}).checkManifest(target(server), null);
    assert.equal(check.outcome, `ok`, check.detail);
    assert.equal(check.digest, MANIFEST_DIGEST);
    assert.deepEqual(server.requests.map(request => request.method), [`HEAD`, `GET`]);
  });

  test(`a HEAD without Docker-Content-Digest is followed by a GET for the digest`, async t => {
    const server = await serve(t, (request, response) => {
      response.writeHead(200, {'content-type': `application/vnd.oci.image.manifest.v1+json`});
      response.end(request.method === `HEAD` ? undefined : MANIFEST);
    });
    const check = await makeRegistryProbe({}).checkManifest(target(server), null);
    assert.equal(check.outcome, `ok`);
    assert.equal(check.digest, MANIFEST_DIGEST);
  });

  test(`the manifest request sends the full Accept list`, async t => {
    const server = await serve(t, okManifest);
    await makeRegistryProbe({}).checkManifest(target(server), null);
    const accept = String(server.requests[0]!.headers.accept);
    for (const type of [`application/vnd.oci.image.index.v1+json`, `application/vnd.oci.image.manifest.v1+json`, `application/vnd.docker.distribution.manifest.list.v2+json`, `application/vnd.docker.distribution.manifest.v2+json`])
      assert.ok(accept.includes(type), type);
  });
});

describe(`hostile bodies and challenges`, () => {
  test(`an oversized error body is read only up to the cap`, async t => {
    let finished = false;
    const server = await serve(t, (request, response) => {
      if (request.method === `HEAD`) {
        response.writeHead(404);
        response.end();
        return;
      }
      response.writeHead(404, {'content-type': `application/json`});
      const chunk = Buffer.alloc(64 * 1024, 0x20);
      let sent = 0;
      const pump = () => {
        while (sent < 64 * 1024 * 1024) {
          sent += chunk.length;
          if (!response.write(chunk)) {
            response.once(`drain`, pump);
            return;
          }
        }
        response.end(() => {
          finished = true;
        });
      };
      pump();
    });
    const check = await makeRegistryProbe({}).checkManifest(target(server), null);
    assert.equal(check.outcome, `not-found`);
    assert.equal(finished, false, `the client read all 64 MiB`);
  });

  test(`an oversized token answer is refused as unusable`, async t => {
    const server = await serve(t, (request, response) => {
      if (request.path.startsWith(`/token`)) {
        response.writeHead(200, {'content-type': `application/json`});
        response.end(`{"token":"${`x`.repeat(3 * 1024 * 1024)}"}`);
        return;
      }
      response.writeHead(401, {'www-authenticate': `Bearer realm="http://${request.headers.host}/token",service="s"`});
      response.end();
    });
    const check = await makeRegistryProbe({}).checkManifest(target(server), bot);
    assert.equal(check.outcome, `unavailable`);
    assert.match(check.detail, /unusable answer \(larger than 1 MiB\)/);
  });

  test(`a token endpoint answering garbage is unavailable, not a crash`, async t => {
    for (const body of [`<html>oops</html>`, `{}`, `{"token":""}`, `"just a string"`, `{"token":"has spaces and\\nnewlines"}`]) {
      const server = await serve(t, (request, response) => {
        if (request.path.startsWith(`/token`)) {
          response.writeHead(200, {'content-type': `application/json`});
          response.end(body);
          return;
        }
        response.writeHead(401, {'www-authenticate': `Bearer realm="http://${request.headers.host}/token",service="s"`});
        response.end();
      });
      const check = await makeRegistryProbe({}).checkManifest(target(server), bot);
      assert.equal(check.outcome, `unavailable`, body);
      assert.match(check.detail, /unusable answer/, body);
    }
  });

  test(`a malformed WWW-Authenticate gives a classified answer naming the challenge problem`, async t => {
    for (const challenge of [`Bearer realm=`, `"garbage`, `Bearer service="no-realm"`, `Digest realm="x"`]) {
      const server = await serve(t, (_request, response) => {
        response.writeHead(401, {'www-authenticate': challenge});
        response.end();
      });
      const check = await makeRegistryProbe({}).checkManifest(target(server), bot);
      assert.equal(check.outcome, `denied`, challenge);
      assert.match(check.detail, /no usable WWW-Authenticate challenge/, challenge);
    }
  });

  test(`a token realm on plain HTTP at a non-loopback host is refused (decided on the name, nothing is contacted)`, () => {
    const decision = realmDecision(`http://auth.registry.example/token`, `registry.example:443`, {withCredentials: true});
    assert.equal(decision.allowed, false);
    assert.match(decision.allowed ? `` : decision.reason, /plain HTTP on a non-loopback host/);
  });

  test(`a realm that is not a URL is unavailable`, async t => {
    const server = await serve(t, (_request, response) => {
      response.writeHead(401, {'www-authenticate': `Bearer realm="not a url",service="s"`});
      response.end();
    });
    const check = await makeRegistryProbe({}).checkManifest(target(server), bot);
    assert.equal(check.outcome, `unavailable`);
    assert.match(check.detail, /not a URL/);
  });

  test(`a registry echoing the password in its error never gets it into the detail`, async t => {
    const server = await serve(t, (request, response) => {
      if (request.headers.authorization === undefined) {
        response.writeHead(401, {'www-authenticate': `Basic realm="r"`});
        response.end();
        return;
      }
      const decoded = Buffer.from(request.headers.authorization.slice(6), `base64`).toString();
      sendJson(response, 403, {errors: [{code: `DENIED`, message: `user:password was ${decoded} (${request.headers.authorization})`}]});
    });
    const check = await makeRegistryProbe({}).checkManifest(target(server), bot);
    assert.equal(check.outcome, `denied`);
    assert.match(check.detail, /\[redacted\]/);
    assert.ok(!check.detail.includes(bot.password));
    assert.ok(!check.detail.includes(Buffer.from(`bot:${bot.password}`).toString(`base64`)));
  });
});

describe(`token endpoint fallbacks (containerd's rules)`, () => {
  const tokenRegistry = (postStatus: number): Handler => (request, response) => {
    if (request.path.startsWith(`/token`)) {
      if (request.method === `POST`) {
        sendJson(response, postStatus, {error: `nope`});
        return;
      }
      sendJson(response, 200, {token: `good-token`});
      return;
    }
    if (request.headers.authorization === `Bearer good-token`) {
      okManifest(request, response);
      return;
    }
    response.writeHead(401, {'www-authenticate': `Bearer realm="http://${request.headers.host}/token",service="s",scope="repository:team/app:pull"`});
    response.end();
  };

  for (const status of [400, 401, 404, 405]) {
    test(`a POST answered ${status} falls back to GET with Basic`, async t => {
      const server = await serve(t, tokenRegistry(status));
      const check = await makeRegistryProbe({}).checkManifest(target(server), bot);
      assert.equal(check.outcome, `ok`, check.detail);
      const tokenCalls = server.requests.filter(request => request.path.startsWith(`/token`));
      assert.deepEqual(tokenCalls.map(request => request.method), [`POST`, `GET`]);
      assert.equal(tokenCalls[1]!.headers.authorization, `Basic ${Buffer.from(`bot:${bot.password}`).toString(`base64`)}`);
      const form = new URLSearchParams(tokenCalls[0]!.body);
      assert.equal(form.get(`grant_type`), `password`);
      assert.equal(form.get(`client_id`), `kubectl-pullsecret`);
      assert.equal(form.get(`scope`), `repository:team/app:pull`);
    });
  }

  test(`a POST answered 403 is final: denied, and no GET is tried`, async t => {
    const server = await serve(t, tokenRegistry(403));
    const check = await makeRegistryProbe({}).checkManifest(target(server), bot);
    assert.equal(check.outcome, `denied`);
    assert.deepEqual(server.requests.filter(request => request.path.startsWith(`/token`)).map(request => request.method), [`POST`]);
  });

  test(`a credential with an empty username uses the refresh_token grant`, async t => {
    const server = await serve(t, tokenRegistry(200));
    await makeRegistryProbe({}).checkManifest(target(server), {username: ``, password: `refresh-me`});
    const form = new URLSearchParams(server.requests.find(request => request.path.startsWith(`/token`))!.body);
    assert.equal(form.get(`grant_type`), `refresh_token`);
    assert.equal(form.get(`refresh_token`), `refresh-me`);
  });
});
