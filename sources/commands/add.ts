import {Option, UsageError} from 'clipanion';
import type {Usage} from 'clipanion';
import {helpExample} from '../core/shell.ts';
import type {DryRun, KubeObject} from '../core/ports.ts';
import {asClientDryRunObject, buildPullSecret, dockerConfigJsonFor} from '../core/secrets/build.ts';
import type {RegistryCredential} from '../core/secrets/build.ts';
import {earliestExpiry} from '../core/secrets/describe.ts';
import {registryTokenExpiry} from '../core/secrets/expiry.ts';
import {credentialHints} from '../core/registry/cloud.ts';
import {neverMatchingKey} from '../core/keyring/keyring.ts';
import {ExitCode} from '../core/errors.ts';
import {buildReport, humanLines} from '../core/attach/report.ts';
import {addEverywhere} from '../core/secrets/addEverywhere.ts';
import type {AddResult} from '../core/secrets/addEverywhere.ts';
import {printObjects} from '../adapters/output/printObjects.ts';
import type {ObjectFormat} from '../adapters/output/printObjects.ts';
import {statusLine} from '../adapters/output/status.ts';
import {CredentialCommand} from './CredentialOptions.ts';
import {parseAttach, parseDryRun, parseOutput} from './options.ts';
import {checkObjectName} from '../core/names.ts';

/** `kubectl pullsecret add NAME`: create or update a dockerconfigjson pull secret, like `kubectl create secret docker-registry` but safer. */
export class AddCommand extends CredentialCommand {
  static override paths = [[`add`]];
  static override usage: Usage = {
    description: `create or update a kubernetes.io/dockerconfigjson pull secret`,
    details: `
      From --docker-server, --docker-username, --docker-email and a password, creates the secret with the bytes
      \`kubectl create secret docker-registry\` writes for the same flags (kubectl's --from-file and --append-hash are not
      supported: --from-docker-config=PATH reads a config file), labelled
      app.kubernetes.io/managed-by=kubectl-pullsecret. The password comes from --docker-password-stdin,
      --docker-password-file or a prompt without echo; --from-docker-config / --from-podman-auth copy registries from a
      local config, resolving credential helpers, and refuse entries without a usable username and password.

      An existing secret keeps its other registries (\`configured\`), or is left \`unchanged\` when it already holds these
      credentials; --replace overwrites its content, and --force recreates a secret of another type.
      Options taking an optional value need "=": --dry-run=server, --attach=all, --from-docker-config=PATH.
    `,
    examples: [
      helpExample(`Create a pull secret for GHCR, reading the token from stdin`, [`add`, `regcred`, `--docker-server`, `ghcr.io`, `--docker-username`, `bot`, `--docker-password-stdin`], {before: `echo "$TOKEN" | `}),
      helpExample(`Print the manifest kubectl would print, without a cluster`, [`add`, `regcred`, `-n`, `web`, `--docker-server`, `ghcr.io`, `--docker-username`, `bot`, `--docker-password-file`, `token.txt`, `--dry-run=client`, `-o`, `yaml`]),
      helpExample(`Copy Docker Hub and GHCR credentials from ~/.docker/config.json into every namespace and attach them to the default ServiceAccounts`, [`add`, `regcred`, `--from-docker-config`, `--registry`, `docker.io`, `--registry`, `ghcr.io`, `-A`, `--attach`]),
    ],
  };

  name = Option.String({name: `NAME`});
  replace = Option.Boolean(`--replace`, false, {description: `replace the whole content of an existing secret instead of adding registries to it`});
  force = Option.Boolean(`--force`, false, {description: `delete and recreate an existing secret of another type (a Secret's type cannot be changed)`});
  attach = Option.String(`--attach`, {tolerateBoolean: true, description: `then attach it to ServiceAccounts: --attach (default), --attach=all or --attach=SA,SA`});
  dryRun = Option.String(`--dry-run`, {tolerateBoolean: true, description: `none, client (print only, no cluster needed) or server (the API server validates, nothing is stored); bare --dry-run means client`});
  output = Option.String(`-o,--output`, {description: `print the resulting secret(s): json, yaml or name`});
  // kubectl's flags that add does not take: named, so that the error says what to use instead.
  fromFile = Option.Array(`--from-file`, {hidden: true});
  appendHash = Option.String(`--append-hash`, {tolerateBoolean: true, hidden: true});

  async executeCommand() {
    if (this.fromFile !== undefined)
      throw new UsageError(`--from-file is not supported by add (kubectl's takes the file's bytes as they are): use --from-docker-config=PATH, which reads the registries of a Docker config.json, resolving credential helpers`);
    if (this.appendHash !== undefined)
      throw new UsageError(`--append-hash is not supported by add: a pull secret keeps its name so that ServiceAccounts and workloads referring to it keep working`);
    checkObjectName(this.name, `secret name`);
    const dryRun = parseDryRun(this.dryRun);
    const format = parseOutput(this.output, [`json`, `yaml`, `name`] as const);
    const attach = parseAttach(this.attach);
    const scope = this.namespaceScope();
    const read = await this.readCredentials();
    for (const warning of read.warnings)
      this.context.stderr.write(`${warning}\n`);
    for (const note of read.notes)
      this.context.stderr.write(`${note}\n`);
    for (const credential of read.credentials) {
      const never = neverMatchingKey(credential.server);
      if (never !== undefined)
        this.context.stderr.write(`warning: registry ${credential.server}: ${never}\n`);
      for (const hint of credentialHints({host: credential.server, username: credential.username, password: credential.password, now: this.context.now()}))
        this.context.stderr.write(`warning: ${hint}\n`);
    }
    if (this.isVerbose)
      this.context.stderr.write(`debug: ${read.credentials.length} registr${read.credentials.length === 1 ? `y` : `ies`} from ${read.source}: ${read.credentials.map(describeCredential).join(`, `)}\n`);

    if (dryRun === `client`) {
      if (scope.kind === `all` || scope.kind === `selector`)
        throw new UsageError(`--dry-run=client cannot list namespaces for -A or --namespace-selector; use --dry-run=server, or --namespaces with names`);
      const namespaces = scope.kind === `list` ? scope.names : [this.namespace];
      const expiresAt = earliestExpiry(dockerConfigJsonFor(read.credentials), registryTokenExpiry);
      const recorded = this.commandAnnotations(null, read.credentials, this.replace);
      const objects = namespaces.map(namespace => {
        const secret = buildPullSecret({name: this.name, namespace, credentials: read.credentials, expiresAt});
        const annotations = Object.fromEntries(Object.entries({...secret.metadata.annotations, ...recorded.annotationsOnChange, ...recorded.annotations}).filter((entry): entry is [string, string] => entry[1] !== null));
        if (Object.keys(annotations).length > 0)
          secret.metadata.annotations = annotations;
        return asClientDryRunObject(secret) as KubeObject;
      });
      if (attach)
        this.context.stderr.write(`note: --attach is not simulated with --dry-run=client; use --dry-run=server to check it against the cluster\n`);
      this.report(objects, format, objects.map(() => `created` as const), dryRun);
      return;
    }

    const results = await addEverywhere({
      name: this.name, credentials: read.credentials, replace: this.replace, force: this.force, scope, dryRun, attach,
      targets: this.clusterTargets(), connect: this.context.connectCluster,
      resolveScope: (session, namespaces) => this.resolveScope(session, namespaces),
      annotations: existing => this.commandAnnotations(existing, read.credentials, this.replace),
      concurrency: this.workers, pacing: this.context,
    });
    return this.printResults(results, format, dryRun);
  }

  /**
   * Objects on stdout for -o, else kubectl-style status lines on stdout (one per namespace in a
   * fan-out); warnings, failures and the fan-out summary on stderr. With -o, kubectl prints no status
   * line, so only warnings, failures and the summary remain. Exit 1 when any namespace failed.
   */
  private printResults(results: AddResult[], format: ObjectFormat | undefined, dryRun: DryRun): number {
    // The report document's kind does not reach the human lines; add prints objects, not the document.
    const report = buildReport(`AttachResult`, this.name, dryRun, results.map(result => result.report));
    const lines = humanLines(report, {verbPastTense: `added`});
    if (format)
      printObjects(results.flatMap(result => result.object ? [result.object] : []), format, this.context.stdout);
    else
      for (const line of lines.stdout)
        this.context.stdout.write(`${line}\n`);
    const singleOk = report.results.length === 1 && report.results[0]!.status === `ok`;
    for (const line of format && singleOk ? lines.stderr.filter(line => line.startsWith(`warning:`)) : lines.stderr)
      this.context.stderr.write(`${line}\n`);
    return report.summary.failed > 0 ? ExitCode.failure : ExitCode.ok;
  }

  /** kubectl's printing: the objects on stdout for -o, else one status line per object, also on stdout. */
  private report(objects: KubeObject[], format: ObjectFormat | undefined, verbs: Array<`created` | `configured` | `unchanged` | `replaced`>, dryRun: DryRun): void {
    if (format) {
      printObjects(objects, format, this.context.stdout);
      return;
    }
    objects.forEach((object, index) => {
      this.context.stdout.write(`${statusLine(object.metadata.name, verbs[index]!, dryRun)}\n`);
    });
  }
}

/** `user@server`, the only way credentials appear in messages. */
export function describeCredential(credential: RegistryCredential): string {
  return `${credential.username}@${credential.server}`;
}

