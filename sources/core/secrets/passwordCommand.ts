/**
 * The `--password-command` record on a secret: which command gives the password of which registry entry,
 * so that `refresh` and the agent can run it again. Only the command is recorded, never what it printed.
 * Pure: reads and computes annotation values; the commands run it through the PasswordCommandRunner port.
 *
 * `pullsecret.kubectl.io/password-command` holds compact JSON, one entry per registry:
 *   [{"server":"123456789012.dkr.ecr.us-east-1.amazonaws.com","username":"AWS","command":"aws ecr get-login-password --region us-east-1"}]
 * `pullsecret.kubectl.io/refreshed-at` holds the RFC 3339 time a command last changed the secret's content
 * (what `refresh --max-age` measures when no token expiry is known).
 */
import type {KubeObject} from '../ports.ts';
import {PASSWORD_COMMAND_ANNOTATION, REFRESHED_AT_ANNOTATION, rfc3339} from './metadata.ts';

export {PASSWORD_COMMAND_ANNOTATION, REFRESHED_AT_ANNOTATION};

/** One registry entry whose password comes from a command. */
export type PasswordCommandEntry = {server: string; username: string; command: string};

/** The longest annotation accepted when reading. */
const MAX_RECORD_LENGTH = 64 * 1024;

/** The recorded commands of a secret: none, readable, or broken (with the reason). */
export type RecordedCommands = {state: `none`} | {state: `ok`; entries: PasswordCommandEntry[]} | {state: `invalid`; reason: string};

/** Reads the password-command annotation. */
export function recordedCommands(secret: KubeObject): RecordedCommands {
  const text = secret.metadata.annotations?.[PASSWORD_COMMAND_ANNOTATION];
  if (text === undefined)
    return {state: `none`};
  if (text.length > MAX_RECORD_LENGTH)
    return {state: `invalid`, reason: `it is longer than ${MAX_RECORD_LENGTH} characters`};
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch {
    return {state: `invalid`, reason: `it is not JSON`};
  }
  if (!Array.isArray(value) || value.length === 0)
    return {state: `invalid`, reason: `it is not a non-empty JSON list`};
  const entries: PasswordCommandEntry[] = [];
  for (const item of value) {
    const {server, username, command} = (item ?? {}) as Record<string, unknown>;
    if (typeof server !== `string` || server === `` || typeof username !== `string` || username === `` || typeof command !== `string` || command.trim() === ``)
      return {state: `invalid`, reason: `each entry needs non-empty "server", "username" and "command" strings`};
    entries.push({server, username, command});
  }
  return {state: `ok`, entries};
}

/** The annotation value for a list of entries (null: remove the annotation). */
export function encodeCommands(entries: PasswordCommandEntry[]): string | null {
  return entries.length === 0 ? null : JSON.stringify(entries.map(({server, username, command}) => ({server, username, command})));
}

/**
 * The password-command annotation after `add`/`rotate` wrote `servers` into a secret: the entries of the
 * other registries are kept (all dropped with `--replace`), those of the servers written are replaced by
 * `command` when one was given, and dropped when the password came from elsewhere this time.
 */
export function commandsAfterWrite(existing: KubeObject | null, written: Array<{server: string; username: string}>, command: string | undefined, options: {replace: boolean; sameRegistry: (a: string, b: string) => boolean}): string | null {
  const recorded = existing === null ? {state: `none` as const} : recordedCommands(existing);
  const kept = options.replace || recorded.state !== `ok` ? [] : recorded.entries.filter(entry => !written.some(credential => options.sameRegistry(entry.server, credential.server)));
  const added = command === undefined ? [] : written.map(({server, username}) => ({server, username, command}));
  return encodeCommands([...kept, ...added]);
}

/** The annotation changes a password command makes when the content changes: `refreshed-at` now. */
export function refreshedAtStamp(now: Date): Record<string, string> {
  return {[REFRESHED_AT_ANNOTATION]: rfc3339(now)};
}
