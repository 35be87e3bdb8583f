// Durations of --request-timeout and the other time flags (sources/commands/options.ts), in Go's notation as kubectl
// reads them.
import {test} from 'node:test';
import assert from 'node:assert/strict';
import {parseDuration} from '../../sources/commands/options.ts';

test(`a duration takes Go's units, µs and us alike, and sums them`, () => {
  assert.equal(parseDuration(`1h30m`, `--request-timeout`), 5_400_000);
  assert.equal(parseDuration(`1.5s`, `--request-timeout`), 1500);
  assert.equal(parseDuration(`2500µs`, `--request-timeout`), 2.5);
  assert.equal(parseDuration(`2500us`, `--request-timeout`), 2.5);
  assert.equal(parseDuration(`3000000ns`, `--request-timeout`), 3);
  // A bare number is seconds, as kubectl's --request-timeout reads it.
  assert.equal(parseDuration(`7`, `--request-timeout`), 7000);
});

test(`a duration with an unknown unit or trailing text is refused with the flag's name`, () => {
  assert.throws(() => parseDuration(`5 s`, `--request-timeout`), /invalid value "5 s" for --request-timeout: expected a duration/);
  assert.throws(() => parseDuration(`5d`, `--request-timeout`), /invalid value "5d"/);
  assert.throws(() => parseDuration(`5mµ`, `--request-timeout`), /invalid value/);
});
