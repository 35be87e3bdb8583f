// Every example of every command's --help (and so of the README, generated from them) runs as printed: `$0`
// becomes `kubectl pullsecret`, and the line goes to bash with real kubectl dispatching to this checkout, against an
// API emulator holding the namespaces, secrets and workloads the examples name. Stand-ins replace the programs that
// are not ours (helm, docker). An example must not be a usage error, and must succeed.
import {after, before, beforeEach, test} from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import YAML from 'yaml';
import {COMMANDS} from '../../sources/commands/all.ts';
import {VERSION} from '../../sources/version.ts';
import type {ApiEmulator} from '../helpers/apiEmulator/index.ts';
import {startApiEmulator} from '../helpers/apiEmulator/index.ts';
import {pluginBin, runPrinted, type PrintedRun} from '../helpers/printedCommand.ts';

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
 * The cluster each example starts from (examples change it; one emulator for the file, emptied between examples):
 * namespaces web, platform and ci labelled team=web; regcred and fallback in each namespace, except for add, sync and
 * rotate, which create regcred or copy platform's (rotate and sync also find copies of it, with provenance, in web,
 * ci and default); ServiceAccounts default and builder listing fallback (and regcred, for detach); deployment api
 * (its template listing fallback, and regcred for detach) with a pod failing to pull in default and web.
 */
const BASE_NAMESPACES = new Set([`default`, `kube-system`, `kube-public`, `kube-node-lease`]);
const NAMESPACED = [`secrets`, `serviceaccounts`, `pods`, `events`, `deployments`, `replicasets`, `statefulsets`, `daemonsets`, `jobs`, `cronjobs`, `replicationcontrollers`, `roles`, `rolebindings`, `leases`];

async function world(command: string): Promise<void> {
  api ??= await startApiEmulator();
  for (const resource of NAMESPACED) {
    for (const object of api.local.list(resource))
      api.local.delete(resource, object.metadata.namespace, object.metadata.name);
  }
  for (const resource of [`clusterroles`, `clusterrolebindings`]) {
    for (const object of api.local.list(resource))
      api.local.delete(resource, undefined, object.metadata.name);
  }
  for (const object of api.local.list(`namespaces`)) {
    if (!BASE_NAMESPACES.has(object.metadata.name))
      api.local.delete(`namespaces`, undefined, object.metadata.name);
  }
  for (const namespace of [`web`, `platform`, `ci`])
    api.seed.namespace(namespace, {labels: {team: `web`}});
  const copies = command === `sync` || command === `rotate`;
  for (const namespace of [`default`, `web`, `platform`, `ci`, `kube-system`, `kube-public`, `kube-node-lease`]) {
    if (namespace === `platform` || (command !== `add` && !copies))
      api.seed.secret(namespace, pullSecret(`regcred`));
    else if (copies && [`web`, `ci`, `default`].includes(namespace))
      api.seed.secret(namespace, copyOf(`platform/regcred`));
    api.seed.secret(namespace, pullSecret(`fallback`));
    const listed = command === `detach` ? [`fallback`, `regcred`] : [`fallback`];
    api.seed.serviceAccount(namespace, `default`, {imagePullSecrets: listed});
    api.seed.serviceAccount(namespace, `builder`, {imagePullSecrets: listed});
  }
  for (const namespace of [`default`, `web`]) {
    const deployment = api.seed.workload(`Deployment`, namespace, `api`, command === `detach` ? {...SPEC, imagePullSecrets: [{name: `fallback`}, {name: `regcred`}]} : SPEC);
    const owner = (object: any) => [{apiVersion: `apps/v1`, kind: object.kind, name: object.metadata.name, uid: object.metadata.uid, controller: true}];
    const replicaSet = api.seed.workload(`ReplicaSet`, namespace, `api-7f9c`, SPEC, {ownerReferences: owner(deployment), templateLabels: {app: `api`}});
    api.seed.pod(namespace, `api-7f9c-x2x4`, SPEC, {waiting: `ImagePullBackOff`, labels: {app: `api`}, ownerReferences: owner(replicaSet)});
  }
  if (command === `refresh`) {
    // Secrets whose ghcr.io password comes from a command: due by expiry (`soon`), by age (`old`, no expiry), or not.
    const hour = 3600_000;
    const at = (offset: number) => new Date(Date.now() + offset).toISOString().replace(/\.\d{3}Z$/, `Z`);
    for (const namespace of [`default`, `web`, `platform`]) {
      refreshable(namespace, `soon`, {'pullsecret.kubectl.io/expires-at': at(hour)});
      refreshable(namespace, `later`, {'pullsecret.kubectl.io/expires-at': at(2.5 * hour)});
      refreshable(namespace, `old`, {'pullsecret.kubectl.io/refreshed-at': at(-24 * hour)});
      refreshable(namespace, `recent`, {'pullsecret.kubectl.io/refreshed-at': at(-hour)});
    }
  }
  if (command === `agent`)
    api.seed.namespace(`pullsecret-system`, {});
  // The contexts the examples name, all on the emulator.
  const cluster = {server: api.url, 'certificate-authority-data': b64(api.caPem)};
  fs.writeFileSync(kubeconfig, JSON.stringify({
    apiVersion: `v1`, kind: `Config`,
    clusters: [{name: `emulator`, cluster}],
    users: [{name: `admin`, user: {token: api.tokens.admin}}],
    contexts: [`admin`, `prod-eu`, `prod-us`].map(name => ({name, context: {cluster: `emulator`, user: `admin`}})),
    'current-context': `admin`,
  }));
  for (const file of [`verify-report.xml`, `cfg/config.json`, `zfunc/_kubectl-pullsecret`, `metrics-8080.txt`, `metrics-9090.txt`])
    fs.rmSync(path.join(work, file), {force: true});
  api.resetRequests();
}

function refreshable(namespace: string, name: string, annotations: Record<string, string>): void {
  const command = JSON.stringify([{server: `ghcr.io`, username: `bot`, command: `echo fresh-token`}]);
  const secret = pullSecret(name);
  api.seed.secret(namespace, {...secret, metadata: {name, labels: {'app.kubernetes.io/managed-by': `kubectl-pullsecret`}, annotations: {...annotations, 'pullsecret.kubectl.io/password-command': command}}});
}

/** An older copy of a secret (its Docker Hub entry only), annotated with where it came from. */
function copyOf(source: string) {
  const config = JSON.stringify({auths: {'https://index.docker.io/v1/': {auth: b64(`bot:hub-token`)}, 'ghcr.io': {auth: b64(`bot:old-token`)}}});
  return {...pullSecret(`regcred`), metadata: {name: `regcred`, labels: {'app.kubernetes.io/managed-by': `kubectl-pullsecret`}, annotations: {[`pullsecret.kubectl.io/source`]: source}}, data: {'.dockerconfigjson': b64(config)}};
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

test(`every example has a check of what its description claims, or is listed as only running`, () => {
  const unchecked = examples.filter(({description}) => CLAIMS[description] === undefined && RUNS_ONLY[description] === undefined);
  assert.deepEqual(unchecked.map(({description}) => description), []);
  const stale = [...Object.keys(CLAIMS), ...Object.keys(RUNS_ONLY)].filter(description => !examples.some(example => example.description === description));
  assert.deepEqual(stale, [], `checks for examples that no longer exist`);
});

for (const {command, description, text} of examples) {
  const line = text.replaceAll(`$0`, `kubectl pullsecret`);
  test(`${command} example "${description}" runs as printed and does what it says: ${line}`, {timeout: 60_000}, async () => {
    await world(command);
    await CLAIMS[description]?.prepare?.();
    api.resetRequests();
    const env = {TOKEN: `t0ken`, NEW_TOKEN: `n3w-t0ken`};
    let run: PrintedRun;
    if (line.endsWith(`| source`)) {
      // fish's syntax (no fish here): the script piped into fish's source must be printed by the command before it.
      run = await runPrinted(line.replace(/ \| source$/, ``), {bin: bin.dir, kubeconfig, cwd: work, env, shell: `bash`});
      assert.equal(run.code, 0, run.stderr);
    } else if (LONG_RUNNING.has(command)) {
      // While it runs, what it serves on the ports the examples name is saved for their checks.
      const scrape = `(for i in $(seq 30); do sleep 0.1; for port in 8080 9090; do curl -sf -o metrics-$port.txt http://127.0.0.1:$port/metrics; done; [ -s metrics-8080.txt ] || [ -s metrics-9090.txt ] && break; done) &`;
      run = await runPrinted(`${scrape} timeout 4 ${line.replace(/^kubectl pullsecret/, `kubectl-pullsecret`)}; code=$?; wait; test $code = 124`, {bin: bin.dir, kubeconfig, cwd: work, env, shell: `bash`});
      assert.equal(run.code, 0, `still running after 4 s (exit 124 from timeout)\n${run.stdout}${run.stderr}`);
    } else {
      run = await runPrinted(`fpath=(none ${path.join(work, `zfunc`)}); ${line}`, {bin: bin.dir, kubeconfig, cwd: work, env, shell: `bash`});
      assert.doesNotMatch(run.stderr, /See 'kubectl pullsecret .*--help' for usage/, `a usage error:\n${run.stderr}`);
      const expected = EXPECTED[command];
      if (expected === undefined) {
        assert.equal(run.code, 0, `${run.stdout}${run.stderr}`);
      } else {
        assert.equal(run.code, expected.code, `${run.stdout}${run.stderr}`);
        assert.match(run.stdout + run.stderr + readIfThere(path.join(work, `verify-report.xml`)), expected.shows);
      }
    }
    if (process.env.EXAMPLES_DUMP)
      fs.appendFileSync(process.env.EXAMPLES_DUMP, `=== ${description}\n${line}\n--- stdout\n${run.stdout}\n--- stderr\n${run.stderr}\n--- writes\n${writes().map(r => `${r.verb} ${r.namespace ?? ``}/${r.resource}/${r.name ?? ``} ${JSON.stringify(r.query)}`).join(`\n`)}\n`);
    await CLAIMS[description]?.check(run, line);
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

// ---------------------------------------------------------------------------------------------------------------
// What each example's description claims, checked against the emulator's state, its requests and the output.

type Claim = {prepare?: () => Promise<void>; check: (run: PrintedRun, line: string) => void | Promise<void>};

/** Examples whose only claim is that they run and print (the runs above check that); why nothing more is checked. */
const RUNS_ONLY: Record<string, string> = {
};

const WRITES = new Set([`create`, `update`, `patch`, `delete`, `deletecollection`]);
/** The write requests that reached the emulator (dry runs included: see `realWrites`). */
function writes() {
  return api.requests.filter(r => r.verb !== undefined && WRITES.has(r.verb));
}
/** The writes that changed something (not `?dryRun=All`). */
function realWrites() {
  return writes().filter(r => r.query.dryRun !== `All`);
}
function namespaces(): string[] {
  return api.objects(`namespaces`).map(n => n.metadata.name as string);
}
function listed(kind: `serviceaccounts` | `deployments`, namespace: string, name: string): string[] {
  const object = api.getObject(kind, namespace, name);
  assert.ok(object, `${kind} ${namespace}/${name} exists`);
  const list = kind === `serviceaccounts` ? object.imagePullSecrets : object.spec.template.spec.imagePullSecrets;
  return (list ?? []).map((ref: {name: string}) => ref.name);
}
function auths(namespace: string, name: string): Record<string, {username?: string; password?: string; auth?: string}> {
  const secret = api.getObject(`secrets`, namespace, name);
  assert.ok(secret, `secret ${namespace}/${name} exists`);
  return JSON.parse(Buffer.from(secret.data[`.dockerconfigjson`], `base64`).toString()).auths;
}
/** The password of `host`'s entry in a secret, from its `auth` or `password` field. */
function password(namespace: string, name: string, host: string): string | undefined {
  const entry = auths(namespace, name)[host];
  if (entry === undefined)
    return undefined;
  return entry.password ?? Buffer.from(entry.auth ?? ``, `base64`).toString().split(`:`).slice(1).join(`:`);
}
function secretExists(namespace: string, name: string): boolean {
  return api.getObject(`secrets`, namespace, name) !== undefined;
}
/** Every namespaced request was made in `namespace`. */
function onlyIn(namespace: string) {
  const elsewhere = api.requests.filter(r => r.namespace !== undefined && r.namespace !== namespace);
  assert.deepEqual(elsewhere.map(r => `${r.verb} ${r.namespace}/${r.resource}`), [], `requests outside namespace ${namespace}`);
}
function noClusterContact() {
  assert.deepEqual(api.requests.map(r => `${r.method} ${r.path}`), [], `no request reaches the cluster`);
}
function noWrites() {
  assert.deepEqual(realWrites().map(r => `${r.verb} ${r.namespace ?? ``}/${r.resource}/${r.name ?? ``}`), [], `nothing written`);
}
/** Secret values that must never be printed unless asked for. */
const PASSWORDS = [`hub-token`, `ghcr-token`, `old-token`, `t0ken`, `s3cret-token`];
function noPasswords(text: string) {
  for (const value of PASSWORDS) {
    assert.ok(!text.includes(value), `${value} printed`);
    assert.ok(!text.includes(b64(`bot:${value}`)), `${value} printed, base64-encoded`);
  }
}

const CLAIMS: Record<string, Claim> = {
  // add
  'Create a pull secret for GHCR, reading the token from stdin': {check: () => {
    assert.equal(api.getObject(`secrets`, `default`, `regcred`)?.type, `kubernetes.io/dockerconfigjson`);
    assert.deepEqual(Object.keys(auths(`default`, `regcred`)), [`ghcr.io`]);
    assert.equal(password(`default`, `regcred`, `ghcr.io`), `t0ken`, `the token read from stdin`);
    assert.equal(auths(`default`, `regcred`)[`ghcr.io`]!.username, `bot`);
  }},
  'Print the manifest kubectl would print, without a cluster': {check: async run => {
    noClusterContact();
    const kubectl = await runPrinted(`kubectl create secret docker-registry regcred -n web --docker-server ghcr.io --docker-username bot --docker-password s3cret-token --dry-run=client -o yaml`, {bin: bin.dir, kubeconfig, cwd: work});
    assert.equal(kubectl.code, 0, kubectl.stderr);
    assert.equal(run.stdout.replace(`  labels:\n    app.kubernetes.io/managed-by: kubectl-pullsecret\n`, ``), kubectl.stdout, `kubectl's manifest, with the tool's label`);
    assert.equal(secretExists(`web`, `regcred`), false);
    const manifest = YAML.parse(run.stdout);
    assert.deepEqual([manifest.kind, manifest.metadata.name, manifest.metadata.namespace, manifest.type], [`Secret`, `regcred`, `web`, `kubernetes.io/dockerconfigjson`]);
    const entry = JSON.parse(Buffer.from(manifest.data[`.dockerconfigjson`], `base64`).toString()).auths[`ghcr.io`];
    assert.deepEqual([entry.username, entry.password], [`bot`, `s3cret-token`], `the password from token.txt, its newline stripped`);
  }},
  'Copy Docker Hub and GHCR credentials from ~/.docker/config.json into every namespace and attach them to the default ServiceAccounts': {check: () => {
    for (const namespace of namespaces()) {
      assert.equal(password(namespace, `regcred`, `https://index.docker.io/v1/`), `hub-token`, namespace);
      assert.equal(password(namespace, `regcred`, `ghcr.io`), `ghcr-token`, namespace);
      assert.deepEqual(listed(`serviceaccounts`, namespace, `default`), [`fallback`, `regcred`], namespace);
      assert.deepEqual(listed(`serviceaccounts`, namespace, `builder`), [`fallback`], `${namespace}: only the default ServiceAccount`);
    }
  }},
  // attach
  'Attach regcred to the default ServiceAccount of the current namespace': {check: () => {
    assert.deepEqual(listed(`serviceaccounts`, `default`, `default`), [`fallback`, `regcred`]);
    assert.deepEqual(listed(`serviceaccounts`, `default`, `builder`), [`fallback`]);
    assert.deepEqual(listed(`serviceaccounts`, `web`, `default`), [`fallback`], `another namespace`);
  }},
  'Attach to every ServiceAccount in every namespace': {check: () => {
    for (const namespace of namespaces()) {
      for (const account of api.objects(`serviceaccounts`, namespace))
        assert.deepEqual(listed(`serviceaccounts`, namespace, account.metadata.name), [`fallback`, `regcred`], `${namespace}/${account.metadata.name}`);
    }
  }},
  'Attach to a deployment\'s pod template and to the builder ServiceAccount': {check: () => {
    assert.deepEqual(listed(`deployments`, `web`, `api`), [`regcred`]);
    assert.deepEqual(listed(`serviceaccounts`, `web`, `builder`), [`fallback`, `regcred`]);
    assert.deepEqual(listed(`serviceaccounts`, `web`, `default`), [`fallback`], `not the default ServiceAccount`);
    assert.deepEqual(listed(`deployments`, `default`, `api`), [], `not the deployment of another namespace`);
  }},
  'Attach and restart the workloads whose running pods lack it': {check: () => {
    assert.deepEqual(listed(`serviceaccounts`, `web`, `default`), [`fallback`, `regcred`]);
    const restarted = (namespace: string) => api.getObject(`deployments`, namespace, `api`).spec.template.metadata?.annotations?.[`kubectl.kubernetes.io/restartedAt`];
    assert.ok(restarted(`web`), `deployment web/api, whose pod lacks regcred, is restarted`);
    assert.equal(restarted(`default`), undefined, `not the deployment of another namespace`);
  }},
  // detach
  'Detach regcred from the default ServiceAccount of the current namespace': {check: () => {
    assert.deepEqual(listed(`serviceaccounts`, `default`, `default`), [`fallback`]);
    assert.deepEqual(listed(`serviceaccounts`, `default`, `builder`), [`fallback`, `regcred`]);
    assert.deepEqual(listed(`serviceaccounts`, `web`, `default`), [`fallback`, `regcred`], `another namespace`);
  }},
  'Detach from every ServiceAccount in every namespace': {check: () => {
    for (const namespace of namespaces()) {
      for (const account of api.objects(`serviceaccounts`, namespace))
        assert.deepEqual(listed(`serviceaccounts`, namespace, account.metadata.name), [`fallback`], `${namespace}/${account.metadata.name}`);
    }
    assert.deepEqual(listed(`deployments`, `web`, `api`), [`fallback`, `regcred`], `pod templates are not ServiceAccounts`);
  }},
  'Detach from a deployment\'s pod template only': {check: () => {
    assert.deepEqual(listed(`deployments`, `web`, `api`), [`fallback`]);
    assert.deepEqual(listed(`serviceaccounts`, `web`, `default`), [`fallback`, `regcred`], `only the pod template`);
    assert.deepEqual(listed(`deployments`, `default`, `api`), [`fallback`, `regcred`], `only web's deployment`);
  }},
  // sync
  'Copy regcred from the platform namespace into every namespace and attach it to the default ServiceAccounts': {check: () => {
    for (const namespace of namespaces().filter(n => n !== `platform`)) {
      assertCopy(namespace);
      assert.deepEqual(listed(`serviceaccounts`, namespace, `default`), [`fallback`, `regcred`], namespace);
    }
  }},
  'Copy into the namespaces labelled team=web, removing copies elsewhere': {check: () => {
    for (const namespace of [`web`, `ci`])
      assertCopy(namespace);
    assert.equal(secretExists(`default`, `regcred`), false, `the copy in default (not labelled team=web) is pruned`);
    assert.equal(secretExists(`kube-system`, `regcred`), false);
    assert.equal(secretExists(`platform`, `regcred`), true, `the source stays`);
  }},
  'Show what would change without writing': {check: run => {
    noWrites();
    assert.ok(writes().length > 0, `the server was asked (dry run) what would change`);
    assert.equal(secretExists(`kube-system`, `regcred`), false);
    assert.equal(password(`web`, `regcred`, `ghcr.io`), `old-token`, `the stale copy is left as it was`);
    assert.match(run.stdout, /^kube-system: secret\/regcred created \(server dry run\)$/m);
  }},
  'Keep every namespace but kube-* supplied and attached, now and later (the policy is recorded on the source)': {check: () => {
    assert.ok(api.getObject(`secrets`, `platform`, `regcred`).metadata.annotations?.[`pullsecret.kubectl.io/sync-policy`], `the policy is recorded on the source`);
    for (const namespace of [`default`, `web`, `ci`]) {
      assertCopy(namespace);
      assert.deepEqual(listed(`serviceaccounts`, namespace, `default`), [`fallback`, `regcred`], namespace);
    }
    for (const namespace of [`kube-system`, `kube-public`, `kube-node-lease`])
      assert.equal(secretExists(namespace, `regcred`), false, namespace);
  }},
  'Re-apply the recorded policy': {
    prepare: async () => {
      await recordKeepPolicy();
      api.local.delete(`secrets`, `web`, `regcred`);
    },
    check: () => {
      assertCopy(`web`);
      assert.deepEqual(listed(`serviceaccounts`, `web`, `default`), [`fallback`, `regcred`]);
      assert.equal(secretExists(`kube-system`, `regcred`), false, `the recorded exclusion still holds`);
    },
  },
  'Stop keeping it (the copies stay)': {
    prepare: recordKeepPolicy,
    check: () => {
      assert.equal(api.getObject(`secrets`, `platform`, `regcred`).metadata.annotations?.[`pullsecret.kubectl.io/sync-policy`], undefined, `the policy is removed`);
      for (const namespace of [`default`, `web`, `ci`])
        assertCopy(namespace);
    },
  },
  // rotate
  'Rotate the GHCR token of regcred in the platform namespace and all its copies': {check: () => {
    for (const namespace of [`platform`, `web`, `ci`, `default`]) {
      assert.equal(password(namespace, `regcred`, `ghcr.io`), `n3w-t0ken`, namespace);
      assert.equal(password(namespace, `regcred`, `https://index.docker.io/v1/`), `hub-token`, `${namespace}: the other registry is kept`);
    }
    assert.equal(password(`web`, `fallback`, `ghcr.io`), `ghcr-token`, `only regcred`);
  }},
  'Rotate, updating only the copies in namespaces labelled team=web': {check: () => {
    for (const namespace of [`platform`, `web`, `ci`])
      assert.equal(password(namespace, `regcred`, `ghcr.io`), `s3cret-token`, namespace);
    assert.equal(password(`default`, `regcred`, `ghcr.io`), `old-token`, `default is not labelled team=web`);
  }},
  // remove
  'Remove regcred from the current namespace': {check: () => {
    assert.equal(secretExists(`default`, `regcred`), false);
    assert.equal(secretExists(`default`, `fallback`), true);
    assert.equal(secretExists(`web`, `regcred`), true, `another namespace`);
  }},
  'See what removing it from every namespace would change': {check: run => {
    noWrites();
    for (const namespace of namespaces()) {
      assert.equal(secretExists(namespace, `regcred`), true, namespace);
      assert.match(run.stdout, new RegExp(`^${namespace}: secret/regcred deleted \\(dry run\\)$`, `m`));
    }
  }},
  // refresh
  'Refresh the secrets of the current namespace whose token expires within 3 hours': {check: () => {
    assert.deepEqual(refreshed(), [`default/later`, `default/soon`], `default's secrets expiring within 3h`);
  }},
  'Refresh every namespace, tokens expiring within 2 hours, and by age those without expiry': {check: () => {
    assert.deepEqual(refreshed(), [`default/old`, `default/soon`, `platform/old`, `platform/soon`, `web/old`, `web/soon`]);
  }},
  'Refresh and print the results as JSON': {check: run => {
    assert.deepEqual(refreshed(), [`platform/later`, `platform/soon`]);
    const results = JSON.parse(run.stdout).results as Array<{namespace: string; name: string; result: string}>;
    assert.deepEqual(results.filter(r => r.result === `refreshed`).map(r => `${r.namespace}/${r.name}`).sort(), refreshed());
  }},
  // agent
  'Run the agent with the current kubeconfig context, metrics on port 8080': {check: run => {
    assert.match(run.stderr, /serving \/healthz and \/metrics address=\S*:8080\b/);
    assert.match(fs.readFileSync(path.join(work, `metrics-8080.txt`), `utf8`), /^# TYPE /m, `Prometheus metrics on port 8080`);
    assert.match(run.stderr, /agent started .*context=admin\b/);
    assert.ok(api.getObject(`leases`, `default`, `kubectl-pullsecret-agent`), `the lease, in the namespace of the current context`);
  }},
  'Run with JSON logs and a lease in the pullsecret-system namespace': {check: run => {
    const lines = run.stderr.trim().split(`\n`);
    assert.ok(lines.length > 1);
    for (const line of lines)
      assert.equal(typeof JSON.parse(line).msg, `string`, line);
    assert.ok(api.getObject(`leases`, `pullsecret-system`, `kubectl-pullsecret-agent`), `the lease in pullsecret-system`);
    assert.match(run.stderr, /"address":"\S*:9090"/);
    assert.match(fs.readFileSync(path.join(work, `metrics-9090.txt`), `utf8`), /^# TYPE /m, `Prometheus metrics on the --listen-address`);
  }},
  // install
  'Install the agent': {check: () => installed(`agent`)},
  'Print what kubectl would apply, without changing the cluster (server dry runs refuse objects in the namespace the manifests create)': {check: run => {
    noWrites();
    assert.equal(api.getObject(`namespaces`, undefined, `pullsecret-system`), undefined);
    assert.match(run.stdout, /^deployment\.apps\/kubectl-pullsecret-agent created \(dry run\)$/m);
  }},
  'Install the refresh CronJob with your own image': {check: async () => {
    await installed(`refresh`);
    const cronjob = api.objects(`cronjobs`, `pullsecret-system`)[0];
    assert.deepEqual(cronjob.spec.jobTemplate.spec.template.spec.containers.map((c: {image: string}) => c.image), [`registry.example.com/tools/kubectl-pullsecret:1`]);
  }},
  // list
  'Audit the current namespace': {check: run => {
    onlyIn(`default`);
    noWrites();
    assert.deepEqual(rows(run.stdout).slice(1).map(row => row[0]), [`fallback`, `regcred`]);
  }},
  'Audit every namespace, with usernames, provenance and expiry': {check: run => {
    noWrites();
    const [header, ...lines] = rows(run.stdout);
    for (const column of [`USERNAMES`, `COPY OF`, `EXPIRES`])
      assert.ok(run.stdout.split(`\n`)[0]!.includes(column), column);
    assert.ok(header);
    assert.deepEqual([...new Set(lines.map(row => row[0]))].sort(), namespaces().sort(), `every namespace`);
    assert.match(run.stdout, /\bbot,bot\b/, `the usernames`);
  }},
  'Machine-readable audit for CI': {check: run => {
    noWrites();
    const list = JSON.parse(run.stdout).secrets as Array<{namespace: string; name: string}>;
    assert.equal(list.length, api.objects(`secrets`).length, `every secret of every namespace`);
    assert.deepEqual([...new Set(list.map(s => s.namespace))].sort(), namespaces().sort());
  }},
  'Audit two clusters in one go': {check: run => {
    const contexts = rows(run.stdout).slice(1).map(row => row[0]);
    assert.equal(contexts.filter(c => c === `prod-eu`).length, api.objects(`secrets`).length);
    assert.equal(contexts.filter(c => c === `prod-us`).length, api.objects(`secrets`).length);
  }},
  // decode
  'Show a secret\'s registries, passwords masked': {check: run => {
    noPasswords(run.stdout + run.stderr);
    assert.match(run.stdout, /^ghcr\.io\s+ghcr\.io\s+bot\s+\*+/m);
    assert.match(run.stdout, /^https:\/\/index\.docker\.io\/v1\/\s+index\.docker\.io\s+bot\s+\*+/m);
    assert.match(run.stdout, /namespace web/);
  }},
  'Check a manifest before applying it': {check: run => {
    noClusterContact();
    noPasswords(run.stdout + run.stderr);
    assert.match(run.stdout, /^ghcr\.io\s+ghcr\.io\s+bot\s+\*+/m);
  }},
  'Turn a secret into a Docker config to test it locally': {check: () => {
    const config = JSON.parse(fs.readFileSync(path.join(work, `cfg`, `config.json`), `utf8`));
    assert.deepEqual(config, JSON.parse(CONFIG), `the secret's config, passwords revealed, which docker then read`);
  }},
  // explain
  'Explain an image against a local Docker config, no cluster needed': {check: run => {
    noClusterContact();
    assert.match(run.stdout, /^ {4}1\. user "bot" from \S+\.docker\/config\.json, key "https:\/\/index\.docker\.io\/v1\/"/m);
  }},
  'Explain several images against two secret manifests, in order': {check: run => {
    noClusterContact();
    assert.match(run.stdout, /^IMAGE ghcr\.io\/acme\/api:1\n[^]*^ {4}1\. user "bot" from a\.yaml, key "ghcr\.io"[^]*^ {4}2\. user "bot" from b\.yaml, key "ghcr\.io"[^]*^IMAGE quay\.io\/acme\/web$/m);
  }},
  'Explain what pods of the ServiceAccount "builder" in namespace ci will use': {check: run => {
    assert.ok(api.requests.some(r => r.resource === `serviceaccounts` && r.namespace === `ci` && r.name === `builder`), `builder in ci is read`);
    const sources = [...run.stdout.matchAll(/- (\S+), key/g)].map(m => m[1]);
    assert.deepEqual([...new Set(sources)], [`ci/fallback`], `the secrets builder lists, in ci`);
  }},
  'Explain with two pull secrets from the cluster, as JSON': {check: run => {
    const [image] = JSON.parse(run.stdout).images;
    assert.equal(image.image, `quay.io/org/app`);
    assert.deepEqual([...new Set(image.rejected.map((r: {source: string}) => r.source))], [`default/regcred`, `default/fallback`]);
  }},
  'Explain against a secret manifest read from stdin': {check: run => {
    assert.match(run.stdout, /^ {4}1\. user "bot" from -, key "ghcr\.io"/m);
  }},
  // doctor
  'Diagnose the failing pods of the current namespace': {check: run => {
    onlyIn(`default`);
    noWrites();
    assert.match(run.stdout, /api-7f9c-x2x4/);
  }},
  'Diagnose one pod': {check: run => {
    onlyIn(`web`);
    noWrites();
    assert.match(run.stdout, /api-7f9c-x2x4/);
  }},
  'Diagnose the whole cluster as JSON': {check: run => {
    noWrites();
    const text = JSON.stringify(JSON.parse(run.stdout));
    for (const namespace of [`default`, `web`])
      assert.match(text, new RegExp(`"namespace":"${namespace}"`), namespace);
  }},
  'Diagnose two clusters in one go': {check: run => {
    noWrites();
    assert.match(run.stdout, /prod-eu/);
    assert.match(run.stdout, /prod-us/);
  }},
  // verify
  'Verify every workload in the current namespace': {check: run => {
    onlyIn(`default`);
    assert.deepEqual(rows(run.stdout).slice(1).filter(row => /^(default|web)$/.test(row[0]!)).map(row => row.slice(0, 2)), [[`default`, `deployment/api`]]);
  }},
  'Verify the whole cluster and print JSON': {check: run => {
    const results = JSON.parse(run.stdout).results as Array<{namespace: string; kind: string; name: string}>;
    assert.deepEqual(results.map(r => `${r.namespace}/${r.kind}/${r.name}`).sort(), [`default/Deployment/api`, `web/Deployment/api`], `the deployments of every namespace (their pods checked with them)`);
  }},
  'Verify a rendered release before applying it': {check: run => {
    noWrites();
    assert.match(run.stdout, /^web\s+deployment\/api\s+app\s+ghcr\.io\/acme\/api:1\s+unreachable\s+web\/fallback/m);
  }},
  'Verify a kustomization for GitHub Actions, for every platform the cluster runs': {check: run => {
    noWrites();
    assert.match(run.stdout, /^::error .*ghcr\.io\/acme\/api:1/m);
  }},
  'Write a JUnit report for GitLab or Jenkins': {check: () => {
    const report = fs.readFileSync(path.join(work, `verify-report.xml`), `utf8`);
    assert.match(report, /^<\?xml [^]*<testsuites?\b[^]*<testcase\b[^]*deployment\/api/);
    assert.match(report, /<failure\b/);
  }},
  'Verify one image with a local Docker config, no cluster needed': {check: run => {
    noClusterContact();
    assert.match(run.stdout, /registry\.example\.com\/team\/app:1\.2/);
  }},
  // completion
  'Load bash completion into the current shell': {check: async (_run, line) => {
    // In the shell that ran the line, the function registered for kubectl-pullsecret completes `decode reg` from the cluster.
    const probe = await runPrinted(`${line}
function=$(complete -p kubectl-pullsecret | sed -E 's/.*-F ([^ ]+).*/\\1/') || exit 7
COMP_LINE='kubectl-pullsecret decode reg'; COMP_POINT=\${#COMP_LINE}; COMP_WORDS=(kubectl-pullsecret decode reg); COMP_CWORD=2
"$function" kubectl-pullsecret reg decode; printf '%s\\n' "\${COMPREPLY[@]}"`, {bin: bin.dir, kubeconfig, cwd: work, shell: `bash`});
    assert.equal(probe.code, 0, probe.stderr);
    assert.deepEqual(probe.stdout.split(`\n`).filter(Boolean), [`regcred`], `the secrets of the current namespace starting with "reg"`);
  }},
  'Install zsh completion': {check: async () => {
    const file = path.join(work, `zfunc`, `_kubectl-pullsecret`);
    assert.match(fs.readFileSync(file, `utf8`), /^#compdef kubectl-pullsecret\b/, `a zsh completion function in the first directory of fpath`);
    const zsh = await runPrinted(`zsh -n ${JSON.stringify(file)}`, {bin: bin.dir, kubeconfig, cwd: work});
    assert.equal(zsh.code, 0, `zsh reads it without a syntax error\n${zsh.stderr}`);
  }},
  'Load fish completion': {check: async (_run, line) => {
    // The line as printed, in fish, then what fish completes for `decode reg`.
    const probe = await runPrinted(`fish --no-config -c ${shellQuote(`${line}; complete -C 'kubectl-pullsecret decode reg'`)}`, {bin: bin.dir, kubeconfig, cwd: work});
    assert.equal(probe.code, 0, probe.stderr);
    assert.deepEqual(probe.stdout.split(`\n`).filter(Boolean).map(candidate => candidate.split(`\t`)[0]), [`regcred`], `the secrets of the current namespace starting with "reg"`);
  }},
  // version
  'Print the version': {check: run => {
    assert.match(run.stdout, new RegExp(`^kubectl-pullsecret ${escape(VERSION)} \\(commit \\S+, node ${escape(process.version)}\\)\n$`));
  }},
  'Print the version as JSON': {check: run => {
    const version = JSON.parse(run.stdout);
    assert.deepEqual([version.version, version.nodeVersion], [VERSION, process.version]);
  }},
};

function shellQuote(text: string): string {
  return `'${text.replaceAll(`'`, `'\\''`)}'`;
}
function escape(text: string): string {
  return text.replace(/[.*+?^${}()|[\]\\]/g, `\\$&`);
}

/** The columns of a table printed by the tool, one array per line. */
function rows(stdout: string): string[][] {
  return stdout.trim().split(`\n`).map(line => line.trim().split(/\s{2,}|\s(?=\S)/));
}
/** A copy of platform's regcred, with its provenance, in `namespace`. */
function assertCopy(namespace: string) {
  const copy = api.getObject(`secrets`, namespace, `regcred`);
  assert.ok(copy, `${namespace} has the copy`);
  assert.equal(copy.metadata.annotations?.[`pullsecret.kubectl.io/source`], `platform/regcred`, `${namespace}: provenance`);
  assert.deepEqual(auths(namespace, `regcred`), auths(`platform`, `regcred`), `${namespace}: the source's content`);
}
/** Records the policy of the `--keep` example on platform's regcred, as that example does. */
async function recordKeepPolicy(): Promise<void> {
  const run = await runPrinted(`kubectl pullsecret sync regcred --from-namespace platform -A --exclude-namespaces 'kube-*' --attach --keep`, {bin: bin.dir, kubeconfig, cwd: work, shell: `bash`});
  assert.equal(run.code, 0, run.stderr);
}
/** The secrets whose ghcr.io password is now the one their recorded command prints. */
function refreshed(): string[] {
  return api.objects(`secrets`).filter(s => s.metadata.annotations?.[`pullsecret.kubectl.io/password-command`] && password(s.metadata.namespace, s.metadata.name, `ghcr.io`) === `fresh-token`)
    .map(s => `${s.metadata.namespace}/${s.metadata.name}`).sort();
}
/** Every object `install KIND -o yaml` prints now exists in the cluster. */
async function installed(kind: string) {
  const printed = await runPrinted(`kubectl pullsecret install ${kind} -o yaml`, {bin: bin.dir, kubeconfig, cwd: work, shell: `bash`});
  const objects = YAML.parseAllDocuments(printed.stdout).map(doc => doc.toJSON()).filter(Boolean);
  assert.ok(objects.length > 1);
  const plural: Record<string, string> = {Namespace: `namespaces`, ServiceAccount: `serviceaccounts`, ClusterRole: `clusterroles`, ClusterRoleBinding: `clusterrolebindings`, Role: `roles`, RoleBinding: `rolebindings`, Deployment: `deployments`, CronJob: `cronjobs`};
  for (const object of objects) {
    assert.ok(plural[object.kind], object.kind);
    assert.ok(api.getObject(plural[object.kind]!, object.metadata.namespace, object.metadata.name), `${object.kind} ${object.metadata.name} was applied`);
  }
}

// A check that passes on a cluster the example never touched, with no output, could not catch an example that does
// nothing: each one must fail there.
for (const {command, description} of examples.filter(({description}) => CLAIMS[description] !== undefined)) {
  test(`the check of ${command} example "${description}" fails when the example did nothing`, {timeout: 60_000}, async () => {
    await world(command);
    await CLAIMS[description]!.prepare?.();
    api.resetRequests();
    await assert.rejects(async () => CLAIMS[description]!.check({code: 0, stdout: ``, stderr: ``}, `:`));
  });
}
