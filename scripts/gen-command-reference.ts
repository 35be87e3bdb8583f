// `npm run docs`: regenerates the README's command reference (between <!-- commands:begin/end -->)
// from the registered commands' usage. tests/commands/readme.test.ts fails when it is stale.
import fs from 'node:fs';
import path from 'node:path';
import {renderCommandReference, replaceBetweenMarkers} from './lib/commandReference.ts';

const readmePath = path.resolve(import.meta.dirname, `..`, `README.md`);
const before = fs.readFileSync(readmePath, `utf8`);
const after = replaceBetweenMarkers(before, renderCommandReference());
if (after === before) {
  process.stderr.write(`docs: README.md command reference is up to date\n`);
} else {
  fs.writeFileSync(readmePath, after);
  process.stderr.write(`docs: rewrote the command reference in README.md\n`);
}
