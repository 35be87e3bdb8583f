/**
 * Platforms of an image, read from what the registry returns (pure): an OCI index or Docker manifest list lists one
 * entry per platform (`manifests[].platform`); a single-platform manifest names its config blob, whose `os`,
 * `architecture` and `variant` say the platform. Attestation entries of an index (`unknown/unknown`, as BuildKit
 * writes them) are not platforms a runtime can pick.
 */
import type {Platform} from '../ports.ts';

const INDEX_TYPES = new Set([`application/vnd.oci.image.index.v1+json`, `application/vnd.docker.distribution.manifest.list.v2+json`]);

export type ManifestPlatforms =
  | {kind: `index`; platforms: Platform[]}
  | {kind: `manifest`; config: string}
  | {kind: `error`; detail: string};

function record(value: unknown): Record<string, unknown> | undefined {
  return typeof value === `object` && value !== null && !Array.isArray(value) ? value as Record<string, unknown> : undefined;
}

function platformOf(value: unknown): Platform | undefined {
  const entry = record(value);
  if (typeof entry?.os !== `string` || typeof entry.architecture !== `string` || entry.os === `unknown` || entry.architecture === `unknown`)
    return undefined;
  return {os: entry.os, architecture: entry.architecture, ...(typeof entry.variant === `string` && entry.variant !== `` ? {variant: entry.variant} : {})};
}

/** What a manifest body says about platforms: the index's entries, or the config digest of a single manifest. */
export function platformsOfManifest(body: string, contentType: string | undefined): ManifestPlatforms {
  let parsed: unknown;
  try {
    parsed = JSON.parse(body);
  } catch {
    return {kind: `error`, detail: `the manifest is not JSON`};
  }
  const manifest = record(parsed);
  if (!manifest)
    return {kind: `error`, detail: `the manifest is not a JSON object`};
  const mediaType = typeof manifest.mediaType === `string` ? manifest.mediaType : contentType;
  if (Array.isArray(manifest.manifests) || (mediaType !== undefined && INDEX_TYPES.has(mediaType))) {
    const entries = Array.isArray(manifest.manifests) ? manifest.manifests : [];
    return {kind: `index`, platforms: entries.flatMap(entry => {
      const platform = platformOf(record(entry)?.platform);
      return platform ? [platform] : [];
    })};
  }
  const digest = record(manifest.config)?.digest;
  if (typeof digest !== `string` || !/^[a-z0-9]+(?:[+._-][a-z0-9]+)*:[a-zA-Z0-9=_-]+$/.test(digest))
    return {kind: `error`, detail: `the manifest names no config digest (schema 1 manifests state no platform)`};
  return {kind: `manifest`, config: digest};
}

/** The platform of an image config blob. */
export function platformsOfConfig(body: string): {kind: `config`; platforms: Platform[]} | {kind: `error`; detail: string} {
  let parsed: unknown;
  try {
    parsed = JSON.parse(body);
  } catch {
    return {kind: `error`, detail: `the image config is not JSON`};
  }
  const platform = platformOf(parsed);
  return platform ? {kind: `config`, platforms: [platform]} : {kind: `error`, detail: `the image config states no os and architecture`};
}
