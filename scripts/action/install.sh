#!/usr/bin/env bash
# Installs kubectl-pullsecret from a release for the GitHub Actions runner (action.yml's first step): downloads the
# archive for the runner's OS and architecture and sha256sums.txt, refuses the archive unless its sha256 is the one
# sha256sums.txt lists, unpacks it into a fresh directory and adds that directory to GITHUB_PATH.
#
# Environment:
#   PULLSECRET_VERSION   release tag, e.g. v0.1.0 (required)
#   PULLSECRET_BASE_URL  where release assets are: $PULLSECRET_BASE_URL/$PULLSECRET_VERSION/<asset>
#                        (default https://github.com/$GITHUB_ACTION_REPOSITORY/releases/download; tests override it)
#   RUNNER_OS, RUNNER_ARCH, RUNNER_TEMP, GITHUB_PATH   set by the runner
#   PULLSECRET_INSTALL_DIR  where to unpack (default $RUNNER_TEMP/kubectl-pullsecret)
set -euo pipefail

fail() { echo "error: $*" >&2; exit 1; }

version=${PULLSECRET_VERSION:-}
[ -n "$version" ] || fail "no version to install: set the action's version input (a release tag such as v0.1.0)"
case "$version" in v[0-9]*) ;; *) fail "version \"$version\" is not a release tag such as v0.1.0";; esac
base=${PULLSECRET_BASE_URL:-}
if [ -z "$base" ]; then
  [ -n "${GITHUB_ACTION_REPOSITORY:-}" ] || fail "GITHUB_ACTION_REPOSITORY is not set: set PULLSECRET_BASE_URL"
  base="https://github.com/${GITHUB_ACTION_REPOSITORY}/releases/download"
fi

case "${RUNNER_OS:-}" in
  Linux) os=linux ;;
  macOS) os=darwin ;;
  Windows) os=windows ;;
  *) fail "unsupported runner OS \"${RUNNER_OS:-}\" (Linux, macOS or Windows)" ;;
esac
case "${RUNNER_ARCH:-}" in
  X64) arch=amd64 ;;
  ARM64) arch=arm64 ;;
  *) fail "unsupported runner architecture \"${RUNNER_ARCH:-}\" (X64 or ARM64)" ;;
esac
ext=tar.gz
[ "$os" = windows ] && ext=zip
asset="kubectl-pullsecret_${version}_${os}_${arch}.${ext}"

work=$(mktemp -d "${RUNNER_TEMP:-${TMPDIR:-/tmp}}/pullsecret-download.XXXXXX")
trap 'rm -rf "$work"' EXIT
download() {
  # --fail: an HTTP error is an error, not a file holding an error page.
  curl --fail --silent --show-error --location --retry 3 --proto '=https,http,file' --output "$2" "$1" \
    || fail "could not download $1"
}
download "$base/$version/sha256sums.txt" "$work/sha256sums.txt"
download "$base/$version/$asset" "$work/$asset"

expected=$(awk -v name="$asset" '$2 == name || $2 == "*" name { print $1 }' "$work/sha256sums.txt")
[ -n "$expected" ] || fail "sha256sums.txt of $version lists no $asset"
if command -v sha256sum >/dev/null 2>&1; then
  actual=$(sha256sum "$work/$asset" | awk '{ print $1 }')
else
  actual=$(shasum -a 256 "$work/$asset" | awk '{ print $1 }')
fi
[ "$actual" = "$expected" ] || fail "sha256 of $asset is $actual, but sha256sums.txt says $expected: not installed"

dest=${PULLSECRET_INSTALL_DIR:-${RUNNER_TEMP:-${TMPDIR:-/tmp}}/kubectl-pullsecret}
rm -rf "$dest"
mkdir -p "$dest"
if [ "$ext" = zip ]; then
  unzip -q "$work/$asset" -d "$dest"
else
  tar -xzf "$work/$asset" -C "$dest"
fi
[ -f "$dest/kubectl-pullsecret" ] || [ -f "$dest/kubectl-pullsecret.exe" ] || fail "$asset holds no kubectl-pullsecret binary"
if [ -n "${GITHUB_PATH:-}" ]; then
  echo "$dest" >> "$GITHUB_PATH"
fi
echo "installed kubectl-pullsecret $version ($os/$arch, sha256 $actual) in $dest"
