// Benchmark of `verify -A` at scale (npm run bench:verify):
//   2,000 namespaces, 20,000 running pods (+ 2,000 Deployments), 400 unique images over three real docker-registry
//   instances (basic over HTTP, token auth, basic over TLS), one pull secret per namespace holding the same
//   credentials for the three registries.
// Goals: `verify -A` under 5 s; at most one token request per (registry, repository, credential); one manifest
// request per (image, credential); peak RSS under 300 MB; every API list cluster-wide and paginated.
//
// Two runs: the real CLI (the esbuild bundle that ships) as a child process (wall time and peak RSS from /proc/<pid>/status VmHWM), and the same
// command in-process (registry probe counters, token server log, API request log). Environment overrides:
// BENCH_NAMESPACES, BENCH_PODS_PER_NAMESPACE, BENCH_IMAGES; BENCH_CPU_PROF=DIR profiles the child.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import {startApiEmulator} from '../tests/helpers/apiEmulator/index.ts';
import {startRegistry} from '../tests/helpers/registry/index.ts';
import type {TestRegistry} from '../tests/helpers/registry/index.ts';
import {runCli} from '../tests/helpers/runCli.ts';
import {makeRegistryProbe} from '../sources/adapters/registry/probe.ts';
import type {RegistryProbe} from '../sources/core/ports.ts';
import {runChild} from './lib/child.ts';
import {reportGoals} from './lib/goals.ts';
import {buildBenchCli} from './lib/cliBundle.ts';
import {dockerConfigFor, seedTeamNamespace} from './lib/pullWorld.ts';

const NAMESPACES = Number(process.env.BENCH_NAMESPACES ?? 2000);
const PODS_PER_NAMESPACE = Number(process.env.BENCH_PODS_PER_NAMESPACE ?? 10);
const IMAGES = Number(process.env.BENCH_IMAGES ?? 400);
const USER = `bench`;
const PASSWORD = `bench-password-not-printed`;

const tmp = fs.mkdtempSync(path.join(os.tmpdir(), `bench-verify-`));

const log = (line: string) => process.stdout.write(`${line}\n`);

const started = performance.now();
const [api, basic, token, tls] = await Promise.all([
  startApiEmulator(),
  startRegistry({mode: `basic`, users: {[USER]: PASSWORD}}),
  startRegistry({mode: `token`, users: {[USER]: PASSWORD}, grants: {[USER]: {'*': [`pull`]}}}),
  startRegistry({mode: `tls`, users: {[USER]: PASSWORD}}),
]);
const registries: TestRegistry[] = [basic, token, tls];

try {
  // 400 unique images: two tags per repository, repositories spread over the three registries.
  const images: string[] = [];
  for (let i = 0; i < IMAGES; i++) {
    const registry = registries[i % registries.length]!;
    const repository = `team/svc-${Math.floor(i / (registries.length * 2))}`;
    const tag = `v${Math.floor(i / registries.length) % 2}`;
    images.push(`${registry.host}/${repository}:${tag}`);
  }
  const pushStarted = performance.now();
  const pushQueue = [...images];
  await Promise.all(Array.from({length: 16}, async () => {
    for (let image = pushQueue.shift(); image; image = pushQueue.shift()) {
      const registry = registries.find(candidate => image.startsWith(`${candidate.host}/`))!;
      const [repository, tag] = image.slice(registry.host.length + 1).split(`:`) as [string, string];
      await registry.push(repository, tag);
    }
  }));
  log(`pushed ${images.length} images to 3 registries in ${((performance.now() - pushStarted) / 1000).toFixed(1)} s`);

  const seedStarted = performance.now();
  const dockerconfigjson = dockerConfigFor(registries.map(registry => registry.host), USER, PASSWORD);
  let imageIndex = 0;
  for (let n = 0; n < NAMESPACES; n++) {
    const namespace = seedTeamNamespace(api, n, dockerconfigjson);
    api.seed.workload(`Deployment`, namespace, `web`, {containers: [{name: `app`, image: images[n % images.length]!}]});
    for (let p = 0; p < PODS_PER_NAMESPACE; p++)
      api.seed.pod(namespace, `pod-${p}`, {containers: [{name: `app`, image: images[imageIndex++ % images.length]!}]});
  }
  log(`seeded ${NAMESPACES} namespaces, ${NAMESPACES * PODS_PER_NAMESPACE} pods, ${NAMESPACES} deployments in ${((performance.now() - seedStarted) / 1000).toFixed(1)} s`);

  const args = [`verify`, `-A`, `--kubeconfig`, api.kubeconfigPath, `--certificate-authority`, tls.caFile!, `-o`, `json`];

  // 1. The real CLI in a child process (the shipped bundle, built here into a temp dir): wall time and peak RSS.
  const outfile = await buildBenchCli(tmp, {readable: process.env.BENCH_CPU_PROF !== undefined});
  const child = await runChild([outfile, ...args], {home: tmp, profileDir: process.env.BENCH_CPU_PROF, nodeOptions: process.env.BENCH_NODE_OPTIONS});
  const report = JSON.parse(child.stdout) as {summary: {total: number; pullable: number; failing: number; registryChecks: number; byStatus: Record<string, number>}};
  log(`child: verify -A exit ${child.code} in ${(child.ms / 1000).toFixed(2)} s, peak RSS ${(child.peakKb / 1024).toFixed(0)} MB; ${report.summary.total} results, ${report.summary.pullable} pullable, ${report.summary.failing} failing, ${report.summary.registryChecks} registry checks; ${JSON.stringify(report.summary.byStatus)}`);

  // 2. In-process: request counts.
  let probe: RegistryProbe | undefined;
  api.resetRequests();
  const tokenBefore = token.tokenRequests.length;
  const inProcessStarted = performance.now();
  const result = await runCli(args, {context: {makeRegistryProbe: async options => (probe = makeRegistryProbe(options))}});
  const inProcessMs = performance.now() - inProcessStarted;
  const stats = probe!.stats();
  const tokenRequests = token.tokenRequests.slice(tokenBefore);
  const perScope = new Map<string, number>();
  for (const request of tokenRequests) {
    const key = `${request.user ?? `anonymous`} ${request.scope.join(` `)}`;
    perScope.set(key, (perScope.get(key) ?? 0) + 1);
  }
  const tokenRepositories = new Set(images.filter(image => image.startsWith(`${token.host}/`)).map(image => image.slice(token.host.length + 1).split(`:`)[0])).size;
  const lists = api.requests.filter(request => request.verb === `list`);
  const byResource = new Map<string, {requests: number; namespaced: number}>();
  for (const request of lists) {
    const entry = byResource.get(request.resource ?? `?`) ?? {requests: 0, namespaced: 0};
    entry.requests++;
    if (request.namespace)
      entry.namespaced++;
    byResource.set(request.resource ?? `?`, entry);
  }
  log(`in-process: exit ${result.code} in ${(inProcessMs / 1000).toFixed(2)} s`);
  log(`registry: ${stats.manifestRequests} manifest requests for ${images.length} unique (image, credential) pairs; ${stats.pings} pings; ${stats.tokenRequests} token requests (token server saw ${tokenRequests.length} for ${tokenRepositories} repositories, max ${Math.max(0, ...perScope.values())} per (repository, credential))`);
  log(`api: ${api.requests.length} requests; lists: ${[...byResource].map(([resource, entry]) => `${resource} ${entry.requests} page(s)${entry.namespaced ? ` (${entry.namespaced} namespaced!)` : ``}`).join(`, `)}`);
  const goals = [
    [`verify -A under 5 s (child process)`, child.ms < 5000],
    [`peak RSS under 300 MB`, child.peakKb < 300 * 1024],
    [`at most one token request per (registry, repository, credential)`, Math.max(0, ...perScope.values()) <= 1],
    // Each registry also gets its first, unauthenticated request (the challenge) and possibly one scheme probe.
    [`one manifest request per (image, credential), plus at most 2 per registry to learn its challenge`, stats.manifestRequests <= images.length + 2 * registries.length],
    [`API lists cluster-wide`, [...byResource.values()].every(entry => entry.namespaced === 0)],
  ] as const;
  reportGoals(goals, started, log);
} finally {
  await Promise.all([api.stop(), ...registries.map(registry => registry.stop())]);
  fs.rmSync(tmp, {recursive: true, force: true});
}
