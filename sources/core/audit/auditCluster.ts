/**
 * The `list` use case for one cluster: which namespaces, what to read (core/cluster/gather.ts), and the audit
 * (core/secrets/audit.ts). Without permission to list secrets the audit is meaningless: a clear error. Other kinds
 * that may not be listed are left out with a warning (their references are then not shown).
 */
import {PullSecretError} from '../errors.ts';
import type {ClusterSession, KubeObject, ResourceName} from '../ports.ts';
import {emptySelectorWarning, matchesGlob, resolveNamespaces} from '../scope.ts';
import type {NamespaceScope} from '../scope.ts';
import {auditPullSecrets} from '../secrets/audit.ts';
import type {PullSecretAudit} from '../secrets/audit.ts';
import {registryTokenExpiry} from '../secrets/expiry.ts';
import {WORKLOAD_RESOURCES} from '../workloads.ts';
import {listInScope, namespaceExists} from '../cluster/gather.ts';
import type {ListLog} from '../cluster/gather.ts';

/** What `list` found in one cluster. */
export type ClusterAudit = {context: string; namespaces: string[] | `all`; audit: PullSecretAudit; notes: string[]; missing: string[]};

/** Reads one cluster and audits it; `say` receives its notes (namespaces skipped) and warnings (kinds that may not be listed). */
export async function auditCluster(session: ClusterSession, scope: NamespaceScope, options: {now: Date; say: (kind: `note` | `warning`, text: string) => void}): Promise<ClusterAudit> {
  let namespaces: string[] | `all`;
  // Named namespaces that do not exist (the command reports an error for each).
  const missing: string[] = [];
  if (scope.kind === `all`) {
    namespaces = `all`;
  } else {
    const resolved = await resolveNamespaces(session, scope);
    namespaces = resolved.namespaces;
    const empty = emptySelectorWarning(scope, resolved);
    if (empty !== undefined)
      options.say(`warning`, empty);
    for (const skip of resolved.skipped) {
      if (skip.cause === `missing`)
        missing.push(skip.namespace);
      else
        options.say(`note`, `namespace ${skip.namespace} skipped: ${skip.reason}`);
    }
  }
  const notes: string[] = [];
  const objects = await gatherForList(session, namespaces, notes);
  const inScope = (object: KubeObject) => !scope.exclude.some(glob => matchesGlob(glob, object.metadata.namespace ?? ``));
  const audit = auditPullSecrets({
    secrets: objects.secrets.filter(inScope),
    serviceAccounts: objects.serviceAccounts.filter(inScope),
    workloads: objects.workloads.filter(inScope),
    pods: objects.pods.filter(inScope),
    now: options.now,
    expiryOf: registryTokenExpiry,
  });
  for (const note of notes)
    options.say(`warning`, note);
  // The one namespace of -n is not read beforehand: when nothing was found in it, one GET tells whether it exists.
  if (scope.kind === `current` && namespaces !== `all` && namespaces.length === 1 && objects.secrets.length === 0 && await namespaceExists(session, namespaces[0]!) === `missing`)
    missing.push(namespaces[0]!);
  return {context: session.contextName, namespaces, audit, notes, missing};
}

type ListObjects = {secrets: KubeObject[]; serviceAccounts: KubeObject[]; workloads: KubeObject[]; pods: KubeObject[]};

/** Reads what the audit needs: one list per kind, cluster-wide for -A or many namespaces, else one per namespace. */
async function gatherForList(session: ClusterSession, namespaces: string[] | `all`, notes: string[]): Promise<ListObjects> {
  const optional = async (resource: ResourceName, kind?: string): Promise<KubeObject[]> => {
    const log: ListLog = {notes: [], refused: []};
    const items = await listInScope(session, resource, namespaces, log) ?? [];
    if (log.refused.length > 0)
      notes.push(`cannot list ${resource} (forbidden); references from ${resource} are not shown`);
    return kind === undefined ? items : items.map(item => ({...item, kind}));
  };
  const secrets = async (): Promise<KubeObject[]> => {
    const log: ListLog = {notes: [], refused: []};
    const items = await listInScope(session, `secrets`, namespaces, log);
    if (log.refused.length === 0)
      return items ?? [];
    const refused = log.refused.map(refusal => refusal.namespace).filter((namespace): namespace is string => namespace !== undefined);
    const where = refused.length === 0 ? `cluster-wide` : `in namespace${refused.length === 1 ? `` : `s`} ${refused.join(`, `)}`;
    throw new PullSecretError(`you may not list secrets ${where} (forbidden): list needs RBAC permission to list secrets; ask your cluster admin, or use "kubectl pullsecret verify", which reads only the secrets pods reference`, {cause: log.refused[0]!.error});
  };
  const [secretList, serviceAccounts, workloads, pods] = await Promise.all([
    secrets(),
    optional(`serviceaccounts`),
    Promise.all(WORKLOAD_RESOURCES.map(([resource, kind]) => optional(resource, kind))).then(lists => lists.flat()),
    optional(`pods`, `Pod`),
  ]);
  return {secrets: secretList, serviceAccounts, workloads, pods};
}
