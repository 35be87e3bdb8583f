// verify's CI formats (-o junit|github|sarif|markdown) over multi-document -f input, against the API emulator and
// a real docker-registry: each carries the same results and exit code as -o json, JUnit validates with xmllint
// against docs/junit.xsd, SARIF with ajv against the SARIF 2.1.0 schema an npm package ships, and the github and
// SARIF positions are the lines of the `image:` fields (found here by reading the file's lines, not by our parser).
import assert from 'node:assert/strict';
import {execFileSync, spawnSync} from 'node:child_process';
import fs from 'node:fs';
import {createRequire} from 'node:module';
import os from 'node:os';
import path from 'node:path';
import {after, before, describe, test} from 'node:test';
import {runCli} from '../helpers/runCli.ts';
import {seedRegcred} from '../helpers/clusters.ts';
import {startApiEmulator} from '../helpers/apiEmulator/index.ts';
import type {ApiEmulator} from '../helpers/apiEmulator/index.ts';
import {startRegistry} from '../helpers/registry/index.ts';
import type {TestRegistry} from '../helpers/registry/index.ts';

type Result = {namespace: string; name: string; container: string; image: string; status: string; warnings: string[]; source?: {file?: string; line?: number}};
type Report = {summary: {total: number; failing: number; notes: string[]}; results: Result[]};

// ajv is CommonJS: load it through require, typed from its declarations.
const require = createRequire(import.meta.url);
const Ajv = require(`ajv-draft-04`) as typeof import('ajv-draft-04').default;
const addFormats = require(`ajv-formats`) as typeof import('ajv-formats').default;

const PASSWORD = `reports-pw-${process.pid}-never-printed`;
const root = path.resolve(import.meta.dirname, `..`, `..`);
const tmp = fs.mkdtempSync(path.join(os.tmpdir(), `verify-reports-`));
let api: ApiEmulator;
let registry: TestRegistry;
let release: string;

/** The 1-based line of the only line of `text` that contains `needle`. */
function lineOf(text: string, needle: string): number {
  const lines = text.split(`\n`);
  const found = lines.flatMap((line, index) => (line.includes(needle) ? [index + 1] : []));
  assert.equal(found.length, 1, `exactly one line holds ${needle}`);
  return found[0]!;
}

before(async () => {
  [api, registry] = await Promise.all([startApiEmulator(), startRegistry({mode: `basic`, users: {alice: PASSWORD}})]);
  await Promise.all([registry.push(`team/app`, `v1`), registry.push(`team/app`, `v2`), registry.push(`team/data`, `v1`), registry.push(`team/app`, `v3`)]);
  seedRegcred(api, `web`, registry.host, `alice`, PASSWORD);
  const host = registry.host;
  release = [
    `# a rendered release: four documents`,
    `apiVersion: apps/v1\nkind: Deployment\nmetadata:\n  name: api\nspec:\n  template:\n    spec:\n      containers:\n      - name: app\n        image: ${host}/team/app:v1`,
    `apiVersion: apps/v1\nkind: Deployment\nmetadata:\n  name: gone\nspec:\n  template:\n    spec:\n      initContainers:\n      - name: init\n        image: ${host}/team/app:v3\n      containers:\n      - name: app\n        image: ${host}/team/app:missing`,
    `apiVersion: batch/v1\nkind: CronJob\nmetadata:\n  name: nightly\nspec:\n  jobTemplate:\n    spec:\n      template:\n        spec:\n          imagePullSecrets: [{name: nosuch}]\n          containers:\n          - name: job\n            image: "${host}/team/app:nightly"`,
    `apiVersion: v1\nkind: Pod\nmetadata:\n  name: cached\nspec:\n  containers:\n  - name: c\n    imagePullPolicy: Never\n    image: ${host}/team/app:v2 # cached\n  volumes:\n  - name: data\n    image:\n      reference: ${host}/team/data:v1`,
  ].join(`\n---\n`);
  fs.writeFileSync(path.join(tmp, `release.yaml`), release);
});

after(async () => {
  await Promise.all([api?.stop(), registry?.stop()]);
  fs.rmSync(tmp, {recursive: true, force: true});
});

const verify = (args: string[], options: {env?: Record<string, string>; stdin?: string} = {}) =>
  runCli([`verify`, `--kubeconfig`, api.kubeconfigPath, `-n`, `web`, ...args], {cwd: tmp, ...options});

describe(`-f release.yaml (four documents, one of them an image volume) in every format`, () => {
  let json: {code: number; report: Report};
  before(async () => {
    const result = await verify([`-f`, `release.yaml`, `-o`, `json`]);
    json = {code: result.code, report: JSON.parse(result.stdout) as Report};
  });

  test(`-o json: the results the other formats must carry, with the file and line of each image field`, () => {
    assert.equal(json.code, 1);
    const rows = json.report.results.map(row => `${row.name}/${row.container}=${row.status}@${row.source?.file}:${row.source?.line}`).sort();
    const at = (needle: string) => `release.yaml:${lineOf(release, needle)}`;
    assert.deepEqual(rows, [
      `api/app=ok@${at(`team/app:v1`)}`,
      `cached/c=ok@${at(`team/app:v2 # cached`)}`,
      `cached/volume:data=ok@${at(`team/data:v1`)}`,
      `gone/app=not-found@${at(`team/app:missing`)}`,
      `gone/init=ok@${at(`team/app:v3`)}`,
      `nightly/job=secret-missing@${at(`team/app:nightly`)}`,
    ].sort());
    const cached = json.report.results.find(row => row.container === `c`)!;
    assert.match(cached.warnings.join(`\n`), /imagePullPolicy is Never.*KEP-2535/);
    assert.match(json.report.summary.notes.join(`\n`), /checked against the ServiceAccounts and secrets of namespace web; objects without a namespace are in web \(-n\)/);
  });

  test(`-o junit validates against docs/junit.xsd with xmllint and has one test case and failure per result`, async () => {
    const result = await verify([`-f`, `release.yaml`, `-o`, `junit`]);
    assert.equal(result.code, json.code);
    const file = path.join(tmp, `report.xml`);
    fs.writeFileSync(file, result.stdout);
    execFileSync(`xmllint`, [`--noout`, `--schema`, path.join(root, `docs`, `junit.xsd`), file], {stdio: `pipe`});
    assert.equal(result.stdout.match(/<testcase /g)?.length, json.report.results.length);
    assert.equal(result.stdout.match(/<failure /g)?.length, json.report.summary.failing);
    assert.match(result.stdout, /<testsuite name="release\.yaml" tests="6" failures="2"/);
    assert.match(result.stdout, new RegExp(`<testcase name="deployment/gone app [^"]*team/app:missing" classname="web\\.deployment/gone" file="release\\.yaml" line="${lineOf(release, `team/app:missing`)}"`));
    assert.match(result.stdout, /<failure message="not-found: [^"]*" type="not-found">/);
    // The schema can fail: a test case without a name does not validate.
    fs.writeFileSync(file, result.stdout.replace(/<testcase name="[^"]*"/, `<testcase`));
    assert.notEqual(spawnSync(`xmllint`, [`--noout`, `--schema`, path.join(root, `docs`, `junit.xsd`), file]).status, 0);
  });

  test(`-o github: ::error with the file and the line of each failing image field, ::warning for warnings`, async () => {
    const result = await verify([`-f`, `release.yaml`, `-o`, `github`]);
    assert.equal(result.code, json.code);
    const lines = result.stdout.trimEnd().split(`\n`);
    const errors = lines.filter(line => line.startsWith(`::error `));
    assert.deepEqual(errors.map(line => /^::error file=([^,]+),line=(\d+),/.exec(line)?.slice(1).join(`:`)).sort(), [
      `release.yaml:${lineOf(release, `team/app:missing`)}`,
      `release.yaml:${lineOf(release, `team/app:nightly`)}`,
    ].sort());
    assert.ok(errors.some(line => /title=not-found%3A [^:]*team\/app%3Amissing::web deployment\/gone container app: image \S+: not-found: /.test(line)), errors.join(`\n`));
    assert.ok(lines.some(line => line.startsWith(`::warning file=release.yaml,line=${lineOf(release, `team/app:v2 # cached`)},`) && line.includes(`imagePullPolicy is Never`)));
    assert.ok(lines.some(line => line.startsWith(`::notice title=verify note::manifests checked against`)));
    // Pullable rows are plain log lines; the summary is last.
    assert.equal(lines.filter(line => /^ok /.test(line)).length, 4);
    assert.match(lines.at(-1)!, /^6 images checked: 4 pullable, 2 failing/);
  });

  test(`-o github from stdin: no file=, since there is no file to point at`, async () => {
    const result = await verify([`-f`, `-`, `-o`, `github`], {stdin: release});
    assert.equal(result.code, 1);
    const errors = result.stdout.split(`\n`).filter(line => line.startsWith(`::error`));
    assert.equal(errors.length, 2);
    for (const line of errors)
      assert.match(line, /^::error title=/);
  });

  test(`-o sarif validates against the SARIF 2.1.0 schema (ajv) with one result per row and the image lines`, async () => {
    const result = await verify([`-f`, `release.yaml`, `-o`, `sarif`]);
    assert.equal(result.code, json.code);
    const log = JSON.parse(result.stdout) as {version: string; runs: Array<{results: Array<{ruleId: string; kind: string; level: string; locations: Array<{physicalLocation?: {artifactLocation: {uri: string}; region?: {startLine: number}}}>}>; invocations: Array<{exitCode: number}>; tool: {driver: {rules: Array<{id: string}>}}}>};
    const schema = JSON.parse(fs.readFileSync(require.resolve(`@microsoft/jest-sarif/lib/schemas/sarif-2.1.0-rtm.5.json`), `utf8`)) as object;
    // The schema's language-tag pattern is not valid as a Unicode regular expression: compile patterns without `u`.
    const ajv = new Ajv({strict: false, allErrors: true, unicodeRegExp: false});
    addFormats(ajv);
    const validate = ajv.compile(schema);
    assert.ok(validate(log), JSON.stringify(validate.errors?.slice(0, 5)));
    // The validator can fail: a result whose level is not a SARIF level is refused.
    assert.equal(validate({...log, runs: [{...log.runs[0], results: [{...log.runs[0]!.results[0], level: `fatal`}]}]}), false);
    const run = log.runs[0]!;
    assert.equal(log.version, `2.1.0`);
    assert.equal(run.invocations[0]!.exitCode, 1);
    assert.ok(run.tool.driver.rules.some(rule => rule.id === `platform-missing`));
    assert.equal(run.results.length, json.report.results.length);
    const failing = run.results.filter(entry => entry.kind === `fail` && entry.level === `error`);
    assert.deepEqual(failing.map(entry => `${entry.ruleId}@${entry.locations[0]!.physicalLocation!.artifactLocation.uri}:${entry.locations[0]!.physicalLocation!.region!.startLine}`).sort(), [
      `not-found@release.yaml:${lineOf(release, `team/app:missing`)}`,
      `secret-missing@release.yaml:${lineOf(release, `team/app:nightly`)}`,
    ]);
    assert.equal(run.results.filter(entry => entry.kind === `pass`).length, 3);
    assert.equal(run.results.filter(entry => entry.level === `warning`).length, 1);
  });

  test(`-o markdown: one table row per result, failing ones marked`, async () => {
    const result = await verify([`-f`, `release.yaml`, `-o`, `markdown`]);
    assert.equal(result.code, json.code);
    const rows = result.stdout.split(`\n`).filter(line => line.startsWith(`| `)).slice(2);
    assert.equal(rows.length, json.report.results.length);
    assert.equal(rows.filter(row => row.includes(`❌`)).length, 2);
    assert.match(result.stdout, /^### kubectl pullsecret verify: failed\n/);
  });

  test(`--fail-on warning: the Never warning fails the gate in every format`, async () => {
    const formats = {
      junit: (out: string) => (out.match(/<failure /g) ?? []).length === 3,
      github: (out: string) => out.split(`\n`).some(line => line.startsWith(`::error file=release.yaml,line=${lineOf(release, `team/app:v2 # cached`)},`) && line.includes(`imagePullPolicy is Never`)),
      sarif: (out: string) => (JSON.parse(out) as {runs: Array<{results: Array<{level: string}>}>}).runs[0]!.results.filter(entry => entry.level === `error`).length === 3,
      markdown: (out: string) => (out.match(/❌/g) ?? []).length === 3,
    };
    for (const [format, check] of Object.entries(formats)) {
      const result = await verify([`-f`, `release.yaml`, `--fail-on`, `warning`, `-o`, format]);
      assert.equal(result.code, 1);
      assert.ok(check(result.stdout), `${format}:\n${result.stdout}`);
    }
  });

  test(`GITHUB_STEP_SUMMARY gets the Markdown table with any output format; no output holds the password`, async () => {
    const summary = path.join(tmp, `summary.md`);
    fs.writeFileSync(summary, `earlier step\n`);
    const outputs: string[] = [];
    for (const format of [`table`, `json`, `yaml`, `junit`, `github`, `sarif`, `markdown`]) {
      const result = await verify([`-f`, `release.yaml`, `-o`, format], {env: {GITHUB_STEP_SUMMARY: summary}});
      assert.equal(result.code, 1, `${format}: ${result.stderr}`);
      outputs.push(result.stdout, result.stderr);
    }
    const text = fs.readFileSync(summary, `utf8`);
    assert.ok(text.startsWith(`earlier step\n### kubectl pullsecret verify: failed\n`));
    assert.equal(text.match(/### kubectl pullsecret verify: failed/g)?.length, 7);
    outputs.push(text);
    for (const output of outputs) {
      assert.ok(!output.includes(PASSWORD));
      assert.ok(!output.includes(Buffer.from(`alice:${PASSWORD}`).toString(`base64`)));
    }
  });
});

describe(`formats over a cluster and over the incomplete or empty cases`, () => {
  test(`an incomplete check exits 1 and says so in every format, even when every row passes`, async () => {
    seedRegcred(api, `half`, registry.host, `alice`, PASSWORD);
    api.seed.workload(`Deployment`, `half`, `api`, {containers: [{name: `app`, image: `${registry.host}/team/app:v1`}]});
    // A user who may list everything but cronjobs: the check is incomplete although its one row pulls.
    const resources = [`pods`, `serviceaccounts`, `secrets`, `deployments`, `statefulsets`, `daemonsets`, `replicasets`, `replicationcontrollers`, `jobs`];
    api.addUser(`nocron`, [{verbs: [`list`, `get`], resources, apiGroups: [`*`]}]);
    {
      const expectations: Record<string, RegExp> = {
        junit: /<error message="the check is incomplete[^"]*" type="incomplete">/,
        github: /^::error title=verify failed::the check is incomplete/m,
        sarif: /"executionSuccessful": false/,
        markdown: /^- \*\*error:\*\* the check is incomplete/m,
      };
      for (const [format, pattern] of Object.entries(expectations)) {
        const result = await runCli([`verify`, `--kubeconfig`, api.kubeconfigPath, `--context`, `nocron`, `-n`, `half`, `-o`, format]);
        assert.equal(result.code, 1, `${format}: ${result.stdout}${result.stderr}`);
        assert.match(result.stdout, pattern, format);
        if (format === `junit`) {
          const file = path.join(tmp, `incomplete.xml`);
          fs.writeFileSync(file, result.stdout);
          execFileSync(`xmllint`, [`--noout`, `--schema`, path.join(root, `docs`, `junit.xsd`), file], {stdio: `pipe`});
          assert.match(result.stdout, /<testsuite name="half" tests="1" failures="0"/);
        }
      }
    }
  });

  test(`control characters from the input are written visibly in every format, never raw`, async () => {
    const hostile = `apiVersion: v1\nkind: Pod\nmetadata:\n  name: evil\nspec:\n  containers:\n  - name: "c\\r::error::forged"\n    image: "${registry.host}/team/app:\\e[31mred"\n`;
    for (const format of [`github`, `junit`, `markdown`, `sarif`]) {
      const result = await verify([`-f`, `-`, `-o`, format], {stdin: hostile});
      assert.equal(result.code, 1, `${format}: ${result.stderr}`);
      // eslint-disable-next-line no-control-regex
      assert.doesNotMatch(result.stdout, /[\u0007\u001b\r]/, format);
      if (format === `github`)
        assert.doesNotMatch(result.stdout, /^::error::forged/m);
    }
  });

  test(`an unknown output format names all seven`, async () => {
    const result = await runCli([`verify`, `--image`, `nginx`, `-o`, `xml`]);
    assert.equal(result.code, 2);
    assert.match(result.stderr, /unsupported output format "xml": use table, json, yaml, junit, github, sarif or markdown/);
  });
});
