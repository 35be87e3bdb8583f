import {test} from 'node:test';
import assert from 'node:assert/strict';
import {buildCli} from '../../sources/cli.ts';
import {AddCommand} from '../../sources/commands/add.ts';
import {ListCommand} from '../../sources/commands/list.ts';
import {warmUp} from '../../sources/warmup.ts';
import {CODE_CACHE_GROUPS} from '../../sources/bundleLoader.ts';
import {runCli} from '../helpers/runCli.ts';

const ADD_DRY_RUN = [`--docker-username`, `u`, `--docker-password-stdin`, `--dry-run=client`, `-o`, `json`];

test(`the warm-up of each code cache that the build writes succeeds in-process (a failing run fails the build)`, async () => {
  for (const group of CODE_CACHE_GROUPS)
    await assert.doesNotReject(warmUp(group), group);
  await assert.rejects(warmUp(`no-such-command`), /no warm-up for the code cache "no-such-command"/);
});

test(`a reused compiled parser parses each run's own arguments`, async () => {
  const first = await runCli([`add`, `first`, `--docker-server`, `one.example.com`, ...ADD_DRY_RUN, `-n`, `team-a`], {stdin: `p1`});
  const second = await runCli([`add`, `second`, `--docker-server`, `two.example.com`, ...ADD_DRY_RUN], {stdin: `p2`});
  assert.equal(first.code, 0, first.stderr);
  assert.equal(second.code, 0, second.stderr);
  const [a, b] = [JSON.parse(first.stdout), JSON.parse(second.stdout)];
  assert.deepEqual([a.metadata.name, a.metadata.namespace], [`first`, `team-a`]);
  assert.deepEqual([b.metadata.name, b.metadata.namespace], [`second`, undefined]);
  const registries = (secret: {data: Record<string, string>}) => Object.keys(JSON.parse(Buffer.from(secret.data[`.dockerconfigjson`]!, `base64`).toString()).auths);
  assert.deepEqual(registries(a), [`one.example.com`]);
  assert.deepEqual(registries(b), [`two.example.com`]);
});

test(`a reused compiled parser still reports the errors of each run`, async () => {
  assert.equal((await runCli([`add`, `ok`, `--docker-server`, `r.example.com`, ...ADD_DRY_RUN], {stdin: `p`})).code, 0);
  const result = await runCli([`add`, `ok`, `--docker-server`, `r.example.com`, `--no-such-flag`, ...ADD_DRY_RUN], {stdin: `p`});
  assert.equal(result.code, 2);
  assert.match(result.stderr, /^error: unknown flag: --no-such-flag\n/);
});

test(`the parser for a set of commands is compiled once per process, not once per parse`, () => {
  // Reads clipanion's private builder, as buildCli does: the saving must not silently disappear.
  const compiled = (commands: Array<typeof AddCommand | typeof ListCommand>) => (buildCli({env: {}, stdout: {isTTY: false} as never}, commands) as unknown as {builder: {compile: () => unknown}}).builder.compile();
  assert.equal(compiled([AddCommand]), compiled([AddCommand]));
  assert.notEqual(compiled([AddCommand]), compiled([ListCommand]));
});

test(`the warm-up reaches its made-up cluster over TLS with the certificate the build makes, and verifies it as a real run does`, async () => {
  const {warmUpCertificate} = await import(`../../scripts/lib/warmUpCertificate.ts`);
  const certificate = warmUpCertificate();
  assert.ok(certificate, `openssl made the warm-up's certificate`);
  for (const group of CODE_CACHE_GROUPS.filter(group => group !== `add`))
    await assert.doesNotReject(warmUp(group, certificate), group);
  // A certificate for another name fails the kubeconfig's tls-server-name: the warm-up's connections are real TLS ones.
  await assert.rejects(warmUp(`decode`, warmUpCertificate(`not-the-warm-up.example`)), /exited with/);
});
