/**
 * The `add` use case against clusters: the secret is written in every namespace of every context named, at most
 * `concurrency` namespaces at a time, then attached to ServiceAccounts for `--attach`. With a single context and
 * namespace, errors propagate as they are (keeping exit code 3 for an unreachable cluster); in a fan-out each
 * namespace reports its own failure.
 */
import {isApiError} from '../apiError.ts';
import {attachSecret, prepareAttach} from '../attach/attachSecret.ts';
import type {ServiceAccountSelection} from '../attach/attachSecret.ts';
import {bareReport, fromAttachResult} from '../attach/report.ts';
import type {NamespaceReport} from '../attach/report.ts';
import {errorLine} from '../errors.ts';
import {fanOut, forEachContext} from '../fanout.ts';
import type {ClusterConnector, ClusterSession, ClusterTarget, DryRun, KubeObject} from '../ports.ts';
import type {Pacing} from '../retry.ts';
import type {NamespaceScope, ResolvedScope} from '../scope.ts';
import {applySecretPlan} from './apply.ts';
import type {RegistryCredential} from './build.ts';
import {earliestExpiry} from './describe.ts';
import {registryTokenExpiry} from './expiry.ts';
import {planAddSecret} from './plan.ts';
import {sameRegistryKey} from './registryKey.ts';

/** What one run of add asks of the clusters. */
export type AddRequest = {
  name: string;
  credentials: RegistryCredential[];
  /** Replace the whole content of an existing secret instead of adding registries to it. */
  replace: boolean;
  /** Delete and recreate an existing secret of another type. */
  force: boolean;
  scope: NamespaceScope;
  /** `none` or `server` (a client dry run needs no cluster: the command builds the objects itself). */
  dryRun: DryRun;
  /** The ServiceAccounts to attach the secret to (`--attach`), or null. */
  attach: ServiceAccountSelection | null;
  targets: readonly ClusterTarget[];
  connect: ClusterConnector;
  resolveScope: (session: ClusterSession, scope: NamespaceScope) => Promise<ResolvedScope>;
  /** The annotations recording how the password is obtained (`--password-command`), given the secret as it is. */
  annotations: (existing: KubeObject | null) => {annotations: Record<string, string | null>; annotationsOnChange?: Record<string, string>};
  concurrency: number;
  pacing: Pacing;
};

/** One namespace's outcome, with the secret as written (for -o). */
export type AddResult = {report: NamespaceReport; object?: KubeObject};

/** Adds the secret in every namespace of every context of the request: skipped and failed namespaces first, then the written ones, per context. */
export async function addEverywhere(request: AddRequest): Promise<AddResult[]> {
  const {targets} = request;
  const perContext = await forEachContext(targets, request.connect, session => addInCluster(session, request));
  return perContext.flatMap(outcome => {
    if (outcome.ok)
      return outcome.value;
    if (targets.length === 1)
      throw outcome.error;
    return [{report: bareReport(outcome.context, `-`, {status: `failed`, failedStep: `connect`, error: errorLine(outcome.error)})}];
  });
}

/** One cluster: namespaces resolved once, the secret written in each, then --attach. */
async function addInCluster(session: ClusterSession, request: AddRequest): Promise<AddResult[]> {
  const {name, credentials, attach, dryRun} = request;
  const {namespaces, skipped} = await request.resolveScope(session, request.scope);
  const single = request.targets.length === 1 && namespaces.length === 1 && skipped.length === 0;
  const snapshot = attach && namespaces.length > 0 ? await prepareAttach(session, namespaces, name, {serviceAccounts: attach}, {checkSecret: false}) : undefined;
  // One cluster-wide list instead of one GET per namespace when fanning out.
  const known = namespaces.length > 1 ? await existingSecrets(session, name) : undefined;
  const done = await fanOut(namespaces, request.concurrency, async namespace => {
    const result = await applySecretPlan(session, namespace, name, existing => planAddSecret(existing, {
      name,
      namespace,
      credentials,
      replace: request.replace,
      force: request.force,
      expiryOf: json => earliestExpiry(json, registryTokenExpiry),
      sameRegistry: sameRegistryKey,
      ...request.annotations(existing),
    }), {dryRun: dryRun === `server`, known: known === undefined ? undefined : known.get(namespace) ?? null, pacing: request.pacing});
    if (!attach)
      return {report: bareReport(session.contextName, namespace, {status: `ok`, secret: result.verb, warnings: result.notes}), object: result.object};
    const attached = await attachSecret(session, namespace, name, {serviceAccounts: attach}, {dryRun, allowMissing: true, snapshot, pacing: request.pacing});
    const report = fromAttachResult(session.contextName, attached, result.verb);
    report.warnings.unshift(...result.notes);
    return {report, object: result.object};
  });
  return [
    // A named namespace that does not exist fails (exit 1), as in every command; the others are skipped with a note.
    ...skipped.map(skip => ({report: skip.cause === `missing`
      ? bareReport(session.contextName, skip.namespace, {status: `failed`, failedStep: `check namespace`, error: skip.reason})
      : bareReport(session.contextName, skip.namespace, {status: `skipped`, note: skip.reason})})),
    ...done.map(outcome => {
      if (outcome.ok)
        return outcome.value;
      if (single)
        throw outcome.error;
      return {report: bareReport(session.contextName, outcome.item, {status: `failed`, failedStep: `write secret`, error: errorLine(outcome.error)})};
    }),
  ];
}

/** The secrets named like ours in every namespace, from one cluster-wide list; undefined when listing is not allowed. */
async function existingSecrets(session: ClusterSession, name: string): Promise<Map<string, KubeObject> | undefined> {
  try {
    const items = await session.list(`secrets`, {fieldSelector: `metadata.name=${name}`});
    return new Map(items.map(item => [item.metadata.namespace ?? ``, {apiVersion: `v1`, kind: `Secret`, ...item}]));
  } catch (error) {
    if (isApiError(error, 403))
      return undefined;
    throw error;
  }
}
