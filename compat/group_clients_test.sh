#!/usr/bin/env bash
# Consumer groups with the Node and Python clients: kafkajs 2.2.4, confluent-kafka-python
# (librdkafka) and kafka-python join one classic group on a six-partition topic, each with its
# own implementation of the "roundrobin" protocol. Each must end up with partitions of its own
# (no overlap, no gap across the three), and together they must read every message.
# Usage: group_clients_test.sh SAMSA_BINARY KCAT
# Exits 77 (meson: skipped) when a client is not installed, naming it.
set -euo pipefail

samsa=$1
kcat=$2
here=$(cd "$(dirname "$0")" && pwd)
python=/usr/bin/python3

if [ ! -d "$here/node/node_modules/kafkajs" ]; then
  echo "SKIP: kafkajs is not installed (npm ci --prefix compat/node)"; exit 77
fi
for module in confluent_kafka kafka; do
  if ! "$python" -c "import $module" 2>/dev/null; then
    echo "SKIP: the Python module $module is not installed (python3-confluent-kafka, python3-kafka)"; exit 77
  fi
done

work=$(mktemp -d)
broker_pid=""
cleanup() {
  if [ -n "$broker_pid" ]; then kill "$broker_pid" 2>/dev/null || true; wait "$broker_pid" 2>/dev/null || true; fi
  [ -n "${KEEP:-}" ] && echo "kept $work" || rm -rf "$work"
}
trap cleanup EXIT

# The log exists before the broker starts: the background shell may not have opened it yet when
# the loop below first reads it.
: >"$work/broker.log"
"$samsa" --override listeners=PLAINTEXT://127.0.0.1:0 --override "log.dir=$work/data" \
  --override num.partitions=6 --override group.initial.rebalance.delay.ms=3000 >"$work/broker.log" 2>&1 &
broker_pid=$!
port=""
for _ in $(seq 1 100); do
  port=$(sed -n 's/.*listening on PLAINTEXT:\/\/127.0.0.1:\([0-9]*\).*/\1/p' "$work/broker.log" | head -1)
  [ -n "$port" ] && break
  sleep 0.1
done
[ -n "$port" ] || { echo "FAIL: the broker did not start"; cat "$work/broker.log"; exit 1; }
bootstrap=127.0.0.1:$port

total=300
seq 1 $total | sed 's/^/m-/' | "$kcat" -b "$bootstrap" -P -t mixed -X linger.ms=5
# Every member snapshots its assignment at the same moment, while all three are still in, and
# leaves a few seconds later.
now_ms=$(date +%s%3N)
snapshot=$((now_ms + 25000))
leave=$((now_ms + 30000))
node "$here/node/group_member.js" "$bootstrap" mixed-group mixed "$work/kafkajs.json" $snapshot $leave &
p1=$!
"$python" "$here/python/group_member.py" confluent "$bootstrap" mixed-group mixed "$work/confluent.json" $snapshot $leave &
p2=$!
"$python" "$here/python/group_member.py" kafka-python "$bootstrap" mixed-group mixed "$work/kafka-python.json" $snapshot $leave &
p3=$!
status=0
wait $p1 || status=1
wait $p2 || status=1
wait $p3 || status=1
[ $status -eq 0 ] || { echo "FAIL: a client failed"; tail -20 "$work/broker.log"; exit 1; }

"$python" - "$work" "$total" <<'PY'
import json, sys
work, total = sys.argv[1], int(sys.argv[2])
results = [json.load(open(f"{work}/{c}.json")) for c in ("kafkajs", "confluent", "kafka-python")]
ok = True
partitions = []
for r in results:
    print(f"{r['client']}: partitions {r['assigned']}, {len(r['values'])} messages")
    if not r["assigned"]:
        print(f"FAIL: {r['client']} ended without partitions"); ok = False
    partitions += r["assigned"]
if sorted(partitions) != list(range(6)):
    print(f"FAIL: the final assignments overlap or leave gaps: {sorted(partitions)}"); ok = False
seen = set(v for r in results for v in r["values"])
missing = {f"m-{i}" for i in range(1, total + 1)} - seen
if missing:
    print(f"FAIL: {len(missing)} messages were read by nobody"); ok = False
print("PASS" if ok else "FAILED")
sys.exit(0 if ok else 1)
PY
