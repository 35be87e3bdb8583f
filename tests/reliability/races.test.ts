/**
 * Issue 7 §2: many `attach` runs of different secrets to the same ServiceAccounts, racing each other and
 * another writer that edits the same objects (read-modify-write with resourceVersion, as a careful
 * controller would): no entry may be lost, none duplicated.
 */
import {test} from 'node:test';
import assert from 'node:assert/strict';
import {startApiEmulator} from '../helpers/apiEmulator/index.ts';
import {runCli} from '../helpers/runCli.ts';
import {connectCluster} from '../../sources/adapters/kube/connect.ts';

const CONFIG = Buffer.from(`{"auths":{}}`).toString(`base64`);
const RUNS = 100;
const OTHER_EDITS = 40;

test(`100 concurrent attach runs and another writer on the same ServiceAccounts lose no entry and duplicate none`, {timeout: 60_000}, async t => {
  const api = await startApiEmulator();
  t.after(() => api.stop());
  api.seed.namespace(`race`);
  api.seed.serviceAccount(`race`, `builder`, {imagePullSecrets: [`pre-existing`]});
  for (let i = 0; i < RUNS; i++)
    api.seed.secret(`race`, {metadata: {name: `secret-${i}`}, type: `kubernetes.io/dockerconfigjson`, data: {'.dockerconfigjson': CONFIG}});

  // The other writer: adds its own entries one by one with PUT + resourceVersion, retrying on 409.
  const session = await connectCluster({kubeconfig: api.kubeconfigPath, env: {}});
  const otherWriter = async () => {
    for (let i = 0; i < OTHER_EDITS; i++) {
      const name = i % 2 === 0 ? `default` : `builder`;
      for (;;) {
        const current = (await session.get(`serviceaccounts`, `race`, name))!;
        const list = [...((current.imagePullSecrets as Array<{name: string}> | undefined) ?? []), {name: `other-${i}`}];
        try {
          await session.replace(`serviceaccounts`, `race`, name, {...current, imagePullSecrets: list, metadata: {...current.metadata, labels: {...current.metadata.labels, edit: String(i)}}});
          break;
        } catch (error) {
          if ((error as {code?: number}).code !== 409)
            throw error;
        }
      }
    }
  };

  const started = Date.now();
  const [results] = await Promise.all([
    Promise.all(Array.from({length: RUNS}, (_, i) => runCli([`attach`, `secret-${i}`, `-n`, `race`, `--service-account`, `default`, `--service-account`, `builder`, `--kubeconfig`, api.kubeconfigPath]))),
    otherWriter(),
  ]);
  const elapsed = Date.now() - started;
  t.diagnostic(`${RUNS} attach runs + ${OTHER_EDITS} edits in ${elapsed} ms; ${api.requests.filter(r => r.method === `PATCH`).length} PATCH requests (${api.requests.filter(r => r.method === `PATCH` && r.status === 422).length} refused by their test op)`);

  const failures = results.map((result, i) => ({i, ...result})).filter(result => result.code !== 0);
  assert.deepEqual(failures, []);
  for (const name of [`default`, `builder`]) {
    const entries = ((api.getObject(`serviceaccounts`, `race`, name).imagePullSecrets ?? []) as Array<{name: string}>).map(entry => entry.name);
    assert.equal(new Set(entries).size, entries.length, `${name} has duplicate entries: ${entries.join(`,`)}`);
    const expected = [
      ...(name === `builder` ? [`pre-existing`] : []),
      ...Array.from({length: RUNS}, (_, i) => `secret-${i}`),
      ...Array.from({length: OTHER_EDITS}, (_, i) => `other-${i}`).filter((_, i) => (i % 2 === 0) === (name === `default`)),
    ];
    assert.deepEqual([...entries].sort(), [...expected].sort(), `${name} lost entries`);
    if (name === `builder`)
      assert.equal(entries[0], `pre-existing`, `the entry that was there first stays first`);
  }
});
