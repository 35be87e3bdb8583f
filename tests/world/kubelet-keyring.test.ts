// The test world's kubelet keyring (tests/helpers/node, written independently of sources/) held to the same
// vectors of docs/credential-rules.md as the product's: the node is an oracle only if it is right on its own.
import assert from 'node:assert/strict';
import {describe, test} from 'node:test';
import {Keyring, KeyringError, parseNormalizedNamed, secretConfig, applyDefaultImageTag} from '../helpers/node/index.ts';
import {DERIVED_VECTORS, GLOB_FOUND_VECTORS, MISS_VECTORS, URL_MATCH_VECTORS, type VectorEntry} from '../corpus/keyringVectors.ts';

function keyring(...secrets: VectorEntry[][]): Keyring {
  const ring = new Keyring();
  secrets.forEach((entries, i) => ring.add(`secret${i + 1}`, entries.map(([key, label]) => [key, {username: label, password: `pw-${label}`}])));
  return ring;
}

const tried = (ring: Keyring, repository: string) => ring.lookup(repository).map(c => c.username);

describe(`key matching and order`, () => {
  for (const [id, key, target, match] of URL_MATCH_VECTORS) {
    test(`${id}: ${key} ${match ? `matches` : `does not match`} ${target}`, () => {
      assert.deepEqual(tried(keyring([[key, `A`]]), target), match ? [`A`] : []);
    });
  }
  for (const [id, key, lookup] of GLOB_FOUND_VECTORS) {
    test(`${id}: key ${key} is found for ${lookup}`, () => {
      assert.deepEqual(tried(keyring([[key, `A`]]), lookup), [`A`]);
    });
  }
  for (const [id, key, lookup] of MISS_VECTORS) {
    test(`${id}: key ${key} is not found for ${lookup}`, () => {
      assert.deepEqual(tried(keyring([[key, `A`]]), lookup), []);
    });
  }
  for (const [id, secrets, image, lookup, expected] of DERIVED_VECTORS) {
    test(`${id}: ${image} looks up ${lookup} and tries ${expected.length === 0 ? `nothing (anonymous)` : expected.join(`, `)}`, () => {
      assert.equal(parseNormalizedNamed(image).repository, lookup);
      assert.deepEqual(tried(keyring(...secrets), lookup), expected);
    });
  }
});

describe(`secrets as the kubelet decodes them`, () => {
  const secret = (type: string, key: string, json: string) => ({type, data: {[key]: Buffer.from(json).toString(`base64`)}});
  const decode = (s: any) => {
    const ring = new Keyring();
    ring.add(`s`, secretConfig(s));
    return ring.lookup(`registry.example.com/app`).map(c => `${c.username}/${c.password}`);
  };

  test(`auth wins over username and password (T50), padded or not`, () => {
    assert.deepEqual(decode(secret(`kubernetes.io/dockerconfigjson`, `.dockerconfigjson`, `{"auths":{"registry.example.com":{"username":"foo","password":"bar","auth":"cGluZzpwb25n"}}}`)), [`ping/pong`]);
    assert.deepEqual(decode(secret(`kubernetes.io/dockerconfigjson`, `.dockerconfigjson`, `{"auths":{"registry.example.com":{"auth":"dXNlcjpwYXNzd29yZA"}}}`)), [`user/password`]);
  });

  test(`field names match case-insensitively and unknown fields are ignored`, () => {
    assert.deepEqual(decode(secret(`kubernetes.io/dockerconfigjson`, `.dockerconfigjson`, `{"AUTHS":{"registry.example.com":{"Username":"u","PASSWORD":"p","identitytoken":"x"}}}`)), [`u/p`]);
  });

  test(`a wrong type, bad base64 or an auth without a colon fails the whole keyring (T51–T53)`, () => {
    for (const entry of [`{"email":false}`, `{"auth":"pants"}`, `{"auth":"cGFudHM="}`, `{"password":5}`])
      assert.throws(() => decode(secret(`kubernetes.io/dockerconfigjson`, `.dockerconfigjson`, `{"auths":{"registry.example.com":${entry}}}`)), KeyringError, entry);
  });

  test(`only matching type and key pairs count; the legacy format has no auths wrapper`, () => {
    assert.deepEqual(decode(secret(`kubernetes.io/dockercfg`, `.dockercfg`, `{"registry.example.com":{"username":"u","password":"p"}}`)), [`u/p`]);
    assert.deepEqual(decode(secret(`Opaque`, `.dockerconfigjson`, `{"auths":{"registry.example.com":{"username":"u","password":"p"}}}`)), []);
    assert.deepEqual(decode(secret(`kubernetes.io/dockerconfigjson`, `.dockerconfigjson`, `{"registry.example.com":{"username":"u","password":"p"}}`)), []);
  });
});

describe(`image references`, () => {
  for (const [image, repository] of [[`nginx:1.27`, `docker.io/library/nginx`], [`myorg/app:1`, `docker.io/myorg/app`], [`index.docker.io/library/nginx`, `docker.io/library/nginx`], [`registry-1.docker.io/library/nginx`, `registry-1.docker.io/library/nginx`], [`localhost:5000/app`, `localhost:5000/app`], [`127.0.0.1:8000/privatebase`, `127.0.0.1:8000/privatebase`], [`LOCALDOMAIN/fooo`, `LOCALDOMAIN/fooo`], [`library/foo/bar`, `docker.io/library/foo/bar`]]) {
    test(`${image} is looked up as ${repository}`, () => {
      assert.equal(parseNormalizedNamed(image!).repository, repository);
    });
  }

  test(`the kubelet's InvalidImageName texts`, () => {
    assert.throws(() => applyDefaultImageTag(`quay.io/Org/app`), {message: `couldn't parse image name "quay.io/Org/app": invalid reference format: repository name (Org/app) must be lowercase`});
    assert.throws(() => applyDefaultImageTag(`quay.io/app:`), {message: `couldn't parse image name "quay.io/app:": invalid reference format`});
    assert.throws(() => applyDefaultImageTag(`quay.io/app@sha256:abc`), {message: /invalid reference format|invalid checksum digest format/});
    assert.equal(applyDefaultImageTag(`quay.io/app`), `quay.io/app:latest`);
    assert.equal(applyDefaultImageTag(`quay.io/app@sha256:${`a`.repeat(64)}`), `quay.io/app@sha256:${`a`.repeat(64)}`);
  });
});
