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
 * `world.kubectl(args, {stdin})` runs the real kubectl against the emulator (admin context).
 */
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
  stop(): Promise<void>;
};

export async function startWorld(options: {registry?: StartRegistryOptions; backoff?: {initialMs?: number; maxMs?: number}; node?: Pick<NodeOptions, `imagePullCredentialsVerificationPolicy`>} = {}): Promise<World> {
  const registries: TestRegistry[] = [];
  let api: ApiEmulator | undefined;
  let containerd: Containerd | undefined;
  let node: TestNode | undefined;
  const stop = async () => {
    await node?.stop();
    await containerd?.stop();
    await api?.stop();
    for (const registry of registries)
      await registry.stop();
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
    return {api, containerd, node, registry, addRegistry, kubectl: (args, opts = {}) => runKubectl(args, {kubeconfig, stdin: opts.stdin}), stop};
  } catch (error) {
    await stop();
    throw error;
  }
}
