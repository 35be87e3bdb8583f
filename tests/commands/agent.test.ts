import {after, before, test} from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import {runKubectl} from '../helpers/apiEmulator/index.ts';
import {runCli} from '../helpers/runCli.ts';
import {eventually, metricValue, startAgentInProcess} from '../helpers/agent.ts';
import {b64} from '../helpers/encoding.ts';
import {useApiEmulator} from '../helpers/apiEmulator/fixture.ts';

const config = (password: string) => b64(`{"auths":{"registry.example.com":{"username":"u","password":"${password}","auth":"${b64(`u:${password}`)}"}}}`);

const api = await useApiEmulator({bookmarkIntervalMs: 200});
let dir: string;
before(async () => {
  dir = fs.mkdtempSync(path.join(os.tmpdir(), `agent-test-`));
});
after(async () => {
  fs.rmSync(dir, {recursive: true, force: true});
});

const kubectl = (...args: string[]) => runKubectl(args, {kubeconfig: api.kubeconfigPath});
const copyOf = (namespace: string) => api.getObject(`secrets`, namespace, `regcred`);
const attached = (namespace: string, sa = `default`) => (api.getObject(`serviceaccounts`, namespace, sa)?.imagePullSecrets ?? []).some((ref: {name: string}) => ref.name === `regcred`);
const passwordIn = (namespace: string) => JSON.parse(Buffer.from(copyOf(namespace)?.data?.[`.dockerconfigjson`] ?? b64(`{"auths":{}}`), `base64`).toString(`utf8`)).auths[`registry.example.com`]?.password;

/** A source in `<group>-src` kept in sync (with --attach) over the namespaces labelled group=<group>. */
async function keep(group: string, attach = `--attach`) {
  api.seed.namespace(`${group}-src`);
  api.seed.secret(`${group}-src`, {metadata: {name: `regcred`}, type: `kubernetes.io/dockerconfigjson`, data: {'.dockerconfigjson': config(`first-secret-value`)}});
  api.seed.namespace(`${group}-first`, {labels: {group}});
  const synced = await runCli([`sync`, `regcred`, `--from-namespace`, `${group}-src`, `--namespace-selector`, `group=${group}`, attach, `--keep`, `--kubeconfig`, api.kubeconfigPath]);
  assert.equal(synced.code, 0, synced.stderr);
}

test(`a namespace created while the agent runs gets the copy and the ServiceAccount reference at once; metrics and JSON logs say so`, async () => {
  await keep(`a1`);
  const agent = await startAgentInProcess(api.kubeconfigPath, [`--log-format`, `json`]);
  try {
    await eventually(`the agent leads`, async () => metricValue(await agent.metrics(), `pullsecret_agent_leader`) === 1);
    const created = await kubectl(`create`, `namespace`, `a1-new`);
    assert.equal(created.code, 0, created.stderr);
    assert.equal((await kubectl(`label`, `namespace`, `a1-new`, `group=a1`)).code, 0);
    const took = await eventually(`copy and reference in a1-new`, () => copyOf(`a1-new`) !== undefined && attached(`a1-new`), 2000);
    assert.ok(took < 2000);
    // A namespace outside the selector gets nothing.
    api.seed.namespace(`a1-other`);
    await new Promise(resolve => setTimeout(resolve, 300));
    assert.equal(copyOf(`a1-other`), undefined);
    const metrics = await agent.metrics();
    assert.match(metrics, /^# HELP pullsecret_agent_reconciles_total /m);
    assert.match(metrics, /^# TYPE pullsecret_agent_writes_total counter$/m);
    assert.ok(metricValue(metrics, `pullsecret_agent_writes_total`) >= 2);
    assert.equal(metricValue(metrics, `pullsecret_agent_sync_policies`), 1);
  } finally {
    const result = await agent.stop();
    assert.equal(result.code, 0, result.stderr);
    const lines = result.stderr.trim().split(`\n`).map(line => JSON.parse(line));
    assert.ok(lines.every(line => typeof line.time === `string` && typeof line.level === `string` && typeof line.msg === `string`));
    assert.ok(lines.some(line => line.msg === `secret/regcred created from a1-src/regcred` && line.namespace === `a1-new`));
    assert.ok(lines.some(line => line.msg === `released the lease`));
    assert.doesNotMatch(result.stderr, /first-secret-value|dTpmaXJzdC1zZWNyZXQtdmFsdWU/);
  }
});

test(`a rotated source reaches every copy, a deleted copy is recreated, a new ServiceAccount is attached (attach=all)`, async () => {
  await keep(`a2`, `--attach=all`);
  api.seed.namespace(`a2-second`, {labels: {group: `a2`}});
  const agent = await startAgentInProcess(api.kubeconfigPath);
  try {
    await eventually(`both namespaces hold a copy`, () => copyOf(`a2-first`) !== undefined && copyOf(`a2-second`) !== undefined);
    assert.equal((await kubectl(`patch`, `secret`, `regcred`, `-n`, `a2-src`, `--type=merge`, `-p`, JSON.stringify({data: {'.dockerconfigjson': config(`second-secret-value`)}}))).code, 0);
    await eventually(`the rotation reaches the copies`, () => passwordIn(`a2-first`) === `second-secret-value` && passwordIn(`a2-second`) === `second-secret-value`);
    assert.equal((await kubectl(`delete`, `secret`, `regcred`, `-n`, `a2-second`)).code, 0);
    await eventually(`the deleted copy is back`, () => passwordIn(`a2-second`) === `second-secret-value`);
    assert.equal((await kubectl(`create`, `serviceaccount`, `builder`, `-n`, `a2-first`)).code, 0);
    await eventually(`the new ServiceAccount references the copy`, () => attached(`a2-first`, `builder`));
  } finally {
    const result = await agent.stop();
    assert.doesNotMatch(result.stderr, /second-secret-value|first-secret-value/);
  }
});

test(`after a compaction the agent lists again (410 Gone) and keeps converging`, async () => {
  await keep(`a3`);
  const agent = await startAgentInProcess(api.kubeconfigPath);
  try {
    await eventually(`the agent leads`, async () => metricValue(await agent.metrics(), `pullsecret_agent_leader`) === 1);
    const before = await agent.metrics();
    api.seed.namespace(`a3-unseen`);
    api.compact();
    // The streams end: the agent watches again from its last resourceVersion, which is now too old.
    api.endWatches();
    await eventually(`the agent lists again`, async () => metricValue(await agent.metrics(), `pullsecret_agent_relists_total`) > metricValue(before, `pullsecret_agent_relists_total`));
    api.seed.namespace(`a3-after`, {labels: {group: `a3`}});
    await eventually(`a3-after holds a copy`, () => copyOf(`a3-after`) !== undefined && attached(`a3-after`));
    assert.ok(metricValue(await agent.metrics(), `pullsecret_agent_watch_restarts_total`) >= 3);
  } finally {
    const result = await agent.stop();
    assert.match(result.stderr, /INFO watch of namespaces expired \(410 Gone\); listing again/);
  }
});

test(`with 20% of API requests failing, every namespace still converges`, async () => {
  await keep(`a4`);
  const agent = await startAgentInProcess(api.kubeconfigPath);
  try {
    await eventually(`the agent leads`, async () => metricValue(await agent.metrics(), `pullsecret_agent_leader`) === 1);
    api.faults.add({fraction: 0.2, kind: `500`});
    api.faults.add({fraction: 0.05, kind: `reset`});
    const names = Array.from({length: 20}, (_, index) => `a4-n${index}`);
    for (const [index, name] of names.entries()) {
      api.seed.namespace(name, {labels: {group: `a4`}});
      // Streams end now and then, so that watches start again through the faults.
      if (index % 5 === 0)
        api.endWatches();
      await new Promise(resolve => setTimeout(resolve, 20));
    }
    await eventually(`every namespace converged`, () => names.every(name => copyOf(name) !== undefined && attached(name)), 30_000);
    assert.ok(metricValue(await agent.metrics(), `pullsecret_agent_errors_total`) > 0, `the faults were seen`);
  } finally {
    api.faults.clear();
    await agent.stop();
  }
});

test(`a scheduled refresh whose command fails leaves the old secret in place and logs the failure; one that works updates the copies`, async () => {
  api.seed.namespace(`a5-src`);
  api.seed.namespace(`a5-copy`);
  const file = path.join(dir, `a5.token`);
  fs.writeFileSync(file, `token-one\n`);
  const command = `if [ -e ${file}.fail ]; then echo 'AccessDenied: expired session' >&2; exit 254; fi; cat ${file}`;
  const added = await runCli([`add`, `regcred`, `-n`, `a5-src`, `--docker-server`, `registry.example.com`, `--docker-username`, `u`, `--password-command`, command, `--kubeconfig`, api.kubeconfigPath], {env: {PATH: `/usr/bin:/bin`}});
  assert.equal(added.code, 0, added.stderr);
  assert.equal((await runCli([`sync`, `regcred`, `--from-namespace`, `a5-src`, `-n`, `a5-copy`, `--kubeconfig`, api.kubeconfigPath])).code, 0);
  fs.writeFileSync(`${file}.fail`, ``);
  fs.writeFileSync(file, `token-two\n`);
  const agent = await startAgentInProcess(api.kubeconfigPath, [`--refresh-interval`, `300ms`, `--max-age`, `1ms`]);
  let result;
  try {
    await eventually(`a failed refresh is counted`, async () => metricValue(await agent.metrics(), `pullsecret_agent_errors_total`) >= 1);
    assert.equal(passwordIn(`a5-copy`), `token-one`);
    assert.equal(JSON.parse(Buffer.from(api.getObject(`secrets`, `a5-src`, `regcred`).data[`.dockerconfigjson`], `base64`).toString(`utf8`)).auths[`registry.example.com`].password, `token-one`);
    fs.rmSync(`${file}.fail`);
    await eventually(`the refresh goes through to the copy`, () => passwordIn(`a5-copy`) === `token-two`);
  } finally {
    result = await agent.stop();
  }
  assert.match(result.stderr, /ERROR refresh failed; the secret was left as it was secret=a5-src\/regcred error=".*AccessDenied: expired session/);
  assert.doesNotMatch(result.stderr, /token-one|token-two/);
});

test(`agent rejects bad flags before connecting`, async () => {
  for (const [flags, message] of [
    [[`--log-format`, `xml`], /^error: unsupported log format "xml": use text or json/],
    [[`--lease-duration`, `5s`, `--renew-deadline`, `10s`], /^error: --retry-period must be shorter than --renew-deadline, and --renew-deadline shorter than --lease-duration/],
  ] as Array<[string[], RegExp]>) {
    const result = await runCli([`agent`, ...flags, `--kubeconfig`, `/nonexistent`], {context: {shutdownSignal: () => new AbortController().signal}});
    assert.equal(result.code, 2, flags.join(` `));
    assert.match(result.stderr, message);
  }
});
