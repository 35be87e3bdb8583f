/**
 * In-cluster configuration as client-go's `rest.InClusterConfig` builds it, for every command run inside a
 * pod without a kubeconfig: the API server at `https://$KUBERNETES_SERVICE_HOST:$KUBERNETES_SERVICE_PORT`,
 * trusted with the ServiceAccount's `ca.crt`, authenticated with its `token`, in the pod's namespace
 * (`POD_NAMESPACE`, else the `namespace` file, else `default`). The token is projected by the kubelet and
 * rotated in place: it is read again whenever the file changes (and after a 401), never cached for good.
 *
 * The ServiceAccount directory comes from the caller (`ClusterTarget.serviceAccountDir`, set by main.ts to
 * /var/run/secrets/kubernetes.io/serviceaccount), so that tests point it at a directory of their own.
 * The token is never logged.
 */
import {INPUT_CAPS, readBoundedFileSync} from '../local/files.ts';
import fs from 'node:fs';
import path from 'node:path';
import {PullSecretError} from '../../core/errors.ts';
import type {Credentials, RequestCredentials} from './credentials.ts';
import {describeFsError} from './kubeconfig.ts';
import type {ResolvedContext} from './kubeconfig.ts';

/** The context name sessions report when they run with the in-cluster configuration. */
export const IN_CLUSTER_CONTEXT = `in-cluster`;

/** True when the environment says we run in a pod (both service variables set) and a ServiceAccount directory is known. */
export function inClusterAvailable(env: Record<string, string | undefined>, serviceAccountDir: string | undefined): boolean {
  return serviceAccountDir !== undefined && Boolean(env.KUBERNETES_SERVICE_HOST) && Boolean(env.KUBERNETES_SERVICE_PORT);
}

/** The server URL: an IPv6 host is bracketed, as Go's net.JoinHostPort does. */
function serverUrl(host: string, port: string): string {
  return `https://${host.includes(`:`) && !host.startsWith(`[`) ? `[${host}]` : host}:${port}`;
}

function readRequired(file: string, what: string): Buffer {
  try {
    return readBoundedFileSync(file, INPUT_CAPS.pem, `the ServiceAccount ${what} ${file}`);
  } catch (error) {
    if (error instanceof PullSecretError)
      throw error;
    throw new PullSecretError(`no kubeconfig found, and the in-cluster configuration cannot be used: cannot read the ServiceAccount ${what} ${file}: ${describeFsError(error)}; pass --kubeconfig, or mount the ServiceAccount token (automountServiceAccountToken)`, {cause: error});
  }
}

/** The resolved context and credentials of the in-cluster configuration; throws one-line errors naming the missing file. */
export function resolveInCluster(env: Record<string, string | undefined>, serviceAccountDir: string, namespaceFlag: string | undefined): {resolved: ResolvedContext; credentials: Credentials} {
  const tokenFile = path.join(serviceAccountDir, `token`);
  const caFile = path.join(serviceAccountDir, `ca.crt`);
  const ca = readRequired(caFile, `CA certificate`);
  let namespace = namespaceFlag;
  if (namespace === undefined || namespace === ``) {
    namespace = env.POD_NAMESPACE;
    if (namespace === undefined || namespace === ``) {
      try {
        namespace = readBoundedFileSync(path.join(serviceAccountDir, `namespace`), INPUT_CAPS.pem, `the ServiceAccount namespace file`).toString(`utf8`).trim();
      } catch {
        namespace = ``;
      }
    }
    if (namespace === ``)
      namespace = `default`;
  }
  const token = new RotatingToken(tokenFile);
  const first = token.read();
  const server = serverUrl(env.KUBERNETES_SERVICE_HOST!, env.KUBERNETES_SERVICE_PORT!);
  const resolved: ResolvedContext = {
    contextName: IN_CLUSTER_CONTEXT,
    namespace,
    namespaceExplicit: namespaceFlag !== undefined && namespaceFlag !== ``,
    cluster: {name: IN_CLUSTER_CONTEXT, server, ca, insecureSkipTlsVerify: false, origin: serviceAccountDir},
    user: {name: `serviceaccount`, user: {}, origin: serviceAccountDir},
    files: [`in-cluster configuration (${serviceAccountDir})`],
  };
  const toRequest = (value: string): RequestCredentials => ({
    headers: {Authorization: `Bearer ${value}`},
    // After a 401 the kubelet may just have rotated the token: read the file again and retry once.
    renew: async () => ({headers: {Authorization: `Bearer ${token.read(true)}`}}),
  });
  return {
    resolved,
    credentials: {current: async () => toRequest(token.read()), initial: toRequest(first), kind: `in-cluster ServiceAccount token`},
  };
}

/** A token file read again whenever it changes (the kubelet swaps a symlink when it rotates the token). */
class RotatingToken {
  readonly #file: string;
  #stamp = ``;
  #value = ``;

  constructor(file: string) {
    this.#file = file;
  }

  /** The current token; `force` reads the file even when it looks unchanged. */
  read(force = false): string {
    let stamp: string;
    try {
      const stat = fs.statSync(this.#file);
      stamp = `${stat.ino}:${stat.size}:${stat.mtimeMs}`;
    } catch (error) {
      if (this.#value !== ``)
        return this.#value;
      readRequired(this.#file, `token`);
      throw error;
    }
    if (force || stamp !== this.#stamp || this.#value === ``) {
      const value = readRequired(this.#file, `token`).toString(`utf8`).trim();
      if (value === ``)
        throw new PullSecretError(`the ServiceAccount token ${this.#file} is empty`);
      this.#value = value;
      this.#stamp = stamp;
    }
    return this.#value;
  }
}
