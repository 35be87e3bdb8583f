import {Option, UsageError} from 'clipanion';
import type {Usage} from 'clipanion';
import {helpExample} from '../core/shell.ts';
import type {ClusterSession, DryRun, KubeObject} from '../core/ports.ts';
import {PullSecretError} from '../core/errors.ts';
import type {AttachTargets} from '../core/attach/attachSecret.ts';
import {prepareAttach} from '../core/attach/attachSecret.ts';
import type {NamespaceReport} from '../core/attach/report.ts';
import {bareReport} from '../core/attach/report.ts';
import {planPrune, sourceRef} from '../core/sync/plan.ts';
import {IGNORE_ANNOTATION} from '../core/secrets/metadata.ts';
import {fromSyncResult, readSource, removeSecret, secretsByNamespace, syncCopy} from '../core/sync/syncSecret.ts';
import type {NamespaceScope} from '../core/scope.ts';
import {SYNC_POLICY_ANNOTATION, describePolicy, planSyncRun, recordedPolicy} from '../core/sync/policy.ts';
import {writePolicyAnnotation} from '../core/sync/recordPolicy.ts';
import {dryRunSuffix} from '../core/attach/report.ts';
import {FanOutCommand} from './FanOutCommand.ts';
import {checkObjectName} from '../core/names.ts';
import {parseAttach} from './options.ts';
import {namespaceNameProblem, quoteInput} from '../core/names.ts';


/** `--keep`, `--keep=true`, `--keep=false`; undefined when absent. */
export function parseKeepFlag(value: string | boolean | undefined): boolean | undefined {
  if (value === undefined || typeof value === `boolean`)
    return value;
  if (value === `true` || value === `false`)
    return value === `true`;
  throw new UsageError(`invalid argument "${value}" for "--keep" flag: use --keep, --keep=true or --keep=false`);
}

/** `kubectl pullsecret sync NAME --from-namespace SRC`: copy a pull secret into namespaces, with provenance. */
export class SyncCommand extends FanOutCommand {
  static override paths = [[`sync`]];
  static override usage: Usage = {
    description: `copy a pull secret from one namespace into others, keeping its type and data, with provenance`,
    details: `
      Copies secret NAME from --from-namespace into the selected namespaces (-n, --namespaces, --namespace-selector or
      -A; the source namespace is never a target). Copies keep the source's type and data byte for byte, and carry the
      label app.kubernetes.io/managed-by=kubectl-pullsecret and the annotations pullsecret.kubectl.io/source=SRC/NAME and
      pullsecret.kubectl.io/content-hash (sha256 of type and data). A copy whose content differs from the source is
      updated (\`configured\`), a current one is \`unchanged\`. A secret of the same name that is not a copy of this
      source is never overwritten unless --force (a different type is deleted and recreated: types are immutable).

      --prune deletes this source's copies in namespaces outside the selection (detaching them from ServiceAccounts and
      workloads first); namespaces annotated pullsecret.kubectl.io/ignore=true are never touched. --attach attaches
      each copy as \`attach\` does (--attach for the default ServiceAccount, --attach=all, --attach=SA,SA).

      --keep also records the policy (the namespaces chosen by -n, -A, --namespaces or --namespace-selector, the
      --exclude-namespaces globs, the --attach targets and --prune) in the annotation pullsecret.kubectl.io/sync-policy of
      the source secret, where \`sync\` and the agent read it: a later \`sync NAME --from-namespace SRC\` without scope flags
      re-applies the recorded policy (its --attach and --prune unless given again). --keep=false removes the annotation
      (without scope flags it only removes it, copying nothing). \`list\` shows the policies.

      Reruns are idempotent and finish what a failed run left undone. -o json|yaml prints a SyncResult document.
    `,
    examples: [
      helpExample(`Copy regcred from the platform namespace into every namespace and attach it to the default ServiceAccounts`, [`sync`, `regcred`, `--from-namespace`, `platform`, `-A`, `--attach`]),
      helpExample(`Copy into the namespaces labelled team=web, removing copies elsewhere`, [`sync`, `regcred`, `--from-namespace`, `platform`, `--namespace-selector`, `team=web`, `--prune`]),
      helpExample(`Show what would change without writing`, [`sync`, `regcred`, `--from-namespace`, `platform`, `-A`, `--dry-run=server`]),
      helpExample(`Keep every namespace but kube-* supplied and attached, now and later (the policy is recorded on the source)`, [`sync`, `regcred`, `--from-namespace`, `platform`, `-A`, `--exclude-namespaces`, `kube-*`, `--attach`, `--keep`]),
      helpExample(`Re-apply the recorded policy`, [`sync`, `regcred`, `--from-namespace`, `platform`]),
      helpExample(`Stop keeping it (the copies stay)`, [`sync`, `regcred`, `--from-namespace`, `platform`, `--keep=false`]),
    ],
  };

  name = Option.String({name: `NAME`});
  fromNamespace = Option.String(`--from-namespace`, {description: `the namespace holding the source secret (required)`});
  force = Option.Boolean(`--force`, false, {description: `overwrite a secret of the same name that is not a copy of this source`});
  prune = Option.Boolean(`--prune`, false, {description: `delete this source's copies in namespaces outside the selection`});
  attach = Option.String(`--attach`, {tolerateBoolean: true, description: `then attach each copy: --attach (default ServiceAccount), --attach=all or --attach=SA,SA`});
  restart = Option.Boolean(`--restart`, false, {description: `with --attach: roll the workloads whose running pods will not get the secret until recreated`});
  keep = Option.String(`--keep`, {tolerateBoolean: true, description: `record this scope, --attach and --prune on the source secret as its sync policy (--keep=false removes it)`});

  protected override selectsLaterNamespaces(): boolean {
    return parseKeepFlag(this.keep) === true;
  }

  async executeCommand() {
    checkObjectName(this.name, `secret name`);
    if (this.fromNamespace === undefined)
      throw new UsageError(`--from-namespace is required: the namespace holding the source secret`);
    if (namespaceNameProblem(this.fromNamespace) !== undefined)
      throw new UsageError(`invalid namespace ${quoteInput(this.fromNamespace)} for --from-namespace: ${namespaceNameProblem(this.fromNamespace)}`);
    const attachTo = parseAttach(this.attach);
    const attach: AttachTargets | null = attachTo === null ? null : {serviceAccounts: attachTo};
    const keep = parseKeepFlag(this.keep);
    const dryRun = this.dryRunMode();
    this.outputFormat();
    const flagScope = this.scopeFlagGiven() ? this.namespaceScope() : null;
    const sourceNamespace = this.fromNamespace;
    let forgetOnly = false;
    const reports = await this.forEachCluster(async session => {
      const source = await readSource(session, sourceNamespace, this.name);
      const plan = planSyncRun(recordedPolicy(source), {scope: flagScope, attach, prune: this.prune, keep}, session.namespace);
      const where = this.clusterTargets().length > 1 ? `${session.contextName}/${sourceNamespace}` : sourceNamespace;
      switch (plan.kind) {
        case `invalid`:
          throw new PullSecretError(`the sync policy recorded on ${sourceRef(sourceNamespace, this.name)} (annotation ${SYNC_POLICY_ANNOTATION}) is not valid: ${plan.reason}; record a new one with --keep and scope flags, or remove it with --keep=false`);
        case `keep-without-scope`:
          throw new UsageError(`--keep needs the namespaces to keep in sync: give -n, -A, --namespaces or --namespace-selector (${sourceRef(sourceNamespace, this.name)} has no recorded policy to keep)`);
        case `forget`:
          forgetOnly = true;
          if (plan.present) {
            await writePolicyAnnotation(session, sourceNamespace, this.name, null, dryRun);
            this.resourceLine(`${where}: secret/${this.name} annotated (sync policy removed)${dryRunSuffix(dryRun)}`);
          } else {
            this.context.stderr.write(`note: ${where}: secret/${this.name} has no sync policy to remove\n`);
          }
          return [];
      }
      if (this.restart && plan.attach === null)
        throw new UsageError(`--restart needs --attach`);
      if (plan.applied !== null)
        this.context.stderr.write(`note: ${where}: applying the sync policy recorded on secret/${this.name}: ${describePolicy(plan.applied)}\n`);
      if (plan.annotation.action !== `keep`) {
        await writePolicyAnnotation(session, sourceNamespace, this.name, plan.annotation.action === `record` ? plan.annotation.value : null, dryRun);
        const what = plan.annotation.action === `record` ? `sync policy recorded: ${describePolicy(plan.annotation.policy)}` : `sync policy removed`;
        this.resourceLine(`${where}: secret/${this.name} annotated (${what})${dryRunSuffix(dryRun)}`);
      }
      return this.syncCluster(session, source, plan.scope, plan.attach, plan.prune, dryRun);
    });
    if (forgetOnly)
      return 0;
    if (reports.length === 0 && keep === true) {
      // A policy may select namespaces that do not exist yet: recording it is the point.
      this.context.stderr.write(`note: no namespace is selected yet; namespaces the policy selects later get their copy from the agent or the next sync\n`);
      return 0;
    }
    if (reports.length === 0)
      throw new PullSecretError(`no namespace selected`);
    return this.finish(`SyncResult`, this.name, reports, {command: `sync`, source: sourceRef(sourceNamespace, this.name), restartRequested: this.restart});
  }

  /** A resource line: on stdout as kubectl prints them, on stderr when stdout carries an -o document. */
  private resourceLine(line: string): void {
    (this.outputFormat() === undefined ? this.context.stdout : this.context.stderr).write(`${line}\n`);
  }

  /** True when a flag names the namespaces (then a recorded policy is not re-applied). */
  private scopeFlagGiven(): boolean {
    return this.namespace !== undefined || this.allNamespaces || this.namespaces !== undefined || this.namespaceSelector !== undefined || this.excludeNamespaces !== undefined;
  }

  private async syncCluster(session: ClusterSession, source: KubeObject, namespaceScope: NamespaceScope, attach: AttachTargets | null, prune: boolean, dryRun: DryRun): Promise<NamespaceReport[]> {
    const context = session.contextName;
    const sourceNamespace = source.metadata.namespace ?? ``;
    const scope = await this.namespacesInScope(session, namespaceScope);
    const skipped = [...scope.skipped];
    const namespaces = scope.namespaces.filter(namespace => namespace !== sourceNamespace);
    if (namespaces.length !== scope.namespaces.length)
      skipped.push(bareReport(context, sourceNamespace, {status: `skipped`, note: `the source namespace is never a target`}));

    // One list for every namespace (and for --prune); a single namespace is read on its own.
    const existing = namespaces.length > 1 || prune ? await secretsByNamespace(session, this.name) : undefined;
    const snapshot = attach === null ? undefined : await prepareAttach(session, namespaces, this.name, attach, {checkSecret: false});
    const done = await this.fanOutNamespaces(session, namespaces, async namespace => fromSyncResult(context, await syncCopy(session, namespace, source, existing === undefined ? undefined : existing.byNamespace.get(namespace) ?? null, {
      force: this.force,
      dryRun,
      pacing: this.context,
      ...(attach === null ? {} : {attach: {targets: attach, snapshot, restart: this.restart, now: this.context.now}}),
    })));

    const pruned: NamespaceReport[] = [];
    if (prune && existing !== undefined) {
      // Namespaces that opted out are never pruned, whatever the scope flags (one namespace list).
      const ignored = new Set((await session.list(`namespaces`)).filter(namespace => namespace.metadata.annotations?.[IGNORE_ANNOTATION] === `true`).map(namespace => namespace.metadata.name));
      const victims = planPrune(existing.all, {namespace: sourceNamespace, name: this.name}, new Set(namespaces), ignored).map(secret => secret.metadata.namespace ?? ``);
      const pruneSnapshot = await prepareAttach(session, victims, this.name, {serviceAccounts: `all`, workloads: `all`}, {timing: false});
      pruned.push(...await this.fanOutNamespaces(session, victims, async namespace => fromSyncResult(context, await removeSecret(session, namespace, this.name, {dryRun, snapshot: pruneSnapshot, pacing: this.context, force: true}))));
    }
    return [...done, ...pruned, ...skipped];
  }
}
