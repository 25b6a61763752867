#!/usr/bin/env bash
# Re-captures the golden request frames in this folder from real clients (see README.md).
# Usage: tests/protocol/golden/capture.sh BUILD_DIR
# Needs kcat (with its librdkafka), node and npm; kafkajs is installed into a temporary folder.
set -euo pipefail

build=${1:?usage: capture.sh BUILD_DIR}
here=$(cd "$(dirname "$0")" && pwd)
tool="$build/tests/protocol/golden/golden_capture"
kafkajs_version=2.2.4
work=$(mktemp -d)
capture_pid=
cleanup() {
    if [ -n "$capture_pid" ]; then kill -INT "$capture_pid" 2>/dev/null || true; fi
    rm -rf "$work"
}
trap cleanup EXIT

# Starts the capture tool writing into $here/$1 and sets $broker to its address.
start_capture() {
    rm -rf "${here:?}/$1"
    "$tool" --out "$here/$1" >"$work/port" &
    capture_pid=$!
    for _ in $(seq 50); do
        [ -s "$work/port" ] && break
        sleep 0.1
    done
    broker="127.0.0.1:$(head -n1 "$work/port")"
}
stop_capture() {
    kill -INT "$capture_pid"
    wait "$capture_pid"
    capture_pid=
}

librdkafka_version=$(kcat -V | sed -n 's/.*librdkafka \([0-9.]*\).*/\1/p')
start_capture "librdkafka-$librdkafka_version"
printf 'k1:golden-1\nk2:golden-2\nk3:golden-3\n' |
    timeout 30 kcat -P -b "$broker" -t golden -p 0 -K: -H h=v -X client.id=golden-kcat
# Two from the end: a ListOffsets for the end, then a Fetch from offset 1.
timeout 30 kcat -C -b "$broker" -t golden -p 0 -o -2 -e -q -X client.id=golden-kcat -f '%o %k=%s\n'
stop_capture

npm install --silent --no-audit --no-fund --prefix "$work/node" "kafkajs@$kafkajs_version" >/dev/null
start_capture "kafkajs-$kafkajs_version"
NODE_PATH="$work/node/node_modules" timeout 90 node "$here/kafkajs_session.js" "$broker"
stop_capture

echo "captured into $here"
