/**
 * kubectl's flag grammar, judged by kubectl itself: a corpus of command lines, each run through the real
 * kubectl (`get secrets …` for the flags `list` shares with it, `create secret docker-registry … --dry-run=client`
 * for those `add` shares) and through the plugin. Both must accept or refuse the same lines, and where kubectl
 * refuses a line for its flag grammar (unknown flag, missing value, bad boolean, wrong number of arguments) the
 * plugin's error line must be kubectl's, word for word. Neither needs a cluster: kubectl is pointed at a closed
 * port, so an accepted `get` fails only when it connects.
 *
 * Left out on purpose, because the plugin decides differently after parsing (not a grammar difference):
 * `-n NS -A` (kubectl lets -A win; the plugin refuses the combination), `-o` values (kubectl checks them only once
 * it has reached the server; the plugin before any request), and namespace values that are not DNS-1123 labels.
 */
import {test} from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import {closedPort} from '../helpers/clusters.ts';
import {requireKubectl, runKubectl} from '../helpers/apiEmulator/kubectl.ts';
import {runCli} from '../helpers/runCli.ts';

// The oracle named in docs/testing.md D.3; the dispatcher on PATH elsewhere.
const PINNED = `/usr/lib/google-cloud-sdk/bin/kubectl.1.33`;
const KUBECTL = fs.existsSync(PINNED) ? PINNED : requireKubectl();

const SECRET = [`--docker-server=registry.example.com`, `--docker-username=u`, `--docker-password=p`];

/** `wording`: kubectl refuses the line for its grammar, so the plugin's first error line must be the same. */
type Row = {args: string[]; wording?: boolean};

/** Lines for `kubectl get secrets ARGS` and `kubectl pullsecret list ARGS`. */
const LIST_ROWS: Row[] = [
  {args: []},
  {args: [`-oyaml`]}, {args: [`-o`, `yaml`]}, {args: [`-o=yaml`]}, {args: [`--output=yaml`]}, {args: [`--output`, `yaml`]},
  {args: [`-nweb`]}, {args: [`-n`, `web`]}, {args: [`-n=web`]}, {args: [`--namespace=web`]}, {args: [`--namespace`, `web`]},
  {args: [`-A`]}, {args: [`-A=true`]}, {args: [`-A=false`]}, {args: [`--all-namespaces=true`]}, {args: [`--all-namespaces=false`]},
  {args: [`--all-namespaces=1`]}, {args: [`--all-namespaces=T`]}, {args: [`--all-namespaces=FALSE`]},
  {args: [`-A=maybe`], wording: true}, {args: [`--all-namespaces=yes`], wording: true},
  {args: [`-Ao`, `json`]}, {args: [`-Aojson`]}, {args: [`-Ao=json`]}, {args: [`-Aowide`]}, {args: [`-Ao`, `yaml`, `-A=false`, `-nweb`]},
  {args: [`-n`, `web`, `-o`, `json`]}, {args: [`-owide`, `--namespace=web`]}, {args: [`--context=a`]}, {args: [`--context`, `a`]},
  {args: [`--request-timeout=5s`]}, {args: [`--request-timeout`, `5s`]}, {args: [`--request-timeout=abc`]},
  {args: [`--bogus`], wording: true}, {args: [`--bogus=1`], wording: true}, {args: [`--all-namespace`], wording: true},
  {args: [`-x`], wording: true}, {args: [`-Ax`], wording: true}, {args: [`-xA`], wording: true}, {args: [`-A`, `-Z`], wording: true},
  {args: [`-n`], wording: true}, {args: [`-o`], wording: true}, {args: [`-An`], wording: true},
  {args: [`--namespace`], wording: true}, {args: [`--output`], wording: true}, {args: [`--context`], wording: true},
  {args: [`--kubeconfig`], wording: true}, {args: [`--request-timeout`], wording: true},
  {args: [`-o`, `json`, `-nweb`]}, {args: [`--context=a`, `-Ao`, `yaml`]},
];

/** Lines for `kubectl create secret docker-registry ARGS` and `kubectl pullsecret add ARGS`. */
const ADD_ROWS: Row[] = [
  {args: [`regcred`, ...SECRET, `--dry-run=client`]},
  {args: [`regcred`, ...SECRET, `--dry-run=client`, `-oyaml`]},
  {args: [`regcred`, ...SECRET, `--dry-run=client`, `-o`, `json`]},
  {args: [`regcred`, ...SECRET, `--dry-run=client`, `-nweb`, `-oname`]},
  {args: [`regcred`, `--docker-server`, `registry.example.com`, `--docker-username`, `u`, `--docker-password`, `p`, `--dry-run=client`]},
  {args: [`regcred`, ...SECRET, `--docker-email=e@example.com`, `--dry-run=client`]},
  {args: [`--dry-run=client`, ...SECRET, `regcred`]},
  {args: [`regcred`, ...SECRET, `--dry-run`, `client`], wording: false},
  {args: [`regcred`, ...SECRET, `--dry-run=bogus`]},
  {args: [...SECRET, `--dry-run=client`], wording: true},
  {args: [`a`, `b`, ...SECRET, `--dry-run=client`], wording: true},
  {args: [`regcred`, `--docker-server=registry.example.com`, `--docker-usrname=u`, `--docker-password=p`, `--dry-run=client`], wording: true},
  {args: [`regcred`, ...SECRET, `--dry-run=client`, `-o`], wording: true},
  {args: [`regcred`, ...SECRET, `--dry-run=client`, `--docker-server`], wording: true},
  {args: [`regcred`, ...SECRET, `--dry-run=client`, `-q`], wording: true},
];

type Verdict = {accepted: boolean; line: string};

let kubeconfig: string;
let home: string;

test.before(async () => {
  home = fs.mkdtempSync(path.join(os.tmpdir(), `grammar-`));
  kubeconfig = path.join(home, `config`);
  const server = `https://127.0.0.1:${await closedPort()}`;
  fs.writeFileSync(kubeconfig, JSON.stringify({
    apiVersion: `v1`, kind: `Config`, 'current-context': `c`,
    clusters: [{name: `c`, cluster: {server, 'insecure-skip-tls-verify': true}}],
    users: [{name: `u`, user: {token: `t`}}],
    contexts: [{name: `c`, context: {cluster: `c`, user: `u`, namespace: `default`}}, {name: `a`, context: {cluster: `c`, user: `u`}}],
  }));
});

test.after(() => fs.rmSync(home, {recursive: true, force: true}));

/** kubectl refused the line when it printed an `error:` line before talking to any server. */
async function kubectlVerdict(args: string[]): Promise<Verdict> {
  const result = await runKubectl(args, {kubeconfig, binary: KUBECTL, timeoutMs: 30_000});
  const line = result.stderr.split(`\n`).find(text => text.startsWith(`error: `)) ?? ``;
  return {accepted: result.code === 0 || (line === `` || !result.stderr.startsWith(`error: `)), line};
}

/** The plugin refused the line when it exited 2 (usage); its first line is the `error:` line. */
async function pluginVerdict(args: string[]): Promise<Verdict> {
  const result = await runCli(args, {env: {KUBECONFIG: kubeconfig}, home});
  return {accepted: result.code !== 2, line: result.stderr.split(`\n`)[0] ?? ``};
}

for (const [label, kubectlArgs, pluginArgs, rows] of [
  [`list`, [`get`, `secrets`], [`list`], LIST_ROWS],
  [`add`, [`create`, `secret`, `docker-registry`], [`add`], ADD_ROWS],
] as const) {
  for (const row of rows) {
    const shown = row.args.join(` `);
    test(`${label} ${shown}: accepted or refused as kubectl ${kubectlArgs.join(` `)} does${row.wording ? `, in kubectl's words` : ``}`, {timeout: 60_000}, async () => {
      const expected = await kubectlVerdict([...kubectlArgs, ...row.args]);
      const actual = await pluginVerdict([...pluginArgs, ...row.args]);
      assert.equal(actual.accepted, expected.accepted, `kubectl: ${expected.accepted ? `accepted` : expected.line}; plugin: ${actual.accepted ? `accepted` : actual.line}`);
      if (row.wording) {
        assert.equal(expected.accepted, false, `the row expects kubectl to refuse it`);
        assert.equal(actual.line, expected.line);
      }
    });
  }
}

test(`the corpus holds enough lines to mean something`, () => {
  assert.ok(LIST_ROWS.length + ADD_ROWS.length >= 60, `${LIST_ROWS.length + ADD_ROWS.length} lines`);
});

test(`an optional value given with a space gets the did-you-mean hint`, async () => {
  for (const [flag, value] of [[`--dry-run`, `server`], [`--attach`, `default`], [`--from-docker-config`, `/path/config.json`]] as const) {
    const result = await runCli([`add`, `regcred`, ...SECRET, flag, value], {env: {KUBECONFIG: kubeconfig}, home});
    assert.equal(result.code, 2);
    assert.equal(result.stderr, `error: ${flag} takes its value after "=": did you mean ${flag}=${value}?\nSee 'kubectl pullsecret add --help' for usage.\n`);
  }
});

test(`explain and completion without their argument name what they need`, async () => {
  const explain = await runCli([`explain`], {home});
  assert.equal(explain.stderr.split(`\n`)[0], `error: at least one IMAGE is required`);
  const completion = await runCli([`completion`], {home});
  assert.equal(completion.stderr.split(`\n`)[0], `error: exactly one SHELL is required, got 0`);
});

test(`kubectl pullsecret help COMMAND prints that command's help`, async () => {
  const [help, flag] = [await runCli([`help`, `add`], {home}), await runCli([`add`, `--help`], {home})];
  assert.equal(help.code, 0);
  assert.equal(help.stdout, flag.stdout);
  assert.match(help.stdout, /--docker-server string/);
});

test(`no help text and no error line shows clipanion's #0 placeholder`, async () => {
  for (const command of [`add`, `attach`, `detach`, `sync`, `rotate`, `remove`, `refresh`, `list`, `decode`, `explain`, `verify`, `doctor`, `completion`, `version`]) {
    const result = await runCli([command, `--help`], {home});
    assert.doesNotMatch(result.stdout, /#\d/, command);
  }
});
