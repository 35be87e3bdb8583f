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

/**
 * True for a host of this machine, given as a host name with or without port or brackets: `localhost` (and
 * `*.localhost`), 127.0.0.0/8, 0.0.0.0/8 (connecting to it reaches this machine), `::1`, `::` and the IPv4-mapped
 * forms of those (`::ffff:127.0.0.1`, which URL parsing turns into `::ffff:7f00:1`).
 */
export function isLoopbackHost(host: string): boolean {
  const {hostname} = splitHostPort(host);
  return isLocalAddress(hostname);
}

/** `isLoopbackHost` for a bare host name or address (`url.hostname`, a resolved address). */
export function isLocalAddress(address: string): boolean {
  const hostname = address.toLowerCase().replace(/^\[|\]$/g, ``).replace(/\.$/, ``);
  if (hostname === `localhost` || hostname.endsWith(`.localhost`))
    return true;
  const v4 = /^(\d{1,3})\.(\d{1,3})\.(\d{1,3})\.(\d{1,3})$/.exec(hostname);
  if (v4 !== null)
    return v4.slice(1).every(part => Number(part) <= 255) && (Number(v4[1]) === 127 || Number(v4[1]) === 0);
  const groups = expandIpv6(hostname);
  if (groups === undefined)
    return false;
  if (groups.slice(0, 7).every(group => group === 0) && (groups[7] === 0 || groups[7] === 1))
    return true; // :: and ::1
  // IPv4-mapped (::ffff:a.b.c.d) and IPv4-compatible (::a.b.c.d) forms of a local IPv4 address.
  if (groups.slice(0, 5).every(group => group === 0) && (groups[5] === 0xffff || groups[5] === 0)) {
    const first = groups[6]! >> 8;
    return first === 127 || (first === 0 && groups[5] === 0xffff);
  }
  return false;
}

/** The eight 16-bit groups of an IPv6 address (with an optional dotted IPv4 tail), or undefined. */
function expandIpv6(text: string): number[] | undefined {
  if (!text.includes(`:`) || !/^[0-9a-f:.]+$/.test(text))
    return undefined;
  let body = text;
  const tail: number[] = [];
  const dotted = /^(.*:)(\d{1,3})\.(\d{1,3})\.(\d{1,3})\.(\d{1,3})$/.exec(text);
  if (dotted !== null) {
    const bytes = dotted.slice(2).map(Number);
    if (bytes.some(byte => byte > 255))
      return undefined;
    tail.push((bytes[0]! << 8) | bytes[1]!, (bytes[2]! << 8) | bytes[3]!);
    body = dotted[1]!.endsWith(`::`) ? dotted[1]! : dotted[1]!.slice(0, -1);
  }
  const halves = body.split(`::`);
  if (halves.length > 2)
    return undefined;
  const parse = (part: string) => part === `` ? [] : part.split(`:`).map(group => /^[0-9a-f]{1,4}$/.test(group) ? parseInt(group, 16) : NaN);
  const head = parse(halves[0]!);
  const rest = halves.length === 2 ? parse(halves[1]!) : [];
  const missing = 8 - tail.length - head.length - rest.length;
  if ([...head, ...rest].some(Number.isNaN) || missing < 0 || (halves.length === 1 && missing !== 0))
    return undefined;
  return [...head, ...Array<number>(missing).fill(0), ...rest, ...tail];
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
