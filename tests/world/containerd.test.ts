// Proves the containerd harness: real containerd, driven over CRI exactly as a kubelet drives it, pulls from
// the real docker-registry with good credentials and fails with the runtime's own texts otherwise.
// One containerd for the whole file (it takes about a second to start).
import assert from 'node:assert/strict';
import {after, before, describe, test} from 'node:test';
import {CriError, startContainerd, type Containerd} from '../helpers/containerd/index.ts';
import {startRegistry, type TestRegistry} from '../helpers/registry/index.ts';

let containerd: Containerd;
const registries: TestRegistry[] = [];
before(async () => {
  containerd = await startContainerd();
});
after(async () => {
  await containerd?.stop();
  for (const registry of registries)
    await registry.stop();
});

async function registry(mode: `basic` | `tls` | `token`): Promise<TestRegistry> {
  const started = await startRegistry({mode, users: {alice: `s3cret`, noscope: `n0pe`}, grants: {alice: {'demo/*': [`pull`]}}});
  registries.push(started);
  containerd.trustRegistry(started);
  return started;
}

const rejection = async (promise: Promise<unknown>): Promise<CriError> => {
  try {
    await promise;
  } catch (error) {
    assert.ok(error instanceof CriError, String(error));
    return error;
  }
  assert.fail(`the pull succeeded`);
};

describe(`CRI PullImage against a token-auth registry`, () => {
  let reg: TestRegistry;
  let image: string;
  before(async () => {
    reg = await registry(`token`);
    await reg.push(`demo/app`, `v1`);
    image = `${reg.host}/demo/app:v1`;
  });

  test(`good credentials pull the image, and ImageStatus then finds it on the node`, async () => {
    assert.equal(await containerd.imageStatus(image), undefined);
    const ref = await containerd.pull(image, {username: `alice`, password: `s3cret`});
    assert.match(ref, /^sha256:[0-9a-f]{64}$/);
    assert.equal((await containerd.imageStatus(image))?.id, ref);
    await containerd.removeImage(image);
    assert.equal(await containerd.imageStatus(image), undefined);
  });

  test(`the auth field (base64 user:password) works as username/password do`, async () => {
    const ref = await containerd.pull(image, {auth: Buffer.from(`alice:s3cret`).toString(`base64`)});
    assert.match(ref, /^sha256:/);
    await containerd.removeImage(image);
  });

  test(`a wrong password fails at the token endpoint with 401`, async () => {
    const error = await rejection(containerd.pull(image, {username: `alice`, password: `wrong`}));
    assert.equal(error.message, `rpc error: code = Unknown desc = failed to pull and unpack image "${image}": failed to resolve reference "${image}": failed to authorize: failed to fetch oauth token: unexpected status: 401 Unauthorized`);
  });

  test(`no credentials on a private repository fail with pull access denied`, async () => {
    const error = await rejection(containerd.pull(image));
    assert.match(error.message, /pull access denied, repository does not exist or may require authorization: server message: insufficient_scope: authorization failed$/);
  });

  test(`a user without pull rights is denied like an anonymous one`, async () => {
    const error = await rejection(containerd.pull(image, {username: `noscope`, password: `n0pe`}));
    assert.match(error.message, /pull access denied|insufficient_scope/);
  });

  test(`a missing tag is not found`, async () => {
    const error = await rejection(containerd.pull(`${reg.host}/demo/app:nope`, {username: `alice`, password: `s3cret`}));
    assert.equal(error.message, `rpc error: code = NotFound desc = failed to pull and unpack image "${reg.host}/demo/app:nope": failed to resolve reference "${reg.host}/demo/app:nope": ${reg.host}/demo/app:nope: not found`);
  });
});

describe(`CRI PullImage against htpasswd registries`, () => {
  for (const mode of [`basic`, `tls`] as const) {
    test(`${mode === `tls` ? `over TLS with the test CA in hosts.toml` : `over plain HTTP`}: good credentials pull, a wrong password does not`, async () => {
      const reg = await registry(mode);
      await reg.push(`demo/app`, `v1`);
      const image = `${reg.host}/demo/app:v1`;
      assert.match(await containerd.pull(image, {username: `alice`, password: `s3cret`}), /^sha256:/);
      await containerd.removeImage(image);
      const error = await rejection(containerd.pull(image, {username: `alice`, password: `wrong`}));
      assert.equal(error.message, `rpc error: code = Unknown desc = failed to pull and unpack image "${image}": failed to resolve reference "${image}": pulling from host ${reg.host} failed with status code [manifests v1]: 401 Unauthorized`);
      const missing = await rejection(containerd.pull(`${reg.host}/demo/app:nope`, {username: `alice`, password: `s3cret`}));
      assert.equal(missing.code, `NotFound`, missing.message);
    });
  }
});

test(`.ci/run installs containerd when it is missing (a clean CI machine has none)`, async () => {
  const {readFileSync} = await import('node:fs');
  const script = readFileSync(new URL(`../../.ci/run`, import.meta.url), `utf8`);
  assert.match(script, /command -v containerd >\/dev\/null 2>&1 \|\| need_apt\+=\(containerd\)/);
});
