#!/usr/bin/env bash
# Runs one of the compat/node scripts that start the broker themselves (admin_apis.mjs,
# kip848_consumers.mjs, mixed_protocol_group.mjs): checks the Node packages are installed,
# passes the script its arguments and a scratch directory last, and on failure prints every log
# the run left there.
# Usage: node_script_test.sh SCRIPT [ARGS...]   (SCRIPT relative to compat/node; KEEP=1 keeps the directory)
set -euo pipefail

here=$(cd "$(dirname "$0")" && pwd)
script=$1
shift

if [ ! -d "$here/node/node_modules/@platformatic/kafka" ]; then
  echo "FAIL: @platformatic/kafka is not installed (npm ci --prefix compat/node)"; exit 1
fi

work=$(mktemp -d)
cleanup() { [ -n "${KEEP:-}" ] && echo "kept $work" || rm -rf "$work"; }
trap cleanup EXIT

if ! node "$here/node/$script" "$@" "$work"; then
  for log in "$work"/*.log; do
    [ -f "$log" ] && { echo "--- $(basename "$log" .log) log"; cat "$log"; }
  done
  exit 1
fi
