import {Option, UsageError} from 'clipanion';
import * as t from 'typanion';
import type {ClusterSession, ClusterTarget} from '../core/ports.ts';
import type {NamespaceScope, ResolvedScope} from '../core/scope.ts';
import {emptySelectorWarning, resolveNamespaces} from '../core/scope.ts';
import {BaseCommand} from './BaseCommand.ts';
import {PullSecretError, errorLine} from '../core/errors.ts';
import {forEachContext} from '../core/fanout.ts';
import type {ContextOutcome} from '../core/fanout.ts';
import {parseDuration} from './options.ts';
import {invalidNameMessage, namespaceNameProblem} from '../core/names.ts';

/**
 * The kubectl global flags, shared by every command that may talk to a cluster.
 * Flag names and help texts follow kubectl's (`kubectl options`); no invented short flags.
 */
export abstract class KubeCommand extends BaseCommand {
  kubeconfig = Option.String(`--kubeconfig`, {description: `path to the kubeconfig file to use for CLI requests`});
  // `context` is reserved by clipanion (this.context holds stdio), hence the property name.
  kubeContexts = Option.Array(`--context`, {description: `the name of the kubeconfig context to use (repeatable where a command fans out over clusters)`});
  namespace = Option.String(`-n,--namespace`, {description: `if present, the namespace scope for this CLI request`});
  requestTimeout = Option.String(`--request-timeout`, {description: `the length of time to wait before giving up on a single server request (e.g. 1s, 2m, 3h); 0 means no timeout`});

  /** Whether this command accepts several `--context` flags. */
  protected allowsManyContexts(): boolean {
    return false;
  }

  /** The targets named by the flags: one per distinct `--context` (a repeated name is one cluster), or the current context. */
  protected clusterTargets(): ClusterTarget[] {
    if (this.namespace !== undefined) {
      const problem = namespaceNameProblem(this.namespace);
      if (problem !== undefined)
        throw new UsageError(invalidNameMessage(`namespace`, this.namespace, problem));
    }
    const contexts = [...new Set(this.kubeContexts ?? [])];
    if (contexts.length > 1 && !this.allowsManyContexts())
      throw new UsageError(`--context may be given only once for this command`);
    const base: ClusterTarget = {
      kubeconfig: this.kubeconfig,
      namespace: this.namespace,
      requestTimeoutMs: this.requestTimeout === undefined ? undefined : parseDuration(this.requestTimeout, `--request-timeout`),
      env: this.context.env,
      homedir: this.context.homedir,
      cwd: this.context.cwd,
      serviceAccountDir: this.context.serviceAccountDir,
      log: this.isVerbose ? line => this.context.stderr.write(`${line}\n`) : undefined,
    };
    if (contexts.length === 0)
      return [base];
    return contexts.map(context => ({...base, context}));
  }

  /** Opens the one cluster session of a single-cluster command. */
  protected async connect(): Promise<ClusterSession> {
    const [target] = this.clusterTargets();
    return this.context.connectCluster(target!);
  }

  /**
   * Runs `work` on every cluster of the flags at once (core/fanout.ts `forEachContext`). With one cluster its error
   * is the command's (exit 3 when unreachable); with several, each failure is an outcome and the others go on.
   */
  protected async eachCluster<T>(work: (session: ClusterSession) => Promise<T>): Promise<Array<ContextOutcome<T>>> {
    const targets = this.clusterTargets();
    if (targets.length === 1) {
      const session = await this.context.connectCluster(targets[0]!);
      return [{context: session.contextName, ok: true, value: await work(session)}];
    }
    return forEachContext(targets, this.context.connectCluster, work);
  }

  /** One `error: context NAME: …` line per cluster that failed (its stack under -v); true when there was one. */
  protected reportClusterFailures(outcomes: Array<ContextOutcome<unknown>>): boolean {
    let failed = false;
    for (const outcome of outcomes) {
      if (outcome.ok)
        continue;
      failed = true;
      this.context.stderr.write(`error: context ${outcome.context}: ${errorLine(outcome.error)}\n`);
      const {error} = outcome;
      const stack = error instanceof PullSecretError ? (error.cause as Error | undefined)?.stack : (error as Error | undefined)?.stack;
      if (this.isVerbose && stack)
        this.context.stderr.write(`${stack}\n`);
    }
    return failed;
  }
}

/** `--concurrency` validation: a positive integer. */
export const isConcurrency = t.cascade(t.isNumber(), [t.isInteger(), t.isInInclusiveRange(1, 256)]);

/**
 * Commands that act on a set of namespaces: `-n`, `-A`, `--namespaces`, `--namespace-selector`,
 * `--exclude-namespaces`, and `--concurrency` for the fan-out.
 */
export abstract class ScopedCommand extends KubeCommand {
  allNamespaces = Option.Boolean(`-A,--all-namespaces`, false, {description: `act on every namespace (namespaces annotated pullsecret.kubectl.io/ignore=true are skipped)`});
  namespaces = Option.String(`--namespaces`, {description: `comma-separated list of namespaces to act on`});
  namespaceSelector = Option.String(`--namespace-selector`, {description: `label selector choosing the namespaces to act on (e.g. team=web,env!=dev)`});
  excludeNamespaces = Option.String(`--exclude-namespaces`, {description: `comma-separated namespace globs to leave out (e.g. kube-*,istio-system)`});
  concurrency = Option.String(`--concurrency`, {validator: isConcurrency, description: `how many namespaces to work on at once (default 16)`});

  /** The `--concurrency` value, 16 by default. */
  get workers(): number {
    return this.concurrency ?? 16;
  }

  protected override allowsManyContexts(): boolean {
    return true;
  }

  /** Namespace-flag conflicts are usage errors before any connection is made. */
  protected override clusterTargets(): ClusterTarget[] {
    this.checkScopeFlags();
    return super.clusterTargets();
  }

  /** Throws the UsageError of conflicting namespace flags; a command giving -n another meaning overrides it. */
  protected checkScopeFlags(): void {
    this.namespaceScope();
  }

  /**
   * The namespace scope named by the flags, checked for conflicts. `namespaceFlag: 'source'` is for
   * commands whose `-n` names a source rather than the scope (rotate); `fallback` is the scope when no
   * flag names one.
   */
  protected namespaceScope(options: {namespaceFlag?: `scope` | `source`; fallback?: `current` | `all`} = {}): NamespaceScope {
    const namespaceIsScope = (options.namespaceFlag ?? `scope`) === `scope`;
    const given = [namespaceIsScope && this.namespace !== undefined && `-n`, this.allNamespaces && `-A`, this.namespaces !== undefined && `--namespaces`, this.namespaceSelector !== undefined && `--namespace-selector`].filter(Boolean);
    if (given.length > 1)
      throw new UsageError(`${given.join(` and `)} cannot be combined; choose one way to select namespaces`);
    const exclude = splitList(this.excludeNamespaces);
    if (this.allNamespaces)
      return {kind: `all`, exclude};
    if (this.namespaces !== undefined) {
      const names = splitList(this.namespaces);
      if (names.length === 0)
        throw new UsageError(`--namespaces needs at least one namespace name`);
      for (const name of names) {
        const problem = namespaceNameProblem(name);
        if (problem !== undefined)
          throw new UsageError(`${invalidNameMessage(`namespace`, name, problem)} (in --namespaces)`);
      }
      return {kind: `list`, names, exclude};
    }
    if (this.namespaceSelector !== undefined)
      return {kind: `selector`, selector: this.namespaceSelector, exclude};
    return {kind: options.fallback ?? `current`, exclude};
  }

  /** True when the command records its scope for namespaces that appear later (sync --keep): an empty match is expected. */
  protected selectsLaterNamespaces(): boolean {
    return false;
  }

  /**
   * Resolves a scope over one cluster (core/scope.ts), and says so on stderr when `--namespace-selector` matches no
   * namespace at all: a command that then does nothing must not pass for one that did its work.
   */
  protected async resolveScope(session: ClusterSession, scope: NamespaceScope): Promise<ResolvedScope> {
    const resolved = await resolveNamespaces(session, scope);
    const empty = emptySelectorWarning(scope, resolved);
    if (empty !== undefined && !this.selectsLaterNamespaces())
      this.context.stderr.write(`warning: ${empty}${this.clusterTargets().length > 1 ? ` in context ${session.contextName}` : ``}\n`);
    return resolved;
  }
}

/** Which namespaces a fan-out command acts on (defined next to its resolver, `resolveNamespaces`). */
export type {NamespaceScope} from '../core/scope.ts';

/** Splits a comma-separated flag value, dropping empty items. */
export function splitList(value: string | undefined): string[] {
  return (value ?? ``).split(`,`).map(item => item.trim()).filter(item => item !== ``);
}
