import {test} from 'node:test';
import assert from 'node:assert/strict';
import {parseImageReference} from '../../sources/core/image/reference.ts';

const SHA = `sha256:${`a`.repeat(64)}`;

// [input, domain, path, lookup, dialHost, reference]
const valid: Array<[string, string, string, string, string, string]> = [
  [`nginx`, `docker.io`, `library/nginx`, `docker.io/library/nginx`, `registry-1.docker.io`, `latest`],
  [`nginx:1.27`, `docker.io`, `library/nginx`, `docker.io/library/nginx`, `registry-1.docker.io`, `1.27`],
  [`nginx@${SHA}`, `docker.io`, `library/nginx`, `docker.io/library/nginx`, `registry-1.docker.io`, SHA],
  [`nginx:1.27@${SHA}`, `docker.io`, `library/nginx`, `docker.io/library/nginx`, `registry-1.docker.io`, SHA],
  [`myorg/app:1`, `docker.io`, `myorg/app`, `docker.io/myorg/app`, `registry-1.docker.io`, `1`],
  [`docker.io/nginx`, `docker.io`, `library/nginx`, `docker.io/library/nginx`, `registry-1.docker.io`, `latest`],
  [`index.docker.io/library/nginx`, `docker.io`, `library/nginx`, `docker.io/library/nginx`, `registry-1.docker.io`, `latest`],
  [`index.docker.io/nginx`, `docker.io`, `library/nginx`, `docker.io/library/nginx`, `registry-1.docker.io`, `latest`],
  [`registry-1.docker.io/library/nginx`, `registry-1.docker.io`, `library/nginx`, `registry-1.docker.io/library/nginx`, `registry-1.docker.io`, `latest`],
  [`localhost/app`, `localhost`, `app`, `localhost/app`, `localhost`, `latest`],
  [`localhost:5000/app`, `localhost:5000`, `app`, `localhost:5000/app`, `localhost:5000`, `latest`],
  [`quay.io/org/app:tag`, `quay.io`, `org/app`, `quay.io/org/app`, `quay.io`, `tag`],
  [`127.0.0.1:8000/privatebase`, `127.0.0.1:8000`, `privatebase`, `127.0.0.1:8000/privatebase`, `127.0.0.1:8000`, `latest`],
  [`LOCALDOMAIN/fooo`, `LOCALDOMAIN`, `fooo`, `LOCALDOMAIN/fooo`, `LOCALDOMAIN`, `latest`],
  [`other/library`, `docker.io`, `other/library`, `docker.io/other/library`, `registry-1.docker.io`, `latest`],
  [`library/foo/bar`, `docker.io`, `library/foo/bar`, `docker.io/library/foo/bar`, `registry-1.docker.io`, `latest`],
  [`[::1]:5000/app`, `[::1]:5000`, `app`, `[::1]:5000/app`, `[::1]:5000`, `latest`],
  [`localhost`, `docker.io`, `library/localhost`, `docker.io/library/localhost`, `registry-1.docker.io`, `latest`],
  [`example.com`, `docker.io`, `library/example.com`, `docker.io/library/example.com`, `registry-1.docker.io`, `latest`],
  [`a/b__c/d--e/f.g:T_1.x-y`, `docker.io`, `a/b__c/d--e/f.g`, `docker.io/a/b__c/d--e/f.g`, `registry-1.docker.io`, `T_1.x-y`],
  [`app:${`t`.repeat(128)}`, `docker.io`, `library/app`, `docker.io/library/app`, `registry-1.docker.io`, `t`.repeat(128)],
];

for (const [input, domain, path, lookup, dialHost, reference] of valid) {
  test(`${input} looks up ${lookup}, dials ${dialHost} and pulls ${reference.slice(0, 20)}`, () => {
    const parsed = parseImageReference(input);
    assert.ok(parsed.ok, parsed.ok ? `` : parsed.error);
    assert.deepEqual([parsed.ref.domain, parsed.ref.path, parsed.ref.lookup, parsed.ref.dialHost, parsed.ref.repository, parsed.ref.reference], [domain, path, lookup, dialHost, path, reference]);
  });
}

test(`a reference with both tag and digest keeps both, and pulls by digest`, () => {
  const parsed = parseImageReference(`nginx:1.27@${SHA}`);
  assert.ok(parsed.ok);
  assert.deepEqual([parsed.ref.tag, parsed.ref.digest, parsed.ref.reference], [`1.27`, SHA, SHA]);
});

const invalid: Array<[string, string]> = [
  [`Nginx`, `invalid reference format: repository name (library/Nginx) must be lowercase`],
  [`quay.io/Org/app`, `invalid reference format: repository name (Org/app) must be lowercase`],
  [`Foo/Bar`, `invalid reference format: repository name (Bar) must be lowercase`],
  [``, `invalid reference format`],
  [`a`.repeat(64), `invalid repository name (${`a`.repeat(64)}), cannot specify 64-byte hexadecimal strings`],
  [`nginx:`, `invalid reference format`],
  [`nginx:-tag`, `invalid reference format`],
  [`app:${`t`.repeat(129)}`, `invalid reference format`],
  [`nginx@sha256:abc`, `invalid reference format`],
  [`nginx@sha256:${`a`.repeat(63)}`, `invalid checksum digest length`],
  [`nginx@sha256:${`a`.repeat(65)}`, `invalid checksum digest length`],
  [`nginx@sha256:${`A`.repeat(64)}`, `invalid checksum digest format`],
  [`nginx@md5:${`a`.repeat(32)}`, `unsupported digest algorithm`],
  [`quay.io/org//app`, `invalid reference format`],
  [`quay.io/org/app/`, `invalid reference format`],
  [`quay.io/-org/app`, `invalid reference format`],
  [`quay.io/org/app:v1+build`, `invalid reference format`],
  [`-quay.io/app`, `invalid reference format`],
  [`quay.io:port/app`, `invalid reference format`],
  [`docker.io/${`a`.repeat(246)}`, `repository name must not be more than 255 characters`],
  [`nginx app`, `invalid reference format`],
];

for (const [input, error] of invalid) {
  test(`${JSON.stringify(input.length > 40 ? `${input.slice(0, 40)}…` : input)} is an InvalidImageName: ${error.slice(0, 60)}`, () => {
    assert.deepEqual(parseImageReference(input), {ok: false, error: `couldn't parse image reference ${JSON.stringify(input)}: ${error}`});
  });
}

test(`the 255-character limit counts domain and path together`, () => {
  // docker.io/library/ + 237 = 255 characters: accepted; one more is too long.
  assert.equal(parseImageReference(`docker.io/library/${`a`.repeat(237)}`).ok, true);
  assert.equal(parseImageReference(`docker.io/library/${`a`.repeat(238)}`).ok, false);
});
