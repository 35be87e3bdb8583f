/**
 * HPACK, the header compression of HTTP/2 (RFC 7541), for the kube transport's own HTTP/2 client (http2.ts).
 * The decoder keeps the dynamic table the server's encoder fills; the encoder is stateless (it never adds to the
 * server's table). Field bytes are read and written as Latin-1 (one byte, one character), as Node's HTTP parsers do.
 */

/** A compression error (RFC 7541 / RFC 9113 §4.3): the whole HTTP/2 connection must end with COMPRESSION_ERROR. */
export class HpackError extends Error {
  readonly code = `ERR_PULLSECRET_HPACK`;
}

/** RFC 7541 Appendix A: the static table, index 1 first. An entry without a value has the empty string. */
const STATIC_TABLE: ReadonlyArray<readonly [string, string]> = [
  [`:authority`, ``], [`:method`, `GET`], [`:method`, `POST`], [`:path`, `/`], [`:path`, `/index.html`],
  [`:scheme`, `http`], [`:scheme`, `https`], [`:status`, `200`], [`:status`, `204`], [`:status`, `206`],
  [`:status`, `304`], [`:status`, `400`], [`:status`, `404`], [`:status`, `500`], [`accept-charset`, ``],
  [`accept-encoding`, `gzip, deflate`], [`accept-language`, ``], [`accept-ranges`, ``], [`accept`, ``],
  [`access-control-allow-origin`, ``], [`age`, ``], [`allow`, ``], [`authorization`, ``], [`cache-control`, ``],
  [`content-disposition`, ``], [`content-encoding`, ``], [`content-language`, ``], [`content-length`, ``],
  [`content-location`, ``], [`content-range`, ``], [`content-type`, ``], [`cookie`, ``], [`date`, ``], [`etag`, ``],
  [`expect`, ``], [`expires`, ``], [`from`, ``], [`host`, ``], [`if-match`, ``], [`if-modified-since`, ``],
  [`if-none-match`, ``], [`if-range`, ``], [`if-unmodified-since`, ``], [`last-modified`, ``], [`link`, ``],
  [`location`, ``], [`max-forwards`, ``], [`proxy-authenticate`, ``], [`proxy-authorization`, ``], [`range`, ``],
  [`referer`, ``], [`refresh`, ``], [`retry-after`, ``], [`server`, ``], [`set-cookie`, ``],
  [`strict-transport-security`, ``], [`transfer-encoding`, ``], [`user-agent`, ``], [`vary`, ``], [`via`, ``],
  [`www-authenticate`, ``],
];

/** RFC 7541 §4.1: what an entry costs in the dynamic table (and a field in a header list, RFC 9113 §6.5.2). */
const ENTRY_OVERHEAD = 32;

/**
 * RFC 7541 Appendix B as code lengths only, one base-32 digit per symbol (0–255, then EOS as 256): the code is
 * canonical (shorter codes first, then by symbol within a length), so the lengths determine every code.
 */
const HUFFMAN_LENGTHS =
  `dnsssssssoussussssssssusssssssss` + // 0–31
  `6aacd68baa8b8666555666666678f6ca` + // 32–63
  `d67777777777777777777777878djde6` + // 64–95
  `f56565666577666567655677777fbeds` + // 96–127
  `kmkkmmmnmnnnnnonoomnonnnnlmnmnno` + // 128–159
  `mlkmmnnlnmmolmnnllmlnmnnkmmmnmmn` + // 160–191
  `qqkjmnmpqqqrrqopjlqrrqrollqqsrrr` + // 192–223
  `koklmllnmmppooqnqrqqrrrrrsrrrrrq` + // 224–255
  `u`; // EOS

const EOS = 256;
const MAX_CODE_LENGTH = 30;

/** The canonical code derived from the lengths, built at first use. */
type HuffmanCode = {
  /** Per symbol: its code and length. */
  codes: Int32Array; lengths: Uint8Array;
  /** Per length: the first code of that length, one past the last (any prefix of that length below it is a symbol), and where its symbols start in `symbols`. */
  first: Int32Array; limit: Int32Array; start: Int32Array;
  /** The symbols sorted by (length, symbol). */
  symbols: Uint16Array;
};

let huffman: HuffmanCode | undefined;

function huffmanCode(): HuffmanCode {
  if (huffman)
    return huffman;
  const lengths = new Uint8Array(EOS + 1);
  const count = new Int32Array(MAX_CODE_LENGTH + 1);
  for (let symbol = 0; symbol <= EOS; symbol++) {
    lengths[symbol] = parseInt(HUFFMAN_LENGTHS[symbol]!, 32);
    count[lengths[symbol]!]!++;
  }
  const first = new Int32Array(MAX_CODE_LENGTH + 1);
  const limit = new Int32Array(MAX_CODE_LENGTH + 1);
  const start = new Int32Array(MAX_CODE_LENGTH + 1);
  for (let length = 1, code = 0, at = 0; length <= MAX_CODE_LENGTH; length++) {
    code = (code + count[length - 1]!) * 2;
    at += count[length - 1]!;
    first[length] = code;
    limit[length] = code + count[length]!;
    start[length] = at;
  }
  const symbols = new Uint16Array(EOS + 1);
  const codes = new Int32Array(EOS + 1);
  const next = start.slice();
  for (let symbol = 0; symbol <= EOS; symbol++) {
    const length = lengths[symbol]!;
    codes[symbol] = first[length]! + next[length]! - start[length]!;
    symbols[next[length]!++] = symbol;
  }
  return huffman = {codes, lengths, first, limit, start, symbols};
}

/**
 * Decodes a Huffman-coded string (RFC 7541 §5.2) into Latin-1 text of at most `room` characters (throws `tooLarge()`
 * beyond them).
 */
function huffmanDecode(bytes: Buffer, begin: number, end: number, room: number, tooLarge: () => HpackError): string {
  const {first, limit, start, symbols} = huffmanCode();
  // Every code is at least 5 bits long: the text is at most 8/5 of the coded bytes.
  const out = Buffer.allocUnsafe(Math.max(0, Math.min(Math.ceil((end - begin) * 8 / 5), room)));
  let written = 0;
  let code = 0;
  let length = 0;
  for (let at = begin; at < end; at++) {
    const byte = bytes[at]!;
    for (let bit = 7; bit >= 0; bit--) {
      code = code * 2 + ((byte >> bit) & 1);
      length++;
      if (code < limit[length]!) {
        const symbol = symbols[start[length]! + code - first[length]!]!;
        if (symbol === EOS)
          throw new HpackError(`HPACK: a Huffman-coded string holds the EOS symbol`);
        if (written === out.length)
          throw tooLarge();
        out[written++] = symbol;
        code = 0;
        length = 0;
      }
    }
  }
  // RFC 7541 §5.2: what is left is padding, at most 7 bits, and the first bits of EOS (all ones).
  if (length > 7)
    throw new HpackError(`HPACK: a Huffman-coded string ends with more than 7 bits of padding`);
  if (code !== 2 ** length - 1)
    throw new HpackError(`HPACK: a Huffman-coded string is padded with something other than the start of EOS`);
  return out.toString(`latin1`, 0, written);
}

/** The dynamic table (RFC 7541 §2.3.2, §4): entries newest last, evicted from the oldest. */
class DynamicTable {
  readonly entries: Array<readonly [string, string]> = [];
  size = 0;
  maxSize: number;
  constructor(maxSize: number) {
    this.maxSize = maxSize;
  }

  add(name: string, value: string): void {
    const size = name.length + value.length + ENTRY_OVERHEAD;
    this.evictDownTo(this.maxSize - size);
    if (size <= this.maxSize) {
      this.entries.push([name, value]);
      this.size += size;
    }
  }

  resize(maxSize: number): void {
    this.maxSize = maxSize;
    this.evictDownTo(maxSize);
  }

  /** Index 1 is the newest entry. */
  get(index: number): readonly [string, string] | undefined {
    return this.entries[this.entries.length - index];
  }

  private evictDownTo(size: number): void {
    let drop = 0;
    while (this.size > size && drop < this.entries.length) {
      const [name, value] = this.entries[drop++]!;
      this.size -= name.length + value.length + ENTRY_OVERHEAD;
    }
    if (drop > 0)
      this.entries.splice(0, drop);
  }
}

/** The largest integer a decoder accepts (RFC 7541 §5.1 leaves the limit to the implementation). */
const MAX_INTEGER = 2 ** 31 - 1;
/** 5 × 7 bits after the prefix hold any integer up to MAX_INTEGER; more continuation bytes are padding or an attack. */
const MAX_CONTINUATION_BYTES = 5;

/** One decoder per connection: it holds the dynamic table the peer's encoder fills. */
export class HpackDecoder {
  private readonly table: DynamicTable;
  private readonly maxTableSize: number;
  private readonly maxHeaderListBytes: number;

  /**
   * `maxTableSize` is the SETTINGS_HEADER_TABLE_SIZE advertised to the peer, and the dynamic table's limit until a
   * size update lowers it; `maxHeaderListBytes` bounds a decoded header list as RFC 9113 §6.5.2 counts it.
   */
  constructor(options: {maxTableSize: number; maxHeaderListBytes: number}) {
    this.maxTableSize = options.maxTableSize;
    this.maxHeaderListBytes = options.maxHeaderListBytes;
    this.table = new DynamicTable(options.maxTableSize);
  }

  /**
   * Decodes one complete header block (HEADERS + CONTINUATION payloads joined) into [name, value] pairs, in order.
   * Throws HpackError on malformed input, and when the list (names + values + 32 per field) passes
   * maxHeaderListBytes, checked before each string is built. After an error the decoder is out of step with the
   * peer's encoder: the connection must end.
   */
  decode(block: Uint8Array): Array<[string, string]> {
    const bytes = Buffer.isBuffer(block) ? block : Buffer.from(block.buffer, block.byteOffset, block.byteLength);
    const end = bytes.length;
    const fields: Array<[string, string]> = [];
    let listBytes = 0;
    let at = 0;

    const integer = (prefixBits: number): number => {
      const mask = (1 << prefixBits) - 1;
      let value = bytes[at++]! & mask;
      if (value < mask)
        return value;
      for (let shift = 0, continuation = 0; ; shift += 7) {
        if (at >= end)
          throw new HpackError(`HPACK: an integer is cut short`);
        if (++continuation > MAX_CONTINUATION_BYTES)
          throw new HpackError(`HPACK: an integer has too many continuation bytes`);
        const byte = bytes[at++]!;
        value += (byte & 0x7f) * 2 ** shift;
        if (value > MAX_INTEGER)
          throw new HpackError(`HPACK: an integer is larger than ${MAX_INTEGER}`);
        if ((byte & 0x80) === 0)
          return value;
      }
    };

    const tooLarge = () => new HpackError(`HPACK: the header list is larger than ${this.maxHeaderListBytes} bytes`);
    /** Counts `bytes` more of the header list, before they are built. */
    const count = (more: number): void => {
      listBytes += more;
      if (listBytes > this.maxHeaderListBytes)
        throw tooLarge();
    };

    const string = (): string => {
      if (at >= end)
        throw new HpackError(`HPACK: a string is missing`);
      const huffmanCoded = (bytes[at]! & 0x80) !== 0;
      const length = integer(7);
      if (length > end - at)
        throw new HpackError(`HPACK: a string is cut short`);
      const begin = at;
      at += length;
      if (!huffmanCoded) {
        count(length);
        return bytes.toString(`latin1`, begin, at);
      }
      const text = huffmanDecode(bytes, begin, at, this.maxHeaderListBytes - listBytes, tooLarge);
      count(text.length);
      return text;
    };

    const entry = (index: number): readonly [string, string] => {
      if (index === 0)
        throw new HpackError(`HPACK: index 0 is not a table entry`);
      const found = index <= STATIC_TABLE.length ? STATIC_TABLE[index - 1] : this.table.get(index - STATIC_TABLE.length);
      if (!found)
        throw new HpackError(`HPACK: index ${index} is beyond the static and dynamic tables`);
      return found;
    };

    while (at < end) {
      const byte = bytes[at]!;
      if (byte & 0x80) { // §6.1 indexed field
        const [name, value] = entry(integer(7));
        count(name.length + value.length + ENTRY_OVERHEAD);
        fields.push([name, value]);
      } else if ((byte & 0xe0) === 0x20) { // §6.3 dynamic table size update
        if (fields.length > 0)
          throw new HpackError(`HPACK: a dynamic table size update comes after a field`);
        const size = integer(5);
        if (size > this.maxTableSize)
          throw new HpackError(`HPACK: a dynamic table size update to ${size} passes the ${this.maxTableSize} advertised`);
        this.table.resize(size);
      } else { // §6.2 literal: with incremental indexing (01), never indexed (0001) or without indexing (0000)
        const indexing = (byte & 0xc0) === 0x40;
        const nameIndex = integer(indexing ? 6 : 4);
        count(ENTRY_OVERHEAD);
        let name: string;
        if (nameIndex === 0) {
          name = string();
        } else {
          name = entry(nameIndex)[0];
          count(name.length);
        }
        const value = string();
        if (indexing)
          this.table.add(name, value);
        fields.push([name, value]);
      }
    }
    return fields;
  }
}

/** The static table's lookups for the encoder, built at first use. */
let staticIndex: {field: Map<string, number>; name: Map<string, number>} | undefined;

function staticIndexes(): {field: Map<string, number>; name: Map<string, number>} {
  if (staticIndex)
    return staticIndex;
  const field = new Map<string, number>();
  const name = new Map<string, number>();
  STATIC_TABLE.forEach(([entryName, entryValue], at) => {
    field.set(`${entryName}\0${entryValue}`, at + 1);
    if (!name.has(entryName))
      name.set(entryName, at + 1);
  });
  return staticIndex = {field, name};
}

/** Writes a prefixed integer (RFC 7541 §5.1) whose first byte carries `flags` above the prefix. */
function writeInteger(out: Buffer, at: number, flags: number, prefixBits: number, value: number): number {
  const mask = (1 << prefixBits) - 1;
  if (value < mask) {
    out[at++] = flags | value;
    return at;
  }
  out[at++] = flags | mask;
  value -= mask;
  while (value >= 0x80) {
    out[at++] = (value % 0x80) | 0x80;
    value = Math.floor(value / 0x80);
  }
  out[at++] = value;
  return at;
}

/** Writes a string literal (RFC 7541 §5.2), Huffman-coded when that is shorter. */
function writeString(out: Buffer, at: number, text: string): number {
  const {codes, lengths} = huffmanCode();
  let bits = 0;
  for (let i = 0; i < text.length; i++)
    bits += lengths[text.charCodeAt(i)]!;
  const coded = Math.ceil(bits / 8);
  if (coded >= text.length) {
    at = writeInteger(out, at, 0, 7, text.length);
    return at + out.write(text, at, `latin1`);
  }
  at = writeInteger(out, at, 0x80, 7, coded);
  let pending = 0; // bits waiting in `held`, fewer than 8 between symbols
  let held = 0;
  for (let i = 0; i < text.length; i++) {
    const symbol = text.charCodeAt(i);
    held = held * 2 ** lengths[symbol]! + codes[symbol]!;
    pending += lengths[symbol]!;
    while (pending >= 8) {
      pending -= 8;
      const byte = Math.floor(held / 2 ** pending);
      out[at++] = byte;
      held -= byte * 2 ** pending;
    }
  }
  if (pending > 0) // padded with the first bits of EOS (ones)
    out[at++] = (held << (8 - pending)) | ((1 << (8 - pending)) - 1);
  return at;
}

/**
 * Encodes a request's header list statelessly (never adds to the peer's dynamic table, so no encoder state): an
 * indexed field when name and value match a static-table entry, else a literal without indexing (the static table's
 * name index when the name is in it), and `sensitive` fields as literals never indexed. Strings are Huffman-coded
 * when that is shorter. Names must be lowercase, and names and values Latin-1 (throws a plain Error otherwise).
 */
export function encodeHeaderBlock(fields: ReadonlyArray<readonly [name: string, value: string, sensitive?: boolean]>): Buffer {
  const indexes = staticIndexes();
  let bound = 0;
  for (const [name, value] of fields) {
    if (/[A-Z]/.test(name))
      throw new Error(`HPACK: the header name ${JSON.stringify(name)} is not lowercase`);
    if (/[^\x00-\xff]/.test(name) || /[^\x00-\xff]/.test(value))
      throw new Error(`HPACK: the header ${JSON.stringify(name)} holds a character that is not Latin-1`);
    bound += 1 + 2 * 6 + name.length + value.length; // a representation byte, two length integers, the raw strings
  }
  const out = Buffer.allocUnsafe(bound);
  let at = 0;
  for (const [name, value, sensitive] of fields) {
    const fullIndex = sensitive ? undefined : indexes.field.get(`${name}\0${value}`);
    if (fullIndex !== undefined) {
      at = writeInteger(out, at, 0x80, 7, fullIndex);
      continue;
    }
    const nameIndex = indexes.name.get(name);
    at = writeInteger(out, at, sensitive ? 0x10 : 0x00, 4, nameIndex ?? 0);
    if (nameIndex === undefined)
      at = writeString(out, at, name);
    at = writeString(out, at, value);
  }
  return out.subarray(0, at);
}
