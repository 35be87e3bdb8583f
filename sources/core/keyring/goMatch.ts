/**
 * Go's `path/filepath.Match` on Unix, byte for byte: `*` (not across `/`), `?`, `[...]`/`[^...]`
 * classes with ranges, `\` escapes, and `ErrBadPattern` for malformed patterns (the whole pattern is
 * checked even when the match already failed, as Go ≥1.16 does). The kubelet uses it per host label.
 *
 * API: `goFilepathMatch(pattern, name)` → `{matched: boolean} | {badPattern: true}`.
 */

const SEPARATOR = 0x2f; // '/'
const encoder = new TextEncoder();

class BadPattern extends Error {}

/** filepath.Match(pattern, name). */
export function goFilepathMatch(pattern: string, name: string): {matched: boolean; badPattern?: undefined} | {badPattern: true; matched?: undefined} {
  try {
    return {matched: match(encoder.encode(pattern), encoder.encode(name))};
  } catch (error) {
    if (error instanceof BadPattern)
      return {badPattern: true};
    throw error;
  }
}

function match(patternIn: Uint8Array, nameIn: Uint8Array): boolean {
  let pattern = patternIn;
  let name = nameIn;
  patternLoop: while (pattern.length > 0) {
    const scanned = scanChunk(pattern);
    const {star, chunk} = scanned;
    pattern = scanned.rest;
    if (star && chunk.length === 0)
      // A trailing * matches the rest of the name unless it holds a separator.
      return !name.includes(SEPARATOR);
    const first = matchChunk(chunk, name);
    if (first.ok && (first.rest.length === 0 || pattern.length > 0)) {
      name = first.rest;
      continue;
    }
    if (first.bad)
      throw new BadPattern();
    if (star) {
      for (let i = 0; i < name.length && name[i] !== SEPARATOR; i++) {
        const attempt = matchChunk(chunk, name.subarray(i + 1));
        if (attempt.ok) {
          if (pattern.length === 0 && attempt.rest.length > 0)
            continue;
          name = attempt.rest;
          continue patternLoop;
        }
        if (attempt.bad)
          throw new BadPattern();
      }
    }
    // Before reporting a mismatch, check that the rest of the pattern is well-formed.
    while (pattern.length > 0) {
      const next = scanChunk(pattern);
      pattern = next.rest;
      if (matchChunk(next.chunk, new Uint8Array(0)).bad)
        throw new BadPattern();
    }
    return false;
  }
  return name.length === 0;
}

function scanChunk(pattern: Uint8Array): {star: boolean; chunk: Uint8Array; rest: Uint8Array} {
  let star = false;
  while (pattern.length > 0 && pattern[0] === 0x2a) {
    pattern = pattern.subarray(1);
    star = true;
  }
  let inRange = false;
  let i = 0;
  scan: for (; i < pattern.length; i++) {
    switch (pattern[i]) {
      case 0x5c: // '\\'
        if (i + 1 < pattern.length)
          i++;
        break;
      case 0x5b: // '['
        inRange = true;
        break;
      case 0x5d: // ']'
        inRange = false;
        break;
      case 0x2a: // '*'
        if (!inRange)
          break scan;
        break;
    }
  }
  return {star, chunk: pattern.subarray(0, i), rest: pattern.subarray(i)};
}

type ChunkResult = {ok: boolean; rest: Uint8Array; bad: boolean};

function matchChunk(chunkIn: Uint8Array, sIn: Uint8Array): ChunkResult {
  let chunk = chunkIn;
  let s = sIn;
  let failed = false;
  const bad = (): ChunkResult => ({ok: false, rest: new Uint8Array(0), bad: true});
  while (chunk.length > 0) {
    if (!failed && s.length === 0)
      failed = true;
    switch (chunk[0]) {
      case 0x5b: { // '['
        let r = 0;
        if (!failed) {
          const decoded = decodeRune(s);
          r = decoded.rune;
          s = s.subarray(decoded.size);
        }
        chunk = chunk.subarray(1);
        let negated = false;
        if (chunk.length > 0 && chunk[0] === 0x5e) { // '^'
          negated = true;
          chunk = chunk.subarray(1);
        }
        let matched = false;
        let nrange = 0;
        for (;;) {
          if (chunk.length > 0 && chunk[0] === 0x5d && nrange > 0) {
            chunk = chunk.subarray(1);
            break;
          }
          const lo = getEsc(chunk);
          if (!lo)
            return bad();
          chunk = lo.rest;
          let hi = lo.rune;
          if (chunk[0] === 0x2d) { // '-'
            const high = getEsc(chunk.subarray(1));
            if (!high)
              return bad();
            hi = high.rune;
            chunk = high.rest;
          }
          if (lo.rune <= r && r <= hi)
            matched = true;
          nrange++;
        }
        if (matched === negated)
          failed = true;
        break;
      }
      case 0x3f: // '?'
        if (!failed) {
          if (s[0] === SEPARATOR)
            failed = true;
          s = s.subarray(decodeRune(s).size);
        }
        chunk = chunk.subarray(1);
        break;
      case 0x5c: // '\\'
        chunk = chunk.subarray(1);
        if (chunk.length === 0)
          return bad();
        // falls through to a literal comparison of the escaped byte
        if (!failed) {
          if (chunk[0] !== s[0])
            failed = true;
          s = s.subarray(1);
        }
        chunk = chunk.subarray(1);
        break;
      default:
        if (!failed) {
          if (chunk[0] !== s[0])
            failed = true;
          s = s.subarray(1);
        }
        chunk = chunk.subarray(1);
    }
  }
  if (failed)
    return {ok: false, rest: new Uint8Array(0), bad: false};
  return {ok: true, rest: s, bad: false};
}

function getEsc(chunkIn: Uint8Array): {rune: number; rest: Uint8Array} | null {
  let chunk = chunkIn;
  if (chunk.length === 0 || chunk[0] === 0x2d || chunk[0] === 0x5d)
    return null;
  if (chunk[0] === 0x5c) {
    chunk = chunk.subarray(1);
    if (chunk.length === 0)
      return null;
  }
  const {rune, size, error} = decodeRune(chunk);
  if (error)
    return null;
  const rest = chunk.subarray(size);
  if (rest.length === 0)
    return null;
  return {rune, rest};
}

/** utf8.DecodeRune: (RuneError, 1) for invalid input, (RuneError, 0) for empty input. */
function decodeRune(bytes: Uint8Array): {rune: number; size: number; error: boolean} {
  if (bytes.length === 0)
    return {rune: 0xfffd, size: 0, error: true};
  const b0 = bytes[0]!;
  if (b0 < 0x80)
    return {rune: b0, size: 1, error: false};
  const invalid = {rune: 0xfffd, size: 1, error: true};
  const cont = (i: number) => bytes[i] !== undefined && (bytes[i]! & 0xc0) === 0x80;
  if (b0 >= 0xc2 && b0 <= 0xdf) {
    if (!cont(1))
      return invalid;
    return {rune: ((b0 & 0x1f) << 6) | (bytes[1]! & 0x3f), size: 2, error: false};
  }
  if (b0 >= 0xe0 && b0 <= 0xef) {
    if (!cont(1) || !cont(2))
      return invalid;
    const rune = ((b0 & 0x0f) << 12) | ((bytes[1]! & 0x3f) << 6) | (bytes[2]! & 0x3f);
    if (rune < 0x800 || (rune >= 0xd800 && rune <= 0xdfff))
      return invalid;
    return {rune, size: 3, error: false};
  }
  if (b0 >= 0xf0 && b0 <= 0xf4) {
    if (!cont(1) || !cont(2) || !cont(3))
      return invalid;
    const rune = ((b0 & 0x07) << 18) | ((bytes[1]! & 0x3f) << 12) | ((bytes[2]! & 0x3f) << 6) | (bytes[3]! & 0x3f);
    if (rune < 0x10000 || rune > 0x10ffff)
      return invalid;
    return {rune, size: 4, error: false};
  }
  return invalid;
}
