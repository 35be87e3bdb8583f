/**
 * Real containerd for the test world: Debian's `containerd` (1.6.x) run as root inside a temp directory
 * (its own root, state, gRPC socket; no system service, no system path), with the CRI plugin on, the
 * `native` snapshotter (no overlayfs needed: only pulls happen) and a `certs.d` directory of hosts.toml
 * files that point it at loopback registries (plain HTTP, or TLS with the test CA).
 *
 *   const containerd = await startContainerd();
 *   t.after(() => containerd.stop());
 *   containerd.trustRegistry(registry);                       // writes certs.d/<host>/hosts.toml
 *   const ref = await containerd.pull(`${registry.host}/demo/app:v1`, {username, password});   // CRI PullImage
 *   await containerd.imageStatus(image)                        // CRI ImageStatus: {id} or undefined
 *   await containerd.removeImage(image)
 *
 * `pull` rejects with a `CriError` whose `message` is what a Go gRPC client prints
 * (`rpc error: code = Unknown desc = failed to pull and unpack image …`), which the kubelet puts after
 * `Failed to pull image "R": `. The CRI client is @grpc/grpc-js with the hand-written ./cri.proto.
 * The daemon runs under an sh watchdog and is stopped by PID (SIGTERM) in `stop()`, or when this
 * process dies (the watchdog sees its stdin close).
 */
import {execFileSync} from 'node:child_process';
import type {ChildProcess} from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import {fileURLToPath} from 'node:url';
import * as grpc from '@grpc/grpc-js';
import * as protoLoader from '@grpc/proto-loader';
import {startWatched, stopWatched} from '../watchedProcess.ts';

/** The credential fields of one CRI `AuthConfig` (what the kubelet sends for one credential). */
export type CriAuth = {username?: string; password?: string; auth?: string; serverAddress?: string; identityToken?: string; registryToken?: string};

/** A registry containerd should reach: `host` as written in image references, `url` with the scheme, `caFile` for TLS. */
export type RegistryEndpoint = {host: string; url: string; caFile?: string};

export type ImageInfo = {id: string; repoTags: string[]; repoDigests: string[]; size: number};

export type Containerd = {
  /** `unix://…/containerd.sock`. */
  address: string;
  /** containerd's own log (for failure messages). */
  logFile: string;
  /** Writes `certs.d/<host>/hosts.toml` so pulls of `<host>/…` go to `url` (trusting `caFile` over TLS). */
  trustRegistry(registry: RegistryEndpoint): void;
  /** CRI `ImageService/PullImage`; resolves with the image ref (`sha256:…`), rejects with a `CriError`. */
  pull(image: string, auth?: CriAuth): Promise<string>;
  /** CRI `ImageService/ImageStatus`: the image's id when present on the node, else undefined. */
  imageStatus(image: string): Promise<ImageInfo | undefined>;
  /** CRI `ImageService/RemoveImage`. */
  removeImage(image: string): Promise<void>;
  stop(): Promise<void>;
};

/** A failed CRI call, worded as a Go gRPC client prints it. */
export class CriError extends Error {
  readonly code: string;
  readonly details: string;
  constructor(code: string, details: string) {
    super(`rpc error: code = ${code} desc = ${details}`);
    this.code = code;
    this.details = details;
  }
}

const PROTO = path.join(path.dirname(fileURLToPath(import.meta.url)), `cri.proto`);
const GRPC_CODE_NAMES: Record<number, string> = Object.fromEntries(Object.entries(grpc.status).filter(([, v]) => typeof v === `number`).map(([k, v]) => [v as number, k.split(`_`).map(w => w[0] + w.slice(1).toLowerCase()).join(``)]));
GRPC_CODE_NAMES[grpc.status.OK] = `OK`;

/** Throws a clear message when containerd is missing or we are not root. */
export function requireContainerd(): void {
  try {
    execFileSync(`sh`, [`-c`, `command -v containerd`], {stdio: `ignore`});
  } catch {
    throw new Error(`containerd is not installed: run \`apt-get install -y containerd\` (as .ci/run does)`);
  }
  if (process.getuid?.() !== 0)
    throw new Error(`containerd runs only as root here (the test world starts its own daemon in a temp directory)`);
}

function configToml(dir: string): string {
  return [
    `version = 2`,
    `root = "${dir}/root"`,
    `state = "${dir}/state"`,
    `disabled_plugins = ["io.containerd.snapshotter.v1.btrfs", "io.containerd.snapshotter.v1.zfs", "io.containerd.snapshotter.v1.devmapper", "io.containerd.snapshotter.v1.aufs"]`,
    `[grpc]`,
    `  address = "${dir}/containerd.sock"`,
    `[ttrpc]`,
    `  address = "${dir}/containerd.sock.ttrpc"`,
    `[plugins."io.containerd.internal.v1.opt"]`,
    `  path = "${dir}/opt"`,
    `[plugins."io.containerd.grpc.v1.cri"]`,
    `  disable_tcp_service = true`,
    `  stream_server_address = "127.0.0.1"`,
    `  stream_server_port = "0"`,
    `  [plugins."io.containerd.grpc.v1.cri".containerd]`,
    `    snapshotter = "native"`,
    `  [plugins."io.containerd.grpc.v1.cri".cni]`,
    `    bin_dir = "${dir}/cni/bin"`,
    `    conf_dir = "${dir}/cni/conf"`,
    `  [plugins."io.containerd.grpc.v1.cri".registry]`,
    `    config_path = "${dir}/certs.d"`,
    ``,
  ].join(`\n`);
}

type Clients = {runtime: any; image: any};

function makeClients(address: string): Clients {
  const definition = protoLoader.loadSync(PROTO, {keepCase: false, longs: String, defaults: true});
  const pkg = grpc.loadPackageDefinition(definition) as any;
  const credentials = grpc.credentials.createInsecure();
  return {runtime: new pkg.runtime.v1.RuntimeService(address, credentials), image: new pkg.runtime.v1.ImageService(address, credentials)};
}

function call<T>(client: any, method: string, request: unknown, timeoutMs: number): Promise<T> {
  return new Promise((resolve, reject) => {
    client[method](request, {deadline: Date.now() + timeoutMs}, (error: grpc.ServiceError | null, response: T) => {
      if (error)
        reject(new CriError(GRPC_CODE_NAMES[error.code] ?? String(error.code), error.details ?? error.message));
      else
        resolve(response);
    });
  });
}

async function waitReady(clients: Clients, child: ChildProcess, logFile: string): Promise<void> {
  const deadline = Date.now() + 30_000;
  while (Date.now() < deadline) {
    if (child.exitCode !== null || child.signalCode !== null)
      break;
    try {
      await call(clients.runtime, `version`, {version: `v1`}, 1000);
      return;
    } catch {
      await new Promise(resolve => setTimeout(resolve, 50));
    }
  }
  throw new Error(`containerd did not answer CRI Version within 30 s; log: ${fs.readFileSync(logFile, `utf8`).slice(-2000)}`);
}

function hostsToml(registry: RegistryEndpoint): string {
  // The `[host]` entry is tried first; on a 404 containerd falls back to `server`, so both carry the CA.
  const ca = registry.caFile !== undefined ? [`ca = "${registry.caFile}"`] : [];
  const lines = [`server = "${registry.url}"`, ...ca, ``, `[host."${registry.url}"]`, `  capabilities = ["pull", "resolve"]`, ...ca.map(line => `  ${line}`)];
  return `${lines.join(`\n`)}\n`;
}

/** Starts containerd in a temp directory and waits until its CRI service answers. */
export async function startContainerd(options: {registries?: RegistryEndpoint[]} = {}): Promise<Containerd> {
  requireContainerd();
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), `pullsecret-containerd-`));
  const configFile = path.join(dir, `config.toml`);
  const logFile = path.join(dir, `containerd.log`);
  fs.mkdirSync(path.join(dir, `certs.d`));
  fs.writeFileSync(configFile, configToml(dir));
  const log = fs.openSync(logFile, `w`);
  const child = startWatched(`containerd --config`, configFile, log);
  fs.closeSync(log);
  const address = `unix://${dir}/containerd.sock`;
  const clients = makeClients(address);
  let stopped = false;
  const stop = async () => {
    if (stopped)
      return;
    stopped = true;
    clients.runtime.close();
    clients.image.close();
    await stopWatched(child, 5000);
    // containerd may leave read-only snapshot directories and mounts of nothing; remove what we can.
    fs.rmSync(dir, {recursive: true, force: true, maxRetries: 3});
  };
  try {
    await waitReady(clients, child, logFile);
  } catch (error) {
    await stop();
    throw error;
  }
  const trustRegistry = (registry: RegistryEndpoint) => {
    const hostDir = path.join(dir, `certs.d`, registry.host);
    fs.mkdirSync(hostDir, {recursive: true});
    fs.writeFileSync(path.join(hostDir, `hosts.toml`), hostsToml(registry));
  };
  for (const registry of options.registries ?? [])
    trustRegistry(registry);
  return {
    address,
    logFile,
    trustRegistry,
    async pull(image, auth) {
      const response = await call<{imageRef: string}>(clients.image, `pullImage`, {image: {image}, ...(auth ? {auth} : {})}, 120_000);
      return response.imageRef;
    },
    async imageStatus(image) {
      const response = await call<{image?: {id: string; repoTags: string[]; repoDigests: string[]; size: string} | null}>(clients.image, `imageStatus`, {image: {image}}, 30_000);
      const found = response.image;
      return found && found.id ? {id: found.id, repoTags: found.repoTags, repoDigests: found.repoDigests, size: Number(found.size)} : undefined;
    },
    async removeImage(image) {
      await call(clients.image, `removeImage`, {image: {image}}, 30_000);
    },
    stop,
  };
}
