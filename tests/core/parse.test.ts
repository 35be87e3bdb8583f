import {describe, test} from 'node:test';
import assert from 'node:assert/strict';
import {decodeAuthField, decodeDockerConfigPayload, parseDockerConfigFile, parsePullSecret} from '../../sources/core/dockerconfig/parse.ts';
import type {SecretLike} from '../../sources/core/dockerconfig/parse.ts';
import {InputError} from '../../sources/core/errors.ts';
import {buildKeyring, lookupCredentials} from '../../sources/core/keyring/keyring.ts';
import {b64} from '../helpers/encoding.ts';


function secret(type: string | undefined, data: Record<string, string>, name = `regcred`): SecretLike {
  return {metadata: {name, namespace: `ns`}, ...(type === undefined ? {} : {type}), data: Object.fromEntries(Object.entries(data).map(([k, v]) => [k, b64(v)]))};
}

const dcj = (payload: string, name?: string) => secret(`kubernetes.io/dockerconfigjson`, {'.dockerconfigjson': payload}, name);

function entriesOf(result: ReturnType<typeof parsePullSecret>) {
  assert.equal(result.status, `ok`, JSON.stringify(result));
  return result.status === `ok` ? result.entries : [];
}

describe(`secrets_test.go Test_MakeDockerKeyring (T45–T49)`, () => {
  test(`T45: a dockerconfigjson secret with auth gives user/password for test.registry.io`, () => {
    const entries = entriesOf(parsePullSecret(dcj(`{"auths":{"test.registry.io":{"auth":"dXNlcjpwYXNzd29yZA=="}}}`)));
    const result = lookupCredentials(buildKeyring([{source: `regcred`, entries}]), `test.registry.io`);
    assert.deepEqual(result.credentials.map(c => [c.username, c.password]), [[`user`, `password`]]);
  });

  test(`T46: a dockercfg secret without the auths wrapper gives user/password`, () => {
    const entries = entriesOf(parsePullSecret(secret(`kubernetes.io/dockercfg`, {'.dockercfg': `{"test.registry.io":{"username":"user","password":"password"}}`})));
    const result = lookupCredentials(buildKeyring([{source: `regcred`, entries}]), `test.registry.io`);
    assert.deepEqual(result.credentials.map(c => [c.username, c.password]), [[`user`, `password`]]);
  });

  test(`T47: type dockercfg with the key .dockerconfigjson is ignored (wrong type/key pair)`, () => {
    const result = parsePullSecret(secret(`kubernetes.io/dockercfg`, {'.dockerconfigjson': `{"auths":{"test.registry.io":{"username":"user","password":"password"}}}`}));
    assert.equal(result.status, `ignored`);
    assert.match(result.status === `ignored` ? result.reason : ``, /secret ns\/regcred: type kubernetes\.io\/dockercfg needs the data key \.dockercfg but has data keys "\.dockerconfigjson"; the kubelet ignores it/);
  });

  const defaultKeyring = buildKeyring([{source: `node`, entries: [{key: `test.registry.io`, username: `default-user`, password: `default-password`}]}]);

  test(`T48: a secret for another registry adds nothing; the default keyring's credential is used`, () => {
    const entries = entriesOf(parsePullSecret(dcj(`{"auths":{"foobar.io":{"username":"user","password":"password"}}}`)));
    const result = lookupCredentials([buildKeyring([{source: `regcred`, entries}]), defaultKeyring], `test.registry.io`);
    assert.deepEqual(result.credentials.map(c => c.username), [`default-user`]);
  });

  test(`T49: a matching secret comes first, then the default keyring's credential`, () => {
    const entries = entriesOf(parsePullSecret(dcj(`{"auths":{"test.registry.io":{"username":"user","password":"password"}}}`)));
    const result = lookupCredentials([buildKeyring([{source: `regcred`, entries}]), defaultKeyring], `test.registry.io`);
    assert.deepEqual(result.credentials.map(c => c.username), [`user`, `default-user`]);
  });
});

describe(`config_test.go entry decoding (T50–T53)`, () => {
  test(`T50: auth wins over username and password, and the disagreement is flagged`, () => {
    const [entry] = entriesOf(parsePullSecret(dcj(`{"auths":{"r.io":{"username":"foo","password":"bar","auth":"cGluZzpwb25n"}}}`)));
    assert.deepEqual([entry!.username, entry!.password, entry!.authAgrees], [`ping`, `pong`, false]);
  });

  test(`T51: auth "pants" is invalid base64 and makes the whole secret invalid`, () => {
    assert.deepEqual(parsePullSecret(dcj(`{"auths":{"r.io":{"auth":"pants"}}}`)), {status: `invalid`, problems: [`secret ns/regcred: .dockerconfigjson: entry "r.io": field "auth" is not valid unpadded standard base64`]});
  });

  test(`T52: auth "cGFudHM=" ("pants") has no colon and is invalid`, () => {
    assert.deepEqual(parsePullSecret(dcj(`{"auths":{"r.io":{"auth":"cGFudHM="}}}`)), {status: `invalid`, problems: [`secret ns/regcred: .dockerconfigjson: entry "r.io": field "auth" does not decode to "username:password" (no colon)`]});
  });

  test(`T53: "email": false is a type mismatch naming secret, key, entry and field`, () => {
    assert.deepEqual(parsePullSecret(dcj(`{"auths":{"r.io":{"email":false}}}`)), {status: `invalid`, problems: [`secret ns/regcred: .dockerconfigjson: entry "r.io": field "email" must be a string, got bool`]});
  });
});

describe(`secret type and data key pairing (R1.1)`, () => {
  test(`an Opaque secret holding .dockerconfigjson gives no credentials`, () => {
    const result = parsePullSecret(secret(`Opaque`, {'.dockerconfigjson': `{"auths":{"r.io":{"username":"u","password":"p"}}}`}));
    assert.equal(result.status, `ignored`);
    assert.match(result.status === `ignored` ? result.reason : ``, /type Opaque is not a pull-secret type/);
  });

  test(`a secret without a type is treated as Opaque`, () => {
    assert.equal(parsePullSecret(secret(undefined, {'.dockerconfigjson': `{}`})).status, `ignored`);
  });

  test(`a dockerconfigjson secret carrying only .dockercfg is ignored`, () => {
    assert.equal(parsePullSecret(secret(`kubernetes.io/dockerconfigjson`, {'.dockercfg': `{}`})).status, `ignored`);
  });

  test(`an empty payload is skipped like the kubelet does`, () => {
    assert.equal(parsePullSecret(dcj(``)).status, `ignored`);
  });

  test(`a dockerconfigjson secret in the legacy shape (no auths) is accepted but yields no credentials, with a warning`, () => {
    const result = parsePullSecret(dcj(`{"r.io":{"username":"u","password":"p"}}`));
    assert.equal(result.status, `ok`);
    assert.deepEqual(result.status === `ok` && result.entries, []);
    assert.match(result.status === `ok` ? result.warnings.join() : ``, /no "auths" object/);
  });

  test(`JSON null is accepted and yields no credentials`, () => {
    assert.deepEqual(entriesOf(parsePullSecret(dcj(`null`))), []);
  });
});

describe(`Go encoding/json semantics of entries (R1.3)`, () => {
  test(`field names match case-insensitively`, () => {
    const [entry] = entriesOf(parsePullSecret(dcj(`{"AUTHS":{"r.io":{"Username":"u","PASSWORD":"p","eMail":"e@x"}}}`)));
    assert.deepEqual(entry, {key: `r.io`, username: `u`, password: `p`, email: `e@x`});
  });

  test(`Go's Unicode case folding applies: "uſername" (long s) is the username field`, () => {
    const [entry] = entriesOf(parsePullSecret(dcj(`{"auths":{"r.io":{"u\u017fername":"u","password":"p"}}}`)));
    assert.equal(entry!.username, `u`);
  });

  test(`when two case variants of a field appear the later one wins, even after a third`, () => {
    const [entry] = entriesOf(parsePullSecret(dcj(`{"auths":{"r.io":{"username":"a","USERNAME":"b","username":"c","password":"p"}}}`)));
    assert.equal(entry!.username, `c`);
  });

  test(`a repeated registry key replaces the earlier entry`, () => {
    const entries = entriesOf(parsePullSecret(dcj(`{"auths":{"r.io":{"username":"a","password":"p"},"r.io":{"username":"b"}}}`)));
    assert.deepEqual(entries, [{key: `r.io`, username: `b`, password: ``}]);
  });

  test(`a repeated auths field is merged into the same map, as Go decodes into the existing map`, () => {
    const entries = entriesOf(parsePullSecret(dcj(`{"auths":{"a.io":{}},"Auths":{"b.io":{}}}`)));
    assert.deepEqual(entries.map(e => e.key), [`a.io`, `b.io`]);
  });

  test(`null fields are ignored and a null entry is an empty credential`, () => {
    const entries = entriesOf(parsePullSecret(dcj(`{"auths":{"a.io":null,"b.io":{"username":null,"password":"p"}}}`)));
    assert.deepEqual(entries, [{key: `a.io`, username: ``, password: ``}, {key: `b.io`, username: ``, password: `p`}]);
  });

  test(`unknown fields of any type are ignored; identitytoken and registrytoken are kept for diagnosis only`, () => {
    const [entry] = entriesOf(parsePullSecret(dcj(`{"auths":{"r.io":{"identitytoken":"tok","registrytoken":"rt","serveraddress":5,"x":[1,{"y":null}]}},"credsStore":7}`)));
    assert.deepEqual(entry, {key: `r.io`, username: ``, password: ``, identityToken: `tok`, registryToken: `rt`});
  });

  for (const [payload, problem] of [
    [`{"auths":{"r.io":{"password":123}}}`, `entry "r.io": field "password" must be a string, got number`],
    [`{"auths":{"r.io":{"Username":["u"]}}}`, `entry "r.io": field "Username" must be a string, got array`],
    [`{"auths":{"r.io":"u:p"}}`, `entry "r.io": must be an object, got string`],
    [`{"auths":[]}`, `field "auths" must be an object mapping registry keys to entries, got array`],
    [`{"auths":{},"HttpHeaders":{"X-A":1}}`, `field "HttpHeaders" header "X-A" must be a string, got number`],
    [`{"auths":{},"httpheaders":"x"}`, `field "httpheaders" must be an object of strings, got string`],
    [`[]`, `must be a JSON object with an "auths" field, got array`],
    [`"x"`, `must be a JSON object with an "auths" field, got string`],
  ] as const) {
    test(`type error: ${payload} is invalid (${problem})`, () => {
      assert.deepEqual(parsePullSecret(dcj(payload)), {status: `invalid`, problems: [`secret ns/regcred: .dockerconfigjson: ${problem}`]});
    });
  }

  test(`every type error in a secret is reported, not only the first`, () => {
    const result = parsePullSecret(dcj(`{"auths":{"a.io":{"password":1},"b.io":{"email":true}}}`));
    assert.equal(result.status === `invalid` && result.problems.length, 2);
  });

  test(`a JSON syntax error names the offset, not the content`, () => {
    const result = parsePullSecret(dcj(`{"auths":{"r.io":{"password":"s3cr3t",}}}`));
    assert.equal(result.status, `invalid`);
    const text = result.status === `invalid` ? result.problems.join() : ``;
    assert.match(text, /secret ns\/regcred: \.dockerconfigjson: invalid JSON at offset \d+/);
    assert.doesNotMatch(text, /s3cr3t/);
  });

  test(`a dockercfg payload that is not an object is invalid`, () => {
    assert.equal(decodeDockerConfigPayload(`[]`, `dockercfg`, `x`).status, `invalid`);
  });

  test(`lone surrogate escapes decode to U+FFFD as in Go`, () => {
    const [entry] = entriesOf(parsePullSecret(dcj(`{"auths":{"r.io":{"username":"a\\ud800b","password":"\\ud83d\\ude00"}}}`)));
    assert.deepEqual([entry!.username, entry!.password], [`a\uFFFDb`, `😀`]);
  });

  test(`invalid base64 in the secret's data is reported`, () => {
    const result = parsePullSecret({metadata: {name: `s`}, type: `kubernetes.io/dockerconfigjson`, data: {'.dockerconfigjson': `!!!`}});
    assert.deepEqual(result, {status: `invalid`, problems: [`secret s: data[.dockerconfigjson] is not valid base64`]});
  });
});

describe(`decoding the auth field (R1.4)`, () => {
  const rows: Array<[auth: string, expected: [string, string] | RegExp]> = [
    [`dXNlcjpwYXNzd29yZA==`, [`user`, `password`]],
    [`dXNlcjpwYXNzd29yZA`, [`user`, `password`]],
    [`dXNlcjpw\nYXNzd29yZA==`, [`user`, `password`]],
    [`dXNlcjpw\r\nYXNzd29yZA`, [`user`, `password`]],
    [`dXNlcjpwYXNzd29yZA==\n`, [`user`, `password`]],
    [`OnB3`, [``, `pw`]],
    [`dTo=`, [`u`, ``]],
    [`dTpwOnc6eA==`, [`u`, `p:w:x`]],
    [`dXNlcjpw YXNz`, /not valid unpadded/],
    [`dXNlcjpwYXNzd29yZA== `, /not valid padded/],
    [`dXNlcjpwYXNzd29yZA=`, /not valid padded/],
    [`dXNlcjpwYXNzd29yZA===`, /not valid padded/],
    [`dXNlcjpwYXNzd29yZA==dXNl`, /not valid/],
    [`dXNlcjpwYXNzd29yZ`, /not valid unpadded/],
    [`-_-_`, /not valid unpadded/],
    [`cGFudHM=`, /no colon/],
  ];
  for (const [auth, expected] of rows) {
    test(`${JSON.stringify(auth)} ${Array.isArray(expected) ? `decodes to ${JSON.stringify(expected)}` : `is an error`}`, () => {
      const result = decodeAuthField(auth);
      if (Array.isArray(expected))
        assert.deepEqual(result, {username: expected[0], password: expected[1]});
      else
        assert.match(`error` in result ? result.error : `decoded`, expected);
    });
  }

  test(`an auth decoding to "user:" (az acr login style) gives an empty password and a warning`, () => {
    const result = parsePullSecret(dcj(`{"auths":{"myacr.azurecr.io":{"auth":"${b64(`00000000-0000-0000-0000-000000000000:`)}","identitytoken":"eyJx"}}}`));
    assert.equal(result.status, `ok`);
    if (result.status !== `ok`)
      return;
    assert.equal(result.entries[0]!.password, ``);
    assert.match(result.warnings.join(), /identitytoken, which the kubelet never sends; with no password the pull is anonymous/);
    assert.doesNotMatch(result.warnings.join(), /eyJx/);
  });
});

describe(`parseDockerConfigFile`, () => {
  test(`reads a Docker config.json with auths and notes credsStore and credHelpers`, () => {
    const file = parseDockerConfigFile(JSON.stringify({auths: {'https://index.docker.io/v1/': {auth: b64(`alice:s3cret`)}, 'ghcr.io': {}}, credsStore: `desktop`, credHelpers: {'gcr.io': `gcloud`}}), `config.json`);
    assert.equal(file.format, `config.json`);
    assert.deepEqual(file.entries.map(e => [e.key, e.username]), [[`https://index.docker.io/v1/`, `alice`], [`ghcr.io`, ``]]);
    assert.match(file.warnings.join(`\n`), /credsStore "desktop"/);
    assert.match(file.warnings.join(`\n`), /credHelpers for "gcr\.io"/);
    assert.doesNotMatch(file.warnings.join(`\n`), /s3cret/);
  });

  test(`reads a legacy .dockercfg file`, () => {
    const file = parseDockerConfigFile(`{"quay.io":{"username":"u","password":"p","email":"e"}}`, `.dockercfg`);
    assert.deepEqual([file.format, file.entries.map(e => e.key)], [`dockercfg`, [`quay.io`]]);
  });

  test(`reads an empty config.json as no entries`, () => {
    assert.deepEqual(parseDockerConfigFile(`{}`, `c.json`), {entries: [], warnings: [], format: `config.json`});
  });

  test(`reads a Secret manifest in YAML`, () => {
    const yaml = `apiVersion: v1\nkind: Secret\nmetadata:\n  name: regcred\ntype: kubernetes.io/dockerconfigjson\ndata:\n  .dockerconfigjson: ${b64(`{"auths":{"quay.io":{"username":"u","password":"p"}}}`)}\n`;
    const file = parseDockerConfigFile(yaml, `secret.yaml`);
    assert.deepEqual([file.format, file.entries.map(e => [e.key, e.username, e.password])], [`secret`, [[`quay.io`, `u`, `p`]]]);
  });

  test(`reads a Secret manifest in JSON with stringData`, () => {
    const json = JSON.stringify({apiVersion: `v1`, kind: `Secret`, metadata: {name: `s`}, type: `kubernetes.io/dockerconfigjson`, stringData: {'.dockerconfigjson': `{"auths":{"ghcr.io":{"username":"ü","password":"p"}}}`}});
    assert.deepEqual(parseDockerConfigFile(json, `s.json`).entries.map(e => e.username), [`ü`]);
  });

  test(`an Opaque Secret manifest yields no entries and says why`, () => {
    const file = parseDockerConfigFile(`kind: Secret\nmetadata: {name: s}\ntype: Opaque\ndata: {}\n`, `s.yaml`);
    assert.deepEqual(file.entries, []);
    assert.match(file.warnings.join(), /type Opaque is not a pull-secret type/);
  });

  const malformed: Array<[text: string, message: RegExp]> = [
    [`{"auths":{"r.io":{"password":5}}}`, /^bad\.json: \.?.*entry "r\.io": field "password" must be a string, got number$/],
    [`{"auths": {`, /^bad\.json: is neither valid JSON \(invalid JSON at offset \d+: .*\) nor valid YAML/],
    [`[1,2]`, /^bad\.json: expected a Docker config\.json, a \.dockercfg file or a Secret manifest, got a JSON array$/],
    [`kind: ConfigMap\n`, /^bad\.json: expected a Secret manifest \(kind: Secret\)/],
    [`kind: Secret\n---\nkind: Secret\n`, /^bad\.json: holds 2 YAML documents/],
    [``, /^bad\.json: is empty; give a Docker config\.json, a \.dockercfg file or a Secret manifest$/],
    [`kind: Secret\ntype: kubernetes.io/dockerconfigjson\ndata:\n  .dockerconfigjson: "%%%"\n`, /^bad\.json: the Secret's data\[\.dockerconfigjson\] is not valid base64$/],
  ];
  for (const [text, message] of malformed) {
    test(`malformed input ${JSON.stringify(text.slice(0, 30))} throws one InputError line naming the file`, () => {
      assert.throws(() => parseDockerConfigFile(text, `bad.json`), (error: unknown) => {
        assert.ok(error instanceof InputError);
        assert.match(error.message, message);
        assert.doesNotMatch(error.message, /\n/);
        return true;
      });
    });
  }
});

test(`a malformed Secret manifest names the file and the secret, and a file name with ": " is kept whole`, () => {
  const manifest = `kind: Secret\nmetadata: {name: regcred, namespace: web}\ntype: kubernetes.io/dockerconfigjson\ndata:\n  .dockerconfigjson: ${b64(`{"auths":{"r.io":{"email":false}}}`)}\n`;
  assert.throws(() => parseDockerConfigFile(manifest, `s.yaml`), {message: `s.yaml: secret web/regcred: .dockerconfigjson: entry "r.io": field "email" must be a string, got bool`});
  assert.throws(() => parseDockerConfigFile(`{"auths":{"r.io":{"email":false}}}`, `a: b.json`), {message: `a: b.json: entry "r.io": field "email" must be a string, got bool`});
});
