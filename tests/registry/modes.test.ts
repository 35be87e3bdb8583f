// Proves the harness: the real docker-registry in each mode answers as docs/testing.md A.1–A.3 says.
// No product code is involved; requests are made with the harness's own tiny HTTP client.
import assert from 'node:assert/strict';
import {after, before, describe, test} from 'node:test';
import {startRegistry} from '../helpers/registry/index.ts';
import type {TestRegistry} from '../helpers/registry/index.ts';
import {basicAuth, MANIFEST_ACCEPT, rawRequest} from '../helpers/registry/http.ts';

const errorCode = (text: string): string => (JSON.parse(text) as {errors: Array<{code: string}>}).errors[0]!.code;

describe(`basic mode (htpasswd over HTTP)`, () => {
  let registry: TestRegistry;
  const pushed: Record<string, {digest: string; mediaType: string}> = {};
  before(async () => {
    registry = await startRegistry({mode: `basic`, users: {alice: `s3cret`}});
    for (const kind of [`oci`, `docker`, `index`] as const)
      pushed[kind] = await registry.push(`demo/app`, kind, kind);
  });
  after(() => registry?.stop());

  const manifest = (reference: string, headers: Record<string, string> = {}, method = `HEAD`, repository = `demo/app`) =>
    rawRequest(`${registry.url}/v2/${repository}/manifests/${reference}`, {method, headers: {accept: MANIFEST_ACCEPT, ...headers}});

  test(`an anonymous manifest request gets 401 with a Basic challenge`, async () => {
    const response = await manifest(`oci`);
    assert.equal(response.status, 401);
    assert.equal(response.headers[`www-authenticate`], `Basic realm="basic-realm"`);
  });

  test(`good credentials get 200 and the pushed digest for every image kind`, async () => {
    for (const kind of [`oci`, `docker`, `index`]) {
      const response = await manifest(kind, {authorization: basicAuth(`alice`, `s3cret`)});
      assert.equal(response.status, 200, kind);
      assert.equal(response.headers[`docker-content-digest`], pushed[kind]!.digest, kind);
      assert.equal(response.headers[`content-type`], pushed[kind]!.mediaType, kind);
    }
  });

  test(`a wrong password gets the same 401 Basic challenge as no credentials`, async () => {
    const response = await manifest(`oci`, {authorization: basicAuth(`alice`, `wrong`)});
    assert.equal(response.status, 401);
    assert.equal(response.headers[`www-authenticate`], `Basic realm="basic-realm"`);
  });

  test(`an unknown tag gets 404 MANIFEST_UNKNOWN`, async () => {
    const response = await manifest(`nope`, {authorization: basicAuth(`alice`, `s3cret`)}, `GET`);
    assert.equal(response.status, 404);
    assert.equal(errorCode(response.text), `MANIFEST_UNKNOWN`);
  });

  test(`an unknown repository gets 404 MANIFEST_UNKNOWN on manifests and NAME_UNKNOWN on tags`, async () => {
    const onManifest = await manifest(`latest`, {authorization: basicAuth(`alice`, `s3cret`)}, `GET`, `demo/nope`);
    assert.equal(onManifest.status, 404);
    assert.equal(errorCode(onManifest.text), `MANIFEST_UNKNOWN`);
    const onTags = await rawRequest(`${registry.url}/v2/demo/nope/tags/list`, {headers: {authorization: basicAuth(`alice`, `s3cret`)}});
    assert.equal(onTags.status, 404);
    assert.equal(errorCode(onTags.text), `NAME_UNKNOWN`);
  });
});

describe(`tls mode (htpasswd over HTTPS with a test CA)`, () => {
  let registry: TestRegistry;
  before(async () => {
    registry = await startRegistry({mode: `tls`, users: {alice: `s3cret`}});
    await registry.push(`demo/app`, `v1`);
  });
  after(() => registry?.stop());

  test(`the registry serves https and exposes its CA`, () => {
    assert.match(registry.url, /^https:\/\/127\.0\.0\.1:\d+$/);
    assert.match(registry.caPem ?? ``, /BEGIN CERTIFICATE/);
    assert.ok(registry.caFile);
  });

  test(`a client without the CA fails certificate verification`, async () => {
    await assert.rejects(rawRequest(`${registry.url}/v2/`), (error: NodeJS.ErrnoException) => {
      assert.equal(error.code, `UNABLE_TO_VERIFY_LEAF_SIGNATURE`);
      return true;
    });
  });

  test(`with the CA an anonymous request gets 401 Basic, good credentials 200, a wrong password 401`, async () => {
    const url = `${registry.url}/v2/demo/app/manifests/v1`;
    const anonymous = await rawRequest(url, {method: `HEAD`, ca: registry.caPem, headers: {accept: MANIFEST_ACCEPT}});
    assert.equal(anonymous.status, 401);
    assert.equal(anonymous.headers[`www-authenticate`], `Basic realm="basic-realm"`);
    const good = await rawRequest(url, {method: `HEAD`, ca: registry.caPem, headers: {accept: MANIFEST_ACCEPT, authorization: basicAuth(`alice`, `s3cret`)}});
    assert.equal(good.status, 200);
    const wrong = await rawRequest(url, {method: `HEAD`, ca: registry.caPem, headers: {accept: MANIFEST_ACCEPT, authorization: basicAuth(`alice`, `nope`)}});
    assert.equal(wrong.status, 401);
  });
});

describe(`token mode (docker-registry with the in-process token server)`, () => {
  let registry: TestRegistry;
  let digest: string;
  before(async () => {
    registry = await startRegistry({
      mode: `token`,
      users: {alice: `s3cret`, noscope: `pw`},
      grants: {alice: {'demo/*': [`pull`]}, noscope: {'other/*': [`pull`]}},
      anonymousPull: [`public/*`],
    });
    ({digest} = await registry.push(`demo/app`, `v1`));
    await registry.push(`public/app`, `v1`, `docker`);
  });
  after(() => registry?.stop());

  const head = (repository: string, reference: string, token?: string) =>
    rawRequest(`${registry.url}/v2/${repository}/manifests/${reference}`, {method: `HEAD`, headers: {accept: MANIFEST_ACCEPT, ...(token === undefined ? {} : {authorization: `Bearer ${token}`})}});
  const tokenByGet = async (scope: string, authorization?: string) => {
    const url = new URL(registry.tokenRealm!);
    url.searchParams.set(`service`, registry.tokenService!);
    url.searchParams.set(`scope`, scope);
    return rawRequest(url.toString(), {headers: authorization === undefined ? {} : {authorization}});
  };
  const tokenOf = (text: string): string => (JSON.parse(text) as {token: string}).token;

  test(`an anonymous manifest request gets 401 with a Bearer challenge naming realm, service and scope`, async () => {
    const response = await head(`demo/app`, `v1`);
    assert.equal(response.status, 401);
    assert.equal(response.headers[`www-authenticate`], `Bearer realm="${registry.tokenRealm}",service="test-registry",scope="repository:demo/app:pull"`);
  });

  test(`a token fetched by GET with good credentials opens the manifest`, async () => {
    const token = await tokenByGet(`repository:demo/app:pull`, basicAuth(`alice`, `s3cret`));
    assert.equal(token.status, 200);
    const response = await head(`demo/app`, `v1`, tokenOf(token.text));
    assert.equal(response.status, 200);
    assert.equal(response.headers[`docker-content-digest`], digest);
  });

  test(`the token server records each request with its method, user, scope and service`, async () => {
    const before = registry.tokenRequests.length;
    await tokenByGet(`repository:demo/app:pull`, basicAuth(`alice`, `s3cret`));
    assert.deepEqual(registry.tokenRequests.slice(before), [{method: `GET`, user: `alice`, scope: [`repository:demo/app:pull`], service: `test-registry`}]);
  });

  test(`a token fetched by OAuth2 POST with the password grant opens the manifest, and its refresh token works`, async () => {
    const form = new URLSearchParams({grant_type: `password`, username: `alice`, password: `s3cret`, service: `test-registry`, client_id: `test`, scope: `repository:demo/app:pull`, access_type: `offline`});
    const response = await rawRequest(registry.tokenRealm!, {method: `POST`, headers: {'content-type': `application/x-www-form-urlencoded`}, body: form.toString()});
    assert.equal(response.status, 200);
    const body = JSON.parse(response.text) as {access_token: string; refresh_token: string};
    assert.equal((await head(`demo/app`, `v1`, body.access_token)).status, 200);
    const refresh = new URLSearchParams({grant_type: `refresh_token`, refresh_token: body.refresh_token, service: `test-registry`, client_id: `test`, scope: `repository:demo/app:pull`});
    const refreshed = await rawRequest(registry.tokenRealm!, {method: `POST`, headers: {'content-type': `application/x-www-form-urlencoded`}, body: refresh.toString()});
    assert.equal(refreshed.status, 200);
    assert.equal((await head(`demo/app`, `v1`, (JSON.parse(refreshed.text) as {access_token: string}).access_token)).status, 200);
  });

  test(`a wrong password gets 401 from the token server, by GET and by POST`, async () => {
    assert.equal((await tokenByGet(`repository:demo/app:pull`, basicAuth(`alice`, `wrong`))).status, 401);
    const form = new URLSearchParams({grant_type: `password`, username: `alice`, password: `wrong`, service: `test-registry`, client_id: `test`, scope: `repository:demo/app:pull`});
    const response = await rawRequest(registry.tokenRealm!, {method: `POST`, headers: {'content-type': `application/x-www-form-urlencoded`}, body: form.toString()});
    assert.equal(response.status, 401);
  });

  test(`a user without pull rights gets a token, then 401 insufficient_scope on the manifest`, async () => {
    const token = await tokenByGet(`repository:demo/app:pull`, basicAuth(`noscope`, `pw`));
    assert.equal(token.status, 200);
    const response = await head(`demo/app`, `v1`, tokenOf(token.text));
    assert.equal(response.status, 401);
    assert.match(String(response.headers[`www-authenticate`]), /error="insufficient_scope"/);
  });

  test(`an anonymous token opens an anonymously pullable repository but not a private one`, async () => {
    const publicToken = await tokenByGet(`repository:public/app:pull`);
    assert.equal((await head(`public/app`, `v1`, tokenOf(publicToken.text))).status, 200);
    const privateToken = await tokenByGet(`repository:demo/app:pull`);
    assert.equal((await head(`demo/app`, `v1`, tokenOf(privateToken.text))).status, 401);
  });

  test(`with a valid token an unknown tag and an unknown repository get 404 MANIFEST_UNKNOWN`, async () => {
    for (const [repository, reference] of [[`demo/app`, `nope`], [`demo/nope`, `v1`]] as const) {
      const token = tokenOf((await tokenByGet(`repository:${repository}:pull`, basicAuth(`alice`, `s3cret`))).text);
      const response = await rawRequest(`${registry.url}/v2/${repository}/manifests/${reference}`, {headers: {accept: MANIFEST_ACCEPT, authorization: `Bearer ${token}`}});
      assert.equal(response.status, 404, `${repository}:${reference}`);
      assert.equal(errorCode(response.text), `MANIFEST_UNKNOWN`);
    }
  });
});

describe(`token mode without OAuth2 POST support`, () => {
  let registry: TestRegistry;
  before(async () => {
    registry = await startRegistry({mode: `token`, users: {alice: `s3cret`}, grants: {alice: {'*': [`pull`]}}, oauthPost: false});
  });
  after(() => registry?.stop());

  test(`the token server answers a POST with 404, like gcr.io`, async () => {
    const form = new URLSearchParams({grant_type: `password`, username: `alice`, password: `s3cret`, service: `test-registry`, client_id: `test`});
    const response = await rawRequest(registry.tokenRealm!, {method: `POST`, headers: {'content-type': `application/x-www-form-urlencoded`}, body: form.toString()});
    assert.equal(response.status, 404);
  });
});
