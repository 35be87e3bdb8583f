/**
 * What every verify report format shares besides the results: the exit code and why it is what it is, so that a CI
 * format shows a failing gate even when no single row failed (an incomplete check, a missing namespace, a warning
 * under `--fail-on warning`). Pure functions over the report.
 */
import {isPullable} from '../../../core/verify/types.ts';
import type {VerifyResult} from '../../../core/verify/types.ts';

export type Verdict = {
  /** The exit code verify returns (0 or 1; the formats are never written for 2 and 3). */
  exitCode: number;
  /** `--fail-on warning`: a row with a warning fails the gate. */
  failOnWarning: boolean;
  /** Reasons for exit 1 that no row carries (the incomplete-check note, a named namespace not found). */
  problems: string[];
  /** Something verify needed could not be read (a list, a secret, a ServiceAccount). */
  incomplete: boolean;
};

/** How a row counts in a CI report: `pass`, `warning` (pullable, with warnings) or `fail`. */
export function rowOutcome(result: VerifyResult, verdict: Pick<Verdict, `failOnWarning`>): `pass` | `warning` | `fail` {
  if (!isPullable(result.status))
    return `fail`;
  if (result.warnings.length === 0)
    return `pass`;
  return verdict.failOnWarning ? `fail` : `warning`;
}

/** `deployment/api`, as the table's WORKLOAD column. */
export function workloadOf(result: VerifyResult): string {
  return `${result.kind.toLowerCase()}/${result.name}`;
}

/** `web deployment/api container app` (namespace omitted for `--image`, context first when set). */
export function rowLabel(result: VerifyResult, withContext: boolean): string {
  const where = [withContext && result.context !== null ? result.context : undefined, result.namespace === `` ? undefined : result.namespace].filter(part => part !== undefined);
  const container = result.container.startsWith(`volume:`) ? result.container : `container ${result.container}`;
  return `${[...where, workloadOf(result)].join(` `)} ${container}`;
}

/** `user (secret web/regcred)`-like credential text, never the password. */
export function credentialText(result: VerifyResult): string {
  return result.credential ? `${result.credential.source} (${result.credential.username === `` ? `<empty>` : result.credential.username})` : `-`;
}

/** True when the results come from several contexts (a CONTEXT column or prefix is then needed). */
export function severalContexts(results: VerifyResult[]): boolean {
  return new Set(results.map(result => result.context)).size > 1;
}
