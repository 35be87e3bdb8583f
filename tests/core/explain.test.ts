import {describe, test} from 'node:test';
import assert from 'node:assert/strict';
import {parsePullSecret} from '../../sources/core/dockerconfig/parse.ts';
import {explainImages, renderExplainText} from '../../sources/core/explain/explain.ts';
import type {ExplainSource} from '../../sources/core/explain/explain.ts';
import {b64} from '../helpers/encoding.ts';


/** A pull secret as the kubelet reads it, turned into an explain source. */
function secret(name: string, payload: unknown): ExplainSource {
  const parsed = parsePullSecret({metadata: {name, namespace: `ns`}, type: `kubernetes.io/dockerconfigjson`, data: {'.dockerconfigjson': b64(typeof payload === `string` ? payload : JSON.stringify(payload))}});
  const source = `ns/${name}`;
  switch (parsed.status) {
    case `ok`: return {source, state: `ok`, entries: parsed.entries, warnings: parsed.warnings};
    case `ignored`: return {source, state: `ignored`, reason: parsed.reason};
    case `invalid`: return {source, state: `invalid`, problems: parsed.problems};
  }
}

const missing = (name: string): ExplainSource => ({source: `ns/${name}`, state: `missing`});

describe(`whole-pipeline rows (P1–P6)`, () => {
  test(`P1: a missing secret is skipped with a FailedToRetrieveImagePullSecret warning and the existing one is used`, () => {
    const report = explainImages([`quay.io/org/app`], [secret(`a`, {auths: {'quay.io': {username: `alice`, password: `pw`}}}), missing(`missing-b`)]);
    const [row] = report.document.images;
    assert.deepEqual(row!.credentials, [{source: `ns/a`, key: `quay.io`, username: `alice`, match: `host`}]);
    assert.match(row!.warnings.join(`\n`), /pull secret ns\/missing-b was not found: .*FailedToRetrieveImagePullSecret/);
    assert.equal(report.failed, false);
  });

  test(`P2: a secret with "password": 5 breaks the lookup of every image, with no anonymous attempt`, () => {
    const report = explainImages([`quay.io/org/app`, `nginx`], [secret(`ok`, {auths: {'quay.io': {username: `u`, password: `p`}}}), secret(`bad`, `{"auths":{"quay.io":{"password":5}}}`)]);
    assert.equal(report.failed, true);
    for (const row of report.document.images) {
      assert.deepEqual([row.anonymous, row.credentials], [false, []]);
      assert.match(row.error ?? ``, /kubelet fails the pull of every image of the pod \(no anonymous attempt\): secret ns\/bad: \.dockerconfigjson: entry "quay\.io": field "password" must be a string, got number/);
    }
  });

  test(`P3: a matching credential is tried even for a public Docker Hub image; the pull is not anonymous`, () => {
    const report = explainImages([`nginx`], [secret(`hub`, {auths: {'https://index.docker.io/v1/': {username: `me`, password: `wrong`}}})]);
    const [row] = report.document.images;
    assert.deepEqual([row!.anonymous, row!.credentials.map(c => c.match)], [false, [`docker-hub-fallback`]]);
    assert.match(renderExplainText(report), /no anonymous retry/);
  });

  test(`P4: when no key matches, the image is pulled anonymously`, () => {
    const report = explainImages([`ghcr.io/acme/private:1`], [secret(`q`, {auths: {'quay.io': {username: `u`, password: `p`}}})]);
    const [row] = report.document.images;
    assert.deepEqual([row!.anonymous, row!.credentials, row!.rejected], [true, [], [{source: `ns/q`, key: `quay.io`, reason: `host`}]]);
    assert.match(renderExplainText(report), /pulled anonymously/);
  });

  test(`P5: an entry with only an identitytoken is an empty credential, and explain warns that the pull is anonymous`, () => {
    const report = explainImages([`myacr.azurecr.io/app`], [secret(`acr`, {auths: {'myacr.azurecr.io': {identitytoken: `eyJhbGciOi.secret-token`}}})]);
    const [row] = report.document.images;
    assert.deepEqual(row!.credentials, [{source: `ns/acr`, key: `myacr.azurecr.io`, username: ``, match: `host`}]);
    assert.match(row!.warnings.join(`\n`), /identity token, which the kubelet never sends; with an empty password the runtime pulls anonymously/);
    assert.doesNotMatch(JSON.stringify(report.document), /secret-token/);
  });

  test(`P6: a pod without the secret that pulled a cached private image is predicted to pull anonymously`, () => {
    const withX = explainImages([`registry.example.com/team/app`], [secret(`x`, {auths: {'registry.example.com': {username: `u`, password: `p`}}})]);
    const withoutX = explainImages([`registry.example.com/team/app`], []);
    assert.deepEqual([withX.document.images[0]!.anonymous, withoutX.document.images[0]!.anonymous], [false, true]);
  });
});

test(`the JSON document has exactly the documented shape and never a password`, () => {
  const report = explainImages([`nginx`], [secret(`regcred`, {auths: {'https://index.docker.io/v1/': {auth: b64(`u:TopSecret`)}, 'quay.io:443': {username: `q`, password: `QuaySecret`}}})]);
  assert.deepEqual(report.document, {images: [{
    image: `nginx`,
    lookup: `docker.io/library/nginx`,
    anonymous: false,
    credentials: [{source: `ns/regcred`, key: `https://index.docker.io/v1/`, username: `u`, match: `docker-hub-fallback`}],
    rejected: [{source: `ns/regcred`, key: `quay.io:443`, reason: `host`}],
    warnings: [],
  }]});
  const text = JSON.stringify(report) + renderExplainText(report);
  assert.doesNotMatch(text, /TopSecret|QuaySecret|dTpUb3BTZWNyZXQ/);
});

test(`an invalid image reference is reported with an error field and fails the run`, () => {
  const report = explainImages([`Nginx`, `nginx`], []);
  assert.equal(report.failed, true);
  assert.deepEqual(report.document.images[0], {image: `Nginx`, lookup: null, error: `couldn't parse image reference "Nginx": invalid reference format: repository name (library/Nginx) must be lowercase`, anonymous: false, credentials: [], rejected: [], warnings: []});
  assert.equal(report.document.images[1]!.anonymous, true);
});

test(`an ignored (Opaque) secret is a warning, and the image is pulled anonymously`, () => {
  const parsed = parsePullSecret({metadata: {name: `o`, namespace: `ns`}, type: `Opaque`, data: {'.dockerconfigjson': b64(`{}`)}});
  assert.equal(parsed.status, `ignored`);
  const report = explainImages([`quay.io/a/b`], [{source: `ns/o`, state: `ignored`, reason: parsed.status === `ignored` ? parsed.reason : ``}]);
  assert.equal(report.document.images[0]!.anonymous, true);
  assert.match(report.document.images[0]!.warnings.join(), /type Opaque is not a pull-secret type/);
});

test(`the human text lists credentials in order with why they matched, then the keys not used`, () => {
  const report = explainImages([`quay.io/org/app`], [secret(`one`, {auths: {'quay.io': {username: `a`, password: `p`}}}), secret(`two`, {auths: {'quay.io/org': {username: `b`, password: `p`}, 'ghcr.io': {username: `c`, password: `p`}}})]);
  assert.equal(renderExplainText(report), [
    `IMAGE quay.io/org/app`,
    `  lookup:   quay.io/org/app (pulled from quay.io/org/app:latest)`,
    `  the kubelet tries, in this order (first success wins, no anonymous retry):`,
    `    1. user "b" from ns/two, key "quay.io/org" [host]`,
    `       the key normalizes to quay.io/org, which matches quay.io/org/app`,
    `    2. user "a" from ns/one, key "quay.io" [host]`,
    `       the key normalizes to quay.io, which matches quay.io/org/app`,
    `  not used:`,
    `    - ns/two, key "ghcr.io" [host]: host label "ghcr" does not match "quay"`,
    ``,
  ].join(`\n`));
});

test(`an entry whose auth disagrees with username/password is flagged when it is used`, () => {
  const report = explainImages([`r.io/x`], [secret(`s`, {auths: {'r.io': {username: `foo`, password: `bar`, auth: `cGluZzpwb25n`}}})]);
  assert.match(report.document.images[0]!.warnings.join(), /"auth" disagrees with "username"\/"password"; the kubelet uses "auth" \(user "ping"\)/);
  assert.deepEqual(report.document.images[0]!.credentials.map(c => c.username), [`ping`]);
});
