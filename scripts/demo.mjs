// `npm run demo`: the README's first command on a fresh clone. npm runs this file with whatever `node`
// it finds, which is the system's (possibly Node 20) until `npm ci` has installed the project's Node 24,
// so this part is plain JavaScript: install what is missing, then hand over to scripts/demo.ts under Node 24.
import {spawnSync} from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import {fileURLToPath} from 'node:url';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const windows = process.platform === 'win32';
const node24 = path.join(root, 'node_modules', '.bin', windows ? 'node.cmd' : 'node');

function nodeMajor(binary) {
  const result = spawnSync(binary, ['-p', 'process.versions.node'], {encoding: 'utf8', shell: windows});
  return result.status === 0 ? Number(result.stdout.trim().split('.')[0]) : 0;
}

if (!fs.existsSync(node24) || nodeMajor(node24) < 24) {
  process.stdout.write('demo: installing dependencies (npm ci), including the project\'s Node 24\n');
  const install = spawnSync('npm', ['ci', '--no-audit', '--no-fund'], {cwd: root, stdio: 'inherit', shell: windows});
  if (install.status !== 0 || nodeMajor(node24) < 24) {
    process.stderr.write('demo: error: `npm ci` did not provide Node 24 in node_modules/.bin/node; run it by hand and look at its output\n');
    process.exit(1);
  }
}

const demo = spawnSync(node24, [path.join(root, 'scripts', 'demo.ts'), ...process.argv.slice(2)], {cwd: root, stdio: 'inherit', shell: windows});
process.exit(demo.status ?? 1);
