/**
 * Writes or removes the sync-policy annotation on a source secret, over the ClusterSession port. A JSON
 * merge patch of that one key: it cannot lose another writer's change to any other field, and two
 * concurrent `sync --keep` runs end with one of the two policies, whole.
 */
import type {ClusterSession, DryRun} from '../ports.ts';
import {SYNC_POLICY_ANNOTATION} from '../secrets/metadata.ts';

const FIELD_MANAGER = `kubectl-pullsecret`;

/** Sets (`value`) or deletes (`null`) the policy annotation of `namespace/name`; `client` dry runs send nothing. */
export async function writePolicyAnnotation(session: ClusterSession, namespace: string, name: string, value: string | null, dryRun: DryRun): Promise<void> {
  if (dryRun === `client`)
    return;
  await session.patch(`secrets`, namespace, name, {metadata: {annotations: {[SYNC_POLICY_ANNOTATION]: value}}}, `merge`, {dryRun: dryRun === `server`, fieldManager: FIELD_MANAGER});
}
