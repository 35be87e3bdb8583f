// Fuzzing every parser of the credential engine with fast-check: only typed results or typed errors,
// never a crash, and a few properties that must hold for any input.
import {test} from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import {decodeRawStdBase64, decodeStdBase64} from '../../sources/core/dockerconfig/goBase64.ts';
import {parseGoJson} from '../../sources/core/dockerconfig/goJson.ts';
import type {JsonNode} from '../../sources/core/dockerconfig/goJson.ts';
import {decodeAuthField, decodeDockerConfigPayload, parseDockerConfigFile, parsePullSecret} from '../../sources/core/dockerconfig/parse.ts';
import {InputError} from '../../sources/core/errors.ts';
import {explainImages} from '../../sources/core/explain/explain.ts';
import {parseImageReference} from '../../sources/core/image/reference.ts';
import {goFilepathMatch} from '../../sources/core/keyring/goMatch.ts';
import {buildKeyring, compareBytes, lookupCredentials, normalizeKey, urlsMatch} from '../../sources/core/keyring/keyring.ts';
import {b64} from '../helpers/encoding.ts';

const RUNS = {numRuns: 500};

// Strings biased towards the characters the parsers care about.
const structural = fc.constantFrom(`{`, `}`, `[`, `]`, `"`, `:`, `,`, `\\`, `/`, `.`, `*`, `?`, `@`, `%`, `#`, `=`, `-`, `_`, `a`, `Z`, `0`, `9`, ` `, `\n`, `\ud800`, `ü`, `😀`);
const fuzzText = fc.oneof(fc.string({unit: `binary`, maxLength: 60}), fc.string({unit: structural, maxLength: 60}), fc.string({unit: `binary-ascii`, maxLength: 60}));

function toPlain(node: JsonNode): unknown {
  switch (node.kind) {
    case `object`: return Object.fromEntries(node.members.map(([k, v]) => [k, toPlain(v)]));
    case `array`: return node.items.map(toPlain);
    case `string`: return node.value;
    case `number`: return Number(node.raw);
    case `bool`: return node.value;
    case `null`: return null;
  }
}

test(`parseGoJson never throws, and agrees with JSON.parse on valid JSON`, () => {
  fc.assert(fc.property(fuzzText, text => {
    const result = parseGoJson(text);
    let native: unknown;
    let nativeOk = true;
    try {
      native = JSON.parse(text);
    } catch {
      nativeOk = false;
    }
    assert.equal(result.ok, nativeOk, `acceptance differs for ${JSON.stringify(text)}`);
  }), RUNS);
  fc.assert(fc.property(fc.json({maxDepth: 4}), text => {
    const result = parseGoJson(text);
    assert.ok(result.ok);
    assert.deepEqual(toPlain(result.value), JSON.parse(text));
  }), RUNS);
});

test(`parseGoJson refuses deep nesting with a typed error instead of overflowing the stack`, () => {
  const result = parseGoJson(`[`.repeat(20000) + `]`.repeat(20000));
  assert.equal(result.ok, false);
});

test(`Go base64 decoders agree with Node on canonical input and never throw on any input`, () => {
  fc.assert(fc.property(fc.uint8Array({maxLength: 64}), bytes => {
    const padded = Buffer.from(bytes).toString(`base64`);
    assert.deepEqual(decodeStdBase64(padded), Uint8Array.from(bytes));
    assert.deepEqual(decodeRawStdBase64(padded.replace(/=+$/, ``)), Uint8Array.from(bytes));
    if (padded.endsWith(`=`))
      assert.equal(decodeRawStdBase64(padded), null);
  }), RUNS);
  fc.assert(fc.property(fuzzText, text => {
    for (const result of [decodeStdBase64(text), decodeRawStdBase64(text)])
      assert.ok(result === null || result instanceof Uint8Array);
  }), RUNS);
});

test(`decodeAuthField returns a pair or an error for any input, and round-trips user:password`, () => {
  fc.assert(fc.property(fuzzText, text => {
    const result = decodeAuthField(text);
    assert.ok(`error` in result || (typeof result.username === `string` && typeof result.password === `string`));
  }), RUNS);
  fc.assert(fc.property(fc.string({unit: `grapheme`}).filter(u => !u.includes(`:`)), fc.string({unit: `grapheme`}), (username, password) => {
    const auth = b64(`${username}:${password}`);
    assert.deepEqual(decodeAuthField(auth), {username, password});
    assert.deepEqual(decodeAuthField(auth.replace(/=+$/, ``)), {username, password});
  }), RUNS);
});

// JSON-ish payloads that exercise the decoder: objects of entries with fields of random types.
const fieldValue = fc.oneof(fc.string(), fc.integer(), fc.boolean(), fc.constant(null), fc.array(fc.string(), {maxLength: 2}), fc.dictionary(fc.string(), fc.string(), {maxKeys: 2}));
const fieldName = fc.constantFrom(`username`, `Username`, `PASSWORD`, `password`, `auth`, `email`, `identitytoken`, `registrytoken`, `other`);
const entry = fc.oneof(fc.dictionary(fieldName, fieldValue, {maxKeys: 5}), fieldValue);
const payload = fc.oneof(
  fc.record({auths: fc.dictionary(fc.string(), entry, {maxKeys: 4})}).map(value => JSON.stringify(value)),
  fc.dictionary(fc.string(), entry, {maxKeys: 4}).map(value => JSON.stringify(value)),
  fc.json({maxDepth: 3}),
  fuzzText,
);

test(`parsePullSecret returns a typed result for any type, data key and payload`, () => {
  fc.assert(fc.property(
    fc.constantFrom(`kubernetes.io/dockerconfigjson`, `kubernetes.io/dockercfg`, `Opaque`, undefined),
    fc.constantFrom(`.dockerconfigjson`, `.dockercfg`, `other`),
    payload,
    fc.boolean(),
    (type, key, text, raw) => {
      const result = parsePullSecret({metadata: {name: `s`}, ...(type ? {type} : {}), data: {[key]: raw ? text : b64(text)}});
      assert.ok([`ok`, `ignored`, `invalid`].includes(result.status));
      if (result.status === `ok`)
        for (const e of result.entries)
          assert.ok(typeof e.key === `string` && typeof e.username === `string` && typeof e.password === `string`);
      if (result.status === `invalid`)
        assert.ok(result.problems.length > 0 && result.problems.every(p => !p.includes(`\n`) || p.includes(`entry`)));
    },
  ), RUNS);
});

test(`no warning or problem ever contains a password, an auth value or a token`, () => {
  const marker = fc.string({unit: fc.constantFrom(`Q`, `W`, `x`, `9`), minLength: 12, maxLength: 16}).map(s => `PW${s}`);
  fc.assert(fc.property(fc.string(), marker, marker, fc.constantFrom(`"x"`, `5`, `null`, `true`), fc.boolean(), (key, password, token, emailJson, useAuth) => {
    const auth = b64(`user:${password}`);
    const text = `{"auths":{${JSON.stringify(key)}:{"username":"other",${useAuth ? `"auth":"${auth}"` : `"password":"${password}"`},"identitytoken":"${token}","email":${emailJson}}}}`;
    const result = decodeDockerConfigPayload(text, `dockerconfigjson`, `secret s: .dockerconfigjson`);
    const said = JSON.stringify(result.status === `ok` ? result.warnings : result.status === `invalid` ? result.problems : result.reason);
    for (const secret of [password, token, auth])
      assert.ok(!said.includes(secret), `leaked a secret in ${said}`);
    const report = explainImages([`quay.io/a/b`, `nginx`, key], [{source: `s`, state: `ok`, entries: result.status === `ok` ? result.entries : [], warnings: result.status === `ok` ? result.warnings : []}]);
    const printed = JSON.stringify(report);
    for (const secret of [password, token, auth])
      assert.ok(!printed.includes(secret), `explain leaked a secret`);
  }), RUNS);
});

test(`parseDockerConfigFile returns a result or throws an InputError naming the file, for any text`, () => {
  fc.assert(fc.property(fc.oneof(payload, fuzzText, fc.constantFrom(`*a`, `a: &x [*x, *x]\nb: *y\n`, `kind: Secret\n`, `kind: Secret\ndata: 5\n`, `kind: Secret\ntype: 5\n`, `- a\n- b\n`, `{"kind":"Secret","data":{"x":5}}`, `{"kind":"Secret","stringData":[]}`)), text => {
    try {
      const result = parseDockerConfigFile(text, `f.json`);
      assert.ok([`config.json`, `dockercfg`, `secret`].includes(result.format));
    } catch (error) {
      assert.ok(error instanceof InputError, `unexpected ${String(error)}`);
      assert.ok(error.message.startsWith(`f.json: `) && !error.message.includes(`\n`));
    }
  }), RUNS);
});

test(`parseImageReference returns a typed result for any input, and its lookup parses to itself`, () => {
  const imageText = fc.oneof(fuzzText, fc.string({unit: fc.constantFrom(`a`, `b`, `Z`, `0`, `.`, `-`, `_`, `/`, `:`, `@`, `[`, `]`, `sha256`, `localhost`), maxLength: 30}));
  fc.assert(fc.property(imageText, input => {
    const result = parseImageReference(input);
    if (!result.ok) {
      assert.ok(result.error.startsWith(`couldn't parse image reference `) && !result.error.includes(`\n`));
      return;
    }
    assert.equal(result.ref.lookup, `${result.ref.domain}/${result.ref.path}`);
    const again = parseImageReference(result.ref.lookup);
    assert.ok(again.ok && again.ref.lookup === result.ref.lookup, `lookup ${result.ref.lookup} is not stable`);
  }), RUNS);
});

test(`normalizeKey, urlsMatch and filepath.Match never throw`, () => {
  fc.assert(fc.property(fuzzText, fuzzText, (a, b) => {
    const key = normalizeKey(a);
    assert.ok(key.ok ? typeof key.key === `string` : typeof key.error === `string`);
    assert.equal(typeof urlsMatch(a, b).matched, `boolean`);
    const match = goFilepathMatch(a, b);
    assert.ok(match.badPattern === true || typeof match.matched === `boolean`);
  }), RUNS);
});

test(`filepath.Match: a literal pattern matches exactly itself and "*" matches anything without "/"`, () => {
  fc.assert(fc.property(fc.string({unit: `binary`}).filter(s => !/[*?[\\]/.test(s)), fc.string({unit: `binary`}), (literal, other) => {
    assert.deepEqual(goFilepathMatch(literal, literal), {matched: true});
    assert.deepEqual(goFilepathMatch(literal, other), {matched: literal === other});
    assert.deepEqual(goFilepathMatch(`*`, other), {matched: !other.includes(`/`)});
  }), RUNS);
});

test(`lookupCredentials never throws, returns credentials in reverse byte order of their keys, and every entry is used or rejected`, () => {
  const keyText = fc.oneof(fc.constantFrom(`quay.io`, `https://quay.io/v1/`, `*.io`, `docker.io`, `index.docker.io`, `https://index.docker.io/v1/`, `quay.io/org`, `localhost:5000`, `Quay.io`, `q[.io`), fuzzText);
  const sources = fc.array(fc.array(keyText, {maxLength: 4}), {maxLength: 3});
  const images = fc.oneof(fc.constantFrom(`quay.io/org/app`, `nginx`, `localhost:5000/x`, `localhost/x`, `docker.io/library/nginx`), fuzzText);
  fc.assert(fc.property(sources, images, (keys, image) => {
    const ring = buildKeyring(keys.map((list, i) => ({source: `s${i}`, entries: list.map((key, j) => ({key, username: `u${i}-${j}`, password: `p`}))})));
    const result = lookupCredentials(ring, image);
    const direct = result.credentials.filter(c => c.match !== `docker-hub-fallback`);
    for (let i = 1; i < direct.length; i++)
      assert.ok(compareBytes(direct[i - 1]!.normalizedKey, direct[i]!.normalizedKey) >= 0);
    const total = keys.reduce((n, list) => n + list.length, 0);
    assert.equal(result.credentials.length + result.rejected.length, total);
  }), RUNS);
});

test(`parseGoJson accepts nesting up to Go's limit of 10000 and refuses one level more`, () => {
  assert.equal(parseGoJson(`[`.repeat(10000) + `]`.repeat(10000)).ok, true);
  assert.equal(parseGoJson(`{"a":`.repeat(10000) + `1` + `}`.repeat(10000)).ok, true);
  assert.deepEqual(parseGoJson(`[`.repeat(10001) + `]`.repeat(10001)), {ok: false, error: `invalid JSON at offset 10000: exceeded max depth`});
});
