/**
 * The kubelet's keyring for one pod, written from docs/credential-rules.md (R1.1–R1.6, R2.1–R2.8) and
 * independently of sources/ — the test world's node and the product must agree on their own.
 *
 * - Only secrets whose type and key belong together count (`kubernetes.io/dockerconfigjson` +
 *   `.dockerconfigjson`, `kubernetes.io/dockercfg` + `.dockercfg`); others add nothing.
 * - Entries decode as Go's encoding/json does into {username, password, email, auth}: field names match
 *   case-insensitively, a wrong type for one of them fails the whole keyring, unknown fields are ignored;
 *   a non-empty `auth` (padded or unpadded standard base64, split at the first `:`) replaces username/password.
 * - Keys are normalized (`https://` prefix, `/v1/` `/v2/` stripped), de-duplicated, tried in reverse byte order;
 *   a key matches when the ports are equal, the host has as many labels as the image's (each glob-matched),
 *   and its path is a string prefix of the image's. `index.docker.io` credentials are the Docker Hub fallback.
 */

export type Credential = {username: string; password: string; /** `<secret>/<key>` for messages. */ source: string; /** The secret's identity (`namespace/name/uid`) when known. */ secret?: string};

/** Thrown when a referenced secret cannot be decoded: the kubelet's pull fails with this message. */
export class KeyringError extends Error {}

const KNOWN_FIELDS = [`username`, `password`, `email`, `auth`] as const;

function goTypeName(value: unknown): string {
  if (Array.isArray(value))
    return `array`;
  if (value === null)
    return `null`;
  return typeof value === `object` ? `object` : typeof value === `boolean` ? `bool` : typeof value;
}

/** Go's base64 StdEncoding (padded) or RawStdEncoding (unpadded); `\r` and `\n` are skipped. */
function decodeBase64(field: string): Buffer {
  const padded = field.trim().endsWith(`=`);
  const text = field.replace(/[\r\n]/g, ``);
  const ok = padded
    ? /^(?:[A-Za-z0-9+/]{4})*(?:[A-Za-z0-9+/]{2}==|[A-Za-z0-9+/]{3}=)?$/.test(text) && text.length % 4 === 0
    : /^[A-Za-z0-9+/]*$/.test(text) && text.length % 4 !== 1;
  if (!ok) {
    const bad = [...text].findIndex(c => !/[A-Za-z0-9+/=]/.test(c));
    throw new KeyringError(`illegal base64 data at input byte ${bad === -1 ? text.length : bad}`);
  }
  return Buffer.from(text, `base64`);
}

/** One entry of a docker config as the kubelet decodes it. */
function decodeEntry(value: unknown): {username: string; password: string} {
  if (value === null)
    return {username: ``, password: ``};
  if (typeof value !== `object` || Array.isArray(value))
    throw new KeyringError(`json: cannot unmarshal ${goTypeName(value)} into Go value of type credentialprovider.dockerConfigEntryWithAuth`);
  const fields: Record<string, string> = {};
  for (const [key, v] of Object.entries(value as Record<string, unknown>)) {
    const known = KNOWN_FIELDS.find(f => f === key.toLowerCase());
    if (!known)
      continue;
    if (v === null)
      continue;
    if (typeof v !== `string`)
      throw new KeyringError(`json: cannot unmarshal ${goTypeName(v)} into Go struct field dockerConfigEntryWithAuth.${known} of type string`);
    fields[known] = v;
  }
  let username = fields.username ?? ``;
  let password = fields.password ?? ``;
  if ((fields.auth ?? ``).length > 0) {
    const decoded = decodeBase64(fields.auth!).toString(`utf8`);
    const colon = decoded.indexOf(`:`);
    if (colon === -1)
      throw new KeyringError(`must be formatted as base64(username:password)`);
    username = decoded.slice(0, colon);
    password = decoded.slice(colon + 1);
  }
  return {username, password};
}

/** The registry-key → entry map a secret contributes (empty when its type and key do not pair). */
export function secretConfig(secret: any): Array<[string, unknown]> {
  const type = secret?.type;
  const key = type === `kubernetes.io/dockerconfigjson` ? `.dockerconfigjson` : type === `kubernetes.io/dockercfg` ? `.dockercfg` : undefined;
  const data = key === undefined ? undefined : secret?.data?.[key];
  if (typeof data !== `string`)
    return [];
  let parsed: unknown;
  try {
    parsed = JSON.parse(Buffer.from(data, `base64`).toString(`utf8`));
  } catch (error) {
    throw new KeyringError(`invalid character in the secret's JSON: ${(error as Error).message}`);
  }
  let map: unknown = parsed;
  if (key === `.dockerconfigjson`) {
    if (parsed === null)
      return [];
    if (typeof parsed !== `object` || Array.isArray(parsed))
      throw new KeyringError(`json: cannot unmarshal ${goTypeName(parsed)} into Go value of type credentialprovider.DockerConfigJSON`);
    map = undefined;
    for (const [k, v] of Object.entries(parsed as Record<string, unknown>)) {
      if (k.toLowerCase() === `auths`)
        map = v;
      else if (k.toLowerCase() === `httpheaders` && v !== null && (typeof v !== `object` || Array.isArray(v) || Object.values(v as object).some(h => typeof h !== `string` && h !== null)))
        throw new KeyringError(`json: cannot unmarshal ${goTypeName(v)} into Go struct field DockerConfigJSON.HttpHeaders`);
    }
  }
  if (map === null || map === undefined)
    return [];
  if (typeof map !== `object` || Array.isArray(map))
    throw new KeyringError(`json: cannot unmarshal ${goTypeName(map)} into Go value of type credentialprovider.DockerConfig`);
  return Object.entries(map as Record<string, unknown>);
}

type GoUrl = {host: string; path: string};

/** Enough of Go's url.Parse for `https://host[:port]/path` (host case kept, as Go keeps it). */
function parseUrl(value: string): GoUrl | undefined {
  const m = /^https?:\/\/([^/?#]*)([^?#]*)/.exec(value);
  if (!m)
    return undefined;
  let host = m[1]!;
  const at = host.lastIndexOf(`@`);
  if (at !== -1)
    host = host.slice(at + 1);
  if (/[\s"<>\\^`{|}]/.test(host))
    return undefined;
  const colon = host.lastIndexOf(`:`);
  if (colon !== -1 && !host.endsWith(`]`) && !/^\d*$/.test(host.slice(colon + 1)))
    return undefined;
  let path: string;
  try {
    path = decodeURIComponent(m[2]!);
  } catch {
    return undefined;
  }
  return {host, path};
}

function splitHostPort(host: string): [string[], string] {
  const m = /^(.*):(\d*)$/.exec(host);
  const hostname = m && !m[1]!.includes(`:`) ? m[1]! : host;
  const port = m && !m[1]!.includes(`:`) ? m[2]! : ``;
  return [hostname.split(`.`), port];
}

/** Go's filepath.Match for one host label; a malformed pattern matches nothing. */
function globMatch(pattern: string, text: string): boolean {
  let re = `^`;
  for (let i = 0; i < pattern.length; i++) {
    const c = pattern[i]!;
    if (c === `*`)
      re += `[^/]*`;
    else if (c === `?`)
      re += `[^/]`;
    else if (c === `\\`) {
      if (i + 1 >= pattern.length)
        return false;
      re += `\\${pattern[++i]}`;
    } else if (c === `[`) {
      const end = pattern.indexOf(`]`, i + 2);
      if (end === -1)
        return false;
      let cls = pattern.slice(i + 1, end);
      const negate = cls.startsWith(`^`);
      if (negate)
        cls = cls.slice(1);
      if (cls.length === 0)
        return false;
      re += `[${negate ? `^` : ``}${cls.replace(/[\]\\]/g, m => `\\${m}`)}]`;
      i = end;
    } else {
      re += c.replace(/[.+^${}()|]/g, m => `\\${m}`);
    }
  }
  try {
    return new RegExp(`${re}$`).test(text);
  } catch {
    return false;
  }
}

function urlsMatch(glob: GoUrl, target: GoUrl): boolean {
  const [globParts, globPort] = splitHostPort(glob.host);
  const [targetParts, targetPort] = splitHostPort(target.host);
  if (globPort !== targetPort || globParts.length !== targetParts.length || !target.path.startsWith(glob.path))
    return false;
  return globParts.every((part, i) => globMatch(part, targetParts[i]!));
}

function isDefaultRegistryMatch(repository: string): boolean {
  const slash = repository.indexOf(`/`);
  const first = slash === -1 ? repository : repository.slice(0, slash);
  if (first.length === 0)
    return false;
  if (slash === -1)
    return true;
  return first === `docker.io` || first === `index.docker.io` || !/[.:]/.test(first);
}

/** One keyring from the pod's usable pull secrets, in `imagePullSecrets` order. */
export class Keyring {
  private readonly creds = new Map<string, Credential[]>();
  private index: string[] = [];

  add(secretName: string, config: Array<[string, unknown]>, secretIdentity?: string): void {
    const decoded = config.map(([loc, entry]) => [loc, decodeEntry(entry)] as const);
    for (const [loc, entry] of decoded) {
      const value = loc.startsWith(`https://`) || loc.startsWith(`http://`) ? loc : `https://${loc}`;
      const parsed = parseUrl(value);
      if (!parsed)
        continue;
      let path = parsed.path;
      if (path.startsWith(`/v2/`) || path.startsWith(`/v1/`))
        path = path.slice(3);
      const key = path.length > 0 && path !== `/` ? `${parsed.host}${path}` : parsed.host;
      const list = this.creds.get(key) ?? [];
      list.push({...entry, source: `${secretName}/${loc}`, ...(secretIdentity !== undefined ? {secret: secretIdentity} : {})});
      this.creds.set(key, list);
    }
    const keys = [...this.creds.keys()];
    this.index = keys.sort((a, b) => (a < b ? 1 : a > b ? -1 : 0));
  }

  /** The credentials tried for a repository name (`docker.io/library/nginx`), in order. */
  lookup(repository: string): Credential[] {
    const target = parseUrl(`https://${repository}`);
    const out: Credential[] = [];
    if (target) {
      for (const key of this.index) {
        const glob = parseUrl(`https://${key}`);
        if (glob && urlsMatch(glob, target))
          out.push(...this.creds.get(key)!);
      }
    }
    if (out.length > 0)
      return out;
    if (isDefaultRegistryMatch(repository))
      return [...(this.creds.get(`index.docker.io`) ?? [])];
    return [];
  }
}
