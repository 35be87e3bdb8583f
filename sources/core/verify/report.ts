/**
 * The verify report: the `-o json|yaml` document (stable schema, README "verify -o json") and the human table,
 * grouped by namespace and workload, with one summary line. Pure string building; colour only when asked.
 */
import {escapeControl} from '../text.ts';
import {tableLines} from '../table.ts';
import {VERIFY_STATUSES, isPullable} from './types.ts';
import type {VerifyReport, VerifyResult, VerifyStatus} from './types.ts';

/** Sorts results by context, namespace, workload, then keeps container order. */
export function sortResults(results: VerifyResult[]): VerifyResult[] {
  return results
    .map((result, index) => ({result, index}))
    .sort((a, b) => compare(a.result.context ?? ``, b.result.context ?? ``)
      || compare(a.result.namespace, b.result.namespace)
      || compare(workloadLabel(a.result), workloadLabel(b.result))
      || a.index - b.index)
    .map(entry => entry.result);
}

function compare(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}

/** `deployment/api`, `pod/api-7f9-x`, `image/nginx`. */
export function workloadLabel(result: Pick<VerifyResult, `kind` | `name`>): string {
  return `${result.kind.toLowerCase()}/${result.name}`;
}

/** Builds the `-o json` document. */
export function buildReport(results: VerifyResult[], registryChecks: number, notes: string[]): VerifyReport {
  const byStatus: Partial<Record<VerifyStatus, number>> = {};
  for (const result of results)
    byStatus[result.status] = (byStatus[result.status] ?? 0) + 1;
  const ordered: Partial<Record<VerifyStatus, number>> = {};
  for (const status of VERIFY_STATUSES) {
    if (byStatus[status] !== undefined)
      ordered[status] = byStatus[status];
  }
  const pullable = results.filter(result => isPullable(result.status)).length;
  return {
    summary: {
      total: results.length,
      pullable,
      failing: results.length - pullable,
      warnings: results.reduce((sum, result) => sum + result.warnings.length, 0),
      byStatus: ordered,
      registryChecks,
      notes,
    },
    results: sortResults(results),
  };
}

/** The one summary line. */
export function summaryLine(report: VerifyReport): string {
  const {summary} = report;
  const parts = Object.entries(summary.byStatus).map(([status, count]) => `${count} ${status}`);
  const images = `${summary.total} image${summary.total === 1 ? `` : `s`} checked`;
  return `${images}: ${summary.pullable} pullable, ${summary.failing} failing${parts.length > 0 ? ` (${parts.join(`, `)})` : ``}; ${summary.warnings} warning${summary.warnings === 1 ? `` : `s`}; ${summary.registryChecks} registry check${summary.registryChecks === 1 ? `` : `s`}`;
}

const COLOURS = {green: `\u001b[32m`, red: `\u001b[31m`, yellow: `\u001b[33m`, reset: `\u001b[0m`};

function paint(text: string, colour: keyof typeof COLOURS, enabled: boolean): string {
  return enabled ? `${COLOURS[colour]}${text}${COLOURS.reset}` : text;
}

/** The status cell's colour: green for pullable, red otherwise. */
function statusColour(status: VerifyStatus): keyof typeof COLOURS {
  return isPullable(status) ? `green` : `red`;
}

/**
 * The human table: NAMESPACE, WORKLOAD, CONTAINER, IMAGE, STATUS, CREDENTIAL, DETAIL, with repeated namespace and
 * workload cells left blank, warnings on indented lines, and the summary line last. With several contexts a CONTEXT
 * column comes first.
 *
 * Warnings: a warning found on one row of a namespace is printed under that row; a warning shared by several rows of
 * the same namespace (and context), such as one about a secret they all use, is printed once, after the namespace's
 * last row, with the number of rows it applies to. Namespaces are kept apart (a warning repeated in two namespaces
 * is printed once in each): the table reads namespace by namespace. `-o json|yaml` keep every result's warnings.
 */
export function formatTable(report: VerifyReport, options: {colour: boolean}): string {
  const multiContext = new Set(report.results.map(result => result.context)).size > 1;
  const headers = [...(multiContext ? [`CONTEXT`] : []), `NAMESPACE`, `WORKLOAD`, `CONTAINER`, `IMAGE`, `STATUS`, `CREDENTIAL`, `DETAIL`];
  type Row = {cells: string[]; status: VerifyStatus; warnings: string[]};
  const rows: Row[] = [];
  let previous: VerifyResult | undefined;
  for (const result of report.results) {
    const sameGroup = previous !== undefined && previous.context === result.context && previous.namespace === result.namespace;
    const sameWorkload = sameGroup && previous !== undefined && workloadLabel(previous) === workloadLabel(result);
    const credential = result.credential ? `${result.credential.source} (${result.credential.username === `` ? `<empty>` : result.credential.username})` : `-`;
    rows.push({
      // Cluster and registry text (images, names, details) is escaped: a cell can neither forge rows nor drive the terminal.
      cells: [
        ...(multiContext ? [sameGroup ? `` : result.context ?? `-`] : []),
        sameGroup ? `` : result.namespace === `` ? `-` : result.namespace,
        sameWorkload ? `` : workloadLabel(result),
        result.container,
        result.image,
        result.status,
        credential,
        result.detail,
      ].map(escapeControl),
      status: result.status,
      warnings: result.warnings.map(escapeControl),
    });
    previous = result;
  }
  const statusColumn = headers.indexOf(`STATUS`);
  const [header, ...rendered] = tableLines(headers, rows.map(row => row.cells),
    (cell, row, column) => column === statusColumn ? paint(cell, statusColour(rows[row]!.status), options.colour) : cell);
  const renderedOf = new Map(rows.map((row, index) => [row, rendered[index]!]));
  const warningLine = (text: string) => `    ${paint(`warning:`, `yellow`, options.colour)} ${text}`;
  const lines = [header!];
  for (const group of groupRows(report.results, rows)) {
    // How many rows of the group carry each warning (a row counts once).
    const counts = new Map<string, number>();
    for (const row of group.rows) {
      for (const warning of new Set(row.warnings))
        counts.set(warning, (counts.get(warning) ?? 0) + 1);
    }
    for (const row of group.rows) {
      lines.push(renderedOf.get(row)!);
      for (const warning of row.warnings) {
        if (counts.get(warning) === 1)
          lines.push(warningLine(warning));
      }
    }
    const where = group.namespace === `` ? `` : ` in namespace ${group.namespace}`;
    for (const [warning, count] of counts) {
      if (count > 1)
        lines.push(warningLine(`${warning} (${count} rows${where})`));
    }
  }
  if (report.results.length === 0)
    lines.splice(0, 1, `no workloads or pods to check`);
  for (const note of report.summary.notes)
    lines.push(`note: ${escapeControl(note)}`);
  lines.push(summaryLine(report));
  return `${lines.join(`\n`)}\n`;
}

/** Consecutive rows of one context and namespace (results are sorted, so each group is contiguous). */
function groupRows<Row>(results: VerifyResult[], rows: Row[]): Array<{namespace: string; rows: Row[]}> {
  const groups: Array<{context: string | null | undefined; namespace: string; rows: Row[]}> = [];
  results.forEach((result, index) => {
    const last = groups.at(-1);
    if (last !== undefined && last.context === result.context && last.namespace === result.namespace)
      last.rows.push(rows[index]!);
    else
      groups.push({context: result.context, namespace: result.namespace, rows: [rows[index]!]});
  });
  return groups;
}

/**
 * The `-o json` text of a report, in chunks (identical to `JSON.stringify(report, null, 2)` plus a newline), so
 * that a large report is never held as one giant string.
 */
export function* jsonReportChunks(report: VerifyReport, resultsPerChunk = 500): Generator<string> {
  const summary = JSON.stringify(report.summary, null, 2).replace(/\n/g, `\n  `);
  if (report.results.length === 0) {
    yield `{\n  "summary": ${summary},\n  "results": []\n}\n`;
    return;
  }
  yield `{\n  "summary": ${summary},\n  "results": [\n`;
  for (let start = 0; start < report.results.length; start += resultsPerChunk) {
    const slice = report.results.slice(start, start + resultsPerChunk);
    const last = start + resultsPerChunk >= report.results.length;
    yield `${slice.map(result => `    ${JSON.stringify(result, null, 2).replace(/\n/g, `\n    `)}`).join(`,\n`)}${last ? `\n` : `,\n`}`;
  }
  yield `  ]\n}\n`;
}
