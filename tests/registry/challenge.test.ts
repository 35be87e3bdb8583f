import assert from 'node:assert/strict';
import {test} from 'node:test';
import {challengeScopes, parseWwwAuthenticate, preferredChallenge} from '../../sources/core/registry/challenge.ts';

test(`a Bearer challenge yields its realm, service and scope`, () => {
  assert.deepEqual(parseWwwAuthenticate(`Bearer realm="https://auth.docker.io/token",service="registry.docker.io",scope="repository:library/nginx:pull"`), [
    {scheme: `bearer`, params: {realm: `https://auth.docker.io/token`, service: `registry.docker.io`, scope: `repository:library/nginx:pull`}},
  ]);
});

test(`a Basic challenge with ECR's extra service parameter is read`, () => {
  assert.deepEqual(parseWwwAuthenticate(`Basic realm="https://123456789012.dkr.ecr.eu-west-1.amazonaws.com/",service="ecr.amazonaws.com"`), [
    {scheme: `basic`, params: {realm: `https://123456789012.dkr.ecr.eu-west-1.amazonaws.com/`, service: `ecr.amazonaws.com`}},
  ]);
});

test(`scheme and parameter names are case-insensitive, values keep their case`, () => {
  assert.deepEqual(parseWwwAuthenticate(`BEARER Realm="https://Reg/Token",SERVICE="Svc"`), [
    {scheme: `bearer`, params: {realm: `https://Reg/Token`, service: `Svc`}},
  ]);
});

test(`two challenges on one line are both returned, as Quay sends them`, () => {
  const challenges = parseWwwAuthenticate(`Basic realm="quay", Bearer realm="https://quay.io/v2/auth",service="quay.io"`);
  assert.deepEqual(challenges.map(challenge => challenge.scheme), [`basic`, `bearer`]);
  assert.equal(challenges[1]!.params.service, `quay.io`);
});

test(`challenges from several header values are concatenated in order`, () => {
  const challenges = parseWwwAuthenticate([`Basic realm="a"`, `Bearer realm="https://b/token"`]);
  assert.deepEqual(challenges.map(challenge => [challenge.scheme, challenge.params.realm]), [[`basic`, `a`], [`bearer`, `https://b/token`]]);
});

test(`a quoted value may contain commas, spaces and escaped quotes`, () => {
  const [challenge] = parseWwwAuthenticate(`Bearer realm="https://r/token",scope="repository:a/b:pull,push repository:c:pull",error="say \\"hi\\", ok"`);
  assert.equal(challenge!.params.scope, `repository:a/b:pull,push repository:c:pull`);
  assert.equal(challenge!.params.error, `say "hi", ok`);
});

test(`unquoted token values and spaces around = are accepted`, () => {
  const [challenge] = parseWwwAuthenticate(`Bearer realm = "https://r/t" , service=registry.example.com, error=insufficient_scope`);
  assert.deepEqual(challenge!.params, {realm: `https://r/t`, service: `registry.example.com`, error: `insufficient_scope`});
});

test(`a token68 challenge is kept apart from parameters`, () => {
  const challenges = parseWwwAuthenticate(`Negotiate abc123==, Basic realm="x"`);
  assert.equal(challenges[0]!.token68, `abc123==`);
  assert.deepEqual(challenges[0]!.params, {});
  assert.equal(challenges[1]!.params.realm, `x`);
});

test(`malformed headers never throw and keep what is readable`, () => {
  for (const input of [``, `,,,`, `"`, `Bearer realm="unterminated`, `=x`, `Bearer ;;; realm="r"`, `Bearer realm=`, `\u0000\u0001`, `Bearer ${`x`.repeat(10_000)}`]) {
    assert.doesNotThrow(() => parseWwwAuthenticate(input), input);
  }
  assert.equal(parseWwwAuthenticate(`Bearer realm="unterminated`)[0]!.params.realm, `unterminated`);
  assert.deepEqual(parseWwwAuthenticate(undefined), []);
});

test(`the first duplicate parameter wins`, () => {
  assert.equal(parseWwwAuthenticate(`Bearer realm="https://first",realm="https://second"`)[0]!.params.realm, `https://first`);
});

test(`Bearer with a realm is preferred over Basic, and unknown schemes are ignored`, () => {
  assert.equal(preferredChallenge(parseWwwAuthenticate(`Basic realm="a", Bearer realm="https://b"`))!.scheme, `bearer`);
  assert.equal(preferredChallenge(parseWwwAuthenticate(`Bearer service="no-realm", Basic realm="a"`))!.scheme, `basic`);
  assert.equal(preferredChallenge(parseWwwAuthenticate(`Negotiate abc, Digest realm="x"`)), undefined);
});

test(`a scope parameter with several scopes is split on spaces`, () => {
  const [challenge] = parseWwwAuthenticate(`Bearer realm="r",scope="repository:a:pull repository:b:pull"`);
  assert.deepEqual(challengeScopes(challenge!), [`repository:a:pull`, `repository:b:pull`]);
});
