/**
 * `verify -o markdown`: the table as GitHub-flavoured Markdown, for pull-request comments and step summaries. The
 * verdict and summary line come first, then the table (warnings in their row's cell), then the notes. Text from the
 * cluster or the input is escaped so that it cannot add markup, links or HTML.
 */
import {summaryLine} from '../../../core/verify/report.ts';
import type {VerifyReport, VerifyResult} from '../../../core/verify/types.ts';
import {credentialText, rowOutcome, severalContexts, workloadOf} from './verdict.ts';
import type {Verdict} from './verdict.ts';
import {escapeControl} from '../../../core/text.ts';

/** Escapes Markdown and HTML specials inside a table cell; line breaks become spaces. */
export function cell(text: string): string {
  return escapeControl(text.replace(/\r?\n/g, ` `)).replace(/[\\`*_{}[\]()#+!|<>~]/g, char => (char === `<` ? `&lt;` : char === `>` ? `&gt;` : `\\${char}`));
}

const MARK = {pass: `✅`, warning: `⚠️`, fail: `❌`} as const;

export function renderMarkdown(report: VerifyReport, verdict: Verdict, options: {maxRows?: number} = {}): string {
  const withContext = severalContexts(report.results);
  const lines = [`### kubectl pullsecret verify: ${verdict.exitCode === 0 ? `passed` : `failed`}`, ``, cell(summaryLine(report)), ``];
  let shown: VerifyResult[] = report.results;
  let hidden = 0;
  if (options.maxRows !== undefined && shown.length > options.maxRows) {
    shown = report.results.filter(result => rowOutcome(result, verdict) !== `pass`).slice(0, options.maxRows);
    hidden = report.results.length - shown.length;
  }
  if (shown.length > 0) {
    const withSource = shown.some(result => result.source?.file !== undefined);
    const headers = [...(withContext ? [`Context`] : []), `Namespace`, `Workload`, `Container`, `Image`, `Status`, `Credential`, `Detail`, ...(withSource ? [`Source`] : [])];
    lines.push(`| ${headers.join(` | `)} |`, `|${headers.map(() => ` --- `).join(`|`)}|`);
    for (const result of shown) {
      const detail = [result.detail, ...result.warnings.map(warning => `warning: ${warning}`)].map(cell).join(`<br>`);
      const source = result.source?.file === undefined ? `` : `${result.source.file}${result.source.line === undefined ? `` : `:${result.source.line}`}`;
      const cells = [
        ...(withContext ? [cell(result.context ?? `-`)] : []),
        cell(result.namespace === `` ? `-` : result.namespace),
        cell(workloadOf(result)),
        cell(result.container),
        cell(result.image),
        `${MARK[rowOutcome(result, verdict)]} ${cell(result.status)}`,
        cell(credentialText(result)),
        detail,
        ...(withSource ? [cell(source)] : []),
      ];
      lines.push(`| ${cells.join(` | `)} |`);
    }
    lines.push(``);
  }
  if (hidden > 0)
    lines.push(`${hidden} pullable row${hidden === 1 ? `` : `s`} without warnings not shown.`, ``);
  for (const problem of verdict.problems)
    lines.push(`- **error:** ${cell(problem)}`);
  for (const note of report.summary.notes)
    lines.push(`- note: ${cell(note)}`);
  if (verdict.problems.length > 0 || report.summary.notes.length > 0)
    lines.push(``);
  return `${lines.join(`\n`)}`;
}
