// The composition root: the only file that touches `process` and picks the concrete adapters.
import os from 'node:os';
import path from 'node:path';
import v8 from 'node:v8';
import {runPullSecret} from './cli.ts';
import type {PullSecretContext} from './context.ts';
import {runCredentialHelper} from './adapters/local/credentialHelper.ts';
import {runPasswordCommand} from './adapters/local/passwordCommand.ts';
import {warmUp} from './warmup.ts';

/** Runs the plugin with this process's arguments, environment and stdio. */
function main(): void {
  const context: PullSecretContext = {
    env: process.env,
    stdin: process.stdin,
    stdout: process.stdout,
    stderr: process.stderr,
    colorDepth: process.stdout.isTTY && process.env.NO_COLOR === undefined ? process.stdout.getColorDepth() : 1,
    homedir: os.homedir(),
    cwd: process.cwd(),
    nodeVersion: process.version,
    // The network adapters (and node:https, node:tls, node:crypto with them) load on first use, so that
    // commands that need neither a cluster nor a registry start as fast as kubectl.
    connectCluster: async target => (await import('./adapters/kube/connect.ts')).connectCluster(target, {sleep: context.sleep, random: context.random}),
    makeRegistryProbe: async options => (await import('./adapters/registry/probe.ts')).makeRegistryProbe(options),
    runCredentialHelper,
    runPasswordCommand,
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

  // Writing to a closed pipe (`| head`) must not crash with EPIPE.
  process.stdout.on(`error`, error => {
    if ((error as NodeJS.ErrnoException).code === `EPIPE`)
      process.exit(process.exitCode ?? 0);
  });

  // kubectl runs `kubectl_complete-pullsecret <args…>` (a symlink to this binary) to complete `kubectl pullsecret …`.
  const invokedAs = path.basename(process.argv[1] ?? ``).replace(/\.(exe|cmd)$/i, ``);
  const argv = invokedAs === `kubectl_complete-pullsecret` ? [`__complete`, ...process.argv.slice(2)] : process.argv.slice(2);

  runPullSecret(argv, context).then(code => {
    process.exitCode = code;
  }, error => {
    process.stderr.write(`error: ${error instanceof Error ? error.message : String(error)}\n`);
    process.exitCode = 1;
  });
}

// The single executable is built from a V8 startup snapshot (scripts/lib/sea.ts): the bundle's modules
// are evaluated and warmed up at build time and `main` runs after the snapshot is deserialized, so
// nothing may read `process` (stdio, env, argv, cwd) at module level, and the context must reach
// clipanion explicitly (its `Cli.defaultContext` holds the build's stdio). Everywhere else
// (`node sources/main.ts`, tests, a code-cache blob) `main` simply runs now.
if (v8.startupSnapshot.isBuildingSnapshot()) {
  v8.startupSnapshot.setDeserializeMainFunction(main);
  // The snapshot is taken once the event loop is empty, after the warm-up; its rejection fails the build.
  void warmUp();
} else {
  main();
}
