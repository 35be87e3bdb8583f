// verify over many distinct images of one registry with one credential, judged by what the real docker-registry
// logged (tests/helpers/registry/requestLog.ts) and what its token server received: one manifest request per image,
// one token per repository scope, and connections bounded by --concurrency (kept alive, not one per request).
import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import {after, before, describe, test} from 'node:test';
import {runCli} from '../helpers/runCli.ts';
import {startRegistry} from '../helpers/registry/index.ts';
import type {LoggedRequest, TestRegistry} from '../helpers/registry/index.ts';

const REPOSITORIES = 4;
const TAGS = 10;
const CONCURRENCY = 4;

const tmp = fs.mkdtempSync(path.join(os.tmpdir(), `verify-scale-`));
after(() => fs.rmSync(tmp, {recursive: true, force: true}));

function dockerConfig(host: string, user: string, password: string): string {
  const file = path.join(tmp, `${host.replace(/\W/g, `-`)}.json`);
  fs.writeFileSync(file, JSON.stringify({auths: {[host]: {auth: Buffer.from(`${user}:${password}`).toString(`base64`)}}}));
  return file;
}

async function pushImages(registry: TestRegistry): Promise<string[]> {
  const images: string[] = [];
  for (let r = 0; r < REPOSITORIES; r++) {
    const tags = Array.from({length: TAGS}, (_, t) => `t${t}`);
    await registry.pushTags(`team/svc-${r}`, tags);
    images.push(...tags.map(tag => `${registry.host}/team/svc-${r}:${tag}`));
  }
  return images;
}

/** Runs verify over `images` and returns what the registry logged meanwhile. */
async function verifyAll(registry: TestRegistry, images: string[], config: string, extra: string[] = []): Promise<LoggedRequest[]> {
  const from = fs.statSync(registry.logFile).size;
  const result = await runCli([`verify`, ...images.flatMap(image => [`--image`, image]), `--docker-config`, config, `--concurrency`, String(CONCURRENCY), ...extra, `-o`, `json`]);
  const report = JSON.parse(result.stdout) as {summary: {total: number; byStatus: Record<string, number>; registryChecks: number}};
  assert.equal(result.code, 0, result.stderr);
  assert.deepEqual(report.summary.byStatus, {ok: images.length});
  assert.equal(report.summary.registryChecks, images.length);
  // Every check and the first challenge.
  return registry.settledRequestLog(from, requests => requests.length >= images.length + 1);
}

const manifestRequests = (requests: LoggedRequest[]) => requests.filter(request => request.uri.includes(`/manifests/`)).map(request => `${request.method} ${request.status}`);
const connections = (requests: LoggedRequest[]) => new Set(requests.map(request => request.client)).size;

describe(`${REPOSITORIES * TAGS} images of one token registry, one credential`, () => {
  let registry: TestRegistry;
  let images: string[];
  before(async () => {
    registry = await startRegistry({mode: `token`, users: {carol: `s3cret-token`}, grants: {carol: {'team/*': [`pull`]}}});
    images = await pushImages(registry);
  });
  after(() => registry?.stop());

  test(`one token per repository scope, one manifest HEAD per image after the first challenge, at most --concurrency connections`, async () => {
    const tokensBefore = registry.tokenRequests.length;
    const requests = await verifyAll(registry, images, dockerConfig(registry.host, `carol`, `s3cret-token`));
    const tokens = registry.tokenRequests.slice(tokensBefore);
    assert.deepEqual(tokens.map(token => `${token.method} ${token.user} ${token.scope.join(` `)}`).sort(), Array.from({length: REPOSITORIES}, (_, r) => `POST carol repository:team/svc-${r}:pull`));
    assert.deepEqual(manifestRequests(requests), [`HEAD 401`, ...images.map(() => `HEAD 200`)]);
    assert.ok(connections(requests) <= CONCURRENCY, `${connections(requests)} connections for ${requests.length} requests`);
  });
});

describe(`${REPOSITORIES * TAGS} images of one htpasswd registry over TLS, one credential`, () => {
  let registry: TestRegistry;
  let images: string[];
  before(async () => {
    registry = await startRegistry({mode: `tls`, users: {alice: `s3cret-tls`}});
    images = await pushImages(registry);
  });
  after(() => registry?.stop());

  test(`one manifest HEAD per image after the first challenge, over at most --concurrency TLS connections`, async () => {
    const requests = await verifyAll(registry, images, dockerConfig(registry.host, `alice`, `s3cret-tls`), [`--certificate-authority`, registry.caFile!]);
    assert.deepEqual(manifestRequests(requests), [`HEAD 401`, ...images.map(() => `HEAD 200`)]);
    assert.ok(connections(requests) <= CONCURRENCY, `${connections(requests)} connections for ${requests.length} requests`);
  });
});
