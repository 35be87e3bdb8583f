// The simulated node against real containerd and the real registry, judged by the real kubectl: pods that can
// pull become Running, pods that cannot show what a kubelet shows, and fixing the cause heals them.
import assert from 'node:assert/strict';
import {after, before, describe, test} from 'node:test';
import {startWorld, type World} from '../helpers/world.ts';
import {podState} from '../helpers/node/index.ts';

let world: World;
let image: string;
let counter = 0;
before(async () => {
  world = await startWorld({registry: {mode: `token`, users: {alice: `s3cret`, mallory: `guess`}, grants: {alice: {'team/*': [`pull`]}}}});
  image = await world.freshImage();
});
after(() => world?.stop());

const kubectl = (...args: string[]) => world.kubectlOk(...args);
const apply = (ns: string, obj: unknown) => world.apply(ns, obj);
/** Tests that expect a failure use an image no other test pulled (the node keeps what it pulled). */
const freshImage = () => world.freshImage();

async function namespace(): Promise<string> {
  const ns = `node-${++counter}`;
  await kubectl(`create`, `namespace`, ns);
  return ns;
}

async function secret(ns: string, name: string, user: string, password: string): Promise<void> {
  await kubectl(`create`, `secret`, `docker-registry`, name, `--docker-server=${world.registry.host}`, `--docker-username=${user}`, `--docker-password=${password}`, `-n`, ns);
}

const deployment = (name: string, podSpec: any, replicas = 1) => ({
  apiVersion: `apps/v1`, kind: `Deployment`, metadata: {name},
  spec: {replicas, selector: {matchLabels: {app: name}}, template: {metadata: {labels: {app: name}}, spec: podSpec}},
});

describe(`a Deployment`, () => {
  test(`with a good pull secret becomes Running, and kubectl get pods shows 1/1 Running`, async () => {
    const ns = await namespace();
    await secret(ns, `regcred`, `alice`, `s3cret`);
    await apply(ns, deployment(`web`, {imagePullSecrets: [{name: `regcred`}], containers: [{name: `web`, image}]}));
    const [pod] = await world.node.waitForPods({namespace: ns, labels: {app: `web`}}, `Running`);
    const table = await kubectl(`get`, `pods`, `-n`, ns, `--no-headers`);
    assert.match(table, new RegExp(`^${pod.metadata.name}\\s+1/1\\s+Running\\s+0\\s+`));
    assert.ok(world.node.pulls.some(p => p.pod === `${ns}/${pod.metadata.name}` && p.ok && p.username === `alice`));
  });

  test(`with a wrong password shows ErrImagePull then ImagePullBackOff with the runtime's message, and heals when the secret is fixed`, async () => {
    const ns = await namespace();
    const image = await freshImage();
    await secret(ns, `regcred`, `alice`, `wrong`);
    await apply(ns, deployment(`web`, {imagePullSecrets: [{name: `regcred`}], containers: [{name: `web`, image}]}));
    const [failing] = await world.node.waitForPods({namespace: ns, labels: {app: `web`}}, `ImagePullBackOff`);
    assert.equal(failing.status.containerStatuses[0].state.waiting.message, `Back-off pulling image "${image}"`);
    const described = await kubectl(`describe`, `pod`, failing.metadata.name, `-n`, ns);
    // The state flips ErrImagePull → ImagePullBackOff → (retry) ErrImagePull… while kubectl runs.
    assert.match(described, /State:\s+Waiting\n\s+Reason:\s+(ErrImagePull|ImagePullBackOff)\n/);
    assert.ok(described.includes(`Failed to pull image "${image}": rpc error: code = Unknown desc = failed to pull and unpack image "${image}": failed to resolve reference "${image}": failed to authorize: failed to fetch oauth token: unexpected status: 401 Unauthorized`), described);
    assert.match(described, /Back-off pulling image/);
    const events = await kubectl(`get`, `events`, `-n`, ns, `-o`, `json`);
    const reasons = new Set(JSON.parse(events).items.map((e: any) => e.reason));
    for (const reason of [`Scheduled`, `Pulling`, `Failed`, `BackOff`])
      assert.ok(reasons.has(reason), `event ${reason} in ${[...reasons].join(`,`)}`);

    // The fix a user would run: recreate the secret with the right password; the next retry pulls.
    await kubectl(`delete`, `secret`, `regcred`, `-n`, ns);
    await secret(ns, `regcred`, `alice`, `s3cret`);
    const [healed] = await world.node.waitForPods({namespace: ns, labels: {app: `web`}}, `Running`);
    assert.equal(healed.metadata.uid, failing.metadata.uid);
  });

  test(`whose ServiceAccount gets the pull secret heals only after kubectl rollout restart (pods keep the list they were created with)`, async () => {
    const ns = await namespace();
    const image = await freshImage();
    await secret(ns, `regcred`, `alice`, `s3cret`);
    await apply(ns, deployment(`api`, {containers: [{name: `api`, image}]}, 2));
    const failing = await world.node.waitForPods({namespace: ns, labels: {app: `api`}}, [`ErrImagePull`, `ImagePullBackOff`]);
    assert.equal(failing.length, 2);
    assert.match(failing[0].status.containerStatuses[0].state.waiting.message ?? ``, /pull access denied|Back-off pulling image/);
    await kubectl(`patch`, `serviceaccount`, `default`, `-n`, ns, `-p`, `{"imagePullSecrets":[{"name":"regcred"}]}`);
    await new Promise(resolve => setTimeout(resolve, 700));
    assert.ok(world.api.objects(`pods`, ns).every(p => podState(p) !== `Running`), `no pod heals by itself`);
    await kubectl(`rollout`, `restart`, `deployment/api`, `-n`, ns);
    // The old ReplicaSet may still replace one of its pods while it scales down (the replacement gets the
    // ServiceAccount's secret and runs): the rollout is over when the Deployment's two new pods are all that run.
    let healed: any[] = [];
    for (const deadline = Date.now() + 20_000; Date.now() < deadline; await new Promise(resolve => setTimeout(resolve, 50))) {
      healed = await world.node.waitForPods({namespace: ns, labels: {app: `api`}}, `Running`);
      if (healed.length === 2)
        break;
    }
    assert.equal(healed.length, 2, JSON.stringify(world.api.objects(`pods`, ns).map(p => [p.metadata.name, podState(p)])));
    assert.ok(healed.every(p => !failing.some(f => f.metadata.uid === p.metadata.uid)), `new pods replaced the failing ones`);
    assert.deepEqual(healed[0].spec.imagePullSecrets, [{name: `regcred`}]);
  });

  test(`kubectl delete pod gets a replacement pod from the ReplicaSet, which runs`, async () => {
    const ns = await namespace();
    await secret(ns, `regcred`, `alice`, `s3cret`);
    await apply(ns, deployment(`web`, {imagePullSecrets: [{name: `regcred`}], containers: [{name: `web`, image}]}));
    const [first] = await world.node.waitForPods({namespace: ns, labels: {app: `web`}}, `Running`);
    assert.equal(await kubectl(`delete`, `pod`, first.metadata.name, `-n`, ns), `pod "${first.metadata.name}" deleted\n`);
    const [second] = await world.node.waitForPods({namespace: ns, labels: {app: `web`}}, `Running`);
    assert.notEqual(second.metadata.name, first.metadata.name);
    assert.equal(second.metadata.ownerReferences[0].name, first.metadata.ownerReferences[0].name);
  });
});

describe(`pods the kubelet refuses or cannot pull`, () => {
  test(`a listed secret that does not exist gives FailedToRetrieveImagePullSecret and an anonymous pull that is denied`, async () => {
    const ns = await namespace();
    const image = await freshImage();
    await apply(ns, {apiVersion: `v1`, kind: `Pod`, metadata: {name: `p`}, spec: {imagePullSecrets: [{name: `nope`}], containers: [{name: `c`, image}]}});
    await world.node.waitForPods({namespace: ns, name: `p`}, [`ErrImagePull`, `ImagePullBackOff`]);
    const described = await kubectl(`describe`, `pod`, `p`, `-n`, ns);
    assert.match(described, /FailedToRetrieveImagePullSecret\s+.*Unable to retrieve some image pull secrets \(nope\); attempting to pull the image may not succeed\./);
    assert.match(described, /pull access denied, repository does not exist or may require authorization/);
    assert.ok(world.node.pulls.some(p => p.pod === `${ns}/p` && p.username === undefined && !p.ok), `the pull was anonymous`);
  });

  test(`an uppercase repository is InvalidImageName; imagePullPolicy Never on an absent image is ErrImageNeverPull`, async () => {
    const ns = await namespace();
    await apply(ns, {apiVersion: `v1`, kind: `Pod`, metadata: {name: `bad`}, spec: {containers: [{name: `c`, image: `${world.registry.host}/Team/app:1.0`}]}});
    await apply(ns, {apiVersion: `v1`, kind: `Pod`, metadata: {name: `never`}, spec: {containers: [{name: `c`, image: `${world.registry.host}/team/absent:1.0`, imagePullPolicy: `Never`}]}});
    const [bad] = await world.node.waitForPods({namespace: ns, name: `bad`}, `InvalidImageName`);
    assert.equal(bad.status.containerStatuses[0].state.waiting.message, `Failed to apply default image tag "${world.registry.host}/Team/app:1.0": couldn't parse image name "${world.registry.host}/Team/app:1.0": invalid reference format: repository name (Team/app:1.0) must be lowercase`);
    const [never] = await world.node.waitForPods({namespace: ns, name: `never`}, `ErrImageNeverPull`);
    assert.equal(never.status.containerStatuses[0].state.waiting.message, `Container image "${world.registry.host}/team/absent:1.0" is not present with pull policy of Never`);
    const events = JSON.parse(await kubectl(`get`, `events`, `-n`, ns, `-o`, `json`)).items.map((e: any) => `${e.involvedObject.name} ${e.reason}: ${e.message}`);
    for (const line of [`bad InspectFailed: ${bad.status.containerStatuses[0].state.waiting.message}`, `bad Failed: Error: InvalidImageName`, `never ErrImageNeverPull: ${never.status.containerStatuses[0].state.waiting.message}`, `never Failed: Error: ErrImageNeverPull`])
      assert.ok(events.includes(line), `${line} in ${events.join(`\n`)}`);
    const table = await kubectl(`get`, `pods`, `-n`, ns, `--no-headers`);
    assert.match(table, /^bad\s+0\/1\s+InvalidImageName\s/m);
    assert.match(table, /^never\s+0\/1\s+ErrImageNeverPull\s/m);
  });

  test(`an init container that cannot pull holds the pod at Init:ErrImagePull or Init:ImagePullBackOff`, async () => {
    const ns = await namespace();
    await secret(ns, `regcred`, `alice`, `s3cret`);
    await apply(ns, {apiVersion: `v1`, kind: `Pod`, metadata: {name: `p`}, spec: {imagePullSecrets: [{name: `regcred`}], initContainers: [{name: `init`, image: `${world.registry.host}/team/absent:1.0`}], containers: [{name: `c`, image}]}});
    await world.node.waitForPods({namespace: ns, name: `p`}, `ImagePullBackOff`);
    const table = await kubectl(`get`, `pods`, `-n`, ns, `--no-headers`);
    assert.match(table, /^p\s+0\/1\s+Init:(ErrImagePull|ImagePullBackOff)\s/m);
    assert.equal(world.node.pulls.filter(p => p.pod === `${ns}/p` && p.image === image).length, 0, `the container's image waits for the init container`);
  });
});

describe(`image volumes`, () => {
  test(`an image volume is pulled with the pod's credentials before its containers, and a failing one holds them`, async () => {
    const ns = await namespace();
    const [volumeImage, badVolume] = [await freshImage(), await freshImage()];
    await secret(ns, `regcred`, `alice`, `s3cret`);
    await apply(ns, {apiVersion: `v1`, kind: `Pod`, metadata: {name: `ok`}, spec: {imagePullSecrets: [{name: `regcred`}], volumes: [{name: `data`, image: {reference: volumeImage, pullPolicy: `IfNotPresent`}}], containers: [{name: `c`, image}]}});
    await apply(ns, {apiVersion: `v1`, kind: `Pod`, metadata: {name: `bad`}, spec: {volumes: [{name: `data`, image: {reference: badVolume, pullPolicy: `IfNotPresent`}}], containers: [{name: `c`, image}]}});
    await world.node.waitForPods({namespace: ns, name: `ok`}, `Running`);
    assert.ok(world.node.pulls.some(p => p.pod === `${ns}/ok` && p.image === volumeImage && p.ok && p.username === `alice`));
    await world.node.waitForPods({namespace: ns, name: `bad`}, [`ErrImagePull`, `ImagePullBackOff`]);
    assert.equal(world.node.pulls.filter(p => p.pod === `${ns}/bad` && p.image === image).length, 0, `the container waits for its volume`);
  });
});

describe(`other workloads`, () => {
  test(`a StatefulSet and a DaemonSet run their pods`, async () => {
    const ns = await namespace();
    await secret(ns, `regcred`, `alice`, `s3cret`);
    const template = (app: string, extra: any = {}) => ({metadata: {labels: {app}}, spec: {imagePullSecrets: [{name: `regcred`}], containers: [{name: app, image}], ...extra}});
    await apply(ns, {apiVersion: `apps/v1`, kind: `StatefulSet`, metadata: {name: `db`}, spec: {replicas: 2, serviceName: `db`, selector: {matchLabels: {app: `db`}}, template: template(`db`)}});
    await apply(ns, {apiVersion: `apps/v1`, kind: `DaemonSet`, metadata: {name: `agent`}, spec: {selector: {matchLabels: {app: `agent`}}, template: template(`agent`)}});
    const sts = await world.node.waitForPods({namespace: ns, labels: {app: `db`}}, `Running`);
    await world.api.settled();
    const all = await world.node.waitForPods({namespace: ns, labels: {app: `db`}}, `Running`);
    assert.deepEqual(all.map(p => p.metadata.name).sort(), [`db-0`, `db-1`], `both ordinals, in order (first ${sts.length})`);
    const [agent] = await world.node.waitForPods({namespace: ns, labels: {app: `agent`}}, `Running`);
    assert.equal(agent.metadata.ownerReferences[0].kind, `DaemonSet`);
  });
});
