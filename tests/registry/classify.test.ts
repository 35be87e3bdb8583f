import assert from 'node:assert/strict';
import {test} from 'node:test';
import {classifyManifestFailure, classifyTokenFailure, classifyTransportError, describeRateLimit, invalidTargetReason, parseRegistryErrors, retryAfterSeconds} from '../../sources/core/registry/classify.ts';
import {oneLine} from '../../sources/core/errors.ts';
import type {ManifestFailure} from '../../sources/core/registry/classify.ts';

const target = {host: `registry.example.com`, repository: `team/app`, reference: `v1`};
const now = new Date(`2026-11-29T12:00:00Z`);
const failure = (overrides: Partial<ManifestFailure>): ManifestFailure => ({status: 500, headers: {}, errors: [], credentialSent: true, username: `bot`, ...overrides});

test(`a 401 after sending credentials is unauthorized`, () => {
  const check = classifyManifestFailure(target, failure({status: 401, scheme: `basic`}), now);
  assert.equal(check.outcome, `unauthorized`);
  assert.match(check.detail, /rejected user "bot"/);
});

test(`a 401 with insufficient_scope after sending credentials is denied`, () => {
  const check = classifyManifestFailure(target, failure({status: 401, scheme: `bearer`, bearerError: `insufficient_scope`}), now);
  assert.equal(check.outcome, `denied`);
  assert.match(check.detail, /grants no pull on team\/app/);
});

test(`an anonymous 401 is denied (not public), not unauthorized`, () => {
  const check = classifyManifestFailure(target, failure({status: 401, credentialSent: false, username: undefined}), now);
  assert.equal(check.outcome, `denied`);
  assert.match(check.detail, /requires credentials/);
});

test(`403 is denied and carries the registry's message`, () => {
  const check = classifyManifestFailure(target, failure({status: 403, errors: [{code: `DENIED`, message: `Your authorization token has expired. Reauthenticate and try again.`}]}), now);
  assert.equal(check.outcome, `denied`);
  assert.match(check.detail, /DENIED Your authorization token has expired/);
});

test(`404 MANIFEST_UNKNOWN and NAME_UNKNOWN are not-found with different wording`, () => {
  const tag = classifyManifestFailure(target, failure({status: 404, errors: [{code: `MANIFEST_UNKNOWN`, message: `manifest unknown`}]}), now);
  assert.equal(tag.outcome, `not-found`);
  assert.match(tag.detail, /registry\.example\.com\/team\/app:v1 not found/);
  const repo = classifyManifestFailure(target, failure({status: 404, errors: [{code: `NAME_UNKNOWN`, message: `repository name not known to registry`}]}), now);
  assert.equal(repo.outcome, `not-found`);
  assert.match(repo.detail, /repository registry\.example\.com\/team\/app does not exist/);
});

test(`429 is rate-limited with Retry-After seconds and Docker Hub's quota`, () => {
  const check = classifyManifestFailure(target, failure({status: 429, headers: {'retry-after': `120`, 'ratelimit-limit': `100;w=21600`, 'ratelimit-remaining': `0;w=21600`}}), now);
  assert.equal(check.outcome, `rate-limited`);
  assert.equal(check.retryAfterSeconds, 120);
  assert.match(check.detail, /retry after 120s; quota 100 per 6h, 0 left/);
});

test(`Retry-After as an HTTP date and ratelimit-reset both give seconds`, () => {
  assert.equal(retryAfterSeconds({'retry-after': `Sun, 29 Nov 2026 12:01:30 GMT`}, now), 90);
  assert.equal(retryAfterSeconds({'ratelimit-reset': `42`}, now), 42);
  assert.equal(retryAfterSeconds({'retry-after': `soon`}, now), undefined);
  assert.equal(describeRateLimit({}), undefined);
});

test(`5xx is unavailable, 400 is invalid-reference, other codes are unavailable`, () => {
  assert.equal(classifyManifestFailure(target, failure({status: 503, headers: {'retry-after': `5`}}), now).outcome, `unavailable`);
  assert.equal(classifyManifestFailure(target, failure({status: 503, headers: {'retry-after': `5`}}), now).retryAfterSeconds, 5);
  assert.equal(classifyManifestFailure(target, failure({status: 500}), now).outcome, `unavailable`);
  assert.equal(classifyManifestFailure(target, failure({status: 400, errors: [{code: `TAG_INVALID`, message: `bad tag`}]}), now).outcome, `invalid-reference`);
  assert.equal(classifyManifestFailure(target, failure({status: 418}), now).outcome, `unavailable`);
});

test(`token endpoint failures: 401 with credentials is unauthorized, anonymous 401 denied, 5xx unavailable`, () => {
  assert.equal(classifyTokenFailure(`r`, `auth`, 401, {}, true, `bot`, now).outcome, `unauthorized`);
  assert.equal(classifyTokenFailure(`r`, `auth`, 401, {}, false, undefined, now).outcome, `denied`);
  assert.equal(classifyTokenFailure(`r`, `auth`, 403, {}, true, `bot`, now).outcome, `denied`);
  assert.equal(classifyTokenFailure(`r`, `auth`, 429, {'retry-after': `3`}, true, `bot`, now).retryAfterSeconds, 3);
  assert.equal(classifyTokenFailure(`r`, `auth`, 502, {}, true, `bot`, now).outcome, `unavailable`);
});

test(`Node's certificate error codes become tls-error naming the problem`, () => {
  assert.match(classifyTransportError(`r:443`, `UNABLE_TO_VERIFY_LEAF_SIGNATURE`, ``, 10_000).detail, /unknown authority/);
  assert.match(classifyTransportError(`r:443`, `SELF_SIGNED_CERT_IN_CHAIN`, ``, 10_000).detail, /unknown authority/);
  assert.match(classifyTransportError(`r:443`, `DEPTH_ZERO_SELF_SIGNED_CERT`, ``, 10_000).detail, /unknown authority/);
  assert.match(classifyTransportError(`r:443`, `CERT_HAS_EXPIRED`, ``, 10_000).detail, /expired/);
  assert.match(classifyTransportError(`r:443`, `ERR_TLS_CERT_ALTNAME_INVALID`, ``, 10_000).detail, /another host name/);
  for (const code of [`CERT_HAS_EXPIRED`, `ERR_SSL_WRONG_VERSION_NUMBER`, `EPROTO`])
    assert.equal(classifyTransportError(`r:443`, code, ``, 10_000).outcome, `tls-error`, code);
});

test(`DNS, refused connections and timeouts are unreachable`, () => {
  assert.match(classifyTransportError(`r`, `ENOTFOUND`, ``, 10_000).detail, /cannot resolve r/);
  assert.match(classifyTransportError(`r`, `ECONNREFUSED`, ``, 10_000).detail, /refused the connection/);
  assert.match(classifyTransportError(`r`, `TIMEOUT`, ``, 2500).detail, /within 2500ms/);
  assert.equal(classifyTransportError(`r`, undefined, `weird`, 10_000).outcome, `unreachable`);
});

test(`malformed targets are invalid-reference reasons; well-formed ones are not`, () => {
  assert.equal(invalidTargetReason(target), null);
  assert.equal(invalidTargetReason({...target, reference: `sha256:${`a`.repeat(64)}`}), null);
  assert.equal(invalidTargetReason({host: `[::1]:5000`, repository: `a`, reference: `latest`}), null);
  assert.match(invalidTargetReason({...target, repository: `Team/App`})!, /not a valid repository/);
  assert.match(invalidTargetReason({...target, reference: `v1+build`})!, /not a valid tag/);
  assert.match(invalidTargetReason({...target, reference: `sha256:abc`})!, /not a valid digest/);
  assert.match(invalidTargetReason({...target, host: `bad host`})!, /not a registry host/);
  assert.match(invalidTargetReason({...target, repository: `a/../b`})!, /not a valid repository/);
});

test(`registry error bodies are parsed leniently`, () => {
  assert.deepEqual(parseRegistryErrors(`{"errors":[{"code":"DENIED","message":"no"},{"nope":1}]}`), [{code: `DENIED`, message: `no`}]);
  assert.deepEqual(parseRegistryErrors(`<html>`), []);
  assert.deepEqual(parseRegistryErrors(`{"errors":"x"}`), []);
});

test(`a registry's error code and message with newlines and control characters stay on one bounded line`, () => {
  const check = classifyManifestFailure(target, failure({status: 403, errors: [{code: `DENIED\nX-Injected: 1`, message: `line1\r\nline2\u0007${`m`.repeat(500)}`}]}), now);
  assert.ok(!/[\u0000-\u001f]/.test(check.detail), check.detail);
  assert.ok(check.detail.length < 500);
  assert.equal(oneLine(`a\n\tb  c`), `a; b c`);
});
