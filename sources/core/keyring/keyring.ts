/**
 * The kubelet's credential keyring (pkg/credentialprovider/keyring.go; docs/credential-rules.md R2.4–R2.7),
 * reproduced exactly, plus the diagnosis `explain`, `verify` and `doctor` print.
 *
 * Public API:
 * - `buildKeyring(sources)`: one keyring from pull secrets in `imagePullSecrets` order (each source is
 *   one secret or one `--docker-config` file; the same secret listed twice is added twice).
 * - `lookupCredentials(keyring | keyring[], image)`: the credentials the kubelet tries, in order, with
 *   why each matched (`host`, `glob`, `docker-hub-fallback`), the keys that did not match and why, and
 *   warnings. An array of keyrings is the kubelet's union (pod secrets, then node, then plugins): each
 *   keyring matches and falls back on its own and the results are concatenated.
 * - `normalizeKey(raw)`, `urlsMatch(key, target)`, `isDefaultRegistryMatch(image)`: the building blocks.
 *
 * Passwords travel in `credentials` (verify needs them) but never in `rejected` or `warnings`.
 */
import type {DockerConfigEntry} from '../dockerconfig/parse.ts';
import type {ImageRef} from '../image/reference.ts';
import {goFilepathMatch} from './goMatch.ts';
import {goParseUrl, goSplitHost} from './goUrl.ts';

/** One pull secret (or config file) feeding the keyring. */
export type KeyringSource = {source: string; entries: DockerConfigEntry[]};

/** Why a credential was selected (docs/design.md vocabulary). */
export type MatchKind = `host` | `glob` | `docker-hub-fallback`;

/** Why a key did not produce a credential for an image. */
export type RejectionReason =
  | `port` // the ports differ (no port counts as "")
  | `label-count` // the hosts have different numbers of dot-separated labels
  | `path` // the key's path is not a string prefix of the image's path
  | `case` // it would match if matching were case-insensitive
  | `host` // a host label does not (glob-)match
  | `scheme` // the key starts with a scheme the kubelet does not recognise (only lowercase https:// and http://)
  | `bad-pattern` // a host label is a malformed glob (Go's ErrBadPattern)
  | `invalid-key` // the key does not parse as a URL; the kubelet ignores it
  | `fallback-suppressed`; // a Docker Hub key that would have been the fallback, but another key matched

/** A credential the kubelet hands to the runtime, in order. */
export type CandidateCredential = {
  source: string;
  /** The key as written in the secret. */
  key: string;
  /** The key after the kubelet's normalization (scheme and `/v1/`, `/v2/` dropped). */
  normalizedKey: string;
  username: string;
  password: string;
  match: MatchKind;
  /** Set when the entry carried an identity token (never used by the kubelet). */
  hasIdentityToken?: boolean;
};

/** A key that did not produce a credential, with the reason. */
export type RejectedKey = {
  source: string;
  key: string;
  normalizedKey?: string;
  reason: RejectionReason;
  /** One human line, without any secret. */
  detail: string;
};

export type CredentialLookup = {
  credentials: CandidateCredential[];
  rejected: RejectedKey[];
  warnings: string[];
};

type Stored = {
  source: string;
  key: string;
  normalizedKey: string;
  username: string;
  password: string;
  identityToken: boolean;
  /** Position of the source in the list, to detect keys that collide inside one source. */
  sourceIndex: number;
};

/** A built keyring: the kubelet's BasicDockerKeyring plus what was dropped while building it. */
export type Keyring = {
  /** Normalized keys, de-duplicated, in reverse byte order (the kubelet's lookup order). */
  index: string[];
  creds: Map<string, Stored[]>;
  invalid: RejectedKey[];
  /** Normalized keys that several raw keys of ONE source map to: Go map order makes their order random. */
  collisions: Map<string, {source: string; keys: string[]}[]>;
  /** Each normalized key parsed once, as URLsMatch re-parses it on every lookup. */
  parsed: Map<string, ParsedUrl>;
};

/** The key the Docker Hub fallback uses (keyring.go defaultRegistryHost). */
export const DEFAULT_REGISTRY_HOST = `index.docker.io`;

/** BasicDockerKeyring.Add's normalization of one config key. */
export function normalizeKey(raw: string): {ok: true; key: string} | {ok: false; error: string} {
  const value = raw.startsWith(`https://`) || raw.startsWith(`http://`) ? raw : `https://${raw}`;
  const parsed = goParseUrl(value);
  if (`error` in parsed)
    return {ok: false, error: parsed.error};
  let path = parsed.path;
  if (path.startsWith(`/v2/`) || path.startsWith(`/v1/`))
    path = path.slice(3);
  return {ok: true, key: path.length > 0 && path !== `/` ? parsed.host + path : parsed.host};
}

/** Builds one keyring from sources in list order. */
export function buildKeyring(sources: KeyringSource[]): Keyring {
  const creds = new Map<string, Stored[]>();
  const invalid: RejectedKey[] = [];
  const collisions = new Map<string, {source: string; keys: string[]}[]>();
  sources.forEach(({source, entries}, sourceIndex) => {
    const seen = new Map<string, string[]>();
    for (const entry of entries) {
      const normalized = normalizeKey(entry.key);
      if (!normalized.ok) {
        invalid.push({source, key: entry.key, reason: `invalid-key`, detail: `the key is not a valid URL (${normalized.error}); the kubelet ignores it`});
        continue;
      }
      const list = creds.get(normalized.key) ?? [];
      list.push({source, key: entry.key, normalizedKey: normalized.key, username: entry.username, password: entry.password, identityToken: entry.identityToken !== undefined, sourceIndex});
      creds.set(normalized.key, list);
      seen.set(normalized.key, [...(seen.get(normalized.key) ?? []), entry.key]);
    }
    for (const [key, raws] of seen) {
      if (raws.length > 1)
        collisions.set(key, [...(collisions.get(key) ?? []), {source, keys: raws}]);
    }
  });
  const index = [...creds.keys()].sort(compareBytes).reverse();
  const parsed = new Map(index.map(key => [key, parseSchemeless(key)]));
  return {index, creds, invalid, collisions, parsed};
}

/** Go's byte-wise string order (UTF-8 byte order equals code point order). */
export function compareBytes(a: string, b: string): number {
  const left = [...a];
  const right = [...b];
  for (let i = 0; i < Math.min(left.length, right.length); i++) {
    const x = left[i]!.codePointAt(0)!;
    const y = right[i]!.codePointAt(0)!;
    if (x !== y)
      return x < y ? -1 : 1;
  }
  return left.length - right.length;
}

/** keyring.go isDefaultRegistryMatch: does the lookup string "look like" Docker Hub? */
export function isDefaultRegistryMatch(image: string): boolean {
  const slash = image.indexOf(`/`);
  const first = slash < 0 ? image : image.slice(0, slash);
  if (first.length === 0)
    return false;
  if (slash < 0)
    return true;
  if (first === `docker.io` || first === `index.docker.io`)
    return true;
  return !/[.:]/.test(first);
}

type MatchVerdict = {matched: true} | {matched: false; reason: RejectionReason; detail: string};

/** A schemeless URL parsed as URLsMatch needs it (url.Parse of `https://` + text, then splitURL). */
type ParsedUrl = {labels: string[]; port: string; path: string} | {error: string};

function parseSchemeless(text: string): ParsedUrl {
  const url = goParseUrl(`https://${text}`);
  if (`error` in url)
    return url;
  return {...goSplitHost(url.host), path: url.path};
}

/** keyring.go URLsMatchStr(key, target), with the reason when it does not match. */
export function urlsMatch(key: string, target: string): MatchVerdict {
  return matchParsed(parseSchemeless(key), parseSchemeless(target));
}

function matchParsed(glob: ParsedUrl, tgt: ParsedUrl): MatchVerdict {
  if (`error` in glob)
    return {matched: false, reason: `invalid-key`, detail: `the key is not a valid URL (${glob.error})`};
  if (`error` in tgt)
    return {matched: false, reason: `host`, detail: `the image name is not a valid URL (${tgt.error})`};
  if (glob.port !== tgt.port) {
    // The kubelet compares ports first; when the hosts differ too, the port is a detail of two unrelated hosts.
    const keyHost = glob.labels.join(`.`);
    const imageHost = tgt.labels.join(`.`);
    if (!GLOB_CHARS.test(keyHost) && keyHost.toLowerCase() !== imageHost.toLowerCase())
      return {matched: false, reason: `host`, detail: `the key's host ${keyHost}${glob.port === `` ? `` : `:${glob.port}`} is not the image's host ${imageHost}${tgt.port === `` ? `` : `:${tgt.port}`}`};
  }
  if (glob.port !== tgt.port)
    return {matched: false, reason: `port`, detail: `port ${describePort(glob.port)} of the key differs from port ${describePort(tgt.port)} of the image`};
  if (glob.labels.length !== tgt.labels.length)
    return {matched: false, reason: `label-count`, detail: `the key's host has ${glob.labels.length} dot-separated label${glob.labels.length === 1 ? `` : `s`}, the image's host ${tgt.labels.length}`};
  if (!tgt.path.startsWith(glob.path))
    return {matched: false, reason: caseOnly(glob.path, tgt.path) ? `case` : `path`, detail: `the key's path ${JSON.stringify(glob.path)} is not a prefix of the image's path ${JSON.stringify(tgt.path)}${caseOnly(glob.path, tgt.path) ? ` (matching is case-sensitive)` : ``}`};
  for (let i = 0; i < glob.labels.length; i++) {
    const pattern = glob.labels[i]!;
    const label = tgt.labels[i]!;
    // Fast path: a label without glob characters matches only itself.
    const result = GLOB_CHARS.test(pattern) ? goFilepathMatch(pattern, label) : {matched: pattern === label};
    if (result.badPattern)
      return {matched: false, reason: `bad-pattern`, detail: `the key's host label ${JSON.stringify(pattern)} is a malformed glob pattern`};
    if (!result.matched) {
      const lower = goFilepathMatch(pattern.toLowerCase(), label.toLowerCase());
      if (lower.matched)
        return {matched: false, reason: `case`, detail: `host label ${JSON.stringify(pattern)} differs from ${JSON.stringify(label)} only in case (matching is case-sensitive)`};
      return {matched: false, reason: `host`, detail: `host label ${JSON.stringify(pattern)} does not match ${JSON.stringify(label)}`};
    }
  }
  return {matched: true};
}

function caseOnly(keyPath: string, targetPath: string): boolean {
  return targetPath.toLowerCase().startsWith(keyPath.toLowerCase());
}

function describePort(port: string): string {
  return port === `` ? `(none)` : port;
}

const GLOB_CHARS = /[*?[\\]/;
const RECOGNISED_SCHEME = /^https?:\/\//;
const ANY_SCHEME = /^[A-Za-z][A-Za-z0-9+.-]*:\/\//;

/**
 * Why a pull-secret key can never match an image the kubelet looks up, or undefined: a `registry-1.docker.io` key
 * (Hub images are looked up as docker.io/…), a scheme other than lowercase `https://`/`http://` (`docker://ghcr.io`
 * is read as a host named "docker:"), or uppercase letters in the host (image hosts are lowercase; matching is
 * case-sensitive). The one rule `add`, `decode` and `explain` warn with.
 */
export function neverMatchingKey(key: string): string | undefined {
  if (!RECOGNISED_SCHEME.test(key) && ANY_SCHEME.test(key))
    return `the kubelet recognises only lowercase "https://" and "http://" prefixes, so key ${JSON.stringify(key)} is read as a host named ${JSON.stringify(key.split(`/`)[0])} and never matches; write the host alone, e.g. ${JSON.stringify(key.replace(ANY_SCHEME, ``).split(`/`)[0]!.toLowerCase())}`;
  const host = key.replace(RECOGNISED_SCHEME, ``).split(`/`)[0]!;
  if (host.split(`:`)[0] === `registry-1.docker.io`)
    return `the kubelet never matches registry-1.docker.io keys to Docker Hub images (it looks up docker.io/...); use https://index.docker.io/v1/ or docker.io`;
  if (host !== host.toLowerCase())
    return `image hosts are lowercase and the kubelet matches keys case-sensitively, so key ${JSON.stringify(key)} never matches; write ${JSON.stringify(key.replace(host, host.toLowerCase()))}`;
  return undefined;
}

/** The credentials the kubelet tries for an image, in order, with the keys that did not match. */
export function lookupCredentials(keyring: Keyring | Keyring[], image: ImageRef | string): CredentialLookup {
  const keyrings = Array.isArray(keyring) ? keyring : [keyring];
  const target = typeof image === `string` ? image : image.lookup;
  const result: CredentialLookup = {credentials: [], rejected: [], warnings: []};
  for (const one of keyrings) {
    const part = lookupOne(one, target);
    result.credentials.push(...part.credentials);
    result.rejected.push(...part.rejected);
    result.warnings.push(...part.warnings);
  }
  return result;
}

function lookupOne(keyring: Keyring, target: string): CredentialLookup {
  const credentials: CandidateCredential[] = [];
  const rejected: RejectedKey[] = [...keyring.invalid];
  const warnings: string[] = [];
  const unmatched: Array<{key: string; verdict: MatchVerdict & {matched: false}}> = [];
  const parsedTarget = parseSchemeless(target);
  for (const key of keyring.index) {
    const verdict = matchParsed(keyring.parsed.get(key) ?? parseSchemeless(key), parsedTarget);
    if (verdict.matched) {
      const host = key.split(`/`)[0]!;
      for (const stored of keyring.creds.get(key)!)
        credentials.push(candidate(stored, GLOB_CHARS.test(host) ? `glob` : `host`));
      for (const collision of keyring.collisions.get(key) ?? [])
        warnings.push(`keys ${collision.keys.map(k => JSON.stringify(k)).join(` and `)} of ${collision.source} both normalize to ${JSON.stringify(key)}: the kubelet tries them in random order (Go map iteration); keep only one`);
    } else {
      unmatched.push({key, verdict});
    }
  }
  const hubLike = isDefaultRegistryMatch(target);
  const hubCreds = keyring.creds.get(DEFAULT_REGISTRY_HOST);
  const fallback = credentials.length === 0 && hubLike && hubCreds !== undefined;
  if (fallback) {
    for (const stored of hubCreds)
      credentials.push(candidate(stored, `docker-hub-fallback`));
  }
  for (const {key, verdict} of unmatched) {
    if (fallback && key === DEFAULT_REGISTRY_HOST)
      continue;
    for (const stored of keyring.creds.get(key)!) {
      if (key === DEFAULT_REGISTRY_HOST && hubLike) {
        rejected.push({source: stored.source, key: stored.key, normalizedKey: key, reason: `fallback-suppressed`, detail: `Docker Hub credentials under ${DEFAULT_REGISTRY_HOST} are only a fallback when no other key matches, and another key matched`});
      } else if (!RECOGNISED_SCHEME.test(stored.key) && ANY_SCHEME.test(stored.key)) {
        rejected.push({source: stored.source, key: stored.key, normalizedKey: key, reason: `scheme`, detail: `the kubelet recognises only lowercase "https://" and "http://" prefixes, so this key is read as a host named ${JSON.stringify(key.split(`/`)[0])}`});
      } else {
        rejected.push({source: stored.source, key: stored.key, normalizedKey: key, reason: verdict.reason, detail: verdict.detail});
      }
    }
  }
  if (fallback && !target.startsWith(`docker.io/`) && !target.startsWith(`index.docker.io/`) && target.includes(`/`))
    warnings.push(`the kubelet treats ${JSON.stringify(target.split(`/`)[0])} like Docker Hub (no "." or ":" in it) and sends the Docker Hub credentials to it`);
  for (const credential of credentials) {
    const where = `${credential.source} key ${JSON.stringify(credential.key)}`;
    if (credential.hasIdentityToken)
      warnings.push(`${where} holds an identity token, which the kubelet never sends; ${credential.password === `` ? `with an empty password the runtime pulls anonymously` : `only the username and password are used`}`);
    else if (credential.password === ``)
      warnings.push(`${where} has an empty password: the runtime fetches an anonymous token with it`);
  }
  if (target.startsWith(`docker.io/`)) {
    for (const key of keyring.index) {
      if (key.split(`/`)[0] === `registry-1.docker.io`) {
        for (const stored of keyring.creds.get(key)!)
          warnings.push(`${stored.source} key ${JSON.stringify(stored.key)} never matches Docker Hub images: the kubelet looks up docker.io/..., so use "https://index.docker.io/v1/" or "docker.io" as the key`);
      }
    }
  }
  return {credentials, rejected, warnings};
}

function candidate(stored: Stored, match: MatchKind): CandidateCredential {
  const out: CandidateCredential = {source: stored.source, key: stored.key, normalizedKey: stored.normalizedKey, username: stored.username, password: stored.password, match};
  if (stored.identityToken)
    out.hasIdentityToken = true;
  return out;
}
