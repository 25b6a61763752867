#!/usr/bin/env bash
# Admin APIs librdkafka 2.0 lacks (DescribeCluster, DescribeLogDirs, DescribeProducers, client
# quotas), driven by @platformatic/kafka from compat/node against a broker on a free port.
# Usage: admin_node_test.sh SAMSA_BINARY
set -euo pipefail

samsa=$1
here=$(cd "$(dirname "$0")" && pwd)

if [ ! -d "$here/node/node_modules/@platformatic/kafka" ]; then
  echo "FAIL: @platformatic/kafka is not installed (npm ci --prefix compat/node)"; exit 1
fi

work=$(mktemp -d)
broker_pid=""
cleanup() {
  if [ -n "$broker_pid" ]; then kill "$broker_pid" 2>/dev/null || true; wait "$broker_pid" 2>/dev/null || true; fi
  [ -n "${KEEP:-}" ] && echo "kept $work" || rm -rf "$work"
}
trap cleanup EXIT

"$samsa" --override listeners=PLAINTEXT://127.0.0.1:0 --override "log.dir=$work/data" >"$work/broker.log" 2>&1 &
broker_pid=$!
port=""
for _ in $(seq 1 100); do
  port=$(sed -n 's/.*listening on PLAINTEXT:\/\/127.0.0.1:\([0-9]*\).*/\1/p' "$work/broker.log" | head -1)
  [ -n "$port" ] && break
  sleep 0.1
done
[ -n "$port" ] || { echo "FAIL: the broker did not start"; cat "$work/broker.log"; exit 1; }

if ! node "$here/node/admin_apis.mjs" "127.0.0.1:$port"; then
  echo "--- broker log"; cat "$work/broker.log"; exit 1
fi
