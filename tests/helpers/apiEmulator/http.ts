/**
 * The HTTP layer: TLS (with optional client certificates) and plain-HTTP listeners, request
 * recording, fault injection, authentication, RBAC, routing of discovery/OpenAPI/resource
 * paths, body decoding (JSON, protobuf, the three patch types) and response encoding
 * (JSON objects, `as=Table`, watch streams, `Status` errors).
 */
import type {IncomingMessage, ServerResponse} from 'node:http';
import type {TLSSocket} from 'node:tls';
import {ApiError, errors} from './status.ts';
import {
  AGGREGATED_V2, AGGREGATED_V2BETA1, VERSION_INFO, aggregatedDiscovery, findResource, legacyCoreVersions, legacyGroup,
  legacyGroupList, openApiGroupVersion, openApiRoot, resourceList, STATUS_RESOURCES, apiVersionOf, type ResourceDef,
} from './discovery.ts';
import {decodeProtobuf} from './protobuf.ts';
import {forbiddenMessage, type Authorizer, type User} from './rbac.ts';
import type {Faults} from './faults.ts';
import {checkSecretEncoding} from './admission.ts';
import {toTable, wantsTable} from './table.ts';
import {listJson, type Rest} from './rest.ts';
import {parseFieldSelector, parseLabelSelector} from './selectors.ts';
import type {WatchEvent} from './store.ts';

/** One recorded request. */
export type RequestRecord = {
  method: string;
  path: string;
  query: Record<string, string>;
  /** The authenticated user name, or undefined when authentication failed. */
  user?: string;
  status: number;
  contentType?: string;
  accept?: string;
  userAgent?: string;
  /** Kubernetes verb (get, list, watch, create, update, patch, delete, deletecollection) for resource requests. */
  verb?: string;
  resource?: string;
  namespace?: string;
  name?: string;
  /** The request body as text: JSON and patches verbatim, protobuf bodies as the JSON they decode to. */
  body?: string;
  /** `1.1` or `2.0`. */
  httpVersion: string;
  /** Requests being handled (this one included) when it arrived: more than one means clients sent them at once. */
  inFlight: number;
};

export type HttpDeps = {
  rest: Rest;
  authorizer: Authorizer;
  faults: Faults;
  requests: RequestRecord[];
  now: () => Date;
  /** Sockets of open watch streams, closed on stop. */
  watches: Set<ServerResponse>;
  /** How often a watch with allowWatchBookmarks=true gets a BOOKMARK event (the real server: about a minute). */
  bookmarkIntervalMs?: number;
};

type Route = {
  def: ResourceDef;
  namespace?: string;
  name?: string;
  subresource?: string;
};

const MAX_BODY = 3 * 1024 * 1024;

function readBody(req: IncomingMessage): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    req.on(`data`, (c: Buffer) => {
      size += c.length;
      if (size > MAX_BODY) {
        reject(new ApiError({kind: `Status`, apiVersion: `v1`, metadata: {}, status: `Failure`, message: `Request entity too large: limit is 3145728`, reason: `RequestEntityTooLarge`, code: 413}));
        req.destroy();
        return;
      }
      chunks.push(c);
    });
    req.on(`end`, () => resolve(Buffer.concat(chunks)));
    req.on(`error`, reject);
  });
}

function send(res: ServerResponse, code: number, body: unknown, contentType = `application/json`, headers: Record<string, string> = {}): void {
  const text = typeof body === `string` ? body : JSON.stringify(body);
  res.writeHead(code, {'Content-Type': contentType, 'Content-Length': Buffer.byteLength(text), 'Cache-Control': `no-cache, private`, ...headers});
  res.end(text);
}

/** Authenticates: plain HTTP acts as admin; a verified client certificate is its CN/O; else a bearer token. */
function authenticate(req: IncomingMessage, deps: HttpDeps, plain: boolean): User | undefined {
  if (plain)
    return deps.authorizer.user(`admin`);
  const socket = req.socket as TLSSocket;
  if (typeof socket.getPeerCertificate === `function`) {
    const cert = socket.getPeerCertificate();
    if (cert && Object.keys(cert).length > 0) {
      if (!socket.authorized)
        return undefined;
      const cn = cert.subject?.CN;
      const o = cert.subject?.O;
      const groups = o === undefined ? [] : Array.isArray(o) ? o : [o];
      const known = typeof cn === `string` ? deps.authorizer.user(cn) : undefined;
      if (known)
        return {...known, groups: [...new Set([...known.groups, ...groups])]};
      return {name: String(cn), groups: [...groups, `system:authenticated`], rules: []};
    }
  }
  const header = req.headers.authorization;
  const m = header?.match(/^Bearer\s+(.+)$/i);
  if (!m)
    return undefined;
  return deps.authorizer.userForToken(m[1]!.trim());
}

/** Parses `/api/v1/...` or `/apis/<g>/<v>/...` into a resource route; undefined when not a resource path. */
function parseResourcePath(parts: string[]): Route | undefined | null {
  let group: string;
  let version: string;
  let rest: string[];
  if (parts[0] === `api` && parts.length >= 3) {
    group = ``;
    version = parts[1]!;
    rest = parts.slice(2);
  } else if (parts[0] === `apis` && parts.length >= 4) {
    group = parts[1]!;
    version = parts[2]!;
    rest = parts.slice(3);
  } else {
    return undefined;
  }
  let namespace: string | undefined;
  if (rest[0] === `namespaces` && rest.length >= 3) {
    namespace = rest[1];
    rest = rest.slice(2);
  }
  const def = findResource(group, version, rest[0]!);
  if (!def) {
    // `/api/v1/namespaces/<name>[/status]` is the namespace itself.
    if (namespace !== undefined && group === `` && (rest.length === 1 && rest[0] === `status` || rest.length === 0)) {
      const nsDef = findResource(``, `v1`, `namespaces`)!;
      return {def: nsDef, name: namespace, subresource: rest[0]};
    }
    return null;
  }
  if (namespace !== undefined && !def.namespaced)
    return null;
  return {def, namespace, name: rest[1], subresource: rest[2]};
}

function verbFor(method: string, route: Route, query: URLSearchParams): string {
  const collection = route.name === undefined;
  switch (method) {
    case `GET`: case `HEAD`:
      return collection ? (query.get(`watch`) === `true` || query.get(`watch`) === `1` ? `watch` : `list`) : `get`;
    case `POST`: return `create`;
    case `PUT`: return `update`;
    case `PATCH`: return `patch`;
    case `DELETE`: return collection ? `deletecollection` : `delete`;
    default: return method.toLowerCase();
  }
}

function decodeBody(body: Buffer, contentType: string, def: ResourceDef, record: RequestRecord): any {
  if (contentType.startsWith(`application/vnd.kubernetes.protobuf`)) {
    try {
      const decoded = decodeProtobuf(body);
      record.body = JSON.stringify(decoded);
      return decoded;
    } catch (e) {
      throw errors.unsupportedMediaType(`${contentType}: ${(e as Error).message}`);
    }
  }
  record.body = body.toString(`utf8`);
  if (contentType === `` || contentType.startsWith(`application/json`) || contentType.startsWith(`*/*`)) {
    try {
      return JSON.parse(body.toString(`utf8`));
    } catch (e) {
      throw errors.badRequest(`${def.kind} in version "${def.version}" cannot be handled as a ${def.kind}: ${(e as Error).message}`);
    }
  }
  if (contentType.startsWith(`application/yaml`))
    throw errors.unsupportedMediaType(contentType);
  throw errors.unsupportedMediaType(contentType);
}

function patchKind(contentType: string): `json` | `merge` | `strategic` | undefined {
  if (contentType.startsWith(`application/json-patch+json`)) return `json`;
  if (contentType.startsWith(`application/merge-patch+json`)) return `merge`;
  if (contentType.startsWith(`application/strategic-merge-patch+json`)) return `strategic`;
  return undefined;
}

/** The part of an HTTP/2 server stream (Node's compatibility request's `stream`) that GOAWAY handling uses. */
type H2Session = {state: {lastProcStreamID?: number}; goaway(code: number, last: number): void; close(): void};
type H2Stream = {id: number; session?: H2Session; close(code: number): void};
/** HTTP/2 error code REFUSED_STREAM. */
const REFUSED_STREAM = 0x7;
/** The last stream each HTTP/2 connection's GOAWAY named. */
const goawayLastStream = new WeakMap<H2Session, number>();

/** Builds the request handler for one listener. */
export function makeHandler(deps: HttpDeps, opts: {plain: boolean}) {
  let inFlight = 0;
  return async (req: IncomingMessage, res: ServerResponse): Promise<void> => {
    // After an HTTP/2 GOAWAY, streams above the last one it named are not processed (RFC 9113 §6.8; Go's server
    // ignores them): the client sends them again on a new connection.
    const h2 = (req as IncomingMessage & {stream?: H2Stream}).stream;
    const goneAfter = h2?.session === undefined ? undefined : goawayLastStream.get(h2.session);
    if (h2 !== undefined && goneAfter !== undefined && h2.id > goneAfter) {
      h2.close(REFUSED_STREAM);
      return;
    }
    inFlight++;
    res.once(`close`, () => inFlight--);
    const url = new URL(req.url ?? `/`, `http://emulator`);
    const method = req.method ?? `GET`;
    const record: RequestRecord = {
      httpVersion: req.httpVersion,
      inFlight,
      method,
      path: url.pathname,
      query: Object.fromEntries(url.searchParams),
      status: 0,
      ...(req.headers[`content-type`] ? {contentType: req.headers[`content-type`]} : {}),
      ...(req.headers.accept ? {accept: req.headers.accept} : {}),
      ...(req.headers[`user-agent`] ? {userAgent: req.headers[`user-agent`]} : {}),
    };
    deps.requests.push(record);
    const origWriteHead = res.writeHead.bind(res);
    res.writeHead = ((code: number, ...rest: any[]) => {
      record.status = code;
      return origWriteHead(code, ...rest);
    }) as typeof res.writeHead;

    try {
      for (const fault of deps.faults.pick(method, url.pathname)) {
        switch (fault.kind) {
          case `latency`:
            await new Promise(r => setTimeout(r, fault.latencyMs ?? 100));
            break;
          case `reset`:
            record.status = -1;
            req.socket.destroy();
            return;
          case `lose-answer`:
            // Handled and committed below, but the answer never leaves: the connection drops instead.
            res.writeHead = (() => {
              record.status = -1;
              req.socket.destroy();
              return res;
            }) as typeof res.writeHead;
            res.write = (() => true) as typeof res.write;
            res.end = (() => res) as typeof res.end;
            break;
          case `goaway`: {
            // What kube-apiserver's --goaway-chance does: the request is answered, and the connection is told to go
            // away (Connection: close over HTTP/1.1; over HTTP/2 a GOAWAY naming the last stream received, as Go's
            // graceful shutdown does, so that every request already sent is still answered).
            if (h2?.session !== undefined) {
              const last = h2.session.state.lastProcStreamID ?? h2.id;
              goawayLastStream.set(h2.session, last);
              h2.session.goaway(0, last);
              const session = h2.session;
              res.once(`finish`, () => session.close());
            } else {
              res.setHeader(`Connection`, `close`);
            }
            break;
          }
          case `422`:
            throw errors.unprocessable(`injected fault: the object is refused by policy`);
          case `429`:
            throw errors.tooManyRequests(fault.retryAfterSeconds ?? 1);
          case `500`:
            throw errors.internal(`injected fault`);
          case `503`:
            throw errors.unavailable(`the server is currently unable to handle the request`);
        }
      }
      const user = authenticate(req, deps, opts.plain);
      if (!user)
        throw errors.unauthorized();
      record.user = user.name;
      await route(req, res, url, method, user, record, deps);
    } catch (e) {
      if (e instanceof ApiError) {
        if (!res.headersSent)
          send(res, e.status.code, e.status, `application/json`, e.headers);
        return;
      }
      if (!res.headersSent)
        send(res, 500, errors.internal((e as Error)?.message ?? String(e)).status);
    }
  };
}

async function route(req: IncomingMessage, res: ServerResponse, url: URL, method: string, user: User, record: RequestRecord, deps: HttpDeps): Promise<void> {
  const path = url.pathname.replace(/\/+$/, ``) || `/`;
  const accept = req.headers.accept ?? ``;
  const parts = path.split(`/`).filter(p => p !== ``);

  if (method === `GET` || method === `HEAD`) {
    switch (path) {
      case `/version`:
        return send(res, 200, VERSION_INFO);
      case `/healthz`: case `/livez`: case `/readyz`:
        res.writeHead(200, {'Content-Type': `text/plain; charset=utf-8`});
        res.end(`ok`);
        return;
      case `/api`: case `/apis`: {
        const core = path === `/api`;
        if (accept.includes(`as=APIGroupDiscoveryList`) && accept.includes(`v=v2;`) || accept.includes(AGGREGATED_V2))
          return send(res, 200, aggregatedDiscovery(core, `apidiscovery.k8s.io/v2`), AGGREGATED_V2);
        if (accept.includes(AGGREGATED_V2BETA1))
          return send(res, 200, aggregatedDiscovery(core, `apidiscovery.k8s.io/v2beta1`), AGGREGATED_V2BETA1);
        return send(res, 200, core ? legacyCoreVersions() : legacyGroupList());
      }
      case `/openapi/v3`:
        return send(res, 200, openApiRoot());
      case `/openapi/v2`:
        throw errors.notFoundPath();
      default:
        break;
    }
    if (path.startsWith(`/openapi/v3/`)) {
      const doc = openApiGroupVersion(path.slice(`/openapi/v3/`.length));
      if (!doc)
        throw errors.notFoundPath();
      return send(res, 200, doc);
    }
    if (parts[0] === `api` && parts.length === 2) {
      const list = resourceList(``, parts[1]!);
      if (!list) throw errors.notFoundPath();
      return send(res, 200, list);
    }
    if (parts[0] === `apis` && parts.length === 2) {
      const g = legacyGroup(parts[1]!);
      if (!g) throw errors.notFoundPath();
      return send(res, 200, g);
    }
    if (parts[0] === `apis` && parts.length === 3) {
      const list = resourceList(parts[1]!, parts[2]!);
      if (!list) throw errors.notFoundPath();
      return send(res, 200, list);
    }
  }

  const r = parseResourcePath(parts);
  if (!r)
    throw errors.notFoundPath();
  if (r.subresource !== undefined && !(r.subresource === `status` && STATUS_RESOURCES.has(r.def.resource)))
    throw errors.notFoundPath();
  const statusSubresource = r.subresource === `status` && r.def.resource !== `namespaces`;
  const query = url.searchParams;
  const verb = verbFor(method, r, query);
  const namespace = r.def.resource === `namespaces` ? r.name : r.namespace;
  Object.assign(record, {verb, resource: r.def.resource, ...(namespace !== undefined ? {namespace} : {}), ...(r.name !== undefined ? {name: r.name} : {})});

  if (!r.def.verbs.includes(verb) && !(verb === `get` && r.def.verbs.includes(`list`)))
    throw errors.methodNotAllowed();
  const attrs = {verb, group: r.def.group, resource: r.def.resource, namespace, name: r.name, subresource: r.subresource};
  if (!r.def.virtual && !deps.authorizer.allows(user, attrs))
    throw errors.forbidden(r.def.resource, r.def.group, r.name, forbiddenMessage(user, attrs));

  const dryRun = query.getAll(`dryRun`).includes(`All`);
  if (query.getAll(`dryRun`).some(v => v !== `All`))
    throw errors.badRequest(`Invalid dry run value: ${query.getAll(`dryRun`).join(`,`)}`);
  const writeOpts = {dryRun, fieldManager: query.get(`fieldManager`) ?? undefined, userAgent: req.headers[`user-agent`]};
  const rest = deps.rest;
  const def = r.def;
  const respond = (code: number, obj: any) => {
    if (wantsTable(accept) && (verb === `get` || verb === `list`)) {
      const items = verb === `list` ? obj.items : [obj];
      const listMeta = verb === `list` ? obj.metadata : {resourceVersion: obj.metadata?.resourceVersion};
      return send(res, code, toTable(def, items, listMeta, query.get(`includeObject`), deps.now()), `application/json;as=Table;v=v1;g=meta.k8s.io`);
    }
    return send(res, code, verb === `list` ? listJson(obj) : obj);
  };

  if (statusSubresource && verb !== `get` && verb !== `update` && verb !== `patch`)
    throw errors.methodNotAllowed();
  switch (verb) {
    case `get`:
      return respond(200, rest.get(def, r.namespace, r.name!));
    case `list`:
      return respond(200, rest.list(def, r.namespace, listParams(query)));
    case `watch`:
      return watch(res, def, r.namespace, query, deps, wantsTable(accept));
    case `create`: {
      let body = decodeBody(await readBody(req), req.headers[`content-type`] ?? ``, def, record);
      if (body?.specFromOwner === true)
        body = specFromCronJob(body, r.namespace, deps);
      if (def.resource === `secrets`)
        checkSecretEncoding(body);
      const created = rest.create(def, r.namespace, body, {...writeOpts, user});
      return send(res, 201, created);
    }
    case `update`: {
      const body = decodeBody(await readBody(req), req.headers[`content-type`] ?? ``, def, record);
      if (def.resource === `secrets`)
        checkSecretEncoding(body);
      if (statusSubresource)
        return send(res, 200, rest.updateStatus(def, r.namespace, r.name!, body, writeOpts));
      return send(res, 200, rest.update(def, r.namespace, r.name!, body, writeOpts));
    }
    case `patch`: {
      const contentType = req.headers[`content-type`] ?? ``;
      const kind = patchKind(contentType);
      if (!kind)
        throw errors.unsupportedMediaType(contentType);
      const raw = await readBody(req);
      record.body = raw.toString(`utf8`);
      let patch: unknown;
      try {
        patch = JSON.parse(raw.toString(`utf8`));
      } catch (e) {
        throw errors.badRequest((e as Error).message);
      }
      if (def.resource === `secrets` && kind !== `json`)
        checkSecretEncoding(patch);
      if (statusSubresource)
        return send(res, 200, rest.patchStatus(def, r.namespace, r.name!, kind, patch, writeOpts));
      return send(res, 200, rest.patch(def, r.namespace, r.name!, kind, patch, writeOpts));
    }
    case `delete`: {
      const raw = await readBody(req);
      if (raw.length > 0)
        record.body = raw.toString(`utf8`);
      let options: any = {};
      if (raw.length > 0) {
        try {
          options = JSON.parse(raw.toString(`utf8`));
        } catch {
          options = {};
        }
      }
      const result = rest.delete(def, r.namespace, r.name!, {
        dryRun: dryRun || (Array.isArray(options.dryRun) && options.dryRun.includes(`All`)),
        preconditionResourceVersion: options.preconditions?.resourceVersion,
        preconditionUid: options.preconditions?.uid,
        propagationPolicy: query.get(`propagationPolicy`) ?? options.propagationPolicy ?? (options.orphanDependents === true ? `Orphan` : undefined),
      });
      return send(res, 200, result);
    }
    case `deletecollection`:
      return send(res, 200, rest.deleteCollection(def, r.namespace, listParams(query), {dryRun}));
    default:
      throw errors.methodNotAllowed();
  }
}

/** A protobuf Job from `kubectl create job --from=cronjob/CJ`: its spec is the owning CronJob's `jobTemplate.spec`. */
function specFromCronJob(body: any, namespace: string | undefined, deps: HttpDeps): any {
  const {specFromOwner: _, ...job} = body;
  const owner = (job.metadata?.ownerReferences ?? []).find((o: any) => o.kind === `CronJob`);
  const cronJob = owner && namespace ? deps.rest.store.get(`cronjobs`, namespace, owner.name) : undefined;
  if (!cronJob || cronJob.metadata.uid !== owner.uid)
    throw errors.unsupportedMediaType(`application/vnd.kubernetes.protobuf: the emulator decodes a protobuf Job only when it comes from a CronJob (kubectl create job --from=cronjob/NAME)`);
  return {...job, spec: structuredClone(cronJob.spec?.jobTemplate?.spec ?? {})};
}

function listParams(query: URLSearchParams) {
  const limit = query.get(`limit`);
  return {
    labelSelector: query.get(`labelSelector`) ?? undefined,
    fieldSelector: query.get(`fieldSelector`) ?? undefined,
    limit: limit ? Number(limit) : undefined,
    continue: query.get(`continue`) ?? undefined,
  };
}

/**
 * A watch stream, as kube-apiserver serves it: without resourceVersion (or "0") ADDED events for the current
 * state, then live events; from resourceVersion N, every event after N from the history, then live events,
 * or one ERROR event with a 410 `Expired` Status when events after N were compacted away (`api.compact()`).
 * With allowWatchBookmarks=true, BOOKMARK events carry the latest resourceVersion every `bookmarkIntervalMs`.
 * `timeoutSeconds` ends the stream.
 */
function watch(res: ServerResponse, def: ResourceDef, namespace: string | undefined, query: URLSearchParams, deps: HttpDeps, table: boolean): void {
  const labelMatch = query.get(`labelSelector`) ? parseLabelSelector(query.get(`labelSelector`)!) : () => true;
  const field = query.get(`fieldSelector`) ? parseFieldSelector(def.resource, query.get(`fieldSelector`)!) : undefined;
  const matches = (o: any) => (!namespace || o.metadata.namespace === namespace) && labelMatch(o) && (!field || field.matches(o));
  const rv = query.get(`resourceVersion`);
  if (rv && !/^\d+$/.test(rv))
    throw errors.badRequest(`resourceVersion: Invalid value: "${rv}": must be a non-negative integer`);
  // HTTP/2 frames the stream itself (and refuses the HTTP/1.1-only Transfer-Encoding header).
  const chunked = (res.req?.httpVersionMajor ?? 1) < 2 ? {'Transfer-Encoding': `chunked`} : {};
  res.writeHead(200, {'Content-Type': table ? `application/json;as=Table;v=v1;g=meta.k8s.io` : `application/json`, ...chunked, 'Cache-Control': `no-cache, private`});
  // With as=Table (kubectl get -w) each event carries a one-row Table; only the first has column definitions.
  let first = true;
  const write = (type: string, object: any) => {
    // Between end() (timeout, api.endWatches()) and `close`, events and bookmarks must not write any more.
    if (res.writableEnded)
      return;
    let payload = object;
    if (table && type !== `BOOKMARK` && type !== `ERROR`) {
      payload = toTable(def, [object], {resourceVersion: object.metadata.resourceVersion}, query.get(`includeObject`), deps.now());
      if (!first)
        payload.columnDefinitions = [];
      first = false;
    }
    res.write(`${JSON.stringify({type, object: payload})}\n`);
  };
  if (!rv || rv === `0`) {
    for (const o of deps.rest.store.list(def.resource, {namespace: def.namespaced ? namespace : undefined, matches}).items)
      write(`ADDED`, o);
  } else {
    const past = deps.rest.store.eventsSince(def.resource, Number(rv));
    if (past === `gone`) {
      write(`ERROR`, {kind: `Status`, apiVersion: `v1`, metadata: {}, status: `Failure`, message: `too old resource version: ${rv} (${deps.rest.store.currentResourceVersion()})`, reason: `Expired`, code: 410});
      res.end();
      return;
    }
    for (const event of past) {
      if (matches(event.object))
        write(event.type, event.object);
    }
  }
  const listener = (e: WatchEvent) => {
    if (e.resource === def.resource && matches(e.object))
      write(e.type, e.object);
  };
  deps.rest.store.events.on(`change`, listener);
  deps.watches.add(res);
  const bookmarks = query.get(`allowWatchBookmarks`) === `true`
    ? setInterval(() => write(`BOOKMARK`, {kind: def.kind, apiVersion: apiVersionOf(def), metadata: {resourceVersion: deps.rest.store.currentResourceVersion()}}), deps.bookmarkIntervalMs ?? 1000)
    : undefined;
  bookmarks?.unref();
  const timeout = Number(query.get(`timeoutSeconds`) ?? 1800);
  const timer = setTimeout(() => res.end(), timeout * 1000);
  timer.unref();
  res.on(`close`, () => {
    clearTimeout(timer);
    clearInterval(bookmarks);
    deps.rest.store.events.off(`change`, listener);
    deps.watches.delete(res);
  });
}
