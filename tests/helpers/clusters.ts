/**
 * Small helpers for tests that need several clusters or an address nothing answers on.
 */
import fs from 'node:fs';
import net from 'node:net';
import type {ApiEmulator} from './apiEmulator/index.ts';

/** A loopback port nothing listens on: bound, then released (also what a server about to start can take). */
export async function closedPort(): Promise<number> {
  const server = net.createServer();
  await new Promise<void>((resolve, reject) => {
    server.once(`error`, reject);
    server.listen(0, `127.0.0.1`, resolve);
  });
  const {port} = server.address() as net.AddressInfo;
  await new Promise<void>(resolve => server.close(() => resolve()));
  return port;
}

/**
 * Writes a kubeconfig with contexts `east` and `west` (each emulator's admin) and `down` (a closed port
 * with east's credentials), current context `east`; `extra` adds users and contexts (on those clusters).
 */
export async function writeEastWestKubeconfig(file: string, east: ApiEmulator, west: ApiEmulator, extra: {users?: Array<Record<string, unknown>>; contexts?: Array<Record<string, unknown>>} = {}): Promise<void> {
  const cluster = (api: ApiEmulator, server = api.url) => ({server, 'certificate-authority-data': Buffer.from(api.caPem, `utf8`).toString(`base64`)});
  const config = {
    apiVersion: `v1`,
    kind: `Config`,
    clusters: [
      {name: `east`, cluster: cluster(east)},
      {name: `west`, cluster: cluster(west)},
      {name: `down`, cluster: cluster(east, `https://127.0.0.1:${await closedPort()}`)},
    ],
    users: [
      {name: `east-admin`, user: {token: east.tokens.admin}},
      {name: `west-admin`, user: {token: west.tokens.admin}},
      ...(extra.users ?? []),
    ],
    contexts: [
      {name: `east`, context: {cluster: `east`, user: `east-admin`}},
      {name: `west`, context: {cluster: `west`, user: `west-admin`}},
      {name: `down`, context: {cluster: `down`, user: `east-admin`}},
      ...(extra.contexts ?? []),
    ],
    'current-context': `east`,
  };
  fs.writeFileSync(file, JSON.stringify(config), {mode: 0o600});
}

/**
 * Seeds `namespace` with a pull secret `regcred` holding `username`/`password` for `registryHost`, referenced by the
 * namespace's `default` ServiceAccount: the world in which that namespace's pods pull from the registry.
 */
export function seedRegcred(api: ApiEmulator, namespace: string, registryHost: string, username: string, password: string): void {
  api.seed.namespace(namespace);
  api.seed.secret(namespace, {metadata: {name: `regcred`}, type: `kubernetes.io/dockerconfigjson`, data: {'.dockerconfigjson': Buffer.from(JSON.stringify({auths: {[registryHost]: {username, password}}})).toString(`base64`)}});
  api.seed.serviceAccount(namespace, `default`, {imagePullSecrets: [`regcred`]});
}

/**
 * Writes an executable that runs this checkout's CLI with the pinned Node, standing in for the release binary where
 * building one would cost minutes (an archive's `kubectl-pullsecret`, the plugin on PATH).
 */
export function writePluginLauncher(file: string, root: string): void {
  fs.writeFileSync(file, `#!/bin/sh\nexec '${root}/node_modules/.bin/node' '${root}/sources/main.ts' "$@"\n`, {mode: 0o755});
}
