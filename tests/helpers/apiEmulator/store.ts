/**
 * The emulator's object store: one Map per resource keyed `<namespace>/<name>` (or `<name>`),
 * a global monotonically increasing resourceVersion, and key-ordered paginated lists that walk
 * a lazily sorted key index (no copy of the world per page).
 *
 * Stored objects are treated as immutable: every write stores a new object, so lists and
 * responses can serialize stored objects directly without cloning.
 */
import {EventEmitter} from 'node:events';
import type {Matcher} from './selectors.ts';

export type WatchEvent = {type: `ADDED` | `MODIFIED` | `DELETED`; resource: string; object: any};

/** How many past events the store keeps for watches that resume from a resourceVersion (etcd's watch cache is similar). */
const HISTORY_LIMIT = 20_000;

class ResourceTable {
  readonly byKey = new Map<string, any>();
  private sorted: string[] | null = [];

  set(key: string, obj: any): void {
    if (!this.byKey.has(key))
      this.sorted = null;
    this.byKey.set(key, obj);
  }

  delete(key: string): boolean {
    const had = this.byKey.delete(key);
    if (had)
      this.sorted = null;
    return had;
  }

  keys(): string[] {
    if (this.sorted === null)
      this.sorted = [...this.byKey.keys()].sort(compareKeys);
    return this.sorted;
  }
}

/** Byte-wise order, like etcd keys. */
function compareKeys(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}

function lowerBound(keys: string[], target: string): number {
  let lo = 0;
  let hi = keys.length;
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    if (keys[mid]! < target)
      lo = mid + 1;
    else
      hi = mid;
  }
  return lo;
}

export type ListQuery = {
  namespace?: string;
  /** Restrict to one name (from `fieldSelector=metadata.name=`), skipping the scan. */
  name?: string;
  matches?: Matcher;
  limit?: number;
  /** Exclusive start key from a continue token. */
  startAfter?: string;
};

export type ListPage = {items: any[]; nextStartAfter?: string; remainingItemCount?: number};

/** Holds every object; the REST layer (rest.ts) enforces API semantics on top. */
export class Store {
  private rv = 1000;
  private readonly tables = new Map<string, ResourceTable>();
  readonly events = new EventEmitter();
  /** Recent events in resourceVersion order, for watches resuming from a resourceVersion. */
  private readonly history: WatchEvent[] = [];
  /** Events at or below this resourceVersion are gone (compaction, or the history limit). */
  private oldestKeptRv = 1000;

  constructor() {
    this.events.setMaxListeners(0);
  }

  private record(event: WatchEvent): void {
    this.history.push(event);
    if (this.history.length > HISTORY_LIMIT) {
      const dropped = this.history.splice(0, this.history.length - HISTORY_LIMIT);
      this.oldestKeptRv = Number(dropped.at(-1)!.object.metadata.resourceVersion);
    }
    this.events.emit(`change`, event);
  }

  /**
   * The events of `resource` after resourceVersion `rv`, or `gone` when some of them were compacted away
   * (a watch from there must get 410 Gone, as from etcd).
   */
  eventsSince(resource: string, rv: number): WatchEvent[] | `gone` {
    if (rv < this.oldestKeptRv)
      return `gone`;
    return this.history.filter(event => event.resource === resource && Number(event.object.metadata.resourceVersion) > rv);
  }

  /** Forgets every event so far: watches from an earlier resourceVersion get 410 Gone (`api.compact()`). */
  compactHistory(): void {
    this.history.length = 0;
    this.oldestKeptRv = this.rv;
  }

  /** Allocates the next resourceVersion. */
  nextResourceVersion(): string {
    return String(++this.rv);
  }

  /** The latest resourceVersion handed out (what a list reports). */
  currentResourceVersion(): string {
    return String(this.rv);
  }

  private table(resource: string): ResourceTable {
    let t = this.tables.get(resource);
    if (!t) {
      t = new ResourceTable();
      this.tables.set(resource, t);
    }
    return t;
  }

  static key(namespace: string | undefined, name: string): string {
    return namespace ? `${namespace}/${name}` : name;
  }

  /** The stored object (do not mutate it). */
  get(resource: string, namespace: string | undefined, name: string): any | undefined {
    return this.tables.get(resource)?.byKey.get(Store.key(namespace, name));
  }

  /** Stores an object that already carries its new resourceVersion. */
  put(resource: string, obj: any): void {
    const key = Store.key(obj.metadata.namespace, obj.metadata.name);
    const t = this.table(resource);
    const existed = t.byKey.has(key);
    t.set(key, obj);
    this.record({type: existed ? `MODIFIED` : `ADDED`, resource, object: obj});
  }

  /** Removes an object; returns it, or undefined when absent. */
  remove(resource: string, namespace: string | undefined, name: string): any | undefined {
    const t = this.tables.get(resource);
    const key = Store.key(namespace, name);
    const obj = t?.byKey.get(key);
    if (obj === undefined)
      return undefined;
    t!.delete(key);
    // The deletion has its own resourceVersion, as in etcd: a watch resuming after it does not see it again.
    this.record({type: `DELETED`, resource, object: {...obj, metadata: {...obj.metadata, resourceVersion: this.nextResourceVersion()}}});
    return obj;
  }

  /** Number of stored objects of a resource. */
  count(resource: string): number {
    return this.tables.get(resource)?.byKey.size ?? 0;
  }

  /** Resources that have a table. */
  resources(): string[] {
    return [...this.tables.keys()];
  }

  /** One page of a key-ordered list. */
  list(resource: string, query: ListQuery): ListPage {
    const t = this.tables.get(resource);
    if (!t)
      return {items: []};
    if (query.name !== undefined) {
      const obj = query.namespace !== undefined ? t.byKey.get(Store.key(query.namespace, query.name)) : undefined;
      const candidates = obj !== undefined ? [obj] : query.namespace !== undefined ? [] : this.scanByName(t, query.name);
      return {items: candidates.filter(o => (query.matches ? query.matches(o) : true) && (query.startAfter === undefined || Store.key(o.metadata.namespace, o.metadata.name) > query.startAfter))};
    }
    const keys = t.keys();
    const prefix = query.namespace !== undefined ? `${query.namespace}/` : ``;
    let i = lowerBound(keys, prefix);
    if (query.startAfter !== undefined && query.startAfter >= prefix)
      i = Math.max(i, lowerBound(keys, `${query.startAfter}\0`));
    const limit = query.limit && query.limit > 0 ? query.limit : Infinity;
    const items: any[] = [];
    let lastKey: string | undefined;
    for (; i < keys.length; i++) {
      const key = keys[i]!;
      if (prefix && !key.startsWith(prefix))
        break;
      if (items.length >= limit) {
        // More keys remain in range: the real server sets `continue` without checking they match.
        const remaining = query.matches ? undefined : countRange(keys, i, prefix);
        return {items, nextStartAfter: lastKey, ...(remaining !== undefined ? {remainingItemCount: remaining} : {})};
      }
      const obj = t.byKey.get(key);
      if (query.matches && !query.matches(obj))
        continue;
      items.push(obj);
      lastKey = key;
    }
    return {items};
  }

  private scanByName(t: ResourceTable, name: string): any[] {
    const out: any[] = [];
    for (const key of t.keys()) {
      const obj = t.byKey.get(key);
      if (obj.metadata.name === name)
        out.push(obj);
    }
    return out;
  }

  /** Every object of a resource in a namespace (or all), unsorted; for namespace cleanup and state access. */
  all(resource: string, namespace?: string): any[] {
    const t = this.tables.get(resource);
    if (!t)
      return [];
    if (namespace === undefined)
      return [...t.byKey.values()];
    return this.list(resource, {namespace}).items;
  }
}

function countRange(keys: string[], from: number, prefix: string): number {
  if (!prefix)
    return keys.length - from;
  const end = lowerBound(keys, `${prefix.slice(0, -1)}0`); // '0' is the character after '/'
  return Math.max(0, end - from);
}
