// The demo proper (started by scripts/demo.mjs under Node 24): build the binary, start the sandbox
// (scripts/sandbox.ts: API emulator with controllers, a token-auth registry, a node pulling through containerd), and walk through the plugin with real
// commands and their real output. Steps whose command does not exist yet are announced and skipped.
import {spawn, spawnSync} from 'node:child_process';
import type {ChildProcess} from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';

const ROOT = path.resolve(import.meta.dirname, `..`);
const DIST = path.join(ROOT, `dist`);
const BINARY = path.join(DIST, `kubectl-pullsecret`);
const SANDBOX_TIMEOUT_MS = 120_000;

const bold = (text: string) => process.stdout.isTTY && process.env.NO_COLOR === undefined ? `\x1b[1m${text}\x1b[0m` : text;
const say = (text = ``) => process.stdout.write(`${text}\n`);

/** What the sandbox printed about its registry, if it did. */
type SandboxInfo = {registry?: string; username?: string; password?: string; output: string};

/** Prints `$ command` and runs it, printing its stdout and stderr; `display` replaces the shown command line (for piped input). */
function show(env: NodeJS.ProcessEnv, argv: string[], options: {input?: string; display?: string} = {}): number {
  say();
  say(bold(`$ ${options.display ?? argv.map(word => /^[\w@%+=:,./-]+$/.test(word) ? word : `'${word.replace(/'/g, `'\\''`)}'`).join(` `)}`));
  const result = spawnSync(argv[0]!, argv.slice(1), {env, input: options.input ?? ``, encoding: `utf8`, timeout: 120_000});
  if (result.error) {
    say(`(could not run ${argv[0]}: ${result.error.message})`);
    return 1;
  }
  for (const text of [result.stdout, result.stderr]) {
    if (text !== ``)
      process.stdout.write(text.endsWith(`\n`) ? text : `${text}\n`);
  }
  if (result.status !== 0)
    say(`(exit code ${result.status})`);
  return result.status ?? 1;
}

function hasCommand(env: NodeJS.ProcessEnv, command: string): boolean {
  return spawnSync(BINARY, [command, `--help`], {env, stdio: `ignore`}).status === 0;
}

/** Starts the sandbox and waits until it has written the kubeconfig (it writes it only when everything is ready). */
async function startSandbox(kubeconfig: string): Promise<{child: ChildProcess; info: SandboxInfo}> {
  const child = spawn(process.execPath, [path.join(ROOT, `scripts`, `sandbox.ts`), `--kubeconfig`, kubeconfig], {cwd: ROOT, stdio: [`ignore`, `pipe`, `pipe`]});
  let output = ``;
  child.stdout!.on(`data`, (chunk: Buffer) => (output += chunk.toString(`utf8`)));
  child.stderr!.on(`data`, (chunk: Buffer) => (output += chunk.toString(`utf8`)));
  const deadline = Date.now() + SANDBOX_TIMEOUT_MS;
  while (!fs.existsSync(kubeconfig) || fs.statSync(kubeconfig).size === 0) {
    if (child.exitCode !== null)
      throw new Error(`the sandbox exited with ${child.exitCode} before it was ready:\n${output}`);
    if (Date.now() > deadline) {
      child.kill(`SIGTERM`);
      throw new Error(`the sandbox was not ready within ${SANDBOX_TIMEOUT_MS / 1000} s:\n${output}`);
    }
    await new Promise(resolve => setTimeout(resolve, 200));
  }
  await new Promise(resolve => setTimeout(resolve, 300));
  // The sandbox prints e.g. "registry     127.0.0.1:35559 (token auth, …)" and "registry user developer / <password>".
  const find = (re: RegExp) => re.exec(output)?.[1];
  const user = /^registry user\s+(\S+)\s*\/\s*(\S+)/m.exec(output);
  return {child, info: {
    output,
    registry: find(/^registry\s+(?:https?:\/\/)?([\w.-]+:\d+)/m) ?? find(/registry[^:\n]*:\s*(?:https?:\/\/)?([\w.-]+:\d+)/i),
    username: user?.[1] ?? find(/\buser(?:name)?\b[^:\n]*:\s*"?([\w.@-]+)"?/i),
    password: user?.[2] ?? find(/\bpassword\b[^:\n]*:\s*"?(\S+?)"?(?:\s|$)/i),
  }};
}

/** Polls `check` every 250 ms until it holds (true) or `timeoutMs` passes (false). */
async function waitFor(check: () => boolean, timeoutMs: number): Promise<boolean> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if (check())
      return true;
    await new Promise(resolve => setTimeout(resolve, 250));
  }
  return false;
}

async function stopSandbox(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null)
    return;
  const exited = new Promise(resolve => child.once(`exit`, resolve));
  child.kill(`SIGTERM`);
  const timer = setTimeout(() => child.kill(`SIGKILL`), 10_000);
  await exited;
  clearTimeout(timer);
}

async function main(): Promise<void> {
  say(bold(`== building dist/kubectl-pullsecret (single executable)`));
  const build = spawnSync(process.execPath, [path.join(ROOT, `scripts`, `build.ts`), `--no-typecheck`], {cwd: ROOT, stdio: [`ignore`, `inherit`, `inherit`]});
  if (build.status !== 0)
    throw new Error(`the build failed`);

  const work = fs.mkdtempSync(path.join(os.tmpdir(), `pullsecret-demo-`));
  const kubeconfig = path.join(work, `kubeconfig`);
  // dist/ on PATH makes `kubectl pullsecret` find the plugin; a private HOME keeps the user's own config out of it.
  const env: NodeJS.ProcessEnv = {PATH: `${DIST}${path.delimiter}${process.env.PATH ?? ``}`, HOME: work, KUBECONFIG: kubeconfig, NO_COLOR: process.env.NO_COLOR};
  let sandbox: {child: ChildProcess; info: SandboxInfo} | undefined;
  const stop = () => {
    sandbox?.child.kill(`SIGTERM`);
  };
  process.once(`SIGINT`, stop);
  try {
    say();
    say(bold(`== the plugin, as kubectl sees it`));
    show(env, [`kubectl`, `plugin`, `list`]);
    show(env, [`kubectl`, `pullsecret`, `version`]);
    show(env, [`kubectl`, `pullsecret`, `--help`]);

    if (!fs.existsSync(path.join(ROOT, `scripts`, `sandbox.ts`))) {
      say();
      say(`(scripts/sandbox.ts is not there yet: the cluster part of the demo is skipped)`);
      return;
    }
    say();
    say(bold(`== starting the sandbox (Kubernetes API emulator + registry + a node pulling through containerd)`));
    sandbox = await startSandbox(kubeconfig);
    process.stdout.write(sandbox.info.output);
    show(env, [`kubectl`, `get`, `namespaces`]);
    show(env, [`kubectl`, `get`, `serviceaccounts`, `-n`, `web`]);

    const {registry, username, password} = sandbox.info;
    if (hasCommand(env, `add`)) {
      say();
      say(bold(`== add: a pull secret, created exactly as kubectl would (password on stdin)`));
      if (registry && username && password) {
        show(env, [`kubectl`, `pullsecret`, `add`, `regcred`, `-n`, `web`, `--docker-server`, registry, `--docker-username`, username, `--docker-password-stdin`], {input: `${password}\n`, display: `echo "$REGISTRY_PASSWORD" | kubectl pullsecret add regcred -n web --docker-server ${registry} --docker-username ${username} --docker-password-stdin`});
      } else {
        say(`(the sandbox did not print a registry address and user; showing a client-side dry run instead)`);
        show(env, [`kubectl`, `pullsecret`, `add`, `regcred`, `-n`, `web`, `--docker-server`, `registry.example.com`, `--docker-username`, `demo`, `--docker-password-stdin`, `--dry-run=client`, `-o`, `yaml`], {input: `not-a-real-password\n`, display: `echo "$REGISTRY_PASSWORD" | kubectl pullsecret add regcred -n web --docker-server registry.example.com --docker-username demo --docker-password-stdin --dry-run=client -o yaml`});
      }
    } else {
      say(`(add is not built yet)`);
    }
    if (hasCommand(env, `attach`)) {
      say();
      say(bold(`== attach: reference it from the namespace's ServiceAccounts, keeping what is there, and restart what needs it`));
      show(env, [`kubectl`, `get`, `pods`, `-n`, `web`]);
      show(env, [`kubectl`, `pullsecret`, `attach`, `regcred`, `-n`, `web`, `--restart`]);
      show(env, [`kubectl`, `get`, `serviceaccount`, `default`, `-n`, `web`, `-o`, `jsonpath={.imagePullSecrets}`]);
      // The sandbox's node pulls the new pod's image for real; wait until the old pod is gone and the new one runs.
      const running = await waitFor(() => {
        const pods = spawnSync(`kubectl`, [`get`, `pods`, `-n`, `web`, `--no-headers`], {env, encoding: `utf8`}).stdout ?? ``;
        const lines = pods.trim().split(`\n`).filter(line => line !== ``);
        return lines.length === 1 && /\s1\/1\s+Running\s/.test(lines[0]!);
      }, 60_000);
      if (!running)
        say(`(the frontend pod did not become Running within 60 s)`);
      show(env, [`kubectl`, `get`, `pods`, `-n`, `web`]);
    } else {
      say(`(attach is not built yet)`);
    }
    if (hasCommand(env, `verify`)) {
      say();
      say(bold(`== verify: will every workload's images pull with the credentials its pods get?`));
      show(env, [`kubectl`, `pullsecret`, `verify`, `-A`]);
    } else {
      say(`(verify is not built yet)`);
    }
    if (hasCommand(env, `decode`)) {
      say();
      say(bold(`== decode: what the secret holds (masked unless --reveal)`));
      show(env, [`kubectl`, `pullsecret`, `decode`, `regcred`, `-n`, `web`]);
    } else {
      say(`(decode is not built yet)`);
    }
    if (hasCommand(env, `doctor`)) {
      say();
      say(bold(`== doctor: why is a pod in ImagePullBackOff, and what fixes it?`));
      show(env, [`kubectl`, `pullsecret`, `doctor`, `-A`]);
    }
  } finally {
    if (sandbox) {
      say();
      say(bold(`== stopping the sandbox`));
      await stopSandbox(sandbox.child);
    }
    process.removeListener(`SIGINT`, stop);
    fs.rmSync(work, {recursive: true, force: true});
  }
}

main().catch(error => {
  process.stderr.write(`demo: error: ${error instanceof Error ? error.message : String(error)}\n`);
  process.exitCode = 1;
});
