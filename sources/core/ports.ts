/**
 * Ports: the interfaces through which the core and the commands reach the outside world.
 * Adapters (sources/adapters/**) implement them; tests use the real adapters against the
 * API emulator and the real registry. Only plain data crosses these boundaries.
 */
import type {SecretRedactor} from './redact.ts';
import type {ManifestPlatforms} from './registry/platforms.ts';

/** A Kubernetes object as plain JSON. */
export type KubeObject = {
  apiVersion?: string;
  kind?: string;
  metadata: {
    name: string;
    namespace?: string;
    uid?: string;
    resourceVersion?: string;
    generation?: number;
    creationTimestamp?: string;
    labels?: Record<string, string>;
    annotations?: Record<string, string>;
    ownerReferences?: Array<{apiVersion: string; kind: string; name: string; uid: string; controller?: boolean}>;
    [key: string]: unknown;
  };
  [key: string]: unknown;
};

/** The resources the product reads or writes, by their plural REST name. */
export type ResourceName =
  | `namespaces`
  | `secrets`
  | `serviceaccounts`
  | `pods`
  | `events`
  | `replicationcontrollers`
  | `deployments`
  | `statefulsets`
  | `daemonsets`
  | `replicasets`
  | `jobs`
  | `cronjobs`
  | `leases`
  | `nodes`;

export type DryRun = `none` | `client` | `server`;

export type ListOptions = {
  /** Omit for a cluster-wide list (one paginated request for all namespaces). */
  namespace?: string;
  labelSelector?: string;
  fieldSelector?: string;
  /** Page size; the adapter follows `continue` tokens until the list is complete. */
  limit?: number;
  /** Applied to each item as its page arrives, so that a large list is held only in the reduced form. */
  transform?: (item: KubeObject) => KubeObject;
};

export type WriteOptions = {
  /** `server` sends `dryRun=All`; `client` never reaches the adapter. */
  dryRun?: boolean;
  fieldManager?: string;
};

export type PatchType = `json` | `merge` | `strategic`;

/** A failed API call, carrying the server's `Status` fields. */
export type KubeApiErrorShape = {
  code: number;
  reason: string;
  message: string;
  /** The verb, resource and namespace of the request, for messages naming the missing permission. */
  verb: string;
  resource: string;
  namespace?: string;
  name?: string;
};

/** One connection to one cluster/context, with every request bounded by `--request-timeout` and retried on 429/5xx. */
export interface ClusterSession {
  /** The context's name as in the kubeconfig. */
  readonly contextName: string;
  /** Namespace from `-n`, else the context's, else `default`. */
  readonly namespace: string;
  /** True when the namespace came from `-n/--namespace`. */
  readonly namespaceExplicit: boolean;

  get(resource: ResourceName, namespace: string | undefined, name: string): Promise<KubeObject | null>;
  list(resource: ResourceName, options?: ListOptions): Promise<KubeObject[]>;
  create(resource: ResourceName, namespace: string | undefined, body: KubeObject, options?: WriteOptions): Promise<KubeObject>;
  replace(resource: ResourceName, namespace: string | undefined, name: string, body: KubeObject, options?: WriteOptions): Promise<KubeObject>;
  patch(resource: ResourceName, namespace: string | undefined, name: string, patch: unknown, type: PatchType, options?: WriteOptions): Promise<KubeObject>;
  delete(resource: ResourceName, namespace: string | undefined, name: string, options?: WriteOptions): Promise<void>;
  /** SelfSubjectAccessReview. */
  canI(verb: string, resource: ResourceName, namespace?: string): Promise<boolean>;
  /** Count of HTTP requests sent so far (for benchmarks and `-v`). */
  requestCount(): number;
}

/** One event of a watch stream (ERROR events become rejections of `watch`). */
export type WatchEvent = {type: `ADDED` | `MODIFIED` | `DELETED` | `BOOKMARK`; object: KubeObject};

export type WatchOptions = {
  namespace?: string;
  labelSelector?: string;
  /** Where the stream starts: the resourceVersion of the list it follows. */
  resourceVersion: string;
  /** The server ends the stream after this long (the caller then watches again from the last resourceVersion). */
  timeoutSeconds?: number;
};

/** A session that can also follow changes: list with the list's resourceVersion, then watch from it (the agent). */
export interface WatchSession extends ClusterSession {
  listWithVersion(resource: ResourceName, options?: ListOptions): Promise<{items: KubeObject[]; resourceVersion: string}>;
  /**
   * Streams events (bookmarks included) to `onEvent` until the server ends the stream (resolves) or `signal`
   * aborts it (resolves). Rejects with the API error when the server refuses it, including 410 Gone when the
   * resourceVersion is too old (relist then), and with a network error when the connection breaks.
   */
  watch(resource: ResourceName, options: WatchOptions, onEvent: (event: WatchEvent) => void, signal: AbortSignal): Promise<void>;
}

/** True when the session can list with versions and watch. */
export function canWatch(session: ClusterSession): session is WatchSession {
  return typeof (session as Partial<WatchSession>).watch === `function` && typeof (session as Partial<WatchSession>).listWithVersion === `function`;
}

/** What the global kubectl flags say about which cluster to talk to. */
export type ClusterTarget = {
  kubeconfig?: string;
  context?: string;
  namespace?: string;
  requestTimeoutMs?: number;
  /** The environment (for `KUBECONFIG`, proxies, PATH of exec plugins); commands pass `this.context.env`. */
  env?: Record<string, string | undefined>;
  /** The home directory, for `~/.kube/config`. */
  homedir?: string;
  /** The working directory, for relative `--kubeconfig`/`KUBECONFIG` paths. */
  cwd?: string;
  /** Receives `-v` lines (one request per line: method, URL, status, duration); never headers or bodies. */
  log?: (line: string) => void;
  /**
   * The pod's ServiceAccount directory (token, ca.crt, namespace): with no kubeconfig at all and
   * KUBERNETES_SERVICE_HOST/PORT in `env`, the session uses the in-cluster configuration from it.
   */
  serviceAccountDir?: string;
  /** The run's secret register: the session adds the secret values it writes and redacts server messages with it. */
  redactor?: SecretRedactor;
};

/** Opens a session for a target; throws `PullSecretError`s with one-line messages for missing/bad kubeconfigs. */
export type ClusterConnector = (target: ClusterTarget) => Promise<ClusterSession>;

/**
 * Runs `docker-credential-<helper> get` with the server URL on stdin; returns its JSON output, or null when it has no credentials.
 * `env`, when given, is the helper's environment (commands pass `context.env`, so PATH comes from the context).
 */
export type CredentialHelperRunner = (helper: string, serverUrl: string, env?: Record<string, string | undefined>) => Promise<{Username: string; Secret: string} | null>;

/**
 * Runs a `--password-command` (`sh -c`) and returns the password it printed on stdout (one trailing newline
 * removed). Throws a PullSecretError naming the failure (exit status, timeout, its stderr) and never the output.
 */
export type PasswordCommandRunner = (command: string, options: {env: Record<string, string | undefined>; cwd: string; timeoutMs: number}) => Promise<string>;

/** Stable registry outcome names, shared by explain, verify, doctor and list (docs/design.md). */
export type RegistryOutcome =
  | `ok`
  | `unauthorized`
  | `denied`
  | `not-found`
  | `rate-limited`
  | `unavailable`
  | `unreachable`
  | `tls-error`
  | `invalid-reference`;

/** A credential as the kubelet hands it to the runtime: username/password only (identity tokens are never used). */
export type BasicCredential = {username: string; password: string};

/** Where one image lives on the wire. */
export type ManifestTarget = {
  /** Registry host as the runtime dials it, e.g. `registry-1.docker.io`, `127.0.0.1:5000`. */
  host: string;
  /** Repository path, e.g. `library/nginx`. */
  repository: string;
  /** Tag or digest. */
  reference: string;
};

export type RegistryCheck = {
  outcome: RegistryOutcome;
  /** One human line explaining the outcome (never containing a secret). */
  detail: string;
  httpStatus?: number;
  /** Seconds, from `Retry-After` or Docker Hub's rate-limit headers. */
  retryAfterSeconds?: number;
  digest?: string;
  mediaType?: string;
  /** What the manifest says about platforms, when the check read it (`readManifest`, a GET) and it fit the size cap. */
  manifest?: ManifestPlatforms;
};

/** An image platform, as an OCI index entry or an image config states it (`linux/arm64/v8`). */
export type Platform = {os: string; architecture: string; variant?: string};

/** The platforms an image offers: the entries of an index, or the one of a single manifest's config. */
export type PlatformsCheck = {ok: true; platforms: Platform[]; index: boolean} | {ok: false; detail: string};

/** What containerd does for one credential: ping, challenge, token, manifest HEAD. */
export interface RegistryProbe {
  /**
   * `readManifest`: the platforms will be checked, so GET the manifest instead of HEAD and keep what it says about
   * platforms (`manifest`): one request instead of a HEAD and a GET (Docker Hub still gets a HEAD: its GETs count
   * against the pull quota, so only an image proved pullable is read).
   */
  checkManifest(target: ManifestTarget, credential: BasicCredential | null, options?: {readManifest?: boolean}): Promise<RegistryCheck>;
  /**
   * The platforms an image offers, read with a credential `checkManifest` proved: one GET of an index, or of a single
   * manifest and its config blob; with `known` (the manifest `checkManifest` read), only the config blob of a single
   * manifest. Never sent before `checkManifest` succeeded for the same (image, credential).
   */
  platforms(target: ManifestTarget, credential: BasicCredential | null, known?: ManifestPlatforms): Promise<PlatformsCheck>;
  /** Counters for benchmarks: token requests and manifest requests sent so far. */
  stats(): {tokenRequests: number; manifestRequests: number; pings: number};
}

/** Options for the registry probe that commands build per run (CA files, insecure hosts, timeout). */
export type RegistryProbeOptions = {
  caFiles?: string[];
  insecureHosts?: string[];
  timeoutMs?: number;
  /** The run's secret register: the probe adds the credentials and tokens it uses. */
  redactor?: SecretRedactor;
  /** Receives `-v` lines (e.g. that TLS verification is off for an --insecure-registry host). */
  log?: (line: string) => void;
};
