// Pushes tiny but real images without docker (docs/testing.md A.4): a deterministic one-file tar.gz
// layer and a config blob uploaded monolithically (POST, then PUT ?digest=), then the manifest.
import crypto from 'node:crypto';
import zlib from 'node:zlib';
import {rawRequest} from './http.ts';

export type ImageKind = `oci` | `docker` | `index`;

/** A platform an image is built for (written into its config, and into the index entry pointing at it). */
export type PushPlatform = {os: string; architecture: string; variant?: string};

/**
 * `platforms`: for `index`, one child image per platform (default linux/amd64); for `oci`/`docker`, the platform of
 * the single image's config (default linux/amd64). An index may also get a BuildKit-style attestation entry
 * (`unknown/unknown`), which is no platform a runtime can pick.
 */
export type PushOptions = {platforms?: PushPlatform[]; attestation?: boolean};

/** How the harness reaches its own registry with admin rights for `repository`. */
export type PushAccess = {url: string; ca?: string; authorization: (repository: string) => string};

const MEDIA = {
  oci: {manifest: `application/vnd.oci.image.manifest.v1+json`, config: `application/vnd.oci.image.config.v1+json`, layer: `application/vnd.oci.image.layer.v1.tar+gzip`},
  docker: {manifest: `application/vnd.docker.distribution.manifest.v2+json`, config: `application/vnd.docker.container.image.v1+json`, layer: `application/vnd.docker.image.rootfs.diff.tar.gzip`},
} as const;
const OCI_INDEX = `application/vnd.oci.image.index.v1+json`;

const sha256 = (data: Buffer): string => `sha256:${crypto.createHash(`sha256`).update(data).digest(`hex`)}`;

/** A ustar archive holding one regular file, with zeroed owner and time so the bytes are reproducible. */
export function tarOneFile(name: string, content: Buffer): Buffer {
  const header = Buffer.alloc(512);
  const field = (offset: number, length: number, value: string) => header.write(value, offset, length, `ascii`);
  const octal = (value: number, length: number) => value.toString(8).padStart(length - 1, `0`);
  field(0, 100, name);
  field(100, 8, octal(0o644, 8));
  field(108, 8, octal(0, 8));
  field(116, 8, octal(0, 8));
  field(124, 12, octal(content.length, 12));
  field(136, 12, octal(0, 12));
  field(148, 8, `        `);
  field(156, 1, `0`);
  field(257, 6, `ustar\0`);
  field(263, 2, `00`);
  let checksum = 0;
  for (const byte of header) checksum += byte;
  field(148, 8, `${checksum.toString(8).padStart(6, `0`)}\0 `);
  const padding = Buffer.alloc((512 - (content.length % 512)) % 512);
  return Buffer.concat([header, content, padding, Buffer.alloc(1024)]);
}

async function uploadBlob(access: PushAccess, repository: string, blob: Buffer): Promise<string> {
  const digest = sha256(blob);
  const authorization = access.authorization(repository);
  const start = await rawRequest(`${access.url}/v2/${repository}/blobs/uploads/`, {method: `POST`, headers: {authorization}, ca: access.ca, body: ``});
  if (start.status !== 202)
    throw new Error(`blob upload start for ${repository} answered ${start.status}: ${start.text}`);
  const location = new URL(String(start.headers.location), access.url);
  location.searchParams.set(`digest`, digest);
  const put = await rawRequest(location.toString(), {method: `PUT`, headers: {authorization, 'content-type': `application/octet-stream`}, ca: access.ca, body: blob});
  if (put.status !== 201)
    throw new Error(`blob upload for ${repository} answered ${put.status}: ${put.text}`);
  return digest;
}

async function putManifest(access: PushAccess, repository: string, reference: string, mediaType: string, manifest: Buffer): Promise<{digest: string; mediaType: string}> {
  const response = await rawRequest(`${access.url}/v2/${repository}/manifests/${reference}`, {method: `PUT`, headers: {authorization: access.authorization(repository), 'content-type': mediaType}, ca: access.ca, body: manifest});
  if (response.status !== 201)
    throw new Error(`manifest PUT ${repository}:${reference} answered ${response.status}: ${response.text}`);
  const digest = sha256(manifest);
  const reported = response.headers[`docker-content-digest`];
  if (reported !== undefined && reported !== digest)
    throw new Error(`registry reported digest ${String(reported)}, expected ${digest}`);
  return {digest, mediaType};
}

async function pushImageManifest(access: PushAccess, repository: string, tag: string | null, flavour: `oci` | `docker`, seed: string, platform: PushPlatform = {os: `linux`, architecture: `amd64`}): Promise<{digest: string; mediaType: string; size: number}> {
  const media = MEDIA[flavour];
  const tar = tarOneFile(`hello.txt`, Buffer.from(`hello from ${seed}\n`));
  const layer = zlib.gzipSync(tar);
  const config = Buffer.from(JSON.stringify({architecture: platform.architecture, os: platform.os, ...(platform.variant === undefined ? {} : {variant: platform.variant}), config: {}, rootfs: {type: `layers`, diff_ids: [sha256(tar)]}}));
  const configDigest = await uploadBlob(access, repository, config);
  const layerDigest = await uploadBlob(access, repository, layer);
  const manifest = Buffer.from(JSON.stringify({
    schemaVersion: 2,
    mediaType: media.manifest,
    config: {mediaType: media.config, digest: configDigest, size: config.length},
    layers: [{mediaType: media.layer, digest: layerDigest, size: layer.length}],
  }));
  // Without a tag the manifest is stored by its own digest only (the child of an index).
  const pushed = await putManifest(access, repository, tag ?? sha256(manifest), media.manifest, manifest);
  return {...pushed, size: manifest.length};
}

/** Pushes one image of the given kind under `repository:tag`; returns the tag's digest and media type. */
export async function pushImage(access: PushAccess, repository: string, tag: string, kind: ImageKind = `oci`, options: PushOptions = {}): Promise<{digest: string; mediaType: string}> {
  const seed = `${repository}:${tag}:${kind}`;
  if (kind !== `index`) {
    const {digest, mediaType} = await pushImageManifest(access, repository, tag, kind, seed, options.platforms?.[0]);
    return {digest, mediaType};
  }
  // Each child manifest is pushed by digest only, then an OCI index pointing at them takes the tag.
  const entries = [];
  for (const platform of options.platforms ?? [{os: `linux`, architecture: `amd64`}]) {
    const child = await pushImageManifest(access, repository, null, `oci`, `${seed}:${platform.os}/${platform.architecture}/${platform.variant ?? ``}`, platform);
    entries.push({mediaType: child.mediaType, digest: child.digest, size: child.size, platform: {architecture: platform.architecture, os: platform.os, ...(platform.variant === undefined ? {} : {variant: platform.variant})}});
  }
  if (options.attestation) {
    const attestation = await pushImageManifest(access, repository, null, `oci`, `${seed}:attestation`, {os: `unknown`, architecture: `unknown`});
    entries.push({mediaType: attestation.mediaType, digest: attestation.digest, size: attestation.size, platform: {architecture: `unknown`, os: `unknown`}});
  }
  const index = Buffer.from(JSON.stringify({schemaVersion: 2, mediaType: OCI_INDEX, manifests: entries}));
  return putManifest(access, repository, tag, OCI_INDEX, index);
}

/**
 * Pushes many tags of one repository cheaply: the config and layer blobs once, then one manifest per tag, each made
 * distinct by an annotation naming its tag (so every tag is a distinct image with its own digest). For benchmarks
 * that need thousands of distinct images.
 */
export async function pushTags(access: PushAccess, repository: string, tags: string[]): Promise<void> {
  const media = MEDIA.oci;
  const tar = tarOneFile(`hello.txt`, Buffer.from(`hello from ${repository}\n`));
  const layer = zlib.gzipSync(tar);
  const config = Buffer.from(JSON.stringify({architecture: `amd64`, os: `linux`, config: {}, rootfs: {type: `layers`, diff_ids: [sha256(tar)]}}));
  const configDigest = await uploadBlob(access, repository, config);
  const layerDigest = await uploadBlob(access, repository, layer);
  for (const tag of tags) {
    const manifest = Buffer.from(JSON.stringify({
      schemaVersion: 2,
      mediaType: media.manifest,
      config: {mediaType: media.config, digest: configDigest, size: config.length},
      layers: [{mediaType: media.layer, digest: layerDigest, size: layer.length}],
      annotations: {'org.opencontainers.image.ref.name': tag},
    }));
    await putManifest(access, repository, tag, media.manifest, manifest);
  }
}
