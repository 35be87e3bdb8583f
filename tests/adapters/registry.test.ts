// The registry probe against the REAL docker-registry in all three modes (no fakes): every
// outcome the real registry can produce, the token flow as recorded by the token server, and the cache.
import assert from 'node:assert/strict';
import fs from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import {after, before, describe, test} from 'node:test';
import {makeRegistryProbe} from '../../sources/adapters/registry/probe.ts';
import type {BasicCredential, RegistryCheck} from '../../sources/core/ports.ts';
import {startRegistry} from '../helpers/registry/index.ts';
import type {TestRegistry} from '../helpers/registry/index.ts';

const alice: BasicCredential = {username: `alice`, password: `s3cret-Pa55`};
const wrong: BasicCredential = {username: `alice`, password: `not-the-password`};

/** Asserts that no form of the password reached the detail line. */
function assertNoSecret(check: RegistryCheck, credential: BasicCredential): void {
  assert.ok(!check.detail.includes(credential.password), `password leaked into: ${check.detail}`);
  assert.ok(!check.detail.includes(Buffer.from(`${credential.username}:${credential.password}`).toString(`base64`)), `auth leaked into: ${check.detail}`);
}

describe(`basic mode`, () => {
  let registry: TestRegistry;
  const pushed: Record<string, {digest: string; mediaType: string}> = {};
  before(async () => {
    registry = await startRegistry({mode: `basic`, users: {alice: alice.password}});
    for (const kind of [`oci`, `docker`, `index`] as const)
      pushed[kind] = await registry.push(`team/app`, kind, kind);
  });
  after(() => registry?.stop());

  test(`good credentials are ok, with the digest and media type of every image kind`, async () => {
    const probe = makeRegistryProbe({});
    for (const kind of [`oci`, `docker`, `index`]) {
      const check = await probe.checkManifest({host: registry.host, repository: `team/app`, reference: kind}, alice);
      assert.equal(check.outcome, `ok`, check.detail);
      assert.equal(check.digest, pushed[kind]!.digest);
      assert.equal(check.mediaType, pushed[kind]!.mediaType);
    }
  });

  test(`a digest reference is ok`, async () => {
    const check = await makeRegistryProbe({}).checkManifest({host: registry.host, repository: `team/app`, reference: pushed.oci!.digest}, alice);
    assert.equal(check.outcome, `ok`, check.detail);
    assert.equal(check.digest, pushed.oci!.digest);
  });

  test(`a wrong password is unauthorized and the detail holds no secret`, async () => {
    const check = await makeRegistryProbe({}).checkManifest({host: registry.host, repository: `team/app`, reference: `oci`}, wrong);
    assert.equal(check.outcome, `unauthorized`);
    assert.equal(check.httpStatus, 401);
    assert.match(check.detail, /rejected user "alice"/);
    assertNoSecret(check, wrong);
  });

  test(`an anonymous check of a private registry is denied (requires credentials)`, async () => {
    const check = await makeRegistryProbe({}).checkManifest({host: registry.host, repository: `team/app`, reference: `oci`}, null);
    assert.equal(check.outcome, `denied`);
    assert.match(check.detail, /requires credentials/);
  });

  test(`an unknown tag and an unknown repository are not-found with the registry's code`, async () => {
    const probe = makeRegistryProbe({});
    for (const [repository, reference] of [[`team/app`, `nope`], [`team/nope`, `v1`]] as const) {
      const check = await probe.checkManifest({host: registry.host, repository, reference}, alice);
      assert.equal(check.outcome, `not-found`, `${repository}:${reference}`);
      assert.equal(check.httpStatus, 404);
      assert.match(check.detail, /MANIFEST_UNKNOWN/);
    }
  });

  test(`an invalid reference is reported without any request`, async () => {
    const probe = makeRegistryProbe({});
    const check = await probe.checkManifest({host: registry.host, repository: `Team/App`, reference: `v1`}, alice);
    assert.equal(check.outcome, `invalid-reference`);
    assert.equal(probe.stats().manifestRequests, 0);
  });

  test(`after the first challenge, later checks on the host send Basic credentials up front`, async () => {
    const probe = makeRegistryProbe({});
    await probe.checkManifest({host: registry.host, repository: `team/app`, reference: `oci`}, alice);
    const first = probe.stats().manifestRequests;
    const check = await probe.checkManifest({host: registry.host, repository: `team/app`, reference: `docker`}, alice);
    assert.equal(check.outcome, `ok`);
    assert.equal(probe.stats().manifestRequests - first, 1);
  });
});

describe(`tls mode`, () => {
  let registry: TestRegistry;
  before(async () => {
    registry = await startRegistry({mode: `tls`, users: {alice: alice.password}});
    await registry.push(`team/app`, `v1`);
  });
  after(() => registry?.stop());

  test(`without the CA the check is a tls-error naming the unknown authority`, async () => {
    const check = await makeRegistryProbe({}).checkManifest({host: registry.host, repository: `team/app`, reference: `v1`}, alice);
    assert.equal(check.outcome, `tls-error`);
    assert.match(check.detail, /unknown authority/);
  });

  test(`with the CA file given the check is ok`, async () => {
    const check = await makeRegistryProbe({caFiles: [registry.caFile!]}).checkManifest({host: registry.host, repository: `team/app`, reference: `v1`}, alice);
    assert.equal(check.outcome, `ok`, check.detail);
  });

  test(`with the CA a wrong password is unauthorized`, async () => {
    const check = await makeRegistryProbe({caFiles: [registry.caFile!]}).checkManifest({host: registry.host, repository: `team/app`, reference: `v1`}, wrong);
    assert.equal(check.outcome, `unauthorized`);
  });

  test(`an unreadable CA file is an input error`, () => {
    assert.throws(() => makeRegistryProbe({caFiles: [path.join(os.tmpdir(), `no-such-ca-${process.pid}.pem`)]}), (error: Error & {exitCode?: number}) => {
      assert.match(error.message, /cannot read the CA file/);
      assert.equal(error.exitCode, 2);
      return true;
    });
  });

  test(`a CA file without a certificate is an input error`, t => {
    const file = path.join(fs.mkdtempSync(path.join(os.tmpdir(), `pullsecret-ca-`)), `ca.pem`);
    t.after(() => fs.rmSync(path.dirname(file), {recursive: true, force: true}));
    fs.writeFileSync(file, `not a certificate\n`);
    assert.throws(() => makeRegistryProbe({caFiles: [file]}), /holds no PEM certificate/);
  });
});

describe(`token mode`, () => {
  let registry: TestRegistry;
  let digest: string;
  before(async () => {
    registry = await startRegistry({
      mode: `token`,
      users: {alice: alice.password, noscope: `noscope-pw`},
      grants: {alice: {'team/*': [`pull`]}, noscope: {'elsewhere/*': [`pull`]}},
      anonymousPull: [`public/*`],
    });
    ({digest} = await registry.push(`team/app`, `v1`));
    await registry.push(`public/app`, `v1`);
  });
  after(() => registry?.stop());

  const requestsDuring = async <T>(action: () => Promise<T>): Promise<{result: T; requests: typeof registry.tokenRequests}> => {
    const start = registry.tokenRequests.length;
    const result = await action();
    return {result, requests: registry.tokenRequests.slice(start)};
  };

  test(`good credentials are ok through one OAuth2 POST token request`, async () => {
    const probe = makeRegistryProbe({});
    const {result: check, requests} = await requestsDuring(() => probe.checkManifest({host: registry.host, repository: `team/app`, reference: `v1`}, alice));
    assert.equal(check.outcome, `ok`, check.detail);
    assert.equal(check.digest, digest);
    assert.deepEqual(requests, [{method: `POST`, user: `alice`, scope: [`repository:team/app:pull`], service: `test-registry`}]);
  });

  test(`a second check of the same repository and credential sends no new token request`, async () => {
    const probe = makeRegistryProbe({});
    await probe.checkManifest({host: registry.host, repository: `team/app`, reference: `v1`}, alice);
    const {result: check, requests} = await requestsDuring(() => probe.checkManifest({host: registry.host, repository: `team/app`, reference: `v1`}, alice));
    assert.equal(check.outcome, `ok`);
    assert.deepEqual(requests, []);
    assert.equal(probe.stats().tokenRequests, 1);
  });

  test(`concurrent checks of the same repository and credential share one token request`, async () => {
    const probe = makeRegistryProbe({});
    await probe.checkManifest({host: registry.host, repository: `public/app`, reference: `v1`}, null); // learn the challenge
    const {result: checks, requests} = await requestsDuring(() => Promise.all([1, 2, 3, 4].map(() => probe.checkManifest({host: registry.host, repository: `team/app`, reference: `v1`}, alice))));
    assert.deepEqual(checks.map(check => check.outcome), [`ok`, `ok`, `ok`, `ok`]);
    assert.equal(requests.length, 1);
  });

  test(`a different credential for the same repository gets its own token`, async () => {
    const probe = makeRegistryProbe({});
    await probe.checkManifest({host: registry.host, repository: `team/app`, reference: `v1`}, alice);
    const {requests} = await requestsDuring(() => probe.checkManifest({host: registry.host, repository: `team/app`, reference: `v1`}, {username: `noscope`, password: `noscope-pw`}));
    assert.ok(requests.length >= 1);
    assert.ok(requests.every(request => request.user === `noscope`));
  });

  test(`a wrong password is unauthorized after POST then the GET fallback, without leaking it`, async () => {
    const {result: check, requests} = await requestsDuring(() => makeRegistryProbe({}).checkManifest({host: registry.host, repository: `team/app`, reference: `v1`}, wrong));
    assert.equal(check.outcome, `unauthorized`);
    assert.match(check.detail, /token server .* rejected user "alice"/);
    assert.deepEqual(requests.map(request => request.method), [`POST`, `GET`]);
    assertNoSecret(check, wrong);
  });

  test(`rejected credentials are not sent to the token server again in the same run`, async () => {
    const probe = makeRegistryProbe({});
    await probe.checkManifest({host: registry.host, repository: `team/app`, reference: `v1`}, wrong);
    const {result: checks, requests} = await requestsDuring(() => Promise.all([1, 2].map(() => probe.checkManifest({host: registry.host, repository: `team/app`, reference: `v1`}, wrong))));
    assert.deepEqual(checks.map(check => check.outcome), [`unauthorized`, `unauthorized`]);
    assert.deepEqual(requests, []);
  });

  test(`credentials without pull rights are denied after exactly one token retry`, async () => {
    const {result: check, requests} = await requestsDuring(() => makeRegistryProbe({}).checkManifest({host: registry.host, repository: `team/app`, reference: `v1`}, {username: `noscope`, password: `noscope-pw`}));
    assert.equal(check.outcome, `denied`);
    assert.match(check.detail, /insufficient_scope/);
    assert.equal(requests.length, 2);
  });

  test(`an anonymously pullable repository is ok without credentials, through an anonymous GET token`, async () => {
    const {result: check, requests} = await requestsDuring(() => makeRegistryProbe({}).checkManifest({host: registry.host, repository: `public/app`, reference: `v1`}, null));
    assert.equal(check.outcome, `ok`, check.detail);
    assert.match(check.detail, /anonymously/);
    assert.deepEqual(requests, [{method: `GET`, user: undefined, scope: [`repository:public/app:pull`], service: `test-registry`}]);
  });

  test(`an anonymous check of a private repository is denied`, async () => {
    const check = await makeRegistryProbe({}).checkManifest({host: registry.host, repository: `team/app`, reference: `v1`}, null);
    assert.equal(check.outcome, `denied`);
  });

  test(`an unknown tag and an unknown repository are not-found`, async () => {
    const probe = makeRegistryProbe({});
    assert.equal((await probe.checkManifest({host: registry.host, repository: `team/app`, reference: `nope`}, alice)).outcome, `not-found`);
    assert.equal((await probe.checkManifest({host: registry.host, repository: `team/nope`, reference: `v1`}, alice)).outcome, `not-found`);
  });
});

describe(`token mode where the token server has no OAuth2 POST (like gcr.io)`, () => {
  let registry: TestRegistry;
  before(async () => {
    registry = await startRegistry({mode: `token`, users: {alice: alice.password}, grants: {alice: {'*': [`pull`]}}, oauthPost: false});
    await registry.push(`team/app`, `v1`);
  });
  after(() => registry?.stop());

  test(`a POST answered 404 falls back to GET with Basic and the check is ok`, async () => {
    const check = await makeRegistryProbe({}).checkManifest({host: registry.host, repository: `team/app`, reference: `v1`}, alice);
    assert.equal(check.outcome, `ok`, check.detail);
    assert.deepEqual(registry.tokenRequests.map(request => `${request.method} ${request.user}`), [`POST alice`, `GET alice`]);
  });
});

test(`a closed port is unreachable`, async () => {
  const server = net.createServer();
  await new Promise<void>(resolve => server.listen(0, `127.0.0.1`, resolve));
  const {port} = server.address() as net.AddressInfo;
  await new Promise(resolve => server.close(resolve));
  const check = await makeRegistryProbe({}).checkManifest({host: `127.0.0.1:${port}`, repository: `team/app`, reference: `v1`}, alice);
  assert.equal(check.outcome, `unreachable`);
  assert.match(check.detail, /refused the connection/);
});
