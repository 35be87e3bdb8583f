import {describe, test} from 'node:test';
import assert from 'node:assert/strict';
import {parseImageReference} from '../../sources/core/image/reference.ts';
import {buildKeyring, isDefaultRegistryMatch, lookupCredentials, normalizeKey, urlsMatch} from '../../sources/core/keyring/keyring.ts';
import type {Keyring} from '../../sources/core/keyring/keyring.ts';
import {type VectorEntry, DERIVED_VECTORS, GLOB_FOUND_VECTORS, MISS_VECTORS, URL_MATCH_VECTORS} from '../corpus/keyringVectors.ts';

// Test vectors from docs/credential-rules.md "Test vectors". Each credential's username is its label (A, B, ...), so the
// order of `usernames` is the order in which the kubelet tries them.

type Entry = VectorEntry;

function keyring(...secrets: Entry[][]): Keyring {
  return buildKeyring(secrets.map((entries, i) => ({source: `secret${i + 1}`, entries: entries.map(([key, label]) => ({key, username: label, password: `pw-${label}`}))})));
}

function usernames(ring: Keyring | Keyring[], lookup: string): string[] {
  return lookupCredentials(ring, lookup).credentials.map(credential => credential.username);
}

function lookupOf(image: string): string {
  const parsed = parseImageReference(image);
  assert.ok(parsed.ok, `image ${image} should parse`);
  return parsed.ref.lookup;
}

describe(`TestURLsMatch (T1–T18): a key pattern against a lookup string`, () => {
  const rows = URL_MATCH_VECTORS;
  for (const [id, key, target, match] of rows) {
    test(`${id}: ${key} ${match ? `matches` : `does not match`} ${target}`, () => {
      assert.equal(urlsMatch(key, target).matched, match);
    });
  }

  test(`T9 is rejected for the label count, T17 and T18 for the port`, () => {
    assert.deepEqual([urlsMatch(`*.kubernetes.io`, `kubernetes.io`), urlsMatch(`*.kubernetes.io:1234/blah`, `prefix.kubernetes.io:1111/blah`), urlsMatch(`prefix.*.io/foo`, `prefix.kubernetes.io:1111/foo/bar`)].map(v => !v.matched && v.reason), [`label-count`, `port`, `port`]);
  });
});

describe(`TestDockerKeyringForGlob (T19–T27): one raw key finds its credential`, () => {
  const rows = GLOB_FOUND_VECTORS;
  for (const [id, key, lookup] of rows) {
    test(`${id}: key ${key} is found for ${lookup}`, () => {
      assert.deepEqual(usernames(keyring([[key, `A`]]), lookup), [`A`]);
    });
  }
});

describe(`TestKeyringMiss (T28–T33): the credential is not found`, () => {
  const rows = MISS_VECTORS;
  for (const [id, key, lookup] of rows) {
    test(`${id}: key ${key} is not found for ${lookup}`, () => {
      const result = lookupCredentials(keyring([[key, `A`]]), lookup);
      assert.deepEqual(result.credentials, []);
      assert.equal(result.rejected.length, 1);
    });
  }
});

describe(`The Docker Hub fallback (T34–T36)`, () => {
  for (const [id, lookup] of [[`T34`, `google/docker-registry`], [`T35`, `jenkins`], [`T36`, `index.docker.io/v1//google/docker-registry`]] as const) {
    test(`${id}: https://index.docker.io/v1/ credentials are returned exactly once for ${lookup}`, () => {
      const result = lookupCredentials(keyring([[`https://index.docker.io/v1/`, `A`]]), lookup);
      assert.deepEqual(result.credentials.map(c => c.username), [`A`]);
      assert.equal(result.credentials[0]!.match, id === `T36` ? `host` : `docker-hub-fallback`);
    });
  }
});

describe(`TestDockerKeyringLookup (T37–T42): keys bar.example.com/pong→grace and bar.example.com→ada`, () => {
  const ring = keyring([[`bar.example.com/pong`, `grace`], [`bar.example.com`, `ada`]]);
  const rows: Array<[id: string, lookup: string, expected: string[]]> = [
    [`T37`, `bar.example.com`, [`ada`]],
    [`T38`, `bar.example.com/pong`, [`grace`, `ada`]],
    [`T39`, `bar.example.com/ping`, [`ada`]],
    [`T40`, `bar.example.com/pongz`, [`grace`, `ada`]],
    [`T41`, `bar.example.com/pong/pang`, [`grace`, `ada`]],
    [`T42`, `example.com`, []],
    [`T42`, `foo.example.com`, []],
  ];
  for (const [id, lookup, expected] of rows) {
    test(`${id}: ${lookup} gives ${expected.length === 0 ? `nothing` : expected.join(`, `)}`, () => {
      assert.deepEqual(usernames(ring, lookup), expected);
    });
  }
});

describe(`TestIssue3797 (T43): key https://quay.io/v1/ is host-only`, () => {
  for (const lookup of [`quay.io`, `quay.io/foo`, `quay.io/foo/bar`]) {
    test(`T43: ${lookup} finds rex`, () => {
      assert.deepEqual(usernames(keyring([[`https://quay.io/v1/`, `rex`]]), lookup), [`rex`]);
    });
  }
});

describe(`TestIsDefaultRegistryMatch (T44)`, () => {
  for (const input of [`foo/bar`, `docker.io/foo/bar`, `index.docker.io/foo/bar`, `foo`]) {
    test(`T44: ${input} looks like Docker Hub`, () => {
      assert.equal(isDefaultRegistryMatch(input), true);
    });
  }
  for (const input of [``, `registry.tld/foo/bar`, `registry:5000/foo/bar`, `myhostdocker.io/foo/bar`]) {
    test(`T44: ${JSON.stringify(input)} does not look like Docker Hub`, () => {
      assert.equal(isDefaultRegistryMatch(input), false);
    });
  }
});

describe(`Key normalization (R2.4)`, () => {
  const rows: Array<[raw: string, normalized: string]> = [
    [`https://index.docker.io/v1/`, `index.docker.io`],
    [`index.docker.io`, `index.docker.io`],
    [`index.docker.io/v1/`, `index.docker.io`],
    [`https://index.docker.io/v2/`, `index.docker.io`],
    [`https://quay.io/v1/`, `quay.io`],
    [`http://registry:5000`, `registry:5000`],
    [`https://*.docker.io/v2/`, `*.docker.io`],
    [`https://index.docker.io/v1/something`, `index.docker.io/something`],
    [`quay.io/v1`, `quay.io/v1`],
    [`quay.io/org/`, `quay.io/org/`],
    [`Quay.io`, `Quay.io`],
    [`user:pw@quay.io/org`, `quay.io/org`],
    [`quay.io/org?x=1#frag`, `quay.io/org`],
    [`quay.io/a%2Fb`, `quay.io/a/b`],
  ];
  for (const [raw, normalized] of rows) {
    test(`${raw} normalizes to ${normalized}`, () => {
      assert.deepEqual(normalizeKey(raw), {ok: true, key: normalized});
    });
  }
  for (const raw of [`quay.io:abc`, `quay io`, `quay.io/%zz`, `[::1`, `qu\\ay.io`]) {
    test(`${JSON.stringify(raw)} is not a valid key and the kubelet ignores it`, () => {
      assert.equal(normalizeKey(raw).ok, false);
      const result = lookupCredentials(keyring([[raw, `A`]]), `quay.io/x`);
      assert.deepEqual(result.credentials, []);
      assert.deepEqual(result.rejected.map(r => r.reason), [`invalid-key`]);
    });
  }
});

describe(`Derived rows (D1–D30): one keyring per row`, () => {
  const rows = DERIVED_VECTORS;
  for (const [id, secrets, image, lookup, expected] of rows) {
    test(`${id}: ${image} (lookup ${lookup}) tries ${expected.length === 0 ? `nothing, so it is pulled anonymously` : expected.join(`, `)}`, () => {
      assert.equal(lookupOf(image), lookup);
      assert.deepEqual(usernames(keyring(...secrets), lookup), expected);
    });
  }

  test(`D1 matches through the Docker Hub fallback, D3 directly`, () => {
    assert.equal(lookupCredentials(keyring([[`https://index.docker.io/v1/`, `A`]]), `docker.io/library/nginx`).credentials[0]!.match, `docker-hub-fallback`);
    assert.equal(lookupCredentials(keyring([[`docker.io`, `A`]]), `docker.io/library/nginx`).credentials[0]!.match, `host`);
  });

  test(`D4: the index.docker.io key is reported as a suppressed fallback`, () => {
    const result = lookupCredentials(keyring([[`docker.io`, `A`], [`https://index.docker.io/v1/`, `B`]]), `docker.io/library/nginx`);
    assert.deepEqual(result.rejected.map(r => [r.key, r.reason]), [[`https://index.docker.io/v1/`, `fallback-suppressed`]]);
  });

  test(`D5: a registry-1.docker.io key is rejected for the label count and warned about`, () => {
    const result = lookupCredentials(keyring([[`https://registry-1.docker.io/v2/`, `A`]]), `docker.io/library/nginx`);
    assert.deepEqual(result.rejected.map(r => r.reason), [`label-count`]);
    assert.match(result.warnings.join(`\n`), /registry-1\.docker\.io.*never matches Docker Hub images/);
  });

  test(`D9: the localhost quirk is warned about`, () => {
    const result = lookupCredentials(keyring([[`https://index.docker.io/v1/`, `A`]]), `localhost/app`);
    assert.match(result.warnings.join(`\n`), /"localhost" like Docker Hub/);
  });

  test(`D11 and D12 are rejected for the port, D18 for case, D19 and D20 for the path`, () => {
    const reason = (key: string, lookup: string) => lookupCredentials(keyring([[key, `A`]]), lookup).rejected[0]!.reason;
    assert.deepEqual(
      [reason(`localhost`, `localhost:5000/app`), reason(`registry.example.com:5000`, `registry.example.com/app`), reason(`Quay.io`, `quay.io/org/app`), reason(`quay.io/org/`, `quay.io/org`), reason(`quay.io/v1`, `quay.io/org/app`)],
      [`port`, `port`, `case`, `path`, `path`],
    );
  });

  test(`D13–D16 report host keys as "host" matches and glob keys as "glob" matches`, () => {
    const result = lookupCredentials(keyring([[`*.example.com/bar`, `A`], [`foo.example.com`, `B`]]), `foo.example.com/bar/baz`);
    assert.deepEqual(result.credentials.map(c => [c.username, c.match]), [[`B`, `host`], [`A`, `glob`]]);
  });

  test(`D29: two keys of one secret that normalize alike are both tried, with a random-order warning`, () => {
    const result = lookupCredentials(keyring([[`quay.io`, `A`], [`https://quay.io`, `B`]]), `quay.io/x/y`);
    assert.deepEqual(result.credentials.map(c => c.username).sort(), [`A`, `B`]);
    assert.match(result.warnings.join(`\n`), /"quay\.io" and "https:\/\/quay\.io" of secret1 both normalize to "quay\.io".*random order/);
  });

  test(`D29: the same key in two different secrets is in list order, without a random-order warning`, () => {
    const result = lookupCredentials(keyring([[`quay.io`, `A`]], [[`https://quay.io`, `B`]]), `quay.io/x/y`);
    assert.deepEqual(result.credentials.map(c => c.username), [`A`, `B`]);
    assert.deepEqual(result.warnings, []);
  });

  test(`D30: each keyring falls back on its own (pod secret keyring, then the node's)`, () => {
    const pod = keyring([[`quay.io`, `A`]]);
    const node = keyring([[`https://index.docker.io/v1/`, `N`]]);
    assert.deepEqual(usernames([pod, node], `docker.io/library/nginx`), [`N`]);
  });

  test(`the same secret listed twice is tried twice`, () => {
    const secret: Entry[] = [[`quay.io`, `A`]];
    assert.deepEqual(usernames(keyring(secret, secret), `quay.io/org/app`), [`A`, `A`]);
  });

  test(`a key with an unrecognised scheme is rejected with the reason "scheme"`, () => {
    const result = lookupCredentials(keyring([[`HTTPS://quay.io`, `A`]]), `quay.io/org/app`);
    assert.deepEqual(result.rejected.map(r => r.reason), [`scheme`]);
  });

  test(`a malformed glob in a key is rejected with the reason "bad-pattern" (a leading "[" is an unclosed IPv6 literal instead)`, () => {
    assert.equal(normalizeKey(`[.example.com`).ok, false);
    const result = lookupCredentials(keyring([[`a[.example.com`, `A`]]), `a.example.com/x`);
    assert.deepEqual(result.rejected.map(r => r.reason), [`bad-pattern`]);
  });

  test(`rejections and warnings never contain a password`, () => {
    const result = lookupCredentials(keyring([[`quay.io`, `A`], [`https://quay.io`, `B`], [`https://registry-1.docker.io`, `C`], [`ghcr.io`, `D`]]), `docker.io/library/nginx`);
    const text = JSON.stringify([result.rejected, result.warnings]);
    for (const label of [`A`, `B`, `C`, `D`])
      assert.doesNotMatch(text, new RegExp(`pw-${label}`));
  });
});

test(`a key naming another host altogether is rejected for the host, not for the port the kubelet happens to compare first`, () => {
  const verdict = urlsMatch(`registry-1.docker.io`, `127.0.0.1:5001/app`);
  assert.equal(verdict.matched, false);
  assert.deepEqual(!verdict.matched && [verdict.reason, verdict.detail], [`host`, `the key's host registry-1.docker.io is not the image's host 127.0.0.1:5001`]);
  // Same host, other port: the port it is.
  const port = urlsMatch(`127.0.0.1:5000`, `127.0.0.1:5001/app`);
  assert.equal(!port.matched && port.reason, `port`);
});
