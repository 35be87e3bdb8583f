// Agent benchmark (npm run bench:agent): `kubectl pullsecret agent` keeping one sync policy (-A, --attach) over
// BENCH_NAMESPACES (2000) namespaces of the in-process API emulator. Measures, for the agent process: the time to
// converge from start (every namespace with its copy and reference), its resident memory (VmRSS, VmHWM) once
// converged, the time from a new namespace to a usable pull secret for a burst of BENCH_BURST (50) more, and the
// API requests per namespace. Side by side in the same run: the memory of the real kubectl watching the same
// cluster's secrets (`kubectl get secrets -A --watch -o name`), the nearest thing kubectl has to a resident cache.
// BENCH_BINARY=dist/kubectl-pullsecret runs the single executable (npm run build) instead of the sources under node.
import {spawn} from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import {startApiEmulator} from '../tests/helpers/apiEmulator/index.ts';
import {requireKubectl} from '../tests/helpers/apiEmulator/kubectl.ts';
import {runCli} from '../tests/helpers/runCli.ts';
import {burstToUsable, eventually, metricValue, pullSecretUsable, startAgentProcess} from '../tests/helpers/agent.ts';

const NAMESPACES = Number(process.env.BENCH_NAMESPACES ?? 2000);
const BURST = Number(process.env.BENCH_BURST ?? 50);
const log = (line: string) => process.stdout.write(`${line}\n`);
const b64 = (text: string) => Buffer.from(text).toString(`base64`);

/** VmRSS and VmHWM of a process, in MiB. */
function memory(pid: number): {rss: number; peak: number} {
  const status = fs.readFileSync(`/proc/${pid}/status`, `utf8`);
  const kib = (field: string) => Number(new RegExp(`^${field}:\\s+(\\d+) kB`, `m`).exec(status)?.[1] ?? NaN);
  return {rss: kib(`VmRSS`) / 1024, peak: kib(`VmHWM`) / 1024};
}

const api = await startApiEmulator();
const children: Array<{kill(signal: NodeJS.Signals): boolean}> = [];
try {
  api.seed.namespace(`platform`);
  api.seed.secret(`platform`, {metadata: {name: `regcred`}, type: `kubernetes.io/dockerconfigjson`, data: {'.dockerconfigjson': b64(`{"auths":{"registry.example.com":{"auth":"${b64(`bench:not-printed`)}"}}}`)}});
  const kept = await runCli([`sync`, `regcred`, `--from-namespace`, `platform`, `--namespace-selector`, `bench=yes`, `--attach`, `--keep`, `--kubeconfig`, api.kubeconfigPath]);
  if (kept.code !== 0)
    throw new Error(kept.stderr);
  const names = Array.from({length: NAMESPACES}, (_, index) => `bench-${String(index).padStart(4, `0`)}`);
  for (const name of names)
    api.seed.namespace(name, {labels: {bench: `yes`}});
  log(`emulator: ${NAMESPACES} namespaces selected by the policy (-A style selector, --attach)`);
  const usable = (namespace: string) => pullSecretUsable(api, namespace);

  api.resetRequests();
  const started = performance.now();
  const binary = process.env.BENCH_BINARY;
  const agent = await startAgentProcess(api.kubeconfigPath, `bench-agent`, [`--concurrency`, `32`], binary);
  log(`agent: ${binary ?? `node sources/main.ts`}`);
  children.push(agent.child);
  let remaining = names;
  await eventually(`the agent converges`, () => {
    remaining = remaining.filter(name => !usable(name));
    return remaining.length === 0;
  }, 600_000, 500);
  const convergeMs = performance.now() - started;
  const requests = api.requests.filter(request => request.resource !== `leases`).length;
  await new Promise(resolve => setTimeout(resolve, 2000));
  const converged = memory(agent.child.pid!);
  log(`\nagent: converged ${NAMESPACES} namespaces in ${Math.round(convergeMs)} ms from process start, ${requests} API requests (${(requests / NAMESPACES).toFixed(2)} per namespace)`);
  log(`agent memory at ${NAMESPACES} namespaces: RSS ${converged.rss.toFixed(1)} MiB, peak ${converged.peak.toFixed(1)} MiB`);

  // A burst of new namespaces while the agent holds the whole cluster in its cache.
  const times = await burstToUsable(api, Array.from({length: BURST}, (_, index) => `burst-${index}`), {bench: `yes`}, 60_000);
  log(`new namespace → usable pull secret (${BURST} at once, ${NAMESPACES} in the cache): median ${Math.round(times[Math.floor(times.length / 2)]!)} ms, worst ${Math.round(times.at(-1)!)} ms`);
  const metrics = await agent.metrics();
  log(`agent metrics: reconciles ${metricValue(metrics, `pullsecret_agent_reconciles_total`)}, writes ${metricValue(metrics, `pullsecret_agent_writes_total`)}, errors ${metricValue(metrics, `pullsecret_agent_errors_total`)}`);
  const after = memory(agent.child.pid!);
  log(`agent memory after the burst: RSS ${after.rss.toFixed(1)} MiB, peak ${after.peak.toFixed(1)} MiB`);

  // The real kubectl, watching the same secrets, for scale.
  const kubectl = spawn(requireKubectl(), [`--kubeconfig`, api.kubeconfigPath, `get`, `secrets`, `-A`, `--watch`, `-o`, `name`], {stdio: [`ignore`, `ignore`, `ignore`]});
  children.push(kubectl);
  await new Promise(resolve => setTimeout(resolve, 5000));
  const kubectlMemory = memory(kubectl.pid!);
  log(`kubectl ${path.basename(requireKubectl())} get secrets -A --watch (same cluster): RSS ${kubectlMemory.rss.toFixed(1)} MiB, peak ${kubectlMemory.peak.toFixed(1)} MiB`);
  agent.child.kill(`SIGTERM`);
  await agent.exited;
} finally {
  for (const child of children)
    child.kill(`SIGKILL`);
  await api.stop();
}
