// explain offline (--docker-config files) and against the API emulator with the real kube adapter.
import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import {after, before, describe, test} from 'node:test';
import {runCli} from '../helpers/runCli.ts';
import {startApiEmulator} from '../helpers/apiEmulator/index.ts';
import type {ApiEmulator} from '../helpers/apiEmulator/index.ts';
import {b64} from '../helpers/encoding.ts';

const tmp = fs.mkdtempSync(path.join(os.tmpdir(), `explain-`));
after(() => fs.rmSync(tmp, {recursive: true, force: true}));

const HUB_PASSWORD = `Hub-Secret-Pw-1`;
const QUAY_PASSWORD = `Quay-Secret-Pw-2`;

function file(name: string, content: unknown): string {
  const target = path.join(tmp, name);
  fs.writeFileSync(target, typeof content === `string` ? content : JSON.stringify(content));
  return target;
}

function assertNoSecrets(text: string) {
  for (const secret of [HUB_PASSWORD, QUAY_PASSWORD, b64(`alice:${HUB_PASSWORD}`)])
    assert.ok(!text.includes(secret), `output must not contain a secret`);
}

describe(`explain with --docker-config (no cluster)`, () => {
  const config = file(`config.json`, {auths: {'https://index.docker.io/v1/': {auth: b64(`alice:${HUB_PASSWORD}`)}, 'quay.io': {username: `bob`, password: QUAY_PASSWORD}}});

  test(`-o json prints the documented shape for a Docker Hub image, without passwords`, async () => {
    const result = await runCli([`explain`, `nginx`, `--docker-config`, config, `-o`, `json`]);
    assert.equal(result.code, 0, result.stderr);
    assert.deepEqual(JSON.parse(result.stdout), {images: [{
      image: `nginx`,
      lookup: `docker.io/library/nginx`,
      anonymous: false,
      credentials: [{source: config, key: `https://index.docker.io/v1/`, username: `alice`, match: `docker-hub-fallback`}],
      rejected: [{source: config, key: `quay.io`, reason: `host`}],
      warnings: [],
    }]});
    assertNoSecrets(result.stdout + result.stderr);
  });

  test(`the human output names the lookup, the credential in order and why, and the key not used`, async () => {
    const result = await runCli([`explain`, `quay.io/org/app:1`, `--docker-config`, config]);
    assert.equal(result.code, 0, result.stderr);
    assert.match(result.stdout, /^IMAGE quay\.io\/org\/app:1\n  lookup:   quay\.io\/org\/app/);
    assert.match(result.stdout, /1\. user "bob" from .*config\.json, key "quay\.io" \[host\]/);
    assert.match(result.stdout, /not used:\n    - .*config\.json, key "https:\/\/index\.docker\.io\/v1\/" \[label-count\]/);
    assert.equal(result.stderr, ``);
    assertNoSecrets(result.stdout);
  });

  test(`several files are pull secrets in order: the same key from two files is tried in file order`, async () => {
    const first = file(`first.json`, {auths: {'ghcr.io': {username: `one`, password: `x`}}});
    const second = file(`second.yaml`, `apiVersion: v1\nkind: Secret\nmetadata: {name: second}\ntype: kubernetes.io/dockerconfigjson\ndata:\n  .dockerconfigjson: ${b64(JSON.stringify({auths: {'https://ghcr.io': {username: `two`, password: `y`}}}))}\n`);
    const result = await runCli([`explain`, `ghcr.io/acme/api`, `--docker-config`, second, `--docker-config`, first, `-o`, `json`]);
    assert.equal(result.code, 0, result.stderr);
    assert.deepEqual(JSON.parse(result.stdout).images[0].credentials.map((c: {username: string}) => c.username), [`two`, `one`]);
  });

  test(`--docker-config - reads a Secret manifest from stdin, as piped from kubectl get secret -o yaml`, async () => {
    const manifest = `apiVersion: v1\nkind: Secret\nmetadata: {name: piped, namespace: web}\ntype: kubernetes.io/dockerconfigjson\ndata:\n  .dockerconfigjson: ${b64(JSON.stringify({auths: {'ghcr.io': {username: `piper`, password: QUAY_PASSWORD}}}))}\n`;
    const result = await runCli([`explain`, `ghcr.io/acme/api`, `--docker-config`, `-`, `-o`, `json`], {stdin: manifest});
    assert.equal(result.code, 0, result.stderr);
    assert.deepEqual(JSON.parse(result.stdout).images[0].credentials, [{source: `-`, key: `ghcr.io`, username: `piper`, match: `host`}]);
    assertNoSecrets(result.stdout);
  });

  test(`an image that no key matches is pulled anonymously, exit 0`, async () => {
    const result = await runCli([`explain`, `registry.example.com:5000/team/app`, `--docker-config`, config]);
    assert.equal(result.code, 0, result.stderr);
    assert.match(result.stdout, /no credential matches: pulled anonymously/);
  });

  test(`an invalid image reference is reported in the output with an error field, exit 1`, async () => {
    const result = await runCli([`explain`, `Nginx`, `quay.io/x/y`, `--docker-config`, config, `-o`, `json`]);
    assert.equal(result.code, 1);
    const doc = JSON.parse(result.stdout);
    assert.equal(doc.images[0].error, `couldn't parse image reference "Nginx": invalid reference format: repository name (library/Nginx) must be lowercase`);
    assert.equal(doc.images[1].credentials[0].username, `bob`);
    // …and, like kubectl's per-item errors, one error line on stderr.
    assert.equal(result.stderr, `error: Nginx: couldn't parse image reference "Nginx": invalid reference format: repository name (library/Nginx) must be lowercase\n`);
  });

  test(`a single invalid image gives one error line on stderr besides the report, exit 1`, async () => {
    const result = await runCli([`explain`, `Bad/Image`, `--docker-config`, config]);
    assert.equal(result.code, 1);
    assert.match(result.stdout, /error: {4}couldn't parse image reference "Bad\/Image"/);
    assert.equal(result.stderr, `error: Bad/Image: couldn't parse image reference "Bad/Image": invalid reference format: repository name (Image) must be lowercase\n`);
  });

  test(`a malformed config file is one error line naming the file, exit 1, nothing on stdout`, async () => {
    const bad = file(`bad.json`, `{"auths":{"quay.io":{"password":${JSON.stringify(QUAY_PASSWORD)},"username":5}}}`);
    const result = await runCli([`explain`, `nginx`, `--docker-config`, bad]);
    assert.equal(result.code, 1);
    assert.equal(result.stdout, ``);
    assert.equal(result.stderr, `error: ${bad}: entry "quay.io": field "username" must be a string, got number\n`);
  });

  test(`a missing config file is an input error naming the flag, exit 2`, async () => {
    const result = await runCli([`explain`, `nginx`, `--docker-config`, path.join(tmp, `nope.json`)]);
    assert.equal(result.code, 2);
    assert.match(result.stderr, /^error: cannot read --docker-config .*nope\.json: no such file\n$/);
  });

  test(`-o yaml prints the same document as YAML`, async () => {
    const result = await runCli([`explain`, `nginx`, `--docker-config`, config, `-o`, `yaml`]);
    assert.equal(result.code, 0, result.stderr);
    assert.match(result.stdout, /^images:\n- anonymous: false\n/);
    assertNoSecrets(result.stdout);
  });

  test(`an unknown output format is a usage error, exit 2`, async () => {
    const result = await runCli([`explain`, `nginx`, `--docker-config`, config, `-o`, `wide`]);
    assert.equal(result.code, 2);
    assert.match(result.stderr, /^error: unsupported output format "wide": use json or yaml/);
  });

  test(`--docker-config cannot be combined with --secret`, async () => {
    const result = await runCli([`explain`, `nginx`, `--docker-config`, config, `--secret`, `regcred`]);
    assert.equal(result.code, 2);
    assert.match(result.stderr, /--docker-config cannot be combined with --secret/);
  });

  test(`explain needs at least one image`, async () => {
    const result = await runCli([`explain`, `--docker-config`, config]);
    assert.equal(result.code, 2);
    assert.equal(result.stdout, ``);
  });
});

describe(`explain against a cluster`, () => {
  let api: ApiEmulator;
  before(async () => {
    api = await startApiEmulator();
    api.seed.namespace(`web`);
    const dockerconfig = (auths: unknown) => ({'.dockerconfigjson': b64(JSON.stringify({auths}))});
    api.seed.secret(`web`, {metadata: {name: `hub`}, type: `kubernetes.io/dockerconfigjson`, data: dockerconfig({'https://index.docker.io/v1/': {username: `alice`, password: HUB_PASSWORD}})});
    api.seed.secret(`web`, {metadata: {name: `quay`}, type: `kubernetes.io/dockerconfigjson`, data: dockerconfig({'quay.io': {username: `bob`, password: QUAY_PASSWORD}})});
    api.seed.secret(`web`, {metadata: {name: `opaque`}, type: `Opaque`, data: dockerconfig({'quay.io': {username: `eve`, password: `x`}})});
    api.seed.secret(`web`, {metadata: {name: `broken`}, type: `kubernetes.io/dockerconfigjson`, data: {'.dockerconfigjson': b64(`{"auths":{"quay.io":{"password":5}}}`)}});
    api.seed.serviceAccount(`web`, `builder`, {imagePullSecrets: [`quay`, `gone`, `hub`]});
  });
  after(async () => {
    await api.stop();
  });

  const run = (args: string[]) => runCli([`explain`, ...args, `--kubeconfig`, api.kubeconfigPath]);

  test(`--service-account uses the ServiceAccount's imagePullSecrets in order; a missing one is a warning`, async () => {
    const result = await run([`quay.io/org/app`, `nginx`, `-n`, `web`, `--service-account`, `builder`, `-o`, `json`]);
    assert.equal(result.code, 0, result.stderr);
    const doc = JSON.parse(result.stdout);
    assert.deepEqual(doc.images[0].credentials, [{source: `web/quay`, key: `quay.io`, username: `bob`, match: `host`}]);
    assert.deepEqual(doc.images[1].credentials, [{source: `web/hub`, key: `https://index.docker.io/v1/`, username: `alice`, match: `docker-hub-fallback`}]);
    assert.match(doc.images[0].warnings.join(), /pull secret web\/gone was not found/);
    assertNoSecrets(result.stdout + result.stderr);
  });

  test(`--secret uses the named secrets as the pod's own list; an Opaque one is ignored with a warning`, async () => {
    const result = await run([`quay.io/org/app`, `-n`, `web`, `--secret`, `opaque`, `--secret`, `quay`, `-o`, `json`]);
    assert.equal(result.code, 0, result.stderr);
    const [row] = JSON.parse(result.stdout).images;
    assert.deepEqual(row.credentials.map((c: {username: string}) => c.username), [`bob`]);
    assert.match(row.warnings.join(), /secret web\/opaque: type Opaque is not a pull-secret type/);
  });

  test(`with --secret the ServiceAccount's list is not used, as admission does not merge them, and stderr says so`, async () => {
    const result = await run([`nginx`, `-n`, `web`, `--secret`, `quay`, `--service-account`, `builder`, `-o`, `json`]);
    assert.equal(result.code, 0, result.stderr);
    assert.equal(JSON.parse(result.stdout).images[0].anonymous, true);
    assert.match(result.stderr, /the pod lists its own pull secrets, so admission does not copy serviceaccount web\/builder's imagePullSecrets/);
  });

  test(`the same secret listed twice is tried twice`, async () => {
    const result = await run([`quay.io/org/app`, `-n`, `web`, `--secret`, `quay`, `--secret`, `quay`, `-o`, `json`]);
    assert.equal(result.code, 0, result.stderr);
    assert.deepEqual(JSON.parse(result.stdout).images[0].credentials.map((c: {source: string}) => c.source), [`web/quay`, `web/quay`]);
  });

  test(`a broken secret makes every image an error, exit 1`, async () => {
    const result = await run([`quay.io/org/app`, `-n`, `web`, `--secret`, `quay`, `--secret`, `broken`]);
    assert.equal(result.code, 1);
    assert.match(result.stdout, /error: +a pull secret is invalid, so the kubelet fails the pull of every image of the pod \(no anonymous attempt\): secret web\/broken: \.dockerconfigjson: entry "quay\.io": field "password" must be a string, got number/);
  });

  test(`without flags the namespace's default ServiceAccount is used`, async () => {
    const result = await run([`nginx`, `-n`, `web`, `-o`, `json`]);
    assert.equal(result.code, 0, result.stderr);
    assert.equal(JSON.parse(result.stdout).images[0].anonymous, true);
    assert.match(result.stderr, /serviceaccount web\/default lists no imagePullSecrets/);
  });

  test(`a missing ServiceAccount is one error line, exit 1`, async () => {
    const result = await run([`nginx`, `-n`, `web`, `--service-account`, `ghost`]);
    assert.equal(result.code, 1);
    assert.equal(result.stdout, ``);
    assert.match(result.stderr, /^error: serviceaccount web\/ghost not found: /);
  });

  test(`an unreachable cluster exits 3`, async () => {
    const kubeconfig = path.join(tmp, `dead.kubeconfig`);
    fs.writeFileSync(kubeconfig, `apiVersion: v1\nkind: Config\nclusters:\n- name: c\n  cluster: {server: "https://127.0.0.1:1"}\ncontexts:\n- name: c\n  context: {cluster: c, user: u}\nusers:\n- name: u\n  user: {token: t}\ncurrent-context: c\n`);
    const result = await runCli([`explain`, `nginx`, `--kubeconfig`, kubeconfig, `--request-timeout`, `2s`]);
    assert.equal(result.code, 3, result.stderr);
    assert.match(result.stderr, /^error: /);
  });
});
