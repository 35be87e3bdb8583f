import {Option} from 'clipanion';
import type {Usage} from 'clipanion';
import {helpExample} from '../core/shell.ts';
import {PullSecretError} from '../core/errors.ts';
import {detachSecret, prepareAttach} from '../core/attach/attachSecret.ts';
import {fromAttachResult} from '../core/attach/report.ts';
import {FanOutCommand, targetsFromFlags} from './FanOutCommand.ts';
import {checkObjectName} from '../core/names.ts';

/** `kubectl pullsecret detach NAME`: remove a pull-secret reference from ServiceAccounts and workloads, and nothing else. */
export class DetachCommand extends FanOutCommand {
  static override paths = [[`detach`]];
  static override usage: Usage = {
    description: `remove a pull-secret reference from ServiceAccounts and workloads, keeping their other entries`,
    details: `
      Removes NAME from the imagePullSecrets of the \`default\` ServiceAccount (or those named with --service-account,
      or all with --all-service-accounts) and of the pod templates named with --workload KIND/NAME, in the selected
      namespaces. Every other entry stays, in order; the secret itself is not deleted (see \`remove\`). Objects that do
      not list NAME are \`unchanged\`. Running pods keep the pull secrets they were created with until recreated.

      -o json|yaml prints a DetachResult document (same shape as attach's); exit code 1 when any namespace failed.
    `,
    examples: [
      helpExample(`Detach regcred from the default ServiceAccount of the current namespace`, [`detach`, `regcred`]),
      helpExample(`Detach from every ServiceAccount in every namespace`, [`detach`, `regcred`, `-A`, `--all-service-accounts`]),
      helpExample(`Detach from a deployment's pod template only`, [`detach`, `regcred`, `-n`, `web`, `--workload`, `deployment.apps/api`]),
    ],
  };

  name = Option.String({name: `NAME`});
  serviceAccount = Option.Array(`--service-account`, {description: `a ServiceAccount to detach from (repeatable; default: default)`});
  allServiceAccounts = Option.Boolean(`--all-service-accounts`, false, {description: `detach from every ServiceAccount in the namespaces`});
  workload = Option.Array(`--workload`, {description: `a workload's pod template to detach from, as KIND/NAME (repeatable)`});

  async executeCommand() {
    checkObjectName(this.name, `secret name`);
    const targets = targetsFromFlags(this);
    const dryRun = this.dryRunMode();
    this.outputFormat();
    const reports = await this.forEachCluster(async session => {
      const {namespaces, skipped} = await this.namespacesInScope(session);
      const snapshot = await prepareAttach(session, namespaces, this.name, targets, {timing: false, checkSecret: false});
      const done = await this.fanOutNamespaces(session, namespaces, async namespace => fromAttachResult(session.contextName,
        await detachSecret(session, namespace, this.name, targets, {dryRun, allowMissing: true, snapshot, pacing: this.context})));
      return [...await this.confirmNamedNamespace(session, done), ...skipped];
    });
    if (reports.length === 0)
      throw new PullSecretError(`no namespace selected`);
    return this.finish(`DetachResult`, this.name, reports, {command: `detach`});
  }
}
