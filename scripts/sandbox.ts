/**
 * A local playground for `kubectl pullsecret`: the API emulator seeded with a small, realistic
 * cluster plus a real token-auth registry (Debian's docker-registry) holding a private image.
 *
 *   npm run sandbox -- --kubeconfig /tmp/sandbox.kubeconfig
 *
 * The kubeconfig is written only once everything is ready (so a caller may poll for it), and
 * removed again on SIGINT/SIGTERM, when everything is stopped and the script exits 0.
 */
import crypto from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import {startApiEmulator, type ApiEmulator} from '../tests/helpers/apiEmulator/index.ts';
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

  const container = (name: string) => ({name, image, ports: [{containerPort: 8080}]});
  const frontend = api.seed.workload(`Deployment`, `web`, `frontend`, {containers: [container(`frontend`)]}, {replicas: 1});
  const owner = (o: any) => [{apiVersion: o.apiVersion, kind: o.kind, name: o.metadata.name, uid: o.metadata.uid, controller: true, blockOwnerDeletion: true}];
  const frontendTemplateLabels = {app: `frontend`, 'pod-template-hash': `7c9f8d6b5`};
  const replicaSet = api.seed.workload(`ReplicaSet`, `web`, `frontend-7c9f8d6b5`, {containers: [container(`frontend`)]}, {templateLabels: frontendTemplateLabels, ownerReferences: owner(frontend)});
  api.seed.workload(`Deployment`, `api`, `backend`, {serviceAccountName: `api-runner`, containers: [container(`backend`)]});
  api.seed.workload(`CronJob`, `ci`, `nightly-build`, {serviceAccountName: `builder`, containers: [container(`build`)]}, {schedule: `0 2 * * *`});
  api.seed.workload(`Deployment`, `legacy`, `old-app`, {containers: [{name: `old`, image: `nginx:1.25`}]});

  // The frontend cannot pull: `web` has no pull secret yet.
  api.seed.pod(`web`, `frontend-7c9f8d6b5-x2x4q`, {containers: [container(`frontend`)]}, {
    labels: frontendTemplateLabels,
    ownerReferences: owner(replicaSet),
    waiting: {reason: `ImagePullBackOff`, message: `Back-off pulling image "${image}"`},
  });
  api.seed.event(`web`, {kind: `Pod`, name: `frontend-7c9f8d6b5-x2x4q`, fieldPath: `spec.containers{frontend}`}, `Failed`,
    `Failed to pull image "${image}": failed to pull and unpack image "${image}": failed to resolve reference "${image}": pull access denied, repository does not exist or may require authorization: authorization failed: no basic auth credentials`);
  api.seed.pod(`ci`, `nightly-build-29012345-abcde`, {serviceAccountName: `builder`, restartPolicy: `Never`, containers: [container(`build`)]}, {labels: {app: `nightly-build`}});
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
  const stopAll = async () => {
    await Promise.allSettled([api?.stop(), registry?.stop()]);
  };
  try {
    registry = await startRegistry({mode: `token`, users: {[user]: password}, grants: {[user]: {'team/*': [`pull`]}}});
    await registry.push(`team/app`, `1.0`);
    api = await startApiEmulator();
    const {image} = seedCluster(api, registry, user, password);

    // Write to a temp file and rename, so a poller never reads half a kubeconfig.
    const tmp = `${args.kubeconfig}.${process.pid}.tmp`;
    api.writeKubeconfig(tmp);
    fs.renameSync(tmp, args.kubeconfig);

    process.stdout.write([
      `kubectl-pullsecret sandbox is ready.`,
      ``,
      `  export KUBECONFIG=${args.kubeconfig}`,
      `  kubectl get namespaces`,
      `  kubectl pullsecret doctor -A`,
      `  kubectl pullsecret sync regcred --from-namespace ci -n web --attach`,
      `  kubectl pullsecret verify -n web`,
      ``,
      `API server   ${api.url} (contexts: admin [current], readonly, limited)`,
      `registry     ${registry.host} (token auth, realm ${registry.tokenRealm})`,
      `private image ${image}`,
      `registry user ${user} / ${password}  (may pull team/*)`,
      `namespaces   web (frontend in ImagePullBackOff), api, ci (source secret regcred), legacy (pullsecret.kubectl.io/ignore)`,
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
