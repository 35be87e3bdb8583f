/**
 * The `rotate` use case for one cluster: the new credentials go into the source secret, then into every managed
 * copy of it in scope. The copies are found (one cluster-wide list) BEFORE anything is written, so that a user who
 * may not find them never ends with the source rotated and the copies stale. Rotate never creates the source nor a
 * missing copy (that is `sync`).
 */
import {isApiError} from '../apiError.ts';
import {bareReport} from '../attach/report.ts';
import type {NamespaceReport, SecretOutcome} from '../attach/report.ts';
import {PullSecretError, errorLine} from '../errors.ts';
import type {ClusterSession, DryRun, KubeObject} from '../ports.ts';
import type {Pacing} from '../retry.ts';
import type {NamespaceScope, ResolvedScope} from '../scope.ts';
import {applySecretPlan} from '../secrets/apply.ts';
import type {RegistryCredential} from '../secrets/build.ts';
import {earliestExpiry} from '../secrets/describe.ts';
import {registryTokenExpiry} from '../secrets/expiry.ts';
import {planAddSecret} from '../secrets/plan.ts';
import type {SecretPlan} from '../secrets/plan.ts';
import {sameRegistryKey} from '../secrets/registryKey.ts';
import {isCopyOf, sourceRef} from './plan.ts';
import {fromSyncResult, readSource, secretsByNamespace, syncCopy} from './syncSecret.ts';

/** What one run of rotate asks, the same for every cluster (the source namespace excepted). */
export type RotateRequest = {
  /** The source secret's name (its copies carry the same name). */
  name: string;
  /** The namespace of the source secret. */
  sourceNamespace: string;
  credentials: RegistryCredential[];
  /** Replace the whole content of the source instead of updating the given registries in place. */
  replace: boolean;
  /** Which copies to update. */
  scope: NamespaceScope;
  dryRun: DryRun;
  /** The annotations recording how the password is obtained (`--password-command`), given the secret as it is. */
  annotations: (existing: KubeObject | null) => {annotations: Record<string, string | null>; annotationsOnChange?: Record<string, string>};
  resolveScope: (session: ClusterSession, scope: NamespaceScope) => Promise<ResolvedScope>;
  /** Runs the work of each namespace (bounded concurrency); a thrown error becomes that namespace's failed report. */
  fanOutNamespaces: (session: ClusterSession, namespaces: string[], work: (namespace: string) => Promise<NamespaceReport>) => Promise<NamespaceReport[]>;
  /** Receives the notes of writing the source (e.g. a conflict retried), as they come. */
  say: (note: string) => void;
  pacing: Pacing;
};

/** Rotates the source secret and its copies in one cluster: the source's report, then one per copy updated or skipped. */
export async function rotateCluster(session: ClusterSession, request: RotateRequest): Promise<NamespaceReport[]> {
  const {name, sourceNamespace, credentials, dryRun} = request;
  const context = session.contextName;
  // 1. The source: it must exist already and be a pull secret (rotate never creates it).
  const current = await readSource(session, sourceNamespace, name);

  // 2. Its copies, found and narrowed to the scope before anything is written.
  const {byNamespace, skipped} = await copiesInScope(session, request);

  // 3. The source, then each copy.
  const makePlan = (existing: KubeObject | null): SecretPlan => {
    if (existing === null)
      throw new PullSecretError(`source secret "${name}" not found in namespace "${sourceNamespace}" (deleted while rotating?)`);
    return planAddSecret(existing, {name, namespace: sourceNamespace, credentials, replace: request.replace, force: false,
      // Same reading of the new content as `add`: ECR token expiry, Docker Hub key spellings.
      expiryOf: json => earliestExpiry(json, registryTokenExpiry), sameRegistry: sameRegistryKey, ...request.annotations(existing)});
  };
  let rotated: KubeObject;
  let verb: SecretOutcome;
  if (dryRun === `client`) {
    const plan = makePlan(current);
    rotated = plan.action === `unchanged` ? plan.current : plan.body;
    verb = plan.action === `unchanged` ? `unchanged` : `configured`;
  } else {
    const applied = await applySecretPlan(session, sourceNamespace, name, makePlan, {dryRun: dryRun === `server`, pacing: request.pacing});
    rotated = applied.object;
    verb = applied.verb === `created` ? `configured` : applied.verb;
    for (const note of applied.notes)
      request.say(note);
  }
  rotated = {...rotated, metadata: {...rotated.metadata, namespace: sourceNamespace}};
  const sourceReport = bareReport(context, sourceNamespace, {status: `ok`, secret: verb});
  const done = await request.fanOutNamespaces(session, [...byNamespace.keys()].sort(), async namespace =>
    fromSyncResult(context, await syncCopy(session, namespace, rotated, byNamespace.get(namespace)!, {force: false, dryRun, createMissing: false, pacing: request.pacing})));
  return [sourceReport, ...done, ...skipped];
}

/** The managed copies of the source in scope (by namespace), and a skipped report for each copy left out with a reason. */
async function copiesInScope(session: ClusterSession, request: RotateRequest): Promise<{byNamespace: Map<string, KubeObject>; skipped: NamespaceReport[]}> {
  const {name, sourceNamespace} = request;
  const resolved = await request.resolveScope(session, request.scope);
  const allowed = new Set(resolved.namespaces);
  const skippedNames = new Set(resolved.skipped.map(entry => entry.namespace));
  const source = {namespace: sourceNamespace, name};
  let all: KubeObject[];
  try {
    ({all} = await secretsByNamespace(session, name));
  } catch (error) {
    if (isApiError(error, 403))
      throw new PullSecretError(`cannot find the copies of ${sourceRef(sourceNamespace, name)}, so nothing was rotated: ${errorLine(error)}`, {cause: error});
    throw error;
  }
  const copies = all.filter(secret => isCopyOf(secret, source) && secret.metadata.namespace !== sourceNamespace);
  const inScope = copies.filter(secret => allowed.has(secret.metadata.namespace ?? ``));
  const skipped = copies
    .filter(secret => skippedNames.has(secret.metadata.namespace ?? ``))
    .map(secret => bareReport(session.contextName, secret.metadata.namespace ?? ``, {status: `skipped`, note: resolved.skipped.find(entry => entry.namespace === secret.metadata.namespace)?.reason ?? `out of scope`}));
  return {byNamespace: new Map(inScope.map(secret => [secret.metadata.namespace ?? ``, secret])), skipped};
}
