// Secret hygiene (issue 7 §5): with -v and a known password, add/decode/list never print the password,
// its base64 or the `auth` value, except in output the user asked for (--reveal, -o yaml|json of the secret).
import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import {after, before, test} from 'node:test';
import {runCli} from '../helpers/runCli.ts';
import type {CliResult} from '../helpers/runCli.ts';
import {b64} from '../helpers/encoding.ts';
import {useApiEmulator} from '../helpers/apiEmulator/fixture.ts';

const USER = `hygiene-bot`;
const PASSWORD = `Hyg1ene-Secret-Value!`;
const FORBIDDEN = [PASSWORD, b64(PASSWORD), b64(`${USER}:${PASSWORD}`)];
const api = await useApiEmulator();
const tmp = fs.mkdtempSync(path.join(os.tmpdir(), `hygiene-`));

before(async () => {
  api.seed.namespace(`clean`);
  api.seed.namespace(`typed`);
  api.seed.secret(`typed`, {metadata: {name: `regcred`}, type: `Opaque`, data: {x: b64(`y`)}});
  api.seed.serviceAccount(`clean`, `default`, {imagePullSecrets: [`regcred`]});
});
after(async () => {
  fs.rmSync(tmp, {recursive: true, force: true});
});

function assertClean(what: string, result: CliResult, streams: Array<`stdout` | `stderr`> = [`stdout`, `stderr`]): void {
  for (const stream of streams) {
    for (const secret of FORBIDDEN)
      assert.equal(result[stream].includes(secret), false, `${what}: ${stream} contains secret material`);
  }
}

const cluster = () => [`--kubeconfig`, api.kubeconfigPath, `-v`];

test(`add -v prints no secret material while creating, updating and failing`, async () => {
  const flags = [`--docker-server`, `ghcr.io`, `--docker-username`, USER, `--docker-password-stdin`];
  assertClean(`create`, await runCli([`add`, `regcred`, `-n`, `clean`, ...flags, ...cluster()], {stdin: PASSWORD}));
  assertClean(`unchanged`, await runCli([`add`, `regcred`, `-n`, `clean`, ...flags, ...cluster()], {stdin: PASSWORD}));
  assertClean(`configured`, await runCli([`add`, `regcred`, `-n`, `clean`, `--docker-server`, `quay.io`, `--docker-username`, USER, `--docker-password-stdin`, ...cluster()], {stdin: PASSWORD}));
  const refused = await runCli([`add`, `regcred`, `-n`, `typed`, ...flags, ...cluster()], {stdin: PASSWORD});
  assert.equal(refused.code, 1);
  assertClean(`type conflict`, refused);
  assertClean(`server dry run`, await runCli([`add`, `other`, `-n`, `clean`, ...flags, `--dry-run=server`, ...cluster()], {stdin: PASSWORD}));
});

test(`add --docker-password warns without echoing the password`, async () => {
  const result = await runCli([`add`, `regcred`, `--docker-username`, USER, `--docker-password`, PASSWORD, `--dry-run=client`, `-v`]);
  assert.equal(result.code, 0, result.stderr);
  assertClean(`argv password`, result);
});

test(`add --from-docker-config -v prints no secret material, also when refusing an entry`, async () => {
  const file = path.join(tmp, `config.json`);
  fs.writeFileSync(file, JSON.stringify({auths: {'ghcr.io': {auth: b64(`${USER}:${PASSWORD}`)}, 'quay.io': {auth: b64(`${USER}:`)}}}));
  assertClean(`from config`, await runCli([`add`, `regcred`, `--from-docker-config=${file}`, `--registry`, `ghcr.io`, `--dry-run=client`, `-v`]));
  const refused = await runCli([`add`, `regcred`, `--from-docker-config=${file}`, `--dry-run=client`, `-v`]);
  assert.equal(refused.code, 2);
  assertClean(`refused entry`, refused);
});

test(`add -o json|yaml of the secret is the one place the encoded credentials may appear`, async () => {
  const result = await runCli([`add`, `regcred`, `--docker-username`, USER, `--docker-password-stdin`, `--dry-run=client`, `-o`, `yaml`, `-v`], {stdin: PASSWORD});
  assert.equal(result.code, 0, result.stderr);
  assertClean(`-o yaml stderr`, result, [`stderr`]);
  assert.match(Buffer.from(/\.dockerconfigjson: (\S+)/.exec(result.stdout)![1]!, `base64`).toString(`utf8`), new RegExp(PASSWORD));
});

test(`decode -v masks everything unless --reveal`, async () => {
  for (const format of [[], [`-o`, `json`], [`-o`, `yaml`]])
    assertClean(`decode ${format.join(` `)}`, await runCli([`decode`, `regcred`, `-n`, `clean`, ...format, ...cluster()]));
  const revealed = await runCli([`decode`, `regcred`, `-n`, `clean`, `--reveal`, ...cluster()]);
  assert.match(revealed.stdout, new RegExp(PASSWORD));
  assertClean(`decode --reveal stderr`, revealed, [`stderr`]);
});

test(`list -v prints no secret material in any format`, async () => {
  for (const format of [[], [`-o`, `wide`], [`-o`, `json`], [`-o`, `yaml`]]) {
    const result = await runCli([`list`, `-A`, ...format, ...cluster()]);
    assert.equal(result.code, 0, result.stderr);
    assertClean(`list ${format.join(` `)}`, result);
  }
});
