/**
 * Go's encoding/base64 decoders, byte for byte: `StdEncoding` (padded) and `RawStdEncoding`
 * (unpadded). Both skip `\r` and `\n` anywhere, refuse every other character outside the standard
 * alphabet (URL-safe `-`/`_` and spaces included), and do not check the unused trailing bits.
 *
 * API: `decodeStdBase64(text)` and `decodeRawStdBase64(text)` return the bytes or null;
 * `decodeUtf8(bytes)` converts bytes to text as Go's string→JSON path does (invalid UTF-8 → U+FFFD).
 */

const ALPHABET = `ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/`;
const VALUES = new Map([...ALPHABET].map((char, index) => [char.charCodeAt(0), index]));

/** base64.StdEncoding.DecodeString: padding required; null when Go would return an error. */
export function decodeStdBase64(text: string): Uint8Array | null {
  return decode(text, true);
}

/** base64.RawStdEncoding.DecodeString: padding forbidden; null when Go would return an error. */
export function decodeRawStdBase64(text: string): Uint8Array | null {
  return decode(text, false);
}

/** UTF-8 bytes to a string, invalid sequences replaced by U+FFFD. */
export function decodeUtf8(bytes: Uint8Array): string {
  return new TextDecoder(`utf-8`, {fatal: false, ignoreBOM: true}).decode(bytes);
}

function decode(text: string, padded: boolean): Uint8Array | null {
  const out: number[] = [];
  const quantum: number[] = [];
  let i = 0;
  const nextSignificant = (): number => {
    while (i < text.length && (text.charCodeAt(i) === 0x0a || text.charCodeAt(i) === 0x0d))
      i++;
    return i < text.length ? text.charCodeAt(i++) : -1;
  };
  for (;;) {
    const c = nextSignificant();
    if (c === -1)
      break;
    if (c === 0x3d /* = */) {
      if (!padded)
        return null;
      // Padding may only follow 2 or 3 characters of a quantum; `xx=` must be followed by another `=`.
      if (quantum.length < 2)
        return null;
      if (quantum.length === 2 && nextSignificant() !== 0x3d)
        return null;
      // Nothing but newlines may follow the padding.
      if (nextSignificant() !== -1)
        return null;
      flush(quantum, out);
      return Uint8Array.from(out);
    }
    const value = VALUES.get(c);
    if (value === undefined)
      return null;
    quantum.push(value);
    if (quantum.length === 4) {
      flush(quantum, out);
      quantum.length = 0;
    }
  }
  if (quantum.length === 0)
    return Uint8Array.from(out);
  if (padded || quantum.length === 1)
    return null;
  flush(quantum, out);
  return Uint8Array.from(out);
}

function flush(quantum: number[], out: number[]) {
  const [a = 0, b = 0, c = 0, d = 0] = quantum;
  const bits = (a << 18) | (b << 12) | (c << 6) | d;
  out.push((bits >> 16) & 0xff);
  if (quantum.length >= 3)
    out.push((bits >> 8) & 0xff);
  if (quantum.length >= 4)
    out.push(bits & 0xff);
}
