import {after, before, test} from 'node:test';
import assert from 'node:assert/strict';
import type {ApiEmulator} from '../helpers/apiEmulator/index.ts';
import {startApiEmulator} from '../helpers/apiEmulator/index.ts';
import {runCli} from '../helpers/runCli.ts';
import {burstToUsable, eventually, metricValue, pullSecretUsable, startAgentProcess} from '../helpers/agent.ts';
import type {ChildAgent} from '../helpers/agent.ts';
import {b64} from '../helpers/encoding.ts';

// Two agents as separate processes (so that one can be SIGKILLed) against one API emulator.

let api: ApiEmulator;
const agents: ChildAgent[] = [];
before(async () => {
  api = await startApiEmulator();
});
after(async () => {
  for (const agent of agents)
    agent.child.kill(`SIGKILL`);
  await Promise.all(agents.map(agent => agent.exited));
  await api.stop();
});

const LEASE_FLAGS = [`--lease-duration`, `4s`, `--renew-deadline`, `3s`, `--retry-period`, `500ms`];
const holder = () => api.getObject(`leases`, `default`, `kubectl-pullsecret-agent`)?.spec?.holderIdentity ?? ``;
const usable = (namespace: string) => pullSecretUsable(api, namespace);
const percentile = (sorted: number[], p: number) => sorted[Math.min(sorted.length - 1, Math.ceil(p * sorted.length) - 1)]!;

test(`200 namespaces created in a burst while two agents run: each gets its copy and reference from the watch, not a resync; only the leader writes`, async () => {
  api.seed.namespace(`platform`);
  api.seed.secret(`platform`, {metadata: {name: `regcred`}, type: `kubernetes.io/dockerconfigjson`, data: {'.dockerconfigjson': b64(`{"auths":{"registry.example.com":{"auth":"${b64(`u:p`)}"}}}`)}});
  const kept = await runCli([`sync`, `regcred`, `--from-namespace`, `platform`, `--namespace-selector`, `burst=yes`, `--attach`, `--keep`, `--kubeconfig`, api.kubeconfigPath]);
  assert.equal(kept.code, 0, kept.stderr);
  agents.push(await startAgentProcess(api.kubeconfigPath, `agent-a`, LEASE_FLAGS), await startAgentProcess(api.kubeconfigPath, `agent-b`, LEASE_FLAGS));
  await eventually(`one agent leads`, () => holder() !== ``, 10_000);
  const leader = holder();
  const readiness = async (agent: ChildAgent) => (await fetch(`http://${agent.address}/readyz`)).ok;
  await eventually(`both agents have listed`, async () => (await readiness(agents[0]!)) && (await readiness(agents[1]!)), 10_000);

  const names = Array.from({length: 200}, (_, index) => `burst-${String(index).padStart(3, `0`)}`);
  const times = await burstToUsable(api, names, {burst: `yes`}, 20_000);
  const median = Math.round(percentile(times, 0.5));
  const worst = Math.round(times.at(-1)!);
  console.log(`namespace creation → usable pull secret over ${times.length} namespaces: median ${median} ms, p95 ${Math.round(percentile(times, 0.95))} ms, worst ${worst} ms`);
  // Two requests make a new namespace usable: the copy, and the reference added (the ServiceAccount comes from the cache).
  const sent = api.requests.filter(request => request.namespace === `burst-100` && request.resource !== `namespaces`).map(request => `${request.method} ${request.verb} ${request.resource}`);
  assert.deepEqual(sent, [`POST create secrets`, `PATCH patch serviceaccounts`]);
  // The goal is 2 s for every namespace: measured alone on this machine, median ≈ 0.6 s and worst ≈ 1.2 s
  // (bench/agent.ts measures it too). Under `npm test` two test files share the two cores, and beside the image
  // build the same burst measured a median of 3.4 s: the bounds here (5 s median, 10 s worst) catch an agent that
  // stops reacting to events (a resync every 10 min, a relist), not the machine's load.
  assert.ok(median < 5000, `median ${median} ms`);
  assert.ok(worst < 10_000, `worst ${worst} ms`);

  // Only the leader wrote the copies and references.
  const writers = new Set(api.requests.filter(request => request.method !== `GET` && request.resource !== `leases` && (request.namespace ?? ``).startsWith(`burst-`)).map(request => request.userAgent));
  assert.equal(writers.size, 1);
  const leaderAgent = agents.find(agent => agent.identity === leader)!;
  const follower = agents.find(agent => agent.identity !== leader)!;
  assert.ok(metricValue(await leaderAgent.metrics(), `pullsecret_agent_writes_total`) >= 400);
  assert.equal(metricValue(await follower.metrics(), `pullsecret_agent_writes_total`), 0);
  assert.equal(metricValue(await follower.metrics(), `pullsecret_agent_leader`), 0);
});

test(`the leader killed with SIGKILL: the other takes over within the lease duration and keeps new namespaces supplied`, async () => {
  const leader = agents.find(agent => agent.identity === holder())!;
  const other = agents.find(agent => agent !== leader)!;
  const killedAt = Date.now();
  leader.child.kill(`SIGKILL`);
  await leader.exited;
  const tookOver = await eventually(`${other.identity} holds the lease`, () => holder() === other.identity, 10_000, 20);
  console.log(`leader take-over after SIGKILL: ${Date.now() - killedAt} ms (lease duration 4 s, retry period 500 ms)`);
  assert.ok(tookOver <= 4000 + 1000, `took ${tookOver} ms`);
  await eventually(`the new leader reports it`, async () => metricValue(await other.metrics(), `pullsecret_agent_leader`) === 1);
  api.seed.namespace(`after-kill`, {labels: {burst: `yes`}});
  await eventually(`after-kill is usable`, () => usable(`after-kill`), 2000);
});

test(`the leader stopped with SIGTERM releases the lease, and a standby takes over at once`, async () => {
  const leader = agents.find(agent => agent.identity === holder() && agent.child.exitCode === null)!;
  const standby = await startAgentProcess(api.kubeconfigPath, `agent-c`, LEASE_FLAGS);
  agents.push(standby);
  const stoppedAt = Date.now();
  leader.child.kill(`SIGTERM`);
  assert.equal(await leader.exited, 0);
  assert.match(leader.stderr(), /INFO released the lease lease=default\/kubectl-pullsecret-agent/);
  await eventually(`agent-c holds the lease`, () => holder() === `agent-c`, 4000, 20);
  const took = Date.now() - stoppedAt;
  console.log(`leader hand-over after SIGTERM: ${took} ms`);
  assert.ok(took < 4000, `a released lease is taken before it would have expired (${took} ms)`);
});
