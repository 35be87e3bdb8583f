import {Command, Option, UsageError} from 'clipanion';
import type {Usage} from 'clipanion';
import {helpExample} from '../core/shell.ts';
import {Directive, commandsFromDefinitions, lookupCandidates, planCompletion, renderCompletion} from '../core/completion/complete.ts';
import type {CompletionPlan} from '../core/completion/complete.ts';
import {SHELLS, completionScript} from '../core/completion/scripts.ts';
import type {Shell} from '../core/completion/scripts.ts';
import type {PullSecretContext} from '../context.ts';
import {BaseCommand} from './BaseCommand.ts';
import {ATTACHABLE_WORKLOAD_KINDS, WORKLOADS} from '../core/workloads.ts';

/** The program name the scripts call; the binary installed on PATH. */
const PROGRAM = `kubectl-pullsecret`;
/** Completion must feel instant; a slow or unreachable cluster yields no candidates rather than a hang. */
const LOOKUP_TIMEOUT_MS = 2_000;

/** `kubectl pullsecret completion bash|zsh|fish`: prints a shell completion script. */
export class CompletionCommand extends BaseCommand {
  static override paths = [[`completion`]];
  static override usage: Usage = {
    description: `print a shell completion script for kubectl-pullsecret (bash, zsh or fish)`,
    details: `
      The script completes \`kubectl-pullsecret …\` run directly. For \`kubectl pullsecret …\`, kubectl's own completion asks \`kubectl_complete-pullsecret\` (installed next to the binary), so no script is needed.
    `,
    examples: [
      helpExample(`Load bash completion into the current shell`, [`completion`, `bash`], {before: `source <(`, after: `)`}),
      helpExample(`Install zsh completion`, [`completion`, `zsh`], {after: ` > "\${fpath[1]}/_kubectl-pullsecret"`}),
      helpExample(`Load fish completion`, [`completion`, `fish`], {after: ` | source`}),
    ],
  };

  shell = Option.String({name: `SHELL`});

  async executeCommand() {
    if (!(SHELLS as readonly string[]).includes(this.shell))
      throw new UsageError(`unsupported shell "${this.shell}": use ${SHELLS.join(`, `)}`);
    this.context.stdout.write(completionScript(this.shell as Shell, PROGRAM));
  }
}

/**
 * `__complete <args…> <current>`: cobra's completion protocol, used by `kubectl __complete pullsecret …`
 * through `kubectl_complete-pullsecret` and by the scripts above. Hidden (no usage). Never fails loudly:
 * a broken kubeconfig or an unreachable cluster just means no candidates.
 */
export class CompleteCommand extends Command<PullSecretContext> {
  static override paths = [[`__complete`]];

  args = Option.Proxy();

  async execute(): Promise<number> {
    const commands = commandsFromDefinitions(this.cli.definitions(), `kubectl pullsecret`);
    const plan = planCompletion(commands, this.args.length === 0 ? [``] : this.args);
    if (plan.kind === `static`) {
      this.context.stdout.write(renderCompletion(plan.candidates, plan.directive));
      return 0;
    }
    let values: string[] = [];
    try {
      values = await withTimeout(lookup(plan, this.context), LOOKUP_TIMEOUT_MS);
    } catch {
      // Silent by design: completion output must stay parseable; the directive still applies.
    }
    this.context.stdout.write(renderCompletion(lookupCandidates(plan, values), plan.directive | Directive.noFileComp));
    return 0;
  }
}

/** Fetches the values of a lookup: contexts from the kubeconfig files (no cluster), namespaces and pull secrets from the cluster. */
async function lookup(plan: Extract<CompletionPlan, {kind: `lookup`}>, context: PullSecretContext): Promise<string[]> {
  const {scope} = plan;
  if (plan.source === `contexts`) {
    // Loaded on use: the kubeconfig reader brings node:crypto and the YAML parser, which no other completion needs.
    const {kubeconfigFiles, mergeKubeconfigs} = await import('../adapters/kube/kubeconfig.ts');
    const files = kubeconfigFiles({explicitPath: scope.kubeconfig, kubeconfigEnv: context.env.KUBECONFIG, homedir: context.homedir, cwd: context.cwd});
    return [...mergeKubeconfigs(files).contexts.keys()];
  }
  const session = await context.connectCluster({kubeconfig: scope.kubeconfig, context: scope.context, namespace: scope.namespace, requestTimeoutMs: LOOKUP_TIMEOUT_MS, env: context.env, homedir: context.homedir, cwd: context.cwd, serviceAccountDir: context.serviceAccountDir});
  if (plan.source === `namespaces`)
    return (await session.list(`namespaces`)).map(object => object.metadata.name);
  if (plan.source === `serviceaccounts`)
    return (await session.list(`serviceaccounts`, {namespace: session.namespace})).map(object => object.metadata.name);
  if (plan.source === `workloads`) {
    // KIND/NAME as --workload takes it, for the kinds attach can edit; a kind that cannot be listed is left out.
    const lists = await Promise.all(ATTACHABLE_WORKLOAD_KINDS.map(async kind =>
      (await session.list(WORKLOADS[kind].resource, {namespace: session.namespace}).catch(() => [])).map(object => `${kind.toLowerCase()}/${object.metadata.name}`)));
    return lists.flat();
  }
  const secrets = await session.list(`secrets`, {namespace: session.namespace});
  return secrets.filter(secret => secret.type === `kubernetes.io/dockerconfigjson` || secret.type === `kubernetes.io/dockercfg`).map(secret => secret.metadata.name);
}

function withTimeout<T>(promise: Promise<T>, ms: number): Promise<T> {
  let timer: ReturnType<typeof setTimeout> | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`timed out`)), ms);
  });
  return Promise.race([promise, timeout]).finally(() => clearTimeout(timer));
}
