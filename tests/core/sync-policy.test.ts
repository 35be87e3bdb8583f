import {test} from 'node:test';
import assert from 'node:assert/strict';
import {SYNC_POLICY_ANNOTATION, decodePolicy, describePolicy, encodePolicy, planSyncRun, policyFromFlags, recordedPolicy, scopeOfPolicy} from '../../sources/core/sync/policy.ts';
import type {SyncPolicy} from '../../sources/core/sync/policy.ts';

const secretWith = (value?: string) => ({metadata: {name: `regcred`, namespace: `platform`, ...(value === undefined ? {} : {annotations: {[SYNC_POLICY_ANNOTATION]: value}})}});

test(`a policy encodes as compact JSON with a fixed key order and decodes to the same policy`, () => {
  const policies: SyncPolicy[] = [
    {namespaces: {kind: `all`}, exclude: [`kube-*`], attach: `default`, prune: false},
    {namespaces: {kind: `list`, names: [`a`, `b`]}, exclude: [], attach: [`builder`, `default`], prune: true},
    {namespaces: {kind: `selector`, selector: `team=web,env!=dev`}, exclude: [], attach: null, prune: false},
  ];
  assert.equal(encodePolicy(policies[0]!), `{"namespaces":"all","exclude":["kube-*"],"attach":"default"}`);
  assert.equal(encodePolicy(policies[1]!), `{"namespaces":["a","b"],"attach":["builder","default"],"prune":true}`);
  assert.equal(encodePolicy(policies[2]!), `{"namespaceSelector":"team=web,env!=dev"}`);
  for (const policy of policies)
    assert.deepEqual(decodePolicy(encodePolicy(policy)), policy);
});

test(`a malformed policy annotation is reported with what is wrong, never the whole value`, () => {
  const cases: Array<[string, RegExp]> = [
    [`not json`, /not JSON/],
    [`[]`, /not a JSON object/],
    [`{}`, /names no namespaces/],
    [`{"namespaces":"all","namespaceSelector":"a=b"}`, /cannot both be set/],
    [`{"namespaces":["Bad_Name"]}`, /"namespaces" must be/],
    [`{"namespaces":"all","attach":7}`, /"attach" must be/],
    [`{"namespaces":"all","prune":"yes"}`, /"prune" must be true or false/],
    [`{"namespaces":"all","password":"hunter2"}`, /unknown field "password"/],
    [`{"namespaces":"all","exclude":[]}`, /"exclude" must be/],
    [`x`.repeat(70_000), /longer than/],
  ];
  for (const [value, reason] of cases) {
    const recorded = recordedPolicy(secretWith(value));
    assert.equal(recorded.state, `invalid`, value.slice(0, 40));
    assert.match((recorded as {reason: string}).reason, reason);
    assert.ok((recorded as {reason: string}).reason.length < 100);
  }
  assert.deepEqual(recordedPolicy(secretWith()), {state: `none`});
});

test(`-n NS becomes a policy of that one namespace; the other scopes map one to one`, () => {
  assert.deepEqual(policyFromFlags({kind: `current`, exclude: []}, `web`, null, false).namespaces, {kind: `list`, names: [`web`]});
  assert.deepEqual(policyFromFlags({kind: `list`, names: [`a`, `a`, `b`], exclude: []}, `web`, null, false).namespaces, {kind: `list`, names: [`a`, `b`]});
  const policy = policyFromFlags({kind: `selector`, selector: `team=web`, exclude: [`x-*`]}, `web`, {serviceAccounts: `all`}, true);
  assert.deepEqual(scopeOfPolicy(policy), {kind: `selector`, selector: `team=web`, exclude: [`x-*`]});
  assert.equal(describePolicy(policy), `namespaces matching team=web except x-*; attach to all ServiceAccounts; prune`);
});

const ALL: SyncPolicy = {namespaces: {kind: `all`}, exclude: [`kube-*`], attach: `default`, prune: false};
const recorded = (policy: SyncPolicy) => recordedPolicy(secretWith(encodePolicy(policy)));

test(`sync without scope flags re-applies the recorded policy; flags given instead win and leave it alone`, () => {
  const plan = planSyncRun(recorded(ALL), {scope: null, attach: null, prune: false, keep: undefined}, `default`);
  assert.equal(plan.kind, `sync`);
  assert.deepEqual(plan.kind === `sync` && [plan.scope, plan.attach, plan.applied, plan.annotation], [{kind: `all`, exclude: [`kube-*`]}, {serviceAccounts: `default`}, ALL, {action: `keep`}]);
  const flagged = planSyncRun(recorded(ALL), {scope: {kind: `list`, names: [`x`], exclude: []}, attach: null, prune: false, keep: undefined}, `default`);
  assert.deepEqual(flagged.kind === `sync` && [flagged.scope, flagged.attach, flagged.applied, flagged.annotation], [{kind: `list`, names: [`x`], exclude: []}, null, null, {action: `keep`}]);
  // No policy and no flags: the current namespace, as before policies existed.
  const bare = planSyncRun({state: `none`}, {scope: null, attach: null, prune: false, keep: undefined}, `default`);
  assert.deepEqual(bare.kind === `sync` && bare.scope, {kind: `current`, exclude: []});
});

test(`--keep records the policy only when it differs from the one recorded; --keep=false removes it`, () => {
  const keep = planSyncRun({state: `none`}, {scope: {kind: `all`, exclude: [`kube-*`]}, attach: {serviceAccounts: `default`}, prune: false, keep: true}, `default`);
  assert.deepEqual(keep.kind === `sync` && keep.annotation, {action: `record`, policy: ALL, value: encodePolicy(ALL)});
  const again = planSyncRun(recorded(ALL), {scope: {kind: `all`, exclude: [`kube-*`]}, attach: {serviceAccounts: `default`}, prune: false, keep: true}, `default`);
  assert.deepEqual(again.kind === `sync` && again.annotation, {action: `keep`});
  // --keep without scope flags keeps the recorded scope and takes a new --attach into it.
  const widened = planSyncRun(recorded(ALL), {scope: null, attach: {serviceAccounts: `all`}, prune: false, keep: true}, `default`);
  assert.deepEqual(widened.kind === `sync` && widened.annotation.action === `record` && widened.annotation.policy, {...ALL, attach: `all`});
  assert.deepEqual(planSyncRun({state: `none`}, {scope: null, attach: null, prune: false, keep: true}, `default`), {kind: `keep-without-scope`});
  assert.deepEqual(planSyncRun(recorded(ALL), {scope: null, attach: null, prune: false, keep: false}, `default`), {kind: `forget`, present: true});
  const oneShot = planSyncRun(recorded(ALL), {scope: {kind: `list`, names: [`a`], exclude: []}, attach: null, prune: false, keep: false}, `default`);
  assert.deepEqual(oneShot.kind === `sync` && oneShot.annotation, {action: `remove`});
  assert.deepEqual(planSyncRun({state: `invalid`, reason: `it is not JSON`}, {scope: null, attach: null, prune: false, keep: undefined}, `default`), {kind: `invalid`, reason: `it is not JSON`});
});
