// The fast kubeconfig reader (sources/adapters/kube/blockYaml.ts) must read exactly what the yaml package reads,
// or step aside (undefined) so that the yaml package parses the text.
import {test} from 'node:test';
import assert from 'node:assert/strict';
import {execFileSync} from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import fc from 'fast-check';
import {parseDocument, stringify} from 'yaml';
import {readBlockYaml} from '../../sources/adapters/kube/blockYaml.ts';
import {parseKubeconfig} from '../../sources/adapters/kube/kubeconfig.ts';
import {requireKubectl, startApiEmulator} from '../helpers/apiEmulator/index.ts';

/** What kubeconfig.ts gets from the yaml package: the value, or `error` when the text is not valid YAML. */
function yamlReads(text: string): unknown {
  const document = parseDocument(text, {prettyErrors: false, uniqueKeys: false});
  return document.errors.length > 0 ? `error` : document.toJS();
}

/** The property every text must satisfy: the fast reader steps aside or agrees with the yaml package. */
function assertAgrees(text: string): void {
  const fast = readBlockYaml(text);
  if (fast !== undefined)
    assert.deepEqual(fast, yamlReads(text), `the fast reader disagrees with yaml on:\n${text}`);
}

test(`a kubeconfig written by kubectl config takes the fast path and reads as the yaml package reads it`, () => {
  const kubectl = requireKubectl();
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), `blockyaml-`));
  try {
    const file = path.join(dir, `config`);
    const run = (...args: string[]) => execFileSync(kubectl, [`config`, `--kubeconfig`, file, ...args], {stdio: `ignore`, env: {PATH: process.env.PATH, HOME: dir}});
    const ca = path.join(dir, `ca.crt`);
    fs.writeFileSync(ca, `-----BEGIN CERTIFICATE-----\nMIIB\n-----END CERTIFICATE-----\n`);
    run(`set-cluster`, `prod`, `--server=https://10.0.0.1:6443`, `--certificate-authority=${ca}`, `--embed-certs`, `--tls-server-name=api.internal`);
    run(`set-cluster`, `dev`, `--server=https://dev.example.com`, `--insecure-skip-tls-verify=true`);
    run(`set-credentials`, `admin`, `--token=abc.def-123`);
    run(`set-credentials`, `ci`, `--exec-api-version=client.authentication.k8s.io/v1`, `--exec-command=aws`, `--exec-arg=eks`, `--exec-arg=get-token`, `--exec-arg=--cluster-name`, `--exec-arg=my cluster`, `--exec-env=AWS_PROFILE=ci`, `--exec-interactive-mode=Never`);
    run(`set-context`, `prod`, `--cluster=prod`, `--user=admin`, `--namespace=team-a`);
    run(`set-context`, `dev`, `--cluster=dev`, `--user=ci`);
    run(`use-context`, `prod`);
    const text = fs.readFileSync(file, `utf8`);
    const fast = readBlockYaml(text);
    assert.notEqual(fast, undefined, `kubectl's own kubeconfig must not need the full parser:\n${text}`);
    assert.deepEqual(fast, yamlReads(text));
    assert.equal((fast as {[`current-context`]: string})[`current-context`], `prod`);
  } finally {
    fs.rmSync(dir, {recursive: true, force: true});
  }
});

test(`the API emulator's kubeconfig (CA data and bearer tokens) takes the fast path`, async t => {
  const api = await startApiEmulator();
  t.after(() => api.stop());
  const text = fs.readFileSync(api.kubeconfigPath, `utf8`);
  const fast = readBlockYaml(text);
  assert.notEqual(fast, undefined);
  assert.deepEqual(fast, yamlReads(text));
});

test(`block-style details read like yaml: comments, quotes, nulls, booleans, empty collections, compact and same-indent sequences`, () => {
  const text = [
    `# written by hand`,
    `apiVersion: v1   # trailing comment`,
    `kind: 'Config'`,
    `preferences: {}`,
    `extensions: []`,
    `clusters:`,
    `- name: "a b"`,
    `  cluster:`,
    `    server: https://h:6443/path#frag`,
    `    insecure-skip-tls-verify: true`,
    `    proxy-url: ~`,
    `    disable-compression: FALSE`,
    `users:`,
    `  -   "name": it's`,
    `      user:`,
    `        token: 'it''s # not a comment'`,
    `        as-groups:`,
    `          - - nested`,
    `            - "x: y"`,
    `          -`,
    `          - -flag`,
    `contexts:`,
    `current-context:`,
    `  # only a comment below`,
    ``,
  ].join(`\n`);
  const fast = readBlockYaml(text);
  assert.notEqual(fast, undefined);
  assert.deepEqual(fast, yamlReads(text));
});

test(`what the fast reader does not support is left to the yaml package`, () => {
  const unsupported = [
    `a: [x, y]`,
    `a: {b: c}`,
    `a: &anchor x\nb: *anchor`,
    `a: !!str 1`,
    `a: |\n  text`,
    `a: >\n  text`,
    `a: one\n  two`,
    `a: "two\n  lines"`,
    `a: "esc\\n"`,
    `a: 1`,
    `a: 0x1F`,
    `a: 1.5`,
    `a: .inf`,
    `a: x\na: y`,
    `a:\tx`,
    `a: x\r\nb: y`,
    `---\na: x`,
    `%YAML 1.2\n---\na: x`,
    `a: b: c`,
    `a: x:`,
    `- a`,
    `  a: x`,
    `a:\n  - x\n b: y`,
    `__proto__: x`,
    `<<: x`,
    `? a\n: b`,
  ];
  for (const text of unsupported) {
    assert.equal(readBlockYaml(text), undefined, text);
    // And the kubeconfig reader still reads (or rejects) them through the yaml package.
    const viaYaml = yamlReads(text);
    if (viaYaml !== `error` && viaYaml !== null && typeof viaYaml === `object` && !Array.isArray(viaYaml))
      assert.deepEqual(parseKubeconfig(text, `test`), viaYaml, text);
  }
});

// Structures shaped like kubeconfigs: `ordinary` ones (the characters of servers, names, tokens and paths) that the
// fast reader must mostly accept, and `hostile` ones full of YAML's special characters, numbers and odd keys.
const ordinaryText = fc.string({unit: fc.constantFrom(`a`, `Z`, `0`, `9`, `-`, `_`, `.`, `/`, `:`, `@`, `=`, ` `, `'`, `#`, `ü`), maxLength: 12});
const specialText = fc.string({unit: fc.constantFrom(`:`, `#`, ` `, `'`, `"`, `-`, `?`, `,`, `[`, `]`, `{`, `}`, `&`, `*`, `!`, `|`, `>`, `%`, `@`, `\``, `\\`, `~`, `.`, `0`, `1`, `e`, `a`, `Z`, `ü`, `😀`), maxLength: 12});
const specialWords = fc.constantFrom(`null`, `Null`, `~`, `true`, `False`, `yes`, `no`, `on`, `0`, `-1`, `1.5`, `0x1F`, `0o17`, `.inf`, `.nan`, `1e3`, `+1`, `007`, `1_000`, `12:30`, `https://h:1/p?q=1#f`, `eyJhbGciOi.x-y_z`, ``);
const ordinaryKey = fc.stringMatching(/^[a-z][a-z.\/-]{0,8}$/);
const specialKey = fc.oneof(fc.constantFrom(`null`, `true`, `1`, `a b`, `a:b`, `-k`, `__proto__`, `<<`), specialText);

function documents(words: fc.Arbitrary<unknown>, key: fc.Arbitrary<string>): fc.Arbitrary<Record<string, unknown>> {
  const {value} = fc.letrec(tie => ({
    value: fc.oneof({depthSize: `small`, withCrossShrink: true}, words, fc.constant(null), fc.boolean(), tie(`map`), tie(`list`)),
    map: fc.dictionary(key, tie(`value`), {maxKeys: 4}),
    list: fc.array(tie(`value`), {maxLength: 4}),
  }));
  return fc.dictionary(key, value, {minKeys: 1, maxKeys: 5});
}
const ordinary = documents(fc.oneof({arbitrary: ordinaryText, weight: 4}, fc.constantFrom(`yes`, `no`, `on`, `off`, `y`, `null`, `true`, `False`, `~`, ``, `0`, `1.0`)), ordinaryKey);
const hostile = documents(fc.oneof(ordinaryText, specialText, specialWords, fc.integer(), fc.double()), fc.oneof(ordinaryKey, specialKey));
const styles = fc.record({
  indentSeq: fc.boolean(),
  defaultStringType: fc.constantFrom(`PLAIN`, `QUOTE_SINGLE`, `QUOTE_DOUBLE`) as fc.Arbitrary<`PLAIN` | `QUOTE_SINGLE` | `QUOTE_DOUBLE`>,
  indent: fc.integer({min: 1, max: 4}),
});

test(`on generated kubeconfig-like documents the fast reader agrees with the yaml package, and takes most ordinary ones`, () => {
  let fast = 0;
  const runs = 1000;
  fc.assert(fc.property(ordinary, styles, (doc, style) => {
    const text = stringify(doc, {...style, lineWidth: 0});
    assertAgrees(text);
    fast += readBlockYaml(text) === undefined ? 0 : 1;
  }), {numRuns: runs});
  // The property says nothing when the reader steps aside: ordinary documents must take the fast path.
  assert.ok(fast > runs * 0.8, `only ${fast} of ${runs} ordinary documents took the fast path`);
});

test(`on generated documents full of YAML's special cases the fast reader agrees with the yaml package or steps aside`, () => {
  fc.assert(fc.property(hostile, styles, (doc, style) => {
    assertAgrees(stringify(doc, {...style, lineWidth: 0}));
  }), {numRuns: 1500});
});

test(`on mutated kubeconfig text the fast reader agrees with the yaml package or steps aside (never accepts what yaml rejects)`, () => {
  const base = [
    `apiVersion: v1`,
    `clusters:`,
    `- cluster:`,
    `    certificate-authority-data: LS0tLS1CRUdJTg==`,
    `    server: https://127.0.0.1:6443`,
    `  name: c`,
    `contexts:`,
    `- context:`,
    `    cluster: c`,
    `    user: u`,
    `  name: c`,
    `current-context: c`,
    `users:`,
    `- name: u`,
    `  user:`,
    `    token: abc`,
    ``,
  ].join(`\n`);
  const edit = fc.record({at: fc.nat(), remove: fc.integer({min: 0, max: 3}), insert: fc.string({unit: fc.constantFrom(...`:#'" -\n?,[]{}&*!|>%@~.01a`.split(``)), maxLength: 4})});
  let fast = 0;
  const runs = 3000;
  fc.assert(fc.property(fc.array(edit, {minLength: 1, maxLength: 4}), edits => {
    let text = base;
    for (const {at, remove, insert} of edits) {
      const i = at % (text.length + 1);
      text = text.slice(0, i) + insert + text.slice(i + remove);
    }
    assertAgrees(text);
    fast += readBlockYaml(text) === undefined ? 0 : 1;
  }), {numRuns: runs});
  assert.ok(fast > runs / 20, `only ${fast} of ${runs} mutated texts took the fast path`);
});
