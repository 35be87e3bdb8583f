/**
 * The parts of Go's `net/url.Parse` and `net.SplitHostPort` the kubelet's keyring relies on, for URLs
 * that start with `https://` or `http://` (the keyring always adds a scheme before parsing):
 * fragment and query are cut off, the authority's userinfo is dropped, the host is validated
 * (invalid characters, bad `%` escapes, a non-numeric port → error) and the path is percent-decoded.
 *
 * API: `goParseUrl(raw)` → `{host, path} | {error}`; `goSplitHost(host)` → `{labels, port}`.
 * Not modelled: IPv6 zone identifiers beyond the basic `%25` form.
 */

/** The fields of a parsed URL that the keyring uses. */
export type GoUrl = {host: string; path: string};

/** url.Parse for `scheme://authority/path?query#fragment` inputs. */
export function goParseUrl(raw: string): GoUrl | {error: string} {
  const hash = raw.indexOf(`#`);
  const beforeFragment = hash < 0 ? raw : raw.slice(0, hash);
  if (hash >= 0 && unescape(raw.slice(hash + 1), `fragment`) === null)
    return {error: `invalid URL escape in fragment`};
  // net/url refuses ASCII control characters anywhere.
  if (/[\u0000-\u001f\u007f]/.test(beforeFragment))
    return {error: `net/url: invalid control character in URL`};
  const schemeEnd = beforeFragment.indexOf(`://`);
  if (schemeEnd < 0)
    return {error: `missing scheme`};
  let rest = beforeFragment.slice(schemeEnd + 1); // keeps the leading `//`
  if (rest.endsWith(`?`) && rest.indexOf(`?`) === rest.length - 1)
    rest = rest.slice(0, -1);
  else if (rest.includes(`?`))
    rest = rest.slice(0, rest.indexOf(`?`));
  let authority = rest.slice(2);
  let path = ``;
  const slash = authority.indexOf(`/`);
  if (slash >= 0) {
    path = authority.slice(slash);
    authority = authority.slice(0, slash);
  }
  const host = parseAuthority(authority);
  if (typeof host !== `string`)
    return host;
  const decodedPath = unescape(path, `path`);
  if (decodedPath === null)
    return {error: `invalid URL escape in path`};
  return {host, path: decodedPath};
}

function parseAuthority(authority: string): string | {error: string} {
  const at = authority.lastIndexOf(`@`);
  const host = parseHost(at < 0 ? authority : authority.slice(at + 1));
  if (typeof host !== `string`)
    return host;
  if (at >= 0) {
    const userinfo = authority.slice(0, at);
    if (!/^[A-Za-z0-9\-._:~!$&'()*+,;=%@]*$/.test(userinfo))
      return {error: `net/url: invalid userinfo`};
    if (unescape(userinfo, `userinfo`) === null)
      return {error: `invalid URL escape in userinfo`};
  }
  return host;
}

function validOptionalPort(port: string): boolean {
  return port === `` || /^:[0-9]*$/.test(port);
}

function parseHost(host: string): string | {error: string} {
  if (host.startsWith(`[`)) {
    const close = host.lastIndexOf(`]`);
    if (close < 0)
      return {error: `missing ']' in host`};
    if (!validOptionalPort(host.slice(close + 1)))
      return {error: `invalid port after host`};
    const zone = host.slice(0, close).indexOf(`%25`);
    if (zone >= 0) {
      const h1 = unescape(host.slice(0, zone), `host`);
      const h2 = unescape(host.slice(zone, close), `zone`);
      const h3 = unescape(host.slice(close), `host`);
      if (h1 === null || h2 === null || h3 === null)
        return {error: `invalid host`};
      return h1 + h2 + h3;
    }
  } else {
    const colon = host.lastIndexOf(`:`);
    if (colon >= 0 && !validOptionalPort(host.slice(colon)))
      return {error: `invalid port after host`};
  }
  const decoded = unescape(host, `host`);
  return decoded === null ? {error: `invalid character in host name`} : decoded;
}

type Mode = `host` | `zone` | `path` | `userinfo` | `fragment`;

// Characters url.shouldEscape lets through unescaped in a host (alphanumerics handled separately).
const HOST_OK = new Set([...`!$&'()*+,;=:[]<>"-_.~`]);

/** url.unescape: validates `%XX` escapes (and host characters), then decodes; null on error. */
function unescape(text: string, mode: Mode): string | null {
  for (let i = 0; i < text.length;) {
    const c = text[i]!;
    if (c === `%`) {
      const hex = text.slice(i + 1, i + 3);
      if (!/^[0-9a-fA-F]{2}$/.test(hex))
        return null;
      // In a host, %-escapes may only encode non-ASCII bytes, except %25 (RFC 6874 zones).
      if (mode === `host` && parseInt(hex[0]!, 16) < 8 && hex !== `25`)
        return null;
      if (mode === `zone`) {
        const value = parseInt(hex, 16);
        if (text.slice(i, i + 3) !== `%25` && value !== 0x20 && (value >= 0x80 || shouldEscapeHost(String.fromCharCode(value))))
          return null;
      }
      i += 3;
      continue;
    }
    if ((mode === `host` || mode === `zone`) && c.charCodeAt(0) < 0x80 && shouldEscapeHost(c))
      return null;
    i++;
  }
  if (!text.includes(`%`))
    return text;
  // Decode %XX sequences as bytes; other characters keep their UTF-8 bytes.
  const bytes: number[] = [];
  const encoder = new TextEncoder();
  for (let i = 0; i < text.length;) {
    if (text[i] === `%`) {
      bytes.push(parseInt(text.slice(i + 1, i + 3), 16));
      i += 3;
    } else {
      const codePoint = text.codePointAt(i)!;
      const char = String.fromCodePoint(codePoint);
      bytes.push(...encoder.encode(char));
      i += char.length;
    }
  }
  return new TextDecoder(`utf-8`, {fatal: false}).decode(Uint8Array.from(bytes));
}

function shouldEscapeHost(c: string): boolean {
  if (/[A-Za-z0-9]/.test(c))
    return false;
  return !HOST_OK.has(c);
}

/**
 * net.SplitHostPort on a URL host, falling back to (host, "") when it fails, then the host split on
 * `.` (the kubelet's splitURL).
 */
export function goSplitHost(hostPort: string): {labels: string[]; port: string} {
  const split = splitHostPort(hostPort);
  const [host, port] = split ?? [hostPort, ``];
  return {labels: host.split(`.`), port};
}

/** net.SplitHostPort; null where Go returns an error. */
function splitHostPort(hostport: string): [string, string] | null {
  const i = hostport.lastIndexOf(`:`);
  if (i < 0)
    return null; // missing port in address
  let host: string;
  let j = 0;
  let k = 0;
  if (hostport.startsWith(`[`)) {
    const end = hostport.indexOf(`]`);
    if (end < 0 || end + 1 !== i)
      return null; // missing ']', missing port, or too many colons
    host = hostport.slice(1, end);
    [j, k] = [1, end + 1];
  } else {
    host = hostport.slice(0, i);
    if (host.includes(`:`))
      return null; // too many colons
  }
  if (hostport.slice(j).includes(`[`) || hostport.slice(k).includes(`]`))
    return null; // unexpected bracket
  return [host, hostport.slice(i + 1)];
}
