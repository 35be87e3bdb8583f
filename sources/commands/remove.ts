import {Option} from 'clipanion';
import type {Usage} from 'clipanion';
import {helpExample} from '../core/shell.ts';
import {PullSecretError} from '../core/errors.ts';
import {prepareAttach} from '../core/attach/attachSecret.ts';
import {removeSecret} from '../core/sync/syncSecret.ts';
import {FanOutCommand} from './FanOutCommand.ts';
import {checkObjectName} from '../core/names.ts';
import {fromSyncResult} from '../core/sync/syncSecret.ts';

/** `kubectl pullsecret remove NAME`: detach a pull secret everywhere in scope, then delete it. */
export class RemoveCommand extends FanOutCommand {
  static override paths = [[`remove`]];
  static override usage: Usage = {
    description: `delete a pull secret and remove every reference to it from ServiceAccounts and workloads`,
    details: `
      In each selected namespace, removes NAME from the imagePullSecrets of every ServiceAccount and workload pod
      template that lists it (keeping their other entries), then deletes the secret. References are removed first, so
      a failure never leaves ServiceAccounts or workloads referencing a deleted secret; a rerun finishes the job.
      --dry-run shows what would change. Only pull secrets (kubernetes.io/dockerconfigjson, kubernetes.io/dockercfg)
      are removed: a secret of another type is refused, with nothing changed, unless --force.

      A running pod's imagePullSecrets cannot be edited: pods that still list the secret are named in a warning,
      to be recreated (they keep running, but a later pull finds no secret).

      Exit code 1 when any namespace failed, or when the secret exists nowhere in scope and nothing references it.
      -o json|yaml prints a RemoveResult document; -o name prints the objects changed.
    `,
    examples: [
      helpExample(`Remove regcred from the current namespace`, [`remove`, `regcred`]),
      helpExample(`See what removing it from every namespace would change`, [`remove`, `regcred`, `-A`, `--dry-run`]),
    ],
  };

  name = Option.String({name: `NAME`});
  force = Option.Boolean(`--force`, false, {description: `also remove a secret that is not a pull secret (detached and deleted like one)`});

  async executeCommand() {
    checkObjectName(this.name, `secret name`);
    const dryRun = this.dryRunMode();
    this.outputFormat();
    const reports = await this.forEachCluster(async session => {
      const {namespaces, skipped} = await this.namespacesInScope(session);
      const snapshot = await prepareAttach(session, namespaces, this.name, {serviceAccounts: `all`, workloads: `all`}, {timing: false});
      const done = await this.fanOutNamespaces(session, namespaces, async namespace => {
        const report = fromSyncResult(session.contextName, await removeSecret(session, namespace, this.name, {dryRun, snapshot, pacing: this.context, force: this.force, warnPods: true}));
        // Every ServiceAccount is examined; only those that listed the secret are worth a line.
        return {...report, targets: report.targets.filter(target => target.action !== `unchanged`)};
      });
      const nothingFound = done.length === 1 && done[0]!.status === `ok` && done[0]!.secret === `not-found` && done[0]!.targets.length === 0;
      return [...await this.confirmNamedNamespace(session, done, nothingFound), ...skipped];
    });
    const found = reports.some(report => report.status !== `ok` || (report.secret !== undefined && report.secret !== `not-found`) || report.targets.some(target => target.action !== `unchanged`));
    if (!found) {
      const where = reports.length === 1 ? `namespace "${reports[0]!.namespace}"` : `the ${reports.length} namespaces in scope`;
      throw new PullSecretError(`secret "${this.name}" not found in ${where}, and nothing references it`);
    }
    return this.finish(`RemoveResult`, this.name, reports, {command: `remove`});
  }
}
