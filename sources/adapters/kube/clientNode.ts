/**
 * The one place that imports @kubernetes/client-node. `credentials.ts` loads this module with a
 * dynamic `import()` only when a session is opened, so `--help`, `version` and client-side dry runs
 * never pay for client-node (esbuild turns the import into a lazy initializer inside the bundle).
 */
export {KubeConfig} from '@kubernetes/client-node';
