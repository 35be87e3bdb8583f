import {test} from 'node:test';
import assert from 'node:assert/strict';
import {goFilepathMatch} from '../../sources/core/keyring/goMatch.ts';

// Go's path/filepath match_test.go vectors (Unix): pattern, name, matched, bad pattern.
const rows: Array<[pattern: string, name: string, matched: boolean, bad?: true]> = [
  [`abc`, `abc`, true],
  [`*`, `abc`, true],
  [`*c`, `abc`, true],
  [`a*`, `a`, true],
  [`a*`, `abc`, true],
  [`a*`, `ab/c`, false],
  [`a*/b`, `abc/b`, true],
  [`a*/b`, `a/c/b`, false],
  [`a*b*c*d*e*/f`, `axbxcxdxe/f`, true],
  [`a*b*c*d*e*/f`, `axbxcxdxexxx/f`, true],
  [`a*b*c*d*e*/f`, `axbxcxdxe/xxx/f`, false],
  [`a*b*c*d*e*/f`, `axbxcxdxexxx/fff`, false],
  [`a*b?c*x`, `abxbbxdbxebxczzx`, true],
  [`a*b?c*x`, `abxbbxdbxebxczzy`, false],
  [`ab[c]`, `abc`, true],
  [`ab[b-d]`, `abc`, true],
  [`ab[e-g]`, `abc`, false],
  [`ab[^c]`, `abc`, false],
  [`ab[^b-d]`, `abc`, false],
  [`ab[^e-g]`, `abc`, true],
  [`a\\*b`, `a*b`, true],
  [`a\\*b`, `ab`, false],
  [`a?b`, `a☺b`, true],
  [`a[^a]b`, `a☺b`, true],
  [`a???b`, `a☺b`, false],
  [`a[^a][^a][^a]b`, `a☺b`, false],
  [`[a-ζ]*`, `α`, true],
  [`*[a-ζ]`, `A`, false],
  [`a?b`, `a/b`, false],
  [`a*b`, `a/b`, false],
  [`[\\]a]`, `]`, true],
  [`[\\-]`, `-`, true],
  [`[x\\-]`, `x`, true],
  [`[x\\-]`, `-`, true],
  [`[x\\-]`, `z`, false],
  [`[\\-x]`, `x`, true],
  [`[\\-x]`, `-`, true],
  [`[\\-x]`, `a`, false],
  [`[]a]`, `]`, false, true],
  [`[-]`, `-`, false, true],
  [`[x-]`, `x`, false, true],
  [`[x-]`, `-`, false, true],
  [`[x-]`, `z`, false, true],
  [`[-x]`, `x`, false, true],
  [`[-x]`, `-`, false, true],
  [`[-x]`, `a`, false, true],
  [`\\`, `a`, false, true],
  [`[a-b-c]`, `a`, false, true],
  [`[`, `a`, false, true],
  [`[^`, `a`, false, true],
  [`[^bc`, `a`, false, true],
  [`a[`, `a`, false, true],
  [`a[`, `ab`, false, true],
  [`a[`, `x`, false, true],
  [`a/b[`, `x`, false, true],
  [`*x`, `xxx`, true],
];

for (const [pattern, name, matched, bad] of rows) {
  test(`filepath.Match(${JSON.stringify(pattern)}, ${JSON.stringify(name)}) is ${bad ? `ErrBadPattern` : matched}`, () => {
    assert.deepEqual(goFilepathMatch(pattern, name), bad ? {badPattern: true} : {matched});
  });
}
