import {test} from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import {runCli} from '../helpers/runCli.ts';

// Malformed kubeconfigs: each must give exactly one `error:` line naming the input and saying what to do,
// exit code 1 (an environment problem, see README "Exit codes"), nothing on stdout, no stack trace, and
// never a token from the file. `add ... --docker-password-stdin` is a command that connects once.
const CORPUS = path.join(import.meta.dirname, `../corpus/kubeconfig`);

const EXPECTED: Record<string, RegExp> = {
  [`no-current-context.yaml`]: /no current context is set in kubeconfig \(.*no-current-context\.yaml\); pass --context/,
  [`current-context-dangling.yaml`]: /current-context "ghost" in kubeconfig \(.*current-context-dangling\.yaml\) names no context/,
  [`context-missing-cluster.yaml`]: /cluster "nowhere" of context "x" not found in kubeconfig \(.*context-missing-cluster\.yaml\)/,
  [`context-missing-user.yaml`]: /user "nobody" of context "x" not found in kubeconfig \(.*context-missing-user\.yaml\)/,
  [`bad-ca-data.yaml`]: /certificate-authority-data of cluster "c" in .*bad-ca-data\.yaml holds no PEM certificate/,
  [`bad-ca-base64.yaml`]: /certificate-authority-data of cluster "c" in .*bad-ca-base64\.yaml is not valid base64/,
  [`missing-ca-file.yaml`]: /cannot read certificate-authority of cluster "c" \(.*missing-ca-file\.yaml\): .*no-such-ca\.crt: no such file/,
  [`exec-unknown-command.yaml`]: /exec credential plugin "kubectl-pullsecret-no-such-credential-plugin" of user "u" \(.*exec-unknown-command\.yaml\) was not found on PATH: install the no-such-credential-plugin package/,
  [`not-yaml.yaml`]: /kubeconfig .*not-yaml\.yaml is not valid YAML \(line \d+, column \d+\)/,
  [`not-a-mapping.yaml`]: /kubeconfig .*not-a-mapping\.yaml is not a kubeconfig/,
  [`empty.yaml`]: /kubeconfig .*empty\.yaml is empty/,
  [`cluster-without-server.yaml`]: /cluster "c" in .*cluster-without-server\.yaml has no server URL/,
  [`missing-token-file.yaml`]: /cannot read token-file of user "u" \(.*missing-token-file\.yaml\): .*no-such-token: no such file/,
};

test(`every file in the kubeconfig corpus has an expected message`, () => {
  const files = fs.readdirSync(CORPUS).filter(file => file.endsWith(`.yaml`)).sort();
  assert.deepEqual(files, Object.keys(EXPECTED).sort());
});

for (const [file, expected] of Object.entries(EXPECTED)) {
  test(`kubeconfig ${file} gives one error line naming it, exit 1, no stack trace and no token`, async () => {
    const result = await runCli(
      [`add`, `regcred`, `--docker-server`, `registry.example`, `--docker-username`, `bot`, `--docker-password-stdin`, `--kubeconfig`, path.join(CORPUS, file)],
      {stdin: `pw`, env: {PATH: `/usr/bin:/bin`}},
    );
    assert.equal(result.code, 1, result.stderr);
    assert.equal(result.stdout, ``);
    const lines = result.stderr.split(`\n`).filter(line => line !== ``);
    assert.equal(lines.length, 1, result.stderr);
    assert.match(lines[0]!, /^error: /);
    assert.match(lines[0]!, expected);
    assert.doesNotMatch(result.stderr, /corpus-(secret-)?token|\n\s+at /);
  });
}

test(`-v does not add a stack trace to a kubeconfig error`, async () => {
  const result = await runCli(
    [`add`, `regcred`, `--docker-server`, `registry.example`, `--docker-username`, `bot`, `--docker-password-stdin`, `-v`, `--kubeconfig`, path.join(CORPUS, `not-yaml.yaml`)],
    {stdin: `pw`},
  );
  assert.equal(result.code, 1);
  assert.doesNotMatch(result.stderr, /\n\s+at |corpus-secret-token/);
});
