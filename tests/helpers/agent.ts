/**
 * Runs `kubectl pullsecret agent` for tests: in-process (runCli, stopped through the context's shutdown
 * signal, as SIGTERM does) or as a child process (`node sources/main.ts agent`, which a test can SIGKILL).
 * Metrics are read over HTTP from the address the agent serves.
 */
import {spawn} from 'node:child_process';
import type {ChildProcess} from 'node:child_process';
import path from 'node:path';
import {closedPort} from './clusters.ts';
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

/** Starts the agent as a child process (`node sources/main.ts agent …`). */
export async function startAgentProcess(kubeconfig: string, identity: string, flags: string[] = []): Promise<ChildAgent> {
  const port = await closedPort();
  const address = `127.0.0.1:${port}`;
  const main = path.resolve(import.meta.dirname, `..`, `..`, `sources`, `main.ts`);
  const child = spawn(process.execPath, [main, `agent`, `--kubeconfig`, kubeconfig, `--listen-address`, address, `--lease-namespace`, `default`, `--identity`, identity, ...flags], {stdio: [`ignore`, `ignore`, `pipe`], env: {PATH: process.env.PATH}});
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
