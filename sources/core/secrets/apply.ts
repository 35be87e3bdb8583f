import {PullSecretError} from '../errors.ts';
import type {ClusterSession, KubeObject} from '../ports.ts';
import type {SecretPlan} from './plan.ts';

/** What a write did, in kubectl's words. */
export type ApplyVerb = `created` | `configured` | `unchanged` | `replaced`;

/** The result of applying a plan to one namespace. */
export type ApplyResult = {verb: ApplyVerb; object: KubeObject; notes: string[]};

/** How many times a write is retried after a conflict (another writer got in between). */
const MAX_ATTEMPTS = 5;

/** True for an API error with HTTP status 409 (Conflict or AlreadyExists). */
export function isConflict(error: unknown): boolean {
  return typeof error === `object` && error !== null && ((error as {code?: unknown}).code === 409 || (error as {statusCode?: unknown}).statusCode === 409);
}

/**
 * Reads the secret, plans, and writes without losing another writer's change: updates are PUTs
 * carrying the resourceVersion that was read, and a 409 (changed meanwhile, or created meanwhile)
 * re-reads and re-plans. `dryRun` sends the writes with `dryRun=All` (server dry run).
 */
export async function applySecretPlan(session: ClusterSession, namespace: string, name: string, makePlan: (existing: KubeObject | null) => SecretPlan, options: {dryRun: boolean}): Promise<ApplyResult> {
  const writeOptions = {dryRun: options.dryRun};
  for (let attempt = 1; ; attempt++) {
    const existing = await session.get(`secrets`, namespace, name);
    const plan = makePlan(existing);
    try {
      switch (plan.action) {
        case `unchanged`:
          return {verb: `unchanged`, object: plan.current, notes: plan.notes};
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
      if (!isConflict(error))
        throw error;
      if (attempt >= MAX_ATTEMPTS)
        throw new PullSecretError(`secret ${namespace}/${name} kept changing while we wrote it (${MAX_ATTEMPTS} conflicts); try again`, {cause: error});
    }
  }
}
