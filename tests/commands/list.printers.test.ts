// The shared printers (-o json|yaml|name, tables) against real kubectl printing the same objects.
import assert from 'node:assert/strict';
import {execFile} from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import {PassThrough} from 'node:stream';
import {promisify} from 'node:util';
import {after, before, test} from 'node:test';
import {printObjects} from '../../sources/adapters/output/printObjects.ts';
import type {ObjectFormat} from '../../sources/adapters/output/printObjects.ts';
import {formatTable} from '../../sources/core/table.ts';
import type {KubeObject} from '../../sources/core/ports.ts';
import {b64} from '../helpers/encoding.ts';
import {useApiEmulator} from '../helpers/apiEmulator/fixture.ts';

const execFileAsync = promisify(execFile);
const api = await useApiEmulator();
const tmp = fs.mkdtempSync(path.join(os.tmpdir(), `printers-`));

before(async () => {
  api.seed.namespace(`print`);
  api.seed.secret(`print`, {
    metadata: {
      name: `regcred`,
      labels: {'app.kubernetes.io/managed-by': `kubectl-pullsecret`, version: `1`, item10: `x`, item2: `y`},
      annotations: {note: `a: b`, yes: `yes`, multi: `line one\nline two`, html: `<a & b>`, empty: ``, unicode: `pä:ss ✓`, stamp: `2026-01-01T00:00:00Z`, dash: `- x`, lead: ` lead`},
    },
    type: `kubernetes.io/dockerconfigjson`,
    data: {'.dockerconfigjson': b64(`{"auths":{}}`)},
  });
  api.seed.secret(`print`, {metadata: {name: `a-much-longer-secret-name`}, type: `Opaque`, data: {'key.with.dots': b64(`v`)}});
});
after(async () => {
  fs.rmSync(tmp, {recursive: true, force: true});
});

async function kubectl(args: string[]): Promise<string> {
  const cacheDir = fs.mkdtempSync(path.join(tmp, `cache-`));
  return (await execFileAsync(`kubectl`, [`--kubeconfig`, api.kubeconfigPath, `--cache-dir`, cacheDir, `-n`, `print`, ...args])).stdout;
}

function printed(objects: KubeObject[], format: ObjectFormat): string {
  const stream = new PassThrough();
  const chunks: Buffer[] = [];
  stream.on(`data`, chunk => chunks.push(chunk));
  printObjects(objects, format, stream);
  return Buffer.concat(chunks).toString(`utf8`);
}

async function storedSecrets(): Promise<KubeObject[]> {
  return JSON.parse(await kubectl([`get`, `secrets`, `-o`, `json`])).items;
}

test(`-o json of one object is byte-identical to kubectl's`, async () => {
  const [first] = await storedSecrets();
  assert.equal(printed([first!], `json`), await kubectl([`get`, `secret`, first!.metadata.name, `-o`, `json`]));
});

test(`-o json of several objects is kubectl's List, byte for byte`, async () => {
  assert.equal(printed(await storedSecrets(), `json`), await kubectl([`get`, `secrets`, `-o`, `json`]));
});

test(`-o yaml sorts keys and quotes strings exactly as kubectl does`, async () => {
  const secrets = await storedSecrets();
  assert.equal(printed([secrets.find(s => s.metadata.name === `regcred`)!], `yaml`), await kubectl([`get`, `secret`, `regcred`, `-o`, `yaml`]));
  assert.equal(printed(secrets, `yaml`), await kubectl([`get`, `secrets`, `-o`, `yaml`]));
});

test(`-o name prints kind/name lines like kubectl`, async () => {
  assert.equal(printed(await storedSecrets(), `name`), await kubectl([`get`, `secrets`, `-o`, `name`]));
});

test(`tables align columns as kubectl's tabwriter does`, async () => {
  const secrets = await storedSecrets();
  const ours = formatTable([`name`, `type`, `namespace`], secrets.map(s => [s.metadata.name, String(s.type), s.metadata.namespace!]));
  assert.equal(ours, await kubectl([`get`, `secrets`, `-o`, `custom-columns=NAME:.metadata.name,TYPE:.type,NAMESPACE:.metadata.namespace`]));
});

test(`narrow columns are padded to kubectl's minimum cell width`, () => {
  assert.equal(formatTable([`a`, `b`], [[`x`, `y`]]), `A     B\nx     y\n`);
});
