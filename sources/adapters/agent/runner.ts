/**
 * The agent's engine: list + watch of namespaces, ServiceAccounts and secrets into the core's AgentState
 * (re-watch from the last resourceVersion when a stream ends, relist on 410 Gone, backoff on errors), a
 * queue of namespaces to reconcile, leader election by Lease (only the leader writes; the lease is
 * released on shutdown), `refresh` on schedule, and `/healthz` + `/metrics` over HTTP.
 *
 * Log lines carry names, counts and error lines, never secret data. Timers and sockets live here; every
 * decision is the core's (core/agent/*, core/refresh/refresh.ts).
 */
import http from 'node:http';
import type {AddressInfo} from 'node:net';
import type {KubeObject, WatchSession} from '../../core/ports.ts';
import type {Pacing} from '../../core/retry.ts';
import {AgentState} from '../../core/agent/state.ts';
import type {Affected} from '../../core/agent/state.ts';
import {reconcileNamespace} from '../../core/agent/reconcile.ts';
import {leaseHolder, leaseStep, releasedLease} from '../../core/agent/leader.ts';
import {isRefreshable, refreshSecret} from '../../core/refresh/refresh.ts';
import type {RefreshDeps, RefreshWindow} from '../../core/refresh/refresh.ts';
import {MANAGED_BY_LABEL, MANAGED_BY_VALUE} from '../../core/secrets/metadata.ts';
import {fanOut} from '../../core/fanout.ts';
import {errorLine} from '../../core/errors.ts';

/** How the agent logs: one line per event, text or JSON. */
export type AgentLogger = (level: `info` | `warn` | `error`, message: string, fields?: Record<string, string | number | boolean>) => void;

export type AgentOptions = {
  session: WatchSession;
  log: AgentLogger;
  pacing: Pacing;
  now: () => Date;
  /** `host:port` for /healthz and /metrics (`:8080`, `127.0.0.1:0`); empty: no server. */
  listenAddress: string;
  lease: {namespace: string; name: string; identity: string; durationSeconds: number; renewSeconds: number; retrySeconds: number};
  /** Namespaces reconciled at once. */
  concurrency: number;
  /** Every namespace is reconciled again this often (ms), whatever the events said. */
  resyncMs: number;
  /** Refresh of password-command secrets: how often (0: never), and the window. */
  refresh: {everyMs: number; window: RefreshWindow; runCommand: RefreshDeps[`runCommand`]; expiryOf: RefreshDeps[`expiryOf`]; sameRegistry: RefreshDeps[`sameRegistry`]};
  /** Aborted on SIGTERM/SIGINT: stop, release the lease, close the server. */
  shutdown: AbortSignal;
  /** Called once the HTTP server listens, with its address (tests use port 0). */
  onListening?: (address: string) => void;
};

type Kind = `namespaces` | `secrets` | `serviceaccounts`;
const KINDS: Kind[] = [`namespaces`, `serviceaccounts`, `secrets`];

/** Counters and gauges exported on /metrics. */
class Metrics {
  reconciles = 0;
  writes = 0;
  errors = 0;
  watchRestarts = 0;
  relists = 0;
  refreshes = 0;
  leader = 0;
  leaderTransitions = 0;
  queueDepth = 0;
  namespaces = 0;
  sources = 0;

  text(): string {
    const lines: string[] = [];
    const metric = (name: string, type: `counter` | `gauge`, help: string, value: number) => {
      lines.push(`# HELP ${name} ${help}`, `# TYPE ${name} ${type}`, `${name} ${value}`);
    };
    metric(`pullsecret_agent_reconciles_total`, `counter`, `Namespaces reconciled.`, this.reconciles);
    metric(`pullsecret_agent_writes_total`, `counter`, `Writes sent: copies created, updated or deleted, ServiceAccounts patched, secrets refreshed.`, this.writes);
    metric(`pullsecret_agent_errors_total`, `counter`, `Failed reconciles, refreshes and API calls.`, this.errors);
    metric(`pullsecret_agent_watch_restarts_total`, `counter`, `Watch streams started again after they ended or failed.`, this.watchRestarts);
    metric(`pullsecret_agent_relists_total`, `counter`, `Full lists after a 410 Gone or an error.`, this.relists);
    metric(`pullsecret_agent_refreshes_total`, `counter`, `Secrets refreshed with their password command.`, this.refreshes);
    metric(`pullsecret_agent_leader`, `gauge`, `1 when this replica holds the lease and writes, else 0.`, this.leader);
    metric(`pullsecret_agent_leader_transitions_total`, `counter`, `Times this replica became the leader.`, this.leaderTransitions);
    metric(`pullsecret_agent_queue_depth`, `gauge`, `Namespaces waiting to be reconciled.`, this.queueDepth);
    metric(`pullsecret_agent_namespaces`, `gauge`, `Namespaces known.`, this.namespaces);
    metric(`pullsecret_agent_sync_policies`, `gauge`, `Source secrets with a sync policy.`, this.sources);
    return `${lines.join(`\n`)}\n`;
  }
}

const sleep = (ms: number, signal: AbortSignal) => new Promise<void>(resolve => {
  if (signal.aborted)
    return resolve();
  const timer = setTimeout(done, ms);
  function done() {
    clearTimeout(timer);
    signal.removeEventListener(`abort`, done);
    resolve();
  }
  signal.addEventListener(`abort`, done);
});

/** Runs the agent until `shutdown` aborts; resolves with the exit code. */
export async function runAgent(options: AgentOptions): Promise<number> {
  const {session, log} = options;
  const state = new AgentState();
  const metrics = new Metrics();
  const synced = new Set<Kind>();
  const stop = new AbortController();
  options.shutdown.addEventListener(`abort`, () => stop.abort(), {once: true});
  let isLeader = false;
  /** Aborted when leadership is lost, so that no write outlives it. */
  let leaderScope = new AbortController();

  // --- the queue -----------------------------------------------------------------------------------
  const pending = new Set<string>();
  let wake: (() => void) | undefined;
  const enqueue = (affected: Affected) => {
    if (`all` in affected) {
      for (const namespace of state.namespaces.keys())
        pending.add(namespace);
    } else {
      for (const namespace of affected.namespaces) {
        if (namespace !== ``)
          pending.add(namespace);
      }
    }
    metrics.queueDepth = pending.size;
    wake?.();
  };

  // --- list + watch --------------------------------------------------------------------------------
  const inform = async (kind: Kind): Promise<void> => {
    let resourceVersion: string | undefined;
    let failures = 0;
    while (!stop.signal.aborted) {
      try {
        if (resourceVersion === undefined) {
          const listed = await session.listWithVersion(kind);
          resourceVersion = listed.resourceVersion;
          enqueue(state.replace(kind, listed.items));
          if (!synced.has(kind))
            log(`info`, `listed ${kind}`, {count: listed.items.length, resourceVersion});
          synced.add(kind);
          metrics.namespaces = state.namespaces.size;
          metrics.sources = state.sources.size;
        }
        await session.watch(kind, {resourceVersion, timeoutSeconds: 300}, event => {
          resourceVersion = event.object.metadata.resourceVersion ?? resourceVersion;
          if (event.type === `BOOKMARK`)
            return;
          enqueue(state.apply(kind, event.type, event.object));
          metrics.namespaces = state.namespaces.size;
          metrics.sources = state.sources.size;
        }, stop.signal);
        failures = 0;
        if (!stop.signal.aborted)
          metrics.watchRestarts++;
      } catch (error) {
        if (stop.signal.aborted)
          break;
        metrics.errors++;
        metrics.watchRestarts++;
        if ((error as {code?: unknown}).code === 410) {
          // Too old: the events since were compacted away. A new list is the only way to catch up.
          log(`info`, `watch of ${kind} expired (410 Gone); listing again`, {resourceVersion: resourceVersion ?? ``});
          resourceVersion = undefined;
          metrics.relists++;
          continue;
        }
        failures++;
        const delay = Math.min(30_000, 250 * 2 ** Math.min(failures, 7)) * (0.5 + options.pacing.random() / 2);
        log(`warn`, `watch of ${kind} failed; retrying`, {error: errorLine(error), retryInMs: Math.round(delay)});
        // After repeated failures the watch history may be gone or the cache wrong: list again.
        if (failures >= 3) {
          resourceVersion = undefined;
          metrics.relists++;
        }
        await sleep(delay, stop.signal);
      }
    }
  };

  // --- leader election -------------------------------------------------------------------------------
  const {lease} = options;
  let lastRenew = 0;
  const becomeFollower = (why: string) => {
    if (!isLeader)
      return;
    isLeader = false;
    metrics.leader = 0;
    leaderScope.abort();
    log(`warn`, `lost the lease; no longer writing`, {lease: `${lease.namespace}/${lease.name}`, reason: why});
  };
  const elect = async (): Promise<void> => {
    while (!stop.signal.aborted) {
      try {
        const current = await session.get(`leases`, lease.namespace, lease.name);
        const step = leaseStep(current, lease, lease.identity, options.now(), lease.durationSeconds);
        if (step.action === `wait`) {
          becomeFollower(`held by ${step.holder}`);
        } else {
          if (step.action === `create`)
            await session.create(`leases`, lease.namespace, step.body);
          else
            await session.replace(`leases`, lease.namespace, lease.name, step.body);
          lastRenew = Date.now();
          if (!isLeader) {
            isLeader = true;
            leaderScope = new AbortController();
            metrics.leader = 1;
            metrics.leaderTransitions++;
            log(`info`, `became the leader`, {lease: `${lease.namespace}/${lease.name}`, identity: lease.identity, previous: leaseHolder(current)});
            enqueue({all: true});
          }
        }
      } catch (error) {
        metrics.errors++;
        if ((error as {code?: unknown}).code === 409) {
          // Someone else wrote the lease since we read it: they won this round.
          if (isLeader)
            becomeFollower(`lease changed by another replica`);
        } else {
          log(`warn`, `lease update failed`, {error: errorLine(error)});
        }
      }
      // A leader that could not renew within renewSeconds stops writing before its lease can expire.
      if (isLeader && Date.now() - lastRenew > lease.renewSeconds * 1000)
        becomeFollower(`could not renew within ${lease.renewSeconds}s`);
      await sleep(lease.retrySeconds * 1000, stop.signal);
    }
  };

  // --- the workers ---------------------------------------------------------------------------------
  const work = async (): Promise<void> => {
    while (!stop.signal.aborted) {
      if (!isLeader || pending.size === 0 || synced.size < KINDS.length) {
        await new Promise<void>(resolve => {
          wake = resolve;
          setTimeout(resolve, 500).unref();
        });
        wake = undefined;
        continue;
      }
      const batch = [...pending];
      pending.clear();
      metrics.queueDepth = 0;
      const scope = leaderScope.signal;
      await fanOut(batch, options.concurrency, async namespace => {
        if (scope.aborted || stop.signal.aborted) {
          pending.add(namespace);
          return;
        }
        const outcome = await reconcileNamespace(session, state, namespace, options.pacing);
        metrics.reconciles++;
        metrics.writes += outcome.writes;
        for (const change of outcome.changes)
          log(`info`, change, {namespace});
        if (outcome.errors.length > 0) {
          metrics.errors += outcome.errors.length;
          for (const error of outcome.errors)
            log(`warn`, `reconcile failed`, {namespace, error});
          // Try again later (a missing ServiceAccount appears, a fault passes).
          setTimeout(() => enqueue({namespaces: [namespace]}), 1000 + options.pacing.random() * 1000).unref();
        }
      });
    }
  };

  const resync = async (): Promise<void> => {
    while (!stop.signal.aborted) {
      await sleep(options.resyncMs, stop.signal);
      if (!stop.signal.aborted)
        enqueue({all: true});
    }
  };

  const refresh = async (): Promise<void> => {
    if (options.refresh.everyMs <= 0)
      return;
    while (!stop.signal.aborted) {
      await sleep(options.refresh.everyMs, stop.signal);
      if (!isLeader || stop.signal.aborted)
        continue;
      try {
        const secrets = (await session.list(`secrets`, {labelSelector: `${MANAGED_BY_LABEL}=${MANAGED_BY_VALUE}`})).filter(isRefreshable);
        for (const secret of secrets) {
          const result = await refreshSecret(session, secret, options.refresh.window, {
            now: options.now(), runCommand: options.refresh.runCommand, expiryOf: options.refresh.expiryOf, sameRegistry: options.refresh.sameRegistry, concurrency: options.concurrency, pacing: options.pacing,
          });
          const where = `${result.namespace}/${result.name}`;
          if (result.result === `refreshed`) {
            metrics.refreshes++;
            metrics.writes++;
            log(`info`, `secret refreshed`, {secret: where, reason: result.reason, copiesUpdated: result.copies.updated});
          } else if (result.result === `failed`) {
            metrics.errors++;
            log(`error`, `refresh failed; the secret was left as it was`, {secret: where, error: result.error ?? ``});
          }
        }
      } catch (error) {
        metrics.errors++;
        log(`warn`, `refresh failed`, {error: errorLine(error)});
      }
    }
  };

  // --- /healthz and /metrics -----------------------------------------------------------------------
  let server: http.Server | undefined;
  if (options.listenAddress !== ``) {
    const match = /^(.*):(\d+)$/.exec(options.listenAddress);
    const host = match?.[1] === `` || match?.[1] === undefined ? undefined : match[1].replace(/^\[(.*)\]$/, `$1`);
    const port = Number(match?.[2] ?? 8080);
    server = http.createServer((request, response) => {
      if (request.url === `/healthz`) {
        response.writeHead(200, {'Content-Type': `text/plain; charset=utf-8`});
        response.end(`ok\n`);
      } else if (request.url === `/readyz`) {
        const ready = synced.size === KINDS.length;
        response.writeHead(ready ? 200 : 503, {'Content-Type': `text/plain; charset=utf-8`});
        response.end(ready ? `ok\n` : `not synced\n`);
      } else if (request.url === `/metrics`) {
        response.writeHead(200, {'Content-Type': `text/plain; version=0.0.4; charset=utf-8`});
        response.end(metrics.text());
      } else {
        response.writeHead(404, {'Content-Type': `text/plain; charset=utf-8`});
        response.end(`404 page not found\n`);
      }
    });
    await new Promise<void>((resolve, reject) => {
      server!.once(`error`, reject);
      server!.listen(port, host, () => resolve());
    });
    const address = server.address() as AddressInfo;
    const shown = `${address.family === `IPv6` ? `[${address.address}]` : address.address}:${address.port}`;
    log(`info`, `serving /healthz and /metrics`, {address: shown});
    options.onListening?.(shown);
  }

  log(`info`, `agent started`, {identity: lease.identity, lease: `${lease.namespace}/${lease.name}`, context: session.contextName});
  const loops = [...KINDS.map(inform), elect(), work(), resync(), refresh()];
  await Promise.all(loops);

  // --- shutdown: release the lease so that another replica takes over at once ------------------------
  if (isLeader) {
    try {
      const current = await session.get(`leases`, lease.namespace, lease.name);
      if (current !== null && leaseHolder(current) === lease.identity)
        await session.replace(`leases`, lease.namespace, lease.name, releasedLease(current, options.now()));
      log(`info`, `released the lease`, {lease: `${lease.namespace}/${lease.name}`});
    } catch (error) {
      log(`warn`, `could not release the lease`, {error: errorLine(error)});
    }
  }
  await new Promise<void>(resolve => (server ? server.close(() => resolve()) : resolve()));
  server?.closeAllConnections();
  log(`info`, `agent stopped`);
  return 0;
}

/** A logger writing one line per call: JSON objects (`--log-format json`) or `time level message key=value`. */
export function makeLogger(write: (line: string) => void, format: `json` | `text`, now: () => Date): AgentLogger {
  return (level, message, fields = {}) => {
    const time = now().toISOString();
    if (format === `json`) {
      write(`${JSON.stringify({time, level, msg: message, ...fields})}\n`);
      return;
    }
    const rest = Object.entries(fields).map(([key, value]) => `${key}=${typeof value === `string` && /[\s"=]/.test(value) ? JSON.stringify(value) : String(value)}`).join(` `);
    write(`${time} ${level.toUpperCase()} ${message}${rest === `` ? `` : ` ${rest}`}\n`);
  };
}

export type {KubeObject};
