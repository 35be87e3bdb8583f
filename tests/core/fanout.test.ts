import {test} from 'node:test';
import assert from 'node:assert/strict';
import {fanOut, progressLine} from '../../sources/core/fanout.ts';

const tick = (ms: number) => new Promise(resolve => setTimeout(resolve, ms));

test(`fanOut keeps the input order even when later items finish first`, async () => {
  const results = await fanOut([30, 1, 15, 5], 4, async ms => {
    await tick(ms);
    return ms * 2;
  });
  assert.deepEqual(results.map(result => result.ok && result.value), [60, 2, 30, 10]);
  assert.deepEqual(results.map(result => result.item), [30, 1, 15, 5]);
});

test(`fanOut never runs more than the concurrency limit at once`, async () => {
  let running = 0;
  let peak = 0;
  await fanOut(Array.from({length: 20}, (_, i) => i), 3, async () => {
    running++;
    peak = Math.max(peak, running);
    await tick(2);
    running--;
  });
  assert.equal(peak, 3);
});

test(`fanOut turns a failing item into ok: false and still runs the others`, async () => {
  const boom = new Error(`boom`);
  const results = await fanOut([`a`, `b`, `c`], 2, async item => {
    if (item === `b`)
      throw boom;
    return item.toUpperCase();
  });
  assert.deepEqual(results, [
    {item: `a`, ok: true, value: `A`},
    {item: `b`, ok: false, error: boom},
    {item: `c`, ok: true, value: `C`},
  ]);
});

test(`fanOut resolves with an empty list for no items without calling work`, async () => {
  let calls = 0;
  assert.deepEqual(await fanOut([], 8, async () => ++calls), []);
  assert.equal(calls, 0);
});

test(`fanOut treats a concurrency below 1 as 1 instead of hanging`, async () => {
  const results = await fanOut([1, 2], 0, async item => item);
  assert.deepEqual(results.map(result => result.ok), [true, true]);
});

test(`fanOut reports progress once per item with a growing done count, and a throwing callback does not break it`, async () => {
  const seen: Array<[number, number]> = [];
  const results = await fanOut([1, 2, 3], 2, async item => item, (done, total) => {
    seen.push([done, total]);
    throw new Error(`display broke`);
  });
  assert.deepEqual(seen, [[1, 3], [2, 3], [3, 3]]);
  assert.equal(results.length, 3);
});

test(`progressLine writes nothing when the stream is not a TTY`, () => {
  const written: string[] = [];
  const line = progressLine({write: chunk => written.push(chunk), isTTY: false}, `syncing`);
  line.update(1, 2);
  line.clear();
  assert.deepEqual(written, []);
});

test(`progressLine redraws one line on a TTY and erases it on clear`, () => {
  const written: string[] = [];
  const line = progressLine({write: chunk => written.push(chunk), isTTY: true, columns: 80}, `syncing`);
  line.update(1, 2, `web`);
  line.update(2, 2);
  line.clear();
  assert.deepEqual(written, [`\rsyncing 1/2 web\x1b[K`, `\rsyncing 2/2\x1b[K`, `\r\x1b[K`]);
});
