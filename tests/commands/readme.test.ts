import {test} from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import {BEGIN_MARKER, END_MARKER, renderCommandReference, replaceBetweenMarkers} from '../../scripts/lib/commandReference.ts';
import {COMMANDS} from '../../sources/commands/all.ts';

const README = path.resolve(import.meta.dirname, `..`, `..`, `README.md`);

test(`the README's command reference matches the commands' usage (run \`npm run docs\` when this fails)`, () => {
  const readme = fs.readFileSync(README, `utf8`);
  assert.equal(readme, replaceBetweenMarkers(readme, renderCommandReference()), `README.md is stale: run npm run docs`);
});

test(`the command reference documents every visible command and no hidden one`, () => {
  const reference = renderCommandReference();
  for (const command of COMMANDS) {
    const name = command.paths![0]!.join(` `);
    if (command.usage === undefined)
      assert.doesNotMatch(reference, new RegExp(`### kubectl pullsecret ${name}\\n`), `${name} is hidden`);
    else
      assert.match(reference, new RegExp(`### kubectl pullsecret ${name}\\n`), `${name} is documented`);
  }
});

test(`replacing the reference keeps everything outside the markers and refuses a README without them`, () => {
  const readme = `# t\n\n${BEGIN_MARKER}\nold\n${END_MARKER}\n\ntail\n`;
  assert.equal(replaceBetweenMarkers(readme, `new\n`), `# t\n\n${BEGIN_MARKER}\nnew\n${END_MARKER}\n\ntail\n`);
  assert.throws(() => replaceBetweenMarkers(`# no markers\n`, `x\n`), /lacks the/);
});
