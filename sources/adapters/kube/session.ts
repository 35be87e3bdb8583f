/**
 * `ClusterSession` over the Kubernetes REST API: paginated lists, CRUD with dry-run and field manager,
 * the three patch content types, and SelfSubjectAccessReview. Errors carry the verb, resource and
 * namespace so that 403s name the missing permission.
 */
import type {KubeObject, ListOptions, PatchType, ResourceName, WatchEvent, WatchOptions, WatchSession, WriteOptions} from '../../core/ports.ts';
import {FIELD_MANAGER} from '../../core/secrets/metadata.ts';
import {apiError, isKubeApiError, parseStatus} from './errors.ts';
import type {RequestDescription} from './errors.ts';
import {apiVersionOf, resourceInfo, resourcePath} from './resources.ts';
import type {Transport, TransportRequest} from './transport.ts';
import type {SecretRedactor} from '../../core/redact.ts';
import {namespaceNameProblem, objectNameProblem} from '../../core/names.ts';

/** kubectl's page size for lists. */
export const DEFAULT_PAGE_SIZE = 500;

const PATCH_CONTENT_TYPES: Record<PatchType, string> = {
  json: `application/json-patch+json`,
  merge: `application/merge-patch+json`,
  strategic: `application/strategic-merge-patch+json`,
};

/** A session on one context. Namespaced calls with `namespace` undefined use the session's namespace, except `list`, which then lists cluster-wide. */
export class KubeClusterSession implements WatchSession {
  readonly contextName: string;
  readonly namespace: string;
  readonly namespaceExplicit: boolean;
  /** The API server URL, for messages. */
  readonly server: string;
  private readonly transport: Transport;
  /** Learns the secret values this session writes, so that no server message can echo them. */
  private readonly redactor: SecretRedactor | undefined;

  constructor(options: {contextName: string; namespace: string; namespaceExplicit: boolean; server: string; transport: Transport; redactor?: SecretRedactor}) {
    this.redactor = options.redactor;
    this.contextName = options.contextName;
    this.namespace = options.namespace;
    this.namespaceExplicit = options.namespaceExplicit;
    this.server = options.server;
    this.transport = options.transport;
  }

  requestCount(): number {
    return this.transport.count();
  }

  async get(resource: ResourceName, namespace: string | undefined, name: string): Promise<KubeObject | null> {
    const ns = this.objectNamespace(resource, namespace);
    // A name the API server would refuse (read from a workload's list, say) names no object: nothing to ask.
    if ((resource === `namespaces` ? namespaceNameProblem(name) : objectNameProblem(name)) !== undefined)
      return null;
    try {
      return withKind(resource, await this.call({verb: `get`, resource, namespace: ns, name}, {method: `GET`, path: resourcePath(resource, ns, name), idempotent: true}) as KubeObject);
    } catch (error) {
      if (isKubeApiError(error, 404))
        return null;
      throw error;
    }
  }

  async list(resource: ResourceName, options: ListOptions = {}): Promise<KubeObject[]> {
    return (await this.listWithVersion(resource, options)).items;
  }

  /** The list and its resourceVersion (of the first page: every page of one list shares it). */
  async listWithVersion(resource: ResourceName, options: ListOptions = {}): Promise<{items: KubeObject[]; resourceVersion: string}> {
    const info = resourceInfo(resource);
    const namespace = info.namespaced ? options.namespace : undefined;
    const description = {verb: `list`, resource, namespace};
    const limit = options.limit ?? DEFAULT_PAGE_SIZE;
    const items: KubeObject[] = [];
    let token: string | undefined;
    let paginate = limit > 0;
    let resourceVersion = ``;
    for (;;) {
      const query = new URLSearchParams();
      if (options.labelSelector)
        query.set(`labelSelector`, options.labelSelector);
      if (options.fieldSelector)
        query.set(`fieldSelector`, options.fieldSelector);
      if (paginate)
        query.set(`limit`, String(limit));
      if (token !== undefined)
        query.set(`continue`, token);
      const path = `${resourcePath(resource, namespace)}${query.size > 0 ? `?${query}` : ``}`;
      let page: {items?: KubeObject[]; metadata?: {continue?: string; resourceVersion?: string}};
      try {
        page = await this.call(description, {method: `GET`, path, idempotent: true}) as typeof page;
      } catch (error) {
        // client-go's pager: when a continue token expired (410), fall back to one unpaginated list.
        if (token !== undefined && isKubeApiError(error, 410)) {
          items.length = 0;
          token = undefined;
          paginate = false;
          continue;
        }
        throw error;
      }
      if (token === undefined)
        resourceVersion = page.metadata?.resourceVersion ?? ``;
      const transform = options.transform;
      for (const item of page.items ?? [])
        items.push(transform ? transform(withKind(resource, item)) : withKind(resource, item));
      const next = page.metadata?.continue;
      token = paginate && typeof next === `string` && next !== `` ? next : undefined;
      if (token === undefined)
        break;
    }
    return {items, resourceVersion};
  }

  async watch(resource: ResourceName, options: WatchOptions, onEvent: (event: WatchEvent) => void, signal: AbortSignal): Promise<void> {
    const info = resourceInfo(resource);
    const namespace = info.namespaced ? options.namespace : undefined;
    const description: RequestDescription = {verb: `watch`, resource, namespace, group: info.group};
    const query = new URLSearchParams({watch: `true`, allowWatchBookmarks: `true`, resourceVersion: options.resourceVersion});
    if (options.labelSelector)
      query.set(`labelSelector`, options.labelSelector);
    if (options.timeoutSeconds !== undefined)
      query.set(`timeoutSeconds`, String(options.timeoutSeconds));
    let failure: unknown;
    const answer = await this.transport.stream(`${resourcePath(resource, namespace)}?${query}`, line => {
      if (failure !== undefined)
        return;
      let event: {type?: string; object?: KubeObject & {code?: number; reason?: string; message?: string}};
      try {
        event = JSON.parse(line);
      } catch {
        failure = apiError(description, {code: 500, reason: `InvalidResponse`, message: `a watch event is not JSON`}, this.server, this.contextName);
        return;
      }
      if (event.type === `ERROR`) {
        const status = event.object ?? {} as {code?: number; reason?: string; message?: string};
        failure = apiError(description, {code: typeof status.code === `number` ? status.code : 500, reason: typeof status.reason === `string` ? status.reason : `Unknown`, message: typeof status.message === `string` ? status.message : `watch error`}, this.server, this.contextName);
        return;
      }
      if ((event.type === `ADDED` || event.type === `MODIFIED` || event.type === `DELETED` || event.type === `BOOKMARK`) && event.object !== undefined && typeof event.object.metadata === `object`)
        onEvent({type: event.type, object: event.type === `BOOKMARK` ? event.object : withKind(resource, event.object)});
    }, signal);
    if (failure !== undefined)
      throw failure;
    if (answer.status < 200 || answer.status >= 300)
      throw apiError(description, parseStatus(answer.status, answer.statusText, answer.body, this.redactor), this.server, this.contextName);
  }

  /**
   * POSTs the object. A create is retried only when the failure shows the server did not process it
   * (429, 503 with Retry-After, a reset of a reused keep-alive socket before any answer byte). The last
   * case is the usual stale-connection race, not a proof: if such a retry answers 409 AlreadyExists,
   * the object may be our own first attempt, so callers that care compare the stored object (or use
   * `get` + `replace`) rather than treating AlreadyExists as someone else's object.
   */
  async create(resource: ResourceName, namespace: string | undefined, body: KubeObject, options: WriteOptions = {}): Promise<KubeObject> {
    const ns = this.objectNamespace(resource, namespace);
    this.learnSecrets(resource, body);
    return withKind(resource, await this.call(
      {verb: `create`, resource, namespace: ns, name: body.metadata?.name},
      {method: `POST`, path: `${resourcePath(resource, ns)}${writeQuery(options)}`, body: JSON.stringify(body), idempotent: false},
    ) as KubeObject);
  }

  async replace(resource: ResourceName, namespace: string | undefined, name: string, body: KubeObject, options: WriteOptions = {}): Promise<KubeObject> {
    const ns = this.objectNamespace(resource, namespace);
    this.learnSecrets(resource, body);
    return withKind(resource, await this.call(
      {verb: `update`, resource, namespace: ns, name},
      {method: `PUT`, path: `${resourcePath(resource, ns, name)}${writeQuery(options)}`, body: JSON.stringify(body), idempotent: true},
    ) as KubeObject);
  }

  async patch(resource: ResourceName, namespace: string | undefined, name: string, patch: unknown, type: PatchType, options: WriteOptions = {}): Promise<KubeObject> {
    const ns = this.objectNamespace(resource, namespace);
    const contentType = PATCH_CONTENT_TYPES[type];
    this.learnSecrets(resource, patch);
    if (!contentType)
      throw new Error(`Assertion failed: unknown patch type "${String(type)}"`);
    return withKind(resource, await this.call(
      {verb: `patch`, resource, namespace: ns, name},
      {method: `PATCH`, path: `${resourcePath(resource, ns, name)}${writeQuery(options)}`, body: JSON.stringify(patch), contentType, idempotent: isIdempotentPatch(patch, type)},
    ) as KubeObject);
  }

  async delete(resource: ResourceName, namespace: string | undefined, name: string, options: WriteOptions = {}): Promise<void> {
    const ns = this.objectNamespace(resource, namespace);
    const query = options.dryRun ? `?dryRun=All` : ``;
    await this.call({verb: `delete`, resource, namespace: ns, name}, {method: `DELETE`, path: `${resourcePath(resource, ns, name)}${query}`, idempotent: true}, {retriedNotFoundIsSuccess: true});
  }

  async canI(verb: string, resource: ResourceName, namespace?: string): Promise<boolean> {
    const info = resourceInfo(resource);
    const review = {
      apiVersion: `authorization.k8s.io/v1`,
      kind: `SelfSubjectAccessReview`,
      spec: {resourceAttributes: {verb, resource, group: info.group, ...(info.namespaced && namespace !== undefined ? {namespace} : {})}},
    };
    const answer = await this.call(
      {verb: `create`, resource: `selfsubjectaccessreviews`, group: `authorization.k8s.io`},
      // An access review has no side effect, so repeating it is safe.
      {method: `POST`, path: `/apis/authorization.k8s.io/v1/selfsubjectaccessreviews`, body: JSON.stringify(review), idempotent: true},
    ) as {status?: {allowed?: boolean}};
    return answer.status?.allowed === true;
  }

  /** Registers every `data`/`stringData` value of a secret body (or patch) with the run's redactor. */
  private learnSecrets(resource: ResourceName, body: unknown): void {
    if (this.redactor === undefined || resource !== `secrets`)
      return;
    const walk = (node: unknown, depth: number): void => {
      if (depth > 6 || typeof node !== `object` || node === null)
        return;
      for (const [key, value] of Object.entries(node)) {
        if ((key === `data` || key === `stringData`) && typeof value === `object` && value !== null && !Array.isArray(value))
          this.redactor!.addSecretData(value as Record<string, unknown>, key === `data`);
        else if (key === `value` && typeof value === `string`)
          this.redactor!.add(value); // a JSON-patch op replacing one data value
        else
          walk(value, depth + 1);
      }
    };
    walk(body, 0);
  }

  /** A namespaced object without an explicit namespace lives in the session's namespace. */
  private objectNamespace(resource: ResourceName, namespace: string | undefined): string | undefined {
    return resourceInfo(resource).namespaced ? namespace ?? this.namespace : undefined;
  }

  private async call(
    description: Omit<RequestDescription, `group`> & {group?: string},
    request: TransportRequest,
    options: {retriedNotFoundIsSuccess?: boolean} = {},
  ): Promise<unknown> {
    const full: RequestDescription = {...description, group: description.group ?? (description.resource in RESOURCE_GROUPS ? RESOURCE_GROUPS[description.resource]! : ``)};
    const response = await this.transport.send(request);
    if (response.status >= 200 && response.status < 300) {
      if (response.body.trim() === ``)
        return {};
      try {
        return JSON.parse(response.body);
      } catch (error) {
        throw apiError(full, {code: response.status, reason: `InvalidResponse`, message: `the server answered HTTP ${response.status} with a body that is not JSON`}, this.server, this.contextName);
      }
    }
    // A DELETE repeated after a lost answer finds the object already gone: the first attempt worked.
    if (response.status === 404 && options.retriedNotFoundIsSuccess && response.attempts > 1)
      return {};
    throw apiError(full, parseStatus(response.status, response.statusText, response.body, this.redactor), this.server, this.contextName);
  }
}

const RESOURCE_GROUPS: Record<string, string> = {
  leases: `coordination.k8s.io`,
  deployments: `apps`, statefulsets: `apps`, daemonsets: `apps`, replicasets: `apps`, jobs: `batch`, cronjobs: `batch`,
};

/**
 * Merge and strategic-merge patches give the same result when applied twice. A JSON patch may not
 * (`add` to `/list/-` appends again) unless it carries a `test` op, which makes a second application
 * fail instead of duplicating; only then is it safe to repeat after a lost answer.
 */
function isIdempotentPatch(patch: unknown, type: PatchType): boolean {
  return type !== `json` || (Array.isArray(patch) && patch.some(op => typeof op === `object` && op !== null && (op as {op?: unknown}).op === `test`));
}

function writeQuery(options: WriteOptions): string {
  const query = new URLSearchParams();
  if (options.dryRun)
    query.set(`dryRun`, `All`);
  query.set(`fieldManager`, options.fieldManager ?? FIELD_MANAGER);
  return `?${query}`;
}

/** List items come without `apiVersion`/`kind`; objects are easier to print and compare with them. */
function withKind(resource: ResourceName, object: KubeObject): KubeObject {
  if (!object || typeof object !== `object`)
    return object;
  const info = resourceInfo(resource);
  if (object.kind === undefined || object.apiVersion === undefined)
    return {apiVersion: apiVersionOf(info), kind: info.kind, ...object};
  return object;
}
