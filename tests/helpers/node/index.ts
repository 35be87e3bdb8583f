/**
 * A simulated kubelet: the test world's node, which pulls every pod's images through real containerd (CRI)
 * with the credentials the kubelet would pick, and reports what the kubelet reports.
 *
 * Usage (one containerd per test file is plenty; it starts in about a second):
 *
 *   const api = await startApiEmulator({controllers: true});      // controllers make pods from workloads
 *   const containerd = await startContainerd();                   // tests/helpers/containerd
 *   containerd.trustRegistry(registry);                            // for every test registry the pods use
 *   const node = startNode({api, containerd, backoff: {initialMs: 200, maxMs: 1000}});
 *   t.after(async () => { await node.stop(); await containerd.stop(); await api.stop(); });
 *
 *   await node.waitForPods({namespace: `web`, labels: {app: `frontend`}}, `ImagePullBackOff`);
 *   await node.waitForPods({namespace: `web`, name: `frontend-0`}, `Running`, {timeoutMs: 20_000});
 *   node.pulls                // every CRI PullImage made: {image, username (or undefined), ok, error?}
 *   podState(pod)             // `Running`, a waiting reason (`ErrImagePull`, `ImagePullBackOff`, `InvalidImageName`,
 *                             // `ErrImageNeverPull`, `ContainerCreating`, `PodInitializing`), or the phase
 *
 * What it does for each pod bound to its node (`emulator-node`), as the kubelet does (docs/credential-rules.md R2):
 * - builds one keyring from the pod's `imagePullSecrets` (./keyring.ts; never sources/), with the event
 *   `FailedToRetrieveImagePullSecret` for listed secrets that do not exist; a secret that does not decode fails
 *   every pull of the pod with the decode error;
 * - for each image — image volumes, then init containers one at a time, then the containers — honours
 *   `imagePullPolicy` (`Never` → `ErrImageNeverPull`, `IfNotPresent` → containerd's ImageStatus first), calls CRI
 *   `PullImage` once per matching credential (username/password only) until one succeeds, or once anonymously
 *   when none matched; never anonymously after a rejected credential;
 * - writes container states through the pods/status subresource: `ErrImagePull` with the runtime's message, then
 *   `ImagePullBackOff` (`Back-off pulling image "…"`) until the back-off (doubling from `initialMs` to `maxMs`;
 *   the kubelet's 10 s / 300 s by default) lets it retry; `InvalidImageName`; `Running` with Ready conditions once
 *   every image is there (init containers end `Completed`); and the Events `Scheduled`-side `Pulling`, `Pulled`,
 *   `Failed`, `BackOff`, `Created`, `Started`, `InspectFailed`, `ErrImageNeverPull`.
 * Secrets are read again on each retry, so fixing a secret heals a pod at its next retry (as on a real node);
 * a pod's own `imagePullSecrets` never change (the ServiceAccount's are copied only at creation), so a fix that
 * edits a ServiceAccount needs new pods (`kubectl rollout restart`, `kubectl delete pod`).
 * Pulls are serialized node-wide (the kubelet's default `serializeImagePulls: true`). Containers never exit.
 * Registries off the machine are never contacted: such a pull fails as on an offline node (`no such host`).
 * KEP-2535, behind `imagePullCredentialsVerificationPolicy` (off by default, as on the emulated 1.32): the node
 * records which credentials (secret identity and a hash of the credential) or an anonymous pull brought each image;
 * an `IfNotPresent` pod may then use a cached image only if one of its own matching credentials (or none needed,
 * for an image pulled anonymously) pulled it, else it pulls again with its own credentials; a `Never` pod gets
 * `ErrImageNeverPull`. `NeverVerifyPreloadedImages` exempts images the node did not pull; `AlwaysVerify` does not.
 * Not simulated: node config.json and credential-provider plugins, container restarts.
 */
import crypto from 'node:crypto';
import type {ApiEmulator} from '../apiEmulator/index.ts';
import type {LocalApi, ObjectRef} from '../apiEmulator/local.ts';
import type {Containerd} from '../containerd/index.ts';
import {Keyring, KeyringError, secretConfig} from './keyring.ts';
import {applyDefaultImageTag, parseNormalizedNamed} from './reference.ts';

export {Keyring, KeyringError, secretConfig} from './keyring.ts';
export {applyDefaultImageTag, parseNormalizedNamed} from './reference.ts';

export type NodeOptions = {
  api: Pick<ApiEmulator, `local`>;
  containerd: Containerd;
  /** Node name (default `emulator-node`, where the emulator's scheduler and seeders put pods). */
  name?: string;
  /** Image pull back-off: first delay and cap (the kubelet's are 10 s and 300 s). */
  backoff?: {initialMs?: number; maxMs?: number};
  /** How soon after an `ErrImagePull` the pod is synced again and shows `ImagePullBackOff` (default: half the first back-off). */
  resyncMs?: number;
  /**
   * KEP-2535 (`KubeletEnsureSecretPulledImages`, on by default from Kubernetes 1.35) with this
   * `imagePullCredentialsVerificationPolicy`; off (the default here, as on the emulated 1.32) is `NeverVerify`.
   */
  imagePullCredentialsVerificationPolicy?: `NeverVerify` | `NeverVerifyPreloadedImages` | `AlwaysVerify`;
};

export type PullRecord = {pod: string; image: string; username?: string; ok: boolean; error?: string};

export type PodSelector = {namespace: string; name?: string; labels?: Record<string, string>};

export type TestNode = {
  name: string;
  /** Every CRI PullImage the node made, in order. */
  pulls: PullRecord[];
  /** Resolves with the matching pods once there is at least one and every one is in one of `states` (see `podState`). */
  waitForPods(selector: PodSelector, states: string | string[], opts?: {timeoutMs?: number}): Promise<any[]>;
  stop(): Promise<void>;
};

/** `Running` when the pod runs with every container ready; else the first waiting reason; else the phase. */
export function podState(pod: any): string {
  const status = pod?.status ?? {};
  const all = [...(status.initContainerStatuses ?? []), ...(status.containerStatuses ?? [])];
  if (status.phase === `Running` && (status.containerStatuses ?? []).length > 0 && (status.containerStatuses ?? []).every((s: any) => s.ready))
    return `Running`;
  for (const s of all) {
    if (s.state?.waiting?.reason && s.state.waiting.reason !== `PodInitializing` && s.state.waiting.reason !== `ContainerCreating`)
      return s.state.waiting.reason;
  }
  for (const s of all) {
    if (s.state?.waiting?.reason)
      return s.state.waiting.reason;
  }
  return status.phase ?? `Pending`;
}

const KUBELET = `kubelet`;
const HOST_IP = `10.0.0.10`;

function timestamp(date: Date): string {
  return date.toISOString().replace(/\.\d{3}Z$/, `Z`);
}

type ImageTask = {kind: `volume` | `init` | `container`; name: string; image: string; policy: string; fieldPath?: string};

type ImageResult = {state: `pulled`; imageRef: string; imageId: string} | {state: `failed`; reason: string; message: string};

/** Per pod: what has been pulled, and the back-off of what has not. */
type Worker = {
  uid: string;
  namespace: string;
  name: string;
  timer?: NodeJS.Timeout;
  done: Map<string, {imageRef: string; imageId: string}>;
  /** Per image: the last failure, when its back-off ends, and whether a sync inside the back-off has shown `ImagePullBackOff`. */
  failures: Map<string, {reason: string; message: string; retryAt: number; delayMs: number; backOffShown: boolean}>;
  initDone: Set<string>;
  startedAt: string;
  podIP: string;
  syncing: boolean;
  /** A change arrived during a sync: sync again when it ends. */
  resyncRequested: boolean;
  running: boolean;
};

function tasksOf(pod: any): ImageTask[] {
  const spec = pod.spec ?? {};
  const defaultPolicy = (image: string) => {
    try {
      const parsed = parseNormalizedNamed(image);
      return parsed.digest === undefined && (parsed.tag === undefined || parsed.tag === `latest`) ? `Always` : `IfNotPresent`;
    } catch {
      return `IfNotPresent`;
    }
  };
  return [
    ...(spec.volumes ?? []).filter((v: any) => v.image?.reference).map((v: any) => ({kind: `volume` as const, name: v.name, image: v.image.reference, policy: v.image.pullPolicy ?? defaultPolicy(v.image.reference)})),
    ...(spec.initContainers ?? []).map((c: any) => ({kind: `init` as const, name: c.name, image: c.image, policy: c.imagePullPolicy ?? defaultPolicy(c.image), fieldPath: `spec.initContainers{${c.name}}`})),
    ...(spec.containers ?? []).map((c: any) => ({kind: `container` as const, name: c.name, image: c.image, policy: c.imagePullPolicy ?? defaultPolicy(c.image), fieldPath: `spec.containers{${c.name}}`})),
  ];
}

/** Registries the test world may reach: loopback only. */
function isLoopback(domain: string): boolean {
  const host = domain.startsWith(`[`) ? domain.slice(1, domain.indexOf(`]`)) : domain.replace(/:\d+$/, ``);
  return host === `localhost` || host === `::1` || /^127\.\d+\.\d+\.\d+$/.test(host);
}

/** Go's utilerrors.NewAggregate(...).Error(): one message alone, several as `[a, b]` (duplicates dropped). */
function aggregate(messages: string[]): string {
  const unique = [...new Set(messages)];
  return unique.length === 1 ? unique[0]! : `[${unique.join(`, `)}]`;
}

/** Starts the node: it runs every pod bound to it until `stop()`. */
export function startNode(options: NodeOptions): TestNode {
  const api: LocalApi = options.api.local;
  const containerd = options.containerd;
  const nodeName = options.name ?? `emulator-node`;
  const initialMs = options.backoff?.initialMs ?? 10_000;
  const maxMs = options.backoff?.maxMs ?? 300_000;
  const resyncMs = options.resyncMs ?? Math.max(10, Math.floor(initialMs / 2));
  const pulls: PullRecord[] = [];
  const workers = new Map<string, Worker>();
  const verification = options.imagePullCredentialsVerificationPolicy ?? `NeverVerify`;
  /** KEP-2535's pulled-image records: image id → the credentials (hashes, secret identities) or anonymous pulls that brought it. */
  const pulledRecords = new Map<string, {anonymous: boolean; hashes: Set<string>; secrets: Set<string>}>();
  const credentialHash = (username: string, password: string) => crypto.createHash(`sha256`).update(`${username}\0${password}`).digest(`hex`);
  const waiters = new Set<() => void>();
  let stopped = false;
  let pullQueue: Promise<unknown> = Promise.resolve();

  /** Node-wide serial image pulls. */
  const serialized = <T>(fn: () => Promise<T>): Promise<T> => {
    const next = pullQueue.then(fn, fn);
    pullQueue = next.catch(() => undefined);
    return next;
  };

  const podRef = (pod: any, fieldPath?: string): ObjectRef => ({kind: `Pod`, name: pod.metadata.name, namespace: pod.metadata.namespace, uid: pod.metadata.uid, apiVersion: `v1`, ...(fieldPath ? {fieldPath} : {})});
  const event = (pod: any, fieldPath: string | undefined, type: `Normal` | `Warning`, reason: string, message: string) => {
    if (!stopped && api.get(`pods`, pod.metadata.namespace, pod.metadata.name)?.metadata.uid === pod.metadata.uid)
      api.event(podRef(pod, fieldPath), type, reason, message, KUBELET, nodeName);
  };

  const buildKeyring = (pod: any): Keyring => {
    const keyring = new Keyring();
    const missing: string[] = [];
    let failure: KeyringError | undefined;
    for (const ref of pod.spec?.imagePullSecrets ?? []) {
      if (!ref?.name)
        continue;
      const secret = api.get(`secrets`, pod.metadata.namespace, ref.name);
      if (!secret) {
        missing.push(ref.name);
        continue;
      }
      try {
        keyring.add(ref.name, secretConfig(secret), `${secret.metadata.namespace}/${secret.metadata.name}/${secret.metadata.uid}`);
      } catch (error) {
        if (!(error instanceof KeyringError))
          throw error;
        failure ??= error;
      }
    }
    if (missing.length > 0)
      event(pod, undefined, `Warning`, `FailedToRetrieveImagePullSecret`, `Unable to retrieve some image pull secrets (${missing.join(`, `)}); attempting to pull the image may not succeed.`);
    if (failure)
      throw failure;
    return keyring;
  };

  /** KEP-2535: may this pod use the cached image `id`? (Its own matching credentials, or none needed, pulled it.) */
  const mayUseCached = (id: string, image: string, keyringOrError: () => Keyring): boolean => {
    const record = pulledRecords.get(id);
    if (!record)
      return verification === `NeverVerifyPreloadedImages`;
    if (record.anonymous)
      return true;
    let creds;
    try {
      creds = keyringOrError().lookup(parseNormalizedNamed(image).repository);
    } catch {
      return false;
    }
    return creds.some(c => (c.secret !== undefined && record.secrets.has(c.secret)) || record.hashes.has(credentialHash(c.username, c.password)));
  };

  /** The kubelet's EnsureImageExists for one image. */
  const ensureImage = async (pod: any, task: ImageTask, keyringOrError: () => Keyring): Promise<ImageResult> => {
    let image: string;
    try {
      image = applyDefaultImageTag(task.image);
    } catch (error) {
      const message = `Failed to apply default image tag "${task.image}": ${(error as Error).message}`;
      event(pod, task.fieldPath, `Warning`, `InspectFailed`, message);
      event(pod, task.fieldPath, `Warning`, `Failed`, `Error: InvalidImageName`);
      return {state: `failed`, reason: `InvalidImageName`, message};
    }
    let present = task.policy === `Always` ? undefined : await containerd.imageStatus(image);
    if (present && verification !== `NeverVerify` && !mayUseCached(present.id, image, keyringOrError))
      present = undefined;
    if (present) {
      event(pod, task.fieldPath, `Normal`, `Pulled`, `Container image "${task.image}" already present on machine`);
      return {state: `pulled`, imageRef: present.id, imageId: present.id};
    }
    if (task.policy === `Never`) {
      const message = `Container image "${task.image}" is not present with pull policy of Never`;
      event(pod, task.fieldPath, `Warning`, `ErrImageNeverPull`, message);
      event(pod, task.fieldPath, `Warning`, `Failed`, `Error: ErrImageNeverPull`);
      return {state: `failed`, reason: `ErrImageNeverPull`, message};
    }
    event(pod, task.fieldPath, `Normal`, `Pulling`, `Pulling image "${task.image}"`);
    const started = Date.now();
    const result = await serialized(async (): Promise<{ref: string} | {error: string}> => {
      let keyring: Keyring;
      try {
        keyring = keyringOrError();
      } catch (error) {
        return {error: (error as Error).message};
      }
      const parsed = parseNormalizedNamed(image);
      const repository = parsed.repository;
      if (!isLoopback(parsed.domain)) {
        // The test world never leaves the machine: a registry elsewhere is unreachable, as on an offline node.
        const host = parsed.domain === `docker.io` ? `registry-1.docker.io` : parsed.domain;
        const manifest = `https://${host}/v2/${repository.slice(repository.indexOf(`/`) + 1)}/manifests/${parsed.digest ?? parsed.tag ?? `latest`}`;
        return {error: `rpc error: code = Unknown desc = failed to pull and unpack image "${image}": failed to resolve reference "${image}": failed to do request: Head "${manifest}": dial tcp: lookup ${host.replace(/:\d+$/, ``)}: no such host`};
      }
      const creds = keyring.lookup(repository);
      const attempts = creds.length === 0 ? [undefined] : creds;
      const errors: string[] = [];
      for (const cred of attempts) {
        if (stopped)
          return {error: `node stopped`};
        try {
          const ref = await containerd.pull(image, cred ? {username: cred.username, password: cred.password} : undefined);
          const record = pulledRecords.get(ref) ?? {anonymous: false, hashes: new Set<string>(), secrets: new Set<string>()};
          if (cred) {
            record.hashes.add(credentialHash(cred.username, cred.password));
            if (cred.secret)
              record.secrets.add(cred.secret);
          } else {
            record.anonymous = true;
          }
          pulledRecords.set(ref, record);
          pulls.push({pod: `${pod.metadata.namespace}/${pod.metadata.name}`, image: task.image, ...(cred ? {username: cred.username} : {}), ok: true});
          return {ref};
        } catch (error) {
          const message = (error as Error).message;
          pulls.push({pod: `${pod.metadata.namespace}/${pod.metadata.name}`, image: task.image, ...(cred ? {username: cred.username} : {}), ok: false, error: message});
          errors.push(message);
        }
      }
      return {error: aggregate(errors)};
    });
    if (`error` in result) {
      event(pod, task.fieldPath, `Warning`, `Failed`, `Failed to pull image "${task.image}": ${result.error}`);
      event(pod, task.fieldPath, `Warning`, `Failed`, `Error: ErrImagePull`);
      return {state: `failed`, reason: `ErrImagePull`, message: result.error};
    }
    const ms = Date.now() - started;
    const status = await containerd.imageStatus(image).catch(() => undefined);
    event(pod, task.fieldPath, `Normal`, `Pulled`, `Successfully pulled image "${task.image}" in ${ms}ms (${ms}ms including waiting). Image size: ${status ? `${status.size}` : `0`} bytes.`);
    return {state: `pulled`, imageRef: result.ref, imageId: status?.repoDigests[0] ?? result.ref};
  };

  const containerId = (worker: Worker, name: string) => `containerd://${crypto.createHash(`sha256`).update(`${worker.uid}/${name}`).digest(`hex`)}`;

  /** Writes the pod status the kubelet would report now. */
  const writeStatus = (pod: any, worker: Worker, tasks: ImageTask[]) => {
    const now = timestamp(api.now());
    const waitingFor = (task: ImageTask) => {
      const f = worker.failures.get(task.image);
      if (!f)
        return undefined;
      return f.backOffShown && f.reason === `ErrImagePull` ? {reason: `ImagePullBackOff`, message: `Back-off pulling image "${task.image}"`} : {reason: f.reason, message: f.message};
    };
    const volumeFailure = tasks.filter(t => t.kind === `volume`).map(waitingFor).find(w => w !== undefined);
    const inits = tasks.filter(t => t.kind === `init`);
    const initsDone = inits.every(t => worker.initDone.has(t.name));
    let blocked = false;
    const initStatuses = inits.map(t => {
      const done = worker.initDone.has(t.name);
      const pulled = worker.done.get(t.image);
      const waiting = blocked ? {reason: `PodInitializing`} : volumeFailure ?? waitingFor(t) ?? (done ? undefined : {reason: `PodInitializing`});
      if (!done)
        blocked = true;
      return {
        name: t.name, image: t.image, imageID: pulled && done ? pulled.imageId : ``, ready: done, restartCount: 0, started: false,
        state: done ? {terminated: {exitCode: 0, reason: `Completed`, startedAt: worker.startedAt, finishedAt: worker.startedAt, containerID: containerId(worker, t.name)}} : {waiting},
        lastState: {},
        ...(done ? {containerID: containerId(worker, t.name)} : {}),
      };
    });
    const containerStatuses = tasks.filter(t => t.kind === `container`).map(t => {
      const pulled = worker.done.get(t.image);
      const failure = volumeFailure ?? waitingFor(t);
      const running = initsDone && pulled !== undefined && failure === undefined;
      const waiting = !initsDone ? {reason: `PodInitializing`} : failure ?? {reason: `ContainerCreating`};
      return {
        name: t.name, image: t.image, imageID: running ? pulled!.imageId : ``, ready: running, restartCount: 0, started: running,
        state: running ? {running: {startedAt: worker.startedAt}} : {waiting},
        lastState: {},
        ...(running ? {containerID: containerId(worker, t.name)} : {}),
      };
    });
    const allRunning = containerStatuses.length > 0 && containerStatuses.every(s => s.ready);
    const notReady = containerStatuses.filter(s => !s.ready).map(s => s.name);
    const old = pod.status ?? {};
    const since = (type: string, status: string) => {
      const prev = (old.conditions ?? []).find((c: any) => c.type === type);
      return prev && prev.status === status ? prev.lastTransitionTime : now;
    };
    const condition = (type: string, ok: boolean, extra: any = {}) => ({type, status: ok ? `True` : `False`, lastProbeTime: null, lastTransitionTime: since(type, ok ? `True` : `False`), ...(ok ? {} : extra)});
    const status = {
      phase: allRunning ? `Running` : `Pending`,
      conditions: [
        condition(`PodReadyToStartContainers`, true),
        condition(`Initialized`, initsDone, {reason: `ContainersNotInitialized`, message: `containers with incomplete status: [${inits.filter(t => !worker.initDone.has(t.name)).map(t => t.name).join(` `)}]`}),
        condition(`Ready`, allRunning, {reason: `ContainersNotReady`, message: `containers with unready status: [${notReady.join(` `)}]`}),
        condition(`ContainersReady`, allRunning, {reason: `ContainersNotReady`, message: `containers with unready status: [${notReady.join(` `)}]`}),
        {type: `PodScheduled`, status: `True`, lastProbeTime: null, lastTransitionTime: (old.conditions ?? []).find((c: any) => c.type === `PodScheduled`)?.lastTransitionTime ?? worker.startedAt},
      ],
      hostIP: HOST_IP,
      hostIPs: [{ip: HOST_IP}],
      podIP: worker.podIP,
      podIPs: [{ip: worker.podIP}],
      startTime: worker.startedAt,
      ...(initStatuses.length > 0 ? {initContainerStatuses: initStatuses} : {}),
      containerStatuses,
      qosClass: old.qosClass ?? `BestEffort`,
    };
    const current = api.get(`pods`, pod.metadata.namespace, pod.metadata.name);
    if (current?.metadata.uid !== worker.uid)
      return;
    api.updateStatus(`pods`, pod.metadata.namespace, pod.metadata.name, status, KUBELET);
    worker.running = allRunning;
  };

  const sync = async (worker: Worker) => {
    if (stopped)
      return;
    if (worker.syncing) {
      worker.resyncRequested = true;
      return;
    }
    worker.syncing = true;
    try {
      const pod = api.get(`pods`, worker.namespace, worker.name);
      if (!pod || pod.metadata.uid !== worker.uid) {
        workers.delete(worker.uid);
        return;
      }
      const tasks = tasksOf(pod);
      let keyring: Keyring | undefined;
      let keyringError: Error | undefined;
      let keyringBuilt = false;
      const keyringOrError = () => {
        if (!keyringBuilt) {
          keyringBuilt = true;
          try {
            keyring = buildKeyring(pod);
          } catch (error) {
            keyringError = error as Error;
          }
        }
        if (keyringError)
          throw keyringError;
        return keyring!;
      };
      let initBlocked = false;
      for (const task of tasks) {
        if (stopped)
          return;
        if (task.kind === `init` && initBlocked)
          continue;
        if (task.kind === `container` && (initBlocked || tasks.some(t => t.kind === `volume` && !worker.done.has(t.image))))
          continue;
        if (!worker.done.has(task.image)) {
          const failure = worker.failures.get(task.image);
          if (failure && Date.now() < failure.retryAt) {
            if (failure.reason === `ErrImagePull`) {
              failure.backOffShown = true;
              event(pod, task.fieldPath, `Normal`, `BackOff`, `Back-off pulling image "${task.image}"`);
              event(pod, task.fieldPath, `Warning`, `Failed`, `Error: ImagePullBackOff`);
            }
            if (task.kind === `init`)
              initBlocked = true;
            continue;
          }
          const result = await ensureImage(pod, task, keyringOrError);
          if (result.state === `pulled`) {
            worker.done.set(task.image, {imageRef: result.imageRef, imageId: result.imageId});
            worker.failures.delete(task.image);
          } else {
            const delayMs = failure ? Math.min(maxMs, failure.delayMs * 2) : initialMs;
            worker.failures.set(task.image, {reason: result.reason, message: result.message, retryAt: Date.now() + delayMs, delayMs, backOffShown: false});
            if (task.kind === `init`)
              initBlocked = true;
            continue;
          }
        }
        if (task.kind === `init` && !worker.initDone.has(task.name)) {
          event(pod, task.fieldPath, `Normal`, `Created`, `Created container: ${task.name}`);
          event(pod, task.fieldPath, `Normal`, `Started`, `Started container ${task.name}`);
          worker.initDone.add(task.name);
        } else if (task.kind === `container` && !worker.running) {
          const wasRunning = (pod.status?.containerStatuses ?? []).some((s: any) => s.name === task.name && s.state?.running);
          if (!wasRunning) {
            event(pod, task.fieldPath, `Normal`, `Created`, `Created container: ${task.name}`);
            event(pod, task.fieldPath, `Normal`, `Started`, `Started container ${task.name}`);
          }
        }
      }
      const fresh = api.get(`pods`, worker.namespace, worker.name);
      if (!fresh || fresh.metadata.uid !== worker.uid || stopped)
        return;
      writeStatus(fresh, worker, tasks);
      // Next sync: soon, to show ImagePullBackOff after an ErrImagePull, then when the earliest back-off ends.
      const pending = [...worker.failures.values()];
      if (pending.length > 0) {
        const untilRetry = Math.max(0, Math.min(...pending.map(f => f.retryAt)) - Date.now());
        const toShow = pending.some(f => f.reason === `ErrImagePull` && !f.backOffShown);
        clearTimeout(worker.timer);
        worker.timer = setTimeout(() => void sync(worker), toShow ? Math.min(resyncMs, untilRetry) : untilRetry);
      }
    } catch (error) {
      if (!stopped)
        process.emitWarning(`test node: ${(error as Error).stack ?? error}`);
    } finally {
      worker.syncing = false;
      for (const notify of waiters)
        notify();
      if (worker.resyncRequested && !stopped) {
        worker.resyncRequested = false;
        setImmediate(() => void sync(worker));
      }
    }
  };

  const consider = (pod: any) => {
    if (stopped || pod.spec?.nodeName !== nodeName || pod.metadata.deletionTimestamp)
      return;
    if (workers.has(pod.metadata.uid))
      return;
    const statuses = pod.status?.containerStatuses ?? [];
    // Containers the node already runs (a seeded Running pod) are left alone, as a restarted kubelet would.
    if (statuses.length > 0 && statuses.every((s: any) => s.state?.running && s.containerID))
      return;
    const ip = `10.244.0.${(parseInt(pod.metadata.uid.slice(0, 2), 16) % 250) + 2}`;
    const worker: Worker = {uid: pod.metadata.uid, namespace: pod.metadata.namespace, name: pod.metadata.name, done: new Map(), failures: new Map(), initDone: new Set(), startedAt: timestamp(api.now()), podIP: ip, syncing: false, resyncRequested: false, running: false};
    workers.set(worker.uid, worker);
    void sync(worker);
  };

  const unsubscribe = api.onChange(event => {
    if (event.resource === `pods`) {
      if (event.type === `DELETED`) {
        const worker = workers.get(event.object.metadata.uid);
        if (worker) {
          clearTimeout(worker.timer);
          workers.delete(worker.uid);
        }
      } else {
        consider(api.get(`pods`, event.object.metadata.namespace, event.object.metadata.name) ?? event.object);
      }
    }
    for (const notify of waiters)
      notify();
  });
  for (const pod of api.list(`pods`))
    consider(pod);

  const matching = (selector: PodSelector) => api.list(`pods`, selector.namespace).filter(p =>
    (selector.name === undefined || p.metadata.name === selector.name)
    && Object.entries(selector.labels ?? {}).every(([k, v]) => p.metadata.labels?.[k] === v));

  return {
    name: nodeName,
    pulls,
    waitForPods(selector, states, opts = {}) {
      const wanted = Array.isArray(states) ? states : [states];
      const timeoutMs = opts.timeoutMs ?? 30_000;
      return new Promise((resolve, reject) => {
        const check = () => {
          const pods = matching(selector);
          if (pods.length > 0 && pods.every(p => wanted.includes(podState(p)))) {
            cleanup();
            resolve(pods.map(p => structuredClone(p)));
          }
        };
        const timer = setTimeout(() => {
          cleanup();
          const pods = matching(selector);
          reject(new Error(`timed out after ${timeoutMs} ms waiting for pods ${JSON.stringify(selector)} to be ${wanted.join(` or `)}; now: ${pods.length === 0 ? `no pod` : pods.map(p => `${p.metadata.name}=${podState(p)}`).join(`, `)}`));
        }, timeoutMs);
        const cleanup = () => {
          clearTimeout(timer);
          waiters.delete(check);
        };
        waiters.add(check);
        check();
      });
    },
    async stop() {
      stopped = true;
      unsubscribe();
      for (const worker of workers.values())
        clearTimeout(worker.timer);
      workers.clear();
      await pullQueue;
    },
  };
}
