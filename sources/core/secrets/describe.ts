import {decodeDockerConfigPayload, parsePullSecret, secretLabel} from '../dockerconfig/parse.ts';
import type {DockerConfigEntry, SecretLike} from '../dockerconfig/parse.ts';
import {normalizeKey} from '../keyring/keyring.ts';
import {DOCKERCFG_KEY, DOCKER_CONFIG_JSON_KEY, EXPIRES_AT_ANNOTATION} from './metadata.ts';

/** How an entry's `auth` field relates to its `username`/`password` fields (docs/credential-rules.md R1.4, R1.5). */
export type AuthAgreement = `agrees` | `disagrees` | `auth-only` | `absent`;

/** One registry entry of a pull secret, as `decode` shows it. `password` is the clear text: mask before printing. */
export type DecodedEntry = {
  key: string;
  /** The key as the kubelet normalizes it (scheme and `/v1/` `/v2/` stripped), or null when the kubelet rejects it. */
  normalizedKey: string | null;
  username: string;
  password: string;
  email: string | null;
  auth: AuthAgreement;
  identityToken: boolean;
  registryToken: boolean;
  /** Token expiry (ECR), when readable. */
  expiresAt: Date | null;
};

/** What a pull secret holds and what the kubelet makes of it. */
export type DecodedSecret = {
  name: string;
  namespace: string | null;
  type: string;
  /** The data key the entries were read from, or null when it holds neither pull-secret key. */
  dataKey: string | null;
  /** `ok`: the kubelet uses it; `ignored`: the kubelet skips it (type/key mismatch, empty); `invalid`: it breaks the pull. */
  status: `ok` | `ignored` | `invalid`;
  entries: DecodedEntry[];
  warnings: string[];
  problems: string[];
};

/** Reads a token's expiry from its password (ECR), or null. Injected so the core stays independent of registry specifics. */
export type ExpiryReader = (registryKey: string, password: string) => Date | null;

/** A secret whose `.dockerconfigjson`/`.dockercfg` content is worth showing even when the kubelet ignores it. */
function payloadKey(secret: SecretLike): {key: string; format: `dockerconfigjson` | `dockercfg`} | null {
  const data = secret.data ?? {};
  if (typeof data[DOCKER_CONFIG_JSON_KEY] === `string`)
    return {key: DOCKER_CONFIG_JSON_KEY, format: `dockerconfigjson`};
  if (typeof data[DOCKERCFG_KEY] === `string`)
    return {key: DOCKERCFG_KEY, format: `dockercfg`};
  return null;
}

function toDecoded(entry: DockerConfigEntry, expiryOf: ExpiryReader): DecodedEntry {
  const normalized = normalizeKey(entry.key);
  let auth: AuthAgreement = `absent`;
  if (entry.auth !== undefined)
    auth = entry.authAgrees === undefined ? `auth-only` : entry.authAgrees ? `agrees` : `disagrees`;
  return {
    key: entry.key,
    normalizedKey: normalized.ok ? normalized.key : null,
    username: entry.username,
    password: entry.password,
    email: entry.email ?? null,
    auth,
    identityToken: entry.identityToken !== undefined,
    registryToken: entry.registryToken !== undefined,
    expiresAt: entry.password === `` ? null : expiryOf(entry.key, entry.password),
  };
}

/**
 * Decodes a Secret for `decode`: the entries (even of a secret the kubelet ignores, so the user sees
 * what it holds), with the kubelet's verdict and warnings: wrong type/key pairing, Opaque, identity-token
 * entries, registry-1.docker.io keys, keys the kubelet rejects, expired or soon-expiring tokens.
 */
export function describePullSecret(secret: SecretLike & {metadata: {annotations?: Record<string, string>}}, options: {now: Date; expiryOf: ExpiryReader}): DecodedSecret {
  const parsed = parsePullSecret(secret);
  const base = {
    name: secret.metadata.name,
    namespace: secret.metadata.namespace ?? null,
    type: secret.type ?? `Opaque`,
  };
  const warnings: string[] = [];
  const problems: string[] = [];
  let entries: DockerConfigEntry[] = [];
  let dataKey: string | null = null;
  if (parsed.status === `ok`) {
    entries = parsed.entries;
    warnings.push(...parsed.warnings);
    dataKey = parsed.format === `dockerconfigjson` ? DOCKER_CONFIG_JSON_KEY : DOCKERCFG_KEY;
  } else if (parsed.status === `invalid`) {
    problems.push(...parsed.problems);
    dataKey = payloadKey(secret)?.key ?? null;
  } else {
    warnings.push(parsed.reason);
    const payload = payloadKey(secret);
    if (payload) {
      dataKey = payload.key;
      const text = Buffer.from(secret.data![payload.key]!, `base64`).toString(`utf8`);
      const content = decodeDockerConfigPayload(text, payload.format, `secret ${secretLabel(secret)}: ${payload.key}`);
      if (content.status === `ok`) {
        entries = content.entries;
        warnings.push(...content.warnings);
      }
    }
  }
  const decoded = entries.map(entry => toDecoded(entry, options.expiryOf));
  for (const entry of decoded) {
    if (entry.normalizedKey === null)
      warnings.push(`entry ${JSON.stringify(entry.key)}: the kubelet cannot parse this key as a URL and ignores it`);
    if (entry.expiresAt) {
      const left = entry.expiresAt.getTime() - options.now.getTime();
      if (left <= 0)
        warnings.push(`entry ${JSON.stringify(entry.key)}: the token expired at ${entry.expiresAt.toISOString()}; pulls with it fail (refresh it with kubectl pullsecret rotate)`);
      else if (left < 24 * 3600_000)
        warnings.push(`entry ${JSON.stringify(entry.key)}: the token expires at ${entry.expiresAt.toISOString()} (in ${formatDuration(left)})`);
    }
  }
  const annotated = secret.metadata.annotations?.[EXPIRES_AT_ANNOTATION];
  if (annotated && decoded.every(entry => entry.expiresAt === null) && Date.parse(annotated) <= options.now.getTime())
    warnings.push(`annotation ${EXPIRES_AT_ANNOTATION} says the credentials expired at ${annotated}`);
  return {...base, dataKey, status: parsed.status, entries: decoded, warnings, problems};
}

/** `3h12m`, `45m`, `2d4h`: a short human duration. */
export function formatDuration(ms: number): string {
  const minutes = Math.max(0, Math.floor(ms / 60_000));
  const days = Math.floor(minutes / 1440);
  const hours = Math.floor((minutes % 1440) / 60);
  const mins = minutes % 60;
  if (days > 0)
    return hours > 0 ? `${days}d${hours}h` : `${days}d`;
  if (hours > 0)
    return mins > 0 ? `${hours}h${mins}m` : `${hours}h`;
  return `${mins}m`;
}

/** `******** (12 chars)`: a password's length without its content. */
export function maskSecret(value: string): string {
  if (value === ``)
    return `<empty>`;
  const length = [...value].length;
  return `******** (${length} char${length === 1 ? `` : `s`})`;
}

/** The earliest token expiry among the entries of a `.dockerconfigjson` text, or null (used for the expires-at annotation). */
export function earliestExpiry(dockerConfigJson: string, expiryOf: ExpiryReader): Date | null {
  const parsed = decodeDockerConfigPayload(dockerConfigJson, `dockerconfigjson`, `content`);
  if (parsed.status !== `ok`)
    return null;
  let earliest: Date | null = null;
  for (const entry of parsed.entries) {
    const expiry = entry.password === `` ? null : expiryOf(entry.key, entry.password);
    if (expiry && (earliest === null || expiry < earliest))
      earliest = expiry;
  }
  return earliest;
}
