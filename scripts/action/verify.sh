#!/usr/bin/env bash
# Runs `kubectl pullsecret verify` for action.yml's second step, with the action's inputs:
#   PULLSECRET_ARGS        arguments for verify, split like a shell line without running anything: whitespace separates,
#                          single or double quotes keep spaces (e.g. -f "deploy/my release.yaml" -n web); no $ or `
#                          expansion
#   PULLSECRET_KUBECONFIG  a kubeconfig file path, or the kubeconfig itself (a secret): written to a 0600 temp file
#   PULLSECRET_FORMAT      -o value (default github)
#   PULLSECRET_FAIL_ON     --fail-on value (empty: not passed)
# The exit status is verify's (0 pass, 1 a failing image or an incomplete check, 2 usage, 3 cluster unreachable).
set -euo pipefail

args=()
if [ -n "${PULLSECRET_ARGS:-}" ]; then
  # xargs splits on whitespace and honours quotes and backslashes; nothing in the input is
  # executed or expanded (sh only prints its arguments). Read back NUL-separated (bash 3.2 on macOS runners has no `mapfile -d`).
  list=$(mktemp "${RUNNER_TEMP:-${TMPDIR:-/tmp}}/args.XXXXXX")
  if ! printf '%s\n' "$PULLSECRET_ARGS" | xargs sh -c 'for arg; do printf "%s\0" "$arg"; done' sh > "$list" 2>/dev/null; then
    rm -f "$list"
    echo "error: the args input has an unmatched quote; close it, or escape it with a backslash" >&2
    exit 2
  fi
  while IFS= read -r -d '' arg; do
    args+=("$arg")
  done < "$list"
  rm -f "$list"
fi
args+=(-o "${PULLSECRET_FORMAT:-github}")
if [ -n "${PULLSECRET_FAIL_ON:-}" ]; then
  args+=(--fail-on "$PULLSECRET_FAIL_ON")
fi

kubeconfig=${PULLSECRET_KUBECONFIG:-}
if [ -n "$kubeconfig" ]; then
  if [ -f "$kubeconfig" ]; then
    args+=(--kubeconfig "$kubeconfig")
  else
    # Not a file: the kubeconfig's content (from a secret). Kept out of argv and logs, removed afterwards.
    file=$(umask 077 && mktemp "${RUNNER_TEMP:-${TMPDIR:-/tmp}}/kubeconfig.XXXXXX")
    trap 'rm -f "$file"' EXIT
    printf '%s\n' "$kubeconfig" > "$file"
    args+=(--kubeconfig "$file")
  fi
fi
status=0
kubectl-pullsecret verify "${args[@]}" || status=$?
exit "$status"
