/**
 * `as=Table` responses (what `kubectl get` asks for), with the columns the real server's
 * printers define for the resources the product shows.
 */
import type {ResourceDef} from './discovery.ts';

type Column = {name: string; type: string; format: string; description: string; priority: number};

const col = (name: string, type = `string`, priority = 0, format = ``): Column => ({name, type, format, description: name === `Name` ? `Name must be unique within a namespace. Is required when creating resources, although some resources may allow a client to request the generation of an appropriate name automatically. Name is primarily intended for creation idempotence and configuration definition. Cannot be updated. More info: https://kubernetes.io/docs/concepts/overview/working-with-objects/names#names` : name, priority});

const NAME = col(`Name`, `string`, 0, `name`);
const AGE = col(`Age`);

/** Go's duration.HumanDuration, as printed in AGE columns. */
export function humanDuration(ms: number): string {
  const seconds = Math.floor(ms / 1000);
  if (seconds < -1) return `<invalid>`;
  if (seconds < 0) return `0s`;
  if (seconds < 120) return `${seconds}s`;
  const minutes = Math.floor(seconds / 60);
  if (minutes < 10) return seconds % 60 === 0 ? `${minutes}m` : `${minutes}m${seconds % 60}s`;
  if (minutes < 180) return `${minutes}m`;
  const hours = Math.floor(minutes / 60);
  if (hours < 8) return minutes % 60 === 0 ? `${hours}h` : `${hours}h${minutes % 60}m`;
  if (hours < 48) return `${hours}h`;
  if (hours < 24 * 8) return hours % 24 === 0 ? `${Math.floor(hours / 24)}d` : `${Math.floor(hours / 24)}d${hours % 24}h`;
  if (hours < 24 * 365 * 2) return `${Math.floor(hours / 24)}d`;
  if (hours < 24 * 365 * 8) {
    const days = Math.floor(hours / 24) % 365;
    return days === 0 ? `${Math.floor(hours / 24 / 365)}y` : `${Math.floor(hours / 24 / 365)}y${days}d`;
  }
  return `${Math.floor(hours / 24 / 365)}y`;
}

/** The STATUS column as kubectl's pod printer computes it: the first unfinished init container, else the containers. */
function podStatus(pod: any): {ready: string; status: string; restarts: number} {
  const statuses: any[] = pod.status?.containerStatuses ?? [];
  const total = pod.spec?.containers?.length ?? 0;
  const ready = statuses.filter(s => s.ready && s.state?.running).length;
  let reason: string = pod.status?.reason ?? pod.status?.phase ?? `Pending`;
  let restarts = 0;
  let initializing = false;
  const inits: any[] = pod.status?.initContainerStatuses ?? [];
  for (let i = 0; i < inits.length; i++) {
    const s = inits[i];
    restarts += s.restartCount ?? 0;
    if (s.state?.terminated && s.state.terminated.exitCode === 0)
      continue;
    if (s.state?.terminated)
      reason = s.state.terminated.reason ? `Init:${s.state.terminated.reason}` : s.state.terminated.signal ? `Init:Signal:${s.state.terminated.signal}` : `Init:ExitCode:${s.state.terminated.exitCode}`;
    else if (s.state?.waiting?.reason && s.state.waiting.reason !== `PodInitializing`)
      reason = `Init:${s.state.waiting.reason}`;
    else
      reason = `Init:${i}/${pod.spec?.initContainers?.length ?? inits.length}`;
    initializing = true;
    break;
  }
  const initialized = (pod.status?.conditions ?? []).some((c: any) => c.type === `Initialized` && c.status === `True`);
  if (!initializing || initialized) {
    restarts = 0;
    for (const s of [...statuses].reverse()) {
      restarts += s.restartCount ?? 0;
      if (s.state?.waiting?.reason)
        reason = s.state.waiting.reason;
      else if (s.state?.terminated?.reason)
        reason = s.state.terminated.reason;
    }
  }
  if (pod.metadata?.deletionTimestamp)
    reason = `Terminating`;
  return {ready: `${ready}/${total}`, status: reason, restarts};
}

function containersOf(spec: any): {names: string; images: string} {
  const cs: any[] = spec?.containers ?? [];
  return {names: cs.map(c => c.name).join(`,`), images: cs.map(c => c.image).join(`,`)};
}

function selectorString(sel: any): string {
  const parts = Object.entries(sel?.matchLabels ?? {}).map(([k, v]) => `${k}=${v}`);
  return parts.length ? parts.join(`,`) : `<none>`;
}

type Printer = {columns: Column[]; cells: (obj: any, age: string) => unknown[]};

const PRINTERS: Record<string, Printer> = {
  namespaces: {columns: [NAME, col(`Status`), AGE], cells: (o, age) => [o.metadata.name, o.status?.phase ?? ``, age]},
  secrets: {columns: [NAME, col(`Type`), col(`Data`, `integer`), AGE], cells: (o, age) => [o.metadata.name, o.type ?? ``, Object.keys(o.data ?? {}).length, age]},
  serviceaccounts: {columns: [NAME, col(`Secrets`, `integer`), AGE], cells: (o, age) => [o.metadata.name, (o.secrets ?? []).length, age]},
  leases: {columns: [NAME, col(`Holder`), AGE], cells: (o, age) => [o.metadata.name, o.spec?.holderIdentity ?? ``, age]},
  pods: {
    columns: [NAME, col(`Ready`), col(`Status`), col(`Restarts`, `string`), AGE, col(`IP`, `string`, 1), col(`Node`, `string`, 1), col(`Nominated Node`, `string`, 1), col(`Readiness Gates`, `string`, 1)],
    cells: (o, age) => {
      const s = podStatus(o);
      return [o.metadata.name, s.ready, s.status, String(s.restarts), age, o.status?.podIP ?? `<none>`, o.spec?.nodeName ?? `<none>`, o.status?.nominatedNodeName ?? `<none>`, `<none>`];
    },
  },
  deployments: {
    columns: [NAME, col(`Ready`), col(`Up-to-date`, `integer`), col(`Available`, `integer`), AGE, col(`Containers`, `string`, 1), col(`Images`, `string`, 1), col(`Selector`, `string`, 1)],
    cells: (o, age) => {
      const c = containersOf(o.spec?.template?.spec);
      return [o.metadata.name, `${o.status?.readyReplicas ?? 0}/${o.spec?.replicas ?? 0}`, o.status?.updatedReplicas ?? 0, o.status?.availableReplicas ?? 0, age, c.names, c.images, selectorString(o.spec?.selector)];
    },
  },
  statefulsets: {
    columns: [NAME, col(`Ready`), AGE, col(`Containers`, `string`, 1), col(`Images`, `string`, 1)],
    cells: (o, age) => {
      const c = containersOf(o.spec?.template?.spec);
      return [o.metadata.name, `${o.status?.readyReplicas ?? 0}/${o.spec?.replicas ?? 0}`, age, c.names, c.images];
    },
  },
  daemonsets: {
    columns: [NAME, col(`Desired`, `integer`), col(`Current`, `integer`), col(`Ready`, `integer`), col(`Up-to-date`, `integer`), col(`Available`, `integer`), col(`Node Selector`), AGE, col(`Containers`, `string`, 1), col(`Images`, `string`, 1), col(`Selector`, `string`, 1)],
    cells: (o, age) => {
      const c = containersOf(o.spec?.template?.spec);
      const s = o.status ?? {};
      const ns = Object.entries(o.spec?.template?.spec?.nodeSelector ?? {}).map(([k, v]) => `${k}=${v}`).join(`,`) || `<none>`;
      return [o.metadata.name, s.desiredNumberScheduled ?? 0, s.currentNumberScheduled ?? 0, s.numberReady ?? 0, s.updatedNumberScheduled ?? 0, s.numberAvailable ?? 0, ns, age, c.names, c.images, selectorString(o.spec?.selector)];
    },
  },
  replicasets: {
    columns: [NAME, col(`Desired`, `integer`), col(`Current`, `integer`), col(`Ready`, `integer`), AGE, col(`Containers`, `string`, 1), col(`Images`, `string`, 1), col(`Selector`, `string`, 1)],
    cells: (o, age) => {
      const c = containersOf(o.spec?.template?.spec);
      return [o.metadata.name, o.spec?.replicas ?? 0, o.status?.replicas ?? 0, o.status?.readyReplicas ?? 0, age, c.names, c.images, selectorString(o.spec?.selector)];
    },
  },
  replicationcontrollers: {
    columns: [NAME, col(`Desired`, `integer`), col(`Current`, `integer`), col(`Ready`, `integer`), AGE],
    cells: (o, age) => [o.metadata.name, o.spec?.replicas ?? 0, o.status?.replicas ?? 0, o.status?.readyReplicas ?? 0, age],
  },
  jobs: {
    columns: [NAME, col(`Status`), col(`Completions`), col(`Duration`), AGE, col(`Containers`, `string`, 1), col(`Images`, `string`, 1)],
    cells: (o, age) => {
      const c = containersOf(o.spec?.template?.spec);
      const done = (o.status?.conditions ?? []).some((x: any) => x.type === `Complete` && x.status === `True`);
      return [o.metadata.name, done ? `Complete` : `Running`, `${o.status?.succeeded ?? 0}/${o.spec?.completions ?? 1}`, ``, age, c.names, c.images];
    },
  },
  cronjobs: {
    columns: [NAME, col(`Schedule`), col(`Timezone`), col(`Suspend`, `boolean`), col(`Active`, `integer`), col(`Last Schedule`), AGE, col(`Containers`, `string`, 1), col(`Images`, `string`, 1)],
    cells: (o, age) => {
      const c = containersOf(o.spec?.jobTemplate?.spec?.template?.spec);
      return [o.metadata.name, o.spec?.schedule ?? ``, o.spec?.timeZone ?? `<none>`, o.spec?.suspend ?? false, (o.status?.active ?? []).length, `<none>`, age, c.names, c.images];
    },
  },
  events: {
    columns: [col(`Last Seen`), col(`Type`), col(`Reason`), col(`Object`), col(`Subobject`, `string`, 1), col(`Source`, `string`, 1), col(`Message`), col(`First Seen`, `string`, 1), col(`Count`, `string`, 1), col(`Name`, `string`, 1)],
    cells: (o, age) => [age, o.type ?? ``, o.reason ?? ``, `${(o.involvedObject?.kind ?? ``).toLowerCase()}/${o.involvedObject?.name ?? ``}`, o.involvedObject?.fieldPath ?? ``, o.source?.component ?? ``, o.message ?? ``, age, o.count ?? 1, o.metadata.name],
  },
};

/** True when the Accept header asks for a meta.k8s.io Table. */
export function wantsTable(accept: string | undefined): boolean {
  return !!accept && /as=Table/.test(accept) && /g=meta\.k8s\.io/.test(accept);
}

/** Converts objects to a Table (`includeObject`: None | Metadata (default) | Object). */
export function toTable(def: ResourceDef, objects: any[], listMeta: any, includeObject: string | null, now: Date): any {
  const printer = PRINTERS[def.resource] ?? {columns: [NAME, col(`Created At`, `date`)], cells: (o: any) => [o.metadata.name, o.metadata.creationTimestamp]};
  const rows = objects.map(o => {
    const created = o.metadata.creationTimestamp ? Date.parse(o.metadata.creationTimestamp) : now.getTime();
    const age = humanDuration(now.getTime() - created);
    const row: any = {cells: printer.cells(o, age)};
    if (includeObject === `Object`) {
      row.object = {kind: def.kind, apiVersion: def.group ? `${def.group}/${def.version}` : def.version, ...o};
    } else if (includeObject !== `None`) {
      const {managedFields, ...metadata} = o.metadata;
      row.object = {kind: `PartialObjectMetadata`, apiVersion: `meta.k8s.io/v1`, metadata};
    }
    return row;
  });
  return {kind: `Table`, apiVersion: `meta.k8s.io/v1`, metadata: listMeta, columnDefinitions: printer.columns, rows};
}
