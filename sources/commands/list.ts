import {Option, UsageError} from 'clipanion';
import type {Usage} from 'clipanion';
import {PullSecretError, oneLine} from '../core/errors.ts';
import {PULLSECRET_API_VERSION} from '../core/secrets/metadata.ts';
import {isApiError} from '../core/apiError.ts';
import type {ClusterSession, KubeObject, ResourceName} from '../core/ports.ts';
import {matchesGlob} from '../core/scope.ts';
import type {NamespaceScope} from '../core/scope.ts';
import {auditPullSecrets, shortReferrer} from '../core/secrets/audit.ts';
import type {AuditedSecret, PullSecretAudit} from '../core/secrets/audit.ts';
import {registryTokenExpiry} from '../core/secrets/expiry.ts';
import {decodePolicy, describePolicy} from '../core/sync/policy.ts';
import {WORKLOAD_RESOURCES} from '../core/workloads.ts';
import {humanAge} from '../adapters/output/age.ts';
import {printData} from '../adapters/output/printObjects.ts';
import {formatTable} from '../adapters/output/table.ts';
import {ScopedCommand} from './KubeCommand.ts';
import {namespaceExists} from '../adapters/kube/gather.ts';

/** The `apiVersion` of the document `list -o json|yaml` prints. */
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
      that reference it (-o wide adds usernames, provenance, expiry and the sync policy recorded with \`sync --keep\`). STATUS is ok, orphan (nothing references it), invalid (type/key mismatch, unparseable, no
      usable credentials), expiring (token expires within 24 hours) or expired. References to secrets that do not
      exist are listed as dangling. -A reads one cluster-wide list per kind and, being read-only, also shows namespaces
      annotated pullsecret.kubectl.io/ignore=true (--namespaces/--namespace-selector skip them, as the other commands
      do). With --context repeated, every named cluster is audited: a CONTEXT column comes first (a context field
      with -o json|yaml), and a cluster that cannot be read gets its own error line while the others are still
      listed. Exit code 0 whatever is found; 1 when one of several clusters could not be read.
    `,
    examples: [
      [`Audit the current namespace`, `$0 list`],
      [`Audit every namespace, with usernames, provenance and expiry`, `$0 list -A -o wide`],
      [`Machine-readable audit for CI`, `$0 list -A -o json`],
      [`Audit two clusters in one go`, `$0 list -A --context prod-eu --context prod-us`],
    ],
  };

  output = Option.String(`-o,--output`, {description: `wide, json or yaml`});

  async executeCommand() {
    const format = this.output;
    if (format !== undefined && format !== `wide` && format !== `json` && format !== `yaml`)
      throw new UsageError(`unsupported output format "${format}": use wide, json or yaml`);
    const scope = this.namespaceScope();
    const targets = this.clusterTargets();
    if (targets.length === 1) {
      // One cluster: its errors are the command's (exit 3 when unreachable, 1 when secrets may not be listed).
      const session = await this.context.connectCluster(targets[0]!);
      const audited = await this.auditCluster(session, scope, (kind, text) => this.context.stderr.write(`${kind}: ${text}\n`));
      this.printAudits([audited], format, {labelled: false});
      for (const namespace of audited.missing)
        this.context.stderr.write(`error: namespace "${namespace}" not found\n`);
      return audited.missing.length > 0 ? 1 : 0;
    }
    // Several clusters, audited at once; messages are held back so that each cluster's stay together.
    const outcomes = await Promise.all(targets.map(async target => {
      const context = target.context!;
      const messages: string[] = [];
      try {
        const session = await this.context.connectCluster(target);
        const audited = await this.auditCluster(session, scope, (kind, text) => messages.push(`${kind}: ${context}: ${text}\n`));
        return {context, messages, audited};
      } catch (error) {
        return {context, messages, error};
      }
    }));
    for (const outcome of outcomes) {
      for (const line of outcome.messages)
        this.context.stderr.write(line);
    }
    const audits = outcomes.flatMap(outcome => (outcome.audited ? [outcome.audited] : []));
    const failures = outcomes.flatMap(({context, audited, error}) => (audited ? [] : [{context, error, message: oneLine(error instanceof Error ? error.message : String(error))}]));
    // A document is printed even when every cluster failed (its `errors` say why); a table only when one was read.
    if (audits.length > 0 || format === `json` || format === `yaml`)
      this.printAudits(audits, format, {labelled: true, failures: failures.map(({context, message}) => ({context, error: message}))});
    for (const {context, audited} of outcomes) {
      for (const namespace of audited?.missing ?? [])
        this.context.stderr.write(`error: context ${context}: namespace "${namespace}" not found\n`);
    }
    for (const {context, error, message} of failures) {
      this.context.stderr.write(`error: context ${context}: ${message}\n`);
      const stack = error instanceof PullSecretError ? (error.cause as Error | undefined)?.stack : (error as Error | undefined)?.stack;
      if (this.isVerbose && stack)
        this.context.stderr.write(`${stack}\n`);
    }
    return failures.length > 0 || audits.some(audit => audit.missing.length > 0) ? 1 : 0;
  }

  /** Reads one cluster and audits it; `say` receives its notes (namespaces skipped) and warnings (kinds that may not be listed). */
  private async auditCluster(session: ClusterSession, scope: NamespaceScope, say: (kind: `note` | `warning`, text: string) => void): Promise<ClusterAudit> {
    let namespaces: string[] | `all`;
    // Named namespaces that do not exist: an error for each, exit 1 (the rule every command follows).
    const missing: string[] = [];
    if (scope.kind === `all`) {
      namespaces = `all`;
    } else {
      const resolved = await this.resolveScope(session, scope);
      namespaces = resolved.namespaces;
      for (const skip of resolved.skipped) {
        if (skip.cause === `missing`)
          missing.push(skip.namespace);
        else
          say(`note`, `namespace ${skip.namespace} skipped: ${skip.reason}`);
      }
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
      say(`warning`, note);
    // The one namespace of -n is not read beforehand: when nothing was found in it, one GET tells whether it exists.
    if (scope.kind === `current` && namespaces !== `all` && namespaces.length === 1 && objects.secrets.length === 0 && await namespaceExists(session, namespaces[0]!) === `missing`)
      missing.push(namespaces[0]!);
    return {context: session.contextName, namespaces, audit, notes, missing};
  }

  /**
   * Prints the audits: one document for -o json|yaml, else the secret table and the dangling table. `labelled`
   * (several clusters) adds a `context` field to every entry, or a CONTEXT column first.
   */
  private printAudits(audits: ClusterAudit[], format: string | undefined, options: {labelled: boolean; failures?: Array<{context: string; error: string}>}): void {
    const {stdout, stderr} = this.context;
    if (format === `json` || format === `yaml`) {
      if (!options.labelled) {
        const [{audit, notes}] = audits as [ClusterAudit];
        printData({apiVersion: PULLSECRET_API_VERSION, kind: `PullSecretList`, secrets: audit.secrets, dangling: audit.dangling, notes}, format, stdout);
        return;
      }
      printData({
        apiVersion: PULLSECRET_API_VERSION,
        kind: `PullSecretList`,
        secrets: audits.flatMap(({context, audit}) => audit.secrets.map(secret => ({context, ...secret}))),
        dangling: audits.flatMap(({context, audit}) => audit.dangling.map(ref => ({context, ...ref}))),
        notes: audits.flatMap(({context, notes}) => notes.map(note => `${context}: ${note}`)),
        errors: options.failures ?? [],
      }, format, stdout);
      return;
    }
    const secrets = audits.flatMap(({context, audit}) => audit.secrets.map(secret => ({context, secret})));
    const dangling = audits.flatMap(({context, audit}) => audit.dangling.map(ref => ({context, ref})));
    // With several clusters, NAMESPACE is shown as soon as one cluster needs it or their namespaces differ.
    const showNamespace = audits.some(({namespaces}) => namespaces === `all` || namespaces.length > 1)
      || new Set(audits.flatMap(({namespaces}) => (namespaces === `all` ? [] : namespaces))).size > 1;
    const allMissing = audits.every(({namespaces, missing}) => namespaces !== `all` && namespaces.every(namespace => missing.includes(namespace)));
    if (secrets.length === 0 && !allMissing) {
      const only = options.labelled ? `all` : audits[0]!.namespaces;
      stderr.write(only === `all` || only.length !== 1 ? `No pull secrets found.\n` : `No pull secrets found in ${only[0]} namespace.\n`);
    } else {
      stdout.write(secretTable(secrets, {wide: format === `wide`, showNamespace, showContext: options.labelled, now: this.context.now()}));
    }
    if (dangling.length > 0) {
      if (secrets.length > 0)
        stdout.write(`\n`);
      const headers = [`namespace`, `missing secret`, `referenced by`];
      if (options.labelled)
        headers.unshift(`context`);
      stdout.write(formatTable(headers, dangling.map(({context, ref}) => [...(options.labelled ? [context] : []), ref.namespace, ref.secret, shortReferrer(ref.referencedBy)])));
    }
  }
}

/** What `list` found in one cluster. */
type ClusterAudit = {context: string; namespaces: string[] | `all`; audit: PullSecretAudit; notes: string[]; missing: string[]};


/** The main table; `wide` adds usernames, the full list of referrers, provenance and expiry; `showContext` a CONTEXT column first. */
function secretTable(secrets: Array<{context: string; secret: AuditedSecret}>, options: {wide: boolean; showNamespace: boolean; showContext: boolean; now: Date}): string {
  const headers = [`name`, `type`, `registries`, `status`, `used by`, `age`];
  if (options.wide)
    headers.push(`usernames`, `managed`, `copy of`, `expires`, `sync policy`);
  if (options.showNamespace)
    headers.unshift(`namespace`);
  if (options.showContext)
    headers.unshift(`context`);
  const rows = secrets.map(({context, secret}) => {
    const row = [secret.name, shortType(secret.type), secret.registries.join(`,`) || `<none>`, secret.status, usedBy(secret, options.wide), humanAge(secret.createdAt, options.now)];
    if (options.wide)
      row.push(secret.usernames.map(name => name || `<empty>`).join(`,`) || `<none>`, secret.managed ? `yes` : `no`, secret.copyOf ?? `<none>`, secret.expiresAt ?? `<none>`, policyColumn(secret));
    if (options.showNamespace)
      row.unshift(secret.namespace);
    if (options.showContext)
      row.unshift(context);
    return row;
  });
  return formatTable(headers, rows);
}

/** The SYNC POLICY column: the recorded policy in words, `<invalid: why>`, or `<none>`. */
function policyColumn(secret: AuditedSecret): string {
  const recorded = secret.syncPolicy;
  if (recorded === null)
    return `<none>`;
  if (`error` in recorded)
    return `<invalid: ${recorded.error}>`;
  return describePolicy(decodePolicy(JSON.stringify(recorded)));
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
      if (!isApiError(error, 403))
        throw error;
      notes.push(`cannot list ${resource} (forbidden); references from ${resource} are not shown`);
      return [];
    }
  };
  const secretsPromise = listKind(`secrets`).catch((error: unknown) => {
    if (isApiError(error, 403)) {
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
