/**
 * The one place that imports @kubernetes/client-node. `credentials.ts` loads this module with a
 * dynamic `import()` only for a kubeconfig user with an `auth-provider` (gcp, azure, oidc): every other
 * user (tokens, certificates, exec plugins) and every command without a cluster never pay for
 * client-node (esbuild turns the import into a lazy initializer inside the bundle).
 */
export {KubeConfig} from '@kubernetes/client-node';
