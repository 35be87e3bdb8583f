import {test} from 'node:test';
import assert from 'node:assert/strict';
import {spawnSync} from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import {runCli} from '../helpers/runCli.ts';
import {buildCli} from '../../sources/cli.ts';
import {COMMANDS} from '../../sources/commands/all.ts';
import {startApiEmulator} from '../helpers/apiEmulator/index.ts';

/** Splits protocol output into candidate values and the directive. */
function parse(stdout: string): {values: string[]; lines: string[]; directive: string} {
  const lines = stdout.split(`\n`);
  assert.equal(lines.pop(), ``, `output ends with a newline`);
  const directive = lines.pop() ?? ``;
  return {values: lines.map(line => line.split(`\t`)[0]!), lines, directive};
}

/** The visible commands' first path segments, read from the registered command classes themselves. */
function visibleCommandNames(): string[] {
  return COMMANDS.filter(command => command.usage !== undefined).map(command => command.paths![0]![0]!);
}

test(`__complete '' lists every visible subcommand with its description and directive :4`, async () => {
  const result = await runCli([`__complete`, ``]);
  assert.equal(result.code, 0);
  assert.equal(result.stderr, ``);
  const {values, lines, directive} = parse(result.stdout);
  assert.deepEqual([...values].sort(), visibleCommandNames().sort());
  assert.ok(values.includes(`version`) && values.includes(`completion`));
  assert.ok(lines.includes(`version\tprint the plugin's version, git commit and Node.js version`));
  assert.equal(directive, `:4`);
});

test(`__complete never offers the hidden __complete command or --help as a subcommand`, async () => {
  const {values} = parse((await runCli([`__complete`, ``])).stdout);
  assert.ok(!values.includes(`__complete`));
  assert.ok(values.every(value => !value.startsWith(`-`)));
});

test(`__complete filters subcommands by the word being completed`, async () => {
  const {values, directive} = parse((await runCli([`__complete`, `vers`])).stdout);
  assert.deepEqual(values, [`version`]);
  assert.equal(directive, `:4`);
});

test(`__complete lists a command's flags, long names only after --`, async () => {
  const cli = buildCli({env: {}, stdout: process.stdout}, COMMANDS);
  for (const definition of cli.definitions()) {
    const name = definition.path.replace(/^kubectl pullsecret /, ``);
    const {values, directive} = parse((await runCli([`__complete`, ...name.split(` `), `--`])).stdout);
    const expected = definition.options.flatMap(option => option.definition.split(` `)[0]!.split(`,`)).filter(flag => flag.startsWith(`--`));
    assert.deepEqual(values, expected, `flags of ${name}`);
    assert.equal(directive, `:4`);
  }
});

test(`__complete add -- lists add's own flags such as --docker-server`, async () => {
  const {values} = parse((await runCli([`__complete`, `add`, `--`])).stdout);
  for (const flag of [`--docker-server`, `--docker-username`, `--docker-password-stdin`, `--namespace`, `--context`, `--kubeconfig`])
    assert.ok(values.includes(flag), `${flag} in ${values.join(` `)}`);
});

test(`__complete offers short and long names after a single dash`, async () => {
  const {values} = parse((await runCli([`__complete`, `version`, `-`])).stdout);
  assert.deepEqual(values, [`-v`, `--verbose`, `-o`, `--output`]);
});

test(`__complete completes a flag value listed in its description, separately and after =`, async () => {
  assert.deepEqual(parse((await runCli([`__complete`, `version`, `-o`, ``])).stdout), {values: [`json`, `yaml`], lines: [`json`, `yaml`], directive: `:4`});
  assert.deepEqual(parse((await runCli([`__complete`, `version`, `--output=y`])).stdout).values, [`--output=yaml`]);
});

test(`__complete after a command's positional offers no files (directive :4)`, async () => {
  const {values, directive} = parse((await runCli([`__complete`, `version`, ``])).stdout);
  assert.deepEqual(values, []);
  assert.equal(directive, `:4`);
});

test(`__complete --kubeconfig '' lets the shell complete files (directive :0)`, async () => {
  const {values, directive} = parse((await runCli([`__complete`, `--kubeconfig`, ``])).stdout);
  assert.deepEqual(values, []);
  assert.equal(directive, `:0`);
});

test(`__complete --context '' lists the contexts of the kubeconfig named by KUBECONFIG, without a cluster`, async t => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), `pullsecret-completion-`));
  t.after(() => fs.rmSync(dir, {recursive: true, force: true}));
  const kubeconfig = path.join(dir, `config`);
  fs.writeFileSync(kubeconfig, [
    `apiVersion: v1`, `kind: Config`, `current-context: prod`,
    `clusters: [{name: c, cluster: {server: "https://127.0.0.1:1"}}]`,
    `users: [{name: u, user: {}}]`,
    `contexts: [{name: prod, context: {cluster: c, user: u}}, {name: staging, context: {cluster: c, user: u}}, {name: dev-eu, context: {cluster: c, user: u}}]`,
    ``].join(`\n`));
  const all = parse((await runCli([`__complete`, `--context`, ``], {env: {KUBECONFIG: kubeconfig}})).stdout);
  assert.deepEqual(all.values, [`dev-eu`, `prod`, `staging`]);
  assert.equal(all.directive, `:4`);
  const filtered = parse((await runCli([`__complete`, `--kubeconfig`, kubeconfig, `--context=s`])).stdout);
  assert.deepEqual(filtered.values, [`--context=staging`]);
});

test(`__complete stays silent and well-formed when no kubeconfig exists`, async t => {
  const home = fs.mkdtempSync(path.join(os.tmpdir(), `pullsecret-completion-home-`));
  t.after(() => fs.rmSync(home, {recursive: true, force: true}));
  for (const args of [[`--context`, ``], [`-n`, ``]]) {
    const result = await runCli([`__complete`, ...args], {home});
    assert.equal(result.code, 0);
    assert.equal(result.stderr, ``);
    assert.equal(result.stdout, `:4\n`);
  }
});

test(`completion bash prints a script that calls kubectl-pullsecret __complete and registers itself`, async () => {
  const result = await runCli([`completion`, `bash`]);
  assert.equal(result.code, 0);
  assert.match(result.stdout, /"kubectl-pullsecret" __complete "\$\{words\[@\]:1\}" "\$cur"/);
  assert.match(result.stdout, /\ncomplete -F _kubectl_pullsecret_complete kubectl-pullsecret\n$/);
});

test(`completion zsh and fish print scripts that call __complete and register for kubectl-pullsecret`, async () => {
  const zsh = await runCli([`completion`, `zsh`]);
  assert.match(zsh.stdout, /^#compdef kubectl-pullsecret\n/);
  assert.match(zsh.stdout, /kubectl-pullsecret __complete/);
  assert.match(zsh.stdout, /compdef _kubectl_pullsecret_complete kubectl-pullsecret/);
  const fish = await runCli([`completion`, `fish`]);
  assert.match(fish.stdout, /kubectl-pullsecret __complete \$words\[2\.\.-1\] \$current/);
  assert.match(fish.stdout, /complete -c kubectl-pullsecret -f -a '\(_kubectl_pullsecret_complete\)'/);
});

test(`completion with an unknown shell is a usage error naming the supported shells`, async () => {
  const result = await runCli([`completion`, `powershell`]);
  assert.equal(result.code, 2);
  assert.equal(result.stdout, ``);
  assert.match(result.stderr, /^error: unsupported shell "powershell": use bash, zsh, fish\n/);
});

test(`the bash script completes subcommands and flags when bash runs it`, async t => {
  // Runs the script's function in a real bash with the CLI (via node) standing in for kubectl-pullsecret on PATH.
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), `pullsecret-bash-`));
  t.after(() => fs.rmSync(dir, {recursive: true, force: true}));
  const main = path.resolve(import.meta.dirname, `..`, `..`, `sources`, `main.ts`);
  fs.writeFileSync(path.join(dir, `kubectl-pullsecret`), `#!/bin/sh\nexec "${process.execPath}" "${main}" "$@"\n`, {mode: 0o755});
  const script = (await runCli([`completion`, `bash`])).stdout;
  const complete = async (line: string, words: string[], cword: number) => {
    const program = `${script}\nCOMP_LINE=${JSON.stringify(line)}; COMP_POINT=${line.length}; COMP_WORDS=(${words.map(word => JSON.stringify(word)).join(` `)}); COMP_CWORD=${cword}\n_kubectl_pullsecret_complete; printf '%s\\n' "\${COMPREPLY[@]}"\n`;
    const result = spawnSync(`bash`, [`-c`, program], {encoding: `utf8`, env: {PATH: `${dir}:${process.env.PATH}`, HOME: dir}});
    return result.stdout.split(`\n`).filter(line => line !== ``);
  };
  assert.deepEqual(await complete(`kubectl-pullsecret vers`, [`kubectl-pullsecret`, `vers`], 1), [`version`]);
  assert.deepEqual(await complete(`kubectl-pullsecret version --ou`, [`kubectl-pullsecret`, `version`, `--ou`], 2), [`--output`]);
  // bash splits `--output=j` into `--output`, `=`, `j`; only the part after `=` is replaced.
  assert.deepEqual(await complete(`kubectl-pullsecret version --output=j`, [`kubectl-pullsecret`, `version`, `--output`, `=`, `j`], 4), [`json`]);
});

test(`__complete -n '' lists the cluster's namespaces, and --namespaces completes the last item of a list`, async t => {
  const api = await startApiEmulator();
  t.after(() => api.stop());
  await api.seed.namespace(`web`);
  await api.seed.namespace(`web-staging`);
  const env = {KUBECONFIG: api.kubeconfigPath};
  const all = parse((await runCli([`__complete`, `list`, `-n`, ``], {env})).stdout);
  assert.deepEqual(all.values, [`default`, `kube-node-lease`, `kube-public`, `kube-system`, `web`, `web-staging`]);
  assert.equal(all.directive, `:4`);
  assert.deepEqual(parse((await runCli([`__complete`, `list`, `--namespace=we`], {env})).stdout).values, [`--namespace=web`, `--namespace=web-staging`]);
  const list = parse((await runCli([`__complete`, `list`, `--namespaces`, `default,web-`], {env})).stdout);
  assert.deepEqual(list.values, [`default,web-staging`]);
  assert.equal(list.directive, `:6`, `NoSpace | NoFileComp, so that another item can follow the comma`);
});

test(`__complete NAME offers the pull secrets of the namespace given with -n, not other secret types`, async t => {
  const api = await startApiEmulator();
  t.after(() => api.stop());
  const dockerconfig = Buffer.from(`{"auths":{}}`).toString(`base64`);
  await api.seed.secret(`web`, {metadata: {name: `regcred`}, type: `kubernetes.io/dockerconfigjson`, data: {'.dockerconfigjson': dockerconfig}});
  await api.seed.secret(`web`, {metadata: {name: `ghcr`}, type: `kubernetes.io/dockerconfigjson`, data: {'.dockerconfigjson': dockerconfig}});
  await api.seed.secret(`web`, {metadata: {name: `tls-cert`}, type: `Opaque`, data: {a: `YQ==`}});
  await api.seed.secret(`default`, {metadata: {name: `elsewhere`}, type: `kubernetes.io/dockerconfigjson`, data: {'.dockerconfigjson': dockerconfig}});
  const result = await runCli([`__complete`, `decode`, `-n`, `web`, ``], {env: {KUBECONFIG: api.kubeconfigPath}});
  assert.equal(result.stderr, ``);
  assert.deepEqual(parse(result.stdout), {values: [`ghcr`, `regcred`], lines: [`ghcr`, `regcred`], directive: `:4`});
});

test(`__complete gives up silently within its time limit when the cluster does not answer`, async t => {
  const api = await startApiEmulator();
  t.after(() => api.stop());
  api.faults.add({route: /namespaces/, kind: `latency`, latencyMs: 10_000});
  const started = Date.now();
  const result = await runCli([`__complete`, `list`, `-n`, ``], {env: {KUBECONFIG: api.kubeconfigPath}});
  assert.ok(Date.now() - started < 5_000, `answered in ${Date.now() - started} ms`);
  assert.equal(result.code, 0);
  assert.equal(result.stdout, `:4\n`);
  assert.equal(result.stderr, ``);
});

test(`__complete completion '' offers the shells the command accepts`, async () => {
  assert.deepEqual(parse((await runCli([`__complete`, `completion`, ``])).stdout), {values: [`bash`, `zsh`, `fish`], lines: [`bash`, `zsh`, `fish`], directive: `:4`});
  assert.deepEqual(parse((await runCli([`__complete`, `completion`, `z`])).stdout).values, [`zsh`]);
});

test(`__complete --service-account and --workload offer the ServiceAccounts and workloads of the namespace`, async t => {
  const api = await startApiEmulator();
  t.after(() => api.stop());
  api.seed.namespace(`comp`);
  api.seed.serviceAccount(`comp`, `builder`, {});
  api.seed.serviceAccount(`comp`, `default`, {});
  api.seed.workload(`Deployment`, `comp`, `web`, {containers: [{name: `app`, image: `r.example/app:1`}]});
  api.seed.workload(`CronJob`, `comp`, `nightly`, {containers: [{name: `app`, image: `r.example/app:1`}], restartPolicy: `OnFailure`}, {schedule: `0 1 * * *`});
  const kube = [`--kubeconfig`, api.kubeconfigPath, `-n`, `comp`];
  const accounts = parse((await runCli([`__complete`, `attach`, `regcred`, ...kube, `--service-account`, ``])).stdout);
  assert.deepEqual(accounts, {values: [`builder`, `default`], lines: [`builder`, `default`], directive: `:4`});
  assert.deepEqual(parse((await runCli([`__complete`, `detach`, `regcred`, ...kube, `--service-account=b`])).stdout).values, [`--service-account=builder`]);
  const workloads = parse((await runCli([`__complete`, `attach`, `regcred`, ...kube, `--workload`, ``])).stdout);
  assert.deepEqual(workloads.values, [`cronjob/nightly`, `deployment/web`]);
  assert.equal(workloads.directive, `:4`);
});
