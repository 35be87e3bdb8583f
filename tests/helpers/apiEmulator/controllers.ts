/**
 * The controllers of kube-controller-manager that turn workloads into pods, and the scheduler, as far as
 * the test world needs them (on when the emulator starts with `{controllers: true}`):
 *
 * - Deployment → ReplicaSet named `<deployment>-<pod-template-hash>` (the hash of the pod template, also a
 *   label and selector term of the ReplicaSet and its pods; `deployment.kubernetes.io/revision`). A template
 *   change (`kubectl rollout restart`, `kubectl set image`, an edit) makes a new ReplicaSet; the old ones are
 *   scaled down as the new pods become Ready (RollingUpdate, maxSurge 25 % rounded up, maxUnavailable 25 %
 *   rounded down), so a rollout whose new pods cannot pull keeps the old pods, as on a real cluster.
 * - ReplicaSet and ReplicationController → pods `<owner>-<5 random>`; a deleted pod is replaced.
 * - StatefulSet → pods `<name>-<ordinal>` with `controller-revision-hash`; on a template change, pods of the old
 *   revision are deleted from the highest ordinal down and recreated (with `podManagementPolicy: OrderedReady`,
 *   the default, only while every pod is Running and Ready, as the real controller does).
 * - DaemonSet → one pod on the one node; a template change replaces it.
 * - Job → one pod at a time (`batch.kubernetes.io/job-name`, `controller-uid` labels) until a pod succeeds;
 *   a CronJob makes jobs only by `kubectl create job --from=cronjob/NAME` (no schedule runs).
 * - Scheduler: every pod without `spec.nodeName` is bound to `emulator-node`.
 *
 * Pods are created through the same admission as HTTP (ServiceAccount pull secrets copied only when the pod
 * lists none); a rejected create becomes a `FailedCreate` event on the owner and is retried on the next change.
 * Owner references, labels and generated names are the real controllers'. Status of each workload is written
 * through the status subresource. Everything runs after the write that triggered it (setImmediate), never inside it.
 */
import type {LocalApi} from './local.ts';
import {ApiError} from './status.ts';

export const NODE_NAME = `emulator-node`;
const MANAGER = `kube-controller-manager`;

export type Controllers = {stop(): void; settled(): Promise<void>};

/** FNV-1a 32-bit, as the controllers' template hasher. */
function fnv32a(text: string): number {
  let h = 0x811c9dc5;
  for (const byte of Buffer.from(text, `utf8`)) {
    h ^= byte;
    h = Math.imul(h, 0x01000193) >>> 0;
  }
  return h >>> 0;
}

/** `rand.SafeEncodeString` of the decimal hash: letters without vowels, digits without 0, 1, 3. */
function safeEncode(text: string): string {
  const alphabet = `bcdfghjklmnpqrstvwxz2456789`;
  return [...text].map(c => alphabet[c.charCodeAt(0) % alphabet.length]).join(``);
}

export function templateHash(template: any): string {
  return safeEncode(String(fnv32a(JSON.stringify(template ?? {}))));
}

function isReady(pod: any): boolean {
  return (pod.status?.conditions ?? []).some((c: any) => c.type === `Ready` && c.status === `True`);
}

function isRunningAndReady(pod: any): boolean {
  return pod.status?.phase === `Running` && isReady(pod);
}

function ownedBy(obj: any, owner: any): boolean {
  return (obj.metadata.ownerReferences ?? []).some((r: any) => r.uid === owner.metadata.uid && r.controller === true);
}

function ownerRef(owner: any) {
  return {apiVersion: owner.apiVersion, kind: owner.kind, name: owner.metadata.name, uid: owner.metadata.uid, controller: true, blockOwnerDeletion: true};
}

function refOf(obj: any) {
  return {kind: obj.kind, name: obj.metadata.name, namespace: obj.metadata.namespace, uid: obj.metadata.uid, apiVersion: obj.apiVersion, resourceVersion: obj.metadata.resourceVersion};
}

const finished = (pod: any) => pod.status?.phase === `Succeeded` || pod.status?.phase === `Failed`;

/** Starts the controllers; they reconcile the whole store after every change, until `stop()`. */
export function startControllers(api: LocalApi): Controllers {
  let scheduled = false;
  let running = false;
  let stopped = false;
  let idle: Array<() => void> = [];

  const podFromTemplate = (owner: any, template: any, extra: {name?: string; labels?: Record<string, string>; generateName?: string}) => ({
    apiVersion: `v1`,
    kind: `Pod`,
    metadata: {
      ...(extra.name ? {name: extra.name} : {generateName: extra.generateName ?? `${owner.metadata.name}-`}),
      labels: {...template?.metadata?.labels, ...extra.labels},
      ...(template?.metadata?.annotations ? {annotations: {...template.metadata.annotations}} : {}),
      ownerReferences: [ownerRef(owner)],
    },
    spec: structuredClone(template?.spec ?? {}),
  });

  const createPod = (owner: any, pod: any, successMessage: (name: string) => string): boolean => {
    try {
      const created = api.create(`pods`, owner.metadata.namespace, pod, MANAGER);
      api.event(refOf(owner), `Normal`, `SuccessfulCreate`, successMessage(created.metadata.name), owner.kind === `Job` ? `job-controller` : owner.kind === `StatefulSet` ? `statefulset-controller` : owner.kind === `DaemonSet` ? `daemonset-controller` : `replicaset-controller`);
      return true;
    } catch (e) {
      if (!(e instanceof ApiError))
        throw e;
      const component = owner.kind === `StatefulSet` ? `statefulset-controller` : owner.kind === `Job` ? `job-controller` : owner.kind === `DaemonSet` ? `daemonset-controller` : `replicaset-controller`;
      const message = owner.kind === `StatefulSet`
        ? `create Pod ${pod.metadata.name} in StatefulSet ${owner.metadata.name} failed error: ${e.status.message}`
        : `Error creating: ${e.status.message}`;
      api.event(refOf(owner), `Warning`, `FailedCreate`, message, component);
      return false;
    }
  };

  const podsOf = (owner: any) => api.list(`pods`, owner.metadata.namespace).filter(p => ownedBy(p, owner));

  /** ReplicaSet / ReplicationController: keep `replicas` pods. */
  const reconcileReplicaSet = (rs: any) => {
    const want = rs.spec?.replicas ?? 1;
    const pods = podsOf(rs).filter(p => !finished(p));
    if (pods.length < want) {
      for (let i = pods.length; i < want; i++) {
        if (!createPod(rs, podFromTemplate(rs, rs.spec?.template, {}), name => `Created pod: ${name}`))
          break;
      }
    } else if (pods.length > want) {
      // Not-ready pods go first, then the youngest.
      const victims = [...pods].sort((a, b) => Number(isReady(a)) - Number(isReady(b)) || String(b.metadata.creationTimestamp).localeCompare(String(a.metadata.creationTimestamp))).slice(0, pods.length - want);
      for (const pod of victims) {
        api.delete(`pods`, pod.metadata.namespace, pod.metadata.name);
        api.event(refOf(rs), `Normal`, `SuccessfulDelete`, `Deleted pod: ${pod.metadata.name}`, `replicaset-controller`);
      }
    }
    const current = podsOf(rs).filter(p => !finished(p));
    const ready = current.filter(isReady).length;
    writeStatus(rs, {
      replicas: current.length,
      fullyLabeledReplicas: current.length,
      ...(ready > 0 ? {readyReplicas: ready, availableReplicas: ready} : {}),
      observedGeneration: rs.metadata.generation,
    });
  };

  const writeStatus = (obj: any, status: any) => {
    const resource = {ReplicaSet: `replicasets`, ReplicationController: `replicationcontrollers`, Deployment: `deployments`, StatefulSet: `statefulsets`, DaemonSet: `daemonsets`, Job: `jobs`}[obj.kind as string]!;
    const fresh = api.get(resource, obj.metadata.namespace, obj.metadata.name);
    if (fresh)
      api.updateStatus(resource, obj.metadata.namespace, obj.metadata.name, status, MANAGER);
  };

  const reconcileDeployment = (d: any) => {
    const ns = d.metadata.namespace;
    const want = d.spec?.replicas ?? 1;
    const hash = templateHash(d.spec?.template);
    const owned = api.list(`replicasets`, ns).filter(rs => ownedBy(rs, d));
    const revisionOf = (rs: any) => Number(rs.metadata.annotations?.[`deployment.kubernetes.io/revision`] ?? 0);
    const maxRevision = Math.max(0, ...owned.map(revisionOf));
    let newRs = owned.find(rs => rs.metadata.labels?.[`pod-template-hash`] === hash);
    const surge = Math.ceil(want * 0.25);
    const unavailable = Math.floor(want * 0.25);
    if (!newRs) {
      const name = `${d.metadata.name}-${hash}`;
      const labels = {...d.spec?.template?.metadata?.labels, 'pod-template-hash': hash};
      const oldTotal = owned.reduce((n, rs) => n + (rs.spec?.replicas ?? 0), 0);
      const replicas = owned.length === 0 ? want : Math.max(0, Math.min(want, want + surge - oldTotal));
      newRs = api.create(`replicasets`, ns, {
        apiVersion: `apps/v1`,
        kind: `ReplicaSet`,
        metadata: {
          name,
          labels,
          annotations: {'deployment.kubernetes.io/desired-replicas': String(want), 'deployment.kubernetes.io/max-replicas': String(want + surge), 'deployment.kubernetes.io/revision': String(maxRevision + 1)},
          ownerReferences: [ownerRef(d)],
        },
        spec: {
          replicas,
          selector: {...d.spec?.selector, matchLabels: {...d.spec?.selector?.matchLabels, 'pod-template-hash': hash}},
          template: {...d.spec?.template, metadata: {...d.spec?.template?.metadata, labels}},
        },
      }, MANAGER);
      api.event(refOf(d), `Normal`, `ScalingReplicaSet`, `Scaled up replica set ${name} from 0 to ${replicas}`, `deployment-controller`);
    } else if (revisionOf(newRs) !== maxRevision && owned.length > 1) {
      scaleRs(newRs, newRs.spec?.replicas ?? 0, {'deployment.kubernetes.io/revision': String(maxRevision + 1)});
    }
    // Rolling update: the new ReplicaSet grows to `want` within the surge, old ones shrink as new pods become ready.
    const old = owned.filter(rs => rs.metadata.uid !== newRs.metadata.uid);
    const newReady = podsOf(newRs).filter(isReady).length;
    let oldAllowed = Math.max(0, want - unavailable - newReady);
    const oldCurrent = old.reduce((n, rs) => n + (rs.spec?.replicas ?? 0), 0);
    if ((newRs.spec?.replicas ?? 0) < want) {
      const room = want + surge - Math.min(oldCurrent, oldAllowed);
      const target = Math.min(want, Math.max(newRs.spec?.replicas ?? 0, room));
      if (target !== newRs.spec?.replicas)
        scaleRs(newRs, target);
    } else if ((newRs.spec?.replicas ?? 0) > want) {
      scaleRs(newRs, want);
    }
    for (const rs of [...old].sort((a, b) => revisionOf(b) - revisionOf(a))) {
      const keep = Math.min(rs.spec?.replicas ?? 0, oldAllowed);
      oldAllowed -= keep;
      if (keep !== (rs.spec?.replicas ?? 0)) {
        scaleRs(rs, keep);
        api.event(refOf(d), `Normal`, `ScalingReplicaSet`, `Scaled down replica set ${rs.metadata.name} from ${rs.spec?.replicas ?? 0} to ${keep}`, `deployment-controller`);
      }
    }
    const all = api.list(`replicasets`, ns).filter(rs => ownedBy(rs, d));
    const pods = all.flatMap(podsOf);
    const ready = pods.filter(isReady).length;
    const updated = podsOf(newRs).length;
    writeStatus(d, {
      observedGeneration: d.metadata.generation,
      replicas: pods.length,
      updatedReplicas: updated,
      ...(ready > 0 ? {readyReplicas: ready, availableReplicas: ready} : {}),
      ...(pods.length - ready > 0 ? {unavailableReplicas: pods.length - ready} : {}),
      conditions: [
        {type: `Available`, status: ready >= want - unavailable ? `True` : `False`, reason: ready >= want - unavailable ? `MinimumReplicasAvailable` : `MinimumReplicasUnavailable`, message: ready >= want - unavailable ? `Deployment has minimum availability.` : `Deployment does not have minimum availability.`},
        {type: `Progressing`, status: `True`, reason: updated === want && ready === want ? `NewReplicaSetAvailable` : `ReplicaSetUpdated`, message: updated === want && ready === want ? `ReplicaSet "${newRs.metadata.name}" has successfully progressed.` : `ReplicaSet "${newRs.metadata.name}" is progressing.`},
      ],
    });
  };

  const scaleRs = (rs: any, replicas: number, annotations: Record<string, string> = {}) => {
    const fresh = api.get(`replicasets`, rs.metadata.namespace, rs.metadata.name);
    if (!fresh)
      return;
    const body = {...fresh, metadata: {...fresh.metadata, annotations: {...fresh.metadata.annotations, ...annotations}}, spec: {...fresh.spec, replicas}};
    api.update(`replicasets`, rs.metadata.namespace, body, MANAGER);
  };

  const reconcileStatefulSet = (sts: any) => {
    const ns = sts.metadata.namespace;
    const want = sts.spec?.replicas ?? 1;
    const revision = `${sts.metadata.name}-${templateHash(sts.spec?.template)}`;
    const pods = podsOf(sts);
    const byOrdinal = new Map<number, any>();
    for (const p of pods) {
      const m = p.metadata.name.match(/-(\d+)$/);
      if (m)
        byOrdinal.set(Number(m[1]), p);
    }
    const parallel = sts.spec?.podManagementPolicy === `Parallel`;
    for (let i = 0; i < want; i++) {
      if (byOrdinal.has(i)) {
        if (!parallel && !isRunningAndReady(byOrdinal.get(i)))
          break;
        continue;
      }
      const name = `${sts.metadata.name}-${i}`;
      createPod(sts, podFromTemplate(sts, sts.spec?.template, {name, labels: {'controller-revision-hash': revision, 'statefulset.kubernetes.io/pod-name': name, 'apps.kubernetes.io/pod-index': String(i)}}), n => `create Pod ${n} in StatefulSet ${sts.metadata.name} successful`);
      if (!parallel)
        break;
    }
    for (const [i, p] of byOrdinal) {
      if (i >= want) {
        api.delete(`pods`, ns, p.metadata.name);
        api.event(refOf(sts), `Normal`, `SuccessfulDelete`, `delete Pod ${p.metadata.name} in StatefulSet ${sts.metadata.name} successful`, `statefulset-controller`);
      }
    }
    // Rolling update from the highest ordinal; OrderedReady waits for every pod to be Running and Ready.
    const current = [...byOrdinal.entries()].filter(([i]) => i < want).sort((a, b) => b[0] - a[0]);
    const allHealthy = current.length === want && current.every(([, p]) => isRunningAndReady(p));
    if (parallel || allHealthy) {
      const stale = current.find(([, p]) => p.metadata.labels?.[`controller-revision-hash`] !== revision);
      if (stale) {
        api.delete(`pods`, ns, stale[1].metadata.name);
        api.event(refOf(sts), `Normal`, `SuccessfulDelete`, `delete Pod ${stale[1].metadata.name} in StatefulSet ${sts.metadata.name} successful`, `statefulset-controller`);
      }
    }
    const now = podsOf(sts);
    const ready = now.filter(isReady).length;
    const updated = now.filter(p => p.metadata.labels?.[`controller-revision-hash`] === revision).length;
    writeStatus(sts, {
      observedGeneration: sts.metadata.generation,
      replicas: now.length,
      ...(ready > 0 ? {readyReplicas: ready, availableReplicas: ready} : {availableReplicas: 0}),
      currentReplicas: updated,
      updatedReplicas: updated,
      currentRevision: revision,
      updateRevision: revision,
      collisionCount: 0,
    });
  };

  const reconcileDaemonSet = (ds: any) => {
    const revisionHash = templateHash(ds.spec?.template);
    const pods = podsOf(ds);
    for (const p of pods) {
      if (p.metadata.labels?.[`controller-revision-hash`] !== revisionHash && ds.spec?.updateStrategy?.type !== `OnDelete`) {
        api.delete(`pods`, p.metadata.namespace, p.metadata.name);
        api.event(refOf(ds), `Normal`, `SuccessfulDelete`, `Deleted pod: ${p.metadata.name}`, `daemonset-controller`);
      }
    }
    if (podsOf(ds).length === 0) {
      const pod = podFromTemplate(ds, ds.spec?.template, {labels: {'controller-revision-hash': revisionHash, 'pod-template-generation': String(ds.metadata.generation ?? 1)}});
      (pod.spec as any).nodeName = NODE_NAME;
      createPod(ds, pod, name => `Created pod: ${name}`);
    }
    const now = podsOf(ds);
    const ready = now.filter(isReady).length;
    writeStatus(ds, {
      currentNumberScheduled: now.length,
      numberMisscheduled: 0,
      desiredNumberScheduled: 1,
      numberReady: ready,
      observedGeneration: ds.metadata.generation,
      updatedNumberScheduled: now.filter(p => p.metadata.labels?.[`controller-revision-hash`] === revisionHash).length,
      numberAvailable: ready,
      ...(ready < 1 ? {numberUnavailable: 1 - ready} : {}),
    });
  };

  const reconcileJob = (job: any) => {
    if (job.spec?.suspend)
      return;
    const pods = podsOf(job);
    const succeeded = pods.filter(p => p.status?.phase === `Succeeded`).length;
    const failed = pods.filter(p => p.status?.phase === `Failed`).length;
    const active = pods.filter(p => !finished(p));
    const completions = job.spec?.completions ?? 1;
    if (succeeded < completions && active.length < (job.spec?.parallelism ?? 1)) {
      const uid = job.metadata.uid;
      createPod(job, podFromTemplate(job, job.spec?.template, {labels: {'batch.kubernetes.io/controller-uid': uid, 'batch.kubernetes.io/job-name': job.metadata.name, 'controller-uid': uid, 'job-name': job.metadata.name}}), name => `Created pod: ${name}`);
    }
    const now = podsOf(job).filter(p => !finished(p));
    const ready = now.filter(isReady).length;
    const complete = succeeded >= completions;
    writeStatus(job, {
      ...(job.status?.startTime ? {startTime: job.status.startTime} : {startTime: new Date(api.now()).toISOString().replace(/\.\d{3}Z$/, `Z`)}),
      ...(now.length > 0 ? {active: now.length} : {}),
      ...(succeeded > 0 ? {succeeded} : {}),
      ...(failed > 0 ? {failed} : {}),
      ready,
      terminating: 0,
      uncountedTerminatedPods: {},
      ...(complete ? {conditions: [{type: `Complete`, status: `True`, lastProbeTime: job.status?.startTime, lastTransitionTime: job.status?.startTime}]} : {}),
    });
  };

  const schedulePods = () => {
    for (const pod of api.list(`pods`)) {
      if (pod.spec?.nodeName || pod.metadata.deletionTimestamp)
        continue;
      api.bindPod(pod.metadata.namespace, pod.metadata.name, NODE_NAME);
      api.event({kind: `Pod`, name: pod.metadata.name, namespace: pod.metadata.namespace, uid: pod.metadata.uid}, `Normal`, `Scheduled`, `Successfully assigned ${pod.metadata.namespace}/${pod.metadata.name} to ${NODE_NAME}`, `default-scheduler`);
    }
  };

  const reconcileAll = () => {
    for (const d of api.list(`deployments`)) {
      if (!d.spec?.paused)
        reconcileDeployment(api.get(`deployments`, d.metadata.namespace, d.metadata.name) ?? d);
    }
    for (const rs of api.list(`replicasets`))
      reconcileReplicaSet(rs);
    for (const rc of api.list(`replicationcontrollers`))
      reconcileReplicaSet(rc);
    for (const sts of api.list(`statefulsets`))
      reconcileStatefulSet(sts);
    for (const ds of api.list(`daemonsets`))
      reconcileDaemonSet(ds);
    for (const job of api.list(`jobs`))
      reconcileJob(job);
    schedulePods();
  };

  const run = () => {
    scheduled = false;
    if (stopped)
      return;
    running = true;
    try {
      reconcileAll();
    } catch (error) {
      process.emitWarning(`emulator controllers: ${(error as Error).stack ?? error}`);
    } finally {
      running = false;
    }
    if (!scheduled) {
      const waiting = idle;
      idle = [];
      for (const resolve of waiting)
        resolve();
    }
  };
  const schedule = () => {
    if (scheduled || stopped)
      return;
    scheduled = true;
    setImmediate(run);
  };
  const unsubscribe = api.onChange(event => {
    if (event.resource !== `events`)
      schedule();
  });
  schedule();
  return {
    stop() {
      stopped = true;
      unsubscribe();
      for (const resolve of idle)
        resolve();
      idle = [];
    },
    settled() {
      if (!scheduled && !running)
        return Promise.resolve();
      return new Promise<void>(resolve => idle.push(resolve));
    },
  };
}
