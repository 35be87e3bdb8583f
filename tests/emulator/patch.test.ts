/**
 * The emulator's patch engine against kubectl's offline oracle (`kubectl patch --local`, which runs
 * the real apimachinery strategic-merge and JSON-patch code), plus pure RFC 7386/6902 cases.
 */
import {test, before, after} from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import {applyJsonPatch, applyMergePatch, applyStrategicMergePatch, PatchError} from '../helpers/apiEmulator/patch.ts';
import {requireKubectl, runKubectlOffline} from '../helpers/apiEmulator/kubectl.ts';

let tmp: string;
before(() => {
  requireKubectl();
  tmp = fs.mkdtempSync(path.join(os.tmpdir(), `patch-oracle-`));
});
after(() => {
  if (tmp)
    fs.rmSync(tmp, {recursive: true, force: true});
});

let n = 0;
async function oracle(obj: any, patch: unknown, type: `strategic` | `merge` | `json` = `strategic`): Promise<any> {
  const file = path.join(tmp, `obj-${++n}.json`);
  fs.writeFileSync(file, JSON.stringify(obj));
  const result = await runKubectlOffline([`patch`, `--local`, `-f`, file, `--type`, type, `-p`, JSON.stringify(patch), `-o`, `json`]);
  assert.equal(result.code, 0, result.stderr);
  return JSON.parse(result.stdout);
}

const pod = (spec: any) => ({apiVersion: `v1`, kind: `Pod`, metadata: {name: `p`, namespace: `ns`}, spec});
const sa = (extra: any) => ({apiVersion: `v1`, kind: `ServiceAccount`, metadata: {name: `default`, namespace: `ns`}, ...extra});
const deployment = (podSpec: any) => ({apiVersion: `apps/v1`, kind: `Deployment`, metadata: {name: `d`, namespace: `ns`}, spec: {selector: {matchLabels: {app: `d`}}, template: {metadata: {labels: {app: `d`}}, spec: podSpec}}});
const cronjob = (podSpec: any) => ({apiVersion: `batch/v1`, kind: `CronJob`, metadata: {name: `c`, namespace: `ns`}, spec: {schedule: `* * * * *`, jobTemplate: {spec: {template: {spec: podSpec}}}}});

const CASES: Array<{name: string; obj: any; patch: any; pick: (o: any) => unknown}> = [
  {
    name: `Pod imagePullSecrets merge by name, new entries first`,
    obj: pod({containers: [{name: `c`, image: `a`}], imagePullSecrets: [{name: `old`}]}),
    patch: {spec: {imagePullSecrets: [{name: `new`}]}},
    pick: o => o.spec.imagePullSecrets,
  },
  {
    name: `Pod imagePullSecrets keep server order around an existing patched entry`,
    obj: pod({containers: [{name: `c`, image: `a`}], imagePullSecrets: [{name: `a`}, {name: `b`}, {name: `c`}]}),
    patch: {spec: {imagePullSecrets: [{name: `new`}, {name: `b`}]}},
    pick: o => o.spec.imagePullSecrets,
  },
  {
    name: `$patch: delete removes one pull secret from a pod list`,
    obj: pod({containers: [{name: `c`, image: `a`}], imagePullSecrets: [{name: `a`}, {name: `b`}]}),
    patch: {spec: {imagePullSecrets: [{name: `a`, $patch: `delete`}]}},
    pick: o => o.spec.imagePullSecrets,
  },
  {
    name: `$patch: replace inside a merge list replaces the whole list`,
    obj: pod({containers: [{name: `c`, image: `a`}], imagePullSecrets: [{name: `a`}, {name: `b`}]}),
    patch: {spec: {imagePullSecrets: [{$patch: `replace`}, {name: `z`}]}},
    pick: o => o.spec.imagePullSecrets,
  },
  {
    name: `ServiceAccount imagePullSecrets are atomic (replaced)`,
    obj: sa({imagePullSecrets: [{name: `old`}, {name: `other`}]}),
    patch: {imagePullSecrets: [{name: `new`}]},
    pick: o => o.imagePullSecrets,
  },
  {
    name: `ServiceAccount secrets merge by name`,
    obj: sa({secrets: [{name: `tok`}]}),
    patch: {secrets: [{name: `s2`}]},
    pick: o => o.secrets,
  },
  {
    name: `Deployment containers merge by name and env merges by name`,
    obj: deployment({containers: [{name: `app`, image: `a:1`, env: [{name: `A`, value: `1`}, {name: `B`, value: `2`}]}, {name: `side`, image: `s:1`}]}),
    patch: {spec: {template: {spec: {containers: [{name: `app`, env: [{name: `B`, value: `3`}, {name: `C`, value: `4`}]}]}}}},
    pick: o => o.spec.template.spec.containers,
  },
  {
    name: `Deployment volumes merge by name and null deletes a field`,
    obj: deployment({containers: [{name: `app`, image: `a:1`}], volumes: [{name: `v1`, emptyDir: {}}], nodeSelector: {disk: `ssd`}}),
    patch: {spec: {template: {spec: {volumes: [{name: `v2`, emptyDir: {}}], nodeSelector: null}}}},
    pick: o => o.spec.template.spec,
  },
  {
    name: `CronJob pod template imagePullSecrets merge by name`,
    obj: cronjob({containers: [{name: `c`, image: `a`}], imagePullSecrets: [{name: `old`}], restartPolicy: `OnFailure`}),
    patch: {spec: {jobTemplate: {spec: {template: {spec: {imagePullSecrets: [{name: `new`}]}}}}}},
    pick: o => o.spec.jobTemplate.spec.template.spec.imagePullSecrets,
  },
  {
    name: `$setElementOrder reorders a merged list`,
    obj: pod({containers: [{name: `a`, image: `a`}, {name: `b`, image: `b`}]}),
    patch: {spec: {'$setElementOrder/containers': [{name: `b`}, {name: `a`}], containers: [{name: `a`, image: `a2`}]}},
    pick: o => o.spec.containers,
  },
  {
    name: `metadata labels merge and finalizers union`,
    obj: {...sa({}), metadata: {name: `default`, namespace: `ns`, labels: {a: `1`, b: `2`}, finalizers: [`x`]}},
    patch: {metadata: {labels: {b: null, c: `3`}, finalizers: [`y`]}},
    pick: o => ({labels: o.metadata.labels, finalizers: o.metadata.finalizers}),
  },
];

for (const c of CASES) {
  test(`strategic merge patch matches kubectl: ${c.name}`, async () => {
    const expected = c.pick(await oracle(c.obj, c.patch));
    assert.deepEqual(c.pick(applyStrategicMergePatch(structuredClone(c.obj), c.patch, c.obj.kind)), expected);
  });
}

test(`merge patch matches kubectl: lists are replaced and null deletes`, async () => {
  const obj = pod({containers: [{name: `c`, image: `a`}], imagePullSecrets: [{name: `old`}], nodeName: `n1`});
  const patch = {spec: {imagePullSecrets: [{name: `new`}], nodeName: null}};
  assert.deepEqual(applyMergePatch(structuredClone(obj), patch), await oracle(obj, patch, `merge`));
});

test(`JSON patch matches kubectl: add to the end of a list, replace, remove`, async () => {
  const obj = sa({imagePullSecrets: [{name: `a`}, {name: `b`}], metadata: {name: `default`, namespace: `ns`, labels: {x: `1`}}});
  const patch = [
    {op: `add`, path: `/imagePullSecrets/-`, value: {name: `c`}},
    {op: `replace`, path: `/imagePullSecrets/0/name`, value: `a2`},
    {op: `remove`, path: `/metadata/labels/x`},
    {op: `test`, path: `/imagePullSecrets/1`, value: {name: `b`}},
  ];
  const mine: any = applyJsonPatch(structuredClone(obj), patch);
  const theirs = await oracle(obj, patch, `json`);
  assert.deepEqual(mine.imagePullSecrets, theirs.imagePullSecrets);
  assert.deepEqual(mine.metadata.labels ?? {}, theirs.metadata.labels ?? {});
});

test(`JSON patch add to a missing list fails, as kubectl reports`, async () => {
  const obj = sa({});
  const patch = [{op: `add`, path: `/imagePullSecrets/-`, value: {name: `s`}}];
  const file = path.join(tmp, `missing.json`);
  fs.writeFileSync(file, JSON.stringify(obj));
  const result = await runKubectlOffline([`patch`, `--local`, `-f`, file, `--type`, `json`, `-p`, JSON.stringify(patch), `-o`, `json`]);
  assert.notEqual(result.code, 0);
  assert.match(result.stderr, /doc is missing path: "\/imagePullSecrets\/-"/);
  assert.throws(() => applyJsonPatch(obj, patch), (e: unknown) => e instanceof PatchError && /doc is missing path: "\/imagePullSecrets\/-"/.test((e as Error).message));
});

test(`JSON patch test compares values deeply and fails on a mismatch`, () => {
  const doc = {metadata: {resourceVersion: `5`}, list: [{name: `a`}]};
  assert.doesNotThrow(() => applyJsonPatch(doc, [{op: `test`, path: `/list`, value: [{name: `a`}]}]));
  assert.throws(() => applyJsonPatch(doc, [{op: `test`, path: `/metadata/resourceVersion`, value: `4`}]), PatchError);
  assert.throws(() => applyJsonPatch(doc, [{op: `test`, path: `/list/0`, value: {name: `a`, extra: true}}]), PatchError);
});

test(`JSON patch move and copy follow RFC 6902`, () => {
  const out: any = applyJsonPatch({a: {b: 1}, list: [1, 2]}, [{op: `copy`, from: `/a/b`, path: `/c`}, {op: `move`, from: `/list/0`, path: `/list/-`}]);
  assert.deepEqual(out, {a: {b: 1}, list: [2, 1], c: 1});
});

test(`a JSON patch never mutates the stored document`, () => {
  const doc = {list: [1]};
  applyJsonPatch(doc, [{op: `add`, path: `/list/-`, value: 2}]);
  assert.deepEqual(doc, {list: [1]});
});
