/**
 * The shared shape of the fan-out commands (attach, detach, sync, rotate, remove), as a named module so that no
 * command imports another: `--dry-run`, `-o`, one session per `--context`, the namespace fan-out with bounded
 * concurrency, and the report; plus the target flags attach and detach share.
 */
import {Option, UsageError} from 'clipanion';
import type {ClusterSession, DryRun} from '../core/ports.ts';
import {ExitCode, PullSecretError, errorLine} from '../core/errors.ts';
import type {NamespaceScope} from '../core/scope.ts';
import {fanOut, forEachContext, progressLine} from '../core/fanout.ts';
import type {AttachTargets} from '../core/attach/attachSecret.ts';
import {parseWorkloadRef} from '../core/attach/plan.ts';
import type {FanOutReport, NamespaceReport, ReportKind} from '../core/attach/report.ts';
import {bareReport, buildReport, changedNames, humanLines} from '../core/attach/report.ts';
import {printData} from '../adapters/output/printObjects.ts';
import {namespaceExists} from '../core/cluster/gather.ts';
import {ScopedCommand} from './KubeCommand.ts';
import {checkObjectName} from '../core/names.ts';
import {parseDryRun, parseOutput} from './options.ts';


/**
 * Mixes the shared shape of the fan-out commands (attach, detach, sync, rotate, remove): `--dry-run`, `-o`,
 * one session per `--context`, the namespace fan-out with bounded concurrency, and the report.
 */
export function withFanOut<TBase extends abstract new (...args: any[]) => ScopedCommand>(Base: TBase) {
  abstract class FanOut extends Base {
    dryRun = Option.String(`--dry-run`, {tolerateBoolean: true, description: `none, client (plan only: read, write nothing) or server (the API server checks the writes, nothing is stored); bare --dry-run means client`});
    output = Option.String(`-o,--output`, {description: `print the result document as json or yaml, or the changed objects as name`});

    /** `--dry-run` as kubectl reads it. */
    protected dryRunMode(): DryRun {
      return parseDryRun(this.dryRun);
    }

    /** `-o` for the fan-out commands: json, yaml or name. */
    protected outputFormat(): `json` | `yaml` | `name` | undefined {
      return parseOutput(this.output, [`json`, `yaml`, `name`] as const);
    }

    /**
     * Runs `body` once per cluster (`--context`, repeatable). With one cluster, its connection errors
     * propagate (exit 3 when unreachable); with several, a cluster that fails is reported and the others go on.
     */
    protected async forEachCluster(body: (session: ClusterSession) => Promise<NamespaceReport[]>): Promise<NamespaceReport[]> {
      const targets = this.clusterTargets();
      if (targets.length === 1)
        return body(this.watchReachability(await this.context.connectCluster(targets[0]!)));
      const outcomes = await forEachContext(targets, this.context.connectCluster, body);
      return outcomes.flatMap(outcome => (outcome.ok
        ? outcome.value
        : [bareReport(outcome.context, ``, {status: `failed`, failedStep: `connect`, error: errorLine(outcome.error)})]));
    }

    /** Set when a request of the single cluster failed because it could not be reached or refused us (exit 3). */
    protected clusterUnreachable = false;

    /** The session, noting any `ClusterUnreachableError` its calls throw (also those a namespace's report absorbs). */
    protected watchReachability(session: ClusterSession): ClusterSession {
      const note = (error: unknown): never => {
        if (error instanceof PullSecretError && error.exitCode === ExitCode.clusterUnreachable)
          this.clusterUnreachable = true;
        throw error;
      };
      return new Proxy(session, {
        get: (target, property) => {
          const value = Reflect.get(target, property, target) as unknown;
          if (typeof value !== `function`)
            return value;
          return (...args: unknown[]) => {
            try {
              const result = (value as (...a: unknown[]) => unknown).apply(target, args);
              return result instanceof Promise ? result.catch(note) : result;
            } catch (error) {
              return note(error);
            }
          };
        },
      });
    }

    /** The namespaces in scope, and a skipped report for each namespace left out with a reason. */
    protected async namespacesInScope(session: ClusterSession, scope: NamespaceScope = this.namespaceScope()): Promise<{namespaces: string[]; skipped: NamespaceReport[]; ignored: Set<string>}> {
      const resolved = await this.resolveScope(session, scope);
      return {
        namespaces: resolved.namespaces,
        // A namespace named with --namespaces that does not exist is a failure; the others are skipped with a note.
        skipped: resolved.skipped.map(entry => entry.cause === `missing`
          ? bareReport(session.contextName, entry.namespace, {status: `failed`, failedStep: `check namespace`, error: entry.reason})
          : bareReport(session.contextName, entry.namespace, {status: `skipped`, note: entry.reason})),
        ignored: new Set(resolved.skipped.filter(entry => entry.cause === `ignored`).map(entry => entry.namespace)),
      };
    }

    /**
     * The namespace of `-n` (or the context's) is not read beforehand, so a command run in one that does not exist
     * fails at its first request with another object's NotFound. When the only namespace failed, or nothing at all
     * was found in it, one GET tells whether it exists; if not, its report says so (`namespace "x" not found`), the
     * rule every command follows.
     */
    protected async confirmNamedNamespace(session: ClusterSession, reports: NamespaceReport[], nothingFound = false): Promise<NamespaceReport[]> {
      if (this.namespaceScope().kind !== `current` || reports.length !== 1)
        return reports;
      const [report] = reports as [NamespaceReport];
      if ((report.status !== `failed` && !nothingFound) || report.failedStep === `check namespace`)
        return reports;
      if (await namespaceExists(session, report.namespace) !== `missing`)
        return reports;
      return [bareReport(report.context, report.namespace, {status: `failed`, failedStep: `check namespace`, error: `namespace "${report.namespace}" not found`})];
    }

    /** Runs `work` for each namespace with `--concurrency` workers; a thrown error becomes a failed namespace. */
    protected async fanOutNamespaces(session: ClusterSession, namespaces: string[], work: (namespace: string) => Promise<NamespaceReport>): Promise<NamespaceReport[]> {
      const progress = progressLine(this.context.stderr, `${this.path.join(` `)}:`);
      const outcomes = await fanOut(namespaces, this.workers, work, (done, total) => progress.update(done, total, `namespaces`));
      progress.clear();
      return outcomes.map(outcome => outcome.ok
        ? outcome.value
        : bareReport(session.contextName, outcome.item, {status: `failed`, failedStep: `unexpected error`, error: errorLine(outcome.error)}));
    }

    /** Prints the report (document on stdout for -o, else resource lines on stdout; the rest on stderr) and returns the exit code. */
    protected printReport(report: FanOutReport, options: {command: string; restartRequested?: boolean}): number {
      const format = this.outputFormat();
      if (format === `json` || format === `yaml`)
        printData(report, format, this.context.stdout);
      else if (format === `name`)
        for (const name of changedNames(report))
          this.context.stdout.write(`${name}\n`);
      const lines = humanLines(report, options);
      // Resource lines on stdout unless -o chose what stdout carries; with -o json|yaml the document
      // carries everything, so stderr keeps only what needs attention.
      if (format === undefined)
        for (const line of lines.stdout)
          this.context.stdout.write(`${line}\n`);
      const shown = format === `json` || format === `yaml` ? lines.stderr.filter(line => /^(warning|error)|: failed at /.test(line)) : lines.stderr;
      for (const line of shown)
        this.context.stderr.write(`${line}\n`);
      // The README's promise: a cluster that cannot be reached or refuses us exits 3, one namespace or many.
      if (report.summary.failed > 0 && this.clusterUnreachable)
        return ExitCode.clusterUnreachable;
      return report.summary.failed > 0 ? 1 : 0;
    }

    /** Builds the report and prints it. */
    protected finish(kind: ReportKind, secret: string, reports: NamespaceReport[], options: {command: string; restartRequested?: boolean; source?: string}): number {
      return this.printReport(buildReport(kind, secret, this.dryRunMode(), reports, options.source), options);
    }
  }
  return FanOut;
}

/** The base of attach, detach, sync and remove (rotate mixes the same members into the credential flags). */
export abstract class FanOutCommand extends withFanOut(ScopedCommand) {}

/** The targets named by `--service-account`, `--all-service-accounts` and `--workload` (default: the `default` ServiceAccount). */
export function targetsFromFlags(flags: {serviceAccount?: string[]; allServiceAccounts: boolean; workload?: string[]}): AttachTargets {
  if (flags.allServiceAccounts && flags.serviceAccount !== undefined)
    throw new UsageError(`--service-account and --all-service-accounts cannot be combined`);
  for (const name of flags.serviceAccount ?? [])
    checkObjectName(name, `ServiceAccount name`);
  const workloads = flags.workload ?? [];
  for (const text of workloads)
    parseWorkloadRef(text); // fails early, before any request
  const serviceAccounts = flags.allServiceAccounts ? `all` : flags.serviceAccount ?? (workloads.length > 0 ? [] : `default`);
  return {serviceAccounts, ...(workloads.length > 0 ? {workloads} : {})};
}

