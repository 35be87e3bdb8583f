/**
 * Image references as the kubelet and containerd read them: distribution/reference's grammar and
 * `ParseNormalizedNamed` (docs/credential-rules.md R2.3, R4), reproduced rule for rule.
 *
 * Public API:
 * - `parseImageReference(input)` → `{ok: true, ref: ImageRef} | {ok: false, error}`; errors are worded
 *   like the runtime's `InvalidImageName`: `couldn't parse image reference "Nginx": invalid reference
 *   format: repository name (library/Nginx) must be lowercase`.
 * - `ImageRef.lookup` is the string the kubelet's keyring looks up (repository name, no tag/digest);
 *   `ImageRef.dialHost` is the host containerd contacts (`registry-1.docker.io` for `docker.io`).
 */

/** A parsed, normalized image reference. */
export type ImageRef = {
  /** The reference as written. */
  input: string;
  /** The registry domain (may contain a port and uppercase), e.g. `docker.io`, `localhost:5000`. */
  domain: string;
  /** The repository path within the domain, e.g. `library/nginx`. */
  path: string;
  tag?: string;
  digest?: string;
  /** What the kubelet's keyring looks up: `domain/path`, e.g. `docker.io/library/nginx`. */
  lookup: string;
  /** The host the runtime dials: `registry-1.docker.io` for `docker.io`, else the domain. */
  dialHost: string;
  /** The repository on the wire (same as `path`). */
  repository: string;
  /** What is pulled: the digest when given (the tag is then ignored), else the tag, else `latest`. */
  reference: string;
};

const DEFAULT_DOMAIN = `docker.io`;
const LEGACY_DEFAULT_DOMAIN = `index.docker.io`;
const OFFICIAL_REPO_PREFIX = `library/`;
/** containerd maps docker.io to this host (remotes/docker/resolver.go). */
export const DOCKER_HUB_DIAL_HOST = `registry-1.docker.io`;
const NAME_TOTAL_LENGTH_MAX = 255;

// distribution/reference regexp.go, composed the same way.
const alphanumeric = `[a-z0-9]+`;
const separator = `(?:[._]|__|[-]+)`;
const domainNameComponent = `(?:[a-zA-Z0-9]|[a-zA-Z0-9][a-zA-Z0-9-]*[a-zA-Z0-9])`;
const optionalPort = `(?::[0-9]+)?`;
// `\w` in Go's RE2 is ASCII-only [0-9A-Za-z_], as is JavaScript's without the `u`/`v` flags.
const tag = `[\\w][\\w.-]{0,127}`;
const digestPat = `[A-Za-z][A-Za-z0-9]*(?:[-_+.][A-Za-z][A-Za-z0-9]*)*[:][0-9a-fA-F]{32,}`;
const ipv6address = `\\[(?:[a-fA-F0-9:]+)\\]`;
const domainName = `${domainNameComponent}(?:\\.${domainNameComponent})*`;
const host = `(?:${domainName}|${ipv6address})`;
const domainAndPort = `${host}${optionalPort}`;
const pathComponent = `${alphanumeric}(?:${separator}${alphanumeric})*`;
const remoteName = `${pathComponent}(?:/${pathComponent})*`;
const namePat = `(?:${domainAndPort}/)?${remoteName}`;
const REFERENCE_RE = new RegExp(`^(${namePat})(?::(${tag}))?(?:@(${digestPat}))?$`);
const ANCHORED_NAME_RE = new RegExp(`^(?:(${domainAndPort})/)?(${remoteName})$`);
const ANCHORED_IDENTIFIER_RE = /^[a-f0-9]{64}$/;

/** Digest algorithms containerd links in (go-digest: sha256, sha384, sha512) and their hex lengths. */
const DIGEST_HEX_LENGTHS: Record<string, number> = {sha256: 64, sha384: 96, sha512: 128};

/** Parses an image reference the way the kubelet does before any credential lookup. */
export function parseImageReference(input: string): {ok: true; ref: ImageRef} | {ok: false; error: string} {
  const parsed = parseNormalizedNamed(input);
  if (`error` in parsed)
    return {ok: false, error: `couldn't parse image reference ${goQuote(input)}: ${escapeControls(parsed.error)}`};
  const {domain, path, tag, digest} = parsed;
  const lookup = `${domain}/${path}`;
  const ref: ImageRef = {
    input,
    domain,
    path,
    lookup,
    dialHost: domain === DEFAULT_DOMAIN ? DOCKER_HUB_DIAL_HOST : domain,
    repository: path,
    reference: digest ?? tag ?? `latest`,
  };
  if (tag !== undefined)
    ref.tag = tag;
  if (digest !== undefined)
    ref.digest = digest;
  return {ok: true, ref};
}

type Parsed = {domain: string; path: string; tag?: string; digest?: string} | {error: string};

/** distribution/reference normalize.go ParseNormalizedNamed. */
function parseNormalizedNamed(s: string): Parsed {
  if (ANCHORED_IDENTIFIER_RE.test(s))
    return {error: `invalid repository name (${s}), cannot specify 64-byte hexadecimal strings`};
  const [domain, remainder] = splitDockerDomain(s);
  const tagSep = remainder.indexOf(`:`);
  const remote = tagSep > -1 ? remainder.slice(0, tagSep) : remainder;
  if (goToLower(remote) !== remote)
    return {error: `invalid reference format: repository name (${remote}) must be lowercase`};
  return parse(`${domain}/${remainder}`);
}

/** distribution/reference normalize.go splitDockerDomain (v0.6.0, with the uppercase-domain rule). */
function splitDockerDomain(name: string): [domain: string, remainder: string] {
  const slash = name.indexOf(`/`);
  if (slash < 0)
    return [DEFAULT_DOMAIN, OFFICIAL_REPO_PREFIX + name];
  const maybeDomain = name.slice(0, slash);
  const maybeRemote = name.slice(slash + 1);
  let domain: string;
  let remote: string;
  if (maybeDomain === `localhost`) {
    [domain, remote] = [maybeDomain, maybeRemote];
  } else if (maybeDomain === LEGACY_DEFAULT_DOMAIN) {
    [domain, remote] = [DEFAULT_DOMAIN, maybeRemote];
  } else if (/[.:]/.test(maybeDomain)) {
    [domain, remote] = [maybeDomain, maybeRemote];
  } else if (goToLower(maybeDomain) !== maybeDomain) {
    [domain, remote] = [maybeDomain, maybeRemote];
  } else {
    [domain, remote] = [DEFAULT_DOMAIN, name];
  }
  if (domain === DEFAULT_DOMAIN && !remote.includes(`/`))
    remote = OFFICIAL_REPO_PREFIX + remote;
  return [domain, remote];
}

/** distribution/reference reference.go Parse, followed by the "has a name" check. */
function parse(s: string): Parsed {
  const matches = REFERENCE_RE.exec(s);
  if (!matches) {
    if (s === ``)
      return {error: `repository name must have at least one component`};
    if (REFERENCE_RE.test(goToLower(s)))
      return {error: `repository name must be lowercase`};
    return {error: `invalid reference format`};
  }
  const name = matches[1]!;
  if (utf8Length(name) > NAME_TOTAL_LENGTH_MAX)
    return {error: `repository name must not be more than ${NAME_TOTAL_LENGTH_MAX} characters`};
  const nameMatch = ANCHORED_NAME_RE.exec(name);
  const domain = nameMatch?.[1] ?? ``;
  const path = nameMatch ? nameMatch[2]! : name;
  let digest: string | undefined;
  if (matches[3] !== undefined && matches[3] !== ``) {
    const problem = validateDigest(matches[3]);
    if (problem)
      return {error: problem};
    digest = matches[3];
  }
  const tag = matches[2] !== undefined && matches[2] !== `` ? matches[2] : undefined;
  return {domain, path, ...(tag === undefined ? {} : {tag}), ...(digest === undefined ? {} : {digest})};
}

/** go-digest Digest.Validate with the algorithms containerd registers. */
function validateDigest(value: string): string | undefined {
  const colon = value.indexOf(`:`);
  if (colon <= 0 || colon + 1 === value.length)
    return `invalid checksum digest format`;
  const algorithm = value.slice(0, colon);
  const encoded = value.slice(colon + 1);
  const length = DIGEST_HEX_LENGTHS[algorithm];
  if (length === undefined) {
    // Unregistered algorithm: a well-formed digest is "unsupported", anything else a format error.
    if (!/^[a-z0-9]+(?:[.+_-][a-z0-9]+)*:[a-zA-Z0-9=_-]+$/.test(value))
      return `invalid checksum digest format`;
    return `unsupported digest algorithm`;
  }
  if (encoded.length !== length)
    return `invalid checksum digest length`;
  if (!/^[a-f0-9]+$/.test(encoded))
    return `invalid checksum digest format`;
  return undefined;
}

/** Go's strings.ToLower for the ASCII grammar; non-ASCII text never matches the grammar anyway. */
function goToLower(text: string): string {
  return text.toLowerCase();
}

function utf8Length(text: string): number {
  return new TextEncoder().encode(text).length;
}

/** Control characters (and U+2028/2029) escaped, so that an error quoting the input stays one line. */
function escapeControls(text: string): string {
  return text.replace(/[\u0000-\u001f\u007f\u2028\u2029]/g, char => JSON.stringify(char).slice(1, -1).replace(/^\u2028$/, `\\u2028`).replace(/^\u2029$/, `\\u2029`));
}

/** Go's %q for printable text; control characters are escaped so an error stays one line. */
function goQuote(text: string): string {
  return JSON.stringify(text).replace(/[\u007f\u2028\u2029]/g, char => `\\u${char.charCodeAt(0).toString(16).padStart(4, `0`)}`);
}
