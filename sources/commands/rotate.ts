import {Option, UsageError} from 'clipanion';
import type {Usage} from 'clipanion';
import {helpExample} from '../core/shell.ts';
import type {NamespaceScope} from '../core/scope.ts';
import type {NamespaceReport} from '../core/attach/report.ts';
import {sourceRef} from '../core/sync/plan.ts';
import {rotateCluster} from '../core/sync/rotate.ts';
import {CredentialCommand} from './CredentialOptions.ts';
import {checkObjectName, namespaceNameProblem, quoteInput} from '../core/names.ts';
import {withFanOut} from './FanOutCommand.ts';

/** `kubectl pullsecret rotate NAME`: new credentials into the source secret and every managed copy of it. */
export class RotateCommand extends withFanOut(CredentialCommand) {
  static override paths = [[`rotate`]];
  /** `--verify` runs `verify` through `this.cli.run`, so it must be registered alongside (by path: no command imports another). */
  static invokes = [[`verify`]];
  static override usage: Usage = {
    description: `put new credentials into a pull secret and into every copy that sync made of it`,
    details: `
      Takes the new credentials like \`add\` (--docker-server, --docker-username and the password from
      --docker-password-stdin, --docker-password-file or a prompt; or --from-docker-config) and writes them into the
      source secret NAME in --from-namespace (default: -n, else the context's namespace), keeping its other registries
      (--replace: only the given ones). Then every managed copy of it (label app.kubernetes.io/managed-by=kubectl-pullsecret,
      annotation pullsecret.kubectl.io/source=NS/NAME) is updated to the new content. Copies are found with one
      cluster-wide list; --namespaces, --namespace-selector and --exclude-namespaces narrow which ones are updated.
      No copy is created where there is none (use \`sync\`); namespaces annotated pullsecret.kubectl.io/ignore=true are left alone.

      --verify then runs \`kubectl pullsecret verify\` over the namespaces rotated, proving against the registries that
      their workloads pull with the new credentials; its findings and exit code count.

      Reruns are idempotent: a copy missed by a failed run is updated by the next. -o json|yaml prints a RotateResult document.
    `,
    examples: [
      helpExample(`Rotate the GHCR token of regcred in the platform namespace and all its copies`, [`rotate`, `regcred`, `--from-namespace`, `platform`, `--docker-server`, `ghcr.io`, `--docker-username`, `bot`, `--docker-password-stdin`], {before: `echo "$NEW_TOKEN" | `}),
      helpExample(`Rotate, updating only the copies in namespaces labelled team=web`, [`rotate`, `regcred`, `-n`, `platform`, `--docker-server`, `ghcr.io`, `--docker-username`, `bot`, `--docker-password-file`, `token.txt`, `--namespace-selector`, `team=web`]),
    ],
  };

  name = Option.String({name: `NAME`});
  fromNamespace = Option.String(`--from-namespace`, {description: `the namespace of the source secret (default: -n, else the context's namespace)`});
  replace = Option.Boolean(`--replace`, false, {description: `replace the whole content of the source with the given registries instead of updating them in place`});
  verify = Option.Boolean(`--verify`, false, {description: `then run \`verify\` over the namespaces rotated (source and copies): proves with the registries that their workloads still pull`});

  async executeCommand() {
    checkObjectName(this.name, `secret name`);
    if (this.fromNamespace !== undefined && namespaceNameProblem(this.fromNamespace) !== undefined)
      throw new UsageError(`invalid namespace ${quoteInput(this.fromNamespace)} for --from-namespace: ${namespaceNameProblem(this.fromNamespace)}`);
    if (this.fromNamespace !== undefined && this.namespace !== undefined && this.fromNamespace !== this.namespace)
      throw new UsageError(`-n and --from-namespace name different namespaces; the source namespace is given once`);
    const dryRun = this.dryRunMode();
    const format = this.outputFormat();
    if (this.verify && dryRun !== `none`)
      throw new UsageError(`--verify checks what was written; it cannot be combined with --dry-run`);
    if (this.verify && (format === `json` || format === `yaml`))
      throw new UsageError(`--verify cannot be combined with -o ${format}: run \`kubectl pullsecret verify\` separately for its document`);
    const scope = this.copyScope();
    const read = await this.readCredentials();
    for (const line of [...read.warnings, ...read.notes])
      this.context.stderr.write(`${line}\n`);
    let source = ``;
    const reports = await this.forEachCluster(async session => {
      const sourceNamespace = this.fromNamespace ?? session.namespace;
      source = sourceRef(sourceNamespace, this.name);
      return rotateCluster(session, {
        name: this.name, sourceNamespace, credentials: read.credentials, replace: this.replace, scope, dryRun,
        annotations: existing => this.commandAnnotations(existing, read.credentials, this.replace),
        resolveScope: (cluster, namespaces) => this.resolveScope(cluster, namespaces),
        fanOutNamespaces: (cluster, namespaces, work) => this.fanOutNamespaces(cluster, namespaces, work),
        say: note => this.context.stderr.write(`note: ${note}\n`),
        pacing: this.context,
      });
    });
    const code = this.finish(`RotateResult`, this.name, reports, {command: `rotate`, source});
    if (!this.verify)
      return code;
    return Math.max(code, await this.verifyRotated(reports));
  }

  /**
   * `--verify`: runs the `verify` command (the same engine, output and exit codes) once per cluster over
   * the namespaces whose secret is now current (source and copies). Its exit code counts: 1 when a
   * workload there cannot pull, 3 when the cluster cannot be reached.
   */
  private async verifyRotated(reports: NamespaceReport[]): Promise<number> {
    let worst = 0;
    for (const target of this.clusterTargets()) {
      const context = target.context;
      const namespaces = [...new Set(reports.filter(report => report.status === `ok` && (context === undefined || report.context === context)).map(report => report.namespace))].sort();
      if (namespaces.length === 0)
        continue;
      this.context.stderr.write(`verifying ${namespaces.length} namespace${namespaces.length === 1 ? `` : `s`}${context === undefined ? `` : ` in ${context}`}\n`);
      const args = [`verify`, `--namespaces`, namespaces.join(`,`)];
      if (this.kubeconfig !== undefined)
        args.push(`--kubeconfig`, this.kubeconfig);
      if (context !== undefined)
        args.push(`--context`, context);
      if (this.requestTimeout !== undefined)
        args.push(`--request-timeout`, this.requestTimeout);
      worst = Math.max(worst, await this.cli.run(args));
    }
    return worst;
  }

  protected override checkScopeFlags(): void {
    this.copyScope();
  }

  /** Which copies to update: all by default; -n names the source, so it does not narrow the copies. */
  private copyScope(): NamespaceScope {
    return this.namespaceScope({namespaceFlag: `source`, fallback: `all`});
  }
}
