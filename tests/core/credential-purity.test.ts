import {test} from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';

// The credential engine's core is pure: it imports only other core modules and `yaml`, never node:*,
// clipanion or client-node (STYLE.md "Dependency direction").
const ROOT = path.resolve(import.meta.dirname, `..`, `..`, `sources`, `core`);
const DIRS = [`dockerconfig`, `image`, `keyring`, `explain`];

for (const dir of DIRS) {
  for (const file of fs.readdirSync(path.join(ROOT, dir)).filter(name => name.endsWith(`.ts`))) {
    test(`sources/core/${dir}/${file} imports nothing but core modules and yaml`, () => {
      const text = fs.readFileSync(path.join(ROOT, dir, file), `utf8`);
      const specifiers = [...text.matchAll(/^\s*import\s[^;]*?from\s+'([^']+)'/gm)].map(match => match[1]!);
      for (const specifier of specifiers)
        assert.ok(specifier === `yaml` || (specifier.startsWith(`.`) && path.resolve(ROOT, dir, specifier).startsWith(ROOT)), `${file} imports ${specifier}`);
      assert.doesNotMatch(text, /\bimport\(/, `${file} uses a dynamic import`);
      assert.doesNotMatch(text, /\b(process|console)\./, `${file} touches process or console`);
    });
  }
}
