// doctor's pure judgement over evidence it could not read: say what is unread, never invent a cause.
import {test} from 'node:test';
import assert from 'node:assert/strict';
import {diagnose, fixLines} from '../../sources/core/verify/doctor.ts';
import {doctorCase} from '../../sources/core/verify/doctorCase.ts';
import type {DoctorSurroundings} from '../../sources/core/verify/doctorCase.ts';
import type {ServiceAccountState} from '../../sources/core/verify/effective.ts';
import type {VerifyResult} from '../../sources/core/verify/types.ts';

const IMAGE = `registry.example.com/team/app:1`;

function surroundings(overrides: Partial<DoctorSurroundings> & {secrets?: Record<string, `found` | `missing` | `forbidden`>; accounts?: Record<string, ServiceAccountState>; podSecrets?: string[]}): DoctorSurroundings {
  const {secrets = {}, accounts = {}, podSecrets = [], ...rest} = overrides;
  const result: VerifyResult = {
    context: null, namespace: `web`, kind: `Pod`, name: `p`, container: `app`, image: IMAGE,
    status: `no-credentials`, credential: null, detail: `private and no credential matches; anonymous pull refused`, warnings: [],
  };
  return {
    pod: {kind: `Pod`, metadata: {name: `p`, namespace: `web`}, spec: {containers: [{name: `app`, image: IMAGE}], imagePullSecrets: podSecrets.map(name => ({name}))}},
    failing: {container: `app`, image: IMAGE, reason: `ImagePullBackOff`, message: ``},
    result,
    events: [],
    owner: undefined,
    namespaceSecrets: [],
    otherSecrets: [],
    unsearched: [],
    serviceAccount: name => accounts[name] ?? {state: `found`, imagePullSecrets: []},
    secretState: name => secrets[name] ?? `missing`,
    ...rest,
  };
}

test(`with every secret readable and none matching, doctor says no secret in the cluster holds credentials`, () => {
  const diagnosis = diagnose(doctorCase(surroundings({})));
  assert.equal(diagnosis.id, `missing-pull-secrets`);
  assert.match(diagnosis.cause, /no secret in the cluster holds credentials for registry\.example\.com$/);
});

test(`a pod secret that could not be read is neither missing nor present: the diagnosis names it as unread`, () => {
  const item = doctorCase(surroundings({podSecrets: [`regcred`], secrets: {regcred: `forbidden`}}));
  assert.deepEqual(item.missingFoundElsewhere, []);
  assert.deepEqual(item.unreadable, [`cannot read secrets in web: forbidden (needs get or list on secrets; unread: regcred)`]);
  const diagnosis = diagnose(item);
  assert.equal(diagnosis.id, `evidence-unreadable`);
  assert.match(diagnosis.cause, /^cannot read secrets in web: forbidden \(needs get or list on secrets; unread: regcred\): the cause cannot be determined without them/);
  assert.doesNotMatch(fixLines(diagnosis.fix).join(`\n`), /pullsecret (?:add|attach|sync|rotate)/);
});

test(`a forbidden secret listed by the pod's ServiceAccount, or a forbidden ServiceAccount, is unread evidence too`, () => {
  const viaAccount = doctorCase(surroundings({accounts: {default: {state: `found`, imagePullSecrets: [`regcred`]}}, secrets: {regcred: `forbidden`}}));
  assert.equal(diagnose(viaAccount).id, `evidence-unreadable`);
  const account = doctorCase(surroundings({accounts: {default: {state: `forbidden`, message: `forbidden`}}}));
  assert.deepEqual(account.unreadable, [`cannot read serviceaccounts in web: forbidden (needs get or list on serviceaccounts; unread: default)`]);
  assert.equal(diagnose(account).id, `evidence-unreadable`);
});

test(`an invalid image name is diagnosed whatever could not be read`, () => {
  const item = doctorCase(surroundings({podSecrets: [`regcred`], secrets: {regcred: `forbidden`}}));
  const diagnosis = diagnose({...item, result: {...item.result, status: `invalid-image`, detail: `invalid reference format`}});
  assert.equal(diagnosis.id, `invalid-image`);
});

test(`when secrets could not be listed, an absence of matches is not claimed`, () => {
  const diagnosis = diagnose(doctorCase(surroundings({unsearched: [`cannot list secrets in web: forbidden (needs list on secrets)`]})));
  assert.doesNotMatch(diagnosis.cause, /in the cluster/);
  assert.match(diagnosis.cause, /no secret it could read holds credentials for registry\.example\.com \(not searched: cannot list secrets in web: forbidden \(needs list on secrets\)\)$/);
});
