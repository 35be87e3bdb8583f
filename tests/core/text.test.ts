import {test} from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import {compareText} from '../../sources/core/text.ts';

test(`compareText orders ASCII names by byte, as kubectl (Go) does: punctuation counts, upper case first`, () => {
  assert.deepEqual([`ab`, `a-c`, `a.b`, `a0`, `B`, `a`].sort(compareText), [`B`, `a`, `a-c`, `a.b`, `a0`, `ab`]);
});

test(`on any ASCII text compareText agrees with the byte order of the UTF-8 encoding`, () => {
  const ascii = fc.string({unit: fc.integer({min: 0x20, max: 0x7e}).map(code => String.fromCharCode(code)), maxLength: 8});
  fc.assert(fc.property(ascii, ascii, (a, b) => {
    assert.equal(Math.sign(compareText(a, b)), Math.sign(Buffer.compare(Buffer.from(a), Buffer.from(b))));
  }), {numRuns: 2000});
});
