import os from 'node:os';
import {Option, UsageError} from 'clipanion';
import {helpExample} from '../core/shell.ts';
import type {Usage} from 'clipanion';
import {PullSecretError} from '../core/errors.ts';
import {canWatch} from '../core/ports.ts';
import {earliestExpiry} from '../core/secrets/describe.ts';
import {registryTokenExpiry} from '../core/secrets/expiry.ts';
import {sameRegistryKey} from '../core/secrets/registryKey.ts';
import {DEFAULT_COMMAND_TIMEOUT_MS} from './CredentialOptions.ts';
import {KubeCommand, isConcurrency} from './KubeCommand.ts';
import {parseDuration} from './options.ts';

/** `kubectl pullsecret agent`: keep every declared sync policy true, and refresh tokens on schedule. */
export class AgentCommand extends KubeCommand {
  static override paths = [[`agent`]];
  static override usage: Usage = {
    description: `run continuously: keep every sync policy recorded with sync --keep true, and refresh password-command secrets`,
    details: `
      Lists and watches namespaces, ServiceAccounts and secrets, and reconciles every source secret that carries a sync
      policy (annotation pullsecret.kubectl.io/sync-policy, written by \`sync --keep\`): a namespace the policy selects gets
      its copy and the ServiceAccount references within moments of being created; a new ServiceAccount in scope is
      attached; a changed source reaches every copy; a deleted copy is recreated; with prune, copies outside the scope
      are removed. Every --refresh-interval it runs \`refresh\` (--before, --max-age) over the secrets with a recorded
      --password-command.

      Several replicas are safe: they elect a leader with the Lease --lease-name in --lease-namespace (default: the
      namespace of the context, or the pod's inside a cluster); only the leader writes, it renews the lease every
      --retry-period, and releases it on SIGTERM so that another replica takes over at once (else after --lease-duration).
      Inside a pod without a kubeconfig it uses the pod's ServiceAccount (see "Which cluster").

      /healthz, /readyz and /metrics (Prometheus text: reconciles, writes, errors, watch restarts, leader state) are
      served on --listen-address. Logs go to stderr, one line per event (one JSON object per line with --log-format
      json); they name objects and counts, never secret data. \`kubectl pullsecret install agent\` renders the manifests.
    `,
    examples: [
      helpExample(`Run the agent with the current kubeconfig context, metrics on port 8080`, [`agent`]),
      helpExample(`Run with JSON logs and a lease in the pullsecret-system namespace`, [`agent`, `--log-format`, `json`, `--lease-namespace`, `pullsecret-system`, `--listen-address`, `:9090`]),
    ],
  };

  listenAddress = Option.String(`--listen-address`, {description: `where /healthz, /readyz and /metrics are served (default :8080; empty to serve nothing)`});
  logFormat = Option.String(`--log-format`, {description: `text (default) or json (one object per line)`});
  leaseNamespace = Option.String(`--lease-namespace`, {description: `namespace of the leader-election Lease (default: the context's or the pod's namespace)`});
  leaseName = Option.String(`--lease-name`, {description: `name of the leader-election Lease (default kubectl-pullsecret-agent)`});
  identity = Option.String(`--identity`, {description: `this replica's name in the Lease (default: hostname and a random suffix)`});
  leaseDuration = Option.String(`--lease-duration`, {description: `how long a lease lasts without renewal before another replica takes over (default 15s)`});
  renewDeadline = Option.String(`--renew-deadline`, {description: `the leader stops writing when it could not renew for this long (default 10s)`});
  retryPeriod = Option.String(`--retry-period`, {description: `how often the lease is renewed or tried (default 2s)`});
  resyncPeriod = Option.String(`--resync-period`, {description: `every namespace is checked again this often, whatever the events (default 10m)`});
  refreshInterval = Option.String(`--refresh-interval`, {description: `how often to refresh password-command secrets (default 1h; 0 disables)`});
  before = Option.String(`--before`, {description: `with refresh: a token expiring within this is refreshed (default 3h)`});
  maxAge = Option.String(`--max-age`, {description: `with refresh: a secret without known expiry is refreshed when older than this (default never)`});
  passwordCommandTimeout = Option.String(`--password-command-timeout`, {description: `how long each recorded command may run (default 60s)`});
  concurrency = Option.String(`--concurrency`, {validator: isConcurrency, description: `how many namespaces to reconcile at once (default 16)`});

  async executeCommand() {
    const format = this.logFormat ?? `text`;
    if (format !== `text` && format !== `json`)
      throw new UsageError(`unsupported log format "${format}": use text or json`);
    const duration = (value: string | undefined, fallback: string, flag: string) => parseDuration(value ?? fallback, flag);
    const leaseMs = duration(this.leaseDuration, `15s`, `--lease-duration`);
    const renewMs = duration(this.renewDeadline, `10s`, `--renew-deadline`);
    const retryMs = duration(this.retryPeriod, `2s`, `--retry-period`);
    if (!(retryMs > 0 && retryMs < renewMs && renewMs < leaseMs))
      throw new UsageError(`--retry-period must be shorter than --renew-deadline, and --renew-deadline shorter than --lease-duration`);
    const resyncMs = duration(this.resyncPeriod, `10m`, `--resync-period`);
    if (resyncMs <= 0)
      throw new UsageError(`--resync-period must be longer than 0`);
    const refreshMs = duration(this.refreshInterval, `1h`, `--refresh-interval`);
    const beforeMs = duration(this.before, `3h`, `--before`);
    const maxAgeMs = this.maxAge === undefined ? undefined : duration(this.maxAge, ``, `--max-age`);
    const timeoutMs = this.passwordCommandTimeout === undefined ? DEFAULT_COMMAND_TIMEOUT_MS : parseDuration(this.passwordCommandTimeout, `--password-command-timeout`);
    const shutdown = this.context.shutdownSignal?.();
    if (shutdown === undefined)
      throw new Error(`Assertion failed: the agent needs a shutdown signal in the context`);

    const session = await this.connect();
    if (!canWatch(session))
      throw new PullSecretError(`the cluster connection cannot watch; the agent needs list and watch`);
    const {env, cwd} = this.context;
    const random = Math.floor(this.context.random() * 0xffffffff).toString(16).padStart(8, `0`);
    // Loaded on first use: the runner's /healthz server needs node:http, and no other command needs the agent's code.
    const {makeLogger, runAgent} = await import('../adapters/agent/runner.ts');
    return runAgent({
      session,
      log: makeLogger(line => this.context.stderr.write(line), format, this.context.now),
      pacing: this.context,
      now: this.context.now,
      listenAddress: this.listenAddress ?? `:8080`,
      lease: {
        namespace: this.leaseNamespace ?? session.namespace,
        name: this.leaseName ?? `kubectl-pullsecret-agent`,
        identity: this.identity ?? `${env.HOSTNAME ?? os.hostname()}_${random}`,
        durationSeconds: Math.ceil(leaseMs / 1000),
        renewSeconds: renewMs / 1000,
        retrySeconds: retryMs / 1000,
      },
      concurrency: this.concurrency ?? 16,
      resyncMs,
      refresh: {
        everyMs: refreshMs,
        window: {beforeMs, ...(maxAgeMs === undefined ? {} : {maxAgeMs})},
        runCommand: command => this.context.runPasswordCommand(command, {env, cwd, timeoutMs}),
        expiryOf: json => earliestExpiry(json, registryTokenExpiry),
        sameRegistry: sameRegistryKey,
      },
      shutdown,
    });
  }
}
