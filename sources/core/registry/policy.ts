/**
 * Transport safety rules for talking to registries, as pure decisions over host names and URLs:
 * when plain HTTP may be used, when credentials may be sent, which token realms are acceptable,
 * and whether `Authorization` may follow a redirect. The registry adapter asks these before it
 * opens any connection, so they can be tested without network access.
 */

/** Splits `host[:port]` (IPv6 in brackets) into host name and port. */
export function splitHostPort(hostPort: string): {hostname: string; port?: string} {
  const bracketed = /^\[([^\]]+)\](?::(\d+))?$/.exec(hostPort);
  if (bracketed !== null)
    return {hostname: bracketed[1]!.toLowerCase(), port: bracketed[2]};
  const colon = hostPort.lastIndexOf(`:`);
  if (colon > 0 && hostPort.indexOf(`:`) === colon && /^\d+$/.test(hostPort.slice(colon + 1)))
    return {hostname: hostPort.slice(0, colon).toLowerCase(), port: hostPort.slice(colon + 1)};
  return {hostname: hostPort.toLowerCase()};
}

/** True for `localhost` (and `*.localhost`), 127.0.0.0/8 and ::1, given as a host name with or without port or brackets. */
export function isLoopbackHost(host: string): boolean {
  let {hostname} = splitHostPort(host);
  hostname = hostname.replace(/^\[|\]$/g, ``).replace(/\.$/, ``);
  if (hostname === `localhost` || hostname.endsWith(`.localhost`))
    return true;
  if (hostname === `::1` || hostname === `0:0:0:0:0:0:0:1`)
    return true;
  const v4 = /^(?:::ffff:)?(\d{1,3})\.(\d{1,3})\.(\d{1,3})\.(\d{1,3})$/.exec(hostname);
  return v4 !== null && Number(v4[1]) === 127 && v4.slice(2).every(part => Number(part) <= 255);
}

/** Whether `host` is listed in `insecureHosts` (compared case-insensitively, with or without port). */
export function isInsecureHost(host: string, insecureHosts: readonly string[]): boolean {
  const wanted = host.toLowerCase();
  const {hostname} = splitHostPort(wanted);
  return insecureHosts.some(entry => {
    const candidate = entry.toLowerCase().replace(/^https?:\/\//, ``).replace(/\/.*$/, ``);
    return candidate === wanted || candidate === hostname;
  });
}

/**
 * The schemes to try for a registry host, in order. HTTPS always comes first (as containerd does
 * for `localhost` and insecure hosts); plain HTTP is a fallback only for loopback or listed hosts.
 */
export function schemesFor(host: string, insecureHosts: readonly string[]): Array<`https` | `http`> {
  return isLoopbackHost(host) || isInsecureHost(host, insecureHosts) ? [`https`, `http`] : [`https`];
}

/** Credentials (Basic, passwords in a token POST, bearer tokens) may travel over HTTPS, or plain HTTP to loopback only. */
export function mayCarryCredentials(url: URL): boolean {
  return url.protocol === `https:` || (url.protocol === `http:` && isLoopbackHost(url.host));
}

/** `insecure`: refused to protect credentials; `invalid`: the peer sent something unusable. */
export type Decision = {allowed: true} | {allowed: false; kind: `insecure` | `invalid`; reason: string};

/**
 * Whether a token realm named by a registry's challenge may be contacted.
 * - It must be an absolute http(s) URL.
 * - Plain HTTP only when the realm is on a loopback host (never to a remote host: it would carry the password),
 *   except an anonymous request to the registry's own host when that host is listed as insecure.
 * - A realm on a loopback host is accepted only from a loopback registry, so a remote registry cannot
 *   make the client send credentials to local services (go-containerregistry has the same guard).
 */
export function realmDecision(realm: string, registryHost: string, options: {withCredentials: boolean; insecureHosts?: readonly string[]}): Decision {
  let url: URL;
  try {
    url = new URL(realm);
  } catch {
    return {allowed: false, kind: `invalid`, reason: `the token realm "${truncate(realm)}" is not a URL`};
  }
  if (url.protocol !== `https:` && url.protocol !== `http:`)
    return {allowed: false, kind: `invalid`, reason: `the token realm ${url.protocol}//${url.host} uses an unsupported scheme`};
  if (url.username !== `` || url.password !== ``)
    return {allowed: false, kind: `insecure`, reason: `the token realm ${url.host} embeds credentials`};
  const realmLoopback = isLoopbackHost(url.host);
  const anonymousToInsecureRegistry = !options.withCredentials && url.host.toLowerCase() === registryHost.toLowerCase() && isInsecureHost(registryHost, options.insecureHosts ?? []);
  if (url.protocol === `http:` && !realmLoopback && !anonymousToInsecureRegistry)
    return {allowed: false, kind: `insecure`, reason: `the token realm http://${url.host} is plain HTTP on a non-loopback host; credentials are only sent over HTTPS`};
  if (realmLoopback && !isLoopbackHost(registryHost))
    return {allowed: false, kind: `insecure`, reason: `registry ${registryHost} names a token realm on the local machine (${url.host}); refusing`};
  return {allowed: true};
}

/** `Authorization` follows a redirect only to the same scheme, host and port (the OCI spec forbids forwarding it elsewhere). */
export function mayForwardAuthorization(from: URL, to: URL): boolean {
  return from.protocol === to.protocol && from.host.toLowerCase() === to.host.toLowerCase();
}

/** A redirect may be followed when it stays on http(s), and plain HTTP only to loopback or listed hosts. */
export function redirectDecision(to: URL, insecureHosts: readonly string[]): Decision {
  if (to.protocol === `https:`)
    return {allowed: true};
  if (to.protocol === `http:` && (isLoopbackHost(to.host) || isInsecureHost(to.host, insecureHosts)))
    return {allowed: true};
  return {allowed: false, kind: `insecure`, reason: `a redirect to ${to.protocol}//${to.host} was refused (plain HTTP is only used for loopback or insecure registries)`};
}

function truncate(text: string): string {
  return text.length > 80 ? `${text.slice(0, 77)}...` : text;
}
