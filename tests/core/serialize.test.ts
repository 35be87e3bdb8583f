import {test} from 'node:test';
import assert from 'node:assert/strict';
import {spawnSync} from 'node:child_process';
import fc from 'fast-check';
import {DOCKER_HUB_SERVER, encodeAuth, goJsonStringify, serializeDockerConfigJson} from '../../sources/core/dockerconfig/serialize.ts';
import {parsePullSecret} from '../../sources/core/dockerconfig/parse.ts';

// kubectl itself is the oracle (docs/testing.md D.1): `create secret docker-registry --dry-run=client`
// needs no cluster. Each run spawns kubectl once (~50 ms), so the property is bounded to 40 runs.

const KUBECTL = `/usr/bin/kubectl`;

function kubectlPayload(server: string | undefined, username: string, password: string, email: string): string {
  const args = [`--kubeconfig=/dev/null`, `create`, `secret`, `docker-registry`, `s`, `--docker-username=${username}`, `--docker-password=${password}`, `--docker-email=${email}`, `--dry-run=client`, `-o`, `json`];
  if (server !== undefined)
    args.push(`--docker-server=${server}`);
  const result = spawnSync(KUBECTL, args, {encoding: `utf8`, env: {PATH: `/usr/bin:/bin`, HOME: `/nonexistent`}});
  assert.equal(result.status, 0, result.stderr);
  const secret = JSON.parse(result.stdout) as {data: Record<string, string>};
  return Buffer.from(secret.data[`.dockerconfigjson`]!, `base64`).toString(`utf8`);
}

// Characters where Go and JavaScript JSON encoders differ, or that matter to the format.
const tricky = fc.constantFrom(`:`, `"`, `\\`, `<`, `>`, `&`, `\u2028`, `\u2029`, `\n`, `\t`, `\b`, `\f`, `\u0001`, `\u001f`, `\u007f`, `ä`, `😀`, `\uFFFD`, ` `, `=`, `/`, `@`);
// argv cannot carry NUL, and kubectl rejects an empty server, username or password.
const text = (minLength: number) => fc.oneof(
  fc.string({unit: `binary`, minLength, maxLength: 40}),
  fc.string({unit: tricky, minLength, maxLength: 20}),
  fc.string({unit: fc.oneof(tricky, fc.string({unit: `binary`, minLength: 1, maxLength: 1})), minLength: Math.max(minLength, 300), maxLength: 2000}),
).filter(value => !value.includes(`\u0000`));

test(`the .dockerconfigjson bytes equal kubectl create secret docker-registry for generated inputs`, {timeout: 60_000}, () => {
  fc.assert(fc.property(fc.option(text(1), {nil: undefined}), text(1), text(1), fc.oneof(fc.constant(``), text(0)), (server, username, password, email) => {
    const expected = kubectlPayload(server, username, password, email);
    assert.equal(serializeDockerConfigJson([[server ?? DOCKER_HUB_SERVER, {username, password, email}]]), expected);
  }), {numRuns: 40});
});

test(`fixed vectors match kubectl byte for byte: HTML escaping, colons, unicode, empty email`, () => {
  for (const [server, username, password, email] of [
    [`registry.example.com`, `u`, `p`, `e@example.com`],
    [`https://r.example.com:5000/v2/`, `us:er`, `pä:ss`, ``],
    [`r.io`, `a<b>&c`, `\u2028\u2029`, `<e>`],
  ] as const)
    assert.equal(serializeDockerConfigJson([[server, {username, password, email}]]), kubectlPayload(server, username, password, email));
});

test(`without --docker-server the key is Docker Hub's, as kubectl writes it`, () => {
  assert.equal(serializeDockerConfigJson([[DOCKER_HUB_SERVER, {username: `u`, password: `p`}]]), kubectlPayload(undefined, `u`, `p`, ``));
});

test(`a lone surrogate is written as U+FFFD, as Go writes invalid UTF-8, in the fields and in auth`, () => {
  const payload = serializeDockerConfigJson([[`r.io`, {username: `a\ud800b`, password: `\udc00`}]]);
  assert.equal(payload, `{"auths":{"r.io":{"username":"a\uFFFDb","password":"\uFFFD","auth":"${Buffer.from(`a\uFFFDb:\uFFFD`).toString(`base64`)}"}}}`);
  assert.equal(goJsonStringify(`x\udbff`), `"x\uFFFD"`);
  assert.equal(encodeAuth(`\ud800`, `p`), Buffer.from(`\uFFFD:p`).toString(`base64`));
});

test(`what the serializer writes, the kubelet reads back: the same pair, split at the first colon of "user:password"`, () => {
  fc.assert(fc.property(text(1), text(0), text(0), (username, password, email) => {
    const payload = serializeDockerConfigJson([[`r.io`, {username, password, email}]]);
    const parsed = parsePullSecret({metadata: {name: `s`}, type: `kubernetes.io/dockerconfigjson`, data: {'.dockerconfigjson': Buffer.from(payload).toString(`base64`)}});
    assert.equal(parsed.status, `ok`);
    if (parsed.status !== `ok`)
      return;
    // A colon in the username cannot survive `auth` (the kubelet splits at the first colon and "auth" wins).
    const joined = `${username}:${password}`;
    const colon = joined.indexOf(`:`);
    const entry = parsed.entries[0]!;
    assert.deepEqual([entry.username, entry.password, entry.authAgrees], [joined.slice(0, colon), joined.slice(colon + 1), !username.includes(`:`)]);
  }), {numRuns: 300});
});
