/**
 * The image reference grammar as the kubelet parses it (distribution/reference `ParseNormalizedNamed`),
 * written from docs/credential-rules.md R4 independently of sources/: the kubelet's `InvalidImageName` check
 * and the repository name its keyring looks up (`docker.io/library/nginx` for `nginx:1`).
 */

const ALNUM = `[a-z0-9]+`;
const SEPARATOR = `(?:[._]|__|[-]+)`;
const PATH_COMPONENT = `${ALNUM}(?:${SEPARATOR}${ALNUM})*`;
const DOMAIN_COMPONENT = `(?:[a-zA-Z0-9]|[a-zA-Z0-9][a-zA-Z0-9-]*[a-zA-Z0-9])`;
const HOST = `(?:${DOMAIN_COMPONENT}(?:\\.${DOMAIN_COMPONENT})*|\\[[a-fA-F0-9:]+\\])`;
const DOMAIN = `${HOST}(?::[0-9]+)?`;
const TAG = `[\\w][\\w.-]{0,127}`;
const DIGEST = `[A-Za-z][A-Za-z0-9]*(?:[-_+.][A-Za-z][A-Za-z0-9]*)*:[0-9a-fA-F]{32,}`;
const NAME = `(?:${DOMAIN}/)?${PATH_COMPONENT}(?:/${PATH_COMPONENT})*`;
const REFERENCE = new RegExp(`^(${NAME})(?::(${TAG}))?(?:@(${DIGEST}))?$`);
const DIGEST_HEX: Record<string, number> = {sha256: 64, sha384: 96, sha512: 128};

export type ParsedImage = {
  /** The repository name the keyring looks up: `docker.io/library/nginx`. */
  repository: string;
  domain: string;
  tag?: string;
  digest?: string;
};

/** Parses like `ParseNormalizedNamed`; throws an Error worded as the Go library words it. */
export function parseNormalizedNamed(image: string): ParsedImage {
  if (/^[a-f0-9]{64}$/.test(image))
    throw new Error(`invalid repository name (${image}), cannot specify 64-byte hexadecimal strings`);
  let domain: string;
  let remainder: string;
  const slash = image.indexOf(`/`);
  const first = slash === -1 ? `` : image.slice(0, slash);
  if (slash === -1 || (!/[.:]/.test(first) && first !== `localhost` && first.toLowerCase() === first)) {
    domain = `docker.io`;
    remainder = image;
  } else {
    domain = first;
    remainder = image.slice(slash + 1);
  }
  if (domain === `index.docker.io`)
    domain = `docker.io`;
  if (domain === `docker.io` && !remainder.includes(`/`))
    remainder = `library/${remainder}`;
  if (remainder.toLowerCase() !== remainder)
    throw new Error(`invalid reference format: repository name (${remainder}) must be lowercase`);
  const full = `${domain}/${remainder}`;
  const m = REFERENCE.exec(full);
  if (!m)
    throw new Error(`invalid reference format`);
  const repository = m[1]!;
  if (repository.length > 255)
    throw new Error(`repository name must not be more than 255 characters`);
  const digest = m[3];
  if (digest !== undefined) {
    const [algorithm, hex] = digest.split(`:`) as [string, string];
    const want = DIGEST_HEX[algorithm];
    if (want === undefined)
      throw new Error(`unsupported digest algorithm`);
    if (hex.length !== want || !/^[a-f0-9]+$/.test(hex))
      throw new Error(`invalid checksum digest format`);
  }
  return {repository, domain, ...(m[2] !== undefined ? {tag: m[2]} : {}), ...(digest !== undefined ? {digest} : {})};
}

/** The kubelet's `applyDefaultImageTag`: the image with `:latest` when it has neither tag nor digest. */
export function applyDefaultImageTag(image: string): string {
  let parsed: ParsedImage;
  try {
    parsed = parseNormalizedNamed(image);
  } catch (error) {
    throw new Error(`couldn't parse image name "${image}": ${(error as Error).message}`);
  }
  return parsed.tag === undefined && parsed.digest === undefined ? `${image}:latest` : image;
}
