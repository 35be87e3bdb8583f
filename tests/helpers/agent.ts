/**
 * Runs `kubectl pullsecret agent` for tests: in-process (runCli, stopped through the context's shutdown
 * signal, as SIGTERM does) or as a child process (`node sources/main.ts agent`, which a test can SIGKILL).
 * Metrics are read over HTTP from the address the agent serves.
 */
import {spawn} from 'node:child_process';
import type {ChildProcess} from 'node:child_process';
import path from 'node:path';
import {closedPort} from './clusters.ts';
import type {ApiEmulator} from './apiEmulator/index.ts';
import {runCli} from './runCli.ts';
import type {CliResult} from './runCli.ts';

/** Polls until `check` holds; throws after `ms`. Returns how long it took. */
export async function eventually(what: string, check: () => boolean | Promise<boolean>, ms = 5000, everyMs = 10): Promise<number> {
  const started = Date.now();
  while (!(await check())) {
    if (Date.now() - started > ms)
      throw new Error(`timed out after ${ms}ms waiting: ${what}`);
    await new Promise(resolve => setTimeout(resolve, everyMs));
  }
  return Date.now() - started;
}

/** Reads one metric's value from Prometheus text (NaN when absent). */
export function metricValue(text: string, name: string): number {
  const line = text.split(`\n`).find(candidate => candidate.startsWith(`${name} `));
  return line === undefined ? Number.NaN : Number(line.slice(name.length + 1));
}

export type InProcessAgent = {address: string; metrics(): Promise<string>; stop(): Promise<CliResult>};

/** Starts the agent in this process; `stop()` aborts its shutdown signal and resolves with its output. */
export async function startAgentInProcess(kubeconfig: string, flags: string[] = [], env: Record<string, string> = {PATH: `/usr/bin:/bin`}): Promise<InProcessAgent> {
  const port = await closedPort();
  const address = `127.0.0.1:${port}`;
  const shutdown = new AbortController();
  const running = runCli([`agent`, `--kubeconfig`, kubeconfig, `--listen-address`, address, `--lease-namespace`, `default`, ...flags], {context: {shutdownSignal: () => shutdown.signal}, env});
  let finished: CliResult | undefined;
  void running.then(result => {
    finished = result;
  });
  await eventually(`the agent serves /healthz`, async () => {
    if (finished !== undefined)
      throw new Error(`the agent exited early (${finished.code}): ${finished.stderr}`);
    return fetch(`http://${address}/healthz`).then(response => response.ok, () => false);
  });
  return {
    address,
    metrics: async () => (await fetch(`http://${address}/metrics`)).text(),
    stop: async () => {
      shutdown.abort();
      return running;
    },
  };
}

export type ChildAgent = {child: ChildProcess; address: string; identity: string; stderr(): string; metrics(): Promise<string>; exited: Promise<number | null>};

/** Starts the agent as a child process (`node sources/main.ts agent …`, or `binary agent …`). */
export async function startAgentProcess(kubeconfig: string, identity: string, flags: string[] = [], binary?: string): Promise<ChildAgent> {
  const port = await closedPort();
  const address = `127.0.0.1:${port}`;
  const main = path.resolve(import.meta.dirname, `..`, `..`, `sources`, `main.ts`);
  // The sources under this node, or a built binary (`binary`: the single executable a user runs).
  const [program, ...prefix] = binary === undefined ? [process.execPath, main] : [binary];
  const child = spawn(program!, [...prefix, `agent`, `--kubeconfig`, kubeconfig, `--listen-address`, address, `--lease-namespace`, `default`, `--identity`, identity, ...flags], {stdio: [`ignore`, `ignore`, `pipe`], env: {PATH: process.env.PATH}});
  let stderr = ``;
  child.stderr!.on(`data`, (chunk: Buffer) => {
    stderr += chunk.toString(`utf8`);
  });
  const exited = new Promise<number | null>(resolve => child.on(`exit`, code => resolve(code)));
  let gone = false;
  void exited.then(() => {
    gone = true;
  });
  await eventually(`agent ${identity} serves /healthz`, async () => {
    if (gone)
      throw new Error(`agent ${identity} exited early: ${stderr}`);
    return fetch(`http://${address}/healthz`).then(response => response.ok, () => false);
  }, 20_000, 50);
  return {child, address, identity, stderr: () => stderr, metrics: async () => (await fetch(`http://${address}/metrics`)).text(), exited};
}

/** True when a namespace holds `regcred` and its `default` ServiceAccount references it: a pod there can pull. */
export function pullSecretUsable(api: ApiEmulator, namespace: string, secret = `regcred`): boolean {
  return api.getObject(`secrets`, namespace, secret) !== undefined
    && (api.getObject(`serviceaccounts`, namespace, `default`)?.imagePullSecrets ?? []).some((ref: {name: string}) => ref.name === secret);
}

/**
 * Creates the namespaces (labelled `labels`) at once and measures, for each, the time from its creation to a
 * usable pull secret. Only the namespace an emulator event touches is checked. Resolves with the sorted times (ms).
 */
export async function burstToUsable(api: ApiEmulator, names: string[], labels: Record<string, string>, timeoutMs: number): Promise<number[]> {
  const created = new Map<string, number>();
  const done = new Map<string, number>();
  const stop = api.local.onChange(event => {
    const namespace = event.object.metadata.namespace ?? ``;
    const at = created.get(namespace);
    if (at !== undefined && !done.has(namespace) && pullSecretUsable(api, namespace))
      done.set(namespace, performance.now() - at);
  });
  try {
    for (const name of names) {
      api.seed.namespace(name, {labels});
      created.set(name, performance.now());
    }
    await eventually(`all ${names.length} namespaces are usable`, () => done.size === names.length, timeoutMs, 20);
  } finally {
    stop();
  }
  return [...done.values()].sort((a, b) => a - b);
}
