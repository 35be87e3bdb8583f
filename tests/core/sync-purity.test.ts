import {test} from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';

// The attach and sync cores import only other core modules (the cluster is reached through the
// ClusterSession port), plus node:crypto for the content hash (computation, no I/O): never clipanion,
// client-node, adapters, node I/O modules, process or console (STYLE.md "Dependency direction").
const ROOT = path.resolve(import.meta.dirname, `..`, `..`, `sources`, `core`);

for (const dir of [`attach`, `sync`]) {
  for (const file of fs.readdirSync(path.join(ROOT, dir)).filter(name => name.endsWith(`.ts`))) {
    test(`sources/core/${dir}/${file} imports only core modules (and node:crypto for hashing)`, () => {
      const text = fs.readFileSync(path.join(ROOT, dir, file), `utf8`);
      const specifiers = [...text.matchAll(/^\s*import\s[^;]*?from\s+'([^']+)'/gm)].map(match => match[1]!);
      for (const specifier of specifiers)
        assert.ok(specifier === `node:crypto` || (specifier.startsWith(`.`) && path.resolve(ROOT, dir, specifier).startsWith(ROOT)), `${file} imports ${specifier}`);
      assert.doesNotMatch(text, /\bimport\(/, `${file} uses a dynamic import`);
      assert.doesNotMatch(text, /\b(process|console)\./, `${file} touches process or console`);
    });
  }
}
