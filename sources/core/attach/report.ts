/**
 * The result document of the fan-out commands (`attach`, `detach`, `sync`, `rotate`, `remove`) and its
 * human rendering. Pure: builds plain data and lines; the commands print them.
 *
 * `-o json|yaml` prints one `FanOutReport` (documented in the README, "Output schemas"):
 *
 *   {apiVersion: "pullsecret.kubectl.io/v1alpha1", kind: "AttachResult" | "DetachResult" | "SyncResult" | "RotateResult" | "RemoveResult",
 *    secret, source?, dryRun, results: [NamespaceReport…], summary: {namespaces, ok, changed, unchanged, failed, skipped}}
 *
 * where each NamespaceReport is
 *   {context, namespace, status: "ok" | "failed" | "skipped", failedStep?, error?, note?,
 *    secret?: "created" | "configured" | "replaced" | "unchanged" | "deleted" | "not-found" | "absent",
 *    targets: [{kind, name, action: "attached" | "detached" | "unchanged" | "restarted", imagePullSecrets?}],
 *    stalePods: [{name, serviceAccount, owner?: {kind, name}, restartable}],
 *    hidingWorkloads: [{kind, name, serviceAccount, imagePullSecrets}],
 *    restarted: [{kind, name}], warnings: [string]}
 */
import type {DryRun} from '../ports.ts';
import {PULLSECRET_API_VERSION} from '../secrets/metadata.ts';
import type {NamespaceAttachResult, TargetResult} from './attachSecret.ts';
import type {HidingWorkload, StalePod} from './timing.ts';
import type {TargetRef} from './plan.ts';
import {describeTarget} from './plan.ts';
import {compareText} from '../text.ts';
import {kubectl, pullsecret, shellLine} from '../shell.ts';

export const REPORT_API_VERSION = PULLSECRET_API_VERSION;

export type ReportKind = `AttachResult` | `DetachResult` | `SyncResult` | `RotateResult` | `RemoveResult`;

export type SecretOutcome = `created` | `configured` | `replaced` | `unchanged` | `deleted` | `not-found` | `absent`;

/** One namespace of one context. */
export type NamespaceReport = {
  context: string;
  namespace: string;
  status: `ok` | `failed` | `skipped`;
  failedStep?: string;
  error?: string;
  /** Why a namespace was skipped (e.g. its ignore annotation). */
  note?: string;
  /** What happened to the secret itself (sync, rotate, remove). */
  secret?: SecretOutcome;
  targets: TargetResult[];
  stalePods: StalePod[];
  hidingWorkloads: HidingWorkload[];
  restarted: TargetRef[];
  warnings: string[];
};

export type FanOutSummary = {namespaces: number; ok: number; changed: number; unchanged: number; failed: number; skipped: number};

export type FanOutReport = {
  apiVersion: typeof REPORT_API_VERSION;
  kind: ReportKind;
  secret: string;
  /** `<namespace>/<name>` of the source (sync, rotate). */
  source?: string;
  dryRun: DryRun;
  results: NamespaceReport[];
  summary: FanOutSummary;
};

/** A NamespaceReport from an attach/detach result. */
export function fromAttachResult(context: string, result: NamespaceAttachResult, secret?: SecretOutcome): NamespaceReport {
  return {
    context,
    namespace: result.namespace,
    status: result.status,
    ...(result.failedStep === undefined ? {} : {failedStep: result.failedStep, error: result.error}),
    ...(secret === undefined ? {} : {secret}),
    targets: result.targets,
    stalePods: result.stalePods,
    hidingWorkloads: result.hidingWorkloads,
    restarted: result.restarted,
    warnings: result.warnings,
  };
}

/** A NamespaceReport for a namespace left out (ignore annotation) or a step that failed before any target. */
export function bareReport(context: string, namespace: string, fields: Partial<NamespaceReport> & Pick<NamespaceReport, `status`>): NamespaceReport {
  return {context, namespace, targets: [], stalePods: [], hidingWorkloads: [], restarted: [], warnings: [], ...fields};
}

/** True when the namespace report records a write (or, in a dry run, a planned write). */
export function isChange(report: NamespaceReport): boolean {
  return (report.secret !== undefined && report.secret !== `unchanged` && report.secret !== `absent` && report.secret !== `not-found`)
    || report.targets.some(target => target.action !== `unchanged`);
}

/** Builds the document, sorted by context then namespace, with its summary. */
export function buildReport(kind: ReportKind, secret: string, dryRun: DryRun, results: NamespaceReport[], source?: string): FanOutReport {
  const sorted = [...results].sort((a, b) => compareText(a.context, b.context) || compareText(a.namespace, b.namespace));
  const summary: FanOutSummary = {namespaces: sorted.length, ok: 0, changed: 0, unchanged: 0, failed: 0, skipped: 0};
  for (const result of sorted) {
    if (result.status === `failed`) {
      summary.failed++;
    } else if (result.status === `skipped`) {
      summary.skipped++;
    } else {
      summary.ok++;
      if (isChange(result))
        summary.changed++;
      else
        summary.unchanged++;
    }
  }
  return {apiVersion: REPORT_API_VERSION, kind, secret, ...(source === undefined ? {} : {source}), dryRun, results: sorted, summary};
}

/** kubectl's dry-run suffix. */
export function dryRunSuffix(dryRun: DryRun): string {
  return dryRun === `client` ? ` (dry run)` : dryRun === `server` ? ` (server dry run)` : ``;
}

const TARGET_VERB: Record<TargetResult[`action`], string> = {attached: `configured`, detached: `configured`, unchanged: `unchanged`, restarted: `restarted`};

/** kubectl-style status phrases for one namespace: `secret/regcred created`, `serviceaccount/default configured`. */
export function statusPhrases(report: NamespaceReport, secretName: string, dryRun: DryRun): string[] {
  const phrases: string[] = [];
  if (report.secret !== undefined && report.secret !== `absent`)
    phrases.push(`secret/${secretName} ${report.secret === `not-found` ? `not found` : report.secret}${dryRunSuffix(dryRun)}`);
  for (const target of report.targets)
    phrases.push(`${describeTarget(target)} ${TARGET_VERB[target.action]}${dryRunSuffix(dryRun)}`);
  return phrases;
}

/** Timing-truth warnings for one namespace, each naming the fix. */
export function timingWarnings(report: NamespaceReport, secretName: string, restartRequested: boolean): string[] {
  const lines: string[] = [];
  const byOwner = new Map<string, StalePod[]>();
  for (const pod of report.stalePods) {
    const key = pod.owner === undefined ? `` : `${pod.owner.kind}/${pod.owner.name}`;
    byOwner.set(key, [...(byOwner.get(key) ?? []), pod]);
  }
  for (const [owner, pods] of byOwner) {
    const names = pods.map(pod => pod.name);
    const shown = names.length > 5 ? `${names.slice(0, 5).join(`, `)} and ${names.length - 5} more` : names.join(`, `);
    const what = `${pods.length} running pod${pods.length === 1 ? `` : `s`} (${shown})`;
    if (owner === ``) {
      lines.push(`${what} will not use ${secretName} until recreated: a ServiceAccount's pull secrets reach only pods created afterwards; delete and recreate ${pods.length === 1 ? `it` : `them`}`);
    } else if (pods[0]!.restartable) {
      const [kind, name] = owner.split(`/`);
      const ref = `${kind!.toLowerCase()}/${name}`;
      lines.push(restartRequested
        ? `${what} of ${ref} will get ${secretName} as the restart replaces them`
        : `${what} of ${ref} will not use ${secretName} until recreated: a ServiceAccount's pull secrets reach only pods created afterwards; rerun with --restart or run: ${shellLine(kubectl(`rollout`, `restart`, ref, `-n`, report.namespace))}`);
    } else {
      lines.push(`${what} of ${owner.toLowerCase()} will not use ${secretName} until recreated (a ServiceAccount's pull secrets reach only pods created afterwards)`);
    }
  }
  for (const workload of report.hidingWorkloads) {
    const ref = `${workload.kind.toLowerCase()}/${workload.name}`;
    lines.push(`${ref} lists its own imagePullSecrets (${workload.imagePullSecrets.join(`, `)}), so its pods never get serviceaccount/${workload.serviceAccount}'s; attach to it directly: ${shellLine(pullsecret(`attach`, secretName, `-n`, report.namespace, `--workload`, ref))}`);
  }
  return lines;
}

/** The human rendering of a report, split like kubectl's: resource lines on stdout, the rest on stderr. */
export type HumanLines = {
  /** What happened to objects: `secret/regcred created`, or `web: serviceaccount/default configured` in a fan-out. */
  stdout: string[];
  /** Warnings, failures (`error: …`, `web: failed at …`), skipped namespaces and the fan-out summary. */
  stderr: string[];
};

/**
 * The human lines for a report: kubectl-style for one namespace, one line per namespace otherwise,
 * then a summary (`attach regcred: 3 of 4 namespaces ok (…), 1 skipped` with `command`; the older
 * `added regcred in 4 namespaces: 3 ok (…)` wording with `verbPastTense`). Resource lines go to stdout
 * (scripts do `out=$(kubectl …)` and `| grep created`), everything else to stderr, as kubectl does.
 */
export function humanLines(report: FanOutReport, options: {restartRequested?: boolean; command?: string; verbPastTense?: string}): HumanLines {
  const stdout: string[] = [];
  const stderr: string[] = [];
  const single = report.results.length === 1 && report.results[0]!.status !== `skipped`;
  const contexts = new Set(report.results.map(result => result.context));
  // In a fan-out, the namespaces where the secret was not found and nothing else happened are one summary line.
  const notFound: string[] = [];
  for (const result of report.results) {
    // A context that could not be reached at all has no namespace: name the context alone.
    const where = result.namespace === `` ? `context ${result.context}` : contexts.size > 1 ? `${result.context}/${result.namespace}` : result.namespace;
    if (result.status === `skipped`) {
      stderr.push(`${where}: skipped${result.note === undefined ? `` : ` (${result.note})`}`);
      continue;
    }
    const phrases = statusPhrases(result, report.secret, report.dryRun);
    if (!single && result.status === `ok` && result.secret === `not-found` && result.targets.length === 0 && result.warnings.length === 0 && result.stalePods.length === 0) {
      notFound.push(where);
      continue;
    }
    if (single && result.status === `ok`) {
      stdout.push(...phrases);
    } else if (result.status === `ok`) {
      stdout.push(`${where}: ${phrases.length === 0 ? `nothing to do` : phrases.join(`, `)}`);
    } else {
      const done = phrases.length === 0 ? `` : ` (done: ${phrases.join(`, `)})`;
      stderr.push(`${single ? `error` : where}: failed at ${result.failedStep}: ${result.error}${done}`);
    }
    for (const warning of [...result.warnings, ...timingWarnings(result, report.secret, options.restartRequested ?? false)])
      stderr.push(`warning: ${single ? `` : `${where}: `}${warning}`);
  }
  if (notFound.length > 0) {
    const shown = notFound.length > 5 ? `${notFound.slice(0, 5).join(`, `)} and ${notFound.length - 5} more` : notFound.join(`, `);
    stderr.push(`secret/${report.secret} not found in ${notFound.length} namespace${notFound.length === 1 ? `` : `s`}${dryRunSuffix(report.dryRun)}: ${shown}`);
  }
  if (options.command === undefined && options.verbPastTense !== undefined) {
    // The original summary wording, kept for callers that pass `verbPastTense` (add).
    if (!single || report.summary.failed > 0) {
      const {summary} = report;
      const parts = [`${summary.ok} ok (${summary.changed} changed, ${summary.unchanged} unchanged)`];
      if (summary.failed > 0)
        parts.push(`${summary.failed} failed`);
      if (summary.skipped > 0)
        parts.push(`${summary.skipped} skipped`);
      stderr.push(`${options.verbPastTense} ${report.secret} in ${summary.namespaces} namespace${summary.namespaces === 1 ? `` : `s`}${dryRunSuffix(report.dryRun)}: ${parts.join(`, `)}`);
    }
  } else if (!single) {
    const {summary} = report;
    const parts = [`${summary.ok} of ${summary.namespaces} namespace${summary.namespaces === 1 ? `` : `s`} ok (${summary.changed} changed, ${summary.unchanged} unchanged)`];
    if (summary.failed > 0)
      parts.push(`${summary.failed} failed`);
    if (summary.skipped > 0)
      parts.push(`${summary.skipped} skipped`);
    stderr.push(`${options.command ?? ``} ${report.secret}${dryRunSuffix(report.dryRun)}: ${parts.join(`, `)}`);
  }
  return {stdout, stderr};
}

/** `-o name`: the objects changed (or that would be), kubectl's `kind/name` form, one per line. */
export function changedNames(report: FanOutReport): string[] {
  const names: string[] = [];
  for (const result of report.results) {
    if (result.status !== `ok`)
      continue;
    if (result.secret !== undefined && result.secret !== `unchanged` && result.secret !== `absent` && result.secret !== `not-found`)
      names.push(`secret/${report.secret}`);
    for (const target of result.targets) {
      if (target.action !== `unchanged`)
        names.push(describeTarget(target));
    }
  }
  return names;
}
