/**
 * Platforms a pod needs and an image offers (pure). A pull fails with "no match for platform in manifest" when the
 * image (an index, or a single manifest) has no variant for the node's platform. What a pod needs: the platforms
 * named with `--platform`, else those of the cluster's nodes (`status.nodeInfo.operatingSystem/architecture`),
 * narrowed by the pod's `nodeSelector` on `kubernetes.io/os` and `kubernetes.io/arch`.
 *
 * Matching follows the runtime's: os and architecture equal; a variant only when the needed platform names one,
 * with `arm64` meaning `arm64/v8` and `arm` meaning `arm/v7` when the variant is left out.
 */
import type {Platform} from '../ports.ts';

/** Where the needed platforms came from, for messages. */
export type PlatformOrigin = `--platform` | `nodes`;

export type PlatformNeed = {platforms: Platform[]; origin: PlatformOrigin};

/** `linux/amd64`, `linux/arm64/v8`. */
export function formatPlatform(platform: Platform): string {
  return [platform.os, platform.architecture, ...(platform.variant === undefined ? [] : [platform.variant])].join(`/`);
}

/** Parses `--platform` values (comma-separated, repeatable): `os/arch[/variant]`. */
export function parsePlatforms(values: string[]): {ok: true; platforms: Platform[]} | {ok: false; error: string} {
  const platforms: Platform[] = [];
  for (const value of values.flatMap(item => item.split(`,`)).map(item => item.trim())) {
    const parts = value.split(`/`);
    if (parts.length < 2 || parts.length > 3 || parts.some(part => !/^[a-z0-9._-]+$/.test(part)))
      return {ok: false, error: `invalid platform "${value}": use OS/ARCH or OS/ARCH/VARIANT, e.g. linux/amd64,linux/arm64`};
    platforms.push({os: parts[0]!, architecture: parts[1]!, ...(parts[2] === undefined ? {} : {variant: parts[2]})});
  }
  return {ok: true, platforms: unique(platforms)};
}

/** Distinct platforms, in first-seen order. */
export function unique(platforms: Platform[]): Platform[] {
  const seen = new Set<string>();
  return platforms.filter(platform => {
    const key = formatPlatform(platform);
    if (seen.has(key))
      return false;
    seen.add(key);
    return true;
  });
}

/** The platforms of nodes, from `status.nodeInfo` (nodes that do not say are left out). */
export function nodePlatforms(nodes: ReadonlyArray<Record<string, unknown>>): Platform[] {
  const platforms: Platform[] = [];
  for (const node of nodes) {
    const info = (node.status as {nodeInfo?: {operatingSystem?: unknown; architecture?: unknown}} | undefined)?.nodeInfo;
    if (typeof info?.operatingSystem === `string` && typeof info.architecture === `string` && info.operatingSystem !== `` && info.architecture !== ``)
      platforms.push({os: info.operatingSystem, architecture: info.architecture});
  }
  return unique(platforms);
}

/** The platforms one pod may run on: the need, narrowed by its nodeSelector. */
export function podPlatforms(need: PlatformNeed, selector: {os?: string; architecture?: string} | undefined): Platform[] {
  return need.platforms.filter(platform => (selector?.os === undefined || selector.os === platform.os)
    && (selector?.architecture === undefined || selector.architecture === platform.architecture));
}

const DEFAULT_VARIANT: Record<string, string> = {arm64: `v8`, arm: `v7`};

/** Whether an offered platform serves a needed one. */
export function serves(offered: Platform, needed: Platform): boolean {
  if (offered.os !== needed.os || offered.architecture !== needed.architecture)
    return false;
  if (needed.variant === undefined)
    return true;
  const variant = offered.variant ?? DEFAULT_VARIANT[offered.architecture];
  return variant === (needed.variant ?? DEFAULT_VARIANT[needed.architecture]);
}

/** The needed platforms that no offered one serves. */
export function missingPlatforms(offered: Platform[], needed: Platform[]): Platform[] {
  return needed.filter(platform => !offered.some(candidate => serves(candidate, platform)));
}

/** The detail of a `platform-missing` verdict. */
export function platformMissingDetail(image: string, offered: Platform[], missing: Platform[], origin: PlatformOrigin, selected: boolean): string {
  const from = origin === `nodes` ? `the cluster's nodes` : `--platform`;
  const offers = offered.length === 0 ? `no platform` : offered.map(formatPlatform).join(`, `);
  return `${image} offers ${offers}, not ${missing.map(formatPlatform).join(`, `)} (needed: ${from}${selected ? `, narrowed by the pod's nodeSelector` : ``}); the runtime would fail with "no match for platform in manifest"`;
}
