// Fan-out benchmark (npm run bench:fanout): `kubectl pullsecret add regcred … -A --attach=all` into 500 namespaces,
// versus the seed recipe's shell loop (per namespace: `kubectl create secret docker-registry … --dry-run=client -o yaml
// | kubectl apply -f -` then `kubectl patch serviceaccount default -p …`) against the same in-process API emulator.
// The kubectl loop is timed on a sample of namespaces and extrapolated. Goals: ≥ 50× faster, ≤ 3 API requests per
// namespace (counted in the emulator's request log). Environment overrides: BENCH_NAMESPACES (500),
// BENCH_KUBECTL_SAMPLE (50), BENCH_COMMAND=sync (benchmark `sync … -A --attach=all` instead of `add`).
import {execFile, spawn} from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import {promisify} from 'node:util';
import {startApiEmulator} from '../tests/helpers/apiEmulator/index.ts';
import {runCli} from '../tests/helpers/runCli.ts';

const NAMESPACES = Number(process.env.BENCH_NAMESPACES ?? 500);
const SAMPLE = Number(process.env.BENCH_KUBECTL_SAMPLE ?? 50);
const COMMAND = process.env.BENCH_COMMAND === `sync` ? `sync` : `add`;
const PASSWORD = `bench-password-not-printed`;

const root = path.resolve(import.meta.dirname, `..`);
const binary = path.join(root, `dist`, `kubectl-pullsecret`);
const tmp = fs.mkdtempSync(path.join(os.tmpdir(), `bench-fanout-`));
const log = (line: string) => process.stdout.write(`${line}\n`);
const ms = (value: number) => `${Math.round(value)} ms`;

const api = await startApiEmulator();
try {
  // Two clusters' worth of namespaces: one set for the plugin, one for the kubectl loop, so neither finds the other's work.
  const plugin = api.seed.bulk({namespaces: NAMESPACES, namespacePrefix: `plugin`}).namespaces;
  const loop = api.seed.bulk({namespaces: SAMPLE, namespacePrefix: `loop`}).namespaces;
  // The plugin's -A must see only its own namespaces: the loop's (and the built-in ones) are excluded by glob.
  const exclude = [`loop-*`, `kube-*`, `default`, `source`].join(`,`);
  const kubeconfig = api.kubeconfigPath;
  log(`emulator: ${NAMESPACES} namespaces for the plugin, ${SAMPLE} for the kubectl loop`);

  const pluginArgs = COMMAND === `add`
    ? [`add`, `regcred`, `-A`, `--exclude-namespaces`, exclude, `--attach=all`, `--docker-server`, `registry.example.com`, `--docker-username`, `bench`, `--docker-password-stdin`]
    : [`sync`, `regcred`, `--from-namespace`, `source`, `-A`, `--exclude-namespaces`, exclude, `--attach=all`];
  if (COMMAND === `sync`) {
    api.seed.namespace(`source`);
    api.seed.secret(`source`, {metadata: {name: `regcred`}, type: `kubernetes.io/dockerconfigjson`, data: {'.dockerconfigjson': Buffer.from(JSON.stringify({auths: {'registry.example.com': {username: `bench`, password: PASSWORD, auth: Buffer.from(`bench:${PASSWORD}`).toString(`base64`)}}})).toString(`base64`)}});
  }

  // 1. The plugin, in-process (the same code as the binary, without process start-up).
  api.resetRequests();
  let started = performance.now();
  const inProcess = await runCli([...pluginArgs, `--kubeconfig`, kubeconfig], {stdin: `${PASSWORD}\n`});
  const pluginMs = performance.now() - started;
  if (inProcess.code !== 0)
    throw new Error(`plugin run failed (exit ${inProcess.code}): ${inProcess.stderr.split(`\n`).slice(-3).join(` | `)}`);
  const pluginRequests = api.requests.length;
  const byVerb = countBy(api.requests.map(request => `${request.method} ${request.namespace === undefined ? `cluster-wide` : `namespaced`} ${request.resource ?? `?`}`));
  checkState(plugin, `plugin`);
  log(`\nplugin (${COMMAND} -A --attach=all, in-process): ${ms(pluginMs)} for ${NAMESPACES} namespaces, ${pluginRequests} API requests = ${(pluginRequests / NAMESPACES).toFixed(2)} per namespace`);
  for (const [key, count] of Object.entries(byVerb).sort((a, b) => b[1] - a[1]))
    log(`  ${String(count).padStart(5)}  ${key}`);

  // 2. The shipped binary, when it has been built (npm run build): a second, idempotent run (everything unchanged), and a fresh run.
  let binaryMs: number | undefined;
  if (fs.existsSync(binary)) {
    const fresh = api.seed.bulk({namespaces: NAMESPACES, namespacePrefix: `binary`}).namespaces;
    const binaryExclude = [`loop-*`, `plugin-*`, `kube-*`, `default`, `source`].join(`,`);
    const args = pluginArgs.map(arg => arg === exclude ? binaryExclude : arg);
    api.resetRequests();
    started = performance.now();
    const result = await run(binary, [...args, `--kubeconfig`, kubeconfig], `${PASSWORD}\n`);
    binaryMs = performance.now() - started;
    if (result.code !== 0)
      log(`binary run failed (exit ${result.code}): ${result.stderr.split(`\n`).slice(-3).join(` | `)}`);
    else {
      checkState(fresh, `binary`);
      log(`binary (${path.relative(root, binary)}): ${ms(binaryMs)} wall time including start-up, ${api.requests.length} API requests = ${(api.requests.length / NAMESPACES).toFixed(2)} per namespace`);
    }
  } else {
    log(`binary: ${path.relative(root, binary)} not built; run npm run build to include it`);
  }

  // A rerun of the plugin: idempotent, nothing to write.
  api.resetRequests();
  started = performance.now();
  const rerun = await runCli([...pluginArgs, `--kubeconfig`, kubeconfig], {stdin: `${PASSWORD}\n`});
  log(`plugin rerun (all unchanged): ${ms(performance.now() - started)}, exit ${rerun.code}, ${api.requests.filter(request => request.method !== `GET`).length} writes, ${api.requests.length} requests`);

  // 3. The seed recipe's loop with real kubectl on a sample, extrapolated.
  const cacheDir = path.join(tmp, `kubectl-cache`);
  const secretFlags = `--docker-server=registry.example.com --docker-username=bench --docker-password=${PASSWORD}`;
  api.resetRequests();
  started = performance.now();
  for (const namespace of loop) {
    const k = `kubectl --kubeconfig ${kubeconfig} --cache-dir ${cacheDir}`;
    await promisify(execFile)(`bash`, [`-c`, `set -eo pipefail; ${k} create secret docker-registry regcred ${secretFlags} -n ${namespace} --dry-run=client -o yaml | ${k} apply -f - >/dev/null; ${k} patch serviceaccount default -n ${namespace} -p '{"imagePullSecrets": [{"name": "regcred"}]}' >/dev/null`]);
  }
  const loopMs = performance.now() - started;
  const loopRequests = api.requests.length;
  checkState(loop, `kubectl loop`);
  const perNamespace = loopMs / SAMPLE;
  const extrapolated = perNamespace * NAMESPACES;
  log(`\nkubectl loop (seed recipe), ${SAMPLE} namespaces: ${ms(loopMs)} = ${ms(perNamespace)} per namespace, ${(loopRequests / SAMPLE).toFixed(1)} API requests per namespace (warm discovery cache)`);
  log(`kubectl loop extrapolated to ${NAMESPACES} namespaces: ${ms(extrapolated)}`);

  log(`\nspeed-up, in-process plugin vs kubectl loop: ${(extrapolated / pluginMs).toFixed(0)}× (goal ≥ 50×)`);
  if (binaryMs !== undefined)
    log(`speed-up, binary vs kubectl loop: ${(extrapolated / binaryMs).toFixed(0)}×`);
  log(`API requests per namespace: plugin ${(pluginRequests / NAMESPACES).toFixed(2)} (goal ≤ 3), kubectl loop ${(loopRequests / SAMPLE).toFixed(1)}`);
  log(`note: the kubectl loop's patch REPLACES each ServiceAccount's imagePullSecrets (docs/testing.md D.2); the plugin appends.`);
} finally {
  await api.stop();
  fs.rmSync(tmp, {recursive: true, force: true});
}

/** Every namespace must hold the secret and have it on its default ServiceAccount, exactly once. */
function checkState(namespaces: string[], what: string): void {
  for (const namespace of namespaces) {
    const secret = api.getObject(`secrets`, namespace, `regcred`);
    const entries = ((api.getObject(`serviceaccounts`, namespace, `default`)?.imagePullSecrets ?? []) as Array<{name: string}>).filter(entry => entry.name === `regcred`);
    if (secret?.type !== `kubernetes.io/dockerconfigjson` || entries.length !== 1)
      throw new Error(`${what}: namespace ${namespace} is not done (secret ${secret ? `present` : `missing`}, ${entries.length} entries)`);
  }
}

function countBy(keys: string[]): Record<string, number> {
  const counts: Record<string, number> = {};
  for (const key of keys)
    counts[key] = (counts[key] ?? 0) + 1;
  return counts;
}

function run(command: string, args: string[], stdin: string): Promise<{code: number; stderr: string}> {
  return new Promise((resolve, reject) => {
    const child = spawn(command, args, {stdio: [`pipe`, `ignore`, `pipe`], env: {PATH: process.env.PATH, HOME: tmp}});
    let stderr = ``;
    child.stderr.on(`data`, chunk => {
      stderr += chunk;
    });
    child.on(`error`, reject);
    child.on(`close`, code => resolve({code: code ?? 1, stderr}));
    child.stdin.end(stdin);
  });
}
