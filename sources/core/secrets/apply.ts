import {PullSecretError} from '../errors.ts';
import type {ClusterSession, KubeObject} from '../ports.ts';
import type {SecretPlan} from './plan.ts';

/** What a write did, in kubectl's words. */
export type ApplyVerb = `created` | `configured` | `unchanged` | `replaced`;

/** The result of applying a plan to one namespace. */
export type ApplyResult = {verb: ApplyVerb; object: KubeObject; notes: string[]};

/** How many times a write is retried after a conflict (another writer got in between). */
const MAX_ATTEMPTS = 5;

/** How many times a create with an unknown outcome is re-checked and retried. */
const MAX_TRANSIENT_RETRIES = 3;

/** True when a write failed without a definite answer: a 5xx, or no HTTP answer at all (reset, timeout). */
function isUnknownOutcome(error: unknown): boolean {
  const code = typeof error === `object` && error !== null ? (error as {code?: unknown}).code : undefined;
  return typeof code !== `number` || code >= 500;
}

/** True for an API error with HTTP status 409 (Conflict or AlreadyExists). */
export function isConflict(error: unknown): boolean {
  return typeof error === `object` && error !== null && ((error as {code?: unknown}).code === 409 || (error as {statusCode?: unknown}).statusCode === 409);
}

/**
 * Reads the secret, plans, and writes without losing another writer's change: updates are PUTs
 * carrying the resourceVersion that was read, and a 409 (changed meanwhile, or created meanwhile)
 * re-reads and re-plans. `dryRun` sends the writes with `dryRun=All` (server dry run).
 */
export async function applySecretPlan(session: ClusterSession, namespace: string, name: string, makePlan: (existing: KubeObject | null) => SecretPlan, options: {dryRun: boolean; known?: KubeObject | null}): Promise<ApplyResult> {
  const writeOptions = {dryRun: options.dryRun};
  // What a cluster-wide list already returned for this namespace (null: absent); re-read on every retry.
  let known = options.known;
  let createAttempted = false;
  let transientRetries = 0;
  for (let attempt = 1; ; attempt++) {
    const existing = known !== undefined ? known : await session.get(`secrets`, namespace, name);
    known = undefined;
    const plan = makePlan(existing);
    try {
      switch (plan.action) {
        case `unchanged`:
          // After a create whose answer was lost, the identical secret found is the one we created.
          return {verb: createAttempted ? `created` : `unchanged`, object: plan.current, notes: plan.notes};
        case `create`:
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
    } catch (error) {
      // The session never repeats a POST whose fate is unknown (5xx, reset): re-reading tells whether it
      // went through, and creating again is safe (a duplicate create gets 409 and is re-planned).
      if (plan.action === `create` && isUnknownOutcome(error) && transientRetries < MAX_TRANSIENT_RETRIES) {
        transientRetries++;
        createAttempted = true;
        await new Promise(resolve => setTimeout(resolve, 100 * 2 ** transientRetries * (0.5 + Math.random())));
        continue;
      }
      if (!isConflict(error))
        throw error;
      if (attempt >= MAX_ATTEMPTS)
        throw new PullSecretError(`secret ${namespace}/${name} kept changing while we wrote it (${MAX_ATTEMPTS} conflicts); try again`, {cause: error});
    }
  }
}
