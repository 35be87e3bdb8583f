import {test} from 'node:test';
import assert from 'node:assert/strict';
import {spawnSync} from 'node:child_process';
import crypto from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import {parse} from 'yaml';
import {checkKrewManifest, renderKrewManifest} from '../../scripts/lib/krew.ts';
import type {KrewManifest} from '../../scripts/lib/krew.ts';
import {ROOT, packageVersion} from '../../scripts/lib/sea.ts';
import {TARGETS, qemuAarch64, targetName} from '../../scripts/lib/targets.ts';
import {RELEASE_DIR, archiveFileName, buildTarget, packageTarget, writeSumsAndManifest} from '../../scripts/release.ts';
import {ensureBinary} from '../helpers/binary.ts';

const VERSION = `v${packageVersion()}`;

function tempDir(t: {after: (fn: () => void) => void}, prefix: string): string {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), prefix));
  t.after(() => fs.rmSync(dir, {recursive: true, force: true}));
  return dir;
}

const sha256 = (file: string) => crypto.createHash(`sha256`).update(fs.readFileSync(file)).digest(`hex`);

/** Checks a rendered manifest against the archives in `dir`: structure, one platform per target, and every sha256. */
function assertManifestMatchesArchives(dir: string): KrewManifest {
  const manifest = parse(fs.readFileSync(path.join(dir, `krew-manifest.yaml`), `utf8`)) as KrewManifest;
  assert.deepEqual(checkKrewManifest(manifest), []);
  assert.equal(manifest.apiVersion, `krew.googlecontainertools.github.com/v1alpha2`);
  assert.equal(manifest.kind, `Plugin`);
  assert.equal(manifest.metadata.name, `pullsecret`);
  assert.equal(manifest.spec.version, VERSION);
  assert.ok(manifest.spec.shortDescription.length <= 50);
  assert.deepEqual(manifest.spec.platforms.map(platform => `${platform.selector.matchLabels.os}-${platform.selector.matchLabels.arch}`).sort(), TARGETS.map(targetName).sort());
  for (const platform of manifest.spec.platforms) {
    const target = platform.selector.matchLabels as {os: `linux` | `darwin` | `windows`; arch: `amd64` | `arm64`};
    const archive = path.join(dir, archiveFileName(target, VERSION));
    assert.ok(platform.uri.endsWith(`/${VERSION}/${path.basename(archive)}`), platform.uri);
    assert.equal(platform.sha256, sha256(archive), `sha256 of ${path.basename(archive)}`);
    assert.equal(platform.bin, target.os === `windows` ? `kubectl-pullsecret.exe` : `kubectl-pullsecret`);
  }
  // The sums file is what `sha256sum -c` reads.
  const check = spawnSync(`sha256sum`, [`-c`, `sha256sums.txt`], {cwd: dir, encoding: `utf8`});
  assert.equal(check.status, 0, check.stdout + check.stderr);
  assert.equal(check.stdout.trim().split(`\n`).length, TARGETS.length);
  return manifest;
}

test(`the krew manifest is rendered from the template with each archive's sha256, and sha256sums.txt verifies`, t => {
  const dir = tempDir(t, `pullsecret-release-`);
  const fakeBinary = path.join(dir, `fake-binary`);
  for (const target of TARGETS) {
    fs.writeFileSync(fakeBinary, `not really ${targetName(target)}\n`);
    packageTarget(target, fakeBinary, {version: VERSION, outDir: dir});
  }
  fs.rmSync(fakeBinary);
  writeSumsAndManifest(dir, {version: VERSION, repo: `example/kubectl-pullsecret`});
  const manifest = assertManifestMatchesArchives(dir);
  assert.equal(manifest.spec.homepage, `https://github.com/example/kubectl-pullsecret`);
  assert.ok(manifest.spec.platforms[0]!.uri.startsWith(`https://github.com/example/kubectl-pullsecret/releases/download/${VERSION}/`));
});

test(`a changed archive no longer matches the manifest's sha256`, t => {
  const dir = tempDir(t, `pullsecret-release-`);
  const fakeBinary = path.join(dir, `fake-binary`);
  fs.writeFileSync(fakeBinary, `binary\n`);
  for (const target of TARGETS)
    packageTarget(target, fakeBinary, {version: VERSION, outDir: dir});
  fs.rmSync(fakeBinary);
  writeSumsAndManifest(dir, {version: VERSION, repo: `example/x`});
  const tampered = path.join(dir, archiveFileName({os: `linux`, arch: `arm64`}, VERSION));
  fs.appendFileSync(tampered, `x`);
  assert.throws(() => assertManifestMatchesArchives(dir), /sha256 of kubectl-pullsecret_v.*_linux_arm64\.tar\.gz/);
});

test(`rendering fails when an archive named by the template is missing`, () => {
  const template = fs.readFileSync(path.join(ROOT, `krew-manifest.yaml`), `utf8`);
  assert.throws(() => renderKrewManifest(template, {version: VERSION, repo: `a/b`, sha256ByArchive: new Map()}), /no archive kubectl-pullsecret_v.*_linux_amd64\.tar\.gz for linux\/amd64/);
});

test(`the manifest check rejects a long shortDescription, a bad version and a missing bin`, () => {
  const template = fs.readFileSync(path.join(ROOT, `krew-manifest.yaml`), `utf8`).replaceAll(`{{version}}`, `v1.2.3`).replaceAll(`{{repo}}`, `a/b`).replaceAll(`{{sha256}}`, `0`.repeat(64));
  const good = parse(template) as KrewManifest;
  assert.deepEqual(checkKrewManifest(good), []);
  const bad = structuredClone(good);
  bad.spec.shortDescription = `x`.repeat(51);
  bad.spec.version = `1.2.3`;
  bad.spec.platforms[0]!.bin = ``;
  const problems = checkKrewManifest(bad);
  assert.ok(problems.some(p => /shortDescription/.test(p)));
  assert.ok(problems.some(p => /spec.version/.test(p)));
  assert.ok(problems.some(p => /linux\/amd64: bin is required/.test(p)));
});

test(`archives hold only regular files (krew cannot unpack symlinks): the binary, the completion shim and LICENSE`, t => {
  const dir = tempDir(t, `pullsecret-archive-`);
  const fakeBinary = path.join(dir, `fake-binary`);
  fs.writeFileSync(fakeBinary, `#!/bin/sh\necho "called with: $*"\n`, {mode: 0o755});
  const tgz = packageTarget({os: `linux`, arch: `amd64`}, fakeBinary, {version: VERSION, outDir: dir});
  const listing = spawnSync(`tar`, [`-tvzf`, tgz], {encoding: `utf8`});
  assert.equal(listing.status, 0, listing.stderr);
  const lines = listing.stdout.trim().split(`\n`);
  assert.deepEqual(lines.map(line => line.split(/\s+/).at(-1)), [`kubectl-pullsecret`, `kubectl_complete-pullsecret`, `LICENSE`]);
  assert.deepEqual(lines.map(line => line.slice(0, 10)), [`-rwxr-xr-x`, `-rwxr-xr-x`, `-rw-r--r--`]);
  const zipFile = packageTarget({os: `windows`, arch: `amd64`}, fakeBinary, {version: VERSION, outDir: dir});
  const zipListing = spawnSync(`unzip`, [`-Z1`, zipFile], {encoding: `utf8`});
  assert.deepEqual(zipListing.stdout.trim().split(`\n`), [`kubectl-pullsecret.exe`, `kubectl_complete-pullsecret.cmd`, `LICENSE`]);
  assert.equal(spawnSync(`unzip`, [`-tq`, zipFile]).status, 0);

  // The shim runs the binary beside it with __complete and the arguments unchanged.
  const unpacked = path.join(dir, `unpacked`);
  fs.mkdirSync(unpacked);
  assert.equal(spawnSync(`tar`, [`-xzf`, tgz, `-C`, unpacked]).status, 0);
  const shim = spawnSync(path.join(unpacked, `kubectl_complete-pullsecret`), [`list`, `-n`, ``], {encoding: `utf8`, env: {PATH: `/usr/bin:/bin`}});
  assert.equal(shim.stdout, `called with: __complete list -n \n`);
});

test(`the linux-arm64 binary runs under qemu-user`, {skip: qemuAarch64() ? false : `qemu-aarch64-static is not installed (Debian: qemu-user-static, plus libc6:arm64 libstdc++6:arm64 after dpkg --add-architecture arm64)`, timeout: 600_000}, async t => {
  await ensureBinary();
  const dir = tempDir(t, `pullsecret-arm64-`);
  const target = TARGETS.find(candidate => targetName(candidate) === `linux-arm64`)!;
  const binary = path.join(dir, `kubectl-pullsecret`);
  const facts = await buildTarget(target, binary, {workDir: dir});
  assert.equal(facts.codeCache, true, `the blob was made under qemu, with a code cache`);
  assert.equal(fs.readFileSync(binary).readUInt16LE(18), 0xb7, `ELF machine is AArch64`);
  const result = spawnSync(qemuAarch64()!, [binary, `version`, `-o`, `json`], {encoding: `utf8`, timeout: 120_000});
  assert.equal(result.status, 0, result.stderr);
  assert.equal(result.stderr, ``, `no "Code cache data rejected" warning`);
  assert.equal((JSON.parse(result.stdout) as {nodeVersion: string}).nodeVersion, `v${target.nodeVersion}`);
});

test(`npm run release builds all five archives whose sha256 values match the rendered manifest`, {skip: process.env.PULLSECRET_RELEASE_TEST === `1` ? false : `the full release downloads five ~50 MB Node binaries; set PULLSECRET_RELEASE_TEST=1 to run it`, timeout: 1_200_000}, () => {
  const result = spawnSync(process.execPath, [path.join(ROOT, `scripts`, `release.ts`), `--no-typecheck`], {cwd: ROOT, encoding: `utf8`});
  assert.equal(result.status, 0, result.stderr);
  assertManifestMatchesArchives(RELEASE_DIR);
});
