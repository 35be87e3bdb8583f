import {Option, UsageError} from 'clipanion';
import type {Usage} from 'clipanion';
import {helpExample} from '../core/shell.ts';
import {eventsFor, gatherNamespaces, namespaceExists, snapshotView, topLevelOwnerOf} from '../core/cluster/gather.ts';
import {resolveUserPath} from '../adapters/local/files.ts';
import {apiErrorReason, isApiError} from '../core/apiError.ts';
import {PULL_SECRET_TYPES} from '../core/secrets/metadata.ts';
import {ExitCode, PullSecretError, errorLine} from '../core/errors.ts';
import type {ClusterSession, KubeObject} from '../core/ports.ts';
import {fanOut} from '../core/fanout.ts';
import {diagnose, fixLines, formatDiagnosis} from '../core/verify/doctor.ts';
import type {Diagnosis, DoctorCase} from '../core/verify/doctor.ts';
import {doctorCase, failingContainers} from '../core/verify/doctorCase.ts';
import {runVerifyEngine} from '../core/verify/engine.ts';
import {subjectOf} from '../core/verify/subjects.ts';
import type {PodSubject} from '../core/verify/types.ts';
import {ScopedCommand} from './KubeCommand.ts';

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
    if (this.output !== undefined && this.output !== `json` && this.output !== `text`)
      throw new UsageError(`unsupported output format "${this.output}": use json`);
    if (this.pod !== undefined && (this.allNamespaces || this.namespaces !== undefined || this.namespaceSelector !== undefined))
      throw new UsageError(`a pod name cannot be combined with -A, --namespaces or --namespace-selector`);
    const labelled = this.clusterTargets().length > 1;
    const outcomes = await this.eachCluster(session => this.diagnoseCluster(session));
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

  /** Diagnoses the failing containers of one cluster (none when no pod in scope is failing), with the named namespaces that do not exist. */
  private async diagnoseCluster(session: ClusterSession): Promise<{cases: Array<{doctorCase: DoctorCase; diagnosis: Diagnosis}>; missing: string[]; namespaces: string[]}> {
    const {pods, missing, namespaces} = await this.podsInScope(session);
    const failing = pods.flatMap(pod => failingContainers(pod).map(container => ({pod, container})));
    return {cases: failing.length === 0 ? [] : await this.diagnoseAll(session, failing), missing, namespaces};
  }

  private async podsInScope(session: ClusterSession): Promise<{pods: KubeObject[]; missing: string[]; namespaces: string[]}> {
    if (this.pod !== undefined) {
      const pod = await session.get(`pods`, session.namespace, this.pod);
      if (!pod)
        throw new PullSecretError(`pod "${this.pod}" not found in namespace ${session.namespace}`);
      return {pods: [pod], missing: [], namespaces: [session.namespace]};
    }
    // -A too: --exclude-namespaces and the ignore annotation apply, as for every command that fans out.
    const namespaceScope = this.namespaceScope();
    const scope = await this.resolveScope(session, namespaceScope);
    const missing = scope.skipped.filter(skip => skip.cause === `missing`).map(skip => skip.namespace);
    if (this.allNamespaces) {
      const wanted = new Set(scope.namespaces);
      return {pods: (await session.list(`pods`, {limit: 500})).filter(pod => wanted.has(pod.metadata.namespace ?? ``)), missing, namespaces: scope.namespaces};
    }
    const pods = (await Promise.all(scope.namespaces.map(namespace => session.list(`pods`, {namespace, limit: 500})))).flat();
    // The namespace of -n is not read beforehand: when it holds no pod at all, one GET tells whether it exists.
    if (namespaceScope.kind === `current` && pods.length === 0 && scope.namespaces.length === 1 && await namespaceExists(session, scope.namespaces[0]!) === `missing`)
      return {pods, missing: [scope.namespaces[0]!], namespaces: []};
    return {pods, missing, namespaces: scope.namespaces};
  }

  private async diagnoseAll(session: ClusterSession, failing: Array<{pod: KubeObject; container: ReturnType<typeof failingContainers>[number]}>): Promise<Array<{doctorCase: DoctorCase; diagnosis: Diagnosis}>> {
    const podsByKey = new Map(failing.map(({pod}) => [`${pod.metadata.namespace}/${pod.metadata.name}`, pod]));
    const subjects: PodSubject[] = [];
    for (const pod of podsByKey.values()) {
      const subject = subjectOf({...pod, kind: `Pod`}, `pod`, session.namespace);
      if (subject)
        subjects.push(subject);
    }
    const namespaces = [...new Set(subjects.map(subject => subject.namespace))];
    const snapshot = await gatherNamespaces(session, namespaces, {
      serviceAccounts: subjects.flatMap(subject => [`${subject.namespace}/${subject.serviceAccountName ?? `default`}`, `${subject.namespace}/default`]),
      secrets: subjects.flatMap(subject => subject.ownPullSecrets.map(name => `${subject.namespace}/${name}`)),
    });
    const view = snapshotView(snapshot);
    const otherSecrets = await this.pullSecretsEverywhere(session);
    const probe = await this.context.makeRegistryProbe({
      caFiles: this.certificateAuthorities?.map(file => resolveUserPath(file, this.context.cwd, this.context.homedir)),
      insecureHosts: this.insecureRegistries,
      log: this.isVerbose ? line => this.context.stderr.write(`${line}\n`) : undefined,
    });
    const {results} = await runVerifyEngine(subjects, view, {probe, concurrency: this.workers, allCredentials: false, now: this.context.now(), context: session.contextName});

    // Owner and events once per pod, a bounded number of pods at a time.
    const podInfo = new Map<KubeObject, {owner: Awaited<ReturnType<typeof topLevelOwnerOf>>; events: string[]}>();
    const perPod = await fanOut([...podsByKey.values()], this.workers, async pod => {
      const owner = await topLevelOwnerOf(session, pod);
      const events = (await eventsFor(session, pod.metadata.namespace ?? session.namespace, `Pod`, pod.metadata.name))
        .filter(event => /pull|image|secret/i.test(`${String(event.reason)} ${String(event.message)}`))
        .map(event => `${String(event.reason ?? ``)}: ${String(event.message ?? ``)}`);
      podInfo.set(pod, {owner, events});
    });
    const failed = perPod.find(outcome => !outcome.ok);
    if (failed && !failed.ok)
      throw failed.error;

    const out: Array<{doctorCase: DoctorCase; diagnosis: Diagnosis}> = [];
    for (const {pod, container} of failing) {
      const namespace = pod.metadata.namespace ?? session.namespace;
      const result = results.find(candidate => candidate.namespace === namespace && candidate.name === pod.metadata.name && candidate.container === container.container);
      if (!result)
        continue;
      const {owner, events} = podInfo.get(pod)!;
      const namespaceSecrets = [...snapshot.secrets.values()].filter(secret => secret.metadata.namespace === namespace);
      const item = doctorCase({
        pod,
        failing: container,
        result,
        events,
        owner: owner === undefined ? undefined : {kind: owner.kind, name: owner.name},
        ownerPullSecrets: owner?.podPullSecrets,
        namespaceSecrets,
        otherSecrets: otherSecrets.secrets,
        unsearched: [
          ...snapshot.refused
            .filter(refusal => refusal.resource === `secrets` && (refusal.namespace === undefined || refusal.namespace === namespace))
            .slice(0, 1)
            .map(refusal => `cannot list secrets in ${namespace}: ${refusal.reason} (needs list on secrets)`),
          ...(otherSecrets.unreadable === undefined ? [] : [otherSecrets.unreadable]),
        ],
        serviceAccount: name => view.serviceAccount(namespace, name),
        secretState: name => view.secret(namespace, name).state,
      });
      out.push({doctorCase: item, diagnosis: diagnose(item)});
    }
    return out;
  }

  /** Pull secrets of every namespace (to propose `sync`); none, with the reason, when listing them is not allowed. */
  private async pullSecretsEverywhere(session: ClusterSession): Promise<{secrets: KubeObject[]; unreadable?: string}> {
    try {
      const lists = await Promise.all([...PULL_SECRET_TYPES].map(type => session.list(`secrets`, {fieldSelector: `type=${type}`})));
      return {secrets: lists.flat()};
    } catch (error) {
      const code = isApiError(error) ? error.code : undefined;
      if (code === 403 || code === 404)
        return {secrets: [], unreadable: `cannot list secrets in other namespaces: ${apiErrorReason(error)} (needs list on secrets cluster-wide)`};
      throw error;
    }
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
