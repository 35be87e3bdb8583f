/**
 * Issue 7 §1 for verify: over 200 namespaces, with 20 % of API requests failing (429 with Retry-After,
 * 500, 503, connection reset) or slow, verify (which only reads from the cluster) must reach exactly the
 * verdict and exit code it reaches without faults.
 */
import {test} from 'node:test';
import assert from 'node:assert/strict';
import {startApiEmulator} from '../helpers/apiEmulator/index.ts';
import {startRegistry} from '../helpers/registry/index.ts';
import {runCli} from '../helpers/runCli.ts';

const NAMESPACES = 200;
const PASSWORD = `faulted-verify-pw`;

type Row = {namespace: string; kind: string; name: string; container: string; image: string; status: string};

const verdict = (stdout: string) => (JSON.parse(stdout) as {results: Row[]}).results
  .map(row => `${row.namespace}/${row.kind}/${row.name}/${row.container} ${row.image} ${row.status}`)
  .sort();

test(`verify -A over 200 namespaces with 20 % faulted API requests reaches exactly the fault-free verdict`, {timeout: 120_000}, async t => {
  const [api, registry] = await Promise.all([startApiEmulator({seed: 11}), startRegistry({mode: `basic`, users: {alice: PASSWORD}})]);
  t.after(() => Promise.all([api.stop(), registry.stop()]));
  await registry.push(`team/app`, `v1`);
  const dockerConfig = Buffer.from(JSON.stringify({auths: {[registry.host]: {username: `alice`, password: PASSWORD}}})).toString(`base64`);
  for (let index = 0; index < NAMESPACES; index++) {
    const namespace = `vf-${index}`;
    api.seed.namespace(namespace);
    // Every third namespace lacks the secret its ServiceAccount names: a mixed verdict, not all-ok.
    if (index % 3 !== 0)
      api.seed.secret(namespace, {metadata: {name: `regcred`}, type: `kubernetes.io/dockerconfigjson`, data: {'.dockerconfigjson': dockerConfig}});
    api.seed.serviceAccount(namespace, `default`, {imagePullSecrets: [`regcred`]});
    api.seed.workload(`Deployment`, namespace, `app`, {containers: [{name: `app`, image: `${registry.host}/team/app:v1`}]});
  }
  const args = [`verify`, `-A`, `--kubeconfig`, api.kubeconfigPath, `-o`, `json`];

  const clean = await runCli(args);
  assert.equal(clean.code, 1, clean.stderr);
  const expected = verdict(clean.stdout);
  assert.equal(expected.filter(row => row.endsWith(` ok`)).length, NAMESPACES - Math.ceil(NAMESPACES / 3));
  assert.equal(expected.filter(row => row.endsWith(` secret-missing`)).length, Math.ceil(NAMESPACES / 3));

  api.faults.add({kind: `429`, fraction: 0.05, retryAfterSeconds: 1});
  api.faults.add({kind: `500`, fraction: 0.05});
  api.faults.add({kind: `503`, fraction: 0.04});
  api.faults.add({kind: `reset`, fraction: 0.03});
  api.faults.add({kind: `latency`, fraction: 0.05, latencyMs: 40});
  api.resetRequests();
  const faulted = await runCli(args);
  const faultedRequests = api.requests.length;
  t.diagnostic(`faulted run: exit ${faulted.code}, ${faultedRequests} API requests (clean run's verdict: ${expected.length} rows)`);
  assert.ok(faultedRequests > 0);
  // Reads are retried with backoff (honouring Retry-After), so a read-only run must come through whole:
  // the same rows, statuses and exit code as without faults. A session that gave up would exit non-zero
  // with no document; one that dropped a failed page would print a shorter verdict with the same exit.
  assert.notEqual(faulted.stdout, ``, `no document: ${faulted.stderr}`);
  assert.deepEqual(verdict(faulted.stdout), expected);
  assert.equal(faulted.code, clean.code);
  assert.doesNotMatch(faulted.stderr, /^\s+at /m, `no stack trace`);
});
