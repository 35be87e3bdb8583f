/**
 * `verify -o junit`: JUnit XML as Jenkins, GitLab, Azure DevOps and most CI systems read it (docs/junit.xsd is the
 * structure we validate against): `testsuites` → one `testsuite` per input file (`-f`/`-k`) or per namespace → one
 * `testcase` per (workload or pod, container or image volume, image). A failing image has a `failure` (type: the
 * status); warnings go to the test case's `system-out`. A last suite, `verify`, holds the notes and the summary in its
 * `system-out`, and one `error` test case per reason for exit 1 that no row carries (an incomplete check, …).
 */
import {summaryLine} from '../../../core/verify/report.ts';
import type {VerifyReport, VerifyResult} from '../../../core/verify/types.ts';
import {credentialText, rowLabel, rowOutcome, severalContexts, workloadOf} from './verdict.ts';
import type {Verdict} from './verdict.ts';
import {escapeControl} from '../../../core/text.ts';

/** XML text: escapes markup and writes control characters (invalid in XML 1.0) visibly. */
function xml(text: string): string {
  return escapeControl(text).replace(/&/g, `&amp;`).replace(/</g, `&lt;`).replace(/>/g, `&gt;`).replace(/"/g, `&quot;`).replace(/'/g, `&apos;`);
}

/** Several lines of element text, each escaped on its own (a line break inside one is shown as `\n`). */
function lines(texts: string[]): string {
  return texts.map(xml).join(`\n`);
}

function attributes(values: Record<string, string | number | undefined>): string {
  return Object.entries(values).filter(([, value]) => value !== undefined).map(([name, value]) => ` ${name}="${xml(String(value))}"`).join(``);
}

/** The suite a result belongs to: its input file, else its namespace (with the context when there are several). */
function suiteName(result: VerifyResult, withContext: boolean): string {
  if (result.source !== undefined)
    return result.source.file ?? `<stdin>`;
  const namespace = result.namespace === `` ? `images` : result.namespace;
  return withContext && result.context !== null ? `${result.context}/${namespace}` : namespace;
}

export function renderJunit(report: VerifyReport, verdict: Verdict): string {
  const withContext = severalContexts(report.results);
  const suites = new Map<string, VerifyResult[]>();
  for (const result of report.results) {
    const name = suiteName(result, withContext);
    const list = suites.get(name);
    if (list)
      list.push(result);
    else
      suites.set(name, [result]);
  }
  const failures = report.results.filter(result => rowOutcome(result, verdict) === `fail`).length;
  const out = [`<?xml version="1.0" encoding="UTF-8"?>`];
  out.push(`<testsuites${attributes({name: `kubectl pullsecret verify`, tests: report.results.length + verdict.problems.length, failures, errors: verdict.problems.length, skipped: 0, time: 0})}>`);
  let id = 0;
  for (const [name, results] of suites) {
    const suiteFailures = results.filter(result => rowOutcome(result, verdict) === `fail`).length;
    out.push(`  <testsuite${attributes({name, tests: results.length, failures: suiteFailures, errors: 0, skipped: 0, time: 0, id: id++})}>`);
    for (const result of results) {
      const outcome = rowOutcome(result, verdict);
      const testcase = attributes({
        name: `${workloadOf(result)} ${result.container} ${result.image}`,
        classname: result.namespace === `` ? workloadOf(result) : `${result.namespace}.${workloadOf(result)}`,
        file: result.source?.file,
        line: result.source?.line,
        time: 0,
      });
      const body: string[] = [];
      if (outcome === `fail`) {
        const type = `${isFailingStatus(result) ? result.status : `warning`}`;
        body.push(`      <failure${attributes({message: `${result.status}: ${result.detail}`, type})}>${lines([`${rowLabel(result, withContext)}: image ${result.image}: ${result.status}: ${result.detail} (credential: ${credentialText(result)})`, ...result.warnings.map(warning => `warning: ${warning}`)])}</failure>`);
      }
      if (result.warnings.length > 0 || outcome === `pass`)
        body.push(`      <system-out>${lines([`${result.status}: ${result.detail} (credential: ${credentialText(result)})`, ...result.warnings.map(warning => `warning: ${warning}`)])}</system-out>`);
      out.push(`    <testcase${testcase}>`, ...body, `    </testcase>`);
    }
    out.push(`  </testsuite>`);
  }
  out.push(`  <testsuite${attributes({name: `verify`, tests: verdict.problems.length, failures: 0, errors: verdict.problems.length, skipped: 0, time: 0, id: id++})}>`);
  for (const problem of verdict.problems) {
    out.push(`    <testcase${attributes({name: `the check is complete`, classname: `verify`, time: 0})}>`);
    out.push(`      <error${attributes({message: problem, type: `incomplete`})}>${xml(problem)}</error>`);
    out.push(`    </testcase>`);
  }
  out.push(`    <system-out>${lines([...report.summary.notes.map(note => `note: ${note}`), summaryLine(report), `exit code: ${verdict.exitCode}`])}</system-out>`);
  out.push(`  </testsuite>`);
  out.push(`</testsuites>`);
  return `${out.join(`\n`)}\n`;
}

function isFailingStatus(result: VerifyResult): boolean {
  return result.status !== `ok` && result.status !== `ok-anonymous`;
}
