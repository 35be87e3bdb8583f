// Property: for random scenarios, `verify`'s verdict for each pod and container equals what the test world's node
// really did — real containerd pulling from real registries with the credentials the simulated kubelet picked
// (its own keyring, tests/helpers/node, never the product's). Two independent implementations have to agree.
//
// A scenario is one namespace: a few pull secrets (several registry keys each, in several key forms and entry forms,
// good, wrong or partly-granted users, broken entries, legacy and ignored secret types), a ServiceAccount with or
// without pull secrets, and pods (own list with missing names, or the ServiceAccount's; init containers; images that
// exist, are public, need another user, are missing or are invalid). Every pod uses `imagePullPolicy: Always`, so the
// node's image cache never hides a credential problem. Scenarios are drawn with fast-check from a seed
// (PROPERTY_SEED, else random; printed on failure) in batches; PROPERTY_SCENARIOS sets how many (default 96).
import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import {after, before, test} from 'node:test';
import fc from 'fast-check';
import {runCli} from '../helpers/runCli.ts';
import {startWorld, type World} from '../helpers/world.ts';
import {podState} from '../helpers/node/index.ts';
import type {TestRegistry} from '../helpers/registry/index.ts';

const SCENARIOS = Number(process.env.PROPERTY_SCENARIOS ?? 96);
const BATCH = 12;
const SEED = process.env.PROPERTY_SEED !== undefined ? Number(process.env.PROPERTY_SEED) : Math.floor(Math.random() * 2 ** 31);

let world: World;
let token: TestRegistry;
let basic: TestRegistry;
let tls: TestRegistry;
const tmp = fs.mkdtempSync(path.join(os.tmpdir(), `verify-vs-node-`));

const USERS = {alice: `alice-pw`, bob: `bob-pw`, carol: `carol-pw`, dave: `dave-pw`};

before(async () => {
  // token: alice may pull team/*, bob other/*, anyone public/*; basic (plain HTTP): carol; tls (test CA): dave.
  world = await startWorld({registry: {mode: `token`, users: {alice: USERS.alice, bob: USERS.bob}, grants: {alice: {'team/*': [`pull`]}, bob: {'other/*': [`pull`]}}, anonymousPull: [`public/*`]}, backoff: {initialMs: 60_000, maxMs: 60_000}});
  token = world.registry;
  basic = await world.addRegistry({mode: `basic`, users: {carol: USERS.carol}});
  tls = await world.addRegistry({mode: `tls`, users: {dave: USERS.dave}});
  await Promise.all([token.push(`team/app`, `1`), token.push(`other/lib`, `1`), token.push(`public/tool`, `1`), basic.push(`team/app`, `1`), tls.push(`team/app`, `1`)]);
});
after(async () => {
  await world?.stop();
  fs.rmSync(tmp, {recursive: true, force: true});
});

// ---- the scenario model (plain data; hosts are filled in when the scenario is written) ----

type RegistryName = `token` | `basic` | `tls`;
type KeyForm = `host` | `https` | `http-v2` | `https-v1` | `path-team` | `path-other` | `no-port` | `glob` | `localhost`;
/** `right`: the user the entry's registry grants the pull (alice on token, carol on basic, dave on tls). */
type Who = `right` | `alice` | `bob` | `carol` | `dave` | `wrong-password` | `nobody`;
type EntryForm = `userpass` | `auth` | `auth-unpadded` | `auth-wins` | `identity-token-only` | `broken-number` | `broken-base64`;
type Entry = {registry: RegistryName; key: KeyForm; who: Who; form: EntryForm};
type SecretSpec = {name: string; type: `dockerconfigjson` | `dockercfg` | `opaque`; entries: Entry[]};
type ImageChoice = `token-team` | `token-other` | `token-public` | `token-missing` | `basic-team` | `basic-missing` | `tls-team` | `invalid`;
type PodSpecModel = {name: string; ownSecrets: string[] | undefined; init: ImageChoice | undefined; containers: ImageChoice[]};
type Scenario = {secrets: SecretSpec[]; saSecrets: string[]; pods: PodSpecModel[]};

const SECRET_NAMES = [`s0`, `s1`, `s2`];
/** `fc.constantFrom` with weights: [[weight, value], …]. */
const weighted = <T>(...choices: Array<[number, T]>): fc.Arbitrary<T> => fc.oneof(...choices.map(([weight, value]) => ({weight, arbitrary: fc.constant(value)})));
const entryArb: fc.Arbitrary<Entry> = fc.record({
  registry: weighted<RegistryName>([4, `token`], [2, `basic`], [2, `tls`]),
  key: weighted<KeyForm>([8, `host`], [2, `https`], [1, `http-v2`], [1, `https-v1`], [2, `path-team`], [1, `path-other`], [1, `no-port`], [1, `glob`], [1, `localhost`]),
  who: weighted<Who>([10, `right` as Who], [2, `alice`], [1, `bob`], [2, `wrong-password`], [1, `nobody`]),
  form: weighted<EntryForm>([16, `userpass`], [6, `auth`], [2, `auth-unpadded`], [2, `auth-wins`], [2, `identity-token-only`], [1, `broken-number`], [1, `broken-base64`]),
});
const secretArb = (name: string): fc.Arbitrary<SecretSpec> => fc.record({
  name: fc.constant(name),
  type: weighted<SecretSpec[`type`]>([8, `dockerconfigjson`], [1, `dockercfg`], [1, `opaque`]),
  entries: fc.array(entryArb, {minLength: 1, maxLength: 3}),
});
const imageArb = weighted<ImageChoice>([6, `token-team`], [2, `token-other`], [2, `token-public`], [1, `token-missing`], [3, `basic-team`], [1, `basic-missing`], [3, `tls-team`], [1, `invalid`]);
const secretRefArb = (minLength: number) => fc.array(weighted([5, `s0`], [3, `s1`], [2, `s2`], [1, `missing`]), {minLength, maxLength: 3});
const scenarioArb: fc.Arbitrary<Scenario> = fc.record({
  secrets: fc.tuple(...SECRET_NAMES.map(secretArb)).map(list => [...list]),
  saSecrets: secretRefArb(0),
  pods: fc.array(fc.record({
    name: fc.constant(``),
    ownSecrets: fc.option(secretRefArb(1), {nil: undefined}),
    init: fc.option(imageArb, {nil: undefined, freq: 3}),
    containers: fc.array(imageArb, {minLength: 1, maxLength: 2}),
  }), {minLength: 1, maxLength: 3}).map(pods => pods.map((p, i) => ({...p, name: `p${i}`}))),
});

// ---- writing a scenario into the cluster ----

const registryOf = (name: RegistryName) => ({token, basic, tls})[name];

function keyString(entry: Entry): string {
  const host = registryOf(entry.registry).host;
  const port = host.split(`:`)[1];
  switch (entry.key) {
    case `host`: return host;
    case `https`: return `https://${host}`;
    case `http-v2`: return `http://${host}/v2/`;
    case `https-v1`: return `https://${host}/v1/`;
    case `path-team`: return `${host}/team`;
    case `path-other`: return `${host}/other`;
    case `no-port`: return `127.0.0.1`;
    case `glob`: return `127.0.0.*:${port}`;
    case `localhost`: return `localhost:${port}`;
  }
}

function credentials(who: Who, registry: RegistryName): [string, string] {
  switch (who) {
    case `right`: return credentials(registry === `token` ? `alice` : registry === `basic` ? `carol` : `dave`, registry);
    case `wrong-password`: return [`alice`, `not-the-password`];
    case `nobody`: return [`nobody`, `nobody-pw`];
    default: return [who, USERS[who]];
  }
}

function entryJson(entry: Entry): unknown {
  const [user, password] = credentials(entry.who, entry.registry);
  const auth = Buffer.from(`${user}:${password}`).toString(`base64`);
  switch (entry.form) {
    case `userpass`: return {username: user, password};
    case `auth`: return {auth};
    case `auth-unpadded`: return {auth: auth.replace(/=+$/, ``)};
    case `auth-wins`: return {username: `nobody`, password: `nobody-pw`, auth};
    case `identity-token-only`: return {identitytoken: `eyJhbGciOiJub25lIn0.e30.`};
    case `broken-number`: return {username: user, password: 5};
    case `broken-base64`: return {auth: `pants`};
  }
}

function secretObject(spec: SecretSpec): any {
  const map: Record<string, unknown> = {};
  for (const entry of spec.entries)
    map[keyString(entry)] = entryJson(entry);
  const json = JSON.stringify(spec.type === `dockercfg` ? map : {auths: map});
  const key = spec.type === `dockercfg` ? `.dockercfg` : `.dockerconfigjson`;
  return {
    metadata: {name: spec.name},
    type: spec.type === `dockercfg` ? `kubernetes.io/dockercfg` : spec.type === `opaque` ? `Opaque` : `kubernetes.io/dockerconfigjson`,
    data: {[key]: Buffer.from(json).toString(`base64`)},
  };
}

function imageString(choice: ImageChoice): string {
  switch (choice) {
    case `token-team`: return `${token.host}/team/app:1`;
    case `token-other`: return `${token.host}/other/lib:1`;
    case `token-public`: return `${token.host}/public/tool:1`;
    case `token-missing`: return `${token.host}/team/app:missing`;
    case `basic-team`: return `${basic.host}/team/app:1`;
    case `basic-missing`: return `${basic.host}/team/app:missing`;
    case `tls-team`: return `${tls.host}/team/app:1`;
    case `invalid`: return `${token.host}/Team/app:1`;
  }
}

function writeScenario(ns: string, scenario: Scenario): void {
  world.api.seed.namespace(ns);
  for (const secret of scenario.secrets)
    world.api.seed.secret(ns, secretObject(secret));
  world.api.local.create(`serviceaccounts`, ns, {metadata: {name: `runner`}, ...(scenario.saSecrets.length > 0 ? {imagePullSecrets: scenario.saSecrets.map(name => ({name}))} : {})}, `property-test`);
  for (const pod of scenario.pods) {
    world.api.local.create(`pods`, ns, {
      metadata: {name: pod.name},
      spec: {
        serviceAccountName: `runner`,
        ...(pod.ownSecrets ? {imagePullSecrets: pod.ownSecrets.map(name => ({name}))} : {}),
        ...(pod.init ? {initContainers: [{name: `init`, image: imageString(pod.init), imagePullPolicy: `Always`}]} : {}),
        containers: pod.containers.map((choice, i) => ({name: `c${i}`, image: imageString(choice), imagePullPolicy: `Always`})),
      },
    }, `property-test`);
  }
}

// ---- what each side says ----

type Row = {namespace: string; kind: string; name: string; container: string; status: string; detail: string};

/** The node's verdict per container: true pulled, false failed, undefined not tried (waits for an init container). */
function nodeVerdicts(pod: any): Map<string, boolean | undefined> {
  const out = new Map<string, boolean | undefined>();
  for (const s of [...(pod.status?.initContainerStatuses ?? []), ...(pod.status?.containerStatuses ?? [])]) {
    const reason = s.state?.waiting?.reason;
    out.set(s.name, s.state?.running || s.state?.terminated ? true : reason === `PodInitializing` || reason === `ContainerCreating` ? undefined : false);
  }
  return out;
}

const SETTLED = [`Running`, `ErrImagePull`, `ImagePullBackOff`, `InvalidImageName`];

let ran = 0;
const outcomes: Record<string, number> = {};

test(`verify's verdict for every pod equals what the node's real pulls did (${SCENARIOS} random scenarios)`, {timeout: 900_000}, async t => {
  const scenarios = fc.sample(scenarioArb, {seed: SEED, numRuns: SCENARIOS});
  const caFile = path.join(tmp, `ca.pem`);
  fs.writeFileSync(caFile, tls.caPem!);
  for (let start = 0; start < scenarios.length; start += BATCH) {
    const batch = scenarios.slice(start, start + BATCH).map((scenario, i) => ({ns: `prop-${start + i}`, scenario}));
    for (const {ns, scenario} of batch)
      writeScenario(ns, scenario);
    for (const {ns, scenario} of batch) {
      for (const pod of scenario.pods)
        await world.node.waitForPods({namespace: ns, name: pod.name}, SETTLED, {timeoutMs: 60_000});
    }
    const result = await runCli([`verify`, `--kubeconfig`, world.api.kubeconfigPath, `--namespaces`, batch.map(b => b.ns).join(`,`), `--insecure-registry`, token.host, `--insecure-registry`, basic.host, `--certificate-authority`, caFile, `-o`, `json`]);
    let rows: Row[];
    try {
      rows = (JSON.parse(result.stdout) as {results: Row[]}).results;
    } catch {
      assert.fail(`verify printed no JSON (exit ${result.code}): ${result.stderr}`);
    }
    for (const {ns, scenario} of batch) {
      for (const podModel of scenario.pods) {
        const pod = world.api.getObject(`pods`, ns, podModel.name);
        const verdicts = nodeVerdicts(pod);
        const podRows = rows.filter(r => r.namespace === ns && r.kind === `Pod` && r.name === podModel.name);
        const context = () => `seed ${SEED}, scenario ${ns}: ${JSON.stringify(scenario)}\nnode: ${podState(pod)} ${JSON.stringify([...verdicts])}\npulls: ${JSON.stringify(world.node.pulls.filter(p => p.pod === `${ns}/${podModel.name}`))}\nverify: ${JSON.stringify(podRows)}`;
        assert.equal(podRows.length, verdicts.size, `one verify row per container\n${context()}`);
        const verifyPullable = podRows.every(r => r.status === `ok` || r.status === `ok-anonymous`);
        assert.equal(verifyPullable, podState(pod) === `Running`, `pod verdict\n${context()}`);
        for (const [container, pulled] of verdicts) {
          if (pulled === undefined)
            continue;
          const row = podRows.find(r => r.container === container)!;
          assert.equal(row.status === `ok` || row.status === `ok-anonymous`, pulled, `container ${container}: verify says ${row.status}\n${context()}`);
        }
        ran++;
        outcomes[podState(pod)] = (outcomes[podState(pod)] ?? 0) + 1;
        for (const row of podRows)
          outcomes[`verify:${row.status}`] = (outcomes[`verify:${row.status}`] ?? 0) + 1;
      }
    }
    for (const {ns} of batch)
      world.api.local.delete(`namespaces`, undefined, ns);
  }
  t.diagnostic(`scenarios: ${scenarios.length}, pods compared: ${ran}, CRI pulls: ${world.node.pulls.length}, seed: ${SEED}; outcomes ${JSON.stringify(outcomes)}`);
  // The draw must exercise both verdicts, or the property proves little.
  assert.ok((outcomes.Running ?? 0) > 0 && ran - (outcomes.Running ?? 0) > 0, JSON.stringify(outcomes));
});
