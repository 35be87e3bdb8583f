// The build's code-cache warm-up (scripts/lib/codeCache.ts, sources/main.ts `warmUp`). V8 compiles a function the
// first time it runs; a code cache written after the warm-up holds the bytecode of every function it ran, so the
// single executable starts those commands without compiling them. Only bytecode is kept, never the heap: what the
// warm-up reads or builds does not reach the binary. Each function kept costs every start a little
// deserialization, so only the commands people run all day are warmed: add, decode and list.
import fs from 'node:fs';
import {createServer} from 'node:http';
import type {IncomingMessage, ServerResponse} from 'node:http';
import type {Socket} from 'node:net';
import os from 'node:os';
import path from 'node:path';
import {Writable} from 'node:stream';
import {runPullSecret} from './cli.ts';
import {fdReader, fdWriter} from './adapters/local/stdio.ts';
import type {PullSecretContext} from './context.ts';
import {ExitCode} from './core/errors.ts';
import type {KubeObject} from './core/ports.ts';

/**
 * The warm-up runs of each code cache (sources/bundleLoader.ts CODE_CACHE_GROUPS): a print-only command, or commands
 * against the made-up cluster below (served on a loopback port), that need no user file, registry or terminal. The
 * default cache (`--help`, `version` and every other command) holds only what evaluating the bundle compiles.
 */
const WARM_UP_RUNS: Record<string, string[][]> = {
  add: [[`add`, `warm-up`, `--docker-server`, `registry.example.com`, `--docker-username`, `user`, `--docker-password-stdin`, `--dry-run=client`, `-o`, `json`]],
  decode: [[`decode`, `warm-up`, `-n`, `warm-up`]],
  list: [[`list`, `-n`, `warm-up`]],
};

/** The made-up namespace the decode and list warm-ups read: a pull secret, a ServiceAccount, a Deployment, a Pod. */
function warmUpObjects(): Array<{resource: string; object: KubeObject}> {
  const auth = {auths: {'registry.example.com': {username: `user`, password: `not-a-password`, auth: `dXNlcjpub3QtYS1wYXNzd29yZA==`}}};
  const metadata = (name: string) => ({name, namespace: `warm-up`, uid: name, creationTimestamp: `2000-01-01T00:00:00Z`, resourceVersion: `1`});
  const podSpec = {imagePullSecrets: [{name: `warm-up`}], containers: [{name: `app`, image: `registry.example.com/team/app:1.0`}]};
  return [
    {resource: `secrets`, object: {apiVersion: `v1`, kind: `Secret`, metadata: metadata(`warm-up`), type: `kubernetes.io/dockerconfigjson`, data: {'.dockerconfigjson': Buffer.from(JSON.stringify(auth)).toString(`base64`)}}},
    {resource: `serviceaccounts`, object: {apiVersion: `v1`, kind: `ServiceAccount`, metadata: metadata(`default`), imagePullSecrets: [{name: `warm-up`}]}},
    {resource: `deployments`, object: {apiVersion: `apps/v1`, kind: `Deployment`, metadata: metadata(`app`), spec: {template: {spec: podSpec}}}},
    {resource: `pods`, object: {apiVersion: `v1`, kind: `Pod`, metadata: metadata(`app-1`), spec: podSpec}},
  ];
}

/**
 * A kubeconfig shaped like the ones clusters hand out (a CA, a bearer token, an exec plugin, two contexts), in the
 * block style that `kubectl config` writes, made up here: the decode and list warm-ups read it (pointed at the
 * made-up cluster), which compiles the fast kubeconfig reader (adapters/kube/blockYaml.ts). It holds no real key or token.
 */
const WARM_UP_KUBECONFIG = `apiVersion: v1
kind: Config
preferences: {}
clusters:
- cluster:
    certificate-authority-data: d2FybS11cA==
    server: https://127.0.0.1:6443
    tls-server-name: warm-up.example
  name: warm-up
contexts:
- context:
    cluster: warm-up
    namespace: default
    user: warm-up
  name: warm-up
- context:
    cluster: warm-up
    user: "exec"
  name: 'other'
current-context: warm-up
users:
- name: warm-up
  user:
    token: not-a-token
- name: exec
  user:
    exec:
      apiVersion: client.authentication.k8s.io/v1
      args:
      - --flag
      command: warm-up
      env: null
      interactiveMode: Never
      provideClusterInfo: true
`;

/** A certificate and key (PEM) for the made-up cluster: the build makes one for the warm-up (scripts/lib/codeCache.ts). */
export type WarmUpTls = {cert: string; key: string};

/**
 * Runs the warm-up of one code cache (undefined: the default one, which runs nothing) against stdio on temporary
 * files (written and read as main.ts's stdio writes and reads them), an empty environment and the made-up cluster,
 * so that the code they use is compiled before the cache is written. With `tls`, the cluster is served over TLS with
 * HTTP/2, as API servers are (the connection code of the kube adapter is then warmed too); without, over plain HTTP.
 * Leaves no file, server, process or clock state behind; throws when a run does not succeed, which fails the build.
 */
export async function warmUp(group?: string, tls?: WarmUpTls): Promise<void> {
  if (group === undefined)
    return;
  const runs = WARM_UP_RUNS[group];
  if (runs === undefined)
    throw new Error(`no warm-up for the code cache "${group}"`);
  const cluster = group === `add` ? undefined : await warmUpCluster(tls);
  try {
    await runWarmUps(runs.map(argv => cluster === undefined ? argv : [...argv, `--kubeconfig`, cluster.kubeconfig]), cluster !== undefined);
  } finally {
    await cluster?.stop();
  }
}

/**
 * The made-up namespace served on a loopback port (over TLS with HTTP/2 and HTTP/1.1 when given a certificate, else
 * plain HTTP), with a kubeconfig for it in a temporary directory: the warm-up then runs the kube adapter itself
 * (kubeconfig, credentials, transport, session), so its code is in the cache too. Only bytecode is kept; the port, the
 * directory, the certificate and the answers are gone with the build's process.
 */
async function warmUpCluster(tls: WarmUpTls | undefined): Promise<{kubeconfig: string; stop: () => Promise<void>}> {
  const objects = warmUpObjects();
  const answer = (request: IncomingMessage, response: ServerResponse) => {
    const parts = new URL(request.url ?? `/`, `http://warm-up`).pathname.split(`/`);
    const at = parts.indexOf(`namespaces`);
    const [namespace, resource, name] = [parts[at + 1], parts[at + 2], parts[at + 3]];
    const matching = objects.filter(entry => entry.resource === resource && entry.object.metadata.namespace === namespace);
    const found = name === undefined ? {kind: `List`, apiVersion: `v1`, metadata: {resourceVersion: `1`}, items: matching.map(entry => entry.object)} : matching.find(entry => entry.object.metadata.name === name)?.object;
    const body = JSON.stringify(found ?? {kind: `Status`, apiVersion: `v1`, status: `Failure`, reason: `NotFound`, code: 404, message: `not found`});
    response.writeHead(found === undefined ? 404 : 200, {'Content-Type': `application/json`});
    response.end(body);
  };
  const server = tls === undefined
    ? createServer(answer)
    : process.getBuiltinModule(`node:http2`).createSecureServer({cert: tls.cert, key: tls.key, allowHTTP1: true}, answer as never);
  const sockets = new Set<Socket>();
  server.on(tls === undefined ? `connection` : `secureConnection`, (socket: Socket) => {
    sockets.add(socket);
    socket.once(`close`, () => sockets.delete(socket));
  });
  await new Promise<void>(resolve => server.listen(0, `127.0.0.1`, resolve));
  const port = (server.address() as {port: number}).port;
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), `pullsecret-warm-up-`));
  const kubeconfig = path.join(dir, `kubeconfig`);
  fs.writeFileSync(kubeconfig, tls === undefined
    // Plain HTTP: no CA (the made-up one is no certificate) and no TLS server name.
    ? WARM_UP_KUBECONFIG.replace(`https://127.0.0.1:6443`, `http://127.0.0.1:${port}`).replace(/^ {4}(certificate-authority-data|tls-server-name): .*\n/gm, ``)
    : WARM_UP_KUBECONFIG.replace(`https://127.0.0.1:6443`, `https://127.0.0.1:${port}`).replace(`d2FybS11cA==`, Buffer.from(tls.cert).toString(`base64`)));
  return {
    kubeconfig,
    stop: async () => {
      for (const socket of sockets)
        socket.destroy();
      await new Promise(resolve => server.close(resolve));
      fs.rmSync(dir, {recursive: true, force: true});
    },
  };
}

async function runWarmUps(runs: string[][], realCluster: boolean): Promise<void> {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), `pullsecret-warm-up-stdio-`));
  try {
    for (const argv of runs)
      await runWarmUp(argv, realCluster, dir);
  } finally {
    fs.rmSync(dir, {recursive: true, force: true});
  }
}

/** One warm-up run; its stdin and stdout are files read and written through main.ts's own stdio (adapters/local/stdio.ts). */
async function runWarmUp(argv: string[], realCluster: boolean, dir: string): Promise<void> {
  const stdinFile = path.join(dir, `stdin`);
  fs.writeFileSync(stdinFile, `password`);
  const [stdinFd, stdoutFd] = [fs.openSync(stdinFile, `r`), fs.openSync(path.join(dir, `stdout`), `w`)];
  try {
    let errors = ``;
    const unavailable = async (): Promise<never> => {
      throw new Error(`not available during the warm-up`);
    };
    const noStream = () => {
      throw new Error(`the warm-up has no stream for this`);
    };
    const context: PullSecretContext = {
      env: {},
      stdin: fdReader(stdinFd, {stream: noStream}),
      stdout: fdWriter(stdoutFd, {stream: noStream}),
      stderr: new Writable({write: (chunk: Buffer, _encoding, done) => { errors += String(chunk); done(); }}),
      colorDepth: 1,
      homedir: `/nonexistent`,
      cwd: `/nonexistent`,
      nodeVersion: `warm-up`,
      connectCluster: realCluster ? async target => (await import('./adapters/kube/connect.ts')).connectCluster(target, {sleep: async () => {}, random: () => 0}) : unavailable,
      makeRegistryProbe: unavailable,
      runCredentialHelper: unavailable,
      runPasswordCommand: unavailable,
      now: () => new Date(0),
      sleep: async () => {},
      random: () => 0,
    };
    const code = await runPullSecret(argv, context);
    if (code !== ExitCode.ok)
      throw new Error(`the start-up warm-up \`${argv.join(` `)}\` exited with ${code}: ${errors.trim()}`);
  } finally {
    fs.closeSync(stdinFd);
    fs.closeSync(stdoutFd);
  }
}
