// The HPACK codec of the kube transport's own HTTP/2 client (sources/adapters/kube/hpack.ts): RFC 7541's Appendix B
// code and Appendix C examples, every compression error, and Node's own HTTP/2 (nghttp2) as an independent oracle:
// it decodes what our encoder writes, and encodes, with its dynamic table and Huffman code, what our decoder reads.
import {after, before, test} from 'node:test';
import assert from 'node:assert/strict';
import http2 from 'node:http2';
import net from 'node:net';
import type {AddressInfo} from 'node:net';
import {HpackDecoder, HpackError, encodeHeaderBlock} from '../../sources/adapters/kube/hpack.ts';
import {frame} from '../helpers/http2Frames.ts';

const hex = (text: string) => Buffer.from(text.replace(/\s+/g, ``), `hex`);
const decoder = (maxTableSize = 4096, maxHeaderListBytes = 64 * 1024) => new HpackDecoder({maxTableSize, maxHeaderListBytes});

/** A prefixed integer as RFC 7541 §5.1 writes it, written here independently of the module under test. */
function integer(flags: number, prefixBits: number, value: number): number[] {
  const mask = 2 ** prefixBits - 1;
  if (value < mask)
    return [flags | value];
  const bytes = [flags | mask];
  for (value -= mask; value >= 128; value = Math.floor(value / 128))
    bytes.push(value % 128 + 128);
  return [...bytes, value];
}

/** A raw string literal (no Huffman). */
const raw = (text: string) => [...integer(0, 7, text.length), ...Buffer.from(text, `latin1`)];

/**
 * The dynamic table as the decoder holds it, newest first, read through the decoder itself: index 62, 63, … until
 * one is beyond the table (an indexed field does not change the table).
 */
function tableOf(hpack: HpackDecoder): string[] {
  const entries: string[] = [];
  for (let index = 62; ; index++) {
    try {
      const [[name, value]] = hpack.decode(Buffer.from(integer(0x80, 7, index))) as [[string, string]];
      entries.push(`${name}: ${value}`);
    } catch (error) {
      assert.ok(error instanceof HpackError && /beyond/.test(error.message), String(error));
      return entries;
    }
  }
}

const size = (entries: string[]) => entries.reduce((sum, entry) => sum + entry.length - 2 + 32, 0);

/** RFC 7541 Appendix B, symbol by symbol (0–255, then EOS): the code in hex and its length in bits. */
const APPENDIX_B = [
  `1ff8:13 7fffd8:23 fffffe2:28 fffffe3:28 fffffe4:28 fffffe5:28 fffffe6:28 fffffe7:28 fffffe8:28 ffffea:24 3ffffffc:30 fffffe9:28 fffffea:28 3ffffffd:30 fffffeb:28 fffffec:28`,
  `fffffed:28 fffffee:28 fffffef:28 ffffff0:28 ffffff1:28 ffffff2:28 3ffffffe:30 ffffff3:28 ffffff4:28 ffffff5:28 ffffff6:28 ffffff7:28 ffffff8:28 ffffff9:28 ffffffa:28 ffffffb:28`,
  `14:6 3f8:10 3f9:10 ffa:12 1ff9:13 15:6 f8:8 7fa:11 3fa:10 3fb:10 f9:8 7fb:11 fa:8 16:6 17:6 18:6`,
  `0:5 1:5 2:5 19:6 1a:6 1b:6 1c:6 1d:6 1e:6 1f:6 5c:7 fb:8 7ffc:15 20:6 ffb:12 3fc:10`,
  `1ffa:13 21:6 5d:7 5e:7 5f:7 60:7 61:7 62:7 63:7 64:7 65:7 66:7 67:7 68:7 69:7 6a:7`,
  `6b:7 6c:7 6d:7 6e:7 6f:7 70:7 71:7 72:7 fc:8 73:7 fd:8 1ffb:13 7fff0:19 1ffc:13 3ffc:14 22:6`,
  `7ffd:15 3:5 23:6 4:5 24:6 5:5 25:6 26:6 27:6 6:5 74:7 75:7 28:6 29:6 2a:6 7:5`,
  `2b:6 76:7 2c:6 8:5 9:5 2d:6 77:7 78:7 79:7 7a:7 7b:7 7ffe:15 7fc:11 3ffd:14 1ffd:13 ffffffc:28`,
  `fffe6:20 3fffd2:22 fffe7:20 fffe8:20 3fffd3:22 3fffd4:22 3fffd5:22 7fffd9:23 3fffd6:22 7fffda:23 7fffdb:23 7fffdc:23 7fffdd:23 7fffde:23 ffffeb:24 7fffdf:23`,
  `ffffec:24 ffffed:24 3fffd7:22 7fffe0:23 ffffee:24 7fffe1:23 7fffe2:23 7fffe3:23 7fffe4:23 1fffdc:21 3fffd8:22 7fffe5:23 3fffd9:22 7fffe6:23 7fffe7:23 ffffef:24`,
  `3fffda:22 1fffdd:21 fffe9:20 3fffdb:22 3fffdc:22 7fffe8:23 7fffe9:23 1fffde:21 7fffea:23 3fffdd:22 3fffde:22 fffff0:24 1fffdf:21 3fffdf:22 7fffeb:23 7fffec:23`,
  `1fffe0:21 1fffe1:21 3fffe0:22 1fffe2:21 7fffed:23 3fffe1:22 7fffee:23 7fffef:23 fffea:20 3fffe2:22 3fffe3:22 3fffe4:22 7ffff0:23 3fffe5:22 3fffe6:22 7ffff1:23`,
  `3ffffe0:26 3ffffe1:26 fffeb:20 7fff1:19 3fffe7:22 7ffff2:23 3fffe8:22 1ffffec:25 3ffffe2:26 3ffffe3:26 3ffffe4:26 7ffffde:27 7ffffdf:27 3ffffe5:26 fffff1:24 1ffffed:25`,
  `7fff2:19 1fffe3:21 3ffffe6:26 7ffffe0:27 7ffffe1:27 3ffffe7:26 7ffffe2:27 fffff2:24 1fffe4:21 1fffe5:21 3ffffe8:26 3ffffe9:26 ffffffd:28 7ffffe3:27 7ffffe4:27 7ffffe5:27`,
  `fffec:20 fffff3:24 fffed:20 1fffe6:21 3fffe9:22 1fffe7:21 1fffe8:21 7ffff3:23 3fffea:22 3fffeb:22 1ffffee:25 1ffffef:25 fffff4:24 fffff5:24 3ffffea:26 7ffff4:23`,
  `3ffffeb:26 7ffffe6:27 3ffffec:26 3ffffed:26 7ffffe7:27 7ffffe8:27 7ffffe9:27 7ffffea:27 7ffffeb:27 ffffffe:28 7ffffec:27 7ffffed:27 7ffffee:27 7ffffef:27 7fffff0:27 3ffffee:26`,
  `3fffffff:30`,
].join(` `).split(` `).map(pair => pair.split(`:`).map((part, at) => at === 0 ? parseInt(part, 16) : Number(part)) as [number, number]);

/** A Huffman-coded string literal of the given codes, padded with ones as RFC 7541 §5.2 says. */
function huffmanLiteral(codes: Array<[code: number, bits: number]>, padding?: string): number[] {
  let bits = codes.map(([code, length]) => code.toString(2).padStart(length, `0`)).join(``);
  bits += padding ?? `1`.repeat((8 - bits.length % 8) % 8);
  const bytes = [];
  for (let at = 0; at < bits.length; at += 8)
    bytes.push(parseInt(bits.slice(at, at + 8), 2));
  return [...integer(0x80, 7, bytes.length), ...bytes];
}

/** A literal field without indexing, name `x`, whose value is the given string literal. */
const withValue = (literal: number[]) => Buffer.from([0x00, ...raw(`x`), ...literal]);

test(`every code of RFC 7541 Appendix B decodes to its symbol, and the 30 ones of EOS are refused as a symbol`, () => {
  assert.equal(APPENDIX_B.length, 257);
  assert.deepEqual(APPENDIX_B[256], [0x3fffffff, 30]);
  for (let symbol = 0; symbol < 256; symbol++)
    assert.deepEqual(decoder().decode(withValue(huffmanLiteral([APPENDIX_B[symbol]!]))), [[`x`, String.fromCharCode(symbol)]], `symbol ${symbol}`);
  assert.deepEqual(decoder().decode(withValue(huffmanLiteral(APPENDIX_B.slice(0, 256)))), [[`x`, Buffer.from(Array.from({length: 256}, (_, at) => at)).toString(`latin1`)]]);
  assert.throws(() => decoder().decode(withValue(huffmanLiteral([APPENDIX_B[256]!]))), {code: `ERR_PULLSECRET_HPACK`, message: /EOS/});
});

test(`Appendix C's Huffman-coded strings decode, and the encoder writes them the same way`, () => {
  for (const [text, coded] of [[`www.example.com`, `f1e3c2e5f23a6ba0ab90f4ff`], [`no-cache`, `a8eb10649cbf`], [`custom-key`, `25a849e95ba97d7f`], [`custom-value`, `25a849e95bb8e8b4bf`], [`302`, `6402`], [`private`, `aec3771a4b`], [`Mon, 21 Oct 2013 20:13:21 GMT`, `d07abe941054d444a8200595040b8166e082a62d1bff`], [`https://www.example.com`, `9d29ad171863c78f0b97c8e9ae82ae43d3`]] as const) {
    const literal = [...integer(0x80, 7, coded.length / 2), ...hex(coded)];
    assert.deepEqual(decoder().decode(withValue(literal)), [[`x`, text]]);
    assert.deepEqual(encodeHeaderBlock([[`x`, text]]), withValue(literal));
  }
});

test(`C.1: integers are read on their prefix, 10 and 1337 on 5 bits (a table size update), and written as the RFC writes them`, () => {
  // 10 fits in the 5-bit prefix; 1337 is 31 then 154 (26 with the continuation bit), 10.
  decoder(10).decode(hex(`2a`));
  assert.throws(() => decoder(9).decode(hex(`2a`)), {code: `ERR_PULLSECRET_HPACK`, message: /size update to 10 /});
  decoder(1337).decode(hex(`3f9a0a`));
  assert.throws(() => decoder(1336).decode(hex(`3f9a0a`)), {code: `ERR_PULLSECRET_HPACK`, message: /size update to 1337 /});
  // A string's length on the 7-bit prefix: 42 in one byte, 1337 as 127 + 1210 (0xba 0x09).
  const lengthOf = (block: Buffer) => block.subarray(3, 6).toString(`hex`);
  assert.equal(encodeHeaderBlock([[`x`, `{`.repeat(42)]])[3], 42);
  assert.equal(lengthOf(encodeHeaderBlock([[`x`, `{`.repeat(1337)]])), `7fba09`);
  assert.deepEqual(decoder().decode(encodeHeaderBlock([[`x`, `{`.repeat(1337)]])), [[`x`, `{`.repeat(1337)]]);
});

test(`C.2: a literal with indexing enters the dynamic table; without indexing and never indexed do not; an indexed field reads the static table`, () => {
  const hpack = decoder();
  assert.deepEqual(hpack.decode(hex(`400a 6375 7374 6f6d 2d6b 6579 0d63 7573 746f 6d2d 6865 6164 6572`)), [[`custom-key`, `custom-header`]]);
  assert.deepEqual(tableOf(hpack), [`custom-key: custom-header`]);
  assert.equal(size(tableOf(hpack)), 55);
  for (const [block, field] of [[`040c 2f73 616d 706c 652f 7061 7468`, [`:path`, `/sample/path`]], [`1008 7061 7373 776f 7264 0673 6563 7265 74`, [`password`, `secret`]], [`82`, [`:method`, `GET`]]] as const) {
    const fresh = decoder();
    assert.deepEqual(fresh.decode(hex(block)), [field]);
    assert.deepEqual(tableOf(fresh), []);
  }
});

const REQUESTS = [
  [[`:method`, `GET`], [`:scheme`, `http`], [`:path`, `/`], [`:authority`, `www.example.com`]],
  [[`:method`, `GET`], [`:scheme`, `http`], [`:path`, `/`], [`:authority`, `www.example.com`], [`cache-control`, `no-cache`]],
  [[`:method`, `GET`], [`:scheme`, `https`], [`:path`, `/index.html`], [`:authority`, `www.example.com`], [`custom-key`, `custom-value`]],
];
const REQUEST_TABLES = [
  [`:authority: www.example.com`],
  [`cache-control: no-cache`, `:authority: www.example.com`],
  [`custom-key: custom-value`, `cache-control: no-cache`, `:authority: www.example.com`],
];
const REQUEST_TABLE_SIZES = [57, 110, 164];

for (const [section, blocks] of [
  [`C.3 (requests without Huffman)`, [`8286 8441 0f77 7777 2e65 7861 6d70 6c65 2e63 6f6d`, `8286 84be 5808 6e6f 2d63 6163 6865`, `8287 85bf 400a 6375 7374 6f6d 2d6b 6579 0c63 7573 746f 6d2d 7661 6c75 65`]],
  [`C.4 (requests with Huffman)`, [`8286 8441 8cf1 e3c2 e5f2 3a6b a0ab 90f4 ff`, `8286 84be 5886 a8eb 1064 9cbf`, `8287 85bf 4088 25a8 49e9 5ba9 7d7f 8925 a849 e95b b8e8 b4bf`]],
] as const) {
  test(`${section}: three requests on one connection decode, and the dynamic table holds what the RFC shows after each`, () => {
    const hpack = decoder();
    blocks.forEach((block, at) => {
      assert.deepEqual(hpack.decode(hex(block)), REQUESTS[at]);
      assert.deepEqual(tableOf(hpack), REQUEST_TABLES[at]);
      assert.equal(size(tableOf(hpack)), REQUEST_TABLE_SIZES[at]);
    });
  });
}

const DATE_1 = `Mon, 21 Oct 2013 20:13:21 GMT`;
const DATE_2 = `Mon, 21 Oct 2013 20:13:22 GMT`;
const COOKIE = `foo=ASDJKHQKBZXOQWEOPIUAXQWEOIU; max-age=3600; version=1`;
const RESPONSES = [
  [[`:status`, `302`], [`cache-control`, `private`], [`date`, DATE_1], [`location`, `https://www.example.com`]],
  [[`:status`, `307`], [`cache-control`, `private`], [`date`, DATE_1], [`location`, `https://www.example.com`]],
  [[`:status`, `200`], [`cache-control`, `private`], [`date`, DATE_2], [`location`, `https://www.example.com`], [`content-encoding`, `gzip`], [`set-cookie`, COOKIE]],
];
const RESPONSE_TABLES = [
  [`location: https://www.example.com`, `date: ${DATE_1}`, `cache-control: private`, `:status: 302`],
  [`:status: 307`, `location: https://www.example.com`, `date: ${DATE_1}`, `cache-control: private`],
  [`set-cookie: ${COOKIE}`, `content-encoding: gzip`, `date: ${DATE_2}`],
];
const RESPONSE_TABLE_SIZES = [222, 222, 215];

for (const [section, blocks] of [
  [`C.5 (responses without Huffman)`, [
    `4803 3330 3258 0770 7269 7661 7465 611d 4d6f 6e2c 2032 3120 4f63 7420 3230 3133 2032 303a 3133 3a32 3120 474d 546e 1768 7474 7073 3a2f 2f77 7777 2e65 7861 6d70 6c65 2e63 6f6d`,
    `4803 3330 37c1 c0bf`,
    `88c1 611d 4d6f 6e2c 2032 3120 4f63 7420 3230 3133 2032 303a 3133 3a32 3220 474d 54c0 5a04 677a 6970 7738 666f 6f3d 4153 444a 4b48 514b 425a 584f 5157 454f 5049 5541 5851 5745 4f49 553b 206d 6178 2d61 6765 3d33 3630 303b 2076 6572 7369 6f6e 3d31`,
  ]],
  [`C.6 (responses with Huffman)`, [
    `4882 6402 5885 aec3 771a 4b61 96d0 7abe 9410 54d4 44a8 2005 9504 0b81 66e0 82a6 2d1b ff6e 919d 29ad 1718 63c7 8f0b 97c8 e9ae 82ae 43d3`,
    `4883 640e ffc1 c0bf`,
    `88c1 6196 d07a be94 1054 d444 a820 0595 040b 8166 e084 a62d 1bff c05a 839b d9ab 77ad 94e7 821d d7f2 e6c7 b335 dfdf cd5b 3960 d5af 2708 7f36 72c1 ab27 0fb5 291f 9587 3160 65c0 03ed 4ee5 b106 3d50 07`,
  ]],
] as const) {
  test(`${section}: three responses with a 256-byte table decode, the oldest entries evicted as the RFC shows`, () => {
    const hpack = decoder(256);
    blocks.forEach((block, at) => {
      assert.deepEqual(hpack.decode(hex(block)), RESPONSES[at]);
      assert.deepEqual(tableOf(hpack), RESPONSE_TABLES[at]);
      assert.equal(size(tableOf(hpack)), RESPONSE_TABLE_SIZES[at]);
    });
  });
}

test(`an entry larger than the whole table empties it and is not added, though the field is decoded`, () => {
  const hpack = decoder(100);
  hpack.decode(Buffer.from([0x40, ...raw(`a`), ...raw(`1`), 0x40, ...raw(`b`), ...raw(`2`)]));
  assert.deepEqual(tableOf(hpack), [`b: 2`, `a: 1`]);
  assert.deepEqual(hpack.decode(Buffer.from([0x40, ...raw(`c`), ...raw(`x`.repeat(68))])), [[`c`, `x`.repeat(68)]]);
  assert.deepEqual(tableOf(hpack), []);
  // 67 bytes of value make an entry of exactly 100: it fits, alone.
  hpack.decode(Buffer.from([0x40, ...raw(`a`), ...raw(`1`), 0x40, ...raw(`c`), ...raw(`x`.repeat(67))]));
  assert.deepEqual(tableOf(hpack), [`c: ${`x`.repeat(67)}`]);
});

test(`dynamic table size updates at the start of a block shrink the table (evicting the oldest) and let it grow back up to the size advertised`, () => {
  const hpack = decoder(256);
  hpack.decode(Buffer.from([0x40, ...raw(`a`), ...raw(`1`), 0x40, ...raw(`b`), ...raw(`2`)]));
  // Two updates in one block: down to 40 (only the newest 34-byte entry stays), then up to 256.
  assert.deepEqual(hpack.decode(Buffer.from([...integer(0x20, 5, 40), ...integer(0x20, 5, 256), 0x82])), [[`:method`, `GET`]]);
  assert.deepEqual(tableOf(hpack), [`b: 2`]);
  hpack.decode(Buffer.from([0x20]));
  assert.deepEqual(tableOf(hpack), []);
  // At size 0 nothing enters the table.
  hpack.decode(Buffer.from([0x40, ...raw(`a`), ...raw(`1`)]));
  assert.deepEqual(tableOf(hpack), []);
  hpack.decode(Buffer.from([...integer(0x20, 5, 256), 0x40, ...raw(`a`), ...raw(`1`)]));
  assert.deepEqual(tableOf(hpack), [`a: 1`]);
});

test(`literal names can come from the static table or the dynamic table, under each of the three literal kinds`, () => {
  const hpack = decoder();
  hpack.decode(Buffer.from([0x40, ...raw(`x-custom`), ...raw(`one`)]));
  assert.deepEqual(hpack.decode(Buffer.from([0x7e, ...raw(`two`), 0x0f, 0x2f, ...raw(`three`), 0x1f, 0x30, ...raw(`four`), 0x1f, 0x08, ...raw(`Bearer t`), 0x5f, ...raw(`text/plain`)])),
    [[`x-custom`, `two`], [`x-custom`, `three`], [`x-custom`, `four`], [`authorization`, `Bearer t`], [`content-type`, `text/plain`]]);
  // Index 62 is now content-type (newest), then x-custom: two, then x-custom: one.
  assert.deepEqual(tableOf(hpack), [`content-type: text/plain`, `x-custom: two`, `x-custom: one`]);
});

test(`field bytes are read as Latin-1, one byte one character`, () => {
  assert.deepEqual(decoder().decode(Buffer.from([0x00, ...raw(`x`), 0x04, 0xc3, 0xa9, 0xff, 0x80])), [[`x`, `\u00c3\u00a9\u00ff\u0080`]]);
});

// Every compression error: each check has its own message, so a test fails if its check is gone (another error, or none).
const errors: Array<[string, number[], RegExp, {maxTableSize?: number; maxHeaderListBytes?: number}?]> = [
  [`an integer above 2^31-1 (a string length)`, [0x00, ...raw(`x`), 0x7f, 0xff, 0xff, 0xff, 0xff, 0x0f], /larger than 2147483647/],
  [`an integer above 2^31-1 (a table size update)`, [0x3f, 0xff, 0xff, 0xff, 0xff, 0x0f], /larger than 2147483647/, {maxTableSize: 2 ** 33}],
  [`an integer with more than five continuation bytes, even of zeros`, [0x3f, 0x80, 0x80, 0x80, 0x80, 0x80, 0x00], /too many continuation bytes/],
  [`an integer cut short (a table size update)`, [0x3f, 0x80], /integer is cut short/],
  [`an integer cut short (an index)`, [0xff], /integer is cut short/],
  [`an integer cut short (a string length)`, [0x00, ...raw(`x`), 0x7f, 0x81], /integer is cut short/],
  [`a string cut short`, [0x00, 0x03, 0x61, 0x62], /string is cut short/],
  [`a Huffman string cut short`, [0x00, ...raw(`x`), 0x85, 0xff], /string is cut short/],
  [`a value missing`, [0x00, ...raw(`x`)], /string is missing/],
  [`a name missing`, [0x10], /string is missing/],
  [`index 0 for a field`, [0x80], /index 0 is not a table entry/],
  [`an index beyond the static table when the dynamic one is empty`, [0xbe], /index 62 is beyond/],
  [`a literal's name index beyond the tables`, [0x0f, 0x2f, ...raw(`v`)], /index 62 is beyond/],
  [`a literal's name index beyond the tables, with indexing`, [0x7f, 0x00, ...raw(`v`)], /index 63 is beyond/],
  [`the EOS symbol inside a Huffman string`, [0x00, ...raw(`x`), ...huffmanLiteral([[0x3, 5], [0x3fffffff, 30], [0x3, 5]])], /EOS/],
  [`the EOS symbol as a whole Huffman string (with valid-looking padding after it)`, [0x00, ...raw(`x`), 0x84, 0xff, 0xff, 0xff, 0xff], /EOS/],
  [`Huffman padding longer than 7 bits, even of ones`, [0x00, ...raw(`x`), ...huffmanLiteral([[0x3, 5]], `1`.repeat(11))], /more than 7 bits of padding/],
  [`a whole byte of Huffman padding`, [0x00, ...raw(`x`), 0x81, 0xff], /more than 7 bits of padding/],
  [`Huffman padding that is not the start of EOS`, [0x00, ...raw(`x`), ...huffmanLiteral([[0x3, 5]], `011`)], /padded with something other/],
  [`Huffman padding of zeros`, [0x00, ...raw(`x`), ...huffmanLiteral([[0x3, 5]], `000`)], /padded with something other/],
  [`a table size update above the size advertised`, [...integer(0x20, 5, 4097)], /size update to 4097 passes the 4096/],
  [`a table size update after a field`, [0x82, 0x20], /size update comes after a field/],
  [`a table size update after a field, between two updates`, [0x20, 0x82, 0x20], /size update comes after a field/],
  [`a header list over the limit, by a raw value`, [0x00, ...raw(`a`.repeat(40)), ...raw(`b`.repeat(40))], /header list is larger than 100 bytes/, {maxHeaderListBytes: 100}],
  [`a header list over the limit, by a Huffman-coded value`, [0x00, ...raw(`a`), ...huffmanLiteral(Array(120).fill([0x3, 5]))], /header list is larger than 100 bytes/, {maxHeaderListBytes: 100}],
  [`a header list over the limit, found while a Huffman value is decoded (before its bad padding is reached)`, [0x00, ...raw(`a`), ...huffmanLiteral(Array(120).fill([0x3, 5]), `000`)], /header list is larger than 100 bytes/, {maxHeaderListBytes: 100}],
  [`a header list over the limit, by many small fields`, Array(4).fill(0x82), /header list is larger than 100 bytes/, {maxHeaderListBytes: 100}],
];

for (const [what, block, message, limits] of errors) {
  test(`a compression error: ${what}`, () => {
    const hpack = new HpackDecoder({maxTableSize: limits?.maxTableSize ?? 4096, maxHeaderListBytes: limits?.maxHeaderListBytes ?? 64 * 1024});
    assert.throws(() => hpack.decode(Buffer.from(block)), (error: unknown) => {
      assert.ok(error instanceof HpackError, String(error));
      assert.equal(error.code, `ERR_PULLSECRET_HPACK`);
      assert.match(error.message, message);
      return true;
    });
  });
}

test(`a small block cannot claim a huge header list: one indexed byte repeated over a 4 KB entry is refused at the limit`, () => {
  const hpack = decoder(4096, 64 * 1024);
  hpack.decode(Buffer.from([0x40, ...raw(`x`), ...integer(0, 7, 4000), ...Buffer.alloc(4000, `v`)]));
  // 64 KiB / 4033 bytes per field: the 17th is over the limit; the block claims a million of them (4 GB).
  const block = Buffer.alloc(1_000_000, 0xbe);
  assert.throws(() => hpack.decode(block), {code: `ERR_PULLSECRET_HPACK`, message: /header list is larger than 65536 bytes/});
  assert.equal(decoder(4096, 16 * 4033).decode(Buffer.from([0x40, ...raw(`x`), ...integer(0, 7, 4000), ...Buffer.alloc(4000, `v`), ...Array(15).fill(0xbe)])).length, 16);
  assert.throws(() => decoder(4096, 16 * 4033).decode(Buffer.from([0x40, ...raw(`x`), ...integer(0, 7, 4000), ...Buffer.alloc(4000, `v`), ...Array(16).fill(0xbe)])), {code: `ERR_PULLSECRET_HPACK`, message: /larger than 64528 bytes/});
});

test(`the decoder reads a Uint8Array that is a view into a larger buffer`, () => {
  const backing = new Uint8Array([0xff, 0xff, 0x82, 0x87, 0xff]);
  assert.deepEqual(decoder().decode(backing.subarray(2, 4)), [[`:method`, `GET`], [`:scheme`, `https`]]);
});

test(`the encoder writes a field matching a static entry exactly as one byte, and only an exact match`, () => {
  assert.deepEqual(encodeHeaderBlock([[`:method`, `GET`], [`:scheme`, `https`], [`:path`, `/`], [`accept-encoding`, `gzip, deflate`], [`:status`, `404`]]), Buffer.from([0x82, 0x87, 0x84, 0x90, 0x8d]));
  // Not exact: the static name index (16 = 15 + 1 on 4 bits), literal without indexing.
  assert.deepEqual(encodeHeaderBlock([[`accept-encoding`, `gzip`]]).subarray(0, 2), Buffer.from([0x0f, 0x01]));
  assert.deepEqual(encodeHeaderBlock([[`:method`, `PUT`]])[0], 0x02);
});

test(`the encoder never asks the peer to index: literals are without indexing, with the static name index when there is one`, () => {
  const block = encodeHeaderBlock([[`content-type`, `application/json`], [`x-custom`, `1`]]);
  assert.deepEqual(block.subarray(0, 2), Buffer.from([0x0f, 16])); // content-type is static entry 31: 15 + 16
  assert.equal(encodeHeaderBlock([[`x-custom`, `1`]])[0], 0x00); // a literal name
  const hpack = decoder();
  assert.deepEqual(hpack.decode(block), [[`content-type`, `application/json`], [`x-custom`, `1`]]);
  assert.deepEqual(tableOf(hpack), []);
});

test(`sensitive fields are literals never indexed (0001xxxx), even when a static entry matches them exactly`, () => {
  const block = encodeHeaderBlock([[`authorization`, `Bearer s3cret`, true]]);
  assert.deepEqual(block.subarray(0, 2), Buffer.from([0x1f, 0x08])); // authorization is static entry 23: 15 + 8
  assert.equal(encodeHeaderBlock([[`x-secret`, `v`, true]])[0], 0x10);
  assert.equal(encodeHeaderBlock([[`:method`, `GET`, true]])[0], 0x12);
  assert.equal(encodeHeaderBlock([[`cookie`, `a=b`, true], [`proxy-authorization`, `Basic x`, true]])[0], 0x1f);
  assert.deepEqual(decoder().decode(block), [[`authorization`, `Bearer s3cret`]]);
});

test(`the encoder's blocks decode back to the same list: Huffman where shorter, raw otherwise, long strings, empty ones, Latin-1 bytes`, () => {
  const fields: Array<[string, string, boolean?]> = [
    [`:method`, `POST`], [`:scheme`, `https`], [`:path`, `/api/v1/namespaces/ci/secrets?fieldManager=kubectl-pullsecret`],
    [`:authority`, `127.0.0.1:6443`], [`authorization`, `Bearer ${`t`.repeat(900)}`, true], [`accept`, `application/json, */*`],
    [`user-agent`, `kubectl-pullsecret/0.1.0 (linux/amd64)`], [`content-type`, `application/json`], [`x-empty`, ``], [``, ``],
    [`x-latin1`, `caf\u00e9 \u00ff\u0080`], [`x-symbols`, `<{[\\^|~]}>`], [`x-all`, Buffer.from(Array.from({length: 256}, (_, at) => at)).toString(`latin1`)],
  ];
  const block = encodeHeaderBlock(fields);
  assert.deepEqual(decoder().decode(block), fields.map(([name, value]) => [name, value]));
  // Huffman is chosen only when shorter: lowercase text shrinks, symbols do not.
  assert.ok(encodeHeaderBlock([[`x`, `abcdefghijklmnop`]]).length < 4 + 16);
  assert.equal(encodeHeaderBlock([[`x`, `<{[\\^|~]}>`]]).length, 4 + 10);
});

test(`the encoder refuses an uppercase name, or a character that is not Latin-1, with a plain Error`, () => {
  for (const fields of [[[`Authorization`, `x`]], [[`x`, `caf\u0113`]], [[`\u0113`, `x`]]] as Array<Array<[string, string]>>) {
    assert.throws(() => encodeHeaderBlock(fields), (error: unknown) => error instanceof Error && !(error instanceof HpackError));
  }
});

// The oracle: Node's HTTP/2 server (nghttp2) over plain TCP (h2c), and a raw socket speaking the frames.

/** A seeded random source, so that a failure can be replayed. */
function random(seed: number): () => number {
  return () => {
    seed = (seed + 0x6d2b79f5) | 0;
    let t = Math.imul(seed ^ (seed >>> 15), 1 | seed);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 2 ** 32;
  };
}

const FRAME = {DATA: 0, HEADERS: 1, RST_STREAM: 3, SETTINGS: 4, PING: 6, GOAWAY: 7, CONTINUATION: 9};
const FLAG = {END_STREAM: 0x1, ACK: 0x1, END_HEADERS: 0x4, PADDED: 0x8, PRIORITY: 0x20};

/** A client connection that writes our HEADERS and decodes, in arrival order, every header block the server sends. */
class RawClient {
  private buffer = Buffer.alloc(0);
  private block: {stream: number; endStream: boolean; pieces: Buffer[]} | undefined;
  private readonly waiting = new Map<number, {resolve: (fields: Array<[string, string]>) => void; reject: (error: Error) => void}>();
  private failure: Error | undefined;
  private readonly socket: net.Socket;
  private readonly hpack: HpackDecoder;

  constructor(socket: net.Socket, hpack: HpackDecoder) {
    this.socket = socket;
    this.hpack = hpack;
    socket.on(`data`, chunk => {
      this.buffer = Buffer.concat([this.buffer, chunk]);
      try {
        this.read();
      } catch (error) {
        this.fail(error as Error);
      }
    });
    socket.on(`close`, () => this.fail(new Error(`the server closed the connection`)));
    socket.on(`error`, error => this.fail(error));
  }

  static async open(port: number, settings: Array<[number, number]>, hpack: HpackDecoder): Promise<RawClient> {
    const socket = net.connect(port, `127.0.0.1`);
    await new Promise<void>((resolve, reject) => socket.once(`connect`, resolve).once(`error`, reject));
    const payload = Buffer.alloc(6 * settings.length);
    settings.forEach(([id, value], at) => {
      payload.writeUInt16BE(id, at * 6);
      payload.writeUInt32BE(value, at * 6 + 2);
    });
    socket.write(Buffer.concat([Buffer.from(`PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n`), frame(FRAME.SETTINGS, 0, 0, payload)]));
    return new RawClient(socket, hpack);
  }

  /** Sends one request whose header block is `block`, and resolves with the decoded header list of its answer. */
  request(stream: number, block: Buffer): Promise<Array<[string, string]>> {
    return new Promise((resolve, reject) => {
      if (this.failure)
        return reject(this.failure);
      this.waiting.set(stream, {resolve, reject});
      this.socket.write(frame(FRAME.HEADERS, FLAG.END_HEADERS | FLAG.END_STREAM, stream, block));
    });
  }

  close(): void {
    this.socket.destroy();
  }

  private fail(error: Error): void {
    this.failure ??= error;
    for (const {reject} of this.waiting.values())
      reject(this.failure);
    this.waiting.clear();
  }

  private read(): void {
    while (this.buffer.length >= 9) {
      const length = this.buffer.readUIntBE(0, 3);
      if (this.buffer.length < 9 + length)
        return;
      const [type, flags] = [this.buffer[3]!, this.buffer[4]!];
      const stream = this.buffer.readUInt32BE(5) & 0x7fffffff;
      let payload = this.buffer.subarray(9, 9 + length);
      this.buffer = this.buffer.subarray(9 + length);
      if (this.block && type !== FRAME.CONTINUATION)
        throw new Error(`a frame of type ${type} came in the middle of a header block`);
      if (type === FRAME.SETTINGS && !(flags & FLAG.ACK))
        this.socket.write(frame(FRAME.SETTINGS, FLAG.ACK, 0));
      else if (type === FRAME.PING && !(flags & FLAG.ACK))
        this.socket.write(frame(FRAME.PING, FLAG.ACK, 0, payload));
      else if (type === FRAME.GOAWAY)
        throw new Error(`the server sent GOAWAY with error code ${payload.readUInt32BE(4)}: ${payload.subarray(8).toString()}`);
      else if (type === FRAME.RST_STREAM)
        throw new Error(`the server reset stream ${stream} with error code ${payload.readUInt32BE(0)}`);
      else if (type === FRAME.HEADERS || type === FRAME.CONTINUATION) {
        if (type === FRAME.HEADERS) {
          if (flags & FLAG.PADDED)
            payload = payload.subarray(1, payload.length - payload[0]!);
          if (flags & FLAG.PRIORITY)
            payload = payload.subarray(5);
          this.block = {stream, endStream: (flags & FLAG.END_STREAM) !== 0, pieces: []};
        }
        this.block!.pieces.push(payload);
        if (flags & FLAG.END_HEADERS) {
          const {stream: done, pieces} = this.block!;
          this.block = undefined;
          const fields = this.hpack.decode(Buffer.concat(pieces));
          this.waiting.get(done)?.resolve(fields);
          this.waiting.delete(done);
        }
      }
    }
  }
}

let server: http2.Http2Server;
let port: number;
/** What the server saw of each request, and what it answered: pushed by the server's stream handler. */
const seen: Array<{rawHeaders: string[]; sensitive: string[]}> = [];
const answers = new Map<string, Array<[string, string]>>();
const answerSensitive = new Map<string, string[]>();

before(async () => {
  server = http2.createServer();
  server.on(`stream`, (stream, headers, _flags, rawHeaders) => {
    const sensitive = (headers as unknown as Record<symbol, string[] | undefined>)[http2.sensitiveHeaders] ?? [];
    seen.push({rawHeaders, sensitive: [...sensitive]});
    const answer = answers.get(headers[`:path`]!)!;
    const object: Record<string, string | string[]> = {};
    for (const [name, value] of answer) {
      const before = object[name];
      object[name] = before === undefined ? value : [...[before].flat(), value];
    }
    Object.assign(object, {[http2.sensitiveHeaders]: answerSensitive.get(headers[`:path`]!) ?? []});
    stream.respond(object, {endStream: true});
  });
  await new Promise<void>(resolve => server.listen(0, `127.0.0.1`, resolve));
  port = (server.address() as AddressInfo).port;
});

after(() => server.close());

/** A random string of `length` characters drawn from `alphabet`. */
const text = (next: () => number, alphabet: string, length: number) => Array.from({length}, () => alphabet[Math.floor(next() * alphabet.length)]).join(``);
const PRINTABLE = Array.from({length: 0x7f - 0x20}, (_, at) => String.fromCharCode(0x20 + at)).join(``);
const LOWER = `abcdefghijklmnopqrstuvwxyz0123456789-./=`;

for (const tableSize of [4096, 256]) {
  test(`Node's HTTP/2 server (nghttp2) reads our blocks exactly, sensitive fields never indexed, and we decode every answer it encodes (table ${tableSize} bytes)`, async () => {
    const next = random(tableSize);
    // A pool of fields answers draw from again and again, so that nghttp2 indexes them and later refers to its table,
    // evicting as answers pass the table's size; values of lowercase text (Huffman shorter) or any printable byte.
    const pool = Array.from({length: 40}, (_, at): [string, string] => {
      const long = next() < 0.4;
      const value = text(next, next() < 0.5 ? LOWER : PRINTABLE, long ? 40 + Math.floor(next() * 400) : Math.floor(next() * 20));
      return [`x-${text(next, `abcdefghijklmnopqrstuvwxyz`, 1 + Math.floor(next() * 12))}-${at}`, value];
    });
    const hpack = new HpackDecoder({maxTableSize: tableSize, maxHeaderListBytes: 256 * 1024});
    const client = await RawClient.open(port, [[0x1, tableSize]], hpack);
    try {
      for (let request = 0; request < 12; request++) {
        const path = `/${tableSize}/${request}`;
        const answer: Array<[string, string]> = [[`:status`, [`200`, `404`, `302`, `299`][request % 4]!]];
        for (let field = 0; field < 25; field++)
          answer.push(next() < 0.8 ? pool[Math.floor(next() * pool.length)]! : [`x-fresh-${field}`, text(next, PRINTABLE, Math.floor(next() * 60))]);
        answer.push([`content-type`, `application/json`], [`date`, `Tue, 08 Dec 2026 03:30:00 GMT`], [`x-secret`, `s3cret-${request}`]);
        if (request === 5) // one answer over the 16 KiB frame size: HEADERS then CONTINUATION
          answer.push([`x-big`, text(next, PRINTABLE, 40_000)]);
        answers.set(path, answer);
        answerSensitive.set(path, [`x-secret`]);

        const sent: Array<[string, string, boolean?]> = [
          [`:method`, `GET`], [`:scheme`, `http`], [`:path`, path], [`:authority`, `127.0.0.1:${port}`],
          [`authorization`, `Bearer ${text(next, LOWER, 40)}`, true], [`cookie`, `session=${request}`, true],
          [`accept`, `application/json`], [`accept-encoding`, `gzip, deflate`], [`x-request`, text(next, PRINTABLE.trim(), 1 + Math.floor(next() * 80))],
          [`x-token`, `${request}`, true],
        ];
        const decoded = await client.request(1 + 2 * request, encodeHeaderBlock(sent));

        // Node groups fields of one name where it first appeared, in the order given.
        const expected: Array<[string, string]> = [];
        for (const name of new Set(answer.map(([name]) => name)))
          expected.push(...answer.filter(([other]) => other === name));
        assert.deepEqual(decoded, expected, `answer ${request}`);
        const saw = seen.at(-1)!;
        assert.deepEqual(saw.rawHeaders, sent.flatMap(([name, value]) => [name, value]), `request ${request}`);
        assert.deepEqual(saw.sensitive.sort(), [`authorization`, `cookie`, `x-token`]);
      }
    } finally {
      client.close();
    }
  });
}
