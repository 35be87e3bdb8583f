// Shared by `npm run demo` and `npm run sandbox` (scripts/demo.mjs, scripts/sandbox.mjs): runs under whatever
// `node` npm finds (possibly the system's Node 20 before `npm ci`), so this is plain JavaScript. It installs
// what a fresh clone lacks: the npm dependencies with the project's Node 24, and the Debian packages the test
// world runs (docker-registry, htpasswd, openssl, containerd), then hands over to a script under Node 24.
import {spawn, spawnSync} from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import {fileURLToPath} from 'node:url';

export const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const windows = process.platform === 'win32';
const node24 = path.join(root, 'node_modules', '.bin', windows ? 'node.cmd' : 'node');

function nodeMajor(binary) {
  const result = spawnSync(binary, ['-p', 'process.versions.node'], {encoding: 'utf8', shell: windows});
  return result.status === 0 ? Number(result.stdout.trim().split('.')[0]) : 0;
}

/** `npm ci` when node_modules/.bin/node is not Node 24 yet. */
export function ensureNode24(label) {
  if (fs.existsSync(node24) && nodeMajor(node24) >= 24)
    return;
  process.stdout.write(`${label}: installing dependencies (npm ci), including the project's Node 24\n`);
  const install = spawnSync('npm', ['ci', '--no-audit', '--no-fund'], {cwd: root, stdio: 'inherit', shell: windows});
  if (install.status !== 0 || nodeMajor(node24) < 24) {
    process.stderr.write(`${label}: error: \`npm ci\` did not provide Node 24 in node_modules/.bin/node; run it by hand and look at its output\n`);
    process.exit(1);
  }
}

const PACKAGES = [['docker-registry', 'docker-registry'], ['htpasswd', 'apache2-utils'], ['openssl', 'openssl'], ['containerd', 'containerd']];

function has(command) {
  return spawnSync('sh', ['-c', `command -v ${command}`], {stdio: 'ignore'}).status === 0;
}

/** Installs the missing Debian packages with apt-get when this runs as root on a machine that has apt-get. */
export function ensureDebianPackages(label) {
  if (windows)
    return;
  const missing = PACKAGES.filter(([command]) => !has(command)).map(([, pkg]) => pkg);
  if (missing.length === 0)
    return;
  const root = typeof process.getuid === 'function' && process.getuid() === 0;
  if (!root || !has('apt-get')) {
    process.stderr.write(`${label}: warning: missing Debian packages ${missing.join(', ')}: run \`apt-get install -y ${missing.join(' ')}\` as root\n`);
    return;
  }
  process.stdout.write(`${label}: installing Debian packages: ${missing.join(' ')}\n`);
  const env = {...process.env, DEBIAN_FRONTEND: 'noninteractive'};
  const update = spawnSync('apt-get', ['update', '-qq'], {stdio: 'inherit', env});
  const install = update.status === 0 ? spawnSync('apt-get', ['install', '-y', '-qq', '--no-install-recommends', ...missing], {stdio: 'inherit', env}) : update;
  if (install.status !== 0)
    process.stderr.write(`${label}: warning: apt-get could not install ${missing.join(' ')}; the next step says what is missing\n`);
}

/** Runs `script` (relative to the repository) under Node 24 with `args`, passes SIGINT/SIGTERM on, and exits with its status. */
export function runUnderNode24(script, args) {
  const child = spawn(node24, [path.join(root, script), ...args], {cwd: root, stdio: 'inherit', shell: windows});
  for (const signal of ['SIGINT', 'SIGTERM'])
    process.on(signal, () => child.kill(signal));
  child.on('exit', (code, signal) => process.exit(code ?? (signal ? 1 : 0)));
}
