// `npm run image -- --push HOST[:PORT]/REPOSITORY:TAG`: builds the OCI image index (linux/amd64, linux/arm64) from the
// release binaries, without a container engine (scripts/lib/image.ts), and pushes it.
//
//   --binary-amd64 PATH, --binary-arm64 PATH   the linux binaries (default: built now from the bundle, as `npm run release` does)
//   --platforms linux/amd64,linux/arm64        which platforms (default both)
//   --username USER                            registry user; the password is read from stdin (never from argv)
//   --plain-http                               talk HTTP to the registry (loopback registries without TLS)
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import {parseArgs} from 'node:util';
import {buildImage, parseTarget, pushImage} from './lib/image.ts';
import {bundle, packageVersion} from './lib/sea.ts';
import {TARGETS} from './lib/targets.ts';
import {buildTarget} from './release.ts';

async function main(): Promise<void> {
  const {values} = parseArgs({options: {
    push: {type: `string`},
    'binary-amd64': {type: `string`},
    'binary-arm64': {type: `string`},
    platforms: {type: `string`, default: `linux/amd64,linux/arm64`},
    username: {type: `string`},
    'plain-http': {type: `boolean`, default: false},
  }});
  if (values.push === undefined)
    throw new Error(`--push HOST[:PORT]/REPOSITORY:TAG is required`);
  const target = parseTarget(values.push);
  const platforms = values.platforms.split(`,`).map(item => item.trim());
  for (const platform of platforms) {
    if (platform !== `linux/amd64` && platform !== `linux/arm64`)
      throw new Error(`unsupported platform "${platform}": use linux/amd64 and/or linux/arm64`);
  }
  const version = `v${packageVersion()}`;
  const binaries: Partial<Record<`amd64` | `arm64`, string>> = {};
  const work = fs.mkdtempSync(path.join(os.tmpdir(), `pullsecret-image-`));
  try {
    let bundled = false;
    for (const arch of [`amd64`, `arm64`] as const) {
      if (!platforms.includes(`linux/${arch}`))
        continue;
      const given = values[`binary-${arch}`];
      if (given !== undefined) {
        binaries[arch] = given;
        continue;
      }
      if (!bundled) {
        await bundle();
        bundled = true;
      }
      const out = path.join(work, `kubectl-pullsecret-linux-${arch}`);
      process.stderr.write(`image: building the linux/${arch} binary\n`);
      await buildTarget(TARGETS.find(candidate => candidate.os === `linux` && candidate.arch === arch)!, out, {workDir: work, log: line => process.stderr.write(`${line}\n`)});
      binaries[arch] = out;
    }
    let password: string | undefined;
    if (values.username !== undefined)
      password = fs.readFileSync(0, `utf8`).replace(/\r?\n$/, ``);
    const image = buildImage(binaries, {version, created: new Date(Number(process.env.SOURCE_DATE_EPOCH ?? 0) * 1000 || Date.now())});
    const digest = await pushImage(image, target, {scheme: values[`plain-http`] ? `http` : `https`, username: values.username, password, log: line => process.stderr.write(`image: ${line}\n`)});
    process.stdout.write(`${target.host}/${target.repository}:${target.tag}@${digest}\n`);
  } finally {
    fs.rmSync(work, {recursive: true, force: true});
  }
}

main().catch(error => {
  process.stderr.write(`error: ${error instanceof Error ? error.message : String(error)}\n`);
  process.exitCode = 1;
});
