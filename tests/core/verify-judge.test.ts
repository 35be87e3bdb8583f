import {test} from 'node:test';
import assert from 'node:assert/strict';
import {judgeImage} from '../../sources/core/verify/judge.ts';
import {buildReport, jsonReportChunks} from '../../sources/core/verify/report.ts';
import type {Attempt, Candidate, JudgeInput, SourceState} from '../../sources/core/verify/types.ts';
import type {RegistryCheck} from '../../sources/core/ports.ts';

const A: Candidate = {source: `web/a`, key: `reg.example.com`, username: `alice`, password: `pa55-alice`, match: `host`};
const B: Candidate = {source: `web/b`, key: `reg.example.com`, username: `bob`, password: `pa55-bob`, match: `host`};
const ok: RegistryCheck = {outcome: `ok`, detail: `manifest found`, digest: `sha256:abc`};
const unauthorized: RegistryCheck = {outcome: `unauthorized`, detail: `token endpoint refused the credentials (401)`};
const notFound: RegistryCheck = {outcome: `not-found`, detail: `manifest unknown (404)`};
const okSource: SourceState = {label: `web/a`, state: `ok`, warnings: []};

function input(overrides: Partial<JudgeInput>): JudgeInput {
  return {sources: [okSource], candidates: [], attempts: [], lookupWarnings: [], allCredentials: false, ...overrides};
}

const attempt = (candidate: Candidate, check: Attempt[`check`]): Attempt => ({candidate, check});

test(`the first credential that succeeds decides the pull and is reported without its password`, () => {
  const judgement = judgeImage(input({candidates: [A, B], attempts: [attempt(A, ok)]}));
  assert.equal(judgement.status, `ok`);
  assert.deepEqual(judgement.credential, {source: `web/a`, key: `reg.example.com`, username: `alice`});
  assert.doesNotMatch(JSON.stringify(judgement), /pa55/);
});

test(`a rejected first credential followed by a working one is still ok`, () => {
  const judgement = judgeImage(input({candidates: [A, B], attempts: [attempt(A, unauthorized), attempt(B, ok)]}));
  assert.equal(judgement.status, `ok`);
  assert.equal(judgement.credential?.username, `bob`);
  assert.match(judgement.detail, /after 1 rejected credential/);
});

test(`a rejected credential fails the pull even when the image is public (no anonymous retry)`, () => {
  const judgement = judgeImage(input({candidates: [A], attempts: [attempt(A, unauthorized)], anonymous: ok}));
  assert.equal(judgement.status, `unauthorized`);
  assert.match(judgement.detail, /does not retry anonymously/);
});

test(`when every credential fails, a missing tag is reported rather than an earlier rejection`, () => {
  const judgement = judgeImage(input({candidates: [A, B], attempts: [attempt(A, unauthorized), attempt(B, notFound)]}));
  assert.equal(judgement.status, `not-found`);
  assert.equal(judgement.credential?.username, `bob`);
});

test(`an ECR token past its expiry gives the status expired`, () => {
  const judgement = judgeImage(input({candidates: [A], attempts: [attempt(A, {outcome: `expired`, detail: `ECR token expired`})]}));
  assert.equal(judgement.status, `expired`);
});

test(`with no matching credential a public image is ok-anonymous`, () => {
  const judgement = judgeImage(input({anonymous: ok}));
  assert.equal(judgement.status, `ok-anonymous`);
  assert.equal(judgement.credential, null);
});

test(`with no matching credential a private image is no-credentials and mentions node-level credentials`, () => {
  const judgement = judgeImage(input({anonymous: unauthorized}));
  assert.equal(judgement.status, `no-credentials`);
  assert.ok(judgement.warnings.some(warning => /node-level credentials/.test(warning)));
});

test(`a missing secret with nothing else matching a private image is secret-missing`, () => {
  const judgement = judgeImage(input({sources: [{label: `web/regcred`, state: `missing`}], anonymous: unauthorized}));
  assert.equal(judgement.status, `secret-missing`);
  assert.match(judgement.detail, /web\/regcred/);
});

test(`a missing secret is skipped and the pull goes on with the other secrets (FailedToRetrieveImagePullSecret)`, () => {
  const judgement = judgeImage(input({sources: [okSource, {label: `web/gone`, state: `missing`}], candidates: [A], attempts: [attempt(A, ok)]}));
  assert.equal(judgement.status, `ok`);
  assert.ok(judgement.warnings.some(warning => /web\/gone not found.*FailedToRetrieveImagePullSecret/.test(warning)));
});

test(`one undecodable secret breaks the lookup even when another secret would work`, () => {
  const judgement = judgeImage(input({
    sources: [okSource, {label: `web/bad`, state: `invalid`, problems: [`entry "reg.example.com": field "password" is a number`]}],
    candidates: [A],
    attempts: [attempt(A, ok)],
  }));
  assert.equal(judgement.status, `secret-invalid`);
  assert.match(judgement.detail, /web\/bad/);
});

test(`an invalid image name is reported before any credential is considered`, () => {
  const judgement = judgeImage(input({imageError: `invalid reference format: repository name must be lowercase`, sources: [{label: `web/bad`, state: `invalid`, problems: [`x`]}]}));
  assert.equal(judgement.status, `invalid-image`);
});

test(`a missing ServiceAccount is reported as serviceaccount-missing`, () => {
  const judgement = judgeImage(input({serviceAccountMissing: `web/builder`}));
  assert.equal(judgement.status, `serviceaccount-missing`);
  assert.match(judgement.detail, /web\/builder not found/);
});

test(`an unreadable secret is a note, not an abort`, () => {
  const judgement = judgeImage(input({sources: [{label: `web/regcred`, state: `forbidden`, message: `forbidden`}], anonymous: ok}));
  assert.equal(judgement.status, `ok-anonymous`);
  assert.ok(judgement.warnings.includes(`cannot read secret web/regcred: forbidden; its credentials were not checked`));
});

test(`an anonymous registry failure keeps its own status`, () => {
  const judgement = judgeImage(input({anonymous: {outcome: `unreachable`, detail: `connection refused`}}));
  assert.equal(judgement.status, `unreachable`);
});

test(`with --all-credentials a public image warns that the matching credential is not needed`, () => {
  const judgement = judgeImage(input({candidates: [A], attempts: [attempt(A, ok)], anonymous: ok, allCredentials: true}));
  assert.equal(judgement.status, `ok`);
  assert.ok(judgement.warnings.some(warning => /public: the matching credentials are not needed/.test(warning)));
});

test(`with --all-credentials a failing later credential is reported as a warning`, () => {
  const judgement = judgeImage(input({candidates: [A, B], attempts: [attempt(A, ok), attempt(B, unauthorized)], allCredentials: true}));
  assert.equal(judgement.status, `ok`);
  assert.ok(judgement.warnings.some(warning => /bob.*fails/.test(warning)));
});

test(`an ignored secret (wrong type) is explained in a warning`, () => {
  const judgement = judgeImage(input({sources: [{label: `web/opaque`, state: `ignored`, reason: `type Opaque is not a pull secret type`}], anonymous: ok}));
  assert.ok(judgement.warnings.some(warning => /web\/opaque is ignored by the kubelet/.test(warning)));
});

test(`the chunked JSON report is byte-identical to JSON.stringify with two-space indentation`, () => {
  const result = {context: `c`, namespace: `web`, kind: `Deployment`, name: `api`, container: `app`, image: `nginx`, status: `ok` as const, credential: {source: `web/a`, key: `k`, username: `u`}, detail: `d`, warnings: [`w`]};
  for (const count of [0, 1, 3, 7]) {
    const report = buildReport(Array.from({length: count}, (_, index) => ({...result, name: `api-${index}`})), 2, [`note`]);
    assert.equal([...jsonReportChunks(report, 3)].join(``), `${JSON.stringify(report, null, 2)}\n`, `count ${count}`);
  }
});
