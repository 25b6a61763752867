#!/usr/bin/env bash
# Classic and KIP-848 members in one group with real clients: a librdkafka consumer
# (group_member) and an @platformatic/kafka consumer with groupProtocol 'consumer'
# (compat/node/mixed_protocol_group.mjs, which also runs the broker over a scratch directory).
# Usage: mixed_protocol_group_test.sh SAMSA_BINARY GROUP_MEMBER_BINARY
set -euo pipefail

samsa=$1
group_member=$2
here=$(cd "$(dirname "$0")" && pwd)

if [ ! -d "$here/node/node_modules/@platformatic/kafka" ]; then
  echo "FAIL: @platformatic/kafka is not installed (npm ci --prefix compat/node)"; exit 1
fi

work=$(mktemp -d)
cleanup() { [ -n "${KEEP:-}" ] && echo "kept $work" || rm -rf "$work"; }
trap cleanup EXIT

if ! node "$here/node/mixed_protocol_group.mjs" "$samsa" "$group_member" "$work"; then
  echo "--- broker log"; cat "$work/broker.log"
  echo "--- group_member log"; cat "$work/group_member.log" 2>/dev/null || true
  exit 1
fi
