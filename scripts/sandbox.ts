/**
 * A local playground for `kubectl pullsecret`: the API emulator with its controllers, seeded with a small,
 * realistic cluster, a real token-auth registry (Debian's docker-registry) holding a private image, and a node
 * (tests/helpers/node) that really pulls every pod's images through containerd with the kubelet's credentials:
 * pods without working credentials show ImagePullBackOff, and become Running once fixed.
 *
 *   npm run sandbox -- --kubeconfig /tmp/sandbox.kubeconfig
 *
 * (`npm run sandbox` goes through scripts/sandbox.mjs, which installs what is missing first.) Without
 * containerd (it needs root here), the sandbox still starts, with a warning: its pods then stay Pending.
 * The kubeconfig is written only once everything is ready (so a caller may poll for it), and
 * removed again on SIGINT/SIGTERM, when everything is stopped and the script exits 0.
 */
import crypto from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import {startApiEmulator, type ApiEmulator} from '../tests/helpers/apiEmulator/index.ts';
import {startContainerd, type Containerd} from '../tests/helpers/containerd/index.ts';
import {startNode, type TestNode} from '../tests/helpers/node/index.ts';
import {startRegistry, type TestRegistry} from '../tests/helpers/registry/index.ts';
import {serializeDockerConfigJson} from '../sources/core/dockerconfig/serialize.ts';

const USAGE = `usage: npm run sandbox -- --kubeconfig <path>\n`;

function parseArgs(argv: string[]): {kubeconfig: string} | undefined {
  let kubeconfig: string | undefined;
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i]!;
    if (arg === `--kubeconfig`)
      kubeconfig = argv[++i];
    else if (arg.startsWith(`--kubeconfig=`))
      kubeconfig = arg.slice(`--kubeconfig=`.length);
    else
      return undefined;
  }
  return kubeconfig ? {kubeconfig: path.resolve(kubeconfig)} : undefined;
}

/** Seeds the sandbox cluster; returns the names the banner mentions. */
function seedCluster(api: ApiEmulator, registry: TestRegistry, user: string, password: string) {
  const image = `${registry.host}/team/app:1.0`;
  const dockerconfigjson = serializeDockerConfigJson([[registry.host, {username: user, password}]]);

  api.seed.namespace(`web`, {labels: {team: `frontend`}});
  api.seed.namespace(`api`, {labels: {team: `backend`}});
  api.seed.namespace(`ci`, {labels: {team: `platform`}});
  api.seed.namespace(`legacy`, {annotations: {'pullsecret.kubectl.io/ignore': `true`}});

  // The source credentials live in `ci`, ready to be synced elsewhere.
  api.seed.secret(`ci`, {
    metadata: {name: `regcred`, labels: {'app.kubernetes.io/managed-by': `kubectl-pullsecret`}},
    type: `kubernetes.io/dockerconfigjson`,
    data: {'.dockerconfigjson': Buffer.from(dockerconfigjson).toString(`base64`)},
  });
  api.seed.serviceAccount(`ci`, `builder`, {imagePullSecrets: [`regcred`]});
  api.seed.serviceAccount(`api`, `api-runner`);

  // One image per workload: a node that has an image runs any IfNotPresent pod of it, whatever its
  // credentials (Kubernetes before 1.35), which would hide the failures the sandbox is here to show.
  const container = (name: string, repository = `team/app`) => ({name, image: repository === `team/app` ? image : `${registry.host}/${repository}:1.0`, ports: [{containerPort: 8080}]});
  // The controllers make the ReplicaSets and pods; the node pulls. `web` has no pull secret yet, so the
  // frontend ends in ImagePullBackOff; so does the backend (its ServiceAccount lists none), and the worker.
  api.seed.workload(`Deployment`, `web`, `frontend`, {containers: [container(`frontend`)]}, {replicas: 1});
  api.seed.workload(`Deployment`, `api`, `backend`, {serviceAccountName: `api-runner`, containers: [container(`backend`, `team/api`)]});
  // A worker whose own secret holds a password that no longer works: 401 from the token endpoint.
  api.seed.secret(`api`, {
    metadata: {name: `old-regcred`},
    type: `kubernetes.io/dockerconfigjson`,
    data: {'.dockerconfigjson': Buffer.from(serializeDockerConfigJson([[registry.host, {username: user, password: `an-old-password`}]])).toString(`base64`)},
  });
  api.seed.workload(`Deployment`, `api`, `worker`, {imagePullSecrets: [{name: `old-regcred`}], containers: [container(`worker`, `team/worker`)]});
  const cronJob = api.seed.workload(`CronJob`, `ci`, `nightly-build`, {serviceAccountName: `builder`, containers: [container(`build`, `team/builder`)]}, {schedule: `0 2 * * *`});
  // Last night's run: its pod pulls with the builder's secret and runs.
  api.seed.workload(`Job`, `ci`, `nightly-build-29012345`, {serviceAccountName: `builder`, restartPolicy: `Never`, containers: [container(`build`, `team/builder`)]}, {
    templateLabels: {'batch.kubernetes.io/job-name': `nightly-build-29012345`},
    ownerReferences: [{apiVersion: `batch/v1`, kind: `CronJob`, name: `nightly-build`, uid: cronJob.metadata.uid, controller: true, blockOwnerDeletion: true}],
  });
  // Docker Hub is off this machine: the node reports it unreachable, as an offline node would.
  api.seed.workload(`Deployment`, `legacy`, `old-app`, {containers: [{name: `old`, image: `nginx:1.25`}]});
  return {image};
}

async function main(): Promise<number> {
  const args = parseArgs(process.argv.slice(2));
  if (!args) {
    process.stderr.write(USAGE);
    return 2;
  }
  const user = `developer`;
  const password = crypto.randomBytes(9).toString(`base64url`);
  let registry: TestRegistry | undefined;
  let api: ApiEmulator | undefined;
  let containerd: Containerd | undefined;
  let node: TestNode | undefined;
  const stopAll = async () => {
    await node?.stop();
    await Promise.allSettled([api?.stop(), registry?.stop(), containerd?.stop()]);
  };
  try {
    registry = await startRegistry({mode: `token`, users: {[user]: password}, grants: {[user]: {'team/*': [`pull`]}}});
    await Promise.all([`team/app`, `team/api`, `team/worker`, `team/builder`].map(repository => registry!.push(repository, `1.0`)));
    api = await startApiEmulator({controllers: true});
    let nodeNote = `node         ${`emulator-node`}: pulls through containerd (kubelet back-off 1 s, doubling up to 10 s)`;
    try {
      containerd = await startContainerd();
      containerd.trustRegistry(registry);
      node = startNode({api, containerd, backoff: {initialMs: 1000, maxMs: 10_000}});
    } catch (error) {
      nodeNote = `node         none: ${(error as Error).message} (pods stay Pending)`;
      process.stderr.write(`sandbox: warning: no node: ${(error as Error).message}; pods will stay Pending\n`);
    }
    const {image} = seedCluster(api, registry, user, password);
    // Ready means the first pulls have been tried: the failing pods already show why.
    await api.settled();
    for (const [namespace, app] of [[`web`, `frontend`], [`api`, `backend`], [`api`, `worker`]] as const)
      await node?.waitForPods({namespace, labels: {app}}, [`ErrImagePull`, `ImagePullBackOff`], {timeoutMs: 30_000});
    await node?.waitForPods({namespace: `ci`, labels: {'batch.kubernetes.io/job-name': `nightly-build-29012345`}}, `Running`, {timeoutMs: 30_000});

    // Write to a temp file and rename, so a poller never reads half a kubeconfig.
    const tmp = `${args.kubeconfig}.${process.pid}.tmp`;
    api.writeKubeconfig(tmp);
    fs.renameSync(tmp, args.kubeconfig);

    process.stdout.write([
      `kubectl-pullsecret sandbox is ready.`,
      ``,
      `  export KUBECONFIG=${args.kubeconfig}`,
      `  kubectl get namespaces`,
      `  kubectl get pods -A`,
      `  kubectl pullsecret doctor -A`,
      `  kubectl pullsecret sync regcred --from-namespace ci -n web --attach --restart`,
      `  kubectl get pods -n web`,
      `  kubectl pullsecret verify -n web`,
      ``,
      `API server   ${api.url} (contexts: admin [current], readonly, limited)`,
      `registry     ${registry.host} (token auth, realm ${registry.tokenRealm})`,
      `private image ${image}`,
      nodeNote,
      `registry user ${user} / ${password}  (may pull team/*)`,
      `namespaces   web (frontend in ImagePullBackOff), api (backend without a pull secret and worker with an old password, both in ImagePullBackOff), ci (source secret regcred; last night's job ran), legacy (pullsecret.kubectl.io/ignore)`,
      ``,
      `Press Ctrl-C to stop.`,
      ``,
    ].join(`\n`));

    const signal = await new Promise<NodeJS.Signals>(resolve => {
      process.once(`SIGINT`, () => resolve(`SIGINT`));
      process.once(`SIGTERM`, () => resolve(`SIGTERM`));
    });
    process.stderr.write(`sandbox: ${signal}, stopping\n`);
    fs.rmSync(args.kubeconfig, {force: true});
    await stopAll();
    return 0;
  } catch (e) {
    await stopAll();
    process.stderr.write(`error: the sandbox could not start: ${(e as Error).message}\n`);
    return 1;
  }
}

process.exitCode = await main();
