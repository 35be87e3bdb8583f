import {Option, UsageError} from 'clipanion';
import type {Usage} from 'clipanion';
import {helpExample} from '../core/shell.ts';
import {stringify as toYaml} from 'yaml';
import {readKustomization} from '../adapters/manifests/kustomize.ts';
import {readManifests} from '../adapters/manifests/read.ts';
import {INPUT_CAPS, appendUserFile, readUserFile, resolveUserPath} from '../adapters/local/files.ts';
import {renderGithub, stepSummary} from '../adapters/output/verify/github.ts';
import {renderJunit} from '../adapters/output/verify/junit.ts';
import {renderMarkdown} from '../adapters/output/verify/markdown.ts';
import {renderSarif} from '../adapters/output/verify/sarif.ts';
import type {Verdict} from '../adapters/output/verify/verdict.ts';
import {VERSION} from '../version.ts';
import {parseDockerConfigFile} from '../core/dockerconfig/parse.ts';
import type {ParsedSource} from '../core/verify/engine.ts';
import {formatTable, jsonReportChunks} from '../core/verify/report.ts';
import {parsePlatforms} from '../core/verify/platforms.ts';
import type {VerifyReport} from '../core/verify/types.ts';
import {concludeVerify, verifyClusters, verifyImages} from '../core/verify/verifyCluster.ts';
import type {Manifest, VerifyRequest} from '../core/verify/verifyCluster.ts';
import {ScopedCommand} from './KubeCommand.ts';
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

    const probe = await this.context.makeRegistryProbe({
      caFiles: this.certificateAuthorities?.map(file => resolveUserPath(file, this.context.cwd, this.context.homedir)),
      insecureHosts: this.insecureRegistries,
      timeoutMs: this.timeout === undefined ? undefined : parseDuration(this.timeout, `--timeout`),
      log: this.isVerbose ? line => this.context.stderr.write(`${line}\n`) : undefined,
    });
    const request: VerifyRequest = {
      probe,
      concurrency: this.workers,
      allCredentials: this.allCredentials,
      sendHubFallback: this.sendHubCredentials,
      now: () => this.context.now(),
      onProgress: this.context.stderr.isTTY ? (done: number, total: number) => this.progress(done, total) : undefined,
      platforms: explicitPlatforms?.platforms,
    };
    const outcome = this.images
      ? await verifyImages(this.images, {...request, ...await this.imageCredentials()})
      : await verifyClusters({
        ...request,
        manifests: await this.readManifestInput(),
        manifestInput: this.filenames ?? [`kubectl kustomize ${this.kustomize}`],
        targets: () => ({targets: this.clusterTargets(), scope: this.namespaceScope()}),
        connect: this.context.connectCluster,
        resolveScope: (session, scope) => this.resolveScope(session, scope),
        namespaceGiven: this.namespace !== undefined,
        labelSelector: this.selector,
      });
    this.clearProgress();

    const {report, exitCode, problems, incomplete} = concludeVerify(outcome, this.failOn === `warning`);
    const verdict: Verdict = {exitCode, failOnWarning: this.failOn === `warning`, problems, incomplete};
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

  /** `--image` mode's credentials: the `--docker-config` files, read and parsed, and a cluster only for `--secret` (from -n, else the context's namespace). */
  private async imageCredentials() {
    const parsed = new Map<string, ParsedSource>();
    for (const file of this.dockerConfigs ?? []) {
      const text = await readUserFile(resolveUserPath(file, this.context.cwd, this.context.homedir), `--docker-config`, {maxBytes: INPUT_CAPS.dockerConfig});
      const config = parseDockerConfigFile(text, file);
      parsed.set(file, {state: `parsed`, entries: config.entries, warnings: config.warnings});
    }
    const session = this.secrets ? await this.connect() : undefined;
    return {session, namespace: this.namespace, secrets: this.secrets, dockerConfigs: this.dockerConfigs, parsed};
  }

  /** The objects of `-f` or `-k`, if given. */
  private async readManifestInput(): Promise<Manifest[] | undefined> {
    if (this.filenames)
      return readManifests(this.filenames, {cwd: this.context.cwd, stdin: this.context.stdin});
    return this.kustomize !== undefined ? readKustomization(this.kustomize, {cwd: this.context.cwd, env: this.context.env}) : undefined;
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

/** Output formats of verify (docs/design.md): the same results and exit code in each. */
const OUTPUT_FORMATS = [`table`, `json`, `yaml`, `junit`, `github`, `sarif`, `markdown`] as const;
type OutputFormat = (typeof OUTPUT_FORMATS)[number];
