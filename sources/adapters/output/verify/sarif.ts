/**
 * `verify -o sarif`: a SARIF 2.1.0 log (code-scanning tools read it) with one run of the tool `kubectl-pullsecret`,
 * one rule per verify status, and one result per row: `kind: pass` for a pullable image without warnings, else
 * `kind: fail` at level `error` (not pullable, or a warning under `--fail-on warning`) or `warning`. With `-f`/`-k`
 * input a result has a physical location (the file and the line of the image field); every result has a logical one
 * (namespace/workload/container). The invocation carries the exit code, the notes and the reasons for exit 1.
 */
import {summaryLine} from '../../../core/verify/report.ts';
import {VERIFY_STATUSES} from '../../../core/verify/types.ts';
import type {VerifyReport, VerifyResult, VerifyStatus} from '../../../core/verify/types.ts';
import {credentialText, rowLabel, rowOutcome, severalContexts, workloadOf} from './verdict.ts';
import type {Verdict} from './verdict.ts';

const SARIF_SCHEMA = `https://json.schemastore.org/sarif-2.1.0.json`;

/** One line per status, for the rules' descriptions. */
const DESCRIPTIONS: Record<VerifyStatus, string> = {
  'ok': `the image is pullable with the pod's credentials`,
  'ok-anonymous': `the image is pullable without credentials`,
  'no-credentials': `no credential matches the registry and it refuses anonymous pulls`,
  'secret-missing': `a pull secret the pod references does not exist`,
  'secret-invalid': `a pull secret the pod references cannot be decoded, which fails every pull of the pod`,
  'serviceaccount-missing': `the pod's ServiceAccount does not exist, so the pod will not be created`,
  'unauthorized': `the registry rejects the credentials`,
  'denied': `the registry accepts the credentials but denies pull access`,
  'expired': `the credential (an ECR token) has expired`,
  'not-found': `the image does not exist`,
  'platform-missing': `the image provides no variant for a platform the pod may run on`,
  'rate-limited': `the registry rate-limits the pulls`,
  'unavailable': `the registry answers with server errors`,
  'unreachable': `the registry cannot be reached`,
  'tls-error': `TLS with the registry fails`,
  'invalid-image': `the image reference is invalid`,
};

/** `platform-missing` → `PlatformMissing` (SARIF rule names are PascalCase by convention). */
function ruleName(status: string): string {
  return status.split(`-`).map(word => word.charAt(0).toUpperCase() + word.slice(1)).join(``);
}

/** A relative path as a URI reference (each segment percent-encoded). */
function uriOf(file: string): string {
  return file.split(/[\\/]/).map(segment => encodeURIComponent(segment)).join(`/`);
}

export function renderSarif(report: VerifyReport, verdict: Verdict, tool: {version: string}): string {
  const withContext = severalContexts(report.results);
  const rules = VERIFY_STATUSES.map(status => ({
    id: status,
    name: ruleName(status),
    shortDescription: {text: DESCRIPTIONS[status]},
    defaultConfiguration: {level: status === `ok` || status === `ok-anonymous` ? `none` : `error`},
  }));
  const ruleIndex = new Map(VERIFY_STATUSES.map((status, index) => [status, index]));
  const results = report.results.map(result => sarifResult(result, verdict, withContext, ruleIndex.get(result.status) ?? 0));
  const log = {
    $schema: SARIF_SCHEMA,
    version: `2.1.0`,
    runs: [{
      tool: {driver: {name: `kubectl-pullsecret`, semanticVersion: tool.version, version: tool.version, rules}},
      invocations: [{
        executionSuccessful: !verdict.incomplete,
        exitCode: verdict.exitCode,
        toolExecutionNotifications: [
          ...verdict.problems.map(problem => ({level: `error`, message: {text: problem}})),
          ...report.summary.notes.map(note => ({level: `note`, message: {text: note}})),
          {level: `note`, message: {text: summaryLine(report)}},
        ],
      }],
      results,
    }],
  };
  return `${JSON.stringify(log, null, 2)}\n`;
}

function sarifResult(result: VerifyResult, verdict: Verdict, withContext: boolean, ruleIndex: number) {
  const outcome = rowOutcome(result, verdict);
  const physical = result.source?.file === undefined ? [] : [{
    physicalLocation: {
      artifactLocation: {uri: uriOf(result.source.file)},
      ...(result.source.line === undefined ? {} : {region: {startLine: result.source.line}}),
    },
  }];
  const logical = [{fullyQualifiedName: [result.context ?? undefined, result.namespace || undefined, workloadOf(result), result.container].filter(part => part !== undefined).join(`/`), kind: `object`}];
  const warnings = result.warnings.map(warning => ` warning: ${warning}`).join(``);
  return {
    ruleId: result.status,
    ruleIndex,
    kind: outcome === `pass` ? `pass` : `fail`,
    level: outcome === `pass` ? `none` : outcome === `fail` ? `error` : `warning`,
    message: {text: `${rowLabel(result, withContext)}: image ${result.image}: ${result.status}: ${result.detail} (credential: ${credentialText(result)}).${warnings}`},
    locations: [{...physical[0], logicalLocations: logical}],
    properties: {image: result.image, namespace: result.namespace, workload: workloadOf(result), container: result.container, ...(result.context === null ? {} : {context: result.context})},
  };
}
