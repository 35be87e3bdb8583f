import {Option} from 'clipanion';
import type {Usage} from 'clipanion';
import {helpExample} from '../core/shell.ts';
import {errorLine} from '../core/errors.ts';
import {PULLSECRET_API_VERSION} from '../core/secrets/metadata.ts';
import {shortReferrer} from '../core/secrets/audit.ts';
import type {AuditedSecret} from '../core/secrets/audit.ts';
import {decodePolicy, describePolicy} from '../core/sync/policy.ts';
import {humanAge} from '../adapters/output/age.ts';
import {printData} from '../adapters/output/printObjects.ts';
import {formatTable} from '../core/table.ts';
import {ScopedCommand} from './KubeCommand.ts';
import {auditCluster} from '../core/audit/auditCluster.ts';
import type {ClusterAudit} from '../core/audit/auditCluster.ts';
import {parseOutput} from './options.ts';


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
      helpExample(`Audit the current namespace`, [`list`]),
      helpExample(`Audit every namespace, with usernames, provenance and expiry`, [`list`, `-A`, `-o`, `wide`]),
      helpExample(`Machine-readable audit for CI`, [`list`, `-A`, `-o`, `json`]),
      helpExample(`Audit two clusters in one go`, [`list`, `-A`, `--context`, `prod-eu`, `--context`, `prod-us`]),
    ],
  };

  output = Option.String(`-o,--output`, {description: `wide, json or yaml`});

  async executeCommand() {
    const format = parseOutput(this.output, [`wide`, `json`, `yaml`] as const);
    const scope = this.namespaceScope();
    const labelled = this.clusterTargets().length > 1;
    // Each cluster's messages are held back so that they stay together; with one cluster its errors are the command's.
    const outcomes = await this.eachCluster(async session => {
      const messages: string[] = [];
      const prefix = labelled ? `${session.contextName}: ` : ``;
      const audited = await auditCluster(session, scope, {now: this.context.now(), say: (kind, text) => messages.push(`${kind}: ${prefix}${text}\n`)});
      return {audited, messages};
    });
    for (const outcome of outcomes) {
      for (const line of outcome.ok ? outcome.value.messages : [])
        this.context.stderr.write(line);
    }
    const audits = outcomes.flatMap(outcome => (outcome.ok ? [outcome.value.audited] : []));
    const failures = outcomes.flatMap(outcome => (outcome.ok ? [] : [{context: outcome.context, error: errorLine(outcome.error)}]));
    // A document is printed even when every cluster failed (its `errors` say why); a table only when one was read.
    if (!labelled || audits.length > 0 || format === `json` || format === `yaml`)
      this.printAudits(audits, format, {labelled, failures});
    // Named namespaces that do not exist: an error for each, exit 1 (the rule every command follows).
    for (const {context, missing} of audits) {
      for (const namespace of missing)
        this.context.stderr.write(`error: ${labelled ? `context ${context}: ` : ``}namespace "${namespace}" not found\n`);
    }
    const failed = this.reportClusterFailures(outcomes);
    return failed || audits.some(audit => audit.missing.length > 0) ? 1 : 0;
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
