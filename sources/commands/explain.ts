import {Option, UsageError} from 'clipanion';
import type {Usage} from 'clipanion';
import {helpExample} from '../core/shell.ts';
import {INPUT_CAPS, readAll, readUserFile, resolveUserPath} from '../adapters/local/files.ts';
import {printData} from '../adapters/output/printObjects.ts';
import {parseDockerConfigFile, parsePullSecret} from '../core/dockerconfig/parse.ts';
import type {SecretLike} from '../core/dockerconfig/parse.ts';
import {ExitCode, InputError, PullSecretError, oneLine} from '../core/errors.ts';
import {explainImages, renderExplainText} from '../core/explain/explain.ts';
import type {ExplainSource} from '../core/explain/explain.ts';
import {KubeCommand} from './KubeCommand.ts';
import {parseOutput} from './options.ts';

/** `kubectl pullsecret explain`: which credentials the kubelet tries for an image, in order, and why. */
export class ExplainCommand extends KubeCommand {
  static override paths = [[`explain`]];
  static override usage: Usage = {
    description: `show which credentials the kubelet tries for an image, in order, and why`,
    details: `
      Reproduces the kubelet's credential lookup exactly: the image is normalized (\`nginx\` → \`docker.io/library/nginx\`), every key of the pull secrets is normalized and matched (same number of host labels, per-label globs, equal ports, string-prefix paths, case-sensitive), the matches are tried in reverse byte order of their keys, and Docker Hub credentials under \`index.docker.io\` are a fallback used only when nothing else matched.

      With \`--docker-config\` (repeatable, in order; a Docker config.json, a legacy .dockercfg or a Secret manifest in YAML or JSON) no cluster is needed. Otherwise the pull secrets come from the cluster: \`--secret\` (repeatable, in order) as a pod's own \`imagePullSecrets\`, else the ServiceAccount's (\`--service-account\`, default \`default\`) as admission copies them, in the namespace of \`-n\` or the context.

      Passwords are never printed. Exit status: 0 when every image was explained (even if pulled anonymously); 1 when an image reference is invalid, a pull secret would break the kubelet's lookup, or a config file is malformed; 2 for usage errors; 3 when the cluster is unreachable.
    `,
    examples: [
      helpExample(`Explain an image against a local Docker config, no cluster needed`, [`explain`, `nginx`, `--docker-config`, {home: `.docker/config.json`}]),
      helpExample(`Explain several images against two secret manifests, in order`, [`explain`, `ghcr.io/acme/api:1`, `quay.io/acme/web`, `--docker-config`, `a.yaml`, `--docker-config`, `b.yaml`]),
      helpExample(`Explain what pods of the ServiceAccount "builder" in namespace ci will use`, [`explain`, `registry.example.com/team/app:1.2`, `-n`, `ci`, `--service-account`, `builder`]),
      helpExample(`Explain with two pull secrets from the cluster, as JSON`, [`explain`, `quay.io/org/app`, `--secret`, `regcred`, `--secret`, `fallback`, `-o`, `json`]),
      helpExample(`Explain against a secret manifest read from stdin`, [`explain`, `ghcr.io/acme/api:1`, `--docker-config`, `-`], {before: `kubectl get secret regcred -o yaml | `}),
    ],
  };

  images = Option.Rest({name: `IMAGE`, required: 1});
  dockerConfigs = Option.Array(`--docker-config`, {description: `a Docker config.json, .dockercfg or Secret manifest file used as one pull secret (repeatable, in order; - reads stdin); no cluster needed`});
  secrets = Option.Array(`--secret`, {description: `a pull secret in the namespace, as the pod's own imagePullSecrets (repeatable, in order)`});
  serviceAccount = Option.String(`--service-account`, {description: `the ServiceAccount whose imagePullSecrets pods get at creation (default: default)`});
  output = Option.String(`-o,--output`, {description: `output format: json or yaml (default: human-readable text)`});

  async executeCommand() {
    const format = parseOutput(this.output, [`json`, `yaml`] as const);
    if (this.dockerConfigs && (this.secrets || this.serviceAccount !== undefined))
      throw new UsageError(`--docker-config cannot be combined with --secret or --service-account: give the pull secrets either as files or from the cluster`);
    const {sources, notes} = this.dockerConfigs ? {sources: await this.readFiles(this.dockerConfigs), notes: []} : await this.readCluster();
    const report = explainImages(this.images, sources);
    for (const note of notes)
      this.context.stderr.write(`${note}\n`);
    if (format === undefined)
      this.context.stdout.write(renderExplainText(report));
    else
      printData(report.document, format, this.context.stdout);
    // Like kubectl's per-item errors: each image that could not be explained also gets one error line on stderr.
    for (const row of report.document.images) {
      if (row.error !== undefined)
        this.context.stderr.write(`error: ${row.image}: ${oneLine(row.error)}\n`);
    }
    return report.failed ? ExitCode.failure : ExitCode.ok;
  }

  /** Offline mode: each file is one pull secret, in order. */
  private async readFiles(files: string[]): Promise<ExplainSource[]> {
    const sources: ExplainSource[] = [];
    if (files.filter(file => file === `-`).length > 1)
      throw new UsageError(`--docker-config - (stdin) may be given only once`);
    for (const file of files) {
      const text = file === `-`
        ? await readAll(this.context.stdin, `--docker-config -`, INPUT_CAPS.dockerConfig)
        : await readUserFile(resolveUserPath(file, this.context.cwd, this.context.homedir), `--docker-config`, {maxBytes: INPUT_CAPS.dockerConfig});
      try {
        const config = parseDockerConfigFile(text, file);
        sources.push({source: file, state: `ok`, entries: config.entries, warnings: config.warnings});
      } catch (error) {
        // A malformed config file is an environment problem for explain (exit 1), with the same one line.
        // No cause: an expected input problem gets no stack trace, even under -v.
        if (error instanceof InputError)
          throw new PullSecretError(error.message);
        throw error;
      }
    }
    return sources;
  }

  /** Cluster mode: the pod's own list (--secret) or the ServiceAccount's, read through the session. */
  private async readCluster(): Promise<{sources: ExplainSource[]; notes: string[]}> {
    const session = await this.connect();
    const namespace = session.namespace;
    const notes: string[] = [];
    let names: string[];
    if (this.secrets) {
      names = this.secrets;
      if (this.serviceAccount !== undefined)
        notes.push(`note: the pod lists its own pull secrets, so admission does not copy serviceaccount ${namespace}/${this.serviceAccount}'s imagePullSecrets`);
    } else {
      const name = this.serviceAccount ?? `default`;
      const account = await session.get(`serviceaccounts`, namespace, name);
      if (!account)
        throw new PullSecretError(`serviceaccount ${namespace}/${name} not found: pods using it are refused at creation; create it or pass --service-account`);
      const list = Array.isArray(account.imagePullSecrets) ? account.imagePullSecrets as Array<{name?: unknown}> : [];
      // Admission copies the list as is; the kubelet skips entries with an empty name silently.
      names = list.map(ref => (typeof ref?.name === `string` ? ref.name : ``)).filter(ref => ref !== ``);
      if (names.length === 0)
        notes.push(`note: serviceaccount ${namespace}/${name} lists no imagePullSecrets`);
    }
    const sources: ExplainSource[] = [];
    for (const name of names) {
      const label = `${namespace}/${name}`;
      const secret = await session.get(`secrets`, namespace, name);
      if (!secret) {
        sources.push({source: label, state: `missing`});
        continue;
      }
      const parsed = parsePullSecret(secret as unknown as SecretLike);
      if (parsed.status === `ok`)
        sources.push({source: label, state: `ok`, entries: parsed.entries, warnings: parsed.warnings});
      else if (parsed.status === `ignored`)
        sources.push({source: label, state: `ignored`, reason: parsed.reason});
      else
        sources.push({source: label, state: `invalid`, problems: parsed.problems});
    }
    return {sources, notes};
  }
}
