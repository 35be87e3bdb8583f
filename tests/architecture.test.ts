/**
 * The architecture as a test (docs/design.md "Layers"): which folder may import what.
 * - `sources/core` imports only other core modules and `yaml`: no adapter, no command, no `node:` module, no
 *   clipanion or client-node; it never touches `process` or `console`, never starts a timer and never draws
 *   random numbers (time and randomness are injected: core/retry.ts `Pacing`).
 * - A command (a class with `static paths`) imports no other command; what they share lives in named modules.
 * - An adapter imports only the core, its own folder, `node:` modules and packages (and the build facts in
 *   sources/version.ts, and the bounded reads of adapters/local/files.ts, the one way to read user input):
 *   never a command, the context or another adapter folder.
 */
import {test} from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';

const SOURCES = path.resolve(import.meta.dirname, `..`, `sources`);
const CORE = path.join(SOURCES, `core`);
const COMMANDS = path.join(SOURCES, `commands`);
const ADAPTERS = path.join(SOURCES, `adapters`);

function filesUnder(dir: string): string[] {
  return fs.readdirSync(dir, {withFileTypes: true, recursive: true})
    .filter(entry => entry.isFile() && entry.name.endsWith(`.ts`))
    .map(entry => path.join(entry.parentPath, entry.name))
    .sort();
}

/** Every module specifier a file imports or re-exports statically. */
function specifiersOf(text: string): string[] {
  return [...text.matchAll(/^\s*(?:import|export)\s[^;]*?from\s+'([^']+)'/gm)].map(match => match[1]!);
}

/** The text without comments, so that a comment mentioning `setTimeout` or `process.` is not a finding. */
function code(text: string): string {
  return text.replace(/\/\*[\s\S]*?\*\//g, ``).replace(/(^|[^:`'"\\])\/\/.*$/gm, `$1`);
}

const relative = (file: string) => path.relative(path.dirname(SOURCES), file);

for (const file of filesUnder(CORE)) {
  test(`${relative(file)} imports only core modules and yaml, and starts no timer`, () => {
    const text = fs.readFileSync(file, `utf8`);
    for (const specifier of specifiersOf(text)) {
      const inside = specifier.startsWith(`.`) && path.resolve(path.dirname(file), specifier).startsWith(CORE + path.sep);
      assert.ok(inside || specifier === `yaml`, `imports ${specifier}`);
    }
    const body = code(text);
    assert.doesNotMatch(body, /\bimport\(/, `uses a dynamic import`);
    assert.doesNotMatch(body, /\b(process|console)\./, `touches process or console`);
    assert.doesNotMatch(body, /\b(setTimeout|setInterval|setImmediate|queueMicrotask)\s*\(/, `starts a timer`);
    assert.doesNotMatch(body, /\bMath\.random\b/, `draws random numbers (inject them)`);
  });
}

const commandFiles = new Set(fs.readdirSync(COMMANDS).filter(name => name.endsWith(`.ts`)).map(name => path.join(COMMANDS, name))
  .filter(file => /^\s*static\s+(override\s+)?paths\s*=/m.test(fs.readFileSync(file, `utf8`))));

for (const file of [...commandFiles].sort()) {
  test(`${relative(file)} imports no other command`, () => {
    for (const specifier of specifiersOf(fs.readFileSync(file, `utf8`))) {
      if (!specifier.startsWith(`.`))
        continue;
      const target = path.resolve(path.dirname(file), specifier);
      assert.ok(!commandFiles.has(target), `imports the command ${path.relative(COMMANDS, target)}`);
    }
  });
}

test(`the command rule sees the commands (a rule over no file cannot fail)`, () => {
  assert.ok(commandFiles.size >= 12, `${commandFiles.size} command files found`);
  assert.ok(commandFiles.has(path.join(COMMANDS, `attach.ts`)));
});

// Leaf modules every adapter may use: build facts, the bounded reads of user files and streams, and the one owner
// of the process's default TLS trust store.
const SHARED = new Set([path.join(SOURCES, `version.ts`), path.join(ADAPTERS, `local`, `files.ts`), path.join(ADAPTERS, `trust.ts`)]);

for (const file of filesUnder(ADAPTERS)) {
  test(`${relative(file)} imports only the core, its own folder, node: and packages`, () => {
    const folder = path.join(ADAPTERS, path.relative(ADAPTERS, file).split(path.sep)[0]!);
    for (const specifier of specifiersOf(fs.readFileSync(file, `utf8`))) {
      if (!specifier.startsWith(`.`))
        continue;
      const target = path.resolve(path.dirname(file), specifier);
      const allowed = target.startsWith(CORE + path.sep) || target.startsWith(folder + path.sep) || SHARED.has(target);
      assert.ok(allowed, `imports ${path.relative(SOURCES, target)}`);
    }
  });
}

// Rules the code cites live in the repository: every `docs/PAGE.md` a comment names exists, and every rule id
// (`R2.4`) cited next to docs/credential-rules.md is defined there.
const ROOT = path.dirname(SOURCES);
const citing = [SOURCES, path.join(ROOT, `tests`), path.join(ROOT, `scripts`), path.join(ROOT, `bench`)].flatMap(filesUnder);

test(`every docs/ page the code cites exists`, () => {
  const cited = new Set(citing.flatMap(file => [...fs.readFileSync(file, `utf8`).matchAll(/\bdocs\/([a-z0-9-]+\.(?:md|xsd))/g)].map(match => match[1]!)));
  assert.ok(cited.has(`credential-rules.md`) && cited.has(`design.md`), `citations found: ${[...cited].join(`, `)}`);
  for (const page of cited)
    assert.ok(fs.existsSync(path.join(ROOT, `docs`, page)), `docs/${page} is cited but missing`);
});

test(`every credential rule id the code cites is defined in docs/credential-rules.md`, () => {
  const page = fs.readFileSync(path.join(ROOT, `docs`, `credential-rules.md`), `utf8`);
  const defined = new Set([...page.matchAll(/\*\*(R\d+\.\d+)\b/g)].map(match => match[1]!));
  const cited = new Set<string>();
  for (const file of citing) {
    const text = fs.readFileSync(file, `utf8`);
    if (!text.includes(`credential-rules.md`))
      continue;
    for (const match of text.matchAll(/\bR(\d+)\.(\d+)\b/g))
      cited.add(`R${match[1]}.${match[2]}`);
  }
  assert.ok(cited.size >= 10, `${cited.size} rule ids cited`);
  for (const id of cited)
    assert.ok(defined.has(id), `${id} is cited but docs/credential-rules.md does not define it`);
});

// adapters/trust.ts may replace Node's default trust store with a cluster's CA for a moment (a context that trusts
// only that CA, without parsing Node's roots); a module that opens TLS connections trusting the default store must
// put it back first, so it must import the module that does.
const TLS_USERS = filesUnder(SOURCES).filter(file => specifiersOf(fs.readFileSync(file, `utf8`)).some(specifier => [`node:https`, `node:tls`, `node:http2`, `./clientNode.ts`].includes(specifier)));

test(`the TLS rule sees the modules that open TLS connections (a rule over no file cannot fail)`, () => {
  for (const name of [`adapters/kube/connect.ts`, `adapters/registry/http.ts`, `adapters/kube/credentials.ts`])
    assert.ok(TLS_USERS.includes(path.join(SOURCES, name)), name);
});

// (clientNode.ts and clientNodeAsset.ts only load client-node's code; credentials.ts is what calls it.)
const LOADERS = new Set([`trust.ts`, `kube/clientNode.ts`, `kube/clientNodeAsset.ts`].map(name => path.join(ADAPTERS, name)));
for (const file of TLS_USERS.filter(file => !LOADERS.has(file))) {
  test(`${relative(file)} opens TLS connections only after putting Node's default trust store back (adapters/trust.ts)`, () => {
    const text = fs.readFileSync(file, `utf8`);
    const imports = specifiersOf(text).some(specifier => specifier.startsWith(`.`) && path.resolve(path.dirname(file), specifier) === path.join(ADAPTERS, `trust.ts`));
    // The transport sends through the agents connect.ts made; it creates no secure context itself.
    const createsContexts = /\b(createSecureContext|https\.(request|get|Agent)|new HttpsAgent|tls\.connect|http2\.connect|KubeConfig)\b/.test(code(text));
    assert.ok(imports || !createsContexts, `creates TLS contexts or connections without importing adapters/trust.ts`);
  });
}
