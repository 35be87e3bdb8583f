// verify --image against real docker-registry instances in all three auth modes (no cluster needed),
// plus tiny local HTTP servers for the answers docker-registry never gives (429, 503).
import assert from 'node:assert/strict';
import fs from 'node:fs';
import http from 'node:http';
import type {AddressInfo} from 'node:net';
import os from 'node:os';
import path from 'node:path';
import {after, before, describe, test} from 'node:test';
import {runCli} from '../helpers/runCli.ts';
import {startRegistry} from '../helpers/registry/index.ts';
import type {TestRegistry} from '../helpers/registry/index.ts';

type Report = {summary: {total: number; pullable: number; registryChecks: number; byStatus: Record<string, number>}; results: Array<{status: string; image: string; credential: {source: string; key: string; username: string} | null; detail: string; warnings: string[]}>};

const tmp = fs.mkdtempSync(path.join(os.tmpdir(), `verify-images-`));
after(() => fs.rmSync(tmp, {recursive: true, force: true}));

/** Writes a Docker config.json with one `auth` entry per registry key. */
function dockerConfig(name: string, auths: Record<string, [string, string]>): string {
  const file = path.join(tmp, name);
  const body = {auths: Object.fromEntries(Object.entries(auths).map(([key, [user, pass]]) => [key, {auth: Buffer.from(`${user}:${pass}`).toString(`base64`)}]))};
  fs.writeFileSync(file, JSON.stringify(body));
  return file;
}

async function verify(args: string[]): Promise<{code: number; report: Report; stderr: string; stdout: string}> {
  const result = await runCli([`verify`, ...args, `-o`, `json`]);
  assert.equal(result.stderr.includes(`Error:`), false, result.stderr);
  return {code: result.code, report: JSON.parse(result.stdout) as Report, stderr: result.stderr, stdout: result.stdout};
}

describe(`basic mode (htpasswd over HTTP)`, () => {
  let registry: TestRegistry;
  before(async () => {
    registry = await startRegistry({mode: `basic`, users: {alice: `s3cret-basic`}});
    await registry.push(`team/app`, `v1`);
  });
  after(() => registry?.stop());

  test(`good credentials from a docker config file make the image ok, exit 0, without the password in the output`, async () => {
    const config = dockerConfig(`good.json`, {[registry.host]: [`alice`, `s3cret-basic`]});
    const {code, report, stdout} = await verify([`--image`, `${registry.host}/team/app:v1`, `--docker-config`, config]);
    assert.equal(code, 0);
    assert.equal(report.results[0]!.status, `ok`);
    assert.deepEqual(report.results[0]!.credential, {source: config, key: registry.host, username: `alice`});
    assert.doesNotMatch(stdout, /s3cret-basic/);
  });

  test(`a wrong password is unauthorized and exits 1`, async () => {
    const config = dockerConfig(`bad.json`, {[registry.host]: [`alice`, `wrong-pass`]});
    const {code, report, stdout} = await verify([`--image`, `${registry.host}/team/app:v1`, `--docker-config`, config]);
    assert.equal(code, 1);
    assert.equal(report.results[0]!.status, `unauthorized`);
    assert.doesNotMatch(stdout, /wrong-pass/);
  });

  test(`without any credential a private image is no-credentials`, async () => {
    const {code, report} = await verify([`--image`, `${registry.host}/team/app:v1`]);
    assert.equal(code, 1);
    assert.equal(report.results[0]!.status, `no-credentials`);
  });

  test(`a key for another port does not match, so the pull is anonymous and refused`, async () => {
    const config = dockerConfig(`port.json`, {[`127.0.0.1:1`]: [`alice`, `s3cret-basic`]});
    const {report} = await verify([`--image`, `${registry.host}/team/app:v1`, `--docker-config`, config]);
    assert.equal(report.results[0]!.status, `no-credentials`);
  });

  test(`a missing tag with good credentials is not-found`, async () => {
    const config = dockerConfig(`good2.json`, {[registry.host]: [`alice`, `s3cret-basic`]});
    const {code, report} = await verify([`--image`, `${registry.host}/team/app:nope`, `--docker-config`, config]);
    assert.equal(code, 1);
    assert.equal(report.results[0]!.status, `not-found`);
  });

  test(`the first config's rejected credential is followed by the second config's working one`, async () => {
    const bad = dockerConfig(`first-bad.json`, {[registry.host]: [`alice`, `nope`]});
    const good = dockerConfig(`second-good.json`, {[registry.host]: [`alice`, `s3cret-basic`]});
    const {code, report} = await verify([`--image`, `${registry.host}/team/app:v1`, `--docker-config`, bad, `--docker-config`, good]);
    assert.equal(code, 0);
    assert.equal(report.results[0]!.credential?.source, good);
    assert.match(report.results[0]!.detail, /after 1 rejected credential/);
  });

  test(`an invalid image name is invalid-image and no request is sent`, async () => {
    const {code, report} = await verify([`--image`, `${registry.host}/Team/App:v1`]);
    assert.equal(code, 1);
    assert.equal(report.results[0]!.status, `invalid-image`);
    assert.equal(report.summary.registryChecks, 0);
  });

  test(`the table groups rows and ends with one summary line`, async () => {
    const config = dockerConfig(`table.json`, {[registry.host]: [`alice`, `s3cret-basic`]});
    const result = await runCli([`verify`, `--image`, `${registry.host}/team/app:v1`, `--image`, `${registry.host}/team/app:nope`, `--docker-config`, config]);
    assert.equal(result.code, 1);
    const lines = result.stdout.trimEnd().split(`\n`);
    assert.match(lines[0]!, /^NAMESPACE\s+WORKLOAD\s+CONTAINER\s+IMAGE\s+STATUS\s+CREDENTIAL\s+DETAIL$/);
    assert.match(lines.at(-1)!, /^2 images checked: 1 pullable, 1 failing \(1 ok, 1 not-found\)/);
    assert.doesNotMatch(result.stdout, /\u001b\[/);
  });
});

describe(`tls mode (htpasswd over HTTPS with a test CA)`, () => {
  let registry: TestRegistry;
  let config: string;
  before(async () => {
    registry = await startRegistry({mode: `tls`, users: {bob: `s3cret-tls`}});
    await registry.push(`team/app`, `v1`);
    config = dockerConfig(`tls.json`, {[registry.host]: [`bob`, `s3cret-tls`]});
  });
  after(() => registry?.stop());

  test(`with --certificate-authority the image is ok`, async () => {
    const {code, report} = await verify([`--image`, `${registry.host}/team/app:v1`, `--docker-config`, config, `--certificate-authority`, registry.caFile!]);
    assert.equal(code, 0);
    assert.equal(report.results[0]!.status, `ok`);
  });

  test(`without the CA the registry's certificate is a tls-error`, async () => {
    const {code, report} = await verify([`--image`, `${registry.host}/team/app:v1`, `--docker-config`, config]);
    assert.equal(code, 1);
    assert.equal(report.results[0]!.status, `tls-error`);
  });
});

describe(`token mode (bearer tokens from a token server)`, () => {
  let registry: TestRegistry;
  before(async () => {
    registry = await startRegistry({
      mode: `token`,
      users: {carol: `s3cret-token`, dave: `s3cret-dave`},
      grants: {carol: {'team/*': [`pull`]}},
      anonymousPull: [`public/*`],
    });
    await registry.push(`team/app`, `v1`);
    await registry.push(`public/tool`, `v1`);
  });
  after(() => registry?.stop());

  test(`a granted repository is ok, and two images of one repository cost one token request`, async () => {
    const config = dockerConfig(`token.json`, {[registry.host]: [`carol`, `s3cret-token`]});
    await registry.push(`team/app`, `v2`);
    const before = registry.tokenRequests.length;
    const {code, report} = await verify([`--image`, `${registry.host}/team/app:v1`, `--image`, `${registry.host}/team/app:v2`, `--image`, `${registry.host}/team/app:v1`, `--docker-config`, config]);
    assert.equal(code, 0);
    assert.deepEqual(report.results.map(result => result.status), [`ok`, `ok`, `ok`]);
    assert.equal(report.summary.registryChecks, 2);
    assert.equal(registry.tokenRequests.length - before, 1);
  });

  test(`a public repository without credentials is ok-anonymous`, async () => {
    const {code, report} = await verify([`--image`, `${registry.host}/public/tool:v1`]);
    assert.equal(code, 0);
    assert.equal(report.results[0]!.status, `ok-anonymous`);
    assert.equal(report.results[0]!.credential, null);
  });

  test(`a rejected credential fails even a public image: there is no anonymous retry`, async () => {
    const config = dockerConfig(`token-bad.json`, {[registry.host]: [`carol`, `not-it`]});
    const {code, report} = await verify([`--image`, `${registry.host}/public/tool:v1`, `--docker-config`, config]);
    assert.equal(code, 1);
    assert.equal(report.results[0]!.status, `unauthorized`);
  });

  test(`a valid user without a grant on the repository is refused`, async () => {
    const config = dockerConfig(`token-dave.json`, {[registry.host]: [`dave`, `s3cret-dave`]});
    const {code, report} = await verify([`--image`, `${registry.host}/team/app:v1`, `--docker-config`, config]);
    assert.equal(code, 1);
    assert.ok([`unauthorized`, `denied`].includes(report.results[0]!.status), report.results[0]!.status);
  });

  test(`--all-credentials on a public image warns that the credential is not needed`, async () => {
    const config = dockerConfig(`token-public.json`, {[registry.host]: [`carol`, `s3cret-token`]});
    const {code, report} = await verify([`--image`, `${registry.host}/public/tool:v1`, `--docker-config`, config, `--all-credentials`]);
    assert.equal(code, 0);
    assert.equal(report.results[0]!.status, `ok`);
    assert.ok(report.results[0]!.warnings.some(warning => /public: the matching credentials are not needed/.test(warning)));
  });

  test(`--fail-on warning turns a warning into exit 1`, async () => {
    const config = dockerConfig(`token-public2.json`, {[registry.host]: [`carol`, `s3cret-token`]});
    const {code} = await verify([`--image`, `${registry.host}/public/tool:v1`, `--docker-config`, config, `--all-credentials`, `--fail-on`, `warning`]);
    assert.equal(code, 1);
  });
});

describe(`registries that cannot serve the pull`, () => {
  const servers: http.Server[] = [];
  async function serve(status: number, headers: Record<string, string> = {}): Promise<string> {
    const server = http.createServer((_request, response) => {
      response.writeHead(status, {'content-type': `application/json`, ...headers});
      response.end(JSON.stringify({errors: [{code: status === 429 ? `TOOMANYREQUESTS` : `UNAVAILABLE`, message: `test`}]}));
    });
    servers.push(server);
    await new Promise<void>(resolve => server.listen(0, `127.0.0.1`, resolve));
    return `127.0.0.1:${(server.address() as AddressInfo).port}`;
  }
  after(async () => {
    for (const server of servers)
      await new Promise(resolve => server.close(resolve));
  });

  test(`a 429 answer is rate-limited`, async () => {
    const host = await serve(429, {'retry-after': `30`});
    const {code, report} = await verify([`--image`, `${host}/team/app:v1`]);
    assert.equal(code, 1);
    assert.equal(report.results[0]!.status, `rate-limited`);
  });

  test(`a 503 answer is unavailable`, async () => {
    const host = await serve(503);
    const {report} = await verify([`--image`, `${host}/team/app:v1`]);
    assert.equal(report.results[0]!.status, `unavailable`);
  });

  test(`a closed port is unreachable`, async () => {
    const server = http.createServer();
    await new Promise<void>(resolve => server.listen(0, `127.0.0.1`, resolve));
    const port = (server.address() as AddressInfo).port;
    await new Promise(resolve => server.close(resolve));
    const {report} = await verify([`--image`, `127.0.0.1:${port}/team/app:v1`, `--timeout`, `5s`]);
    assert.equal(report.results[0]!.status, `unreachable`);
  });

  test(`an ECR token past its expiry is expired without any request`, async () => {
    const password = Buffer.from(JSON.stringify({payload: `x`, datakey: `y`, version: `2`, type: `DATA_KEY`, expiration: 1_600_000_000})).toString(`base64`);
    const host = `123456789012.dkr.ecr.us-east-1.amazonaws.com`;
    const config = dockerConfig(`ecr.json`, {[host]: [`AWS`, password]});
    const {code, report, stdout} = await verify([`--image`, `${host}/app:v1`, `--docker-config`, config]);
    assert.equal(code, 1);
    assert.equal(report.results[0]!.status, `expired`);
    assert.equal(report.summary.registryChecks, 0);
    assert.doesNotMatch(stdout, new RegExp(password.slice(0, 20)));
  });
});

describe(`usage errors`, () => {
  test(`an unknown output format exits 2 with one error line`, async () => {
    const result = await runCli([`verify`, `--image`, `nginx`, `-o`, `xml`]);
    assert.equal(result.code, 2);
    assert.match(result.stderr, /^error: unsupported output format "xml"/);
  });

  test(`--secret without --image exits 2`, async () => {
    const result = await runCli([`verify`, `--secret`, `regcred`]);
    assert.equal(result.code, 2);
  });

  test(`a missing --docker-config file exits 2 naming it`, async () => {
    const result = await runCli([`verify`, `--image`, `nginx`, `--docker-config`, path.join(tmp, `absent.json`)]);
    assert.equal(result.code, 2);
    assert.match(result.stderr, /absent\.json/);
  });
});

describe(`identity-token-only entries`, () => {
  let registry: TestRegistry;
  before(async () => {
    registry = await startRegistry({mode: `token`, users: {carol: `pw-carol`}, grants: {carol: {'team/*': [`pull`]}}, anonymousPull: [`public/*`]});
    await registry.push(`team/app`, `v1`);
    await registry.push(`public/tool`, `v1`);
  });
  after(() => registry?.stop());

  test(`an entry holding only an identitytoken is pulled anonymously: private images fail, public ones pass, with a warning`, async () => {
    const file = path.join(tmp, `identity.json`);
    fs.writeFileSync(file, JSON.stringify({auths: {[registry.host]: {identitytoken: `refresh-token-value`}}}));
    const {report, stdout} = await verify([`--image`, `${registry.host}/team/app:v1`, `--image`, `${registry.host}/public/tool:v1`, `--docker-config`, file]);
    const byImage = (name: string) => report.results.find(result => result.image === `${registry.host}/${name}`)!;
    assert.ok([`unauthorized`, `denied`].includes(byImage(`team/app:v1`).status), byImage(`team/app:v1`).status);
    assert.equal(byImage(`public/tool:v1`).status, `ok`);
    assert.ok(byImage(`team/app:v1`).warnings.some(warning => /identity ?token/i.test(warning)));
    assert.doesNotMatch(stdout, /refresh-token-value/);
  });
});
