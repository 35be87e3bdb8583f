import {test} from 'node:test';
import assert from 'node:assert/strict';
import {runCli} from '../helpers/runCli.ts';

test(`version prints the plugin version, commit and node version on stdout`, async () => {
  const result = await runCli([`version`]);
  assert.equal(result.code, 0);
  assert.match(result.stdout, /^kubectl-pullsecret \S+ \(commit \S+, node v\d+\.\d+\.\d+\)\n$/);
  assert.equal(result.stderr, ``);
});

test(`--version is the same as version`, async () => {
  const [a, b] = [await runCli([`version`]), await runCli([`--version`])];
  assert.equal(a.stdout, b.stdout);
});

test(`version -o json prints parseable JSON with the three fields`, async () => {
  const result = await runCli([`version`, `-o`, `json`]);
  assert.deepEqual(Object.keys(JSON.parse(result.stdout)), [`version`, `gitCommit`, `nodeVersion`]);
});

test(`an unknown output format is a usage error on stderr with exit 2`, async () => {
  const result = await runCli([`version`, `-o`, `xml`]);
  assert.equal(result.code, 2);
  assert.equal(result.stdout, ``);
  assert.match(result.stderr, /^error: unsupported output format "xml": use json or yaml\n/);
});

test(`an unknown command is one error line on stderr with exit 2, not clipanion's stdout listing`, async () => {
  const result = await runCli([`frobnicate`]);
  assert.equal(result.code, 2);
  assert.equal(result.stdout, ``);
  assert.match(result.stderr, /^error: unknown command "frobnicate" for "kubectl pullsecret"\n/);
  assert.doesNotMatch(result.stderr, /While running/);
});

test(`a mistyped command suggests the closest one, as kubectl does`, async () => {
  const result = await runCli([`verfy`, `-A`]);
  assert.equal(result.code, 2);
  assert.match(result.stderr, /^error: unknown command "verfy" for "kubectl pullsecret"; did you mean "verify"\?\n/);
});

test(`a flag value placed before the command is not mistaken for the command`, async () => {
  const result = await runCli([`--kubeconfig`, `version`, `version`]);
  assert.equal(result.code, 2);
  assert.match(result.stderr, /^error: unknown flag: --kubeconfig\n/);
});

test(`no arguments prints the overview of every visible command on stdout, exit 0`, async () => {
  const result = await runCli([]);
  assert.equal(result.code, 0);
  for (const name of [`add`, `attach`, `detach`, `sync`, `rotate`, `remove`, `list`, `decode`, `explain`, `verify`, `doctor`, `completion`, `version`])
    assert.match(result.stdout, new RegExp(`^  ${name} +\\S`, `m`));
  assert.doesNotMatch(result.stdout, /__complete/);
});

test(`an unknown flag names the flag`, async () => {
  const result = await runCli([`version`, `--frobnicate`]);
  assert.equal(result.code, 2);
  assert.match(result.stderr, /^error: .*--frobnicate/);
});

test(`--help prints usage on stdout and exits 0`, async () => {
  const result = await runCli([`--help`]);
  assert.equal(result.code, 0);
  assert.match(result.stdout, /kubectl pullsecret/);
});
