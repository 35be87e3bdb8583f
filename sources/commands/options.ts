import {UsageError} from 'clipanion';
import * as t from 'typanion';
import type {DryRun} from '../core/ports.ts';
import {objectNameProblem, quoteInput} from '../core/names.ts';

/** `--dry-run=none|client|server`, as kubectl; a bare `--dry-run` means `client` (kubectl's deprecated boolean form). */
export const isDryRun = t.isEnum([`none`, `client`, `server`]);

/** kubectl's `--request-timeout` syntax: `0` (no timeout), a bare number of seconds, or a Go duration such as `30s`, `1m`, `1m30s`, `500ms`. */
export function parseDuration(value: string, flag: string): number {
  const ms = parseDurationUnchecked(value, flag);
  if (ms > MAX_TIMER_MS)
    throw new UsageError(`invalid value "${value.length > 40 ? `${value.slice(0, 40)}...` : value}" for ${flag}: at most ${MAX_TIMER_MS / 3_600_000 | 0}h (${MAX_TIMER_MS} ms); use 0 for no timeout`);
  return ms;
}

/** The longest delay a timer can wait (2^31 - 1 ms, about 24.8 days); Node turns anything longer into 1 ms. */
const MAX_TIMER_MS = 2 ** 31 - 1;

function parseDurationUnchecked(value: string, flag: string): number {
  const trimmed = value.trim();
  if (/^\d+$/.test(trimmed))
    return Number(trimmed) * 1000;
  // Go's units; µ written as an escape, as the binary's bundle stays ASCII (scripts/lib/sea.ts).
  const units: Record<string, number> = {ns: 1e-6, us: 1e-3, '\u00b5s': 1e-3, ms: 1, s: 1000, m: 60_000, h: 3_600_000};
  const re = /(\d+(?:\.\d+)?)(ns|us|\u00b5s|ms|s|m|h)/gy;
  let total = 0;
  let consumed = 0;
  for (let match = re.exec(trimmed); match; match = re.exec(trimmed)) {
    total += Number(match[1]) * units[match[2]!]!;
    consumed = re.lastIndex;
  }
  if (trimmed === `` || consumed !== trimmed.length)
    throw new UsageError(`invalid value "${value.length > 40 ? `${value.slice(0, 40)}...` : value}" for ${flag}: expected a duration such as 30s, 1m or 0 (no timeout)`);
  return total;
}

/** The name rules live in sources/core/names.ts. */
export {LABEL_RE, SUBDOMAIN_RE} from '../core/names.ts';

/** `--dry-run`: absent → none; bare → client; else none|client|server. */
export function parseDryRun(value: string | boolean | undefined): DryRun {
  if (value === undefined || value === false)
    return `none`;
  if (value === true)
    return `client`;
  if (value === `none` || value === `client` || value === `server`)
    return value;
  throw new UsageError(`invalid value "${value}" for --dry-run: use none, client or server`);
}

/** `--attach` (add, sync): bare → default; `all`; or a comma-separated list of ServiceAccount names (`all` alone). */
export function parseAttach(value: string | boolean | undefined): `default` | `all` | string[] | null {
  if (value === undefined || value === false)
    return null;
  if (value === true || value === `default`)
    return `default`;
  if (value === `all`)
    return `all`;
  const names = value.split(`,`).map(name => name.trim()).filter(name => name !== ``);
  if (names.length === 0)
    throw new UsageError(`--attach needs default, all, or ServiceAccount names separated by commas`);
  if (names.includes(`all`))
    throw new UsageError(`--attach=all means every ServiceAccount and cannot be combined with names`);
  for (const name of names) {
    if (objectNameProblem(name) !== undefined)
      throw new UsageError(`invalid ServiceAccount name ${quoteInput(name)} in --attach`);
  }
  return names;
}

/** `-o`: the value when it is one of the command's `formats` (undefined when absent); else one usage error naming them. */
export function parseOutput<F extends string>(value: string | undefined, formats: readonly F[]): F | undefined {
  if (value === undefined || (formats as readonly string[]).includes(value))
    return value as F | undefined;
  const names = formats.length === 1 ? formats[0]! : `${formats.slice(0, -1).join(`, `)} or ${formats.at(-1)!}`;
  throw new UsageError(`unsupported output format "${value}": use ${names}`);
}
