import {test} from 'node:test';
import assert from 'node:assert/strict';
import {createHash} from 'node:crypto';
import fc from 'fast-check';
import {sha256Hex} from '../../sources/core/sha256.ts';

const reference = (text: string) => createHash(`sha256`).update(text, `utf8`).digest(`hex`);

test(`sha256Hex gives the FIPS 180-4 digests of the standard short messages`, () => {
  assert.equal(sha256Hex(``), `e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855`);
  assert.equal(sha256Hex(`abc`), `ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad`);
  assert.equal(sha256Hex(`abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq`), `248d6a61d20638b8e5c026930c3e6039a33ce45964ff2167f6ecedd419db06c1`);
});

test(`sha256Hex agrees with node:crypto at every padding boundary (55, 56, 63, 64, 65 bytes and more)`, () => {
  for (const length of [1, 55, 56, 57, 63, 64, 65, 119, 120, 127, 128, 129, 1000])
    assert.equal(sha256Hex(`x`.repeat(length)), reference(`x`.repeat(length)), `length ${length}`);
});

test(`sha256Hex agrees with node:crypto on arbitrary unicode text`, () => {
  fc.assert(fc.property(fc.string({unit: `grapheme`, maxLength: 300}), text => sha256Hex(text) === reference(text)), {numRuns: 300});
});
