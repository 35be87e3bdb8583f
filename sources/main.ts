// The composition root: the only file that touches `process` and picks the concrete adapters.
import os from 'node:os';
import path from 'node:path';
import {runPullSecret} from './cli.ts';
import type {PullSecretContext} from './context.ts';
import {runCredentialHelper} from './adapters/local/credentialHelper.ts';

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
  connectCluster: async target => (await import('./adapters/kube/connect.ts')).connectCluster(target),
  makeRegistryProbe: async options => (await import('./adapters/registry/probe.ts')).makeRegistryProbe(options),
  runCredentialHelper,
  now: () => new Date(),
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
