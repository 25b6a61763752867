#!/usr/bin/env bash
# Compatibility smoke test with the real binary: starts samsa on a free loopback port with a
# temporary data directory, reads metadata with kcat, creates and deletes topics with
# librdkafka's admin API (admin_smoke), auto-creates a topic through kcat, stops the broker
# with SIGTERM, checks the clean shutdown, restarts it and checks that the topics persisted.
# Usage: smoke_test.sh SAMSA ADMIN_SMOKE KCAT
set -euo pipefail

samsa=$1
admin_smoke=$2
kcat=$3

work=$(mktemp -d)
pid=""
cleanup() {
    if [[ -n "$pid" ]] && kill -0 "$pid" 2>/dev/null; then kill -KILL "$pid" 2>/dev/null || true; fi
    rm -rf "$work"
}
trap cleanup EXIT

fail() {
    echo "smoke_test: FAIL: $*" >&2
    echo "--- broker log ---" >&2
    cat "$work/broker.log" >&2 || true
    exit 1
}

start_broker() {
    : > "$work/broker.log"
    "$samsa" --override listeners=PLAINTEXT://127.0.0.1:0 --override "log.dir=$work/data" \
        --override num.partitions=1 2> "$work/broker.log" &
    pid=$!
    port=""
    for _ in $(seq 1 100); do
        port=$(sed -n 's/.*advertised as 127\.0\.0\.1:\([0-9]*\).*/\1/p' "$work/broker.log" | head -n 1)
        [[ -n "$port" ]] && break
        kill -0 "$pid" 2>/dev/null || fail "samsa exited during start-up"
        sleep 0.05
    done
    [[ -n "$port" ]] || fail "samsa did not report a listening port"
    echo "samsa (pid $pid) listening on 127.0.0.1:$port"
}

stop_broker() {
    kill -TERM "$pid"
    local status=0
    wait "$pid" || status=$?
    pid=""
    [[ $status -eq 0 ]] || fail "samsa exited with status $status after SIGTERM"
    grep -q "storage flushed and closed" "$work/broker.log" || fail "no clean storage shutdown in the log"
    [[ -e "$work/data/.kafka_cleanshutdown" ]] || fail "no clean-shutdown marker after SIGTERM"
}

start_broker

# Metadata with kcat: one broker (this node, also the controller).
"$kcat" -b "127.0.0.1:$port" -L -J -m 10 > "$work/metadata.json" || fail "kcat -L failed"
grep -q '"controllerid":1' "$work/metadata.json" || fail "kcat: controller id is not 1: $(cat "$work/metadata.json")"
grep -q "\"brokers\":\[{\"id\":1,\"name\":\"127.0.0.1:$port\"}\]" "$work/metadata.json" ||
    fail "kcat: unexpected broker list: $(cat "$work/metadata.json")"
echo "ok: kcat -L sees broker 1 at 127.0.0.1:$port"

# Topic administration with librdkafka.
"$admin_smoke" "127.0.0.1:$port" || fail "admin_smoke failed"

# Auto-creation through a metadata request for an unknown topic.
"$kcat" -b "127.0.0.1:$port" -L -t compat-auto -m 10 > "$work/auto.txt" || fail "kcat -L -t failed"
grep -q 'topic "compat-auto" with 1 partitions' "$work/auto.txt" || fail "compat-auto was not auto-created: $(cat "$work/auto.txt")"
echo "ok: kcat -L -t auto-creates a topic"

stop_broker
echo "ok: SIGTERM stops samsa cleanly"

# The topics survive a restart, with the same cluster id.
cluster_id=$(sed -n 's/.*"cluster_id": "\([^"]*\)".*/\1/p' "$work/data/samsa-metadata.json")
[[ -n "$cluster_id" ]] || fail "no cluster id in the metadata file"
start_broker
"$kcat" -b "127.0.0.1:$port" -L -m 10 > "$work/after.txt" || fail "kcat -L after the restart failed"
for topic in compat-auto compat-b; do
    grep -q "topic \"$topic\"" "$work/after.txt" || fail "$topic is missing after the restart: $(cat "$work/after.txt")"
done
grep -q 'topic "compat-a"' "$work/after.txt" && fail "the deleted topic compat-a came back after the restart"
[[ "$(sed -n 's/.*"cluster_id": "\([^"]*\)".*/\1/p' "$work/data/samsa-metadata.json")" == "$cluster_id" ]] ||
    fail "the cluster id changed across a restart"
echo "ok: topics and cluster id persist across a restart"
stop_broker

echo "smoke_test: all checks passed"
