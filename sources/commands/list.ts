import {Option, UsageError} from 'clipanion';
import type {Usage} from 'clipanion';
import {PullSecretError} from '../core/errors.ts';
import type {ClusterSession, KubeObject, ResourceName} from '../core/ports.ts';
import {matchesGlob, resolveNamespaces} from '../core/scope.ts';
import {auditPullSecrets, shortReferrer} from '../core/secrets/audit.ts';
import type {AuditedSecret, PullSecretAudit} from '../core/secrets/audit.ts';
import {registryTokenExpiry} from '../core/secrets/expiry.ts';
import {WORKLOAD_RESOURCES} from '../adapters/kube/gather.ts';
import {humanAge} from '../adapters/output/age.ts';
import {printData} from '../adapters/output/printObjects.ts';
import {formatTable} from '../adapters/output/table.ts';
import {ScopedCommand} from './KubeCommand.ts';

/** The `apiVersion` of the document `list -o json|yaml` prints. */
const LIST_API_VERSION = `pullsecret.kubectl.io/v1alpha1`;
/** Above this many namespaces, one cluster-wide list per kind is cheaper than one list per namespace. */
const PER_NAMESPACE_LIMIT = 8;

/** `kubectl pullsecret list`: audit pull secrets and who uses them. */
export class ListCommand extends ScopedCommand {
  static override paths = [[`list`]];
  static override usage: Usage = {
    description: `audit pull secrets: registries, users, who references them, orphans, dangling references, invalid and expiring ones`,
    details: `
      Lists every pull secret (kubernetes.io/dockerconfigjson, kubernetes.io/dockercfg, and Opaque secrets holding
      .dockerconfigjson, which the kubelet ignores) with its registries and the ServiceAccounts, workloads and pods
      that reference it. STATUS is ok, orphan (nothing references it), invalid (type/key mismatch, unparseable, no
      usable credentials), expiring (token expires within 24 hours) or expired. References to secrets that do not
      exist are listed as dangling. -A reads one cluster-wide list per kind and, being read-only, also shows namespaces
      annotated pullsecret.kubectl.io/ignore=true (--namespaces/--namespace-selector skip them, as the other commands
      do). Exit code 0 whatever is found.
    `,
    examples: [
      [`Audit the current namespace`, `$0 list`],
      [`Audit every namespace, with usernames, provenance and expiry`, `$0 list -A -o wide`],
      [`Machine-readable audit for CI`, `$0 list -A -o json`],
    ],
  };

  output = Option.String(`-o,--output`, {description: `wide, json or yaml`});

  protected override allowsManyContexts(): boolean {
    return false;
  }

  async executeCommand() {
    const format = this.output;
    if (format !== undefined && format !== `wide` && format !== `json` && format !== `yaml`)
      throw new UsageError(`unsupported output format "${format}": use wide, json or yaml`);
    const scope = this.namespaceScope();
    const session = await this.connect();
    let namespaces: string[] | `all`;
    if (scope.kind === `all`) {
      namespaces = `all`;
    } else {
      const resolved = await resolveNamespaces(session, scope);
      namespaces = resolved.namespaces;
      for (const skip of resolved.skipped)
        this.context.stderr.write(`note: namespace ${skip.namespace} skipped: ${skip.reason}\n`);
    }
    const notes: string[] = [];
    const objects = await gatherForList(session, namespaces, notes);
    const exclude = scope.exclude;
    const inScope = (object: KubeObject) => !exclude.some(glob => matchesGlob(glob, object.metadata.namespace ?? ``));
    const audit = auditPullSecrets({
      secrets: objects.secrets.filter(inScope),
      serviceAccounts: objects.serviceAccounts.filter(inScope),
      workloads: objects.workloads.filter(inScope),
      pods: objects.pods.filter(inScope),
      now: this.context.now(),
      expiryOf: registryTokenExpiry,
    });
    for (const note of notes)
      this.context.stderr.write(`warning: ${note}\n`);
    if (format === `json` || format === `yaml`) {
      printData({apiVersion: LIST_API_VERSION, kind: `PullSecretList`, secrets: audit.secrets, dangling: audit.dangling, notes}, format, this.context.stdout);
      return;
    }
    const showNamespace = namespaces === `all` || namespaces.length > 1;
    if (audit.secrets.length === 0) {
      this.context.stderr.write(namespaces === `all` || namespaces.length !== 1 ? `No pull secrets found.\n` : `No pull secrets found in ${namespaces[0]} namespace.\n`);
    } else {
      this.context.stdout.write(secretTable(audit, {wide: format === `wide`, showNamespace, now: this.context.now()}));
    }
    if (audit.dangling.length > 0) {
      if (audit.secrets.length > 0)
        this.context.stdout.write(`\n`);
      this.context.stdout.write(formatTable([`namespace`, `missing secret`, `referenced by`], audit.dangling.map(ref => [ref.namespace, ref.secret, shortReferrer(ref.referencedBy)])));
    }
  }
}

/** The main table; `wide` adds usernames, the full list of referrers, provenance and expiry. */
function secretTable(audit: PullSecretAudit, options: {wide: boolean; showNamespace: boolean; now: Date}): string {
  const headers = [`name`, `type`, `registries`, `status`, `used by`, `age`];
  if (options.wide)
    headers.push(`usernames`, `managed`, `copy of`, `expires`);
  if (options.showNamespace)
    headers.unshift(`namespace`);
  const rows = audit.secrets.map(secret => {
    const row = [secret.name, shortType(secret.type), secret.registries.join(`,`) || `<none>`, secret.status, usedBy(secret, options.wide), humanAge(secret.createdAt, options.now)];
    if (options.wide)
      row.push(secret.usernames.map(name => name || `<empty>`).join(`,`) || `<none>`, secret.managed ? `yes` : `no`, secret.copyOf ?? `<none>`, secret.expiresAt ?? `<none>`);
    if (options.showNamespace)
      row.unshift(secret.namespace);
    return row;
  });
  return formatTable(headers, rows);
}

function shortType(type: string): string {
  return type.startsWith(`kubernetes.io/`) ? type.slice(`kubernetes.io/`.length) : type;
}

/** `sa/default,deploy/web,+2`: the first referrers (all with -o wide), pods counted. */
function usedBy(secret: AuditedSecret, wide: boolean): string {
  if (secret.referencedBy.length === 0)
    return `<none>`;
  const pods = secret.referencedBy.filter(ref => ref.kind === `Pod`);
  const others = secret.referencedBy.filter(ref => ref.kind !== `Pod`).map(shortReferrer);
  const shown = wide ? others : others.slice(0, 3);
  const parts = [...shown];
  if (!wide && others.length > shown.length)
    parts.push(`+${others.length - shown.length} more`);
  if (pods.length > 0)
    parts.push(`${pods.length} pod${pods.length === 1 ? `` : `s`}`);
  return parts.join(`,`);
}

type ListObjects = {secrets: KubeObject[]; serviceAccounts: KubeObject[]; workloads: KubeObject[]; pods: KubeObject[]};

/**
 * Reads what the audit needs: ONE paginated list per kind for -A (or many namespaces), else one per
 * namespace. Without permission to list secrets the audit is meaningless: a clear error. Other kinds
 * that may not be listed are left out with a note (their references are then not shown).
 */
async function gatherForList(session: ClusterSession, namespaces: string[] | `all`, notes: string[]): Promise<ListObjects> {
  const clusterWide = namespaces === `all` || namespaces.length > PER_NAMESPACE_LIMIT;
  const wanted = namespaces === `all` ? null : new Set(namespaces);
  const listKind = async (resource: ResourceName): Promise<KubeObject[]> => {
    if (clusterWide) {
      const items = await session.list(resource, {limit: 500});
      return wanted === null ? items : items.filter(item => wanted.has(item.metadata.namespace ?? ``));
    }
    const perNamespace = await Promise.all([...wanted!].map(namespace => session.list(resource, {namespace, limit: 500})));
    return perNamespace.flat();
  };
  const optional = async (resource: ResourceName, kind?: string): Promise<KubeObject[]> => {
    try {
      const items = await listKind(resource);
      return kind === undefined ? items : items.map(item => ({...item, kind}));
    } catch (error) {
      if ((error as {code?: unknown}).code !== 403)
        throw error;
      notes.push(`cannot list ${resource} (forbidden); references from ${resource} are not shown`);
      return [];
    }
  };
  const secretsPromise = listKind(`secrets`).catch((error: unknown) => {
    if ((error as {code?: unknown}).code === 403) {
      const where = clusterWide ? `cluster-wide` : `in namespace${wanted!.size === 1 ? `` : `s`} ${[...wanted!].join(`, `)}`;
      throw new PullSecretError(`you may not list secrets ${where} (forbidden): list needs RBAC permission to list secrets; ask your cluster admin, or use "kubectl pullsecret verify", which reads only the secrets pods reference`, {cause: error});
    }
    throw error;
  });
  const [secrets, serviceAccounts, workloads, pods] = await Promise.all([
    secretsPromise,
    optional(`serviceaccounts`),
    Promise.all(WORKLOAD_RESOURCES.map(([resource, kind]) => optional(resource, kind))).then(lists => lists.flat()),
    optional(`pods`, `Pod`),
  ]);
  return {secrets, serviceAccounts, workloads, pods};
}
