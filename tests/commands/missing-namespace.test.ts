// One rule for every command: a namespace named with -n or --namespaces that does not exist is an error naming it,
// exit 1; in a fan-out the other namespaces are still done.
import {before, test} from 'node:test';
import assert from 'node:assert/strict';
import {runCli} from '../helpers/runCli.ts';
import {useApiEmulator} from '../helpers/apiEmulator/fixture.ts';

const api = await useApiEmulator();
before(async () => {
  api.seed.namespace(`here`);
  api.seed.secret(`here`, {metadata: {name: `regcred`}, type: `kubernetes.io/dockerconfigjson`, data: {'.dockerconfigjson': Buffer.from(`{"auths":{"r.example":{"username":"u","password":"p"}}}`).toString(`base64`)}});
  api.seed.serviceAccount(`here`, `default`, {});
});

const credentials = [`--docker-server`, `r.example`, `--docker-username`, `u`, `--docker-password-stdin`];
const COMMANDS: Record<string, string[]> = {
  add: [`add`, `newcred`, ...credentials],
  attach: [`attach`, `regcred`, `--allow-missing`],
  detach: [`detach`, `regcred`],
  remove: [`remove`, `regcred`],
  sync: [`sync`, `regcred`, `--from-namespace`, `here`],
  doctor: [`doctor`],
  verify: [`verify`],
  list: [`list`],
};

for (const [name, argv] of Object.entries(COMMANDS)) {
  test(`${name} -n nosuch exits 1 with an error naming the namespace`, async () => {
    const result = await runCli([...argv, `-n`, `nosuch`, `--kubeconfig`, api.kubeconfigPath], {stdin: `pw\n`});
    assert.equal(result.code, 1, `${result.stdout}${result.stderr}`);
    assert.match(result.stderr, /^(error: |nosuch: ).*"nosuch" not found/m);
  });
}

for (const [name, argv] of Object.entries(COMMANDS).filter(([name]) => name !== `sync` && name !== `remove`)) {
  test(`${name} --namespaces here,nosuch exits 1 naming nosuch, and still does here`, async () => {
    const result = await runCli([...argv, `--namespaces`, `here,nosuch`, `--kubeconfig`, api.kubeconfigPath], {stdin: `pw\n`});
    assert.equal(result.code, 1, `${result.stdout}${result.stderr}`);
    assert.match(result.stdout + result.stderr, /(^error: |^nosuch: failed at check namespace: |^note: ).*namespace "nosuch" not found/m);
    assert.doesNotMatch(result.stderr, /skipped \(namespace "nosuch" not found\)/);
  });
}

for (const argv of [[`add`, `newcred`, ...credentials], [`sync`, `regcred`, `--from-namespace`, `here`], [`verify`], [`list`], [`doctor`]]) {
  test(`${argv[0]} --namespace-selector that matches no namespace says so on stderr`, async () => {
    const result = await runCli([...argv, `--namespace-selector`, `team=nobody`, `--kubeconfig`, api.kubeconfigPath], {stdin: `pw\n`});
    assert.match(result.stderr, /^warning: --namespace-selector "team=nobody" matches no namespace$/m, `${result.code} ${result.stdout}${result.stderr}`);
  });
}
