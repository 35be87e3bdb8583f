// list --context a --context b: two API emulators are two real clusters, named in one kubeconfig.
import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import {after, before, test} from 'node:test';
import {runCli} from '../helpers/runCli.ts';
import {writeEastWestKubeconfig} from '../helpers/clusters.ts';
import {startApiEmulator} from '../helpers/apiEmulator/index.ts';
import type {ApiEmulator} from '../helpers/apiEmulator/index.ts';
import {b64} from '../helpers/encoding.ts';

let east: ApiEmulator;
let west: ApiEmulator;
let kubeconfig: string;
const tmp = fs.mkdtempSync(path.join(os.tmpdir(), `list-contexts-`));
const pull = (name: string, registry: string) => ({metadata: {name}, type: `kubernetes.io/dockerconfigjson`, data: {'.dockerconfigjson': b64(JSON.stringify({auths: {[registry]: {auth: b64(`bot:pat`)}}}))}});


before(async () => {
  [east, west] = await Promise.all([startApiEmulator(), startApiEmulator()]);
  east.seed.secret(`audit`, pull(`regcred`, `ghcr.io`));
  east.seed.serviceAccount(`audit`, `default`, {imagePullSecrets: [`regcred`]});
  east.seed.serviceAccount(`audit`, `builder`, {imagePullSecrets: [`missing`]});
  east.seed.secret(`shop`, pull(`shopcred`, `ghcr.io`));
  west.seed.secret(`audit`, pull(`regcred`, `quay.io`));
  west.seed.secret(`audit`, pull(`west-only`, `quay.io`));
  east.seed.namespace(`empty`);
  west.seed.namespace(`empty`);
  const noSecrets = east.addUser(`nosecrets`, [{verbs: [`get`, `list`], resources: [`serviceaccounts`, `pods`, `namespaces`]}]);
  kubeconfig = path.join(tmp, `kubeconfig`);
  await writeEastWestKubeconfig(kubeconfig, east, west, {
    users: [{name: `east-nosecrets`, user: {token: noSecrets}}],
    contexts: [{name: `nosecrets`, context: {cluster: `east`, user: `east-nosecrets`}}],
  });
});
after(async () => {
  await Promise.all([east?.stop(), west?.stop()]);
  fs.rmSync(tmp, {recursive: true, force: true});
});

function list(args: string[]) {
  return runCli([`list`, ...args, `--kubeconfig`, kubeconfig]);
}

type Entry = {context?: string; namespace: string; name?: string; secret?: string; registries?: string[]};
type Document = {secrets: Entry[]; dangling: Entry[]; notes: string[]; errors?: Array<{context: string; error: string}>};

test(`list with two contexts puts a CONTEXT column first and labels each row with its cluster`, async () => {
  const result = await list([`--context`, `east`, `--context`, `west`, `-n`, `audit`]);
  assert.equal(result.code, 0, result.stderr);
  const lines = result.stdout.split(`\n`);
  assert.match(lines[0]!, /^CONTEXT {3,}NAME {3,}TYPE {3,}REGISTRIES {3,}STATUS {3,}USED BY {3,}AGE$/);
  assert.match(result.stdout, /^east {3,}regcred {3,}dockerconfigjson {3,}ghcr\.io {3,}ok /m);
  assert.match(result.stdout, /^west {3,}regcred {3,}dockerconfigjson {3,}quay\.io {3,}orphan /m);
  assert.match(result.stdout, /^west {3,}west-only /m);
  assert.match(result.stdout, /^CONTEXT {3,}NAMESPACE {3,}MISSING SECRET {3,}REFERENCED BY$/m);
  assert.match(result.stdout, /^east {3,}audit {3,}missing {3,}sa\/builder$/m);
});

test(`list with two contexts keeps the clusters in the order given`, async () => {
  const result = await list([`--context`, `west`, `--context`, `east`, `-n`, `audit`]);
  assert.equal(result.code, 0, result.stderr);
  const [secrets, dangling] = result.stdout.split(`\n\n`).map(table => table.trim().split(`\n`).slice(1).map(line => line.split(/ +/)[0]));
  assert.deepEqual(secrets, [`west`, `west`, `east`]);
  assert.deepEqual(dangling, [`east`]);
});

test(`list -A with two contexts shows CONTEXT, then NAMESPACE`, async () => {
  const result = await list([`--context`, `east`, `--context`, `west`, `-A`, `-o`, `wide`]);
  assert.equal(result.code, 0, result.stderr);
  assert.match(result.stdout.split(`\n`)[0]!, /^CONTEXT {3,}NAMESPACE {3,}NAME {3,}.* {3,}EXPIRES {3,}SYNC POLICY$/);
  assert.match(result.stdout, /^east {3,}shop {3,}shopcred /m);
  assert.doesNotMatch(result.stdout, /^west {3,}shop /m);
});

test(`list -o json with two contexts gives every secret and dangling reference a context field`, async () => {
  const result = await list([`--context`, `east`, `--context`, `west`, `-n`, `audit`, `-o`, `json`]);
  assert.equal(result.code, 0, result.stderr);
  const document: Document = JSON.parse(result.stdout);
  assert.deepEqual(document.secrets.map(secret => `${secret.context}/${secret.namespace}/${secret.name}:${secret.registries!.join(`,`)}`), [`east/audit/regcred:ghcr.io`, `west/audit/regcred:quay.io`, `west/audit/west-only:quay.io`]);
  assert.deepEqual(document.dangling.map(ref => `${ref.context}/${ref.namespace}/${ref.secret}`), [`east/audit/missing`]);
  assert.deepEqual(document.errors, []);
  assert.equal(Object.keys(document.secrets[0]!)[0], `context`);
});

test(`list -o yaml with two contexts labels entries too`, async () => {
  const result = await list([`--context`, `east`, `--context`, `west`, `-n`, `audit`, `-o`, `yaml`]);
  assert.equal(result.code, 0, result.stderr);
  assert.match(result.stdout, /^- context: east\n {2}copyOf: null\n/m);
  assert.match(result.stdout, /^- context: west\n/m);
});

test(`list with one context prints no CONTEXT column and no context field`, async () => {
  const table = await list([`--context`, `west`, `-n`, `audit`]);
  assert.equal(table.code, 0, table.stderr);
  assert.match(table.stdout.split(`\n`)[0]!, /^NAME {3,}TYPE/);
  const json = await list([`--context`, `west`, `-n`, `audit`, `-o`, `json`]);
  const document: Document = JSON.parse(json.stdout);
  assert.equal(document.secrets.some(secret => `context` in secret), false);
  assert.equal(`errors` in document, false);
});

test(`list with a context named twice audits that cluster once, as with one context`, async () => {
  // One clock for both runs, so that the AGE column cannot differ across a second boundary.
  const now = new Date();
  const twice = await runCli([`list`, `--context`, `west`, `--context`, `west`, `-n`, `audit`, `--kubeconfig`, kubeconfig], {context: {now: () => now}});
  const once = await runCli([`list`, `--context`, `west`, `-n`, `audit`, `--kubeconfig`, kubeconfig], {context: {now: () => now}});
  assert.deepEqual(twice, once);
});

test(`list reports an unreachable context on its own error line, prints the others and exits 1`, async () => {
  const result = await list([`--context`, `east`, `--context`, `down`, `--context`, `west`, `-n`, `audit`]);
  assert.equal(result.code, 1);
  assert.match(result.stderr, /^error: context down: cannot reach the cluster at https:\/\/127\.0\.0\.1:\d+ .*$/m);
  assert.equal(result.stderr.split(`\n`).filter(line => line.startsWith(`error:`)).length, 1, result.stderr);
  assert.match(result.stdout, /^east {3,}regcred /m);
  assert.match(result.stdout, /^west {3,}regcred /m);
  assert.doesNotMatch(result.stdout, /^down /m);
});

test(`list -o json lists the contexts that failed under errors and still exits 1`, async () => {
  const result = await list([`--context`, `down`, `--context`, `west`, `-n`, `audit`, `-o`, `json`]);
  assert.equal(result.code, 1);
  const document: Document = JSON.parse(result.stdout);
  assert.deepEqual(document.errors!.map(error => error.context), [`down`]);
  assert.match(document.errors![0]!.error, /cannot reach the cluster/);
  assert.deepEqual(document.secrets.map(secret => secret.context), [`west`, `west`]);
  assert.match(result.stderr, /^error: context down: /m);
});

test(`list names the context where secrets may not be listed, and exits 1`, async () => {
  const result = await list([`--context`, `nosecrets`, `--context`, `west`, `-n`, `audit`]);
  assert.equal(result.code, 1);
  assert.match(result.stderr, /^error: context nosecrets: you may not list secrets in namespace audit \(forbidden\)/m);
  assert.match(result.stdout, /^west {3,}regcred /m);
});

test(`list names a namespace missing in one cluster on an error line with its context, and exits 1`, async () => {
  const result = await list([`--context`, `east`, `--context`, `west`, `--namespaces`, `audit,shop`]);
  assert.equal(result.code, 1, result.stderr);
  assert.equal(result.stderr, `error: context west: namespace "shop" not found\n`);
  assert.match(result.stdout, /^east {3,}shop {3,}shopcred /m);
});

test(`list exits 1 with only error lines when every context fails`, async () => {
  const result = await list([`--context`, `down`, `--context`, `nosecrets`, `-n`, `audit`]);
  assert.equal(result.code, 1);
  assert.equal(result.stdout, ``);
  assert.deepEqual(result.stderr.split(`\n`).filter(line => line !== ``).map(line => line.split(`:`).slice(0, 2).join(`:`)), [`error: context down`, `error: context nosecrets`]);
});

test(`list names a context missing from the kubeconfig on its own error line and lists the others`, async () => {
  const result = await list([`--context`, `east`, `--context`, `nowhere`, `-n`, `audit`]);
  assert.equal(result.code, 1);
  assert.match(result.stderr, /^error: context nowhere: .*nowhere/m);
  assert.match(result.stdout, /^east {3,}regcred /m);
});

test(`list with two contexts and no pull secrets in either says so once and exits 0`, async () => {
  const result = await list([`--context`, `east`, `--context`, `west`, `-n`, `empty`]);
  assert.equal(result.code, 0, result.stderr);
  assert.equal(result.stdout, ``);
  assert.equal(result.stderr, `No pull secrets found.\n`);
});
