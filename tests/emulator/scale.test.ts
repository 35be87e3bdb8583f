/** The emulator at the issue's scale: 2,000 namespaces, 20,000 pods, 40,000 other objects. */
import {test, before, after} from 'node:test';
import assert from 'node:assert/strict';
import https from 'node:https';
import {startApiEmulator, type ApiEmulator} from '../helpers/apiEmulator/index.ts';

let api: ApiEmulator;
before(async () => {
  api = await startApiEmulator();
  api.seed.bulk({namespaces: 2000, podsPerNamespace: 10, secretsPerNamespace: 10, serviceAccountsPerNamespace: 4, deploymentsPerNamespace: 5});
});
after(async () => {
  await api?.stop();
});

function getJson(agent: https.Agent, path: string): Promise<any> {
  const url = new URL(api.url);
  return new Promise((resolve, reject) => {
    https.get({hostname: url.hostname, port: url.port, path, ca: api.caPem, agent, headers: {authorization: `Bearer ${api.tokens.admin}`}}, res => {
      const chunks: Buffer[] = [];
      res.on(`data`, c => chunks.push(c));
      res.on(`end`, () => resolve(JSON.parse(Buffer.concat(chunks).toString(`utf8`))));
    }).on(`error`, reject);
  });
}

test(`bulk seeding holds 2,000 namespaces, 20,000 pods and 40,000 other objects`, () => {
  assert.equal(api.count(`namespaces`), 2004);
  assert.equal(api.count(`pods`), 20000);
  assert.equal(api.count(`pods`, `bulk-0007`), 10);
  const others = [`secrets`, `serviceaccounts`, `deployments`].reduce((n, r) => n + api.count(r), 0);
  assert.ok(others >= 40000, `${others} other objects`);
});

test(`a cluster-wide paginated pod list (limit=500) returns every pod exactly once, in 40 pages`, async t => {
  const agent = new https.Agent({keepAlive: true, maxSockets: 1});
  t.after(() => agent.destroy());
  const seen = new Set<string>();
  let cont: string | undefined;
  let requests = 0;
  do {
    const page = await getJson(agent, `/api/v1/pods?limit=500${cont ? `&continue=${encodeURIComponent(cont)}` : ``}`);
    requests++;
    assert.ok(page.items.length <= 500);
    for (const p of page.items)
      seen.add(`${p.metadata.namespace}/${p.metadata.name}`);
    cont = page.metadata.continue;
  } while (cont);
  // How long it takes is measured by bench/emulator.ts (`npm run bench:emulator`), not asserted by a test.
  assert.equal(requests, 40);
  assert.equal(seen.size, 20000);
});

test(`a namespaced list at scale reads only that namespace`, async t => {
  const agent = new https.Agent({keepAlive: true});
  t.after(() => agent.destroy());
  const page = await getJson(agent, `/api/v1/namespaces/bulk-1234/pods`);
  assert.equal(page.items.length, 10);
  assert.ok(page.items.every((p: any) => p.metadata.namespace === `bulk-1234`));
});
