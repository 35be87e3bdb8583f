import {PullSecretError} from '../../core/errors.ts';
import type {ClusterSession, ClusterTarget} from '../../core/ports.ts';

/** Opens a cluster session (kubeconfig resolution like kubectl). Implemented in the kube adapter work. */
export async function connectCluster(_target: ClusterTarget): Promise<ClusterSession> {
  throw new PullSecretError(`cluster access is not built yet`);
}
