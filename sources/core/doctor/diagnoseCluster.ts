/**
 * The `doctor` use case for one cluster: the pods in scope that fail to pull, the evidence each needs (its
 * ServiceAccount and secrets, the registry's answer to its credentials, its owner and events, the pull secrets of
 * other namespaces), and the diagnosis with its fix (core/verify/doctor.ts).
 */
import {eventsFor, gatherNamespaces, listAllInScope, namespaceExists, snapshotView, topLevelOwnerOf} from '../cluster/gather.ts';
import {apiErrorReason, isApiError} from '../apiError.ts';
import {PullSecretError} from '../errors.ts';
import {fanOut} from '../fanout.ts';
import type {ClusterSession, KubeObject, RegistryProbe} from '../ports.ts';
import type {NamespaceScope, ResolvedScope} from '../scope.ts';
import {PULL_SECRET_TYPES} from '../secrets/metadata.ts';
import {diagnose} from '../verify/doctor.ts';
import type {Diagnosis, DoctorCase} from '../verify/doctor.ts';
import {doctorCase, failingContainers} from '../verify/doctorCase.ts';
import {runVerifyEngine} from '../verify/engine.ts';
import {subjectOf} from '../verify/subjects.ts';
import type {PodSubject} from '../verify/types.ts';

/** What one run of doctor asks, the same for every cluster. */
export type DoctorRequest = {
  /** One pod by name (in the session's namespace), instead of the scope. */
  pod?: string;
  scope: NamespaceScope;
  /** Resolves the scope (the command warns about a selector that matches nothing). */
  resolveScope: (session: ClusterSession, scope: NamespaceScope) => Promise<ResolvedScope>;
  /** The registry probe, made when the first failing pod needs it. */
  makeProbe: () => Promise<RegistryProbe>;
  concurrency: number;
  now: Date;
};

/** One failing container with its evidence and diagnosis. */
export type DiagnosedCase = {doctorCase: DoctorCase; diagnosis: Diagnosis};

/** What doctor found in one cluster. */
export type ClusterDiagnosis = {cases: DiagnosedCase[]; missing: string[]; namespaces: string[]};

/** Diagnoses the failing containers of one cluster (none when no pod in scope is failing), with the named namespaces that do not exist. */
export async function diagnoseCluster(session: ClusterSession, request: DoctorRequest): Promise<ClusterDiagnosis> {
  const {pods, missing, namespaces} = await podsInScope(session, request);
  const failing = pods.flatMap(pod => failingContainers(pod).map(container => ({pod, container})));
  return {cases: failing.length === 0 ? [] : await diagnoseAll(session, failing, request), missing, namespaces};
}

async function podsInScope(session: ClusterSession, request: DoctorRequest): Promise<{pods: KubeObject[]; missing: string[]; namespaces: string[]}> {
  if (request.pod !== undefined) {
    const pod = await session.get(`pods`, session.namespace, request.pod);
    if (!pod)
      throw new PullSecretError(`pod "${request.pod}" not found in namespace ${session.namespace}`);
    return {pods: [pod], missing: [], namespaces: [session.namespace]};
  }
  // -A too: --exclude-namespaces and the ignore annotation apply, as for every command that fans out.
  const namespaceScope = request.scope;
  const scope = await request.resolveScope(session, namespaceScope);
  const missing = scope.skipped.filter(skip => skip.cause === `missing`).map(skip => skip.namespace);
  if (namespaceScope.kind === `all`) {
    const wanted = new Set(scope.namespaces);
    return {pods: (await listAllInScope(session, `pods`, `all`)).filter(pod => wanted.has(pod.metadata.namespace ?? ``)), missing, namespaces: scope.namespaces};
  }
  const pods = await listAllInScope(session, `pods`, scope.namespaces);
  // The namespace of -n is not read beforehand: when it holds no pod at all, one GET tells whether it exists.
  if (namespaceScope.kind === `current` && pods.length === 0 && scope.namespaces.length === 1 && await namespaceExists(session, scope.namespaces[0]!) === `missing`)
    return {pods, missing: [scope.namespaces[0]!], namespaces: []};
  return {pods, missing, namespaces: scope.namespaces};
}

async function diagnoseAll(session: ClusterSession, failing: Array<{pod: KubeObject; container: ReturnType<typeof failingContainers>[number]}>, request: DoctorRequest): Promise<DiagnosedCase[]> {
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
  const otherSecrets = await pullSecretsEverywhere(session);
  const probe = await request.makeProbe();
  const {results} = await runVerifyEngine(subjects, view, {probe, concurrency: request.concurrency, allCredentials: false, now: request.now, context: session.contextName});

  // Owner and events once per pod, a bounded number of pods at a time.
  const podInfo = new Map<KubeObject, {owner: Awaited<ReturnType<typeof topLevelOwnerOf>>; events: string[]}>();
  const perPod = await fanOut([...podsByKey.values()], request.concurrency, async pod => {
    const owner = await topLevelOwnerOf(session, pod);
    const events = (await eventsFor(session, pod.metadata.namespace ?? session.namespace, `Pod`, pod.metadata.name))
      .filter(event => /pull|image|secret/i.test(`${String(event.reason)} ${String(event.message)}`))
      .map(event => `${String(event.reason ?? ``)}: ${String(event.message ?? ``)}`);
    podInfo.set(pod, {owner, events});
  });
  const failed = perPod.find(outcome => !outcome.ok);
  if (failed && !failed.ok)
    throw failed.error;

  const out: DiagnosedCase[] = [];
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
async function pullSecretsEverywhere(session: ClusterSession): Promise<{secrets: KubeObject[]; unreadable?: string}> {
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
