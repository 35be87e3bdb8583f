/**
 * Registry keys as written in `.dockerconfigjson`, reduced to what identifies the registry, so that
 * `add` can tell `docker.io` and `https://index.docker.io/v1/` name the same place (docs/credential-rules.md
 * R2.4: the kubelet strips the scheme and a `/v1/` or `/v2/` path prefix; R2.7: Docker Hub aliases).
 */

/** Hosts that all mean Docker Hub to the kubelet's fallback (not `registry-1.docker.io`, which never matches). */
const DOCKER_HUB_HOSTS = new Set([`docker.io`, `index.docker.io`]);

/** `host[:port][/path]` of a key, lower-cased host, without scheme, `/v1/`/`/v2/` prefix or trailing slash. */
export function registryKeyIdentity(key: string): string {
  let rest = key.trim().replace(/^[a-z][a-z0-9+.-]*:\/\//i, ``);
  const slash = rest.indexOf(`/`);
  let host = (slash < 0 ? rest : rest.slice(0, slash)).toLowerCase();
  rest = slash < 0 ? `` : rest.slice(slash);
  rest = rest.replace(/^\/v[12](\/|$)/, `/`).replace(/\/+$/, ``);
  if (DOCKER_HUB_HOSTS.has(host))
    host = `docker.io`;
  return `${host}${rest}`;
}

/** The host part of a key (`ghcr.io`, `127.0.0.1:5000`), Docker Hub aliases reduced to `docker.io`. */
export function registryHost(key: string): string {
  const identity = registryKeyIdentity(key);
  const slash = identity.indexOf(`/`);
  return slash < 0 ? identity : identity.slice(0, slash);
}

/** True when two keys name the same registry (and the same repository prefix, for namespaced keys). */
export function sameRegistryKey(a: string, b: string): boolean {
  return registryKeyIdentity(a) === registryKeyIdentity(b);
}
