import {Option, UsageError} from 'clipanion';
import type {Usage} from 'clipanion';
import {helpExample} from '../core/shell.ts';
import {resolveUserPath} from '../adapters/local/files.ts';
import {ExitCode, errorLine} from '../core/errors.ts';
import {fixLines, formatDiagnosis} from '../core/verify/doctor.ts';
import type {Diagnosis, DoctorCase} from '../core/verify/doctor.ts';
import {doctorCase} from '../core/verify/doctorCase.ts';
import {ScopedCommand} from './KubeCommand.ts';
import {diagnoseCluster} from '../core/doctor/diagnoseCluster.ts';
import type {DoctorRequest} from '../core/doctor/diagnoseCluster.ts';
import {parseOutput} from './options.ts';

/** `kubectl pullsecret doctor`: why pods fail to pull their images, and the commands that fix it. */
export class DoctorCommand extends ScopedCommand {
  static override paths = [[`doctor`]];
  static override usage: Usage = {
    description: `find pods failing to pull their images, explain the root cause and print the fix`,
    details: `
      Looks at pods waiting with ErrImagePull, ImagePullBackOff, InvalidImageName or ErrImageNeverPull, reads their events, checks their own pull secrets against the registry as the kubelet would, and prints the cause in plain words with the exact commands that fix it.

      With --context repeated, every named cluster is diagnosed: each pod line starts with "context NAME: " (a context field on each entry with -o json), and a cluster that cannot be reached gets its own error line while the others are still diagnosed.

      Exit status: 0 when no pod is failing to pull, 1 when a diagnosis was printed (or, with several --context, when one of the clusters could not be diagnosed), 2 for usage errors, 3 when the cluster is unreachable.
    `,
    examples: [
      helpExample(`Diagnose the failing pods of the current namespace`, [`doctor`]),
      helpExample(`Diagnose one pod`, [`doctor`, `api-7f9c-x2x4`, `-n`, `web`]),
      helpExample(`Diagnose the whole cluster as JSON`, [`doctor`, `-A`, `-o`, `json`]),
      helpExample(`Diagnose two clusters in one go`, [`doctor`, `-A`, `--context`, `prod-eu`, `--context`, `prod-us`]),
    ],
  };

  output = Option.String(`-o,--output`, {description: `output format: text (default) or json`});
  certificateAuthorities = Option.Array(`--certificate-authority`, {description: `a PEM file of CA certificates to trust for registries (repeatable)`});
  insecureRegistries = Option.Array(`--insecure-registry`, {description: `a registry host to reach over plain HTTP or unverified TLS (repeatable)`});
  pod = Option.String({required: false, name: `POD`});

  async executeCommand() {
    parseOutput(this.output, [`json`, `text`] as const);
    if (this.pod !== undefined && (this.allNamespaces || this.namespaces !== undefined || this.namespaceSelector !== undefined))
      throw new UsageError(`a pod name cannot be combined with -A, --namespaces or --namespace-selector`);
    const labelled = this.clusterTargets().length > 1;
    const request: DoctorRequest = {
      ...(this.pod === undefined ? {} : {pod: this.pod}),
      scope: this.namespaceScope(),
      resolveScope: (session, scope) => this.resolveScope(session, scope),
      makeProbe: () => this.context.makeRegistryProbe({
        caFiles: this.certificateAuthorities?.map(file => resolveUserPath(file, this.context.cwd, this.context.homedir)),
        insecureHosts: this.insecureRegistries,
        log: this.isVerbose ? line => this.context.stderr.write(`${line}\n`) : undefined,
      }),
      concurrency: this.workers,
      now: this.context.now(),
    };
    const outcomes = await this.eachCluster(session => diagnoseCluster(session, request));
    if (!labelled) {
      // One cluster: its errors were the command's (exit 3 when unreachable).
      const only = outcomes[0]!;
      if (!only.ok)
        throw only.error;
      const {cases, missing, namespaces} = only.value;
      if (cases.length === 0) {
        if (this.output === `json`)
          this.context.stdout.write(`${JSON.stringify({summary: {failing: 0, byDiagnosis: {}}, pods: []}, null, 2)}\n`);
        else if (namespaces.length > 0 || this.allNamespaces || this.pod !== undefined)
          this.context.stderr.write(`no pod is failing to pull its images${this.scopeText(namespaces)}\n`);
      } else {
        this.print(cases.map(diagnosed => ({...diagnosed, context: undefined})));
      }
      // A named namespace that does not exist is an error (exit 1), as in every command.
      for (const namespace of missing)
        this.context.stderr.write(`error: namespace "${namespace}" not found\n`);
      return cases.length > 0 || missing.length > 0 ? ExitCode.failure : ExitCode.ok;
    }
    // Several clusters, diagnosed at once; each cluster's results are labelled with its context, in the flags' order.
    const cases = outcomes.flatMap(outcome => (outcome.ok ? outcome.value.cases.map(diagnosed => ({...diagnosed, context: outcome.context})) : []));
    const failures = outcomes.flatMap(outcome => (outcome.ok ? [] : [{context: outcome.context, error: errorLine(outcome.error)}]));
    if (this.output === `json` || cases.length > 0)
      this.print(cases, failures);
    if (this.output !== `json`) {
      for (const outcome of outcomes) {
        if (outcome.ok && outcome.value.cases.length === 0 && (outcome.value.namespaces.length > 0 || this.allNamespaces || this.pod !== undefined))
          this.context.stderr.write(`context ${outcome.context}: no pod is failing to pull its images${this.scopeText(outcome.value.namespaces)}\n`);
      }
    }
    const missing = outcomes.flatMap(outcome => (outcome.ok ? outcome.value.missing.map(namespace => ({context: outcome.context, namespace})) : []));
    for (const {context, namespace} of missing)
      this.context.stderr.write(`error: context ${context}: namespace "${namespace}" not found\n`);
    const failed = this.reportClusterFailures(outcomes);
    return cases.length > 0 || failed || missing.length > 0 ? ExitCode.failure : ExitCode.ok;
  }

  /** Where no pod was found failing, as the end of the "no pod is failing" line. */
  private scopeText(namespaces: string[]): string {
    if (this.pod !== undefined)
      return ``;
    if (this.allNamespaces)
      return ` in any namespace`;
    return namespaces.length === 1 ? ` in namespace ${namespaces[0]}` : ` in namespaces ${namespaces.join(`, `)}`;
  }

  /**
   * Prints the diagnoses; `context` is set on each one only with several `--context` (then a `context` field first on
   * every JSON entry, plus `errors`, and the text's pod line starts with `context <name>: `).
   */
  private print(cases: Array<{doctorCase: DoctorCase; diagnosis: Diagnosis; context: string | undefined}>, errors?: Array<{context: string; error: string}>): void {
    if (this.output === `json`) {
      const byDiagnosis: Record<string, number> = {};
      for (const {diagnosis} of cases)
        byDiagnosis[diagnosis.id] = (byDiagnosis[diagnosis.id] ?? 0) + 1;
      const pods = cases.map(({doctorCase: item, diagnosis, context}) => ({
        ...(context === undefined ? {} : {context}),
        namespace: item.namespace,
        pod: item.pod,
        container: item.container,
        image: item.image,
        reason: item.waitingReason,
        message: item.waitingMessage,
        status: item.result.status,
        credential: item.result.credential,
        detail: item.result.detail,
        events: item.events,
        diagnosis: {...diagnosis, fix: fixLines(diagnosis.fix)},
      }));
      this.context.stdout.write(`${JSON.stringify({summary: {failing: cases.length, byDiagnosis}, pods, ...(errors === undefined ? {} : {errors})}, null, 2)}\n`);
      return;
    }
    this.context.stdout.write(cases.map(({doctorCase: item, diagnosis, context}) => `${context === undefined ? `` : `context ${context}: `}${formatDiagnosis(item, diagnosis)}`).join(`\n`));
    this.context.stderr.write(`${cases.length} container${cases.length === 1 ? `` : `s`} failing to pull\n`);
  }
}
