// KEP-2535 (KubeletEnsureSecretPulledImages, on by default from Kubernetes 1.35) in the test world's node: a cached
// private image no longer runs a pod that could not pull it itself. Without the switch (the emulated 1.32 node) the
// same pods run from the cache — both behaviours are what `verify` and `doctor` have to explain.
import assert from 'node:assert/strict';
import {after, before, describe, test} from 'node:test';
import {startWorld, type World} from '../helpers/world.ts';

let counter = 0;
const registryOptions = {mode: `token` as const, users: {alice: `s3cret`}, grants: {alice: {'team/*': [`pull`]}}, anonymousPull: [`public/*`]};

async function scenario(world: World, policy: `IfNotPresent` | `Never`, opts: {ownerSecret?: string; otherSecret?: {name: string; password: string}; repository?: string} = {}) {
  const repository = opts.repository ?? `team/app`;
  const tag = `k${++counter}`;
  await world.registry.push(repository, tag);
  const image = `${world.registry.host}/${repository}:${tag}`;
  const create = async (ns: string, secret?: {name: string; password: string}, pullPolicy = `IfNotPresent`) => {
    world.api.seed.namespace(ns);
    if (secret)
      world.api.seed.secret(ns, {metadata: {name: secret.name}, type: `kubernetes.io/dockerconfigjson`, data: {'.dockerconfigjson': Buffer.from(JSON.stringify({auths: {[world.registry.host]: {username: `alice`, password: secret.password}}})).toString(`base64`)}});
    world.api.local.create(`pods`, ns, {metadata: {name: `p`}, spec: {...(secret ? {imagePullSecrets: [{name: secret.name}]} : {}), containers: [{name: `c`, image, imagePullPolicy: pullPolicy}]}}, `test`);
  };
  const first = `kep-${counter}-a`;
  await create(first, {name: opts.ownerSecret ?? `regcred`, password: `s3cret`});
  await world.node.waitForPods({namespace: first, name: `p`}, `Running`);
  const second = `kep-${counter}-b`;
  await create(second, opts.otherSecret, policy);
  return {second, image};
}

describe(`with imagePullCredentialsVerificationPolicy NeverVerifyPreloadedImages (the 1.35 default)`, () => {
  let world: World;
  before(async () => {
    world = await startWorld({registry: registryOptions, node: {imagePullCredentialsVerificationPolicy: `NeverVerifyPreloadedImages`}});
  });
  after(() => world?.stop());

  test(`an IfNotPresent pod without credentials pulls again, anonymously, and fails, though the image is on the node`, async () => {
    const {second} = await scenario(world, `IfNotPresent`);
    const [pod] = await world.node.waitForPods({namespace: second, name: `p`}, [`ErrImagePull`, `ImagePullBackOff`]);
    assert.ok(world.node.pulls.some(p => p.pod === `${second}/p` && p.username === undefined && !p.ok), `a real anonymous pull was tried`);
    assert.match(JSON.stringify(pod.status.containerStatuses[0].state.waiting), /pull access denied|Back-off/);
  });

  test(`a Never pod without credentials gets ErrImageNeverPull, worded as if the image were absent`, async () => {
    const {second, image} = await scenario(world, `Never`);
    const [pod] = await world.node.waitForPods({namespace: second, name: `p`}, `ErrImageNeverPull`);
    assert.equal(pod.status.containerStatuses[0].state.waiting.message, `Container image "${image}" is not present with pull policy of Never`);
  });

  test(`the same credentials in a secret of another name and namespace prove access: the pod runs from the cache, without a pull`, async () => {
    const {second} = await scenario(world, `IfNotPresent`, {otherSecret: {name: `other-name`, password: `s3cret`}});
    await world.node.waitForPods({namespace: second, name: `p`}, `Running`);
    assert.equal(world.node.pulls.filter(p => p.pod === `${second}/p`).length, 0);
  });

  test(`a wrong password does not: the pod pulls with it and fails`, async () => {
    const {second} = await scenario(world, `IfNotPresent`, {otherSecret: {name: `regcred`, password: `wrong`}});
    await world.node.waitForPods({namespace: second, name: `p`}, [`ErrImagePull`, `ImagePullBackOff`]);
    assert.ok(world.node.pulls.some(p => p.pod === `${second}/p` && p.username === `alice` && !p.ok));
  });

  test(`an image once pulled anonymously (public) runs any pod from the cache`, async () => {
    const tag = `pub${++counter}`;
    await world.registry.push(`public/tool`, tag);
    const image = `${world.registry.host}/public/tool:${tag}`;
    for (const ns of [`pub-${counter}-a`, `pub-${counter}-b`]) {
      world.api.seed.namespace(ns);
      world.api.local.create(`pods`, ns, {metadata: {name: `p`}, spec: {containers: [{name: `c`, image, imagePullPolicy: `IfNotPresent`}]}}, `test`);
      await world.node.waitForPods({namespace: ns, name: `p`}, `Running`);
    }
    assert.equal(world.node.pulls.filter(p => p.image === image).length, 1, `pulled once`);
  });
});

describe(`without KEP-2535 (NeverVerify, the emulated 1.32 node)`, () => {
  let world: World;
  before(async () => {
    world = await startWorld({registry: registryOptions});
  });
  after(() => world?.stop());

  test(`an IfNotPresent pod without credentials runs from the cache`, async () => {
    const {second} = await scenario(world, `IfNotPresent`);
    await world.node.waitForPods({namespace: second, name: `p`}, `Running`);
    assert.equal(world.node.pulls.filter(p => p.pod === `${second}/p`).length, 0);
  });
});
