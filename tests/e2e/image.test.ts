// `npm run image`: the OCI image index built from the release binaries without a container engine, pushed to the
// real docker-registry, pulled back by real containerd over CRI (as a kubelet pulls it), and each platform's root
// filesystem, taken from the registry, runs the binary as the non-root user (arm64 under qemu-user).
import {after, before, test} from 'node:test';
import assert from 'node:assert/strict';
import {spawn, spawnSync} from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import {startRegistry} from '../helpers/registry/index.ts';
import type {TestRegistry} from '../helpers/registry/index.ts';
import {startContainerd} from '../helpers/containerd/index.ts';
import type {Containerd} from '../helpers/containerd/index.ts';
import {ensureBinary, ROOT} from '../helpers/binary.ts';
import {buildTarget} from '../../scripts/release.ts';
import {bundle, packageVersion} from '../../scripts/lib/sea.ts';
import {TARGETS, qemuAarch64} from '../../scripts/lib/targets.ts';

const PASSWORD = `image-push-pw-7731`;
let registry: TestRegistry;
let containerd: Containerd;
let work: string;
const binaries: Record<string, string> = {};
before(async () => {
  work = fs.mkdtempSync(path.join(os.tmpdir(), `image-test-`));
  binaries.amd64 = await ensureBinary();
  await bundle();
  binaries.arm64 = path.join(work, `kubectl-pullsecret-linux-arm64`);
  await buildTarget(TARGETS.find(target => target.os === `linux` && target.arch === `arm64`)!, binaries.arm64, {workDir: path.join(work, `build`)});
  registry = await startRegistry({mode: `basic`, users: {pusher: PASSWORD}});
  containerd = await startContainerd();
  containerd.trustRegistry(registry);
}, {timeout: 600_000});
after(async () => {
  await containerd?.stop();
  await registry?.stop();
  fs.rmSync(work, {recursive: true, force: true});
});

const auth = () => `Basic ${Buffer.from(`pusher:${PASSWORD}`).toString(`base64`)}`;
async function get(pathname: string, accept: string): Promise<{json: any; bytes: Buffer}> {
  const response = await fetch(`${registry.url}/v2/tools/kubectl-pullsecret/${pathname}`, {headers: {authorization: auth(), accept}});
  assert.equal(response.status, 200, pathname);
  const bytes = Buffer.from(await response.arrayBuffer());
  let json: any;
  try {
    json = JSON.parse(bytes.toString(`utf8`));
  } catch {
    json = undefined;
  }
  return {json, bytes};
}

let pushed: {digest: string; stdout: string; stderr: string};

test(`npm run image pushes an OCI index with linux/amd64 and linux/arm64 to a registry, the password read from stdin`, async () => {
  const reference = `${registry.host}/tools/kubectl-pullsecret:test`;
  const child = spawn(process.execPath, [path.join(ROOT, `scripts`, `image.ts`), `--push`, reference, `--binary-amd64`, binaries.amd64!, `--binary-arm64`, binaries.arm64!, `--username`, `pusher`, `--plain-http`], {stdio: [`pipe`, `pipe`, `pipe`]});
  let stdout = ``;
  let stderr = ``;
  child.stdout.on(`data`, chunk => stdout += chunk);
  child.stderr.on(`data`, chunk => stderr += chunk);
  child.stdin.end(`${PASSWORD}\n`);
  const code = await new Promise(resolve => child.on(`exit`, resolve));
  assert.equal(code, 0, stderr);
  const match = new RegExp(`^${reference.replace(/[.]/g, `\\.`)}@(sha256:[0-9a-f]{64})\\n$`).exec(stdout);
  assert.ok(match, stdout);
  assert.doesNotMatch(stdout + stderr, new RegExp(PASSWORD));
  pushed = {digest: match[1]!, stdout, stderr};

  const index = await get(`manifests/test`, `application/vnd.oci.image.index.v1+json`);
  assert.equal(index.json.mediaType, `application/vnd.oci.image.index.v1+json`);
  assert.deepEqual(index.json.manifests.map((manifest: any) => manifest.platform), [{os: `linux`, architecture: `amd64`}, {os: `linux`, architecture: `arm64`}]);
  for (const entry of index.json.manifests) {
    const manifest = (await get(`manifests/${entry.digest}`, entry.mediaType)).json;
    assert.equal(manifest.mediaType, `application/vnd.oci.image.manifest.v1+json`);
    const config = (await get(`blobs/${manifest.config.digest}`, `*/*`)).json;
    assert.equal(config.architecture, entry.platform.architecture);
    assert.equal(config.config.User, `65532:65532`);
    assert.deepEqual(config.config.Entrypoint, [`/usr/local/bin/kubectl-pullsecret`]);
    assert.equal(config.config.Labels[`org.opencontainers.image.version`], `v${packageVersion()}`);
  }
});

test(`real containerd pulls the tag over CRI with the credentials and picks the linux/amd64 image of the index`, async () => {
  const image = `${registry.host}/tools/kubectl-pullsecret:test`;
  const id = await containerd.pull(image, {username: `pusher`, password: PASSWORD});
  const status = await containerd.imageStatus(image);
  assert.equal(status?.id, id);
  assert.ok(status!.repoDigests.some(digest => digest.endsWith(`@${pushed.digest}`)), status!.repoDigests.join(`, `));
  const index = (await get(`manifests/test`, `application/vnd.oci.image.index.v1+json`)).json;
  const amd64 = (await get(`manifests/${index.manifests[0].digest}`, index.manifests[0].mediaType)).json;
  assert.equal(id, amd64.config.digest, `containerd's image id is the amd64 config`);
});

for (const arch of [`amd64`, `arm64`]) {
  test(`the linux/${arch} root filesystem from the registry runs the binary as the non-root user`, async () => {
    const index = (await get(`manifests/test`, `application/vnd.oci.image.index.v1+json`)).json;
    const entry = index.manifests.find((candidate: any) => candidate.platform.architecture === arch);
    const manifest = (await get(`manifests/${entry.digest}`, entry.mediaType)).json;
    const root = path.join(work, `rootfs-${arch}`);
    fs.mkdirSync(root, {recursive: true});
    for (const layer of manifest.layers) {
      const file = path.join(work, `${layer.digest.slice(7)}.tar.gz`);
      fs.writeFileSync(file, (await get(`blobs/${layer.digest}`, `*/*`)).bytes);
      const untar = spawnSync(`tar`, [`-xzf`, file, `-C`, root], {encoding: `utf8`});
      assert.equal(untar.status, 0, untar.stderr);
    }
    const program = [`/usr/local/bin/kubectl-pullsecret`, `version`];
    if (arch === `arm64`) {
      const qemu = qemuAarch64();
      assert.ok(qemu, `qemu-user is installed by .ci/run`);
      const qemuPath = spawnSync(`sh`, [`-c`, `command -v ${qemu}`], {encoding: `utf8`}).stdout.trim();
      fs.copyFileSync(qemuPath, path.join(root, `qemu-aarch64`));
      fs.chmodSync(path.join(root, `qemu-aarch64`), 0o755);
      program.unshift(`/qemu-aarch64`);
    }
    const run = spawnSync(`/usr/sbin/chroot`, [`--userspec=65532:65532`, root, ...program], {encoding: `utf8`, env: {PATH: `/usr/local/bin:/usr/bin:/bin`, HOME: `/home/nonroot`}, timeout: 120_000});
    assert.equal(run.status, 0, `${run.stdout}${run.stderr}`);
    assert.match(run.stdout, new RegExp(`^kubectl-pullsecret ${packageVersion().replace(/\./g, `\\.`)} \\(commit `));
  });
}
