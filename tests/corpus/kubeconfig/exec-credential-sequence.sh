#!/bin/sh
# An exec credential plugin for tests that answers differently on each call. Each run appends
# $KUBERNETES_EXEC_INFO as one line to $PULLSECRET_TEST_DIR/calls; run N prints $PULLSECRET_TEST_DIR/N.json,
# or $PULLSECRET_TEST_DIR/last.json when there is no such file.
dir="$PULLSECRET_TEST_DIR"
printf '%s\n' "$KUBERNETES_EXEC_INFO" >> "$dir/calls"
n=$(( $(wc -l < "$dir/calls") ))
if [ -f "$dir/$n.json" ]; then cat "$dir/$n.json"; else cat "$dir/last.json"; fi
