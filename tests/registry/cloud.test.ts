import assert from 'node:assert/strict';
import {test} from 'node:test';
import {credentialHints, describeRegistry, ecrTokenExpiry, jwtExpiry} from '../../sources/core/registry/cloud.ts';

const ecrPassword = (fields: Record<string, unknown>): string => Buffer.from(JSON.stringify({payload: `p`, datakey: `d`, version: `2`, type: `DATA_KEY`, ...fields})).toString(`base64`);
const now = new Date(`2026-11-29T12:00:00Z`);

test(`ECR hosts are recognised with account and region, including FIPS, dual-stack and China`, () => {
  assert.deepEqual(describeRegistry(`123456789012.dkr.ecr.eu-west-1.amazonaws.com`), {kind: `ecr`, name: `Amazon ECR (123456789012, eu-west-1)`, host: `123456789012.dkr.ecr.eu-west-1.amazonaws.com`, account: `123456789012`, region: `eu-west-1`, fips: false, dualStack: false});
  assert.equal(describeRegistry(`123456789012.dkr.ecr-fips.us-east-1.amazonaws.com`).fips, true);
  assert.equal(describeRegistry(`123456789012.dkr-ecr.us-west-2.on.aws`).dualStack, true);
  assert.equal(describeRegistry(`123456789012.dkr.ecr.cn-north-1.amazonaws.com.cn`).kind, `ecr`);
  assert.equal(describeRegistry(`https://123456789012.dkr.ecr.eu-west-1.amazonaws.com/v2/`).kind, `ecr`);
});

test(`ECR look-alike hosts are not ECR`, () => {
  assert.equal(describeRegistry(`123456789012.dkr.ecr.us-east-1.amazonaws.com.fake.example.com`).kind, `generic`);
  assert.equal(describeRegistry(`12345.dkr.ecr.us-east-1.amazonaws.com`).kind, `generic`);
});

test(`other well-known registries are recognised`, () => {
  const kinds = Object.fromEntries([`docker.io`, `index.docker.io`, `registry-1.docker.io`, `gcr.io`, `eu.gcr.io`, `europe-west1-docker.pkg.dev`, `myreg.azurecr.io`, `ghcr.io`, `quay.io`, `public.ecr.aws`, `registry.example.com:5000`].map(host => [host, describeRegistry(host).kind]));
  assert.deepEqual(kinds, {
    'docker.io': `docker-hub`, 'index.docker.io': `docker-hub`, 'registry-1.docker.io': `docker-hub`, 'gcr.io': `gcr`, 'eu.gcr.io': `gcr`,
    'europe-west1-docker.pkg.dev': `artifact-registry`, 'myreg.azurecr.io': `acr`, 'ghcr.io': `ghcr`, 'quay.io': `quay`, 'public.ecr.aws': `ecr-public`, 'registry.example.com:5000': `generic`,
  });
});

test(`the ECR token expiry is read from the password's expiration field`, () => {
  assert.deepEqual(ecrTokenExpiry(ecrPassword({expiration: 1_795_000_000})), new Date(1_795_000_000 * 1000));
  assert.deepEqual(ecrTokenExpiry(ecrPassword({expiration: `1795000000`})), new Date(1_795_000_000 * 1000));
});

test(`an unreadable ECR password gives an unknown expiry`, () => {
  for (const password of [``, `hunter2`, `not base64 at all!!`, Buffer.from(`{"no":"expiration"}`).toString(`base64`), Buffer.from(`[1,2]`).toString(`base64`), ecrPassword({expiration: -5})])
    assert.equal(ecrTokenExpiry(password), null, password);
});

test(`a JWT's exp is read best-effort`, () => {
  const jwt = [`{"alg":"none"}`, `{"exp":1795000000}`, ``].map(part => Buffer.from(part).toString(`base64url`)).join(`.`);
  assert.deepEqual(jwtExpiry(jwt), new Date(1_795_000_000 * 1000));
  assert.equal(jwtExpiry(`a.b`), null);
});

test(`an e-mail address as Docker Hub username gets a hint`, () => {
  const hints = credentialHints({host: `https://index.docker.io/v1/`, username: `me@example.com`, password: `pw`});
  assert.equal(hints.length, 1);
  assert.match(hints[0]!, /Docker ID as username, not the e-mail address/);
  assert.deepEqual(credentialHints({host: `docker.io`, username: `me`, password: `pw`}), []);
});

test(`an ECR credential gets its expiry, or the fact that it expired, and never the password`, () => {
  const future = ecrPassword({expiration: Math.floor(now.getTime() / 1000) + 3600});
  const [upcoming] = credentialHints({host: `123456789012.dkr.ecr.eu-west-1.amazonaws.com`, username: `AWS`, password: future, now});
  assert.match(upcoming!, /expires at 2026-11-29T13:00:00.000Z/);
  assert.ok(!upcoming!.includes(future));
  const past = ecrPassword({expiration: Math.floor(now.getTime() / 1000) - 60});
  assert.match(credentialHints({host: `123456789012.dkr.ecr.eu-west-1.amazonaws.com`, username: `AWS`, password: past, now})[0]!, /expired at/);
  const hints = credentialHints({host: `123456789012.dkr.ecr.eu-west-1.amazonaws.com`, username: `admin`, password: `opaque`, now});
  assert.match(hints.join(`\n`), /username for an ECR token is "AWS"/);
  assert.match(hints.join(`\n`), /valid for 12 hours/);
});

test(`Google usernames: oauth2accesstoken expires in about an hour, bad key JSON is flagged`, () => {
  assert.match(credentialHints({host: `gcr.io`, username: `oauth2accesstoken`, password: `ya29.x`})[0]!, /about 1 hour/);
  assert.match(credentialHints({host: `us-docker.pkg.dev`, username: `_json_key`, password: `{not json`})[0]!, /does not parse/);
  assert.deepEqual(credentialHints({host: `gcr.io`, username: `_json_key`, password: `{"type":"service_account","private_key":"k"}`}), []);
  assert.deepEqual(credentialHints({host: `gcr.io`, username: `_json_key_base64`, password: Buffer.from(`{"type":"service_account","private_key":"k"}`).toString(`base64`)}), []);
  assert.match(credentialHints({host: `gcr.io`, username: `_json_key_base64`, password: `%%%`})[0]!, /does not decode/);
});

test(`an ACR identity token is flagged: the kubelet ignores it and pulls anonymously`, () => {
  const hints = credentialHints({host: `myreg.azurecr.io`, identityToken: `eyJ.secret.token`});
  assert.equal(hints.length, 1);
  assert.match(hints[0]!, /kubelet ignores, so it pulls anonymously/);
  assert.ok(!hints[0]!.includes(`eyJ.secret.token`));
});

test(`an identity token on any registry is flagged`, () => {
  assert.match(credentialHints({host: `registry.example.com`, identityToken: `t`})[0]!, /identitytoken, which the kubelet ignores/);
});
