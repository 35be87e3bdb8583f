import type {DryRun} from '../../core/ports.ts';

/** What a write did to an object, in kubectl's words. */
export type WriteVerb = `created` | `configured` | `unchanged` | `deleted` | `patched` | `replaced`;

/**
 * kubectl's status line for a write, e.g. `secret/regcred created (dry run)`. kubectl appends
 * ` (dry run)` for client and ` (server dry run)` for server dry runs.
 */
export function statusLine(name: string, verb: WriteVerb, dryRun: DryRun = `none`, kind = `secret`): string {
  const suffix = dryRun === `client` ? ` (dry run)` : dryRun === `server` ? ` (server dry run)` : ``;
  return `${kind}/${name} ${verb}${suffix}`;
}
