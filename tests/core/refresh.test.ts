import {test} from 'node:test';
import assert from 'node:assert/strict';
import {isRefreshable, refreshDue} from '../../sources/core/refresh/refresh.ts';
import {commandsAfterWrite, recordedCommands} from '../../sources/core/secrets/passwordCommand.ts';

const now = new Date(`2026-12-01T12:00:00Z`);
const noTokens = () => null;
const secret = (annotations: Record<string, string>, extra: Record<string, unknown> = {}) => ({metadata: {name: `regcred`, namespace: `p`, creationTimestamp: `2026-11-30T00:00:00Z`, labels: {'app.kubernetes.io/managed-by': `kubectl-pullsecret`}, annotations}, ...extra});
const COMMAND = `pullsecret.kubectl.io/password-command`;
const RECORD = JSON.stringify([{server: `r.example.com`, username: `u`, command: `echo x`}]);

test(`a token is due within --before of its expiry, and once expired`, () => {
  const at = (iso: string) => refreshDue(secret({'pullsecret.kubectl.io/expires-at': iso}), {beforeMs: 3 * 3600_000}, now, noTokens);
  assert.deepEqual(at(`2026-12-01T15:00:00Z`), {due: true, reason: `the token expires at 2026-12-01T15:00:00Z, within 3h`});
  assert.deepEqual(at(`2026-12-01T15:00:01Z`), {due: false, reason: `not due: the token expires at 2026-12-01T15:00:01Z`});
  assert.deepEqual(at(`2026-12-01T11:00:00Z`), {due: true, reason: `the token expired at 2026-12-01T11:00:00Z`});
  // The data's own token expiry counts too, the earlier one wins.
  const fromData = refreshDue(secret({'pullsecret.kubectl.io/expires-at': `2026-12-09T00:00:00Z`}, {data: {'.dockerconfigjson': Buffer.from(`{}`).toString(`base64`)}}), {beforeMs: 3600_000}, now, () => new Date(`2026-12-01T12:30:00Z`));
  assert.equal(fromData.due, true);
});

test(`without expiry, age counts from refreshed-at, else creation, and only with --max-age`, () => {
  assert.equal(refreshDue(secret({}), {beforeMs: 0}, now, noTokens).due, false);
  assert.deepEqual(refreshDue(secret({}), {beforeMs: 0, maxAgeMs: 36 * 3600_000}, now, noTokens), {due: true, reason: `last refreshed at 2026-11-30T00:00:00Z, more than 36h ago`});
  assert.equal(refreshDue(secret({'pullsecret.kubectl.io/refreshed-at': `2026-12-01T11:00:00Z`}), {beforeMs: 0, maxAgeMs: 2 * 3600_000}, now, noTokens).due, false);
});

test(`only managed sources with a command record are refreshable, never copies`, () => {
  assert.equal(isRefreshable(secret({[COMMAND]: RECORD})), true);
  assert.equal(isRefreshable(secret({})), false);
  assert.equal(isRefreshable(secret({[COMMAND]: RECORD, 'pullsecret.kubectl.io/source': `p/regcred`})), false);
  assert.equal(isRefreshable({metadata: {name: `x`, annotations: {[COMMAND]: RECORD}}}), false);
  assert.deepEqual(recordedCommands(secret({[COMMAND]: `[{"server":"r"}]`})), {state: `invalid`, reason: `each entry needs non-empty "server", "username" and "command" strings`});
});

test(`the command record keeps other registries, replaces the written ones, and drops them when the password came from elsewhere`, () => {
  const same = (a: string, b: string) => a === b;
  const existing = secret({[COMMAND]: JSON.stringify([{server: `a`, username: `u`, command: `ca`}, {server: `b`, username: `u`, command: `cb`}])});
  assert.equal(commandsAfterWrite(existing, [{server: `b`, username: `v`}], `new`, {replace: false, sameRegistry: same}), `[{"server":"a","username":"u","command":"ca"},{"server":"b","username":"v","command":"new"}]`);
  assert.equal(commandsAfterWrite(existing, [{server: `b`, username: `v`}], undefined, {replace: false, sameRegistry: same}), `[{"server":"a","username":"u","command":"ca"}]`);
  assert.equal(commandsAfterWrite(existing, [{server: `c`, username: `v`}], undefined, {replace: true, sameRegistry: same}), null);
});
