import {PassThrough, Readable} from 'node:stream';
import os from 'node:os';
import {runPullSecret} from '../../sources/cli.ts';
import type {PullSecretContext} from '../../sources/context.ts';
import {connectCluster} from '../../sources/adapters/kube/connect.ts';
import {makeRegistryProbe} from '../../sources/adapters/registry/probe.ts';
import {runCredentialHelper} from '../../sources/adapters/local/credentialHelper.ts';
import {runPasswordCommand} from '../../sources/adapters/local/passwordCommand.ts';

export type CliResult = {code: number; stdout: string; stderr: string};

/**
 * Runs the CLI in-process with captured streams and the real adapters. The environment is
 * hermetic: only what the test passes in `env` is visible (clipanion would otherwise merge process.env).
 */
export async function runCli(argv: string[], options: {env?: Record<string, string | undefined>; stdin?: string | Buffer; stdinIsTTY?: boolean; home?: string; cwd?: string; context?: Partial<PullSecretContext>} = {}): Promise<CliResult> {
  const stdout = new PassThrough();
  const stderr = new PassThrough();
  const out: Buffer[] = [];
  const err: Buffer[] = [];
  stdout.on(`data`, chunk => out.push(chunk));
  stderr.on(`data`, chunk => err.push(chunk));
  const stdin = Object.assign(Readable.from(options.stdin === undefined ? [] : [Buffer.from(options.stdin)]), {isTTY: options.stdinIsTTY ?? false});
  const context: PullSecretContext = {
    env: options.env ?? {},
    stdin,
    stdout: Object.assign(stdout, {isTTY: false}),
    stderr: Object.assign(stderr, {isTTY: false}),
    colorDepth: 1,
    homedir: options.home ?? os.tmpdir(),
    cwd: options.cwd ?? process.cwd(),
    nodeVersion: process.version,
    connectCluster,
    makeRegistryProbe: async options => makeRegistryProbe(options),
    runCredentialHelper,
    runPasswordCommand,
    now: () => new Date(),
    sleep: ms => new Promise(resolve => setTimeout(resolve, ms)),
    random: Math.random,
    ...options.context,
  };
  const code = await runPullSecret(argv, context);
  stdout.end();
  stderr.end();
  return {code, stdout: Buffer.concat(out).toString(`utf8`), stderr: Buffer.concat(err).toString(`utf8`)};
}
