// Renders and checks the krew plugin manifest (krew-manifest.yaml at the repository root is the template).
import crypto from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import {parse, stringify} from 'yaml';

/** krew's manifest API version and the plugin's name in the index. */
export const KREW_API_VERSION = `krew.googlecontainertools.github.com/v1alpha2`;
export const PLUGIN_NAME = `pullsecret`;

/** A platform entry of a krew manifest. */
export type KrewPlatform = {
  selector: {matchLabels: {os: string; arch: string}};
  uri: string;
  sha256: string;
  files?: Array<{from: string; to: string}>;
  bin: string;
};

/** The parts of a krew manifest that this project fills in and checks. */
export type KrewManifest = {
  apiVersion: string;
  kind: string;
  metadata: {name: string};
  spec: {version: string; homepage: string; shortDescription: string; description: string; caveats?: string; platforms: KrewPlatform[]};
};

/** The SHA-256 of a file, as lowercase hex. */
export function sha256File(file: string): string {
  return crypto.createHash(`sha256`).update(fs.readFileSync(file)).digest(`hex`);
}

/** The archive file name a platform's uri points at. */
export function archiveName(platform: KrewPlatform): string {
  return decodeURIComponent(new URL(platform.uri).pathname.split(`/`).at(-1)!);
}

/**
 * Fills the template: `{{version}}` and `{{repo}}` everywhere, and each platform's sha256 from
 * `sha256ByArchive` (keyed by archive file name). Throws when an archive is missing.
 */
export function renderKrewManifest(template: string, options: {version: string; repo: string; sha256ByArchive: Map<string, string>}): string {
  const filled = template.replaceAll(`{{version}}`, options.version).replaceAll(`{{repo}}`, options.repo);
  const manifest = parse(filled) as KrewManifest;
  for (const platform of manifest.spec.platforms) {
    const name = archiveName(platform);
    const sha = options.sha256ByArchive.get(name);
    if (sha === undefined)
      throw new Error(`no archive ${name} for ${platform.selector.matchLabels.os}/${platform.selector.matchLabels.arch}`);
    platform.sha256 = sha;
  }
  const problems = checkKrewManifest(manifest);
  if (problems.length > 0)
    throw new Error(`the rendered krew manifest is invalid: ${problems.join(`; `)}`);
  return `# Rendered by \`npm run release\` from krew-manifest.yaml; submit this file to the krew index.\n${stringify(manifest, {lineWidth: 0})}`;
}

/** Structural checks, following krew's own validation rules; returns the problems found. */
export function checkKrewManifest(manifest: KrewManifest): string[] {
  const problems: string[] = [];
  if (manifest.apiVersion !== KREW_API_VERSION)
    problems.push(`apiVersion must be ${KREW_API_VERSION}`);
  if (manifest.kind !== `Plugin`)
    problems.push(`kind must be Plugin`);
  if (manifest.metadata?.name !== PLUGIN_NAME)
    problems.push(`metadata.name must be ${PLUGIN_NAME}`);
  const spec = manifest.spec;
  if (!/^v\d+\.\d+\.\d+(-[0-9A-Za-z.-]+)?$/.test(spec?.version ?? ``))
    problems.push(`spec.version must look like vX.Y.Z, got ${JSON.stringify(spec?.version)}`);
  if (!/^https:\/\//.test(spec?.homepage ?? ``))
    problems.push(`spec.homepage must be an https URL`);
  if (!spec?.shortDescription || spec.shortDescription.length > 50)
    problems.push(`spec.shortDescription must be 1 to 50 characters`);
  if (!spec?.description)
    problems.push(`spec.description is required`);
  const seen = new Set<string>();
  for (const platform of spec?.platforms ?? []) {
    const {os, arch} = platform.selector?.matchLabels ?? {};
    const where = `${os}/${arch}`;
    if (!os || !arch)
      problems.push(`a platform lacks selector.matchLabels os/arch`);
    if (seen.has(where))
      problems.push(`${where} appears twice`);
    seen.add(where);
    if (!/^https:\/\//.test(platform.uri ?? ``))
      problems.push(`${where}: uri must be https`);
    if (!/^[0-9a-f]{64}$/.test(platform.sha256 ?? ``))
      problems.push(`${where}: sha256 must be 64 lowercase hex digits`);
    if (!platform.bin)
      problems.push(`${where}: bin is required`);
    if (os === `windows` && !platform.bin.endsWith(`.exe`))
      problems.push(`${where}: bin must end in .exe`);
    if (platform.files && !platform.files.some(file => file.from === platform.bin))
      problems.push(`${where}: files do not include bin ${platform.bin}`);
  }
  if (seen.size === 0)
    problems.push(`spec.platforms is empty`);
  return problems;
}

/** `sha256sum`-compatible lines for the given files (names relative to their directory). */
export function sha256Sums(files: string[]): string {
  return files.map(file => `${sha256File(file)}  ${path.basename(file)}\n`).join(``);
}
