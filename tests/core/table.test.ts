import {test} from 'node:test';
import assert from 'node:assert/strict';
import {formatTable, tableLines} from '../../sources/core/table.ts';

test(`a table pads as kubectl's tabwriter: 3 spaces after the widest cell, at least 6 wide, the last column unpadded`, () => {
  assert.equal(formatTable([`name`, `x`, `detail`], [[`regcred`, `a`, `long text`], [`b`, `bb`, ``]]),
    `NAME      X     DETAIL\nregcred   a     long text\nb         bb\n`);
});

test(`a decorated (coloured) cell is padded by its visible width, so colour never shifts the columns`, () => {
  const plain = tableLines([`status`, `detail`], [[`ok`, `fine`], [`failed`, `no`]]);
  const coloured = tableLines([`status`, `detail`], [[`ok`, `fine`], [`failed`, `no`]], (cell, _row, column) => column === 0 ? `<${cell}>` : cell);
  assert.deepEqual(coloured.map(line => line.replace(/[<>]/g, ``)), plain);
  assert.equal(coloured[1], `<ok>       fine`);
});

test(`cells are shown with control characters escaped, and measured escaped`, () => {
  assert.deepEqual(tableLines([`a`, `b`], [[`x\u001b[2J`, `y`]]), [`A        B`, `x\\e[2J   y`]);
});
