// An OCI image index for the release binaries, built without a container engine: per platform a root
// filesystem layer (the dynamic loader and the C/C++ runtime the Node binary links against, taken from the
// Debian packages installed here for that architecture, the CA bundle, /etc/passwd and /etc/group with a
// non-root user) and a layer with the binary; an image config that runs it as that user; one manifest per
// platform; and the index. Layers are written byte for byte (scripts/lib/archive.ts), so the same inputs
// give the same digests.
import crypto from 'node:crypto';
import fs from 'node:fs';
import zlib from 'node:zlib';
import {tarGz} from './archive.ts';
import type {ArchiveEntry} from './archive.ts';

export const INDEX_MEDIA_TYPE = `application/vnd.oci.image.index.v1+json`;
export const MANIFEST_MEDIA_TYPE = `application/vnd.oci.image.manifest.v1+json`;
export const CONFIG_MEDIA_TYPE = `application/vnd.oci.image.config.v1+json`;
export const LAYER_MEDIA_TYPE = `application/vnd.oci.image.layer.v1.tar+gzip`;

/** The user the binary runs as (distroless's `nonroot`). */
export const NONROOT_UID = 65532;
/** Where the binary lives in the image. */
export const BINARY_PATH = `usr/local/bin/kubectl-pullsecret`;
const CA_BUNDLE = `/etc/ssl/certs/ca-certificates.crt`;

/** The shared objects a Node 24 linux binary loads, per architecture, where Debian's multiarch packages put them. */
const RUNTIME: Record<`amd64` | `arm64`, {loader: string; libDir: string; libs: string[]}> = {
  amd64: {loader: `/lib64/ld-linux-x86-64.so.2`, libDir: `/lib/x86_64-linux-gnu`, libs: [`libc.so.6`, `libm.so.6`, `libdl.so.2`, `libpthread.so.0`, `libgcc_s.so.1`, `libstdc++.so.6`]},
  arm64: {loader: `/lib/ld-linux-aarch64.so.1`, libDir: `/lib/aarch64-linux-gnu`, libs: [`libc.so.6`, `libm.so.6`, `libdl.so.2`, `libpthread.so.0`, `libgcc_s.so.1`, `libstdc++.so.6`]},
};

/** A blob: its bytes and descriptor fields. */
export type Blob = {digest: string; size: number; data: Buffer; mediaType: string};

const sha256 = (data: Buffer) => `sha256:${crypto.createHash(`sha256`).update(data).digest(`hex`)}`;
const blob = (data: Buffer, mediaType: string): Blob => ({digest: sha256(data), size: data.length, data, mediaType});
const descriptor = (b: Blob) => ({mediaType: b.mediaType, digest: b.digest, size: b.size});

/** A file of the host, symlinks followed, as it must appear in the image; a clear error when the package is missing. */
function hostFile(file: string, arch: string): Buffer {
  try {
    return fs.readFileSync(fs.realpathSync(file));
  } catch {
    throw new Error(`${file} is missing: install the ${arch} C/C++ runtimes (dpkg --add-architecture ${arch}; apt-get install libc6:${arch} libstdc++6:${arch}) and ca-certificates`);
  }
}

/** The root filesystem layer of one architecture (no binary). */
export function rootfsEntries(arch: `amd64` | `arm64`): ArchiveEntry[] {
  const runtime = RUNTIME[arch];
  const entries: ArchiveEntry[] = [
    {name: `etc/passwd`, mode: 0o644, data: Buffer.from(`root:x:0:0:root:/root:/sbin/nologin\nnonroot:x:${NONROOT_UID}:${NONROOT_UID}:nonroot:/home/nonroot:/sbin/nologin\n`)},
    {name: `etc/group`, mode: 0o644, data: Buffer.from(`root:x:0:\nnonroot:x:${NONROOT_UID}:\n`)},
    {name: CA_BUNDLE.slice(1), mode: 0o644, data: hostFile(CA_BUNDLE, arch)},
    {name: runtime.loader.slice(1), mode: 0o755, data: hostFile(runtime.loader, arch)},
  ];
  for (const lib of runtime.libs)
    entries.push({name: `${runtime.libDir.slice(1)}/${lib}`, mode: 0o644, data: hostFile(`${runtime.libDir}/${lib}`, arch)});
  return entries;
}

/** The uncompressed tar inside a gzip layer (its diff_id is the sha256 of these bytes). */
function diffId(gz: Buffer): string {
  return sha256(zlib.gunzipSync(gz));
}

/** Builds the index and every blob it needs. `binaries` maps an architecture to its linux binary. */
export function buildImage(binaries: Partial<Record<`amd64` | `arm64`, string>>, options: {version: string; created: Date}): {index: Blob; blobs: Blob[]} {
  const mtime = Math.floor(options.created.getTime() / 1000);
  const blobs: Blob[] = [];
  const manifests: Array<Blob & {platform: {os: string; architecture: string}}> = [];
  for (const arch of [`amd64`, `arm64`] as const) {
    const binary = binaries[arch];
    if (binary === undefined)
      continue;
    // gzip level 6: a third of level 9's time on a 120 MB binary, for a layer under 1 % larger.
    const base = blob(tarGz(rootfsEntries(arch), mtime, 6), LAYER_MEDIA_TYPE);
    const app = blob(tarGz([{name: BINARY_PATH, mode: 0o755, data: fs.readFileSync(binary)}], mtime, 6), LAYER_MEDIA_TYPE);
    const config = blob(Buffer.from(JSON.stringify({
      created: options.created.toISOString(),
      architecture: arch,
      os: `linux`,
      config: {
        User: `${NONROOT_UID}:${NONROOT_UID}`,
        Entrypoint: [`/${BINARY_PATH}`],
        Env: [`PATH=/usr/local/bin:/usr/bin:/bin`, `HOME=/home/nonroot`, `SSL_CERT_FILE=${CA_BUNDLE}`, `NODE_EXTRA_CA_CERTS=${CA_BUNDLE}`],
        WorkingDir: `/`,
        Labels: {'org.opencontainers.image.title': `kubectl-pullsecret`, 'org.opencontainers.image.version': options.version},
      },
      rootfs: {type: `layers`, diff_ids: [diffId(base.data), diffId(app.data)]},
      history: [{created: options.created.toISOString(), created_by: `scripts/image.ts: runtime libraries, CA certificates, nonroot user`}, {created: options.created.toISOString(), created_by: `scripts/image.ts: kubectl-pullsecret ${options.version}`}],
    })), CONFIG_MEDIA_TYPE);
    const manifest = blob(Buffer.from(JSON.stringify({schemaVersion: 2, mediaType: MANIFEST_MEDIA_TYPE, config: descriptor(config), layers: [descriptor(base), descriptor(app)], annotations: {'org.opencontainers.image.version': options.version}})), MANIFEST_MEDIA_TYPE);
    blobs.push(base, app, config);
    manifests.push({...manifest, platform: {os: `linux`, architecture: arch}});
  }
  if (manifests.length === 0)
    throw new Error(`no binary given: the image needs at least one of linux/amd64 and linux/arm64`);
  const index = blob(Buffer.from(JSON.stringify({schemaVersion: 2, mediaType: INDEX_MEDIA_TYPE, manifests: manifests.map(manifest => ({...descriptor(manifest), platform: manifest.platform})), annotations: {'org.opencontainers.image.version': options.version}})), INDEX_MEDIA_TYPE);
  return {index, blobs: [...blobs, ...manifests]};
}

/** `host[:port]/repo/path:tag` split for the registry API. */
export function parseTarget(reference: string): {host: string; repository: string; tag: string} {
  const match = /^([^/]+)\/([a-z0-9]+(?:[._\/-][a-z0-9]+)*):([\w][\w.-]{0,127})$/.exec(reference);
  if (!match)
    throw new Error(`invalid image reference "${reference}": give HOST[:PORT]/REPOSITORY:TAG, e.g. 127.0.0.1:5000/kubectl-pullsecret:v0.1.0`);
  return {host: match[1]!, repository: match[2]!, tag: match[3]!};
}

/**
 * Pushes the blobs and manifests, then the index under the tag, with the distribution API (HEAD, POST + PUT
 * uploads, PUT manifests). `scheme` is http for loopback registries without TLS. Credentials answer a Basic
 * challenge or a Bearer token realm, and go only to that registry (and its realm).
 */
export async function pushImage(image: {index: Blob; blobs: Blob[]}, target: {host: string; repository: string; tag: string}, options: {scheme: `http` | `https`; username?: string; password?: string; fetch?: typeof fetch; log?: (line: string) => void}): Promise<string> {
  const doFetch = options.fetch ?? fetch;
  const base = `${options.scheme}://${target.host}/v2/${target.repository}`;
  let authorization: string | undefined;
  const request = async (method: string, url: string, init: {body?: Buffer; headers?: Record<string, string>} = {}): Promise<Response> => {
    const send = () => doFetch(url, {method, body: init.body, headers: {...init.headers, ...(authorization ? {authorization} : {})}, redirect: `manual`});
    let response = await send();
    if (response.status === 401 && options.username !== undefined) {
      const challenge = response.headers.get(`www-authenticate`) ?? ``;
      const basic = `Basic ${Buffer.from(`${options.username}:${options.password ?? ``}`).toString(`base64`)}`;
      if (/^basic/i.test(challenge)) {
        authorization = basic;
      } else if (/^bearer/i.test(challenge)) {
        const params = Object.fromEntries([...challenge.matchAll(/(\w+)="([^"]*)"/g)].map(match => [match[1]!, match[2]!]));
        const realm = new URL(params.realm!);
        realm.searchParams.set(`service`, params.service ?? ``);
        realm.searchParams.set(`scope`, `repository:${target.repository}:pull,push`);
        const token = await doFetch(realm, {headers: {authorization: basic}});
        if (!token.ok)
          throw new Error(`the token service at ${realm.host} refused the credentials (HTTP ${token.status})`);
        const body = await token.json() as {token?: string; access_token?: string};
        authorization = `Bearer ${body.token ?? body.access_token}`;
      }
      response = await send();
    }
    return response;
  };
  const check = async (response: Response, what: string) => {
    if (!response.ok)
      throw new Error(`${what}: HTTP ${response.status} ${(await response.text()).slice(0, 200).replace(/\s+/g, ` `)}`);
  };
  for (const b of image.blobs.filter(candidate => candidate.mediaType !== MANIFEST_MEDIA_TYPE)) {
    const head = await request(`HEAD`, `${base}/blobs/${b.digest}`);
    if (head.ok) {
      options.log?.(`exists ${b.digest} (${b.size} bytes)`);
      continue;
    }
    const start = await request(`POST`, `${base}/blobs/uploads/`);
    await check(start, `starting the upload of ${b.digest}`);
    const location = new URL(start.headers.get(`location`) ?? ``, `${options.scheme}://${target.host}`);
    location.searchParams.set(`digest`, b.digest);
    const put = await request(`PUT`, location.href, {body: b.data, headers: {'content-type': `application/octet-stream`}});
    await check(put, `uploading ${b.digest}`);
    options.log?.(`pushed ${b.digest} (${b.size} bytes)`);
  }
  for (const manifest of image.blobs.filter(candidate => candidate.mediaType === MANIFEST_MEDIA_TYPE)) {
    const put = await request(`PUT`, `${base}/manifests/${manifest.digest}`, {body: manifest.data, headers: {'content-type': MANIFEST_MEDIA_TYPE}});
    await check(put, `pushing manifest ${manifest.digest}`);
  }
  const put = await request(`PUT`, `${base}/manifests/${target.tag}`, {body: image.index.data, headers: {'content-type': INDEX_MEDIA_TYPE}});
  await check(put, `pushing the index as ${target.tag}`);
  options.log?.(`pushed ${target.host}/${target.repository}:${target.tag}@${image.index.digest}`);
  return image.index.digest;
}
