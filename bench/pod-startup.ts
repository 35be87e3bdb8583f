/**
 * Pod start-up in the test world (what `npm run sandbox` runs): the time from a pod's create (POST over HTTPS)
 * to the node reporting it Running and Ready (polled every 5 ms over HTTPS), for a private image pulled through
 * real containerd from the real token-auth registry with the pod's pull secret (`imagePullPolicy: Always`, so
 * every pod really pulls). Side by side: the same pod through `kubectl create -f` + `kubectl wait
 * --for=condition=Ready` (what a user observes, kubectl's own start-up and watch included).
 * Run: npm run bench:pod [-- --pods N] [--json]
 */
import fs from 'node:fs';
import https from 'node:https';
import os from 'node:os';
import path from 'node:path';
import {startWorld} from '../tests/helpers/world.ts';

const args = process.argv.slice(2);
const PODS = Number(args[args.indexOf(`--pods`) + 1] || 10) || 10;
const json = args.includes(`--json`);

const world = await startWorld({registry: {mode: `token`, users: {dev: `dev-pw`}, grants: {dev: {'team/*': [`pull`]}}}, backoff: {initialMs: 1000, maxMs: 10_000}});
const tmp = fs.mkdtempSync(path.join(os.tmpdir(), `bench-pod-`));
try {
  await world.registry.push(`team/app`, `1.0`);
  const image = `${world.registry.host}/team/app:1.0`;
  const secret = await world.kubectl([`create`, `secret`, `docker-registry`, `regcred`, `--docker-server=${world.registry.host}`, `--docker-username=dev`, `--docker-password=dev-pw`]);
  if (secret.code !== 0)
    throw new Error(secret.stderr);
  const url = new URL(world.api.url);
  const agent = new https.Agent({ca: world.api.caPem, keepAlive: true});
  const request = (method: string, p: string, body?: unknown) => new Promise<any>((resolve, reject) => {
    const req = https.request({hostname: url.hostname, port: url.port, path: p, method, agent, headers: {authorization: `Bearer ${world.api.tokens.admin}`, 'content-type': `application/json`, accept: `application/json`}}, res => {
      const chunks: Buffer[] = [];
      res.on(`data`, c => chunks.push(c));
      res.on(`end`, () => resolve(JSON.parse(Buffer.concat(chunks).toString(`utf8`))));
    });
    req.on(`error`, reject);
    req.end(body === undefined ? undefined : JSON.stringify(body));
  });
  const podBody = (name: string) => ({apiVersion: `v1`, kind: `Pod`, metadata: {name}, spec: {imagePullSecrets: [{name: `regcred`}], containers: [{name: `app`, image, imagePullPolicy: `Always`}]}});
  const ready = (pod: any) => pod.status?.phase === `Running` && (pod.status.conditions ?? []).some((c: any) => c.type === `Ready` && c.status === `True`);

  const api: number[] = [];
  for (let i = 0; i < PODS; i++) {
    const name = `api-${i}`;
    const start = performance.now();
    await request(`POST`, `/api/v1/namespaces/default/pods`, podBody(name));
    while (!ready(await request(`GET`, `/api/v1/namespaces/default/pods/${name}`)))
      await new Promise(resolve => setTimeout(resolve, 5));
    api.push(performance.now() - start);
  }
  const kubectl: number[] = [];
  for (let i = 0; i < Math.min(PODS, 5); i++) {
    const file = path.join(tmp, `pod-${i}.json`);
    fs.writeFileSync(file, JSON.stringify(podBody(`kubectl-${i}`)));
    const start = performance.now();
    const created = await world.kubectl([`create`, `-f`, file]);
    const waited = await world.kubectl([`wait`, `--for=condition=Ready`, `pod/kubectl-${i}`, `--timeout=60s`]);
    if (created.code !== 0 || waited.code !== 0)
      throw new Error(created.stderr + waited.stderr);
    kubectl.push(performance.now() - start);
  }
  const stats = (xs: number[]) => {
    const s = [...xs].sort((a, b) => a - b);
    return {runs: s.length, min: Math.round(s[0]!), median: Math.round(s[Math.floor(s.length / 2)]!), max: Math.round(s[s.length - 1]!)};
  };
  const pulls = world.node.pulls.filter(p => p.ok).length;
  const result = {createToRunningMs: stats(api), kubectlCreateAndWaitMs: stats(kubectl), successfulPulls: pulls, cpus: os.cpus().length};
  if (json) {
    process.stdout.write(`${JSON.stringify(result)}\n`);
  } else {
    process.stdout.write(`pod create → Running (API, ${result.createToRunningMs.runs} pods): min ${result.createToRunningMs.min} ms, median ${result.createToRunningMs.median} ms, max ${result.createToRunningMs.max} ms\n`);
    process.stdout.write(`kubectl create -f + kubectl wait --for=condition=Ready (${result.kubectlCreateAndWaitMs.runs} pods): min ${result.kubectlCreateAndWaitMs.min} ms, median ${result.kubectlCreateAndWaitMs.median} ms, max ${result.kubectlCreateAndWaitMs.max} ms\n`);
    process.stdout.write(`${pulls} real pulls through containerd, ${result.cpus} CPUs\n`);
  }
} finally {
  fs.rmSync(tmp, {recursive: true, force: true});
  await world.stop();
}
