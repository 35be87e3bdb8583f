/**
 * In-process Kubernetes API emulator that real `kubectl` (1.32) accepts. Public API:
 *
 *   const api = await startApiEmulator({seed?: number, plainHttp?: boolean});
 *   t.after(() => api.stop());
 *
 *   api.url                 https://127.0.0.1:<port> (TLS with a CA generated at start)
 *   api.httpUrl             http://127.0.0.1:<port>, only with {plainHttp: true}; every request acts as `admin` (like `kubectl proxy`)
 *   api.caFile / api.caPem  the test CA
 *   api.kubeconfigPath      temp kubeconfig: contexts `admin` (current; cluster-admin), `readonly` (get/list/watch
 *                           everything), `limited` (everything, only in namespace `team-a`); each context has its own
 *                           user with a bearer token; no namespace set in the contexts
 *   api.tokens              {admin, readonly, limited}
 *   api.addUser(name, rules)            → bearer token; rules: {verbs, resources, namespaces? (omit = cluster-wide), apiGroups?}
 *                                          ("*" wildcards allowed); the user also gets a context named after it
 *   api.issueClientCert(user, groups?)  → {certFile, keyFile, certPem, keyPem}: a client certificate signed by the CA,
 *                                          authenticating as CN=user with O=groups (rules of a same-named user apply)
 *   api.writeKubeconfig(path, {context?, namespace?})  writes a kubeconfig (current context `admin` unless given;
 *                                          `namespace` is set on that context)
 *   api.objects(resource, namespace?)   deep copies of stored objects (no HTTP)
 *   api.getObject(resource, namespace | undefined, name)
 *   api.count(resource, namespace?)     number of stored objects, without copying them
 *   api.seed.namespace(name, {labels, annotations})        (also creates its `default` ServiceAccount)
 *   api.seed.node(name, {os, architecture, labels})        (status.nodeInfo reports os/architecture; no node exists unless seeded)
 *   api.seed.secret(ns, obj) / seed.serviceAccount(ns, name, {imagePullSecrets: ['a', {name: 'b'}]})
 *   api.seed.workload('Deployment'|'StatefulSet'|'DaemonSet'|'ReplicaSet'|'Job'|'CronJob'|'ReplicationController', ns, name, podSpec,
 *                     {labels, annotations, replicas, templateLabels (default {app: name}, also the selector), templateAnnotations, schedule, ownerReferences})
 *   api.seed.pod(ns, name, podSpec, {waiting: 'ErrImagePull'|'ImagePullBackOff'|'InvalidImageName'|'ErrImageNeverPull' | {reason, message},
 *                containerStatuses, phase, labels, annotations, ownerReferences})   (kubelet-style messages by default)
 *   api.seed.event(ns, {kind, name, uid?}, reason, message, {type?})
 *   api.seed.bulk({namespaces, podsPerNamespace, secretsPerNamespace, serviceAccountsPerNamespace, deploymentsPerNamespace})
 *     Seeders create missing namespaces, return deep copies of the stored objects, and go through
 *     the same defaulting/validation/admission as HTTP (bulk excepted: it writes straight to the store).
 *   api.requests            RequestRecord[] {method, path, query, user, status (-1 for a reset), contentType, accept, userAgent, verb, resource,
 *                           namespace, name, body (JSON/patch text; protobuf bodies as the JSON they decode to)}
 *   api.resetRequests()
 *   api.compact()           every continue token issued so far now gets 410 Gone (reason Expired), like after an etcd compaction,
 *                           and a watch from an earlier resourceVersion gets an ERROR event with a 410 Expired Status
 *   watches                 ?watch=true streams: the current state as ADDED without resourceVersion (or "0"); from
 *                           resourceVersion N the events after N (kept in a history), else 410 after compaction; BOOKMARK
 *                           events with allowWatchBookmarks=true every `bookmarkIntervalMs` (option, default 1000)
 *   api.endWatches()        ends every open watch stream (a server timeout or restart); clients re-watch from their resourceVersion
 *   leases                  coordination.k8s.io/v1 Lease objects (kubectl get lease shows NAME, HOLDER, AGE)
 *   RBAC objects            rbac.authorization.k8s.io/v1 Roles, ClusterRoles and their bindings are stored (kubectl apply
 *                           accepts them) but not enforced: the emulator's users and rules come from addUser
 *   api.tcpConnections()                TCP connections accepted so far (also those closed before their TLS handshake ended)
 *   api.tlsConnections()                TLS connections accepted so far; startApiEmulator({http2: true}) also speaks HTTP/2
 *                                          (ALPN), as real API servers do; each request record has httpVersion and inFlight
 *   api.faults.add({route?: RegExp | string, method?, fraction?, nth?, kind: 'latency'|'429'|'422'|'500'|'503'|'reset'|'lose-answer'|'goaway', latencyMs?, retryAfterSeconds?}); api.faults.clear()
 *     `fraction` draws from a PRNG seeded with `options.seed` (default 1); `nth` counts matching requests from 1.
 *   api.stop()              closes listeners, watch streams and every socket, removes the temp dir
 *   api.local               in-process access for the cluster's own components (./local.ts): get/list/create/update/
 *                           delete/updateStatus/bindPod/event/onChange, same REST semantics as HTTP
 *   api.settled()           resolves once the controllers (if on) have nothing left to do for the changes so far
 *
 * With `{controllers: true}` the workload controllers and the scheduler run (./controllers.ts): Deployments,
 * ReplicaSets, StatefulSets, DaemonSets, Jobs get pods, deleted pods are replaced, `kubectl rollout restart`
 * rolls; pods stay Pending until a node (tests/helpers/node) runs them. The `status` subresource of pods
 * and workloads is served (get/patch/update; `kubectl patch pod x --subresource=status`).
 *
 * Run kubectl against it with `runKubectl(args, {kubeconfig: api.kubeconfigPath})` (./kubectl.ts): always
 * asynchronously, since the emulator shares the test's event loop (a spawnSync would deadlock it).
 * `seed.pod` never rejects a missing ServiceAccount (it copies the SA's pull secrets when it exists) and
 * schedules the pod on node `emulator-node`; HTTP pod creation runs the real admission and rejects.
 * Protobuf request bodies are decoded for Secret, Namespace, ServiceAccount and the access/rules/self
 * reviews, and a Job's metadata (`kubectl create job --from=cronjob/NAME`, whose spec is the CronJob's jobTemplate);
 * other kinds sent as protobuf (e.g. `kubectl create deployment`) get 415.
 * Deleting an object also deletes its dependents (ownerReferences), unless propagationPolicy=Orphan;
 * without `{controllers: true}` no controllers run (a Deployment gets no ReplicaSets or pods unless seeded).
 * A fresh cluster holds namespaces default, kube-system, kube-public and kube-node-lease, each with
 * its `default` ServiceAccount, like a real one. Semantics follow kube-apiserver 1.32: see rest.ts,
 * admission.ts, patch.ts, selectors.ts; responses and errors are JSON, with `Status` bodies worded like the real server's.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import http from 'node:http';
import https from 'node:https';
import http2 from 'node:http2';
import type {Socket} from 'node:net';
import type {ServerResponse} from 'node:http';
import YAML from 'yaml';
import {createPki, issueClientCertificate, type ClientCert} from './tls.ts';
import {Store} from './store.ts';
import {Authorizer, type RbacRule} from './rbac.ts';
import {Rest} from './rest.ts';
import {Faults, type FaultInjector, type FaultSpec} from './faults.ts';
import {makeHandler, type RequestRecord} from './http.ts';
import {makeSeeder, type Seeder} from './seed.ts';
import {resourceByName} from './discovery.ts';
import {makeLocalApi, type LocalApi} from './local.ts';
import {startControllers, type Controllers} from './controllers.ts';

export type {RbacRule} from './rbac.ts';
export type {RequestRecord} from './http.ts';
export type {FaultInjector, FaultSpec} from './faults.ts';
export type {Seeder, BulkSpec, PodSeedOptions, PullReason, WorkloadKind} from './seed.ts';
export type {ClientCert} from './tls.ts';
export type {LocalApi, ObjectRef} from './local.ts';
export {NODE_NAME, templateHash} from './controllers.ts';
export {runKubectl, runKubectlOffline, requireKubectl, findKubectl, type KubectlResult} from './kubectl.ts';

export type ApiEmulatorOptions = {
  /** Seed of the PRNG behind `faults.add({fraction})` (default 1). */
  seed?: number;
  /** Also listen on plain HTTP (`httpUrl`), where every request acts as the admin user. */
  plainHttp?: boolean;
  /** Clock for timestamps and AGE columns. */
  now?: () => Date;
  /** Run the workload controllers and the scheduler (./controllers.ts). */
  controllers?: boolean;
  /** How often watches with allowWatchBookmarks=true get a BOOKMARK event (default 1000 ms; the real server: about a minute). */
  bookmarkIntervalMs?: number;
  /** Speak HTTP/2 as well as HTTP/1.1 over TLS, chosen by ALPN, as a real API server does (default: HTTP/1.1 only). */
  http2?: boolean;
};

export type ApiEmulator = {
  url: string;
  httpUrl?: string;
  caFile: string;
  caPem: string;
  kubeconfigPath: string;
  tokens: {admin: string; readonly: string; limited: string};
  addUser(name: string, rules: RbacRule[]): string;
  issueClientCert(user: string, groups?: string[]): ClientCert;
  writeKubeconfig(path: string, opts?: {context?: string; namespace?: string}): void;
  /** TLS connections accepted so far (each client connection counts once, whatever it carries). */
  tcpConnections(): number;
  tlsConnections(): number;
  objects(resource: string, namespace?: string): any[];
  getObject(resource: string, namespace: string | undefined, name: string): any | undefined;
  count(resource: string, namespace?: string): number;
  seed: Seeder;
  requests: RequestRecord[];
  resetRequests(): void;
  compact(): void;
  /** Ends every open watch stream (as a server timeout or restart does); clients watch again from their last resourceVersion. */
  endWatches(): void;
  faults: FaultInjector;
  local: LocalApi;
  settled(): Promise<void>;
  stop(): Promise<void>;
};

const BUILTIN_NAMESPACES = [`default`, `kube-system`, `kube-public`, `kube-node-lease`];

/** Starts an emulator on 127.0.0.1 (random port). */
export async function startApiEmulator(options: ApiEmulatorOptions = {}): Promise<ApiEmulator> {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), `api-emulator-`));
  try {
    return await start(dir, options);
  } catch (e) {
    fs.rmSync(dir, {recursive: true, force: true});
    throw e;
  }
}

async function start(dir: string, options: ApiEmulatorOptions): Promise<ApiEmulator> {
  const now = options.now ?? (() => new Date());
  const pki = createPki(dir);
  const store = new Store();
  const authorizer = new Authorizer();
  const tokens = {
    admin: authorizer.addUser(`admin`, [{verbs: [`*`], resources: [`*`], apiGroups: [`*`]}], [`system:masters`, `system:authenticated`]),
    readonly: authorizer.addUser(`readonly`, [{verbs: [`get`, `list`, `watch`], resources: [`*`], apiGroups: [`*`]}]),
    limited: authorizer.addUser(`limited`, [{verbs: [`*`], resources: [`*`], apiGroups: [`*`], namespaces: [`team-a`]}]),
  };
  const extraUsers: Array<{name: string; token: string}> = [];
  const rest = new Rest(store, authorizer, now);
  for (const ns of BUILTIN_NAMESPACES)
    rest.create(resourceByName(`namespaces`), undefined, {metadata: {name: ns}}, {fieldManager: `kube-apiserver`});
  const faults = new Faults(options.seed ?? 1);
  const requests: RequestRecord[] = [];
  const watches = new Set<ServerResponse>();
  const deps = {rest, authorizer, faults, requests, now, watches, bookmarkIntervalMs: options.bookmarkIntervalMs};

  const sockets = new Set<Socket>();
  let tlsConnections = 0;
  let tcpConnections = 0;
  const track = (server: http.Server | https.Server) => {
    server.on(`connection`, (s: Socket) => {
      tcpConnections++;
      sockets.add(s);
      s.on(`close`, () => sockets.delete(s));
    });
    server.on(`secureConnection`, (s: Socket) => {
      tlsConnections++;
      sockets.add(s);
      s.on(`close`, () => sockets.delete(s));
    });
  };
  const tlsOptions = {cert: pki.serverCertPem, key: pki.serverKeyPem, ca: pki.caPem, requestCert: true, rejectUnauthorized: false};
  // With http2, the same handler answers both protocols (Node's compatibility API gives it request/response objects).
  // PULLSECRET_TEST_HTTP2=1 (npm run test:http2) makes HTTP/2 the default, so that every command test also runs over
  // the transport's own HTTP/2 client, as against a real API server.
  const tlsServer = (options.http2 ?? process.env.PULLSECRET_TEST_HTTP2 === `1`)
    ? http2.createSecureServer({...tlsOptions, allowHTTP1: true}, makeHandler(deps, {plain: false}) as unknown as Parameters<typeof http2.createSecureServer>[1]) as unknown as https.Server
    : https.createServer(tlsOptions, makeHandler(deps, {plain: false}));
  track(tlsServer);
  tlsServer.keepAliveTimeout = 30_000;
  const listen = (server: http.Server | https.Server) => new Promise<number>((resolve, reject) => {
    server.once(`error`, reject);
    server.listen(0, `127.0.0.1`, () => resolve((server.address() as {port: number}).port));
  });
  const port = await listen(tlsServer);
  let plainServer: http.Server | undefined;
  let httpUrl: string | undefined;
  if (options.plainHttp) {
    plainServer = http.createServer(makeHandler(deps, {plain: true}));
    track(plainServer);
    httpUrl = `http://127.0.0.1:${await listen(plainServer)}`;
  }
  const url = `https://127.0.0.1:${port}`;

  const writeKubeconfig = (file: string, opts: {context?: string; namespace?: string} = {}) => {
    const users = [
      {name: `admin`, token: tokens.admin},
      {name: `readonly`, token: tokens.readonly},
      {name: `limited`, token: tokens.limited},
      ...extraUsers,
    ];
    const current = opts.context ?? `admin`;
    const config = {
      apiVersion: `v1`,
      kind: `Config`,
      preferences: {},
      clusters: [{name: `emulator`, cluster: {server: url, 'certificate-authority-data': Buffer.from(pki.caPem).toString(`base64`)}}],
      contexts: users.map(u => ({name: u.name, context: {cluster: `emulator`, user: u.name, ...(opts.namespace !== undefined && u.name === current ? {namespace: opts.namespace} : {})}})),
      'current-context': current,
      users: users.map(u => ({name: u.name, user: {token: u.token}})),
    };
    fs.writeFileSync(file, YAML.stringify(config), {mode: 0o600});
  };
  const kubeconfigPath = path.join(dir, `kubeconfig`);
  writeKubeconfig(kubeconfigPath);

  const local = makeLocalApi(rest, now);
  const controllers: Controllers | undefined = options.controllers ? startControllers(local) : undefined;
  let stopped = false;
  return {
    url,
    ...(httpUrl ? {httpUrl} : {}),
    caFile: pki.caFile,
    caPem: pki.caPem,
    kubeconfigPath,
    tokens,
    addUser(name, rules) {
      const token = authorizer.addUser(name, rules);
      const existing = extraUsers.find(u => u.name === name);
      if (existing) existing.token = token;
      else extraUsers.push({name, token});
      writeKubeconfig(kubeconfigPath);
      return token;
    },
    issueClientCert(user, groups = []) {
      return issueClientCertificate(pki, user, groups);
    },
    writeKubeconfig,
    tcpConnections: () => tcpConnections,
    tlsConnections: () => tlsConnections,
    objects(resource, namespace) {
      resourceByName(resource);
      return store.list(resource, {namespace}).items.map(o => structuredClone(o));
    },
    getObject(resource, namespace, name) {
      const def = resourceByName(resource);
      const obj = store.get(resource, def.namespaced ? namespace : undefined, name);
      return obj === undefined ? undefined : structuredClone(obj);
    },
    count(resource, namespace) {
      resourceByName(resource);
      return namespace === undefined ? store.count(resource) : store.list(resource, {namespace}).items.length;
    },
    seed: makeSeeder(rest, now),
    requests,
    resetRequests() {
      requests.length = 0;
    },
    endWatches() {
      for (const w of [...watches])
        w.end();
    },
    compact() {
      rest.compact();
    },
    faults: {
      add: (spec: FaultSpec) => faults.add(spec),
      clear: () => faults.clear(),
    },
    local,
    settled: () => controllers?.settled() ?? Promise.resolve(),
    async stop() {
      if (stopped)
        return;
      stopped = true;
      controllers?.stop();
      for (const w of watches)
        w.end();
      const closing = [tlsServer, plainServer].filter((s): s is http.Server => s !== undefined).map(s => new Promise<void>(resolve => s.close(() => resolve())));
      for (const s of sockets)
        s.destroy();
      for (const s of [tlsServer, plainServer])
        (s as Partial<http.Server> | undefined)?.closeAllConnections?.();
      await Promise.all(closing);
      fs.rmSync(dir, {recursive: true, force: true});
    },
  };
}
