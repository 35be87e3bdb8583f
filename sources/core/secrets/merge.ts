import {encodeAuth, goJsonStringify} from '../dockerconfig/serialize.ts';
import type {RegistryCredential} from './build.ts';

/** Why an existing `.dockerconfigjson` cannot be merged into. */
export class UnmergeableConfigError extends Error {
  constructor(message: string) {
    super(message);
    this.name = `UnmergeableConfigError`;
  }
}

/** The outcome of putting registries into an existing `.dockerconfigjson`. */
export type MergeResult = {
  /** The new content; the existing bytes verbatim when nothing changed. */
  json: string;
  changed: boolean;
  /** Existing keys removed because a given credential names the same registry under another spelling. */
  supersededKeys: string[];
};

/** Byte order of UTF-8 strings, as Go sorts map keys. */
export function compareBytes(a: string, b: string): number {
  return Buffer.compare(Buffer.from(a, `utf8`), Buffer.from(b, `utf8`));
}

/** The entry kubectl writes for a credential, field order username, password, email (when set), auth. */
export function entryFor(credential: RegistryCredential): Record<string, string> {
  const entry: Record<string, string> = {username: credential.username, password: credential.password};
  if (credential.email)
    entry.email = credential.email;
  entry.auth = encodeAuth(credential.username, credential.password);
  return entry;
}

/** True when an existing entry is exactly what we would write for this credential. */
export function entryMatches(existing: unknown, credential: RegistryCredential): boolean {
  if (typeof existing !== `object` || existing === null || Array.isArray(existing))
    return false;
  const wanted = entryFor(credential);
  const have = existing as Record<string, unknown>;
  const keys = Object.keys(have);
  return keys.length === Object.keys(wanted).length && keys.every(key => have[key] === wanted[key]);
}

/** Parses `.dockerconfigjson` text into its top-level object, or explains why it cannot be merged into. */
export function parseForMerge(text: string): Record<string, unknown> & {auths: Record<string, unknown>} {
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch {
    throw new UnmergeableConfigError(`its .dockerconfigjson is not valid JSON`);
  }
  if (typeof parsed !== `object` || parsed === null || Array.isArray(parsed))
    throw new UnmergeableConfigError(`its .dockerconfigjson is not a JSON object`);
  const top = parsed as Record<string, unknown>;
  if (top.auths === undefined || top.auths === null)
    return {...top, auths: {}};
  if (typeof top.auths !== `object` || Array.isArray(top.auths))
    throw new UnmergeableConfigError(`its .dockerconfigjson has an "auths" field that is not an object`);
  return top as Record<string, unknown> & {auths: Record<string, unknown>};
}

/**
 * Serializes a config as Go's encoder would write a map: keys sorted by bytes at the top level
 * and in `auths`; entries we write keep kubectl's field order.
 */
export function serializeMerged(top: Record<string, unknown>): string {
  const field = (key: string, value: unknown) => `${goJsonStringify(key)}:${value}`;
  const parts = Object.keys(top).sort(compareBytes).map(key => {
    if (key !== `auths`)
      return field(key, goJsonStringify(top[key]));
    const auths = top.auths as Record<string, unknown>;
    return field(key, `{${Object.keys(auths).sort(compareBytes).map(server => field(server, goJsonStringify(auths[server]))).join(`,`)}}`);
  });
  return `{${parts.join(`,`)}}`;
}

/**
 * Puts credentials into an existing `.dockerconfigjson`, keeping every other registry and top-level
 * field. `sameRegistry(a, b)` says when two keys name the same registry (e.g. `docker.io` and
 * `https://index.docker.io/v1/`): such older keys are removed so that stale credentials do not linger
 * under another spelling. Returns the existing text untouched when every credential is already there.
 */
export function mergeDockerConfigJson(existingText: string, credentials: RegistryCredential[], sameRegistry: (a: string, b: string) => boolean = (a, b) => a === b): MergeResult {
  const top = parseForMerge(existingText);
  const auths: Record<string, unknown> = {...top.auths};
  const supersededKeys: string[] = [];
  let changed = false;
  for (const credential of credentials) {
    for (const key of Object.keys(auths)) {
      if (key !== credential.server && sameRegistry(key, credential.server)) {
        delete auths[key];
        supersededKeys.push(key);
        changed = true;
      }
    }
    if (!entryMatches(auths[credential.server], credential)) {
      auths[credential.server] = entryFor(credential);
      changed = true;
    }
  }
  if (!changed)
    return {json: existingText, changed: false, supersededKeys};
  return {json: serializeMerged({...top, auths}), changed: true, supersededKeys};
}
