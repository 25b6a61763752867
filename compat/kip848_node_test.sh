#!/usr/bin/env bash
# KIP-848 consumer groups with a real client: two @platformatic/kafka consumers with
# groupProtocol 'consumer' (compat/node/kip848_consumers.mjs, which also starts, kills and
# restarts the broker over a scratch directory).
# Usage: kip848_node_test.sh SAMSA_BINARY
set -euo pipefail

samsa=$1
here=$(cd "$(dirname "$0")" && pwd)

if [ ! -d "$here/node/node_modules/@platformatic/kafka" ]; then
  echo "FAIL: @platformatic/kafka is not installed (npm ci --prefix compat/node)"; exit 1
fi

work=$(mktemp -d)
cleanup() { [ -n "${KEEP:-}" ] && echo "kept $work" || rm -rf "$work"; }
trap cleanup EXIT

if ! node "$here/node/kip848_consumers.mjs" "$samsa" "$work"; then
  echo "--- broker log"; cat "$work/broker.log"; exit 1
fi
