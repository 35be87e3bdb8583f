/**
 * The agent's reconcile of one namespace, over the ClusterSession port: for every declared sync policy,
 * a namespace it selects gets a current copy of the source and the ServiceAccount references the policy
 * names (the same `syncCopy` as `sync --attach`, conflict-safe); a namespace it no longer selects loses the
 * copy when the policy prunes. Nothing is sent when the cached state already matches, so a resync of a
 * steady cluster costs no request.
 */
import type {ClusterSession} from '../ports.ts';
import type {Pacing} from '../retry.ts';
import {isCopyOf} from '../sync/plan.ts';
import {removeSecret, syncCopy} from '../sync/syncSecret.ts';
import type {AgentState, KeptSource} from './state.ts';

/** What reconciling one namespace did, for metrics and logs (never secret data). */
export type NamespaceOutcome = {
  namespace: string;
  /** Writes sent (copies created, updated or deleted; ServiceAccounts patched). */
  writes: number;
  /** One line per failure: `<source>: <step>: <error>`. */
  errors: string[];
  /** One line per change: `secret/regcred created from platform/regcred`. */
  changes: string[];
};

/** Reconciles one namespace against every kept source. */
export async function reconcileNamespace(session: ClusterSession, state: AgentState, namespace: string, pacing: Pacing): Promise<NamespaceOutcome> {
  const outcome: NamespaceOutcome = {namespace, writes: 0, errors: [], changes: []};
  for (const source of [...state.sources.values()].sort((a, b) => a.key.localeCompare(b.key)))
    await reconcileSource(session, state, namespace, source, pacing, outcome);
  return outcome;
}

async function reconcileSource(session: ClusterSession, state: AgentState, namespace: string, source: KeptSource, pacing: Pacing, outcome: NamespaceOutcome): Promise<void> {
  const name = source.secret.metadata.name;
  const from = source.key;
  const known = state.copyIn(namespace, name);
  if (!state.selects(source, namespace)) {
    const ignored = state.namespaces.get(namespace)?.metadata.annotations?.[`pullsecret.kubectl.io/ignore`] === `true`;
    if (source.policy.prune && known !== null && !ignored && state.namespaces.has(namespace) && isCopyOf(known, {namespace: source.secret.metadata.namespace ?? ``, name})) {
      // The agent attached the copy to ServiceAccounts only: those are the references to remove first.
      // force: the victim is a copy found by its provenance, a pull secret by construction (as `sync --prune`).
      const removed = await removeSecret(session, namespace, name, {dryRun: `none`, pacing, force: true, detachFrom: {serviceAccounts: `all`}});
      if (removed.status === `failed`)
        outcome.errors.push(`${from}: ${removed.failedStep}: ${removed.error}`);
      else if (removed.action === `deleted`) {
        outcome.writes++;
        outcome.changes.push(`secret/${name} deleted (pruned by the policy of ${from})`);
      }
    }
    return;
  }
  if (state.isCurrent(source, namespace))
    return;
  // Named ServiceAccounts not seen yet (a new namespace's `default` is created just after it) are left for the
  // event that brings them: attaching now would read them one by one, or fail.
  const wanted = source.policy.attach;
  const present = wanted === null || wanted === `all` ? wanted : (wanted === `default` ? [`default`] : wanted).filter(sa => state.serviceAccounts.has(`${namespace}/${sa}`));
  const attach = present === null || present === `all` ? present : present.length === 0 ? null : present;
  // The cached copy (or its absence) saves a read; a stale cache only costs a 409 and a re-read.
  const result = await syncCopy(session, namespace, source.secret, known, {
    force: false,
    dryRun: `none`,
    pacing,
    // No stale-pod report: nobody reads it here, and it would cost a list of pods and workloads per namespace.
    // The ServiceAccounts come from the cache (no list per namespace).
    ...(attach === null ? {} : {attach: {targets: {serviceAccounts: attach}, timing: false, snapshot: {namespaces: new Set([namespace]), serviceAccounts: new Map([[namespace, state.serviceAccountObjects(namespace)]])}}}),
  });
  if (result.action !== undefined && result.action !== `unchanged` && result.action !== `absent`) {
    outcome.writes++;
    outcome.changes.push(`secret/${name} ${result.action} from ${from}`);
  }
  for (const target of result.references?.targets ?? []) {
    // What we just wrote is what the next reconcile must plan from, even before the watch event arrives.
    if (target.kind === `ServiceAccount` && target.imagePullSecrets !== undefined)
      state.noteServiceAccount(namespace, target.name, target.imagePullSecrets);
    if (target.action === `attached`) {
      outcome.writes++;
      outcome.changes.push(`serviceaccount/${target.name} configured (${name} attached)`);
    }
  }
  if (result.status === `failed`)
    outcome.errors.push(`${from}: ${result.failedStep}: ${result.error}`);
}
