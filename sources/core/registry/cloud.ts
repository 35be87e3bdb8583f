/**
 * Cloud and well-known registries (docs/credential-rules.md R5): recognising the host, reading a
 * token's expiry best-effort, and warnings about credentials that the kubelet will not use as the
 * user expects. Pure; warnings name users and hosts but never passwords or tokens.
 */

export type RegistryKind = `docker-hub` | `ecr` | `ecr-public` | `gcr` | `artifact-registry` | `acr` | `ghcr` | `quay` | `generic`;

/** What a registry host is, for messages and hints. */
export type RegistryDescription = {
  kind: RegistryKind;
  /** Human name, e.g. `Amazon ECR (123456789012, eu-west-1)`. */
  name: string;
  /** The host without port, lower-cased. */
  host: string;
  account?: string;
  region?: string;
  fips?: boolean;
  dualStack?: boolean;
};

// <12-digit account>.dkr.ecr[-fips].<region>.<suffix>; dual-stack uses dkr-ecr[-fips] (R5.1).
const ECR = /^(\d{12})\.dkr([.-])ecr(-fips)?\.([a-z0-9-]+)\.(amazonaws\.com|amazonaws\.com\.cn|amazonaws\.eu|on\.aws|on\.amazonwebservices\.com\.cn|sc2s\.sgov\.gov|c2s\.ic\.gov|cloud\.adc-e\.uk|csp\.hci\.ic\.gov)$/;
const DOCKER_HUB = new Set([`docker.io`, `index.docker.io`, `registry-1.docker.io`, `registry.hub.docker.com`]);
const ACR = /^[a-z0-9]+\.azurecr\.(io|cn|us|de)$/;
const ARTIFACT_REGISTRY = /^[a-z0-9-]+-docker\.pkg\.dev$/;
const GCR = /^(?:[a-z0-9-]+\.)?gcr\.io$/;

function hostOnly(host: string): string {
  let h = host.trim().toLowerCase().replace(/^[a-z]+:\/\//, ``).replace(/\/.*$/, ``);
  h = h.startsWith(`[`) ? h.replace(/\]:\d+$/, `]`) : h.replace(/:\d+$/, ``);
  return h.replace(/\.$/, ``);
}

/** Recognises a registry host (accepts `https://` prefixes, ports and paths, as pull-secret keys have them). */
export function describeRegistry(host: string): RegistryDescription {
  const h = hostOnly(host);
  const ecr = ECR.exec(h);
  if (ecr !== null) {
    const fips = ecr[3] !== undefined;
    const dualStack = ecr[2] === `-`;
    return {kind: `ecr`, name: `Amazon ECR (${ecr[1]}, ${ecr[4]}${fips ? `, FIPS` : ``})`, host: h, account: ecr[1], region: ecr[4], fips, dualStack};
  }
  if (h === `public.ecr.aws` || h === `ecr-public.aws.com`)
    return {kind: `ecr-public`, name: `Amazon ECR Public`, host: h};
  if (DOCKER_HUB.has(h))
    return {kind: `docker-hub`, name: `Docker Hub`, host: h};
  if (GCR.test(h))
    return {kind: `gcr`, name: `Google Container Registry`, host: h};
  if (ARTIFACT_REGISTRY.test(h))
    return {kind: `artifact-registry`, name: `Google Artifact Registry (${h.slice(0, -`-docker.pkg.dev`.length)})`, host: h};
  if (ACR.test(h))
    return {kind: `acr`, name: `Azure Container Registry (${h.split(`.`)[0]})`, host: h};
  if (h === `ghcr.io`)
    return {kind: `ghcr`, name: `GitHub Container Registry`, host: h};
  if (h === `quay.io`)
    return {kind: `quay`, name: `Quay`, host: h};
  return {kind: `generic`, name: h, host: h};
}

function decodeBase64(text: string): string | null {
  try {
    const normal = text.trim().replace(/-/g, `+`).replace(/_/g, `/`);
    const padded = normal + `=`.repeat((4 - (normal.length % 4)) % 4);
    const binary = atob(padded);
    return new TextDecoder(`utf-8`, {fatal: true}).decode(Uint8Array.from(binary, char => char.charCodeAt(0)));
  } catch {
    return null;
  }
}

/** The JSON object an ECR authorization password is the base64 of, or null when it is not one. */
function ecrTokenObject(password: string): Record<string, unknown> | null {
  if (password.length < 16)
    return null;
  const decoded = decodeBase64(password);
  if (decoded === null)
    return null;
  try {
    const parsed: unknown = JSON.parse(decoded);
    return typeof parsed === `object` && parsed !== null && !Array.isArray(parsed) ? parsed as Record<string, unknown> : null;
  } catch {
    return null;
  }
}

/**
 * The expiry of an ECR authorization password, read best-effort: the password from
 * `aws ecr get-login-password` is base64 of a JSON object with `expiration` (Unix seconds).
 * The format is undocumented (R5.1), so anything unreadable gives null ("unknown").
 */
export function ecrTokenExpiry(password: string): Date | null {
  const parsed = ecrTokenObject(password);
  if (parsed === null)
    return null;
  const expiration = typeof parsed.expiration === `string` && /^\d+$/.test(parsed.expiration) ? Number(parsed.expiration) : parsed.expiration;
  if (typeof expiration !== `number` || !Number.isFinite(expiration) || expiration <= 0)
    return null;
  return new Date(expiration * 1000);
}

/**
 * True when a password has the shape of an ECR authorization token (base64 of JSON with `payload`, `datakey` and
 * `expiration`), whatever host it is stored under: a mistyped ECR host or a proxy in front of ECR still carries one.
 */
export function isEcrToken(password: string): boolean {
  const parsed = ecrTokenObject(password);
  return parsed !== null && typeof parsed.payload === `string` && typeof parsed.datakey === `string` && ecrTokenExpiry(password) !== null;
}

/**
 * The one expiry rule for a registry password (decode, list, add, verify, doctor and refresh all use it): an ECR
 * host's token (R5.1), or an ECR-shaped token under any other key; null when unknown.
 */
export function tokenExpiry(registryKey: string, password: string): Date | null {
  if (describeRegistry(registryKey).kind === `ecr` || isEcrToken(password))
    return ecrTokenExpiry(password);
  return null;
}

/** The `exp` of a JWT (ACR refresh tokens, some registry tokens), best-effort; null when not a readable JWT. */
export function jwtExpiry(token: string): Date | null {
  const parts = token.split(`.`);
  if (parts.length !== 3)
    return null;
  const payload = decodeBase64(parts[1]!);
  if (payload === null)
    return null;
  try {
    const exp = (JSON.parse(payload) as {exp?: unknown}).exp;
    return typeof exp === `number` && Number.isFinite(exp) && exp > 0 ? new Date(exp * 1000) : null;
  } catch {
    return null;
  }
}

const ACR_TOKEN_USER = `00000000-0000-0000-0000-000000000000`;

/** Input for `credentialHints`: one registry entry as stored in a secret or Docker config. */
export type CredentialHintInput = {host: string; username?: string; password?: string; identityToken?: string; now?: Date};

/**
 * Warnings about a credential for a known registry: wrong username conventions, tokens that
 * expire (or already did), and identity tokens that the kubelet drops (R1.6). Each warning is one line.
 */
export function credentialHints(input: CredentialHintInput): string[] {
  const registry = describeRegistry(input.host);
  const username = input.username ?? ``;
  const password = input.password ?? ``;
  const now = input.now ?? new Date();
  const hints: string[] = [];
  const hasIdentityToken = input.identityToken !== undefined && input.identityToken !== ``;

  if (hasIdentityToken) {
    hints.push(registry.kind === `acr`
      ? `${registry.host}: the entry holds an identitytoken (from az acr login), which the kubelet ignores, so it pulls anonymously; store username ${ACR_TOKEN_USER} with the token as password instead`
      : `${registry.host}: the entry holds an identitytoken, which the kubelet ignores (it only sends username and password)${username === `` ? `, so it pulls anonymously` : ``}`);
  }

  // A host shaped like ECR's but not matching it (ECR account IDs have exactly 12 digits) will not resolve.
  if (registry.kind !== `ecr` && /\.dkr[.-]ecr(?:-fips)?\./.test(registry.host))
    hints.push(`${registry.host} looks like an Amazon ECR host but is not one: ECR hosts are <12-digit account>.dkr.ecr.<region>.amazonaws.com`);
  if (registry.kind !== `ecr` && isEcrToken(password)) {
    const expiry = ecrTokenExpiry(password);
    if (expiry !== null && expiry.getTime() <= now.getTime())
      hints.push(`${registry.host}: the password is an ECR token that expired at ${expiry.toISOString()}; create a new one with aws ecr get-login-password`);
  }

  switch (registry.kind) {
    case `docker-hub`:
      if (username.includes(`@`))
        hints.push(`Docker Hub needs the Docker ID as username, not the e-mail address "${username}" (logins with an e-mail address fail with "incorrect username or password")`);
      break;
    case `ecr`: {
      if (username !== `` && username !== `AWS`)
        hints.push(`${registry.name}: the username for an ECR token is "AWS", not "${username}"`);
      const expiry = ecrTokenExpiry(password);
      if (expiry === null)
        hints.push(`${registry.name}: ECR passwords are tokens valid for 12 hours; refresh this secret regularly or use the kubelet's ecr-credential-provider`);
      else if (expiry.getTime() <= now.getTime())
        hints.push(`${registry.name}: the ECR token expired at ${expiry.toISOString()}; create a new one with aws ecr get-login-password`);
      else
        hints.push(`${registry.name}: the ECR token expires at ${expiry.toISOString()} (ECR tokens last 12 hours); refresh this secret before then or use the kubelet's ecr-credential-provider`);
      break;
    }
    case `gcr`:
    case `artifact-registry`:
      if (username === `oauth2accesstoken`) {
        hints.push(`${registry.name}: an oauth2accesstoken password is a short-lived access token (about 1 hour); use a service-account key (_json_key or _json_key_base64) for a lasting secret`);
      } else if (username === `_json_key`) {
        if (!isServiceAccountKey(password))
          hints.push(`${registry.name}: with username _json_key the password must be the service-account key JSON, but it does not parse as one`);
      } else if (username === `_json_key_base64`) {
        const decoded = decodeBase64(password);
        if (decoded === null || !isServiceAccountKey(decoded))
          hints.push(`${registry.name}: with username _json_key_base64 the password must be the base64 of the service-account key JSON, but it does not decode to one`);
      }
      break;
    case `acr`:
      if (username === ACR_TOKEN_USER) {
        const expiry = jwtExpiry(password);
        if (expiry !== null && expiry.getTime() <= now.getTime())
          hints.push(`${registry.name}: the ACR access token expired at ${expiry.toISOString()}; get a new one with az acr login --expose-token`);
        else
          hints.push(`${registry.name}: a token from az acr login --expose-token lasts a few hours${expiry === null ? `` : ` (this one until ${expiry.toISOString()})`}; prefer a service principal or a repository-scoped token`);
      }
      break;
    default:
      break;
  }
  return hints;
}

function isServiceAccountKey(text: string): boolean {
  try {
    const parsed = JSON.parse(text) as {type?: unknown; private_key?: unknown};
    return typeof parsed === `object` && parsed !== null && typeof parsed.private_key === `string`;
  } catch {
    return false;
  }
}
