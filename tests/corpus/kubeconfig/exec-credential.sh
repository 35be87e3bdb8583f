#!/bin/sh
# A minimal exec credential plugin for tests: prints an ExecCredential carrying $PULLSECRET_TEST_TOKEN,
# and records that it ran (and what KUBERNETES_EXEC_INFO said) in $PULLSECRET_TEST_MARKER when set.
if [ -n "$PULLSECRET_TEST_MARKER" ]; then printf '%s\n' "$KUBERNETES_EXEC_INFO" >> "$PULLSECRET_TEST_MARKER"; fi
printf '{"apiVersion":"client.authentication.k8s.io/v1beta1","kind":"ExecCredential","status":{"token":"%s"}}\n' "$PULLSECRET_TEST_TOKEN"
