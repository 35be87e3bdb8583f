/**
 * The `verify` use cases: the workloads of one or more clusters (with the policy for named namespaces that do not
 * exist and for clusters where nothing could be listed), manifests judged against a cluster (`-f`, `-k`), and
 * explicit images (`--image`); then the verdict (exit status and the reasons no row carries). Reading the user's
 * files and rendering the report are the command's (adapters); the cluster and the registry come in as ports.
 */
import {gatherForVerify, gatherNamespaces, listNodePlatforms, namespaceExists, snapshotView} from '../cluster/gather.ts';
import {ExitCode, PullSecretError} from '../errors.ts';
import {forEachContext} from '../fanout.ts';
import type {ClusterConnector, ClusterSession, ClusterTarget, KubeObject, Platform, RegistryProbe} from '../ports.ts';
import type {NamespaceScope, ResolvedScope} from '../scope.ts';
import {WORKLOAD_KINDS, WORKLOAD_RESOURCES} from '../workloads.ts';
import {unreadableReferences} from './effective.ts';
import {runVerifyEngine} from './engine.ts';
import type {EngineOptions, EngineView, ParsedSource} from './engine.ts';
import {nodePlatforms} from './platforms.ts';
import type {PlatformNeed} from './platforms.ts';
import {buildReport} from './report.ts';
import {clusterSubjects, manifestSubjects} from './subjects.ts';
import {isPullable} from './types.ts';
import type {PodSubject, VerifyReport, VerifyResult} from './types.ts';

/** What every mode of one verify run shares: the registry checks and the platforms to require. */
export type VerifyRequest = {
  probe: RegistryProbe;
  concurrency: number;
  allCredentials: boolean;
  sendHubFallback: boolean;
  /** The clock, read once per cluster checked. */
  now: () => Date;
  onProgress?: (done: number, total: number) => void;
  /** `--platform`, parsed; absent: the nodes' platforms of each cluster. */
  platforms?: Platform[];
};

/** One object read from `-f` or `-k` (adapters/manifests/read.ts), with where it came from. */
export type Manifest = {object: KubeObject; file?: string; lineOf: (path: Array<string | number>) => number | undefined};

/** Cluster or manifest mode over every `--context`. */
export type ClusterVerifyRequest = VerifyRequest & {
  /** The objects of `-f` or `-k` (manifest mode), else the workloads of the cluster are checked. */
  manifests?: Manifest[];
  /** How the manifests' input is named in the error when it holds nothing to check. */
  manifestInput?: string[];
  /** The clusters and namespace scope named by the flags, read after the manifests are checked (flag conflicts come second). */
  targets: () => {targets: ClusterTarget[]; scope: NamespaceScope};
  connect: ClusterConnector;
  /** Resolves the scope (the command warns about a selector that matches nothing). */
  resolveScope: (session: ClusterSession, scope: NamespaceScope) => Promise<ResolvedScope>;
  /** `-n` was given. */
  namespaceGiven: boolean;
  /** `-l`. */
  labelSelector?: string;
};

/**
 * What one cluster (or the images) gave. `incomplete`: something the verdicts need could not be read (a list of pods
 * or of a workload kind, a referenced secret or ServiceAccount), so success cannot be reported. `blind`: nothing at
 * all could be listed, or every namespace named does not exist; the reason, naming the refused list or the namespaces.
 * `failed`: a namespace named with -n or --namespaces does not exist (verify exits 1).
 */
export type VerifyOutcome = {results: VerifyResult[]; registryChecks: number; notes: string[]; incomplete: boolean; failed?: boolean; blind?: string};

/** The report and the verdict on it: the exit status and the reasons for exit 1 that no row carries. */
export type VerifyConclusion = {report: VerifyReport; exitCode: number; problems: string[]; incomplete: boolean};

/** The reason for exit 1 when a namespace named with -n or --namespaces was not found (the notes name it). */
const NAMESPACE_MISSING = `a namespace named with -n or --namespaces was not found (see the notes), so verify exits 1`;

/** The lists that find what verify checks (pods and the workload kinds). */
const SUBJECT_RESOURCES: ReadonlySet<string> = new Set([`pods`, ...WORKLOAD_RESOURCES.map(([resource]) => resource)]);

/** The last note of an incomplete check. */
const INCOMPLETE_NOTE = `the check is incomplete: what could not be read (see above) was not verified, so verify exits 1`;

/** The report of an outcome and its exit status (`failOnWarning`: `--fail-on warning`). */
export function concludeVerify(outcome: VerifyOutcome, failOnWarning: boolean): VerifyConclusion {
  const {results, registryChecks, notes, incomplete, failed} = outcome;
  const report = buildReport(results, registryChecks, incomplete ? [...notes, INCOMPLETE_NOTE] : notes);
  const failing = results.some(result => !isPullable(result.status));
  const warned = failOnWarning && results.some(result => result.warnings.length > 0);
  const exitCode = failing || warned || incomplete || failed ? ExitCode.failure : ExitCode.ok;
  return {report, exitCode, problems: [...(incomplete ? [INCOMPLETE_NOTE] : []), ...(failed ? [NAMESPACE_MISSING] : [])], incomplete};
}

/** `--image` mode: explicit images against explicit secrets (read from `session`, needed only for them) and parsed files. */
export async function verifyImages(images: string[], request: VerifyRequest & {
  session?: ClusterSession;
  /** `-n`, when no session gives the namespace. */
  namespace?: string;
  secrets?: string[];
  /** The `--docker-config` files as given, after the `--secret` ones. */
  dockerConfigs?: string[];
  /** The `--docker-config` files, parsed, by the name given. */
  parsed: Map<string, ParsedSource>;
}): Promise<VerifyOutcome> {
  const {session, secrets, dockerConfigs, parsed} = request;
  const namespace = session?.namespace ?? request.namespace ?? ``;
  const clusterView = session && secrets
    ? snapshotView(await gatherNamespaces(session, [namespace], {serviceAccounts: [], secrets: secrets.map(name => `${namespace}/${name}`)}))
    : undefined;
  const view: EngineView = {
    serviceAccount: () => ({state: `found`, imagePullSecrets: []}),
    secret: (ns, name) => parsed.get(name) ?? clusterView?.secret(ns, name) ?? {state: `missing`},
  };
  const subjects: PodSubject[] = images.map(image => ({
    namespace,
    kind: `Image`,
    name: image,
    origin: `images`,
    ownPullSecrets: [...(secrets ?? []), ...(dockerConfigs ?? [])],
    containers: [{name: `-`, image, kind: `container`}],
  }));
  const notes: string[] = [];
  const platforms = await platformNeed(request, undefined, notes);
  const outcome = await runVerifyEngine(subjects, view, {...engineOptions(request, session?.contextName ?? null), platforms});
  return {...outcome, notes, incomplete: unreadableReferences(subjects, view).length > 0};
}

/** Cluster or manifest mode, once per `--context`; the first cluster that fails (in the flags' order) is the error. */
export async function verifyClusters(request: ClusterVerifyRequest): Promise<VerifyOutcome> {
  const {manifests} = request;
  if (manifests && manifestSubjects(manifests.map(manifest => manifest.object), `default`).length === 0)
    throw new PullSecretError(nothingInManifests(request.manifestInput ?? [], manifests.map(manifest => manifest.object)));
  const all: VerifyOutcome = {results: [], registryChecks: 0, notes: [], incomplete: false, failed: false};
  const {targets, scope} = request.targets();
  const blind: string[] = [];
  const outcomes = await forEachContext(targets, request.connect, async session => ({
    session,
    outcome: manifests ? await verifyManifests(session, manifests, request) : await verifyCluster(session, scope, request),
  }));
  for (const result of outcomes) {
    if (!result.ok)
      throw result.error;
    const {session, outcome} = result.value;
    const label = (text: string) => (targets.length > 1 ? `${session.contextName}: ${text}` : text);
    all.results.push(...outcome.results);
    all.registryChecks += outcome.registryChecks;
    all.notes.push(...outcome.notes.map(label));
    all.incomplete ||= outcome.incomplete;
    all.failed ||= outcome.failed === true;
    if (outcome.blind !== undefined) {
      blind.push(label(outcome.blind));
      all.notes.push(label(outcome.blind));
    }
  }
  // Nothing could be listed anywhere: no report, one error line naming the refused list.
  if (blind.length === targets.length && blind.length > 0)
    throw new PullSecretError(blind[0]!);
  return all;
}

/** The workloads and pods of one cluster; named namespaces (-n, --namespaces) must exist: a typo must not pass a release gate having checked nothing. */
async function verifyCluster(session: ClusterSession, namespaceScope: NamespaceScope, request: ClusterVerifyRequest): Promise<VerifyOutcome> {
  const scope = await request.resolveScope(session, namespaceScope);
  const named = namespaceScope.kind === `list` || (namespaceScope.kind === `current` && request.namespaceGiven);
  const missing = scope.skipped.filter(skip => named && skip.cause === `missing`).map(skip => skip.namespace);
  const skipped = scope.skipped.filter(skip => !(named && skip.cause === `missing`)).map(skip => `namespace ${skip.namespace} skipped: ${skip.reason}`);
  if (missing.length > 0 && scope.namespaces.length === 0)
    return {results: [], registryChecks: 0, notes: skipped, incomplete: false, failed: true, blind: notFound(missing)};
  const snapshot = await gatherForVerify(session, namespaceScope.kind === `all` ? `all` : scope.namespaces, {labelSelector: request.labelSelector});
  // Pods and workloads that could not be listed were not checked: the verdict is incomplete.
  const unlisted = snapshot.refused.filter(refusal => SUBJECT_RESOURCES.has(refusal.resource));
  if (!snapshot.listedSubjects)
    return {results: [], registryChecks: 0, notes: skipped, incomplete: true, blind: `verify could list no pods and no workloads: ${unlisted[0]?.message ?? `nothing was listed`}`};
  const wanted = new Set(scope.namespaces);
  const inScope = (object: KubeObject) => wanted.has(object.metadata.namespace ?? ``);
  const workloads = snapshot.workloads.filter(inScope);
  const pods = snapshot.pods.filter(inScope);
  // Only a named namespace in which nothing at all was found (and nothing refused) is looked up: one GET each.
  const unverified: string[] = [];
  if (named) {
    const occupied = new Set([...workloads, ...pods].map(object => object.metadata.namespace ?? ``));
    const refusedIn = new Set(unlisted.map(refusal => refusal.namespace));
    const empty = scope.namespaces.filter(namespace => !occupied.has(namespace) && !refusedIn.has(namespace) && !refusedIn.has(undefined));
    for (const namespace of empty) {
      const existence = await namespaceExists(session, namespace);
      if (existence === `missing`)
        missing.push(namespace);
      else if (existence === `unknown`)
        unverified.push(namespace);
    }
    if (missing.length > 0 && scope.namespaces.every(namespace => missing.includes(namespace)))
      return {results: [], registryChecks: 0, notes: skipped, incomplete: false, failed: true, blind: notFound(missing)};
  }
  const subjects = clusterSubjects(workloads, pods);
  const view = snapshotView(snapshot);
  const platformNotes: string[] = [];
  const platforms = await platformNeed(request, session, platformNotes);
  const outcome = await runVerifyEngine(subjects, view, {...engineOptions(request, session.contextName), platforms});
  const namespaceNotes = [
    ...missing.map(namespace => `namespace "${namespace}" not found: nothing in it was checked, so verify exits 1`),
    ...unverified.map(namespace => `nothing to check in namespace ${namespace}, and whether it exists could not be checked (get namespaces is forbidden)`),
  ];
  return {
    ...outcome,
    notes: [...skipped, ...namespaceNotes, ...snapshot.notes, ...platformNotes],
    incomplete: unlisted.length > 0 || unreadableReferences(subjects, view).length > 0,
    failed: missing.length > 0,
  };
}

/** The manifests' pods, judged with the ServiceAccounts and secrets of their namespaces in one cluster (those in the files take precedence). */
async function verifyManifests(session: ClusterSession, manifests: Manifest[], request: VerifyRequest): Promise<VerifyOutcome> {
  const defaultNamespace = session.namespace;
  const objects = manifests.map(manifest => manifest.object);
  const byObject = new Map(manifests.map(manifest => [manifest.object, manifest]));
  const subjects = manifestSubjects(objects, defaultNamespace, (object, path) => {
    const manifest = byObject.get(object);
    if (!manifest)
      return undefined;
    const line = manifest.lineOf(path);
    return manifest.file === undefined && line === undefined ? undefined : {...(manifest.file === undefined ? {} : {file: manifest.file}), ...(line === undefined ? {} : {line})};
  });
  const namespaces = [...new Set(subjects.map(subject => subject.namespace))].sort();
  const refs = {
    serviceAccounts: subjects.map(subject => `${subject.namespace}/${subject.serviceAccountName ?? `default`}`),
    secrets: subjects.flatMap(subject => subject.ownPullSecrets.map(name => `${subject.namespace}/${name}`)),
  };
  const snapshot = await gatherNamespaces(session, namespaces, refs);
  // A Namespace created by the manifests gets its `default` ServiceAccount from the controller.
  const created = objects.filter(object => object.kind === `Namespace`).map((object): KubeObject => ({kind: `ServiceAccount`, metadata: {name: `default`, namespace: object.metadata.name}}));
  const overlay = [...created, ...objects.filter(object => object.kind === `Secret` || object.kind === `ServiceAccount`)];
  const view = snapshotView(snapshot, overlay, defaultNamespace);
  const platformNotes: string[] = [];
  const platforms = await platformNeed(request, session, platformNotes);
  const outcome = await runVerifyEngine(subjects, view, {...engineOptions(request, session.contextName), platforms});
  // Say whose ServiceAccounts and secrets the new manifests were judged with: a wrong -n would judge them wrongly.
  const inFiles = objects.some(object => object.kind === `ServiceAccount` || object.kind === `Secret`);
  const used = `manifests checked against the ServiceAccounts and secrets of namespace${namespaces.length === 1 ? `` : `s`} ${namespaces.join(`, `)}${inFiles ? ` (the ServiceAccounts and secrets in the files take precedence)` : ``}; objects without a namespace are in ${defaultNamespace}${session.namespaceExplicit ? ` (-n)` : ` (the context's namespace; set it with -n)`}`;
  return {...outcome, notes: [used, ...snapshot.notes, ...platformNotes], incomplete: unreadableReferences(subjects, view).length > 0};
}

/** What platforms to check in one cluster: `--platform`, else the nodes' (with a note when they cannot be listed). */
async function platformNeed(request: VerifyRequest, session: ClusterSession | undefined, notes: string[]): Promise<PlatformNeed | undefined> {
  if (request.platforms !== undefined)
    return {platforms: request.platforms, origin: `--platform`};
  if (session === undefined)
    return undefined;
  const {nodes, note} = await listNodePlatforms(session);
  if (note !== undefined)
    notes.push(note);
  return {platforms: nodePlatforms(nodes), origin: `nodes`};
}

function engineOptions(request: VerifyRequest, context: string | null): EngineOptions {
  return {
    probe: request.probe,
    concurrency: request.concurrency,
    allCredentials: request.allCredentials,
    sendHubFallback: request.sendHubFallback,
    now: request.now(),
    context,
    onProgress: request.onProgress,
  };
}

/** The error when every namespace named with -n or --namespaces is missing: nothing was checked. */
function notFound(namespaces: string[]): string {
  const names = namespaces.map(namespace => `"${namespace}"`).join(`, `);
  return `${namespaces.length === 1 ? `namespace` : `namespaces`} ${names} not found: nothing was verified; check the name${namespaces.length === 1 ? `` : `s`} with kubectl get namespaces`;
}

/** The error for `-f` input without anything verify checks: a release gate must not pass on an empty input. */
function nothingInManifests(files: string[], objects: KubeObject[]): string {
  const found = objects.map(object => `${object.kind ?? `?`}/${object.metadata.name}`);
  const shown = found.length > 5 ? [...found.slice(0, 5), `…`] : found;
  return `nothing to verify: ${files.join(`, `)} hold${files.length === 1 ? `s` : ``} no Pod and no workload (${WORKLOAD_KINDS.join(`, `)})${found.length === 0 ? `` : `, only ${shown.join(`, `)}`}; pass the manifests that define the pods`;
}
