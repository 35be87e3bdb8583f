import {test} from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import {runCli} from '../helpers/runCli.ts';
import {b64} from '../helpers/encoding.ts';

/** A fake `docker-credential-test`: answers by server URL, as real helpers do (URL on stdin, JSON on stdout). */
const HELPER = `#!/bin/sh
read -r url || true
case "$url" in
  *nothing*) echo "credentials not found in native keychain"; exit 1 ;;
  *token*) printf '{"ServerURL":"%s","Username":"<token>","Secret":"identity-token-value"}' "$url" ;;
  *) printf '{"ServerURL":"%s","Username":"helper-user","Secret":"helper-pass for %s"}' "$url" "$url" ;;
esac
`;

type World = {dir: string; env: Record<string, string>};

async function world(t: {after: (fn: () => Promise<void>) => void}): Promise<World> {
  const dir = await fs.mkdtemp(path.join(os.tmpdir(), `pullsecret-config-`));
  t.after(() => fs.rm(dir, {recursive: true, force: true}));
  await fs.mkdir(path.join(dir, `bin`));
  await fs.writeFile(path.join(dir, `bin`, `docker-credential-test`), HELPER, {mode: 0o755});
  return {dir, env: {PATH: `${path.join(dir, `bin`)}:/usr/bin:/bin`}};
}


async function writeConfig(file: string, config: unknown): Promise<void> {
  await fs.mkdir(path.dirname(file), {recursive: true});
  await fs.writeFile(file, JSON.stringify(config));
}

/** Runs `add --dry-run=client -o json` and returns the decoded `auths` of the printed secret. */
async function addAuths(w: World, flags: string[], home = w.dir) {
  const result = await runCli([`add`, `regcred`, ...flags, `--dry-run=client`, `-o`, `json`], {env: w.env, home, cwd: w.dir});
  if (result.code !== 0)
    return {result, auths: null};
  const secret = JSON.parse(result.stdout);
  return {result, auths: JSON.parse(Buffer.from(secret.data[`.dockerconfigjson`], `base64`).toString(`utf8`)).auths};
}

test(`add --from-docker-config copies auth entries from ~/.docker/config.json in kubectl's shape`, async t => {
  const w = await world(t);
  await writeConfig(path.join(w.dir, `.docker`, `config.json`), {auths: {'ghcr.io': {auth: b64(`bot:ghp_secret`)}}});
  const {result, auths} = await addAuths(w, [`--from-docker-config`]);
  assert.equal(result.code, 0, result.stderr);
  assert.deepEqual(auths, {'ghcr.io': {username: `bot`, password: `ghp_secret`, auth: b64(`bot:ghp_secret`)}});
});

test(`add --from-docker-config reads $DOCKER_CONFIG/config.json when DOCKER_CONFIG is set`, async t => {
  const w = await world(t);
  await writeConfig(path.join(w.dir, `custom`, `config.json`), {auths: {'quay.io': {auth: b64(`robot:tok`)}}});
  w.env.DOCKER_CONFIG = path.join(w.dir, `custom`);
  const {result, auths} = await addAuths(w, [`--from-docker-config`]);
  assert.equal(result.code, 0, result.stderr);
  assert.deepEqual(Object.keys(auths), [`quay.io`]);
});

test(`add --from-docker-config resolves credsStore through the credential helper`, async t => {
  const w = await world(t);
  await writeConfig(path.join(w.dir, `.docker`, `config.json`), {auths: {'https://index.docker.io/v1/': {}}, credsStore: `test`});
  const {result, auths} = await addAuths(w, [`--from-docker-config`]);
  assert.equal(result.code, 0, result.stderr);
  assert.deepEqual(auths[`https://index.docker.io/v1/`], {username: `helper-user`, password: `helper-pass for https://index.docker.io/v1/`, auth: b64(`helper-user:helper-pass for https://index.docker.io/v1/`)});
});

test(`add --from-docker-config prefers credHelpers for their registry and keeps file entries for the others`, async t => {
  const w = await world(t);
  await writeConfig(path.join(w.dir, `cfg.json`), {auths: {'ghcr.io': {auth: b64(`bot:pat`)}}, credHelpers: {'quay.io': `test`}});
  const {result, auths} = await addAuths(w, [`--from-docker-config=cfg.json`]);
  assert.equal(result.code, 0, result.stderr);
  assert.equal(auths[`quay.io`].username, `helper-user`);
  assert.equal(auths[`ghcr.io`].username, `bot`);
});

test(`add --from-docker-config refuses a credsStore entry the helper has nothing for, naming the registry`, async t => {
  const w = await world(t);
  await writeConfig(path.join(w.dir, `.docker`, `config.json`), {auths: {'nothing.example.com': {}}, credsStore: `test`});
  const {result} = await addAuths(w, [`--from-docker-config`]);
  assert.equal(result.code, 2);
  assert.match(result.stderr, /^error: registry nothing\.example\.com has no usable username and password in .*config\.json or its credential helper docker-credential-test/m);
  assert.equal(result.stdout, ``);
});

test(`add --from-docker-config refuses an identity token for a registry other than ACR`, async t => {
  const w = await world(t);
  await writeConfig(path.join(w.dir, `.docker`, `config.json`), {auths: {'token.example.com': {}}, credsStore: `test`});
  const {result} = await addAuths(w, [`--from-docker-config`]);
  assert.equal(result.code, 2);
  assert.match(result.stderr, /^error: registry token\.example\.com .*only an identity token/m);
  assert.doesNotMatch(result.stderr, /identity-token-value/);
});

test(`add --from-docker-config turns an ACR identity token into the null-GUID username`, async t => {
  const w = await world(t);
  await writeConfig(path.join(w.dir, `.docker`, `config.json`), {auths: {'mytoken.azurecr.io': {auth: b64(`00000000-0000-0000-0000-000000000000:`), identitytoken: `aad-refresh-token`}}});
  const {result, auths} = await addAuths(w, [`--from-docker-config`]);
  assert.equal(result.code, 0, result.stderr);
  assert.equal(auths[`mytoken.azurecr.io`].username, `00000000-0000-0000-0000-000000000000`);
  assert.equal(auths[`mytoken.azurecr.io`].password, `aad-refresh-token`);
});

test(`add --registry picks registries by host, Docker Hub by docker.io`, async t => {
  const w = await world(t);
  await writeConfig(path.join(w.dir, `.docker`, `config.json`), {auths: {'https://index.docker.io/v1/': {auth: b64(`hub:pw`)}, 'ghcr.io': {auth: b64(`bot:pat`)}, 'quay.io': {auth: b64(`r:t`)}}});
  const {result, auths} = await addAuths(w, [`--from-docker-config`, `--registry`, `docker.io`, `--registry`, `quay.io`]);
  assert.equal(result.code, 0, result.stderr);
  assert.deepEqual(Object.keys(auths).sort(), [`https://index.docker.io/v1/`, `quay.io`]);
});

test(`add --registry names a registry the config does not have: error listing what it has`, async t => {
  const w = await world(t);
  await writeConfig(path.join(w.dir, `.docker`, `config.json`), {auths: {'ghcr.io': {auth: b64(`bot:pat`)}}});
  const {result} = await addAuths(w, [`--from-docker-config`, `--registry`, `quay.io`]);
  assert.equal(result.code, 2);
  assert.match(result.stderr, /^error: registry quay\.io is not in .*config\.json \(it has ghcr\.io\)$/m);
});

test(`add --from-podman-auth reads $REGISTRY_AUTH_FILE, else $XDG_RUNTIME_DIR/containers/auth.json`, async t => {
  const w = await world(t);
  await writeConfig(path.join(w.dir, `run`, `containers`, `auth.json`), {auths: {'docker.io': {auth: b64(`xdg:pw`)}}});
  await writeConfig(path.join(w.dir, `explicit.json`), {auths: {'quay.io/team': {auth: b64(`explicit:pw`)}}});
  w.env.XDG_RUNTIME_DIR = path.join(w.dir, `run`);
  const fromXdg = await addAuths(w, [`--from-podman-auth`]);
  assert.equal(fromXdg.result.code, 0, fromXdg.result.stderr);
  assert.equal(fromXdg.auths[`docker.io`].username, `xdg`);
  w.env.REGISTRY_AUTH_FILE = path.join(w.dir, `explicit.json`);
  const fromEnv = await addAuths(w, [`--from-podman-auth`]);
  assert.equal(fromEnv.result.code, 0, fromEnv.result.stderr);
  assert.deepEqual(Object.keys(fromEnv.auths), [`quay.io/team`]);
});

test(`add --from-docker-config with a missing file fails with exit 2 naming the file`, async t => {
  const w = await world(t);
  const {result} = await addAuths(w, [`--from-docker-config`]);
  assert.equal(result.code, 2);
  assert.match(result.stderr, /^error: cannot read --from-docker-config .*\.docker\/config\.json: no such file$/m);
});
