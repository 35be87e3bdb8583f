import {test} from 'node:test';
import assert from 'node:assert/strict';
import {parseManifestText} from '../../sources/adapters/manifests/read.ts';
import {InputError} from '../../sources/core/errors.ts';

test(`multi-document YAML yields every object and skips empty documents`, () => {
  const objects = parseManifestText(`---\nkind: Pod\nmetadata:\n  name: a\n---\n# only a comment\n---\nkind: Secret\nmetadata:\n  name: b\n`, `f.yaml`);
  assert.deepEqual(objects.map(entry => `${entry.object.kind}/${entry.object.metadata.name}`), [`Pod/a`, `Secret/b`]);
  assert.equal(objects[1]!.source, `f.yaml (document 3)`);
});

test(`List kinds are flattened, in YAML and in JSON`, () => {
  const list = {kind: `List`, items: [{kind: `Pod`, metadata: {name: `a`}}, {kind: `DeploymentList`, items: [{kind: `Deployment`, metadata: {name: `b`}}]}]};
  for (const text of [JSON.stringify(list), `kind: List\nitems:\n- kind: Pod\n  metadata: {name: a}\n- kind: DeploymentList\n  items:\n  - kind: Deployment\n    metadata: {name: b}\n`])
    assert.deepEqual(parseManifestText(text, `l`).map(entry => entry.object.metadata.name), [`a`, `b`]);
});

test(`a document that is not a Kubernetes object is an input error naming the file`, () => {
  assert.throws(() => parseManifestText(`just a string\n`, `bad.yaml`), (error: unknown) => error instanceof InputError && /bad\.yaml is not a Kubernetes object/.test(error.message));
  assert.throws(() => parseManifestText(`{"kind": "Pod"`, `bad.json`), (error: unknown) => error instanceof InputError && /bad\.json is not valid JSON/.test(error.message));
});
