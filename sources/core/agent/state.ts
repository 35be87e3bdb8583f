/**
 * What the agent knows about the cluster, kept up to date from list + watch: namespaces, the source
 * secrets that declare a sync policy, the managed copies, and each ServiceAccount's pull-secret names.
 * Applying an event returns the namespaces whose desired state may have changed, so the runner queues
 * only those. Pure data and decisions: the runner does the I/O.
 *
 * Only what reconciling needs is kept (a ServiceAccount as its pull-secret names, secrets only when they
 * are sources or managed copies), so memory grows with the objects the agent manages, not with the cluster.
 */
import type {KubeObject} from '../ports.ts';
import {IGNORE_ANNOTATION, MANAGED_BY_LABEL, MANAGED_BY_VALUE, SOURCE_ANNOTATION} from '../secrets/metadata.ts';
import {matchesGlob} from '../scope.ts';
import {classifyCopy} from '../sync/plan.ts';
import {recordedPolicy} from '../sync/policy.ts';
import type {SyncPolicy} from '../sync/policy.ts';
import {compileSelector} from './selector.ts';

/** A source secret and the policy it declares. */
export type KeptSource = {key: string; secret: KubeObject; policy: SyncPolicy};

/** Which namespaces an event may have changed: some by name, or every namespace. */
export type Affected = {namespaces: string[]} | {all: true};

const key = (namespace: string | undefined, name: string) => `${namespace ?? ``}/${name}`;

/** The cached view. */
export class AgentState {
  readonly namespaces = new Map<string, KubeObject>();
  readonly sources = new Map<string, KeptSource>();
  /** Managed copies by `<namespace>/<name>`. */
  readonly copies = new Map<string, KubeObject>();
  /** ServiceAccounts by `<namespace>/<name>`: their pull-secret names (null: no imagePullSecrets field) and resourceVersion. */
  readonly serviceAccounts = new Map<string, {names: string[] | null; resourceVersion?: string}>();
  /** Sources whose policy annotation cannot be read, with the reason (reported, never acted on). */
  readonly invalidPolicies = new Map<string, string>();

  /** Replaces everything known of one kind after a (re)list; returns every namespace as affected. */
  replace(kind: `namespaces` | `secrets` | `serviceaccounts`, items: KubeObject[]): Affected {
    if (kind === `namespaces`)
      this.namespaces.clear();
    else if (kind === `secrets`) {
      this.sources.clear();
      this.copies.clear();
      this.invalidPolicies.clear();
    } else {
      this.serviceAccounts.clear();
    }
    for (const item of items)
      this.apply(kind, `ADDED`, item);
    return {all: true};
  }

  /** Applies one watch event. */
  apply(kind: `namespaces` | `secrets` | `serviceaccounts`, type: `ADDED` | `MODIFIED` | `DELETED`, object: KubeObject): Affected {
    const namespace = object.metadata.namespace;
    const name = object.metadata.name;
    if (kind === `namespaces`) {
      if (type === `DELETED`)
        this.namespaces.delete(name);
      else
        this.namespaces.set(name, {metadata: {name, labels: object.metadata.labels, annotations: pick(object.metadata.annotations, IGNORE_ANNOTATION)}, status: object.status});
      return {namespaces: [name]};
    }
    if (kind === `serviceaccounts`) {
      const id = key(namespace, name);
      const before = this.serviceAccounts.get(id);
      if (type === `DELETED`) {
        this.serviceAccounts.delete(id);
      } else {
        const refs = (object as {imagePullSecrets?: Array<{name?: string}>}).imagePullSecrets;
        this.serviceAccounts.set(id, {names: refs === undefined ? null : refs.map(ref => ref.name ?? ``), resourceVersion: object.metadata.resourceVersion});
      }
      // A ServiceAccount changing its own list (not a new one, and not losing ours) needs nothing.
      const after = this.serviceAccounts.get(id);
      return before !== undefined && after !== undefined && (before.names ?? []).length <= (after.names ?? []).length ? {namespaces: []} : {namespaces: [namespace ?? ``]};
    }
    const id = key(namespace, name);
    const wasSource = this.sources.get(id);
    this.invalidPolicies.delete(id);
    if (type === `DELETED`) {
      this.sources.delete(id);
      this.copies.delete(id);
      return wasSource ? {all: true} : {namespaces: [namespace ?? ``]};
    }
    const recorded = recordedPolicy(object);
    if (recorded.state === `ok`) {
      this.sources.set(id, {key: id, secret: object, policy: recorded.policy});
      // A changed source (content or policy) may change every namespace's desired state.
      return {all: true};
    }
    if (recorded.state === `invalid`)
      this.invalidPolicies.set(id, recorded.reason);
    this.sources.delete(id);
    if (object.metadata.labels?.[MANAGED_BY_LABEL] === MANAGED_BY_VALUE && object.metadata.annotations?.[SOURCE_ANNOTATION] !== undefined)
      this.copies.set(id, object);
    else
      this.copies.delete(id);
    return wasSource ? {all: true} : {namespaces: [namespace ?? ``]};
  }

  /** Whether a source's policy selects a namespace now (scope, excludes, ignore annotation, phase, never its own namespace). */
  selects(source: KeptSource, namespace: string): boolean {
    const object = this.namespaces.get(namespace);
    if (object === undefined || namespace === source.secret.metadata.namespace)
      return false;
    const {policy} = source;
    if (policy.exclude.some(glob => matchesGlob(glob, namespace)))
      return false;
    if ((object as {status?: {phase?: string}}).status?.phase === `Terminating`)
      return false;
    const named = policy.namespaces.kind === `list` && policy.namespaces.names.includes(namespace);
    // -n / --namespaces name a namespace explicitly; the ignore annotation opts out of the bulk scopes only.
    if (!named && object.metadata.annotations?.[IGNORE_ANNOTATION] === `true`)
      return false;
    switch (policy.namespaces.kind) {
      case `all`:
        return true;
      case `list`:
        return named;
      case `selector`:
        return compileSelector(policy.namespaces.selector)(object.metadata.labels);
    }
  }

  /** True when a namespace already holds a current copy of the source and every targeted ServiceAccount that exists references it. */
  isCurrent(source: KeptSource, namespace: string): boolean {
    const name = source.secret.metadata.name;
    const copy = this.copies.get(key(namespace, name)) ?? null;
    if (classifyCopy(copy, source.secret) !== `current`)
      return false;
    const attach = source.policy.attach;
    if (attach === null)
      return true;
    const names = attach === `default` ? [`default`] : attach === `all` ? this.serviceAccountNames(namespace) : attach;
    return names.every(sa => {
      const known = this.serviceAccounts.get(key(namespace, sa));
      return known === undefined || (known.names ?? []).includes(name);
    });
  }

  /** Records the pull-secret names a write just gave a ServiceAccount (its watch event follows). */
  noteServiceAccount(namespace: string, name: string, names: string[]): void {
    const id = key(namespace, name);
    this.serviceAccounts.set(id, {names: [...names], resourceVersion: this.serviceAccounts.get(id)?.resourceVersion});
  }

  /**
   * The ServiceAccounts of a namespace as attach reads them (name, resourceVersion, imagePullSecrets), from the
   * cache: attach then sends its guarded patch without reading them again (a stale entry fails the guard and is re-read).
   */
  serviceAccountObjects(namespace: string): KubeObject[] {
    const prefix = `${namespace}/`;
    const objects: KubeObject[] = [];
    for (const [id, known] of this.serviceAccounts) {
      if (!id.startsWith(prefix))
        continue;
      objects.push({apiVersion: `v1`, kind: `ServiceAccount`, metadata: {name: id.slice(prefix.length), namespace, ...(known.resourceVersion === undefined ? {} : {resourceVersion: known.resourceVersion})}, ...(known.names === null ? {} : {imagePullSecrets: known.names.map(name => ({name}))})});
    }
    return objects;
  }

  /** The names of the ServiceAccounts known in a namespace. */
  serviceAccountNames(namespace: string): string[] {
    const prefix = `${namespace}/`;
    return [...this.serviceAccounts.keys()].filter(id => id.startsWith(prefix)).map(id => id.slice(prefix.length));
  }

  /** The copy of a source in a namespace, as last seen (null: none). */
  copyIn(namespace: string, name: string): KubeObject | null {
    return this.copies.get(key(namespace, name)) ?? null;
  }
}

function pick(annotations: Record<string, string> | undefined, name: string): Record<string, string> | undefined {
  return annotations?.[name] === undefined ? undefined : {[name]: annotations[name]!};
}
