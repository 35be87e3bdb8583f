import {Option} from 'clipanion';
import type {Usage} from 'clipanion';
import {helpExample} from '../core/shell.ts';
import {PullSecretError} from '../core/errors.ts';
import {attachSecret, prepareAttach} from '../core/attach/attachSecret.ts';
import {fromAttachResult} from '../core/attach/report.ts';
import {FanOutCommand, targetsFromFlags} from './FanOutCommand.ts';
import {checkObjectName} from '../core/names.ts';

/** `kubectl pullsecret attach NAME`: reference a pull secret from ServiceAccounts and workloads without dropping other entries. */
export class AttachCommand extends FanOutCommand {
  static override paths = [[`attach`]];
  static override usage: Usage = {
    description: `reference a pull secret from ServiceAccounts and workloads, keeping their other entries`,
    details: `
      Adds NAME to the imagePullSecrets of the \`default\` ServiceAccount (or those named with --service-account,
      or all with --all-service-accounts) and of the pod templates named with --workload KIND/NAME (deployments,
      statefulsets, daemonsets, replicasets, cronjobs), in the selected namespaces. Entries already there are kept
      in order and never duplicated; an object that already lists NAME is \`unchanged\`. Writes are JSON patches
      guarded by a \`test\` of the list that was read, so a concurrent edit is never lost (\`kubectl patch sa\` with a
      strategic merge replaces the whole list). The secret must exist in each namespace unless --allow-missing.

      A ServiceAccount's pull secrets reach only pods created afterwards, and never pods whose template lists its
      own imagePullSecrets: both are reported, and --restart rolls the Deployments, StatefulSets and DaemonSets whose
      running pods lack the secret, like \`kubectl rollout restart\`.

      -o json|yaml prints an AttachResult document (see the README, "Output schemas"); -o name prints the objects changed.
      Exit code 1 when any namespace failed; each failure names its namespace and the step that failed.
    `,
    examples: [
      helpExample(`Attach regcred to the default ServiceAccount of the current namespace`, [`attach`, `regcred`]),
      helpExample(`Attach to every ServiceAccount in every namespace`, [`attach`, `regcred`, `-A`, `--all-service-accounts`]),
      helpExample(`Attach to a deployment's pod template and to the builder ServiceAccount`, [`attach`, `regcred`, `-n`, `web`, `--workload`, `deploy/api`, `--service-account`, `builder`]),
      helpExample(`Attach and restart the workloads whose running pods lack it`, [`attach`, `regcred`, `-n`, `web`, `--restart`]),
    ],
  };

  name = Option.String({name: `NAME`});
  serviceAccount = Option.Array(`--service-account`, {description: `a ServiceAccount to attach to (repeatable; default: default)`});
  allServiceAccounts = Option.Boolean(`--all-service-accounts`, false, {description: `attach to every ServiceAccount in the namespaces`});
  workload = Option.Array(`--workload`, {description: `a workload's pod template to attach to, as KIND/NAME (deploy/web, sts/db, ds/agent, rs/x, cronjob/nightly; repeatable)`});
  allowMissing = Option.Boolean(`--allow-missing`, false, {description: `attach even where the secret does not exist (yet)`});
  restart = Option.Boolean(`--restart`, false, {description: `roll the workloads whose running pods will not get the secret until recreated (like kubectl rollout restart)`});

  async executeCommand() {
    checkObjectName(this.name, `secret name`);
    const targets = targetsFromFlags(this);
    const dryRun = this.dryRunMode();
    this.outputFormat();
    const reports = await this.forEachCluster(async session => {
      const {namespaces, skipped} = await this.namespacesInScope(session);
      const snapshot = await prepareAttach(session, namespaces, this.name, targets);
      const done = await this.fanOutNamespaces(session, namespaces, async namespace => fromAttachResult(session.contextName,
        await attachSecret(session, namespace, this.name, targets, {dryRun, allowMissing: this.allowMissing, restart: this.restart, now: this.context.now, snapshot, pacing: this.context})));
      return [...await this.confirmNamedNamespace(session, done), ...skipped];
    });
    if (reports.length === 0)
      throw new PullSecretError(`no namespace selected`);
    return this.finish(`AttachResult`, this.name, reports, {command: `attach`, restartRequested: this.restart});
  }
}
