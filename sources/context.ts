import type {BaseContext} from 'clipanion';
import type {ClusterConnector, CredentialHelperRunner, PasswordCommandRunner, RegistryProbe, RegistryProbeOptions} from './core/ports.ts';
import type {SecretRedactor} from './core/redact.ts';

/**
 * Everything a command may touch, injected by `main.ts` (or by tests).
 * Commands never touch `process`; the network adapters reach them only through this context (the local-file
 * and output adapters are imported directly).
 */
export type PullSecretContext = BaseContext & {
  env: Record<string, string | undefined>;
  stdin: NodeJS.ReadableStream & {isTTY?: boolean; setRawMode?: (mode: boolean) => unknown};
  stdout: NodeJS.WritableStream & {isTTY?: boolean; columns?: number};
  stderr: NodeJS.WritableStream & {isTTY?: boolean; columns?: number};
  /** The user's home directory (for `~/.kube/config`, `~/.docker/config.json`). */
  homedir: string;
  /** The working directory, for relative paths. */
  cwd: string;
  /** Opens a cluster session from the kubectl flags. */
  connectCluster: ClusterConnector;
  /** Builds a registry probe (one per run, so that its token cache lives for the run); async so that the adapter loads on first use. */
  makeRegistryProbe: (options: RegistryProbeOptions) => Promise<RegistryProbe>;
  /** Runs Docker credential helpers. */
  runCredentialHelper: CredentialHelperRunner;
  /** Runs `--password-command` (`sh -c`), returning the password it printed. */
  runPasswordCommand: PasswordCommandRunner;
  /** The Node.js version running the plugin (for `version`). */
  nodeVersion: string;
  /**
   * The pod's ServiceAccount directory (main.ts: /var/run/secrets/kubernetes.io/serviceaccount): without any
   * kubeconfig, and with KUBERNETES_SERVICE_HOST/PORT set, commands use the in-cluster configuration from it.
   * Undefined: never in-cluster.
   */
  serviceAccountDir?: string;
  /**
   * A signal aborted when the process is asked to stop (SIGTERM, SIGINT). Only long-running commands (`agent`)
   * call it; main.ts installs the signal handlers on the first call, so other commands keep Ctrl-C's default.
   */
  shutdownSignal?: () => AbortSignal;
  /** The clock, injectable for expiry tests. */
  now: () => Date;
  /** Waits between the attempts of a write that lost a race (core/retry.ts); injectable so the core starts no timer. */
  sleep: (ms: number) => Promise<void>;
  /** A number in [0, 1), for the jitter of those waits. */
  random: () => number;
  /**
   * The run's secret register, set by `runPullSecret`, which also wraps stdout and stderr so that every
   * write is redacted with it; commands register the secret values they read (passwords, helper answers).
   */
  redactor?: SecretRedactor;
};
