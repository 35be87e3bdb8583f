// Every example of every command's --help (and so of the README, generated from them) runs as printed: `$0`
// becomes `kubectl pullsecret`, and the line goes to bash with real kubectl dispatching to this checkout, against an
// API emulator holding the namespaces, secrets and workloads the examples name. Stand-ins replace the programs that
// are not ours (helm, docker). An example must not be a usage error, and must succeed.
import {after, before, beforeEach, test} from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import {COMMANDS} from '../../sources/cli.ts';
import type {ApiEmulator} from '../helpers/apiEmulator/index.ts';
import {startApiEmulator} from '../helpers/apiEmulator/index.ts';
import {pluginBin, runPrinted} from '../helpers/printedCommand.ts';

const b64 = (text: string) => Buffer.from(text).toString(`base64`);
const CONFIG = JSON.stringify({auths: {'https://index.docker.io/v1/': {auth: b64(`bot:hub-token`)}, 'ghcr.io': {auth: b64(`bot:ghcr-token`)}}});
const pullSecret = (name: string) => ({apiVersion: `v1`, kind: `Secret`, metadata: {name}, type: `kubernetes.io/dockerconfigjson`, data: {'.dockerconfigjson': b64(CONFIG)}});
const SPEC = {containers: [{name: `app`, image: `ghcr.io/acme/api:1`}]};
const DEPLOYMENT = {apiVersion: `apps/v1`, kind: `Deployment`, metadata: {name: `api`}, spec: {selector: {matchLabels: {app: `api`}}, template: {metadata: {labels: {app: `api`}}, spec: SPEC}}};

let api: ApiEmulator;
let bin: ReturnType<typeof pluginBin>;
let work: string;
let kubeconfig = ``;

/**
 * A fresh cluster per example (examples change it): namespaces web, platform and ci labelled team=web; regcred and
 * fallback in each namespace, except for sync and rotate, whose examples copy platform's regcred into the others;
 * ServiceAccounts default and builder; deployment api with a pod failing to pull in default and web.
 */
async function world(command: string): Promise<void> {
  await api?.stop();
  api = await startApiEmulator();
  for (const namespace of [`web`, `platform`, `ci`])
    api.seed.namespace(namespace, {labels: {team: `web`}});
  for (const namespace of [`default`, `web`, `platform`, `ci`, `kube-system`, `kube-public`, `kube-node-lease`]) {
    if (namespace === `platform` || (command !== `sync` && command !== `rotate`))
      api.seed.secret(namespace, pullSecret(`regcred`));
    api.seed.secret(namespace, pullSecret(`fallback`));
    api.seed.serviceAccount(namespace, `default`, {});
    api.seed.serviceAccount(namespace, `builder`, {});
  }
  for (const namespace of [`default`, `web`]) {
    api.seed.workload(`Deployment`, namespace, `api`, SPEC);
    api.seed.pod(namespace, `api-7f9c-x2x4`, SPEC, {waiting: `ImagePullBackOff`});
  }
  // The contexts the examples name, all on the emulator.
  const cluster = {server: api.url, 'certificate-authority-data': b64(api.caPem)};
  fs.writeFileSync(kubeconfig, JSON.stringify({
    apiVersion: `v1`, kind: `Config`,
    clusters: [{name: `emulator`, cluster}],
    users: [{name: `admin`, user: {token: api.tokens.admin}}],
    contexts: [`admin`, `prod-eu`, `prod-us`].map(name => ({name, context: {cluster: `emulator`, user: `admin`}})),
    'current-context': `admin`,
  }));
}

before(async () => {
  // Stand-ins for programs that are not ours: helm renders a Deployment, docker accepts `--config DIR pull IMAGE`.
  bin = pluginBin({
    helm: `#!/bin/sh\ncat <<'EOF'\n${JSON.stringify(DEPLOYMENT)}\nEOF\n`,
    docker: `#!/bin/sh\n[ "$1" = --config ] && [ -f "$2/config.json" ] && [ "$3" = pull ] || exit 9\n`,
  });
  work = fs.mkdtempSync(path.join(os.tmpdir(), `pullsecret-examples-`));
  const home = path.join(bin.dir, `home`);
  fs.mkdirSync(path.join(home, `.docker`), {recursive: true});
  fs.writeFileSync(path.join(home, `.docker`, `config.json`), CONFIG);
  fs.writeFileSync(path.join(work, `token.txt`), `s3cret-token\n`);
  for (const file of [`regcred.yaml`, `a.yaml`, `b.yaml`])
    fs.writeFileSync(path.join(work, file), JSON.stringify(pullSecret(`regcred`)));
  fs.writeFileSync(path.join(work, `release.yaml`), JSON.stringify({...DEPLOYMENT, metadata: {name: `api`, namespace: `web`}}));
  fs.mkdirSync(path.join(work, `cfg`));
  fs.mkdirSync(path.join(work, `overlays`, `prod`), {recursive: true});
  fs.writeFileSync(path.join(work, `overlays`, `prod`, `kustomization.yaml`), `namespace: web\nresources:\n- deployment.yaml\n`);
  fs.writeFileSync(path.join(work, `overlays`, `prod`, `deployment.yaml`), JSON.stringify(DEPLOYMENT));
  kubeconfig = path.join(work, `kubeconfig`);
  // zsh's fpath, for the zsh example run by bash (whose arrays start at 0: element 1 is the second).
  fs.mkdirSync(path.join(work, `zfunc`));
});
after(async () => {
  bin?.remove();
  if (work)
    fs.rmSync(work, {recursive: true, force: true});
  await api?.stop();
});

/** Examples that start a long-running process: they must be running (not refused) after a while, then are stopped. */
const LONG_RUNNING = new Set([`agent`]);

const examples = COMMANDS.flatMap(command => (command.usage?.examples ?? []).map(([description, text]) => ({command: command.paths![0]!.join(` `), description, text})));

test(`the commands have examples to run`, () => {
  assert.ok(examples.length >= 40, `${examples.length} examples`);
});

for (const {command, description, text} of examples) {
  const line = text.replaceAll(`$0`, `kubectl pullsecret`);
  test(`${command} example "${description}" runs as printed: ${line}`, {timeout: 60_000}, async () => {
    await world(command);
    const env = {TOKEN: `t0ken`, NEW_TOKEN: `n3w-t0ken`};
    if (line.endsWith(`| source`)) {
      // fish's syntax (no fish here): the script piped into fish's source must be printed by the command before it.
      const run = await runPrinted(line.replace(/ \| source$/, ``), {bin: bin.dir, kubeconfig, cwd: work, env, shell: `bash`});
      assert.equal(run.code, 0, run.stderr);
      assert.match(run.stdout, /^complete -c kubectl-pullsecret /m);
      return;
    }
    if (LONG_RUNNING.has(command)) {
      const run = await runPrinted(`timeout 3 ${line.replace(/^kubectl pullsecret/, `kubectl-pullsecret`)}; test $? = 124`, {bin: bin.dir, kubeconfig, cwd: work, env, shell: `bash`});
      assert.equal(run.code, 0, `still running after 3 s (exit 124 from timeout)\n${run.stdout}${run.stderr}`);
      return;
    }
    const run = await runPrinted(`fpath=(none ${path.join(work, `zfunc`)}); ${line}`, {bin: bin.dir, kubeconfig, cwd: work, env, shell: `bash`});
    assert.doesNotMatch(run.stderr, /See 'kubectl pullsecret .*--help' for usage/, `a usage error:\n${run.stderr}`);
    const expected = EXPECTED[command];
    if (expected === undefined) {
      assert.equal(run.code, 0, `${run.stdout}${run.stderr}`);
    } else {
      assert.equal(run.code, expected.code, `${run.stdout}${run.stderr}`);
      assert.match(run.stdout + run.stderr + readIfThere(path.join(work, `verify-report.xml`)), expected.shows);
    }
  });
}

function readIfThere(file: string): string {
  return fs.existsSync(file) ? fs.readFileSync(file, `utf8`) : ``;
}

/** Commands whose documented exit status is not 0 in this world, why, and what their output must show instead. */
const EXPECTED: Record<string, {code: number; shows: RegExp}> = {
  // The registries the examples name (ghcr.io, registry.example.com) cannot be reached from a machine with only
  // loopback: verify reports them unreachable and exits 1, as documented for images that are not pullable.
  verify: {code: 1, shows: /unreachable/},
  // The world holds a pod failing to pull: doctor prints its diagnosis and exits 1.
  doctor: {code: 1, shows: /ImagePullBackOff/},
};
