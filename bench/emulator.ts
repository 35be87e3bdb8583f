/**
 * Emulator scale benchmark: seeds 2,000 namespaces, 20,000 pods and 40,000 other objects, then
 * times a full paginated list of all pods (limit=500) over HTTPS, like `kubectl get pods -A`
 * or the plugin's cluster-wide gather. Run: node_modules/.bin/node bench/emulator.ts [--json]
 */
import https from 'node:https';
import os from 'node:os';
import {startApiEmulator} from '../tests/helpers/apiEmulator/index.ts';

const NAMESPACES = 2000;
const PODS_PER_NAMESPACE = 10;

function get(agent: https.Agent, url: URL, path: string, token: string, ca: string): Promise<any> {
  return new Promise((resolve, reject) => {
    const req = https.request({hostname: url.hostname, port: url.port, path, ca, agent, headers: {authorization: `Bearer ${token}`, accept: `application/json`}}, res => {
      const chunks: Buffer[] = [];
      res.on(`data`, c => chunks.push(c));
      res.on(`end`, () => {
        if (res.statusCode !== 200)
          reject(new Error(`GET ${path}: ${res.statusCode}`));
        else
          resolve(JSON.parse(Buffer.concat(chunks).toString(`utf8`)));
      });
    });
    req.on(`error`, reject);
    req.end();
  });
}

const api = await startApiEmulator();
try {
  const seedStart = performance.now();
  const {counts} = api.seed.bulk({namespaces: NAMESPACES, podsPerNamespace: PODS_PER_NAMESPACE, secretsPerNamespace: 10, serviceAccountsPerNamespace: 4, deploymentsPerNamespace: 5});
  const seedMs = performance.now() - seedStart;
  const others = counts.secrets! + counts.serviceaccounts! + counts.deployments!;

  const url = new URL(api.url);
  const agent = new https.Agent({keepAlive: true, maxSockets: 1});
  const runs: Array<{ms: number; cpuMs: number; requests: number; pods: number}> = [];
  for (let run = 0; run < 3; run++) {
    const started = performance.now();
    const cpuStart = process.cpuUsage();
    let cont: string | undefined;
    let requests = 0;
    let pods = 0;
    do {
      const page = await get(agent, url, `/api/v1/pods?limit=500${cont ? `&continue=${encodeURIComponent(cont)}` : ``}`, api.tokens.admin, api.caPem);
      requests++;
      pods += page.items.length;
      cont = page.metadata.continue;
    } while (cont);
    const cpu = process.cpuUsage(cpuStart);
    runs.push({ms: performance.now() - started, cpuMs: (cpu.user + cpu.system) / 1000, requests, pods});
  }
  agent.destroy();
  const rssMb = process.memoryUsage().rss / 1024 / 1024;
  const result = {
    namespaces: counts.namespaces, pods: counts.pods, otherObjects: others, seedMs: Math.round(seedMs),
    listMs: runs.map(r => Math.round(r.ms)), listCpuMs: runs.map(r => Math.round(r.cpuMs)), loadAverage: os.loadavg()[0]!.toFixed(1), requests: runs[0]!.requests, podsListed: runs[0]!.pods, rssMb: Math.round(rssMb),
  };
  if (process.argv.includes(`--json`)) {
    process.stdout.write(`${JSON.stringify(result)}\n`);
  } else {
    process.stdout.write(`seeded ${result.namespaces} namespaces, ${result.pods} pods, ${result.otherObjects} other objects in ${result.seedMs} ms\n`);
    process.stdout.write(`full paginated pod list (limit=500): ${result.listMs.join(` / `)} ms (cold / warm / warm), ${result.requests} requests, ${result.podsListed} pods\n`);
    process.stdout.write(`CPU time of server + client for those lists: ${result.listCpuMs.join(` / `)} ms (machine load average ${result.loadAverage})\n`);
    process.stdout.write(`RSS ${result.rssMb} MB\n`);
  }
  if (runs.some(r => r.pods !== counts.pods))
    throw new Error(`the paginated list returned ${runs.map(r => r.pods).join(`/`)} pods, expected ${counts.pods}`);
} finally {
  await api.stop();
}
