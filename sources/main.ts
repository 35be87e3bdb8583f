// The composition root: the only file that touches `process` and picks the concrete adapters.
import os from 'node:os';
import path from 'node:path';
import {runPullSecret} from './cli.ts';
import {pluginArguments} from './overview.ts';
import {exitWhenWritten, stdoutWriter} from './exit.ts';
import {fdReader, fdWriter} from './adapters/local/stdio.ts';
import type {PullSecretContext} from './context.ts';
import type {WarmUpTls} from './warmup.ts';

/** Runs the plugin with this process's arguments, environment and stdio. */
export function main(): void {
  // Node's stdio streams (and node:tty, node:net and the stream modules with them) are created only when a command
  // needs one (adapters/local/stdio.ts); a closed stdout (`| head`) ends the process quietly either way.
  const stdout = stdoutWriter();
  const stderr = fdWriter(2, {stream: () => process.stderr});
  const context: PullSecretContext = {
    env: process.env,
    stdin: fdReader(0, {stream: () => process.stdin}),
    stdout,
    stderr,
    colorDepth: stdout.isTTY && process.env.NO_COLOR === undefined ? stdout.getColorDepth() : 1,
    homedir: os.homedir(),
    cwd: process.cwd(),
    nodeVersion: process.version,
    // The network adapters (and node:https, node:tls, node:crypto with them) load on first use, so that
    // commands that need neither a cluster nor a registry start as fast as kubectl.
    connectCluster: async target => (await import('./adapters/kube/connect.ts')).connectCluster(target, {sleep: context.sleep, random: context.random}),
    makeRegistryProbe: async options => (await import('./adapters/registry/probe.ts')).makeRegistryProbe(options),
    // Like the network adapters, the child-process adapters (and node:child_process) load on first use.
    runCredentialHelper: async (...args) => (await import('./adapters/local/credentialHelper.ts')).runCredentialHelper(...args),
    runPasswordCommand: async (...args) => (await import('./adapters/local/passwordCommand.ts')).runPasswordCommand(...args),
    // Where the kubelet mounts the pod's ServiceAccount token (client-go's rest.InClusterConfig reads the same).
    serviceAccountDir: `/var/run/secrets/kubernetes.io/serviceaccount`,
    now: () => new Date(),
    shutdownSignal: () => {
      const controller = new AbortController();
      for (const signal of [`SIGTERM`, `SIGINT`] as const)
        process.once(signal, () => controller.abort());
      return controller.signal;
    },
    sleep: ms => new Promise(resolve => setTimeout(resolve, ms)),
    random: Math.random,
  };

  const argv = pluginArguments(path.basename(process.argv[1] ?? ``), process.argv.slice(2));

  runPullSecret(argv, context).then(code => exitWhenWritten(code, [stdout.started, stderr.started]), error => {
    stderr.write(`error: ${error instanceof Error ? error.message : String(error)}\n`);
    process.exitCode = 1;
  });
}

/**
 * The build's code-cache warm-up (scripts/lib/codeCache.ts): runs one cache's commands in memory so that V8 has
 * compiled their code when the cache is written. Loaded only then.
 */
export async function warmUp(group?: string, tls?: WarmUpTls): Promise<void> {
  // The default cache holds what evaluating the bundle compiles, and nothing of the warm-up module.
  if (group !== undefined)
    await (await import('./warmup.ts')).warmUp(group, tls);
}

// `node sources/main.ts` runs the plugin. The single executable evaluates the bundle of this module and calls
// `main` itself (sources/seaMain.ts); the build's code-cache warm-up calls `warmUp` instead.
if (import.meta.main)
  main();
