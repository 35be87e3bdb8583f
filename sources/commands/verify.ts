import {Option, UsageError} from 'clipanion';
import type {Usage} from 'clipanion';
import {helpExample} from '../core/shell.ts';
import {stringify as toYaml} from 'yaml';
import {gatherForVerify, gatherNamespaces, listNodePlatforms, namespaceExists, snapshotView} from '../core/cluster/gather.ts';
import {readKustomization} from '../adapters/manifests/kustomize.ts';
import {readManifests} from '../adapters/manifests/read.ts';
import type {ManifestObject} from '../adapters/manifests/read.ts';
import {INPUT_CAPS, appendUserFile, readUserFile, resolveUserPath} from '../adapters/local/files.ts';
import {renderGithub, stepSummary} from '../adapters/output/verify/github.ts';
import {renderJunit} from '../adapters/output/verify/junit.ts';
import {renderMarkdown} from '../adapters/output/verify/markdown.ts';
import {renderSarif} from '../adapters/output/verify/sarif.ts';
import type {Verdict} from '../adapters/output/verify/verdict.ts';
import {VERSION} from '../version.ts';
import {parseDockerConfigFile} from '../core/dockerconfig/parse.ts';
import {ExitCode, PullSecretError} from '../core/errors.ts';
import type {ClusterSession, KubeObject, Platform, RegistryProbe} from '../core/ports.ts';
import {unreadableReferences} from '../core/verify/effective.ts';
import {runVerifyEngine} from '../core/verify/engine.ts';
import type {EngineView, ParsedSource} from '../core/verify/engine.ts';
import {buildReport, formatTable, jsonReportChunks} from '../core/verify/report.ts';
import {clusterSubjects, manifestSubjects} from '../core/verify/subjects.ts';
import {WORKLOAD_KINDS, WORKLOAD_RESOURCES} from '../core/workloads.ts';
import {nodePlatforms, parsePlatforms} from '../core/verify/platforms.ts';
import type {PlatformNeed} from '../core/verify/platforms.ts';
import {isPullable} from '../core/verify/types.ts';
import type {PodSubject, VerifyReport, VerifyResult} from '../core/verify/types.ts';
import {ScopedCommand} from './KubeCommand.ts';
import {forEachContext} from '../core/fanout.ts';
import {parseDuration, parseOutput} from './options.ts';

/** `kubectl pullsecret verify`: proves, the way the kubelet and containerd would, that images can be pulled. */
export class VerifyCommand extends ScopedCommand {
  static override paths = [[`verify`]];
  static override usage: Usage = {
    description: `prove that workloads, manifests or images can be pulled with the credentials their pods will have`,
    details: `
      Checks every container image (init and ephemeral containers included) of the workloads in scope, of the manifests given with \`-f\`, or of the images given with \`--image\`: the pull secrets the kubelet will use (the pod's own list, else its ServiceAccount's as admission copies it), the credentials it will try in order, and a real manifest request to the registry with each, stopping at the first success as the kubelet does.

      Image volumes (\`spec.volumes[].image.reference\`) are pulled with the same secrets and checked as \`volume:NAME\`. \`-k DIR\` checks the output of \`kubectl kustomize DIR\` like \`-f\`. With \`-f\` or \`-k\` and a cluster, the pods are judged with the ServiceAccounts and secrets of their namespaces in the cluster (a note names them), those in the files taking precedence.

      Platforms: each pullable image must also provide every platform its pod may run on: those named with \`--platform\`, else those of the cluster's nodes (\`status.nodeInfo\`; not checked when nodes cannot be listed), narrowed by the pod's \`nodeSelector\` on \`kubernetes.io/os\` and \`kubernetes.io/arch\`; else the status is \`platform-missing\`. This costs one GET of an index (a single-platform manifest: it and its config) per image and credential.

      For CI (docs/ci.md): \`-o junit|github|sarif|markdown\` carry the same results and exit status; with \`GITHUB_STEP_SUMMARY\` set, a Markdown report is appended to that file whatever the format.

      In the table, a warning shared by several rows of a namespace (one about a secret they all use, say) is printed once, after the namespace's rows, with the number of rows it applies to; \`-o json|yaml\` keep the warnings of every result.

      Exit status: 0 when every image is pullable; 1 when at least one is not (or shows a warning, with \`--fail-on warning\`), when the check is incomplete (a kind, secret or ServiceAccount it needs could not be read), when there is nothing to check (\`-f\` without a workload or pod; no pod or workload could be listed at all), or when a namespace named with \`-n\` or \`--namespaces\` does not exist (checked with one \`get namespaces/NAME\` when nothing was found in it; when that is forbidden, a note says its existence could not be checked); 2 for usage or input errors; 3 when the cluster is unreachable or refuses our credentials.
    `,
    examples: [
      helpExample(`Verify every workload in the current namespace`, [`verify`]),
      helpExample(`Verify the whole cluster and print JSON`, [`verify`, `-A`, `-o`, `json`]),
      helpExample(`Verify a rendered release before applying it`, [`verify`, `-n`, `web`, `-f`, `-`], {before: `helm template my-release ./chart | `}),
      helpExample(`Verify a kustomization for GitHub Actions, for every platform the cluster runs`, [`verify`, `-k`, `overlays/prod`, `-o`, `github`]),
      helpExample(`Write a JUnit report for GitLab or Jenkins`, [`verify`, `-f`, `release.yaml`, `-o`, `junit`], {after: ` > verify-report.xml`}),
      helpExample(`Verify one image with a local Docker config, no cluster needed`, [`verify`, `--image`, `registry.example.com/team/app:1.2`, `--docker-config`, {home: `.docker/config.json`}]),
    ],
  };

  selector = Option.String(`-l,--selector`, {description: `label selector for the workloads and pods to check (e.g. app=web)`});
  filenames = Option.Array(`-f,--filename`, {description: `manifest file, directory or - for stdin (multi-document YAML, JSON, List kinds); repeatable`});
  kustomize = Option.String(`-k,--kustomize`, {description: `a kustomization directory, rendered with kubectl kustomize and checked like -f`});
  images = Option.Array(`--image`, {description: `an image to check (repeatable); credentials from --secret and --docker-config`});
  secrets = Option.Array(`--secret`, {description: `with --image: a pull secret in the namespace to use (repeatable, in order)`});
  dockerConfigs = Option.Array(`--docker-config`, {description: `with --image: a Docker config.json, .dockercfg or Secret manifest file (repeatable, after the --secret ones)`});
  output = Option.String(`-o,--output`, {description: `output format: table (default), json, yaml, junit, github, sarif or markdown`});
  allCredentials = Option.Boolean(`--all-credentials`, false, {description: `check every matching credential and the anonymous pull, not only up to the first success`});
  sendHubCredentials = Option.Boolean(`--send-docker-hub-credentials`, false, {description: `also send a Docker Hub credential to another host when the kubelet would (an image such as localhost/app with a Docker Hub pull secret); off by default, since a workload's author chooses that host`});
  failOn = Option.String(`--fail-on`, {description: `also exit 1 on warnings: --fail-on warning`});
  timeout = Option.String(`--timeout`, {description: `timeout of each registry request (e.g. 30s; default 10s)`});
  certificateAuthorities = Option.Array(`--certificate-authority`, {description: `a PEM file of CA certificates to trust for registries (repeatable)`});
  platforms = Option.Array(`--platform`, {description: `platforms the images must provide, e.g. linux/amd64,linux/arm64 (repeatable; default: the cluster's nodes' platforms)`});
  insecureRegistries = Option.Array(`--insecure-registry`, {description: `a registry host to reach over plain HTTP or unverified TLS (repeatable)`});

  async executeCommand() {
    const format = parseOutput(this.output, OUTPUT_FORMATS) ?? `table`;
    if (this.failOn !== undefined && this.failOn !== `warning`)
      throw new UsageError(`unsupported value "${this.failOn}" for --fail-on: use warning`);
    if (this.images && (this.filenames || this.kustomize !== undefined))
      throw new UsageError(`--image cannot be combined with -f or -k`);
    if (this.filenames && this.kustomize !== undefined)
      throw new UsageError(`only one of -f or -k can be specified`);
    if (!this.images && (this.secrets || this.dockerConfigs))
      throw new UsageError(`--secret and --docker-config need --image`);
    if (this.images?.some(image => image.trim() === ``))
      throw new UsageError(`--image needs an image reference such as registry.example.com/team/app:1, got an empty value`);
    if (this.kustomize?.trim() === ``)
      throw new UsageError(`-k needs a kustomization directory`);
    const explicitPlatforms = this.platforms === undefined ? undefined : parsePlatforms(this.platforms);
    if (explicitPlatforms?.ok === false)
      throw new UsageError(explicitPlatforms.error);
    this.explicitPlatforms = explicitPlatforms?.platforms;

    const probe = await this.context.makeRegistryProbe({
      caFiles: this.certificateAuthorities?.map(file => resolveUserPath(file, this.context.cwd, this.context.homedir)),
      insecureHosts: this.insecureRegistries,
      timeoutMs: this.timeout === undefined ? undefined : parseDuration(this.timeout, `--timeout`),
      log: this.isVerbose ? line => this.context.stderr.write(`${line}\n`) : undefined,
    });
    const {results, registryChecks, notes, incomplete, failed} = this.images
      ? await this.verifyImages(this.images, probe)
      : await this.verifyClusters(probe);
    this.clearProgress();

    const report = buildReport(results, registryChecks, incomplete ? [...notes, INCOMPLETE_NOTE] : notes);
    const failing = results.some(result => !isPullable(result.status));
    const warned = this.failOn === `warning` && results.some(result => result.warnings.length > 0);
    const exitCode = failing || warned || incomplete || failed ? ExitCode.failure : ExitCode.ok;
    const verdict: Verdict = {
      exitCode,
      failOnWarning: this.failOn === `warning`,
      problems: [...(incomplete ? [INCOMPLETE_NOTE] : []), ...(failed ? [NAMESPACE_MISSING] : [])],
      incomplete,
    };
    this.print(format as OutputFormat, report, verdict);
    // In a GitHub Actions job, the step's summary page gets the Markdown table whatever the output format.
    const summaryFile = this.context.env.GITHUB_STEP_SUMMARY;
    if (summaryFile !== undefined && summaryFile !== ``) {
      try {
        await appendUserFile(resolveUserPath(summaryFile, this.context.cwd, this.context.homedir), stepSummary(report, verdict));
      } catch (error) {
        this.context.stderr.write(`warning: could not append to GITHUB_STEP_SUMMARY (${summaryFile}): ${error instanceof Error ? error.message : String(error)}\n`);
      }
    }
    return exitCode;
  }

  /** `--platform`, parsed. */
  private explicitPlatforms: Platform[] | undefined;

  /** What platforms to check in one cluster: `--platform`, else the nodes' (with a note when they cannot be listed). */
  private async platformNeed(session: ClusterSession | undefined, notes: string[]): Promise<PlatformNeed | undefined> {
    if (this.explicitPlatforms !== undefined)
      return {platforms: this.explicitPlatforms, origin: `--platform`};
    if (session === undefined)
      return undefined;
    const {nodes, note} = await listNodePlatforms(session);
    if (note !== undefined)
      notes.push(note);
    return {platforms: nodePlatforms(nodes), origin: `nodes`};
  }

  private print(format: OutputFormat, report: VerifyReport, verdict: Verdict): void {
    const out = this.context.stdout;
    switch (format) {
      case `json`:
        for (const chunk of jsonReportChunks(report))
          out.write(chunk);
        return;
      case `yaml`:
        out.write(toYaml(report));
        return;
      case `junit`:
        out.write(renderJunit(report, verdict));
        return;
      case `github`:
        out.write(renderGithub(report, verdict));
        return;
      case `sarif`:
        out.write(renderSarif(report, verdict, {version: VERSION}));
        return;
      case `markdown`:
        out.write(renderMarkdown(report, verdict));
        return;
      case `table`:
        out.write(formatTable(report, {colour: this.context.colorDepth !== undefined && this.context.colorDepth > 1}));
    }
  }

  /** `--image` mode: explicit images against explicit secrets and files; a cluster only for `--secret`. */
  private async verifyImages(images: string[], probe: RegistryProbe): Promise<Outcome> {
    const parsed = new Map<string, ParsedSource>();
    for (const file of this.dockerConfigs ?? []) {
      const text = await readUserFile(resolveUserPath(file, this.context.cwd, this.context.homedir), `--docker-config`, {maxBytes: INPUT_CAPS.dockerConfig});
      const config = parseDockerConfigFile(text, file);
      parsed.set(file, {state: `parsed`, entries: config.entries, warnings: config.warnings});
    }
    // A cluster is needed only to read --secret ones, from -n (else the context's namespace).
    const session = this.secrets ? await this.connect() : undefined;
    const namespace = session?.namespace ?? this.namespace ?? ``;
    const clusterView = session && this.secrets
      ? snapshotView(await gatherNamespaces(session, [namespace], {serviceAccounts: [], secrets: this.secrets.map(name => `${namespace}/${name}`)}))
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
      ownPullSecrets: [...(this.secrets ?? []), ...(this.dockerConfigs ?? [])],
      containers: [{name: `-`, image, kind: `container`}],
    }));
    const notes: string[] = [];
    const platforms = await this.platformNeed(undefined, notes);
    const outcome = await runVerifyEngine(subjects, view, {...this.engineOptions(probe, session?.contextName ?? null), platforms});
    return {...outcome, notes, incomplete: unreadableReferences(subjects, view).length > 0};
  }

  /** Cluster or manifest mode, once per `--context`. */
  private async verifyClusters(probe: RegistryProbe): Promise<Outcome> {
    const manifests = this.filenames
      ? await readManifests(this.filenames, {cwd: this.context.cwd, stdin: this.context.stdin})
      : this.kustomize !== undefined ? await readKustomization(this.kustomize, {cwd: this.context.cwd, env: this.context.env}) : undefined;
    if (manifests && manifestSubjects(manifests.map(manifest => manifest.object), `default`).length === 0)
      throw new PullSecretError(nothingInManifests(this.filenames ?? [`kubectl kustomize ${this.kustomize}`], manifests.map(manifest => manifest.object)));
    const all: Outcome = {results: [], registryChecks: 0, notes: [], incomplete: false, failed: false};
    const targets = this.clusterTargets();
    const blind: string[] = [];
    // Every cluster at once; the first that fails (in the flags' order) is the command's error, as with one cluster.
    const outcomes = await forEachContext(targets, this.context.connectCluster, async session => ({
      session,
      outcome: manifests ? await this.verifyManifests(session, manifests, probe) : await this.verifyCluster(session, probe),
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

  private async verifyCluster(session: ClusterSession, probe: RegistryProbe): Promise<Outcome> {
    const namespaceScope = this.namespaceScope();
    const scope = await this.resolveScope(session, namespaceScope);
    // Namespaces the user named (-n, --namespaces) must exist: a typo must not pass a release gate having checked nothing.
    const named = namespaceScope.kind === `list` || (namespaceScope.kind === `current` && this.namespace !== undefined);
    const missing = scope.skipped.filter(skip => named && skip.cause === `missing`).map(skip => skip.namespace);
    const skipped = scope.skipped.filter(skip => !(named && skip.cause === `missing`)).map(skip => `namespace ${skip.namespace} skipped: ${skip.reason}`);
    if (missing.length > 0 && scope.namespaces.length === 0)
      return {results: [], registryChecks: 0, notes: skipped, incomplete: false, failed: true, blind: notFound(missing)};
    const snapshot = await gatherForVerify(session, this.allNamespaces ? `all` : scope.namespaces, {labelSelector: this.selector});
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
    const platforms = await this.platformNeed(session, platformNotes);
    const outcome = await runVerifyEngine(subjects, view, {...this.engineOptions(probe, session.contextName), platforms});
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

  private async verifyManifests(session: ClusterSession, manifests: ManifestObject[], probe: RegistryProbe): Promise<Outcome> {
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
    const platforms = await this.platformNeed(session, platformNotes);
    const outcome = await runVerifyEngine(subjects, view, {...this.engineOptions(probe, session.contextName), platforms});
    // Say whose ServiceAccounts and secrets the new manifests were judged with: a wrong -n would judge them wrongly.
    const inFiles = objects.some(object => object.kind === `ServiceAccount` || object.kind === `Secret`);
    const used = `manifests checked against the ServiceAccounts and secrets of namespace${namespaces.length === 1 ? `` : `s`} ${namespaces.join(`, `)}${inFiles ? ` (the ServiceAccounts and secrets in the files take precedence)` : ``}; objects without a namespace are in ${defaultNamespace}${session.namespaceExplicit ? ` (-n)` : ` (the context's namespace; set it with -n)`}`;
    return {...outcome, notes: [used, ...snapshot.notes, ...platformNotes], incomplete: unreadableReferences(subjects, view).length > 0};
  }

  private engineOptions(probe: RegistryProbe, context: string | null) {
    return {
      probe,
      concurrency: this.workers,
      allCredentials: this.allCredentials,
      sendHubFallback: this.sendHubCredentials,
      now: this.context.now(),
      context,
      onProgress: this.context.stderr.isTTY ? (done: number, total: number) => this.progress(done, total) : undefined,
    };
  }

  private progressShown = false;

  private progress(done: number, total: number): void {
    this.progressShown = true;
    this.context.stderr.write(`\r\u001b[2Kverifying: ${done}/${total} registry checks`);
  }

  private clearProgress(): void {
    if (this.progressShown)
      this.context.stderr.write(`\r\u001b[2K`);
  }
}

/**
 * What one cluster (or the images) gave. `incomplete`: something the verdicts need could not be read (a list of pods
 * or of a workload kind, a referenced secret or ServiceAccount), so success cannot be reported. `blind`: nothing at
 * all could be listed, or every namespace named does not exist; the reason, naming the refused list or the namespaces.
 * `failed`: a namespace named with -n or --namespaces does not exist (verify exits 1).
 */
type Outcome = {results: VerifyResult[]; registryChecks: number; notes: string[]; incomplete: boolean; failed?: boolean; blind?: string};

/** Output formats of verify (docs/design.md): the same results and exit code in each. */
const OUTPUT_FORMATS = [`table`, `json`, `yaml`, `junit`, `github`, `sarif`, `markdown`] as const;
type OutputFormat = (typeof OUTPUT_FORMATS)[number];

/** The reason for exit 1 when a namespace named with -n or --namespaces was not found (the notes name it). */
const NAMESPACE_MISSING = `a namespace named with -n or --namespaces was not found (see the notes), so verify exits 1`;

/** The lists that find what verify checks (pods and the workload kinds). */
const SUBJECT_RESOURCES: ReadonlySet<string> = new Set([`pods`, ...WORKLOAD_RESOURCES.map(([resource]) => resource)]);

/** The last note of an incomplete check. */
const INCOMPLETE_NOTE = `the check is incomplete: what could not be read (see above) was not verified, so verify exits 1`;

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

