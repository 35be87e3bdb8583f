/**
 * Test world 2 in one call: the API emulator with its controllers, a real registry, real containerd trusting
 * it, and the simulated node pulling through it (short back-offs). For tests that need "a cluster whose node
 * really pulls":
 *
 *   const world = await startWorld({registry: {mode: `token`, users: {alice: `s3cret`}, grants: {alice: {'team/*': [`pull`]}}}});
 *   after(() => world.stop());
 *   await world.registry.push(`team/app`, `1.0`);
 *   await world.kubectl([`create`, `secret`, `docker-registry`, `regcred`, `--docker-server=${world.registry.host}`, …]);
 *   await world.node.waitForPods({namespace: `default`, labels: {app: `web`}}, `Running`);
 *
 * `world.kubectl(args, {stdin})` runs the real kubectl against the emulator (admin context); `world.kubectlOk(...args)`
 * does too and throws (with kubectl's stderr) unless it succeeds, resolving with its stdout; `world.apply(ns, object)`
 * is `kubectl apply -f` of the object; `world.freshImage()` pushes a tag no pod has pulled yet (the node keeps what
 * it pulled, and an IfNotPresent pod whose image is there runs whatever its credentials).
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import {startApiEmulator, runKubectl, type ApiEmulator, type KubectlResult} from './apiEmulator/index.ts';
import {startContainerd, type Containerd} from './containerd/index.ts';
import {startNode, type NodeOptions, type TestNode} from './node/index.ts';
import {startRegistry, type StartRegistryOptions, type TestRegistry} from './registry/index.ts';

export type World = {
  api: ApiEmulator;
  containerd: Containerd;
  node: TestNode;
  registry: TestRegistry;
  /** Starts another registry that containerd trusts too. */
  addRegistry(options: StartRegistryOptions): Promise<TestRegistry>;
  kubectl(args: string[], opts?: {stdin?: string}): Promise<KubectlResult>;
  kubectlOk(...args: string[]): Promise<string>;
  apply(namespace: string, object: unknown): Promise<void>;
  /** `<registry>/<repository>:<new tag>`, pushed to the world's first registry. */
  freshImage(repository?: string): Promise<string>;
  stop(): Promise<void>;
};

export async function startWorld(options: {registry?: StartRegistryOptions; backoff?: {initialMs?: number; maxMs?: number}; node?: Pick<NodeOptions, `imagePullCredentialsVerificationPolicy`>} = {}): Promise<World> {
  const registries: TestRegistry[] = [];
  const tmp = fs.mkdtempSync(path.join(os.tmpdir(), `test-world-`));
  let counter = 0;
  let api: ApiEmulator | undefined;
  let containerd: Containerd | undefined;
  let node: TestNode | undefined;
  const stop = async () => {
    await node?.stop();
    await containerd?.stop();
    await api?.stop();
    for (const registry of registries)
      await registry.stop();
    fs.rmSync(tmp, {recursive: true, force: true});
  };
  try {
    api = await startApiEmulator({controllers: true});
    containerd = await startContainerd();
    const started = containerd;
    const addRegistry = async (registryOptions: StartRegistryOptions) => {
      const registry = await startRegistry(registryOptions);
      registries.push(registry);
      started.trustRegistry(registry);
      return registry;
    };
    const registry = await addRegistry(options.registry ?? {mode: `token`});
    node = startNode({api, containerd, backoff: options.backoff ?? {initialMs: 300, maxMs: 1200}, ...options.node});
    const kubeconfig = api.kubeconfigPath;
    const kubectl = (args: string[], opts: {stdin?: string} = {}) => runKubectl(args, {kubeconfig, stdin: opts.stdin});
    const kubectlOk = async (...args: string[]) => {
      const result = await kubectl(args);
      if (result.code !== 0)
        throw new Error(`kubectl ${args.join(` `)} exited ${result.code}: ${result.stderr}`);
      return result.stdout;
    };
    const apply = async (namespace: string, object: unknown) => {
      const file = path.join(tmp, `${++counter}.json`);
      fs.writeFileSync(file, JSON.stringify(object));
      await kubectlOk(`apply`, `-f`, file, `-n`, namespace);
    };
    const freshImage = async (repository = `team/app`) => {
      const tag = `fresh-${++counter}`;
      await registry.push(repository, tag);
      return `${registry.host}/${repository}:${tag}`;
    };
    return {api, containerd, node, registry, addRegistry, kubectl, kubectlOk, apply, freshImage, stop};
  } catch (error) {
    await stop();
    throw error;
  }
}
