import {PullSecretError} from '../errors.ts';
import type {ClusterSession, KubeObject} from '../ports.ts';
import {jitteredBackoff, retryOnConflict} from '../retry.ts';
import type {Pacing} from '../retry.ts';
import type {SecretPlan} from './plan.ts';

/** What a write did, in kubectl's words. */
export type ApplyVerb = `created` | `configured` | `unchanged` | `replaced`;

/** The result of applying a plan to one namespace. */
export type ApplyResult = {verb: ApplyVerb; object: KubeObject; notes: string[]};

/** Five attempts: a secret is written by few writers at once. */
const BACKOFF = jitteredBackoff(5, 50);

/**
 * Reads the secret, plans, and writes without losing another writer's change: updates are PUTs
 * carrying the resourceVersion that was read, and a 409 (changed meanwhile, or created meanwhile)
 * re-reads and re-plans (core/retry.ts). `dryRun` sends the writes with `dryRun=All` (server dry run).
 */
export async function applySecretPlan(session: ClusterSession, namespace: string, name: string, makePlan: (existing: KubeObject | null) => SecretPlan, options: {dryRun: boolean; known?: KubeObject | null; pacing: Pacing}): Promise<ApplyResult> {
  const writeOptions = {dryRun: options.dryRun};
  // What a cluster-wide list already returned for this namespace (null: absent); re-read on every retry.
  let known = options.known;
  return retryOnConflict({
    backoff: BACKOFF,
    pacing: options.pacing,
    onExhausted: (error, attempts) => new PullSecretError(`secret ${namespace}/${name} kept changing while we wrote it (${attempts} conflicts); try again`, {cause: error}),
  }, async ({createMayHaveLanded, creating}) => {
    const existing = known !== undefined ? known : await session.get(`secrets`, namespace, name);
    known = undefined;
    const plan = makePlan(existing);
    switch (plan.action) {
      case `unchanged`:
        // After a create whose answer was lost, the identical secret found is the one we created.
        return {verb: createMayHaveLanded ? `created` : `unchanged`, object: plan.current, notes: plan.notes};
      case `create`:
        creating();
        return {verb: `created`, object: await session.create(`secrets`, namespace, plan.body, writeOptions), notes: plan.notes};
      case `update`:
        return {verb: `configured`, object: await session.replace(`secrets`, namespace, name, plan.body, writeOptions), notes: plan.notes};
      case `recreate`:
        await session.delete(`secrets`, namespace, name, writeOptions);
        // A server dry run deletes nothing, so creating would collide with the old secret.
        if (options.dryRun)
          return {verb: `replaced`, object: plan.body, notes: plan.notes};
        return {verb: `replaced`, object: await session.create(`secrets`, namespace, plan.body, writeOptions), notes: plan.notes};
    }
  });
}
