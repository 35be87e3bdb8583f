// One expiry rule everywhere: verify, decode and list agree on an ECR token's expiry, for ECR's own host form
// (12-digit account) and for any other key that carries an ECR token (here the seed's 9-digit account).
import {before, test} from 'node:test';
import assert from 'node:assert/strict';
import {runCli} from '../helpers/runCli.ts';
import {useApiEmulator} from '../helpers/apiEmulator/fixture.ts';

const EXPIRED_AT = 1_600_000_000;
const token = Buffer.from(JSON.stringify({payload: `p`, datakey: `d`, version: `2`, type: `DATA_KEY`, expiration: EXPIRED_AT})).toString(`base64`);
const secret = (name: string, host: string, password: string) => ({
  metadata: {name}, type: `kubernetes.io/dockerconfigjson`,
  data: {'.dockerconfigjson': Buffer.from(JSON.stringify({auths: {[host]: {username: `AWS`, password, auth: Buffer.from(`AWS:${password}`).toString(`base64`)}}})).toString(`base64`)},
});

const api = await useApiEmulator();
before(async () => {
  api.seed.namespace(`ecr`);
  api.seed.secret(`ecr`, secret(`nine`, `123456789.dkr.ecr.us-east-1.amazonaws.com`, token));
  api.seed.secret(`ecr`, secret(`twelve`, `123456789012.dkr.ecr.us-east-1.amazonaws.com`, token));
  api.seed.secret(`ecr`, secret(`plain`, `127.0.0.1:1`, `not-a-token-but-long-enough`));
});

const kube = () => [`--kubeconfig`, api.kubeconfigPath, `-n`, `ecr`];

for (const [name, host] of [[`nine`, `123456789.dkr.ecr.us-east-1.amazonaws.com`], [`twelve`, `123456789012.dkr.ecr.us-east-1.amazonaws.com`]] as const) {
  test(`an expired ECR token under ${name === `nine` ? `a 9-digit` : `a 12-digit`} account host: verify, decode and list all say expired`, async () => {
    const verified = await runCli([`verify`, `--image`, `${host}/app:1`, `--secret`, name, `-o`, `json`, ...kube()]);
    assert.equal(JSON.parse(verified.stdout).results[0].status, `expired`, verified.stdout);
    const decoded = await runCli([`decode`, name, `-o`, `json`, ...kube()]);
    assert.equal(JSON.parse(decoded.stdout).registries[0].expiresAt, new Date(EXPIRED_AT * 1000).toISOString().replace(/\.000Z$/, `Z`));
    const listed = await runCli([`list`, `-o`, `json`, ...kube()]);
    const entry = JSON.parse(listed.stdout).secrets.find((candidate: {name: string}) => candidate.name === name);
    assert.equal(entry.status, `expired`, JSON.stringify(entry));
  });
}

test(`a password that is not an ECR token has no expiry anywhere`, async () => {
  const decoded = await runCli([`decode`, `plain`, `-o`, `json`, ...kube()]);
  assert.equal(JSON.parse(decoded.stdout).registries[0].expiresAt, null);
  const listed = await runCli([`list`, `-o`, `json`, ...kube()]);
  assert.equal(JSON.parse(listed.stdout).secrets.find((candidate: {name: string}) => candidate.name === `plain`).expiresAt, null);
});

test(`add warns that a 9-digit ECR-like host is not an ECR host`, async () => {
  const result = await runCli([`add`, `x`, `--docker-server`, `123456789.dkr.ecr.us-east-1.amazonaws.com`, `--docker-username`, `AWS`, `--docker-password-stdin`, `--dry-run=client`], {stdin: `${token}\n`});
  assert.equal(result.code, 0, result.stderr);
  assert.match(result.stderr, /^warning: 123456789\.dkr\.ecr\.us-east-1\.amazonaws\.com looks like an Amazon ECR host but is not one/m);
  assert.match(result.stderr, /^warning: 123456789\.dkr\.ecr\.us-east-1\.amazonaws\.com: the password is an ECR token that expired at 2020-09-13T12:26:40\.000Z/m);
});
