/**
 * "Timing truth" for `attach` (docs/credential-rules.md R2.2): the ServiceAccount admission plugin copies the
 * ServiceAccount's imagePullSecrets into a pod only when the pod is CREATED, and only when the pod lists
 * none of its own. So after attaching a secret to a ServiceAccount:
 * - running pods keep the list they were admitted with until they are recreated;
 * - pods of a workload whose template lists its own imagePullSecrets never get the ServiceAccount's.
 * This module finds both from plain objects; it never talks to the cluster.
 */
import type {KubeObject} from '../ports.ts';
import type {TargetKind, TargetRef} from './plan.ts';
import {describeTarget, pullSecretNames, templateServiceAccount} from './plan.ts';
import {WORKLOADS, isWorkloadKind} from '../workloads.ts';
import {compareText} from '../text.ts';

const rolls = (kind: string): boolean => isWorkloadKind(kind) && WORKLOADS[kind].rolls;

/** A running pod that will not use the secret until it is recreated. */
export type StalePod = {
  name: string;
  serviceAccount: string;
  /** The workload that owns the pod (a ReplicaSet's Deployment is followed up), when there is one. */
  owner?: {kind: string; name: string};
  /** True when `--restart` can roll the owner (Deployment, StatefulSet, DaemonSet). */
  restartable: boolean;
};

/** A workload whose pod template lists its own imagePullSecrets, hiding the ServiceAccount's list. */
export type HidingWorkload = TargetRef & {serviceAccount: string; imagePullSecrets: string[]};

export type TimingInput = {
  secretName: string;
  /** ServiceAccounts whose list contains the secret after this run. */
  serviceAccountsWithSecret: ReadonlySet<string>;
  /** Workloads (by `describeTarget`) whose template gained the secret in this run. */
  attachedWorkloads: ReadonlySet<string>;
  pods: KubeObject[];
  workloads: Array<{kind: TargetKind; object: KubeObject}>;
  /** The pull secrets of the ServiceAccounts written in this run, after the write (to tell a pod's own list from one copied from its ServiceAccount). */
  serviceAccountLists?: ReadonlyMap<string, readonly string[]>;
};

/** A running pod whose imagePullSecrets are its own (not copied from its ServiceAccount): recreating it will not add the secret. */
export type OwnListPod = {name: string; imagePullSecrets: string[]; owner?: {kind: string; name: string}};

export type TimingReport = {
  stalePods: StalePod[];
  hidingWorkloads: HidingWorkload[];
  /** The owners `--restart` would roll so that their pods pick the secret up. */
  restartTargets: TargetRef[];
  /** Pods of no known workload (bare pods, Jobs' pods) whose own list hides the ServiceAccount's. */
  ownListPods: OwnListPod[];
};


function controllerOf(object: KubeObject): {kind: string; name: string} | undefined {
  const owners = object.metadata.ownerReferences ?? [];
  const owner = owners.find(reference => reference.controller) ?? owners[0];
  return owner === undefined ? undefined : {kind: owner.kind, name: owner.name};
}

function isLive(pod: KubeObject): boolean {
  if (pod.metadata.deletionTimestamp !== undefined)
    return false;
  const phase = (pod.status as {phase?: string} | undefined)?.phase;
  return phase === undefined || phase === `Running` || phase === `Pending` || phase === `Unknown`;
}

/** Computes which pods miss the secret until recreated and which workloads hide the ServiceAccount's list. */
export function timingTruth(input: TimingInput): TimingReport {
  const byKey = new Map<string, {kind: TargetKind; object: KubeObject}>();
  for (const workload of input.workloads)
    byKey.set(`${workload.kind}/${workload.object.metadata.name}`, workload);

  // The template's own list, counting what this run added to it.
  const templateList = (workload: {kind: TargetKind; object: KubeObject}): string[] => {
    const names = pullSecretNames(workload.object, workload.kind);
    if (input.attachedWorkloads.has(describeTarget({kind: workload.kind, name: workload.object.metadata.name})) && !names.includes(input.secretName))
      names.push(input.secretName);
    return names;
  };

  // Follows a pod to its top-level workload: Pod → ReplicaSet → Deployment, Pod → Job → CronJob.
  const topOwner = (pod: KubeObject): {kind: string; name: string} | undefined => {
    let owner = controllerOf(pod);
    for (let depth = 0; owner !== undefined && depth < 3; depth++) {
      const parentObject = byKey.get(`${owner.kind}/${owner.name}`)?.object;
      const parent = parentObject === undefined ? undefined : controllerOf(parentObject);
      if (parent === undefined || !byKey.has(`${parent.kind}/${parent.name}`))
        break;
      owner = parent;
    }
    return owner;
  };

  const hiding = new Map<string, HidingWorkload>();
  for (const workload of input.workloads) {
    // A ReplicaSet run by a Deployment is reported through the Deployment.
    const controller = controllerOf(workload.object);
    if (controller !== undefined && byKey.has(`${controller.kind}/${controller.name}`))
      continue;
    const serviceAccount = templateServiceAccount(workload.object, workload.kind);
    const own = templateList(workload);
    if (input.serviceAccountsWithSecret.has(serviceAccount) && own.length > 0 && !own.includes(input.secretName))
      hiding.set(`${workload.kind}/${workload.object.metadata.name}`, {kind: workload.kind, name: workload.object.metadata.name, serviceAccount, imagePullSecrets: own});
  }

  const stalePods: StalePod[] = [];
  const ownListPods: OwnListPod[] = [];
  const restart = new Map<string, TargetRef>();
  for (const pod of input.pods) {
    if (!isLive(pod))
      continue;
    const spec = pod.spec as {serviceAccountName?: string; serviceAccount?: string; imagePullSecrets?: Array<{name?: string}>} | undefined;
    const serviceAccount = spec?.serviceAccountName || spec?.serviceAccount || `default`;
    if (!input.serviceAccountsWithSecret.has(serviceAccount))
      continue;
    if ((spec?.imagePullSecrets ?? []).some(entry => entry?.name === input.secretName))
      continue;
    const owner = topOwner(pod);
    const ownerWorkload = owner === undefined ? undefined : byKey.get(`${owner.kind}/${owner.name}`);
    if (owner !== undefined && hiding.has(`${owner.kind}/${owner.name}`))
      continue; // Recreating would not help: reported as a hiding workload instead.
    if (ownerWorkload !== undefined && rolls(ownerWorkload.kind) && templateList(ownerWorkload).includes(input.secretName) && input.attachedWorkloads.has(describeTarget({kind: ownerWorkload.kind, name: owner!.name})))
      continue; // This run changed the template itself; the controller is already replacing the pod.
    // The admission copies the ServiceAccount's list only into a pod that lists none. With no template to tell
    // (a bare pod, a Job's pod), a list the ServiceAccount holds entirely (before this run) is taken as copied.
    const podList = (spec?.imagePullSecrets ?? []).flatMap(entry => (typeof entry?.name === `string` ? [entry.name] : []));
    const accountList = input.serviceAccountLists?.get(serviceAccount)?.filter(name => name !== input.secretName);
    if (ownerWorkload === undefined && podList.length > 0 && !(accountList !== undefined && podList.every(name => accountList.includes(name)))) {
      ownListPods.push({name: pod.metadata.name, imagePullSecrets: podList, ...(owner === undefined ? {} : {owner})});
      continue;
    }
    const restartable = owner !== undefined && ownerWorkload !== undefined && rolls(owner.kind);
    stalePods.push({name: pod.metadata.name, serviceAccount, ...(owner === undefined ? {} : {owner}), restartable});
    if (restartable)
      restart.set(`${owner!.kind}/${owner!.name}`, {kind: owner!.kind as TargetKind, name: owner!.name});
  }
  stalePods.sort((a, b) => compareText(a.name, b.name));
  return {
    stalePods,
    hidingWorkloads: [...hiding.values()].sort((a, b) => compareText(`${a.kind}/${a.name}`, `${b.kind}/${b.name}`)),
    restartTargets: [...restart.values()].sort((a, b) => compareText(`${a.kind}/${a.name}`, `${b.kind}/${b.name}`)),
    ownListPods: ownListPods.sort((a, b) => compareText(a.name, b.name)),
  };
}
