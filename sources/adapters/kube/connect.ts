/**
 * `connectCluster`: resolves the kubeconfig like kubectl, loads the user's credentials (client-node,
 * lazily) and returns a `ClusterSession` whose requests this adapter sends itself.
 */
import {createSecureContext} from 'node:tls';
import type {SecureContextOptions} from 'node:tls';
import type {Agent as HttpAgent, ProxyEnv} from 'node:http';
import {PullSecretError} from '../../core/errors.ts';
import type {ClusterSession, ClusterTarget} from '../../core/ports.ts';
import {loadCredentials} from './credentials.ts';
import type {Credentials, RequestCredentials} from './credentials.ts';
import {kubeconfigFiles, resolveKubeconfig} from './kubeconfig.ts';
import type {KubeconfigRequest, ResolvedCluster} from './kubeconfig.ts';
import {inClusterAvailable, resolveInCluster} from './inCluster.ts';
import {KubeClusterSession} from './session.ts';
import {Transport} from './transport.ts';
import type {DirectSettings, RequestAuth, RetryPolicy} from './transport.ts';
import {secureContextTrustingOnly, useDefaultTrust} from '../trust.ts';

export {KubeApiError, isKubeApiError} from './errors.ts';
export {KubeClusterSession} from './session.ts';

/** Test and tuning knobs that are not part of the port. */
export type ConnectOptions = {
  retry?: Partial<RetryPolicy>;
  /** The most of one API answer read (default 512 MiB, transport.ts MAX_RESPONSE_BYTES). */
  maxResponseBytes?: number;
  /** How long the transport's own connections stay open without a request (default 90 s, http2.ts IDLE_TIMEOUT_MS). */
  idleTimeoutMs?: number;
  /** Waits between transport retries (default: a timer); the composition root passes the context's `sleep`. */
  sleep?: (ms: number) => Promise<void>;
  /** The back-off's jitter, a number in [0, 1) (default `Math.random`); the composition root passes the context's `random`. */
  random?: () => number;
};

/**
 * Opens a session for the target: `--kubeconfig`, else every file in `KUBECONFIG` (merged, first wins),
 * else `~/.kube/config`; `--context` over `current-context`; namespace from `-n`, the context, or `default`.
 * Throws one-line `PullSecretError`s for every kubeconfig problem (never client-node's localhost:8080 fallback).
 */
export async function connectCluster(target: ClusterTarget, options: ConnectOptions = {}): Promise<ClusterSession> {
  const env = target.env ?? {};
  const request = {
    explicitPath: target.kubeconfig,
    kubeconfigEnv: env.KUBECONFIG,
    homedir: target.homedir,
    cwd: target.cwd,
    context: target.context,
    namespace: target.namespace,
  };
  // Like clientcmd: the in-cluster configuration only when no kubeconfig file is there at all.
  const inCluster = noKubeconfig(request) && (target.context === undefined || target.context === ``) && inClusterAvailable(env, target.serviceAccountDir)
    ? resolveInCluster(env, target.serviceAccountDir!, target.namespace)
    : undefined;
  const resolved = inCluster?.resolved ?? resolveKubeconfig(request);
  const {cluster} = resolved;
  const plainHttp = cluster.server.startsWith(`http:`);
  let credentials: Credentials;
  if (inCluster !== undefined) {
    credentials = inCluster.credentials;
  } else if (plainHttp) {
    // Like kubectl (clientcmd sets credentials only for TLS): nothing secret travels in clear text.
    // That is what `kubectl proxy` expects; it adds the credentials itself.
    credentials = {current: async () => ({headers: {}}), initial: {headers: {}}, kind: `none (plain http)`};
  } else {
    credentials = await loadCredentials(resolved, env, {log: target.log});
  }
  target.log?.(`using context "${resolved.contextName}" from ${resolved.files.join(`:`)}: server ${cluster.server}, namespace "${resolved.namespace}", credentials: ${credentials.kind}${cluster.proxyUrl ? `, proxy ${redactUrl(cluster.proxyUrl)}` : ``}`);

  const agents = new AgentCache(cluster, env, resolved.user.name);
  const toAuth = (request: RequestCredentials): RequestAuth => {
    const {agent, direct} = agents.get(request.cert, request.key);
    return {
      headers: request.headers,
      agent,
      ...(direct === undefined ? {} : {direct}),
      renew: request.renew && (async () => toAuth(await request.renew!())),
    };
  };
  // The first credentials now: a client certificate that TLS cannot use is a kubeconfig error at open time.
  toAuth(credentials.initial);
  const transport = new Transport({
    server: cluster.server,
    contextName: resolved.contextName,
    auth: async () => toAuth(await credentials.current()),
    timeoutMs: target.requestTimeoutMs,
    log: target.log,
    retry: options.retry,
    sleep: options.sleep,
    random: options.random,
    maxResponseBytes: options.maxResponseBytes,
    idleTimeoutMs: options.idleTimeoutMs,
  });
  return new KubeClusterSession({
    contextName: resolved.contextName,
    namespace: resolved.namespace,
    namespaceExplicit: resolved.namespaceExplicit,
    server: cluster.server,
    transport,
    redactor: target.redactor,
  });
}

/** True when kubectl would find no kubeconfig file (no --kubeconfig, no KUBECONFIG, no ~/.kube/config). */
function noKubeconfig(request: KubeconfigRequest): boolean {
  try {
    kubeconfigFiles(request);
    return false;
  } catch {
    return request.explicitPath === undefined || request.explicitPath === ``;
  }
}

/**
 * One keep-alive agent per client certificate: static credentials use one for the whole session, an
 * exec plugin that hands out a new certificate gets a new agent (the old one's idle sockets are closed).
 */
class AgentCache {
  private readonly cluster: ResolvedCluster;
  private readonly env: Record<string, string | undefined>;
  private readonly userName: string;
  private last: {cert?: string | Buffer; key?: string | Buffer; made: MadeAgent} | undefined;

  constructor(cluster: ResolvedCluster, env: Record<string, string | undefined>, userName: string) {
    this.cluster = cluster;
    this.env = env;
    this.userName = userName;
  }

  get(cert: string | Buffer | undefined, key: string | Buffer | undefined): MadeAgent {
    if (this.last && sameMaterial(this.last.cert, cert) && sameMaterial(this.last.key, key))
      return this.last.made;
    const made = makeAgent(this.cluster, cert, key, this.env, this.userName);
    const previous = this.last?.made;
    this.last = {cert, key, made};
    // Requests still running on the previous agent keep their sockets; only idle ones are closed.
    if (previous?.made())
      closeIdleSockets(previous.agent());
    return made;
  }
}

function sameMaterial(a: string | Buffer | undefined, b: string | Buffer | undefined): boolean {
  if (a === b)
    return true;
  if (a === undefined || b === undefined)
    return false;
  return Buffer.from(a).equals(Buffer.from(b));
}

function closeIdleSockets(agent: HttpAgent): void {
  for (const sockets of Object.values(agent.freeSockets)) {
    for (const socket of sockets ?? [])
      socket.destroy();
  }
}

/**
 * The keep-alive HTTP/1.1 agent, made on first use (node:http and node:https load only then: a run whose requests the
 * transport sends over its own connections never needs them), and without a proxy what those connections need
 * (transport.ts).
 */
type MadeAgent = {agent: () => HttpAgent; made: () => boolean; direct?: DirectSettings};

function makeAgent(cluster: ResolvedCluster, cert: string | Buffer | undefined, key: string | Buffer | undefined, env: Record<string, string | undefined>, userName: string): MadeAgent {
  const proxyEnv = proxyEnvironment(cluster, env);
  if (cluster.server.startsWith(`http:`)) {
    const made = lazyAgent(() => new (process.getBuiltinModule(`node:http`).Agent)({keepAlive: true, proxyEnv}));
    return proxyEnv === undefined ? {...made, direct: {}} : made;
  }
  // A proxy's own certificate is checked against Node's default store, and its connections are made later.
  if (proxyEnv !== undefined)
    useDefaultTrust();
  const tlsOptions: SecureContextOptions = {};
  if (cluster.ca)
    tlsOptions.ca = cluster.ca;
  if (cert !== undefined)
    tlsOptions.cert = cert;
  if (key !== undefined)
    tlsOptions.key = key;
  let secureContext;
  try {
    // With the cluster's CA, a context that trusts only it, as kubectl does (and without parsing Node's ~120 root
    // certificates, adapters/trust.ts); through a proxy, Node builds the connections from the options as it always did.
    if (cluster.ca && proxyEnv === undefined) {
      secureContext = secureContextTrustingOnly(cluster.ca, {cert: tlsOptions.cert, key: tlsOptions.key}, env);
    } else {
      useDefaultTrust();
      secureContext = createSecureContext(tlsOptions);
    }
  } catch (error) {
    throw new PullSecretError(`the client certificate or key of user "${userName}" cannot be used (${(error as Error).message.split(`\n`)[0]}); fix the kubeconfig`, {cause: error});
  }
  const made = lazyAgent(() => new (process.getBuiltinModule(`node:https`).Agent)({
    ...tlsOptions,
    // One secure context for every connection of the session (CA and client certificate parsed once), unless a proxy
    // is in the way: Node's proxy tunnel then builds its connections from the options, as it always did.
    ...(proxyEnv === undefined ? {secureContext} : {}),
    keepAlive: true,
    rejectUnauthorized: !cluster.insecureSkipTlsVerify,
    servername: cluster.tlsServerName,
    proxyEnv,
  }));
  // Through a proxy, the agent only (Node's tunnel is the agent's).
  return proxyEnv === undefined
    ? {...made, direct: {tls: {secureContext, rejectUnauthorized: !cluster.insecureSkipTlsVerify, ...(cluster.tlsServerName === undefined ? {} : {servername: cluster.tlsServerName})}}}
    : made;
}

/** An agent made by `make` on the first call of `agent()`, the same one afterwards. */
function lazyAgent(make: () => HttpAgent): MadeAgent {
  let agent: HttpAgent | undefined;
  return {agent: () => agent ??= make(), made: () => agent !== undefined};
}

/**
 * `proxy-url` applies to every request of the cluster; otherwise kubectl (Go's ProxyFromEnvironment)
 * honours HTTPS_PROXY/HTTP_PROXY/NO_PROXY from the environment and never proxies loopback addresses.
 * Node's built-in proxy support does the CONNECT tunnel. One difference from kubectl: an https:// proxy's
 * own certificate is checked against Node's trust store (plus NODE_EXTRA_CA_CERTS), not the cluster CA.
 */
function proxyEnvironment(cluster: ResolvedCluster, env: Record<string, string | undefined>): ProxyEnv | undefined {
  if (cluster.proxyUrl)
    return {HTTPS_PROXY: cluster.proxyUrl, HTTP_PROXY: cluster.proxyUrl};
  const httpsProxy = env.HTTPS_PROXY ?? env.https_proxy;
  const httpProxy = env.HTTP_PROXY ?? env.http_proxy;
  if (!httpsProxy && !httpProxy)
    return undefined;
  const noProxy = [env.NO_PROXY ?? env.no_proxy, `localhost`, `127.0.0.1`, `::1`].filter(Boolean).join(`,`);
  return {HTTPS_PROXY: httpsProxy, HTTP_PROXY: httpProxy, NO_PROXY: noProxy};
}

/** A proxy URL may carry a password; logs show it without. */
function redactUrl(value: string): string {
  try {
    const url = new URL(value);
    if (url.password)
      url.password = `xxxxx`;
    return url.href;
  } catch {
    return `(invalid URL)`;
  }
}
