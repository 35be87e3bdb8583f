/**
 * Secret redaction: the one place that decides what of a secret value may never leave the process.
 *
 * Every value registered here (a password, a token, a `.dockerconfigjson` payload, an `auth` value) is
 * expanded into the forms in which servers and our own encoders echo it: as is, JSON-escaped (Go's
 * `\u003c` style too), URL- and form-encoded, base64 (standard and URL alphabets), and for credentials the
 * `auth` value (base64 of `user:password`). `redact` replaces those forms with `[redacted]`:
 *
 * - long forms (12 characters and more, and every encoded form of 8 and more) wherever they appear;
 * - a short raw value only where it stands as a value: right after `=`, `:` or a quote and followed by
 *   the end, a quote, `&`, `,`, `;`, `}` or a space (`password=wrong&`, `"password":"wrong"`). A short
 *   password that is also an ordinary word or address (`wrong`, `127.0.0.1`) is left alone elsewhere, so
 *   the place a `[redacted]` lands can never tell what the password is.
 *
 * `safeText` redacts first and truncates after, so a secret straddling the cut never shows its prefix;
 * text that was already cut by a size cap (`{cut: true}`) also loses any tail that begins a secret form.
 * Pure: no I/O; the output streams wrap every write with it (sources/adapters/output/redactingStream.ts).
 */

const REDACTED = `[redacted]`;
/** Raw values this long are redacted wherever they appear. */
const LONG_RAW = 12;
/** Encoded forms (base64, escapes) this long are redacted wherever they appear. */
const LONG_ENCODED = 8;
/** The shortest tail of cut text that is taken for the beginning of a secret form. */
const MIN_CUT_PREFIX = 6;
/** Every form redacted anywhere is at least this long (LONG_ENCODED ≤ LONG_RAW): its first characters index it. */
const INDEX_PREFIX = LONG_ENCODED;

type Form = {text: string; anywhere: boolean};

const base64 = (text: string): string => bytesToBase64(new TextEncoder().encode(text));

function bytesToBase64(bytes: Uint8Array): string {
  const alphabet = `ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/`;
  let out = ``;
  for (let i = 0; i < bytes.length; i += 3) {
    const a = bytes[i]!;
    const b = bytes[i + 1];
    const c = bytes[i + 2];
    out += alphabet[a >> 2]! + alphabet[((a & 3) << 4) | ((b ?? 0) >> 4)]!;
    out += b === undefined ? `=` : alphabet[((b & 15) << 2) | ((c ?? 0) >> 6)]!;
    out += c === undefined ? `=` : alphabet[c & 63]!;
  }
  return out;
}

/** JSON string escaping as Go's encoding/json does it (HTML characters as `\u00XX`), without quotes. */
function goJsonEscape(text: string): string {
  return JSON.stringify(text).slice(1, -1).replace(/</g, `\\u003c`).replace(/>/g, `\\u003e`).replace(/&/g, `\\u0026`);
}

function escapeRegExp(text: string): string {
  return text.replace(/[.*+?^${}()|[\]\\]/g, `\\$&`);
}

/** A per-run register of secret values; `redact` hides every registered value in any text. */
export class SecretRedactor {
  readonly #forms = new Map<string, Form>();
  /** Values already expanded: a credential is registered once per registry check, its forms computed once. */
  readonly #added = new Set<string>();
  #sorted: Form[] | null = null;
  #shortPattern: RegExp | null = null;
  #index: AnywhereIndex | null = null;

  /** Registers a secret value (password, token, payload) and its encoded forms. Empty values are ignored. */
  add(value: string | undefined | null): void {
    if (value === undefined || value === null || value === `` || this.#added.has(value))
      return;
    this.#added.add(value);
    this.#addForm(value, value.length >= LONG_RAW);
    const b64 = base64(value);
    for (const form of [goJsonEscape(value), JSON.stringify(value).slice(1, -1), encodeURIComponent(value), new URLSearchParams({v: value}).toString().slice(2), b64, b64.replace(/=+$/, ``), b64.replace(/\+/g, `-`).replace(/\//g, `_`).replace(/=+$/, ``)]) {
      if (form !== value)
        this.#addForm(form, form.length >= LONG_ENCODED);
    }
    // A JSON document (a .dockerconfigjson payload): its credential fields are secrets of their own.
    if (value.length > 2 && (value.startsWith(`{`) || value.startsWith(`[`)))
      this.#addJsonSecrets(value);
  }

  /** Registers a username/password pair: the password and the `auth` value derived from both. */
  addCredential(username: string, password: string): void {
    this.add(password);
    if (password !== `` || username !== ``)
      this.add(`${username}:${password}`);
  }

  /** Registers every value of a Secret's `data` (base64) and `stringData` map, decoded and as sent. */
  addSecretData(data: Record<string, unknown> | undefined, encoded: boolean): void {
    for (const value of Object.values(data ?? {})) {
      if (typeof value !== `string`)
        continue;
      this.add(value);
      if (encoded) {
        const decoded = decodeBase64(value);
        if (decoded !== undefined)
          this.add(decoded);
      }
    }
  }

  /** True when nothing is registered (output can pass through untouched). */
  get empty(): boolean {
    return this.#forms.size === 0;
  }

  /** `text` with every registered secret form replaced by `[redacted]`; with `cut`, a tail that begins a secret form is replaced too. */
  redact(text: string, options: {cut?: boolean} = {}): string {
    if (this.#forms.size === 0 || text === ``)
      return text;
    let out = this.#redactAnywhere(text);
    const short = this.#shortRegExp();
    if (short !== null)
      out = out.replace(short, REDACTED);
    if (options.cut)
      out = this.#redactCutTail(out);
    return out;
  }

  /** Redacts, then collapses to one printable line and truncates to `max` characters (with `...`). */
  safeText(text: string, max: number, options: {cut?: boolean} = {}): string {
    const flat = this.redact(text, options).replace(/[\u0000-\u001f\u007f]+/g, ` `).replace(/\s+/g, ` `).trim();
    return flat.length > max ? `${flat.slice(0, Math.max(0, max - 3))}...` : flat;
  }

  #addForm(text: string, anywhere: boolean): void {
    const known = this.#forms.get(text);
    if (known !== undefined && (known.anywhere || !anywhere))
      return;
    this.#forms.set(text, {text, anywhere});
    this.#sorted = null;
    this.#shortPattern = null;
    this.#index = null;
  }

  /**
   * Every occurrence of every long form, found in one pass over the text (a run registers hundreds of registry
   * tokens, eight forms each, and redacts every registry answer and every output write: searching the text once
   * per form was the largest part of `verify`'s own CPU over 10,000 images). The pass is Wu-Manber's: a window of
   * INDEX_PREFIX characters slides over the text, and the hash of its last BLOCK characters says how far it may move
   * without passing the start of any form (0: a form may start at the window, whose prefix is then looked up).
   * Overlapping occurrences are redacted together as one span, so no part of any of them shows.
   */
  #redactAnywhere(text: string): string {
    if (text.length < INDEX_PREFIX)
      return text;
    const index = this.#anywhereIndex();
    let out = ``;
    let copied = 0;
    let spanStart = -1;
    let spanEnd = -1;
    for (let end = INDEX_PREFIX - 1; end < text.length;) {
      const shift = index.shift[blockHash(text, end)]!;
      if (shift > 0) {
        end += shift;
        continue;
      }
      const at = end - INDEX_PREFIX + 1;
      end++;
      const forms = index.byPrefix.get(text.slice(at, at + INDEX_PREFIX));
      const match = forms?.find(form => text.startsWith(form.text, at));
      if (match === undefined)
        continue;
      const matchEnd = at + match.text.length;
      if (spanStart >= 0 && at < spanEnd) {
        spanEnd = Math.max(spanEnd, matchEnd);
        continue;
      }
      if (spanStart >= 0) {
        out += text.slice(copied, spanStart) + REDACTED;
        copied = spanEnd;
      }
      spanStart = at;
      spanEnd = matchEnd;
    }
    if (spanStart < 0)
      return text;
    return `${out}${text.slice(copied, spanStart)}${REDACTED}${text.slice(spanEnd)}`;
  }

  #anywhereIndex(): AnywhereIndex {
    if (this.#index === null) {
      // A block not found in any form's prefix lets the window move past it; one found at q moves it INDEX_PREFIX-1-q.
      const shift = new Uint8Array(BLOCK_HASH_SIZE).fill(INDEX_PREFIX - BLOCK + 1);
      const byPrefix = new Map<string, Form[]>();
      // Longest first, so the longest form starting at a position is the one found there.
      for (const form of this.#sortedForms()) {
        if (!form.anywhere)
          continue;
        for (let q = BLOCK - 1; q < INDEX_PREFIX; q++) {
          const hash = blockHash(form.text, q);
          shift[hash] = Math.min(shift[hash]!, INDEX_PREFIX - 1 - q);
        }
        const prefix = form.text.slice(0, INDEX_PREFIX);
        byPrefix.set(prefix, [...byPrefix.get(prefix) ?? [], form]);
      }
      this.#index = {shift, byPrefix};
    }
    return this.#index;
  }

  #addJsonSecrets(text: string): void {
    let parsed: unknown;
    try {
      parsed = JSON.parse(text);
    } catch {
      return;
    }
    const walk = (node: unknown, depth: number): void => {
      if (depth > 8 || typeof node !== `object` || node === null)
        return;
      for (const [key, value] of Object.entries(node)) {
        if (typeof value === `string` && /^(auth|password|identitytoken|registrytoken|secret|token)$/i.test(key))
          this.add(value);
        else
          walk(value, depth + 1);
      }
    };
    walk(parsed, 0);
  }

  #sortedForms(): Form[] {
    this.#sorted ??= [...this.#forms.values()].sort((a, b) => b.text.length - a.text.length);
    return this.#sorted;
  }

  #shortRegExp(): RegExp | null {
    if (this.#shortPattern === null) {
      const shorts = this.#sortedForms().filter(form => !form.anywhere).map(form => escapeRegExp(form.text));
      if (shorts.length === 0)
        return null;
      this.#shortPattern = new RegExp(`(?<=[="':])(?:${shorts.join(`|`)})(?=$|["'&,;}\\s])`, `g`);
    }
    return this.#shortPattern;
  }

  #redactCutTail(text: string): string {
    for (const form of this.#sortedForms()) {
      const longest = Math.min(form.text.length - 1, text.length);
      for (let length = longest; length >= MIN_CUT_PREFIX; length--) {
        if (text.endsWith(form.text.slice(0, length)))
          return `${text.slice(0, text.length - length)}${REDACTED}`;
      }
    }
    return text;
  }
}

type AnywhereIndex = {shift: Uint8Array; byPrefix: Map<string, Form[]>};

/** Characters hashed per step of the scan, and the size of the shift table (hashes collide: shifts only shrink). */
const BLOCK = 3;
const BLOCK_HASH_SIZE = 1 << 16;

/** A hash of the BLOCK characters ending at `end`. */
function blockHash(text: string, end: number): number {
  return ((text.charCodeAt(end - 2) * 31 + text.charCodeAt(end - 1)) * 31 + text.charCodeAt(end)) & (BLOCK_HASH_SIZE - 1);
}

function decodeBase64(value: string): string | undefined {
  if (!/^[A-Za-z0-9+/]*={0,2}$/.test(value) || value.length % 4 !== 0)
    return undefined;
  try {
    const binary = atob(value);
    const bytes = Uint8Array.from(binary, char => char.charCodeAt(0));
    return new TextDecoder(`utf-8`, {fatal: true}).decode(bytes);
  } catch {
    return undefined;
  }
}
