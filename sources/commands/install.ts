import {Option, UsageError} from 'clipanion';
import type {Usage} from 'clipanion';
import {helpExample} from '../core/shell.ts';
import {installManifests} from '../core/install/manifests.ts';
import type {InstallMode} from '../core/install/manifests.ts';
import {printObjects} from '../adapters/output/printObjects.ts';
import {toKubectlYaml} from '../adapters/output/yaml.ts';
import {VERSION} from '../version.ts';
import {BaseCommand} from './BaseCommand.ts';
import {LABEL_RE, parseOutput} from './options.ts';

/** The image `install` names unless --image is given. */
export const DEFAULT_IMAGE = `ghcr.io/kubectl-pullsecret/kubectl-pullsecret:${VERSION}`;

/** `kubectl pullsecret install agent|refresh -o yaml`: the manifests that run the plugin in the cluster. */
export class InstallCommand extends BaseCommand {
  static override paths = [[`install`]];
  static override usage: Usage = {
    description: `print the manifests that run the agent (a Deployment) or refresh (a CronJob) in the cluster, with minimal RBAC`,
    details: `
      Renders, for \`kubectl apply -f -\`: the namespace (--namespace, default pullsecret-system), a ServiceAccount, the
      least RBAC the mode needs (a ClusterRole and ClusterRoleBinding; for the agent also a Role and RoleBinding for its
      Lease), and a Deployment with 2 replicas running \`agent\` (leader election, /healthz, /readyz, /metrics on port
      8080) or a CronJob running \`refresh -A\` (--schedule, default every 10 hours). Nothing is sent to a cluster.

      The container runs the plugin's image (--image) as a non-root user with a read-only root filesystem; inside the
      pod the plugin uses the ServiceAccount (in-cluster configuration). A --password-command recorded on a secret runs
      inside that container: its image must provide the command (aws, gcloud, az...).
    `,
    examples: [
      helpExample(`Install the agent`, [`install`, `agent`, `-o`, `yaml`], {after: ` | kubectl apply -f -`}),
      helpExample(`Print what kubectl would apply, without changing the cluster (server dry runs refuse objects in the namespace the manifests create)`, [`install`, `agent`, `-o`, `yaml`], {after: ` | kubectl apply --dry-run=client -f -`}),
      helpExample(`Install the refresh CronJob with your own image`, [`install`, `refresh`, `--image`, `registry.example.com/tools/kubectl-pullsecret:1`, `-o`, `yaml`], {after: ` | kubectl apply -f -`}),
    ],
  };

  mode = Option.String({name: `agent|refresh`});
  namespace = Option.String(`-n,--namespace`, {description: `the namespace to install into (default pullsecret-system)`});
  image = Option.String(`--image`, {description: `the container image to run (default the release image of this version)`});
  schedule = Option.String(`--schedule`, {description: `refresh: the CronJob schedule (default "0 */10 * * *", every 10 hours)`});
  output = Option.String(`-o,--output`, {description: `yaml (default) or json`});

  async executeCommand() {
    if (this.mode !== `agent` && this.mode !== `refresh`)
      throw new UsageError(`unknown component "${this.mode}": install agent or refresh`);
    const format = parseOutput(this.output, [`yaml`, `json`] as const) ?? `yaml`;
    const namespace = this.namespace ?? `pullsecret-system`;
    if (!LABEL_RE.test(namespace))
      throw new UsageError(`invalid namespace "${namespace}"`);
    if (this.image !== undefined && (this.image === `` || /\s/.test(this.image)))
      throw new UsageError(`--image must be an image reference such as registry.example.com/kubectl-pullsecret:1`);
    if (this.schedule !== undefined && this.mode !== `refresh`)
      throw new UsageError(`--schedule only applies to install refresh`);
    if (this.schedule !== undefined && this.schedule.trim().split(/\s+/).length !== 5 && !this.schedule.startsWith(`@`))
      throw new UsageError(`invalid --schedule "${this.schedule}": give five cron fields, e.g. "0 */10 * * *"`);
    const objects = installManifests({mode: this.mode as InstallMode, namespace, image: this.image ?? DEFAULT_IMAGE, schedule: this.schedule ?? `0 */10 * * *`});
    // YAML as one document per object (`---`), the form install manifests usually take; JSON as kubectl's List.
    if (format === `yaml`)
      this.context.stdout.write(objects.map(object => toKubectlYaml(object)).join(`---\n`));
    else
      printObjects(objects, format, this.context.stdout);
  }
}
