/**
 * What the single executable runs in place of `clientNode.ts` (scripts/lib/sea.ts swaps it in when bundling).
 * @kubernetes/client-node and its dependencies are about 1.4 MB of the 1.9 MB of code, and only kubeconfig users
 * with an auth-provider need them: in the binary they are a separate bundle stored in the executable as a SEA asset
 * and compiled on first use, so that no other command reads, compiles or caches them (measured when the binary had a
 * start-up snapshot: 5-6 MB less peak memory and about 5 ms less CPU for every command, --help included).
 */
import {getAsset} from 'node:sea';
import type * as ClientNode from './clientNode.ts';

/** The asset's key; scripts/lib/sea.ts (CLIENT_NODE_ASSET) stores the bundle under this name. */
const ASSET = `client-node.cjs`;

/** Evaluates the CommonJS bundle of clientNode.ts; it needs only Node's built-in modules. */
function load(): typeof ClientNode {
  const source = getAsset(ASSET, `utf8`);
  const module = {exports: {} as Record<string, unknown>};
  const requireBuiltin = (id: string): unknown => {
    const builtin = process.getBuiltinModule(id);
    if (builtin === undefined)
      throw Object.assign(new Error(`Cannot find module '${id}'`), {code: `MODULE_NOT_FOUND`});
    return builtin;
  };
  // eslint-disable-next-line @typescript-eslint/no-implied-eval -- the asset is our own bundle, built with the binary
  new Function(`module`, `exports`, `require`, source)(module, module.exports, requireBuiltin);
  return module.exports as unknown as typeof ClientNode;
}

export const {KubeConfig} = load();
