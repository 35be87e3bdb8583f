/**
 * The cluster that docs/rbac.md's examples talk about, for tests/reliability/rbac.test.ts: namespaces
 * `platform` (the source secret), `web` (a copy, ServiceAccounts `default` and `builder`, Deployment `api`
 * with its ReplicaSet and a running pod, a StatefulSet, a DaemonSet, a CronJob) and `team-b`, images in a real
 * registry; the command lines the doc documents; the helpers that turn the doc's Role/ClusterRole YAML into
 * emulator rules; and runs of a command line as a given user in a fresh (or shared) emulator.
 */
import YAML from 'yaml';
import type {ApiEmulator, RbacRule, RequestRecord} from './apiEmulator/index.ts';
import {startApiEmulator} from './apiEmulator/index.ts';
import {runCli} from './runCli.ts';

export const SECRET = `regcred`;
export const USERNAME = `bot`;
export const PASSWORD = `s3cret-pw`;

/** A `.dockerconfigjson` for the test registry, base64 as stored in a Secret's data. */
export function dockerConfig(registryHost: string): string {
  const auth = Buffer.from(`${USERNAME}:${PASSWORD}`).toString(`base64`);
  return Buffer.from(JSON.stringify({auths: {[registryHost]: {username: USERNAME, password: PASSWORD, auth}}})).toString(`base64`);
}

export type WorldOptions = {
  registryHost: string;
  /** The namespace called `web` below (`team-a` for the emulator's namespace-limited user). */
  appNamespace?: string;
  /** False: `web` has no copy of `regcred` yet (for `sync` creating one). Default true. */
  copyInWeb?: boolean;
  /** Pods admitted before `regcred` was attached to `web`'s default ServiceAccount (they lack it until recreated). */
  stalePods?: boolean;
  /**
   * Also pods failing to pull (for doctor): in `web`, Deployment `worker` run by ServiceAccount `builder`
   * (no pull secrets); in `team-b`, pod `report-1` listing `regcred`, which exists only in `platform`.
   */
  failingPods?: boolean;
};

/**
 * Seeds the world:
 * - `platform/regcred`: the source pull secret (the registry's credentials, plus an entry for ghcr.io);
 * - `web/regcred`: an older copy made by `sync` (only the registry's entry), listed by `web`'s default
 *   ServiceAccount; `web` also has ServiceAccount `builder` (no pull secrets);
 * - in `web`, Deployment `api` (ReplicaSet `api-5d8f`), StatefulSet `cache` and DaemonSet `agent`, each with a
 *   running pod (`stalePods`: admitted before `regcred` was attached to `default`, so `attach --restart` rolls all
 *   three), and CronJob `nightly` whose template lists `regcred` itself;
 * - `team-b`: empty. The image `REGISTRY/team/app:1` is pullable with `regcred`.
 */
export function seedWorld(api: ApiEmulator, options: WorldOptions): void {
  const image = `${options.registryHost}/team/app:1`;
  const web = options.appNamespace ?? `web`;
  const auth = (password: string) => ({username: USERNAME, password, auth: Buffer.from(`${USERNAME}:${password}`).toString(`base64`)});
  const sourceConfig = Buffer.from(JSON.stringify({auths: {[options.registryHost]: auth(PASSWORD), 'ghcr.io': auth(`ghcr-token`)}})).toString(`base64`);
  for (const namespace of [`platform`, web, `team-b`])
    api.seed.namespace(namespace);
  api.seed.secret(`platform`, {metadata: {name: SECRET}, type: `kubernetes.io/dockerconfigjson`, data: {'.dockerconfigjson': sourceConfig}});
  if (options.copyInWeb ?? true) api.seed.secret(web, {
    metadata: {name: SECRET, annotations: {'pullsecret.kubectl.io/source': `platform/${SECRET}`}, labels: {'app.kubernetes.io/managed-by': `kubectl-pullsecret`}},
    type: `kubernetes.io/dockerconfigjson`,
    data: {'.dockerconfigjson': dockerConfig(options.registryHost)},
  });
  api.seed.serviceAccount(web, `builder`, {imagePullSecrets: []});
  const spec = {containers: [{name: `app`, image}]};
  const owned = (kind: string, name: string, uid: string) => [{apiVersion: `apps/v1`, kind, name, uid, controller: true}];
  if (!options.stalePods)
    api.seed.serviceAccount(web, `default`, {imagePullSecrets: [SECRET]});
  // Admission copies the ServiceAccount's list into the pods (still empty with `stalePods`).
  const deployment = api.seed.workload(`Deployment`, web, `api`, spec);
  const replicaSet = api.seed.workload(`ReplicaSet`, web, `api-5d8f`, spec, {templateLabels: {app: `api`}, ownerReferences: owned(`Deployment`, `api`, deployment.metadata.uid)});
  api.seed.pod(web, `api-5d8f-x7k2p`, spec, {phase: `Running`, labels: {app: `api`}, ownerReferences: owned(`ReplicaSet`, `api-5d8f`, replicaSet.metadata.uid)});
  const statefulSet = api.seed.workload(`StatefulSet`, web, `cache`, spec);
  api.seed.pod(web, `cache-0`, spec, {phase: `Running`, labels: {app: `cache`}, ownerReferences: owned(`StatefulSet`, `cache`, statefulSet.metadata.uid)});
  const daemonSet = api.seed.workload(`DaemonSet`, web, `agent`, spec);
  api.seed.pod(web, `agent-q8z4t`, spec, {phase: `Running`, labels: {app: `agent`}, ownerReferences: owned(`DaemonSet`, `agent`, daemonSet.metadata.uid)});
  api.seed.workload(`CronJob`, web, `nightly`, {...spec, imagePullSecrets: [{name: SECRET}]});
  api.seed.serviceAccount(web, `default`, {imagePullSecrets: [SECRET]});
  if (options.failingPods) {
    const workerSpec = {serviceAccountName: `builder`, containers: [{name: `app`, image}]};
    const worker = api.seed.workload(`Deployment`, web, `worker`, workerSpec);
    const workerSet = api.seed.workload(`ReplicaSet`, web, `worker-6c9d`, workerSpec, {templateLabels: {app: `worker`}, ownerReferences: owned(`Deployment`, `worker`, worker.metadata.uid)});
    api.seed.pod(web, `worker-6c9d-m2xq7`, workerSpec, {waiting: `ImagePullBackOff`, labels: {app: `worker`}, ownerReferences: owned(`ReplicaSet`, `worker-6c9d`, workerSet.metadata.uid)});
    api.seed.event(web, {kind: `Pod`, name: `worker-6c9d-m2xq7`}, `Failed`, `Failed to pull image "${image}": failed to authorize: 401 Unauthorized`, {type: `Warning`});
    api.seed.pod(`team-b`, `report-1`, {imagePullSecrets: [{name: SECRET}], containers: [{name: `app`, image}]}, {waiting: `ImagePullBackOff`});
  }
}

/** One permission: a verb on a resource, in a namespace or (namespace undefined) cluster-wide. */
export type Atom = {verb: string; resource: string; group: string; namespace?: string};

export const atomKey = (atom: Atom): string => `${atom.verb} ${atom.group === `` ? `` : `${atom.group}/`}${atom.resource} ${atom.namespace ?? `cluster-wide`}`;

/** A Role or ClusterRole document of docs/rbac.md. */
export type RoleDoc = {kind: `Role` | `ClusterRole`; name: string; namespace?: string; rules: Array<{apiGroups: string[]; resources: string[]; verbs: string[]}>};

/** Every Role/ClusterRole in the ```yaml blocks of a Markdown text (multi-document blocks allowed). */
export function rolesOfMarkdown(markdown: string): RoleDoc[] {
  const roles: RoleDoc[] = [];
  for (const block of markdown.matchAll(/^```yaml\n([\s\S]*?)^```$/gm)) {
    for (const document of YAML.parseAllDocuments(block[1]!)) {
      const object = document.toJS() as {apiVersion?: string; kind?: string; metadata?: {name?: string; namespace?: string}; rules?: RoleDoc[`rules`]} | null;
      if (object === null || (object.kind !== `Role` && object.kind !== `ClusterRole`))
        continue;
      if (object.apiVersion !== `rbac.authorization.k8s.io/v1`)
        throw new Error(`${object.kind} ${object.metadata?.name}: apiVersion must be rbac.authorization.k8s.io/v1`);
      roles.push({kind: object.kind, name: object.metadata?.name ?? ``, namespace: object.metadata?.namespace, rules: object.rules ?? []});
    }
  }
  return roles;
}

/** The permissions a set of roles grants: a Role in its namespace, a ClusterRole cluster-wide (a ClusterRoleBinding). */
export function atomsOf(roles: RoleDoc[]): Atom[] {
  const atoms: Atom[] = [];
  for (const role of roles) {
    const namespace = role.kind === `Role` ? role.namespace : undefined;
    for (const rule of role.rules) {
      for (const group of rule.apiGroups) {
        for (const resource of rule.resources) {
          for (const verb of rule.verbs)
            atoms.push({verb, resource, group, ...(namespace === undefined ? {} : {namespace})});
        }
      }
    }
  }
  return atoms;
}

/** Emulator rules granting exactly these permissions. */
export function rulesOf(atoms: Atom[]): RbacRule[] {
  return atoms.map(atom => ({verbs: [atom.verb], resources: [atom.resource], apiGroups: [atom.group], ...(atom.namespace === undefined ? {} : {namespaces: [atom.namespace]})}));
}

/** A command line of docs/rbac.md, the world it runs in, and the documented roles it runs with. */
export type Form = {
  id: string;
  /** argv after `kubectl pullsecret`; `REGISTRY` is replaced by the test registry's host, `RELEASE` by a manifest file. */
  argv: string[];
  /** Role/ClusterRole names of docs/rbac.md that this form runs with. */
  roles: string[];
  stdin?: string;
  world?: Omit<WorldOptions, `registryHost`>;
};

const credentials = [`--docker-server`, `REGISTRY`, `--docker-username`, USERNAME, `--docker-password-stdin`];
const IMAGE = `REGISTRY/team/app:1`;

/** Every command in the forms docs/rbac.md documents. */
export const FORMS: Form[] = [
  {id: `add create`, argv: [`add`, `newcred`, `-n`, `web`, ...credentials], stdin: PASSWORD, roles: [`pullsecret-add`]},
  {id: `add update`, argv: [`add`, SECRET, `-n`, `web`, ...credentials], stdin: `rotated-pw`, roles: [`pullsecret-add`]},
  {id: `add --dry-run=server`, argv: [`add`, `newcred`, `-n`, `web`, ...credentials, `--dry-run=server`], stdin: PASSWORD, roles: [`pullsecret-add`]},
  {id: `add --attach`, argv: [`add`, `newcred`, `-n`, `web`, ...credentials, `--attach`], stdin: PASSWORD, roles: [`pullsecret-add`]},
  {id: `add -A`, argv: [`add`, SECRET, `-A`, ...credentials], stdin: `rotated-pw`, roles: [`pullsecret-add-all-namespaces`]},
  {id: `add -A --attach`, argv: [`add`, `newcred`, `-A`, ...credentials, `--attach`], stdin: PASSWORD, roles: [`pullsecret-add-all-namespaces`]},
  {id: `attach`, argv: [`attach`, SECRET, `-n`, `web`, `--service-account`, `builder`], roles: [`pullsecret-attach`]},
  {id: `attach --restart`, argv: [`attach`, SECRET, `-n`, `web`, `--restart`], world: {stalePods: true}, roles: [`pullsecret-attach`]},
  {id: `attach --all-service-accounts --workload`, argv: [`attach`, SECRET, `-n`, `web`, `--all-service-accounts`, `--workload`, `deploy/api`, `--workload`, `sts/cache`, `--workload`, `ds/agent`], roles: [`pullsecret-attach`]},
  {id: `attach --dry-run=server`, argv: [`attach`, SECRET, `-n`, `web`, `--service-account`, `builder`, `--dry-run=server`], roles: [`pullsecret-attach`]},
  {id: `attach -A --restart`, argv: [`attach`, SECRET, `-A`, `--exclude-namespaces`, `kube-*,default,team-b`, `--all-service-accounts`, `--restart`], world: {stalePods: true}, roles: [`pullsecret-attach-all-namespaces`]},
  {id: `detach`, argv: [`detach`, SECRET, `-n`, `web`], roles: [`pullsecret-detach`]},
  {id: `detach --workload`, argv: [`detach`, SECRET, `-n`, `web`, `--all-service-accounts`, `--workload`, `cronjob/nightly`], roles: [`pullsecret-detach`]},
  {id: `detach -A`, argv: [`detach`, SECRET, `-A`], roles: [`pullsecret-detach-all-namespaces`]},
  {id: `sync update`, argv: [`sync`, SECRET, `--from-namespace`, `platform`, `-n`, `web`], roles: [`pullsecret-sync-source`, `pullsecret-sync`]},
  {id: `sync create --attach`, argv: [`sync`, SECRET, `--from-namespace`, `platform`, `-n`, `web`, `--attach=builder`], world: {copyInWeb: false}, roles: [`pullsecret-sync-source`, `pullsecret-sync`]},
  {id: `sync -A`, argv: [`sync`, SECRET, `--from-namespace`, `platform`, `-A`], roles: [`pullsecret-sync-all-namespaces`]},
  {id: `sync --prune`, argv: [`sync`, SECRET, `--from-namespace`, `platform`, `--namespaces`, `team-b`, `--prune`], roles: [`pullsecret-sync-all-namespaces`]},
  {id: `rotate`, argv: [`rotate`, SECRET, `--from-namespace`, `platform`, ...credentials], stdin: `rotated-pw`, roles: [`pullsecret-rotate`]},
  {id: `remove`, argv: [`remove`, SECRET, `-n`, `web`], roles: [`pullsecret-remove`]},
  {id: `remove -A`, argv: [`remove`, SECRET, `-A`], roles: [`pullsecret-remove-all-namespaces`]},
  {id: `list`, argv: [`list`, `-n`, `web`], roles: [`pullsecret-list`]},
  {id: `list -A`, argv: [`list`, `-A`], roles: [`pullsecret-list-all-namespaces`]},
  {id: `decode`, argv: [`decode`, SECRET, `-n`, `web`], roles: [`pullsecret-decode`]},
  {id: `explain --secret`, argv: [`explain`, IMAGE, `-n`, `web`, `--secret`, SECRET], roles: [`pullsecret-explain`]},
  {id: `explain --service-account`, argv: [`explain`, IMAGE, `-n`, `web`, `--service-account`, `default`], roles: [`pullsecret-explain`]},
  {id: `verify`, argv: [`verify`, `-n`, `web`], roles: [`pullsecret-verify`]},
  {id: `verify -f`, argv: [`verify`, `-n`, `web`, `-f`, `RELEASE`], roles: [`pullsecret-verify`]},
  {id: `verify --image`, argv: [`verify`, `-n`, `web`, `--image`, IMAGE, `--secret`, SECRET], roles: [`pullsecret-verify`]},
  {id: `verify -A`, argv: [`verify`, `-A`], roles: [`pullsecret-verify-all-namespaces`]},
  {id: `doctor`, argv: [`doctor`, `-n`, `web`], world: {failingPods: true}, roles: [`pullsecret-doctor`]},
  {id: `doctor POD`, argv: [`doctor`, `worker-6c9d-m2xq7`, `-n`, `web`], world: {failingPods: true}, roles: [`pullsecret-doctor`]},
  {id: `doctor -A`, argv: [`doctor`, `-A`], world: {failingPods: true}, roles: [`pullsecret-doctor-all-namespaces`]},
];

/** A manifest for `verify -f`: a Deployment in `web` listing `regcred`. */
export function releaseManifest(registryHost: string): string {
  return `apiVersion: apps/v1
kind: Deployment
metadata: {name: worker, namespace: web}
spec:
  selector: {matchLabels: {app: worker}}
  template:
    metadata: {labels: {app: worker}}
    spec:
      imagePullSecrets: [{name: ${SECRET}}]
      containers: [{name: app, image: "${registryHost}/team/app:1"}]
`;
}

/** The API group of a request path (`/apis/apps/v1/...` → `apps`, `/api/v1/...` → ``). */
export function groupOfPath(path: string): string {
  return path.startsWith(`/apis/`) ? path.split(`/`)[2] ?? `` : ``;
}

/** True when the permission authorizes the request. */
export function atomCovers(atom: Atom, request: {verb?: string; resource?: string; path: string; namespace?: string}): boolean {
  return request.verb === atom.verb && request.resource === atom.resource && groupOfPath(request.path) === atom.group
    && (atom.namespace === undefined || request.namespace === atom.namespace);
}

/** The clock of every run: creation times and ages come out the same in every run. */
export const NOW = new Date(`2026-11-29T07:00:00Z`);

export type FormRun = {code: number; stdout: string; stderr: string; requests: RequestRecord[]};

export type Env = {registryHost: string; releaseFile: string};

/** Commands that never write: their runs may share one emulator. */
export const READ_ONLY_COMMANDS = new Set([`list`, `decode`, `explain`, `verify`, `doctor`]);

/** A fresh emulator seeded with the form's world. */
export async function startWorld(form: Pick<Form, `world`>, env: Env): Promise<ApiEmulator> {
  const api = await startApiEmulator({now: () => NOW});
  try {
    seedWorld(api, {registryHost: env.registryHost, ...form.world});
    return api;
  } catch (error) {
    await api.stop();
    throw error;
  }
}

let users = 0;

/**
 * The context to run as: the emulator's built-in one (`admin`, `readonly`, `limited`), or a new user holding
 * exactly `rules`. Adding a user rewrites the kubeconfig, so add every user before starting concurrent runs.
 */
export function contextFor(api: ApiEmulator, who: {context: string} | {rules: RbacRule[]}): string {
  if (!(`rules` in who))
    return who.context;
  const name = `rbac-user-${++users}`;
  api.addUser(name, who.rules);
  return name;
}

/**
 * Runs one form against `api` in `context` (see contextFor). The requests returned are this run's alone (by
 * user), so read-only runs may share an emulator and run concurrently.
 */
export async function runIn(api: ApiEmulator, form: Pick<Form, `argv` | `stdin`>, env: Env, context: string): Promise<FormRun> {
  const first = api.requests.length;
  const argv = form.argv.map(arg => arg.replaceAll(`REGISTRY`, env.registryHost).replace(/^RELEASE$/, env.releaseFile));
  const result = await runCli([...argv, `--kubeconfig`, api.kubeconfigPath, `--context`, context], {
    stdin: form.stdin === undefined ? undefined : `${form.stdin}\n`,
    context: {now: () => NOW},
  });
  return {...result, requests: api.requests.slice(first).filter(request => request.user === context && request.verb !== undefined)};
}

/** Runs one form in a fresh emulator seeded with its world. */
export async function runForm(form: Pick<Form, `argv` | `stdin` | `world`>, env: Env, who: {context: string} | {rules: RbacRule[]}): Promise<FormRun> {
  const api = await startWorld(form, env);
  try {
    return await runIn(api, form, env, contextFor(api, who));
  } finally {
    await api.stop();
  }
}
