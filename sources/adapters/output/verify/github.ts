/**
 * `verify -o github`: GitHub Actions workflow commands. A failing image is `::error`, a warning `::warning`, a note
 * `::notice`; with `-f`/`-k` input each names the file and the line of the image field (`file=F,line=L`), so the
 * annotation lands on that line of the pull request's diff; from stdin or a cluster there is no `file=`. Pullable rows
 * are plain log lines. The summary line is last. `stepSummary` is the Markdown appended to `$GITHUB_STEP_SUMMARY`.
 */
import {summaryLine} from '../../../core/verify/report.ts';
import type {VerifyReport, VerifyResult} from '../../../core/verify/types.ts';
import {renderMarkdown} from './markdown.ts';
import {credentialText, rowLabel, rowOutcome, severalContexts} from './verdict.ts';
import type {Verdict} from './verdict.ts';
import {escapeControl} from '../../../core/text.ts';

/** Workflow-command data: `%`, CR and LF encoded as the runner decodes them. */
function data(text: string): string {
  return escapeControl(text.replace(/%/g, `%25`).replace(/\r/g, `%0D`).replace(/\n/g, `%0A`));
}

/** Workflow-command property values: as data, plus `:` and `,`. */
function property(text: string): string {
  return data(text).replace(/:/g, `%3A`).replace(/,/g, `%2C`);
}

function command(name: `error` | `warning` | `notice`, properties: Record<string, string | number | undefined>, message: string): string {
  const props = Object.entries(properties).filter(([, value]) => value !== undefined).map(([key, value]) => `${key}=${property(String(value))}`).join(`,`);
  return `::${name}${props === `` ? `` : ` ${props}`}::${data(message)}`;
}

function position(result: VerifyResult): Record<string, string | number | undefined> {
  return {file: result.source?.file, line: result.source?.file === undefined ? undefined : result.source.line};
}

export function renderGithub(report: VerifyReport, verdict: Verdict): string {
  const withContext = severalContexts(report.results);
  const lines: string[] = [];
  for (const result of report.results) {
    const label = rowLabel(result, withContext);
    const outcome = rowOutcome(result, verdict);
    if (outcome !== `pass` && (result.status !== `ok` && result.status !== `ok-anonymous`)) {
      lines.push(command(`error`, {...position(result), title: `${result.status}: ${result.image}`}, `${label}: image ${result.image}: ${result.status}: ${result.detail} (credential: ${credentialText(result)})`));
    } else {
      // A plain log line: it starts with the status, so it can never be read as a workflow command.
      lines.push(escapeControl(`${result.status} ${label} ${result.image} (credential: ${credentialText(result)})`));
    }
    for (const warning of result.warnings)
      lines.push(command(verdict.failOnWarning ? `error` : `warning`, {...position(result), title: `warning: ${result.image}`}, `${label}: image ${result.image}: ${warning}`));
  }
  for (const note of report.summary.notes)
    lines.push(command(`notice`, {title: `verify note`}, note));
  for (const problem of verdict.problems)
    lines.push(command(`error`, {title: `verify failed`}, problem));
  lines.push(escapeControl(summaryLine(report)));
  return `${lines.join(`\n`)}\n`;
}

/** Rows shown in the step summary before only the failing and warned ones are (GitHub caps a summary at 1 MiB). */
const SUMMARY_ROWS = 500;

/** The Markdown appended to `$GITHUB_STEP_SUMMARY` (any output format). */
export function stepSummary(report: VerifyReport, verdict: Verdict): string {
  return renderMarkdown(report, verdict, {maxRows: SUMMARY_ROWS});
}
