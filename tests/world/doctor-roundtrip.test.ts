// doctor's fixes, run exactly as printed, heal the pods: for each diagnosis a namespace is broken the way users break
// it, the simulated node pulls through real containerd until the pods fail, doctor diagnoses them, every command of
// its fix is pasted into a shell (real kubectl dispatching `kubectl pullsecret` to this checkout), and the pods are
// then seen Running. The kinds of command lines run here are collected and checked against the list doctor prints.
import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import {after, before, test} from 'node:test';
import {startWorld, type World} from '../helpers/world.ts';
import {runCli} from '../helpers/runCli.ts';
import {pluginBin, runPrinted} from '../helpers/printedCommand.ts';

type Diagnosis = {id: string; cause: string; fix: string[]; notes: string[]};

const PASSWORD = `s3cret-roundtrip`;
let world: World;
let bin: ReturnType<typeof pluginBin>;
let tmp: string;
let counter = 0;
/** The kind of every command line run (`kubectl pullsecret attach --workload`, `kubectl rollout restart`…). */
const kindsRun = new Set<string>();

before(async () => {
  world = await startWorld({registry: {mode: `token`, users: {alice: PASSWORD, mallory: `guess`}, grants: {alice: {'team/*': [`pull`]}}}});
  tmp = fs.mkdtempSync(path.join(os.tmpdir(), `doctor-roundtrip-`));
  bin = pluginBin();
});
after(async () => {
  bin?.remove();
  await world?.stop();
  if (tmp)
    fs.rmSync(tmp, {recursive: true, force: true});
});

const kubectl = async (...args: string[]) => {
  const result = await world.kubectl(args);
  assert.equal(result.code, 0, `kubectl ${args.join(` `)}: ${result.stderr}`);
  return result.stdout;
};

/** A fresh tag per row: the node keeps what it pulled, and a cached image would run whatever the credentials. */
async function freshImage(): Promise<string> {
  const tag = `r${++counter}`;
  await world.registry.push(`team/app`, tag);
  return `${world.registry.host}/team/app:${tag}`;
}

async function apply(ns: string, object: unknown): Promise<void> {
  const file = path.join(tmp, `${++counter}.json`);
  fs.writeFileSync(file, JSON.stringify(object));
  await kubectl(`apply`, `-f`, file, `-n`, ns);
}

async function secret(ns: string, name: string, server: string, user = `alice`, password = PASSWORD): Promise<void> {
  await kubectl(`create`, `secret`, `docker-registry`, name, `--docker-server=${server}`, `--docker-username=${user}`, `--docker-password=${password}`, `-n`, ns);
}

const deployment = (podSpec: Record<string, unknown>) => ({
  apiVersion: `apps/v1`, kind: `Deployment`, metadata: {name: `web`},
  spec: {replicas: 1, selector: {matchLabels: {app: `web`}}, template: {metadata: {labels: {app: `web`}}, spec: podSpec}},
});

/** The kind of a printed command: its program, verb and the flags that change what it does. */
function kindOf(line: string): string {
  const words = line.replace(/\s+#.*$/, ``).split(/\s+/);
  const program = words[0] === `aws` ? `aws … | kubectl pullsecret` : words[1] === `pullsecret` ? `kubectl pullsecret` : `kubectl`;
  const verb = words[0] === `aws` ? words[words.indexOf(`pullsecret`) + 1] : words[1] === `pullsecret` ? words[2] : `${words[1]}${words[1] === `rollout` || words[1] === `set` || words[1] === `create` || words[1] === `delete` ? ` ${words[2]}` : ``}`;
  const flags = words.filter(word => [`--workload`, `--service-account`, `--replace`, `--force`, `--docker-server`].includes(word));
  return [program, verb, ...flags].join(` `);
}

/** Runs the fix as printed: commands through the shell, each succeeding; returns the instructions. */
async function runFix(diagnosis: Diagnosis, env: Record<string, string>, password: string): Promise<string[]> {
  const instructions: string[] = [];
  for (const line of diagnosis.fix) {
    if (!/^(kubectl|aws) /.test(line)) {
      instructions.push(line);
      continue;
    }
    const stdin = /reads the password from stdin/.test(line) ? `${password}\n` : ``;
    const result = await runPrinted(line, {bin: bin.dir, kubeconfig: world.api.kubeconfigPath, env, stdin});
    assert.equal(result.code, / decode /.test(line) ? 1 : 0, `${line}\n${result.stdout}${result.stderr}`);
    assert.doesNotMatch(result.stdout + result.stderr, new RegExp(password));
    kindsRun.add(kindOf(line));
  }
  return instructions;
}

const FAILING = [`ErrImagePull`, `ImagePullBackOff`, `InvalidImageName`, `ErrImageNeverPull`];

type Row = {
  /** The diagnosis doctor must give. */
  id: string;
  title: string;
  /** Breaks namespace `ns` (the workload is labelled app=web); `image` is pushed and pullable by alice. */
  breakIt: (ns: string, image: string) => Promise<void>;
  /** What the user did after the pods failed, before asking doctor. */
  thenIt?: (ns: string) => Promise<void>;
  /** A registry of its own, so that no other row's secret holds credentials for it. */
  ownRegistry?: boolean;
  /** Variables the fix asks to set. */
  env?: (image: string) => Record<string, string>;
  /** The password the fix reads on stdin. */
  password?: string;
  /** The fix's first line, as printed. */
  firstLine?: (ns: string, image: string) => string;
};

/** The registry of the row being run. */
let rowHost = ``;
const host = () => rowHost;

const ROWS: Row[] = [
  {
    id: `missing-pull-secrets`, title: `a pod without imagePullSecrets and a usable secret in its namespace`,
    breakIt: async (ns, image) => {
      await secret(ns, `regcred`, host());
      await apply(ns, deployment({containers: [{name: `app`, image}]}));
    },
    firstLine: ns => `kubectl pullsecret attach regcred -n ${ns} --service-account default`,
  },
  {
    id: `missing-pull-secrets`, title: `a pod without imagePullSecrets and no secret for its registry anywhere`, ownRegistry: true,
    breakIt: async (ns, image) => apply(ns, deployment({containers: [{name: `app`, image}]})),
    env: () => ({REGISTRY_USERNAME: `alice`}),
    firstLine: ns => `kubectl pullsecret add regcred -n ${ns} --docker-server ${host()} --docker-username "$REGISTRY_USERNAME" --docker-password-stdin  # set REGISTRY_USERNAME first; reads the password from stdin`,
  },
  {
    id: `custom-serviceaccount-missing-secret`, title: `a pod running as a ServiceAccount that lacks the secret the default one has`,
    breakIt: async (ns, image) => {
      await secret(ns, `regcred`, host());
      await kubectl(`patch`, `serviceaccount`, `default`, `-n`, ns, `-p`, `{"imagePullSecrets":[{"name":"regcred"}]}`);
      await kubectl(`create`, `serviceaccount`, `builder`, `-n`, ns);
      await apply(ns, deployment({serviceAccountName: `builder`, containers: [{name: `app`, image}]}));
    },
    firstLine: ns => `kubectl pullsecret attach regcred -n ${ns} --service-account builder`,
  },
  {
    id: `pod-predates-serviceaccount-change`, title: `a ServiceAccount given the secret after its pods were created`,
    breakIt: async (ns, image) => {
      await secret(ns, `regcred`, host());
      await apply(ns, deployment({containers: [{name: `app`, image}]}));
    },
    thenIt: async ns => {
      await kubectl(`patch`, `serviceaccount`, `default`, `-n`, ns, `-p`, `{"imagePullSecrets":[{"name":"regcred"}]}`);
    },
    firstLine: ns => `kubectl rollout restart deployment/web -n ${ns}`,
  },
  {
    id: `wrong-credentials`, title: `a secret with a wrong password (the fix rotates that registry's entry only)`,
    breakIt: async (ns, image) => {
      await secret(ns, `regcred`, host(), `alice`, `wrong`);
      await apply(ns, deployment({imagePullSecrets: [{name: `regcred`}], containers: [{name: `app`, image}]}));
    },
    firstLine: ns => `kubectl pullsecret rotate regcred -n ${ns} --docker-server ${host()} --docker-username alice --docker-password-stdin  # reads the password from stdin`,
  },
  {
    id: `wrong-credentials`, title: `a wrong password on a ReplicaSet's pod (no rollout: the fix deletes the pod, the ReplicaSet replaces it)`,
    breakIt: async (ns, image) => {
      await secret(ns, `regcred`, host(), `alice`, `wrong`);
      await apply(ns, {apiVersion: `apps/v1`, kind: `ReplicaSet`, metadata: {name: `web`}, spec: {replicas: 1, selector: {matchLabels: {app: `web`}}, template: {metadata: {labels: {app: `web`}}, spec: {imagePullSecrets: [{name: `regcred`}], containers: [{name: `app`, image}]}}}});
    },
  },
  {
    id: `access-denied`, title: `a user the registry knows but denies pull access`,
    breakIt: async (ns, image) => {
      await secret(ns, `regcred`, host(), `mallory`, `guess`);
      await apply(ns, deployment({imagePullSecrets: [{name: `regcred`}], containers: [{name: `app`, image}]}));
    },
    env: () => ({REGISTRY_USERNAME: `alice`}),
  },
  {
    id: `secret-not-found`, title: `a pod listing its own secret that exists nowhere`, ownRegistry: true,
    breakIt: async (ns, image) => apply(ns, deployment({imagePullSecrets: [{name: `tls-cred`}], containers: [{name: `app`, image}]})),
    env: () => ({REGISTRY_USERNAME: `alice`}),
    firstLine: ns => `kubectl pullsecret add tls-cred -n ${ns} --docker-server ${host()} --docker-username "$REGISTRY_USERNAME" --docker-password-stdin  # set REGISTRY_USERNAME first; reads the password from stdin`,
  },
  {
    id: `secret-not-found`, title: `a pod listing its own missing secret while another secret of its namespace matches (fixed through the workload)`,
    breakIt: async (ns, image) => {
      await secret(ns, `regcred`, host());
      await apply(ns, deployment({imagePullSecrets: [{name: `ghost`}], containers: [{name: `app`, image}]}));
    },
    firstLine: ns => `kubectl pullsecret attach regcred -n ${ns} --workload deployment/web  # the pod lists its own imagePullSecrets, so its ServiceAccount's never reach it`,
  },
  {
    id: `secret-in-other-namespace`, title: `a secret the pod lists that exists only in another namespace`,
    breakIt: async (ns, image) => {
      await kubectl(`create`, `namespace`, `${ns}-src`);
      await secret(`${ns}-src`, `shared`, host());
      await apply(ns, deployment({imagePullSecrets: [{name: `shared`}], containers: [{name: `app`, image}]}));
    },
    firstLine: ns => `kubectl pullsecret sync shared --from-namespace ${ns}-src -n ${ns}`,
  },
  {
    id: `server-key-mismatch`, title: `a secret whose server key names the registry differently`,
    breakIt: async (ns, image) => {
      await secret(ns, `regcred`, `https://${host().replace(`127.0.0.1`, `localhost`)}/v2/`);
      await apply(ns, deployment({imagePullSecrets: [{name: `regcred`}], containers: [{name: `app`, image}]}));
    },
    env: () => ({REGISTRY_USERNAME: `alice`}),
  },
  {
    id: `secret-invalid`, title: `an undecodable pull secret`,
    breakIt: async (ns, image) => {
      const file = path.join(tmp, `${++counter}.json`);
      fs.writeFileSync(file, JSON.stringify({apiVersion: `v1`, kind: `Secret`, metadata: {name: `broken`}, type: `kubernetes.io/dockerconfigjson`,
        data: {'.dockerconfigjson': Buffer.from(`{"auths":{"${host()}":{"username":"alice","password":5}}}`).toString(`base64`)}}));
      await kubectl(`apply`, `-f`, file, `-n`, ns);
      await apply(ns, deployment({imagePullSecrets: [{name: `broken`}], containers: [{name: `app`, image}]}));
    },
    env: () => ({REGISTRY_USERNAME: `alice`}),
  },
  {
    id: `image-not-found`, title: `a tag that does not exist`,
    breakIt: async (ns, image) => {
      await secret(ns, `regcred`, host());
      await apply(ns, deployment({imagePullSecrets: [{name: `regcred`}], containers: [{name: `app`, image: image.replace(/:[^:]+$/, `:missing`)}]}));
    },
    env: image => ({IMAGE: image}),
  },
  {
    id: `invalid-image`, title: `an invalid image name`,
    breakIt: async (ns, image) => {
      await secret(ns, `regcred`, host());
      await apply(ns, deployment({imagePullSecrets: [{name: `regcred`}], containers: [{name: `app`, image: image.replace(`team/app`, `Team/App`)}]}));
    },
    env: image => ({IMAGE: image}),
  },
  {
    id: `image-never-pull`, title: `imagePullPolicy Never without the image on the node`,
    breakIt: async (ns, image) => {
      await secret(ns, `regcred`, host());
      await apply(ns, deployment({imagePullSecrets: [{name: `regcred`}], containers: [{name: `app`, image, imagePullPolicy: `Never`}]}));
    },
  },
];

for (const row of ROWS) {
  test(`${row.id}: ${row.title}: doctor's fix, run as printed, gets the pods Running`, {timeout: 120_000}, async () => {
    const ns = `rt-${++counter}`;
    await kubectl(`create`, `namespace`, ns);
    let image: string;
    if (row.ownRegistry) {
      const registry = await world.addRegistry({mode: `basic`, users: {alice: PASSWORD}});
      await registry.push(`team/app`, `v1`);
      rowHost = registry.host;
      image = `${registry.host}/team/app:v1`;
    } else {
      rowHost = world.registry.host;
      image = await freshImage();
    }
    await row.breakIt(ns, image);
    await world.node.waitForPods({namespace: ns, labels: {app: `web`}}, FAILING);
    await row.thenIt?.(ns);
    const result = await runCli([`doctor`, `-n`, ns, `-o`, `json`, `--kubeconfig`, world.api.kubeconfigPath]);
    assert.equal(result.code, 1, result.stderr);
    const pods = (JSON.parse(result.stdout) as {pods: Array<{diagnosis: Diagnosis}>}).pods;
    const {diagnosis} = pods[0]!;
    assert.equal(diagnosis.id, row.id, JSON.stringify(diagnosis, null, 1));
    if (row.firstLine)
      assert.equal(diagnosis.fix[0], row.firstLine(ns, image));
    await runFix(diagnosis, row.env?.(image) ?? {}, row.password ?? PASSWORD);
    const running = await world.node.waitForPods({namespace: ns, labels: {app: `web`}}, `Running`, {timeoutMs: 30_000});
    assert.ok(running.length > 0);
  });
}

test(`every kind of command doctor prints for these diagnoses was run`, () => {
  for (const kind of [
    `kubectl pullsecret attach --service-account`,
    `kubectl pullsecret attach --workload`,
    `kubectl pullsecret add --docker-server`,
    `kubectl pullsecret add --docker-server --replace --force`,
    `kubectl pullsecret decode`,
    `kubectl pullsecret sync`,
    `kubectl pullsecret rotate --docker-server`,
    `kubectl rollout restart`,
    `kubectl delete pod`,
    `kubectl set image`,
    `kubectl patch`,
  ])
    assert.ok(kindsRun.has(kind), `${kind} in ${[...kindsRun].join(`; `)}`);
});
