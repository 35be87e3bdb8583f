// decode against the API emulator and from manifest files.
import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import {after, before, test} from 'node:test';
import {runCli} from '../helpers/runCli.ts';
import {parseDockerConfigFile} from '../../sources/core/dockerconfig/parse.ts';
import {b64} from '../helpers/encoding.ts';
import {useApiEmulator} from '../helpers/apiEmulator/fixture.ts';

const PASSWORD = `Decode-pw-1234`;
const api = await useApiEmulator();
const tmp = fs.mkdtempSync(path.join(os.tmpdir(), `decode-`));
const config = (auths: Record<string, unknown>) => ({'.dockerconfigjson': b64(JSON.stringify({auths}))});

before(async () => {
  api.seed.namespace(`web`);
  api.seed.secret(`web`, {metadata: {name: `regcred`}, type: `kubernetes.io/dockerconfigjson`, data: config({'ghcr.io': {username: `bot`, password: PASSWORD, email: `bot@example.com`, auth: b64(`bot:${PASSWORD}`)}, 'https://index.docker.io/v1/': {auth: b64(`hub:${PASSWORD}`)}})});
  api.seed.secret(`web`, {metadata: {name: `tricky`}, type: `kubernetes.io/dockerconfigjson`, data: config({
    'registry-1.docker.io': {auth: b64(`hub:pw`)},
    'acr.azurecr.io': {identitytoken: `eyJ.token.sig`},
    'quay.io': {username: `alice`, password: `one`, auth: b64(`bob:two`)},
  })});
});
after(async () => {
  fs.rmSync(tmp, {recursive: true, force: true});
});

function decode(args: string[]) {
  return runCli([`decode`, ...args, `--kubeconfig`, api.kubeconfigPath]);
}

test(`decode shows each registry with the password masked and its length`, async () => {
  const result = await decode([`regcred`, `-n`, `web`]);
  assert.equal(result.code, 0, result.stderr);
  assert.match(result.stdout, /^secret\/regcred \(namespace web\): type kubernetes\.io\/dockerconfigjson, key \.dockerconfigjson; the kubelet uses it$/m);
  assert.match(result.stdout, /^ghcr\.io {3,}ghcr\.io {3,}bot {3,}\*{8} \(14 chars\) {3,}bot@example\.com {3,}agrees {3,}no {3,}-$/m);
  assert.match(result.stdout, /^https:\/\/index\.docker\.io\/v1\/ {3,}index\.docker\.io {3,}hub {3,}\*{8} \(14 chars\) {3,}- {3,}auth-only/m);
  assert.doesNotMatch(result.stdout + result.stderr, new RegExp(PASSWORD));
});

test(`decode --reveal shows the passwords`, async () => {
  const result = await decode([`regcred`, `-n`, `web`, `--reveal`]);
  assert.equal(result.code, 0, result.stderr);
  assert.match(result.stdout, new RegExp(`^ghcr\\.io .* ${PASSWORD} `, `m`));
});

test(`decode -o json is masked unless --reveal`, async () => {
  const masked = JSON.parse((await decode([`regcred`, `-n`, `web`, `-o`, `json`])).stdout);
  assert.equal(masked.kind, `DecodedPullSecret`);
  assert.equal(masked.registries[0].password, `******** (14 chars)`);
  assert.equal(masked.registries[0].passwordLength, 14);
  const revealed = JSON.parse((await decode([`regcred`, `-n`, `web`, `-o`, `json`, `--reveal`])).stdout);
  assert.equal(revealed.registries[0].password, PASSWORD);
  assert.equal(revealed.registries[0].revealed, true);
});

test(`decode warns about identity-token-only entries, registry-1.docker.io keys and auth that disagrees`, async () => {
  const result = await decode([`tricky`, `-n`, `web`]);
  assert.equal(result.code, 0, result.stderr);
  assert.match(result.stderr, /^warning: .*"acr\.azurecr\.io" has an identitytoken.*anonymous/m);
  assert.match(result.stderr, /^warning: .*registry-1\.docker\.io.*never matches/m);
  assert.match(result.stderr, /^warning: .*"quay\.io".*"auth" disagrees/m);
  const json = JSON.parse((await decode([`tricky`, `-n`, `web`, `-o`, `json`])).stdout);
  const quay = json.registries.find((entry: {key: string}) => entry.key === `quay.io`);
  assert.equal(quay.auth, `disagrees`);
  assert.equal(quay.username, `bob`, `the kubelet's effective username comes from auth`);
});

test(`decode -o dockerconfig without --reveal is a usage error explaining why`, async () => {
  const result = await decode([`regcred`, `-n`, `web`, `-o`, `dockerconfig`]);
  assert.equal(result.code, 2);
  assert.match(result.stderr, /^error: -o dockerconfig prints passwords in clear text .*add --reveal/m);
  assert.equal(result.stdout, ``);
});

test(`decode -o dockerconfig --reveal prints a Docker config.json with the kubelet's effective credentials`, async () => {
  const result = await decode([`regcred`, `-n`, `web`, `-o`, `dockerconfig`, `--reveal`]);
  assert.equal(result.code, 0, result.stderr);
  const parsed = parseDockerConfigFile(result.stdout, `printed`);
  assert.equal(parsed.format, `config.json`);
  assert.deepEqual(parsed.entries.map(entry => [entry.key, entry.username, entry.password]), [[`ghcr.io`, `bot`, PASSWORD], [`https://index.docker.io/v1/`, `hub`, PASSWORD]]);
  assert.match(result.stdout, /^\t"auths": \{$/m, `tab-indented like the docker CLI writes it`);
});

test(`decode -f reads a YAML manifest with stringData, needs no cluster and warns that Opaque is ignored`, async () => {
  const file = path.join(tmp, `opaque.yaml`);
  fs.writeFileSync(file, `apiVersion: v1\nkind: Secret\nmetadata:\n  name: mirrored\ntype: Opaque\nstringData:\n  .dockerconfigjson: '{"auths":{"ghcr.io":{"auth":"${b64(`bot:pat`)}"}}}'\n`);
  const result = await runCli([`decode`, `-f`, file], {env: {KUBECONFIG: `/nonexistent`}});
  assert.equal(result.code, 0, result.stderr);
  assert.match(result.stdout, /the kubelet IGNORES it/);
  assert.match(result.stdout, /^ghcr\.io {3,}ghcr\.io {3,}bot /m);
  assert.match(result.stderr, /^warning: secret mirrored: type Opaque is not a pull-secret type/m);
});

test(`decode -f - reads a JSON manifest from stdin`, async () => {
  const manifest = JSON.stringify({apiVersion: `v1`, kind: `Secret`, metadata: {name: `fromstdin`}, type: `kubernetes.io/dockerconfigjson`, data: config({'quay.io': {auth: b64(`r:t`)}})});
  const result = await runCli([`decode`, `-f`, `-`, `-o`, `json`], {stdin: manifest});
  assert.equal(result.code, 0, result.stderr);
  assert.equal(JSON.parse(result.stdout).registries[0].key, `quay.io`);
});

test(`decode shows an ECR token's expiry and warns when it is near`, async () => {
  const expiration = Math.floor(Date.now() / 1000) + 2 * 3600;
  const password = b64(JSON.stringify({payload: `p`.repeat(40), datakey: `d`.repeat(20), version: `2`, type: `DATA_KEY`, expiration}));
  const file = path.join(tmp, `ecr.json`);
  fs.writeFileSync(file, JSON.stringify({apiVersion: `v1`, kind: `Secret`, metadata: {name: `ecr`}, type: `kubernetes.io/dockerconfigjson`, data: config({'123456789012.dkr.ecr.eu-west-1.amazonaws.com': {username: `AWS`, password}})}));
  const result = await runCli([`decode`, `-f`, file, `-o`, `json`]);
  assert.equal(result.code, 0, result.stderr);
  assert.equal(JSON.parse(result.stdout).registries[0].expiresAt, new Date(expiration * 1000).toISOString().replace(/\.\d{3}Z$/, `Z`));
  assert.match(result.stderr, /^warning: .*the token expires at .* \(in 1h59m\)$/m);
});

test(`decode of a missing secret fails with exit 1 naming it and the namespace`, async () => {
  const result = await decode([`nope`, `-n`, `web`]);
  assert.equal(result.code, 1);
  assert.equal(result.stderr, `error: secret "nope" not found in namespace "web"\n`);
});

test(`decode without NAME or -f is a usage error`, async () => {
  const result = await decode([]);
  assert.equal(result.code, 2);
  assert.match(result.stderr, /^error: give the secret's NAME, or -f FILE/m);
});
