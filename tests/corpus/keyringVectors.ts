/**
 * The keyring test vectors of docs/credential-rules.md ("Test vectors"), as data: the product's keyring
 * (tests/core/keyring.test.ts) and the test world's own kubelet keyring (tests/world/kubelet-keyring.test.ts)
 * are both held to them. A credential's label (A, B, …) stands for its username, so an expected list is the
 * order in which the kubelet tries them.
 */

/** One registry key and the label of its credential. */
export type VectorEntry = [key: string, label: string];

/** TestURLsMatch (T1–T18): a key pattern against a lookup string. */
export const URL_MATCH_VECTORS: Array<[id: string, key: string, target: string, match: boolean]> = [
  [`T1`, `*.kubernetes.io`, `prefix.kubernetes.io`, true],
  [`T2`, `prefix.*.io`, `prefix.kubernetes.io`, true],
  [`T3`, `prefix.kubernetes.*`, `prefix.kubernetes.io`, true],
  [`T4`, `*-good.kubernetes.io`, `prefix-good.kubernetes.io`, true],
  [`T5`, `*.kubernetes.io/blah`, `prefix.kubernetes.io/blah`, true],
  [`T6`, `prefix.*.io/foo`, `prefix.kubernetes.io/foo/bar`, true],
  [`T7`, `*.kubernetes.io:1111/blah`, `prefix.kubernetes.io:1111/blah`, true],
  [`T8`, `prefix.*.io:1111/foo`, `prefix.kubernetes.io:1111/foo/bar`, true],
  [`T9`, `*.kubernetes.io`, `kubernetes.io`, false],
  [`T10`, `*.*.kubernetes.io`, `prefix.kubernetes.io`, false],
  [`T11`, `*.*.kubernetes.io`, `kubernetes.io`, false],
  [`T12`, `*kubernetes.io`, `a.kubernetes.io`, false],
  [`T13`, `*kubernetes.io`, `kubernetes.io`, true],
  [`T14`, `*.*.*.kubernetes.io`, `a.b.c.kubernetes.io`, true],
  [`T15`, `kubernetes.io`, `kubernetes.com`, false],
  [`T16`, `k*.io`, `quay.io`, false],
  [`T17`, `*.kubernetes.io:1234/blah`, `prefix.kubernetes.io:1111/blah`, false],
  [`T18`, `prefix.*.io/foo`, `prefix.kubernetes.io:1111/foo/bar`, false],
];;

/** TestDockerKeyringForGlob (T19–T27): one raw key finds its credential for the lookup string. */
export const GLOB_FOUND_VECTORS: Array<[id: string, key: string, lookup: string]> = [
  [`T19`, `https://hello.kubernetes.io`, `hello.kubernetes.io/foo/bar`],
  [`T20`, `https://*.docker.io`, `prefix.docker.io/foo/bar`],
  [`T21`, `https://prefix.docker.*/path`, `prefix.docker.io/path/foo/bar`],
  [`T22`, `https://prefix.*.io:8888`, `prefix.docker.io:8888/foo/bar`],
  [`T23`, `https://*.docker.io/path:1111`, `prefix.docker.io/path:1111/foo/bar`],
  [`T24`, `https://*.docker.io/v1/`, `prefix.docker.io/path:1111/foo/bar`],
  [`T25`, `https://*.docker.io/v2/`, `prefix.docker.io/path:1111/foo/bar`],
  [`T26`, `prefix.docker.io:1111`, `prefix.docker.io:1111/path/foo/bar`],
  [`T27`, `*.docker.io:1111`, `prefix.docker.io:1111/path/foo/bar`],
];;

/** TestKeyringMiss (T28–T33): the credential is not found. */
export const MISS_VECTORS: Array<[id: string, key: string, lookup: string]> = [
  [`T28`, `https://hello.kubernetes.io`, `world.mesos.org/foo/bar/foo/bar`],
  [`T29`, `https://*.docker.com`, `prefix.docker.io/foo/bar`],
  [`T30`, `https://suffix.*.io`, `prefix.docker.io/foo/bar`],
  [`T31`, `https://prefix.docker.c*`, `prefix.docker.io/foo/bar`],
  [`T32`, `https://prefix.*.io/path:1111`, `prefix.docker.io/path/subpath:1111/foo/bar`],
  [`T33`, `https://index.docker.io/v1/`, `world.mesos.org/foo/bar`],
];;

/** Derived rows (D1–D28): secrets (each a list of entries, merged into one keyring), the image, its lookup string, the labels tried. */
export const DERIVED_VECTORS: Array<[id: string, secrets: VectorEntry[][], image: string, lookup: string, expected: string[]]> = [
  [`D1`, [[[`https://index.docker.io/v1/`, `A`]]], `nginx`, `docker.io/library/nginx`, [`A`]],
  [`D2`, [[[`index.docker.io`, `A`]]], `myorg/app:1`, `docker.io/myorg/app`, [`A`]],
  [`D3`, [[[`docker.io`, `A`]]], `nginx`, `docker.io/library/nginx`, [`A`]],
  [`D4`, [[[`docker.io`, `A`], [`https://index.docker.io/v1/`, `B`]]], `nginx`, `docker.io/library/nginx`, [`A`]],
  [`D5`, [[[`https://registry-1.docker.io/v2/`, `A`]]], `nginx`, `docker.io/library/nginx`, []],
  [`D6`, [[[`*.docker.io`, `A`]]], `nginx`, `docker.io/library/nginx`, []],
  [`D7`, [[[`index.docker.io/myorg`, `A`]]], `myorg/app`, `docker.io/myorg/app`, []],
  [`D8`, [[[`docker.io/myorg`, `A`]]], `myorgx/app`, `docker.io/myorgx/app`, [`A`]],
  [`D9`, [[[`https://index.docker.io/v1/`, `A`]]], `localhost/app`, `localhost/app`, [`A`]],
  [`D10`, [[[`https://index.docker.io/v1/`, `A`]]], `localhost:5000/app`, `localhost:5000/app`, []],
  [`D11`, [[[`localhost`, `A`]]], `localhost:5000/app`, `localhost:5000/app`, []],
  [`D12`, [[[`registry.example.com:5000`, `A`]]], `registry.example.com/app`, `registry.example.com/app`, []],
  [`D13`, [[[`*.example.com/bar`, `A`], [`foo.example.com`, `B`]]], `foo.example.com/bar/baz`, `foo.example.com/bar/baz`, [`B`, `A`]],
  [`D14`, [[[`*.gcr.io`, `A`], [`us.gcr.io`, `B`], [`gcr.io`, `C`]]], `us.gcr.io/proj/img`, `us.gcr.io/proj/img`, [`B`, `A`]],
  [`D15`, [[[`*.gcr.io`, `A`], [`gcr.io`, `C`]]], `gcr.io/proj/img`, `gcr.io/proj/img`, [`C`]],
  [`D16`, [[[`*-docker.pkg.dev`, `A`]]], `us-central1-docker.pkg.dev/p/r/img`, `us-central1-docker.pkg.dev/p/r/img`, [`A`]],
  [`D17`, [[[`*.dkr.ecr.*.amazonaws.com`, `A`]]], `123456789012.dkr.ecr-fips.us-east-1.amazonaws.com/app`, `123456789012.dkr.ecr-fips.us-east-1.amazonaws.com/app`, []],
  [`D18`, [[[`Quay.io`, `A`]]], `quay.io/org/app`, `quay.io/org/app`, []],
  [`D19`, [[[`quay.io/org/`, `A`]]], `quay.io/org`, `quay.io/org`, []],
  [`D20`, [[[`quay.io/v1`, `A`]]], `quay.io/org/app`, `quay.io/org/app`, []],
  [`D21`, [[[`http://quay.io:443`, `A`]]], `quay.io/org/app`, `quay.io/org/app`, []],
  [`D22`, [[[`ghcr.io/owner`, `A`], [`ghcr.io`, `B`], [`ghcr.io/owner/repo`, `C`]]], `ghcr.io/owner/repo:tag`, `ghcr.io/owner/repo`, [`C`, `A`, `B`]],
  [`D23`, [[[`https://index.docker.io/v1/`, `A`], [`quay.io`, `B`]]], `quay.io/org/app`, `quay.io/org/app`, [`B`]],
  [`D24`, [[[`https://index.docker.io/v1/`, `A`]]], `registry-1.docker.io/library/nginx`, `registry-1.docker.io/library/nginx`, []],
  [`D25`, [[[`quay.io`, `A`]], [[`quay.io/org`, `B`], [`quay.io`, `C`]]], `quay.io/org/app`, `quay.io/org/app`, [`B`, `A`, `C`]],
  [`D26`, [[[`registry.example.com:5000`, `A`], [`registry.example.com:5000/team`, `B`]]], `registry.example.com:5000/team/app`, `registry.example.com:5000/team/app`, [`B`, `A`]],
  [`D27`, [[[`*.example.com`, `A`], [`a.example.com`, `B`], [`0.example.com`, `C`]]], `a.example.com/x`, `a.example.com/x`, [`B`, `A`]],
  [`D27`, [[[`*.example.com`, `A`], [`a.example.com`, `B`], [`0.example.com`, `C`]]], `0.example.com/x`, `0.example.com/x`, [`C`, `A`]],
  [`D28`, [[[`https://index.docker.io/v1/something`, `A`]]], `something/app`, `docker.io/something/app`, []],
];;
