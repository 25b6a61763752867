"""One Python consumer group member for compat/group_clients_test.sh.

Joins GROUP on TOPIC with the "roundrobin" protocol, reads until the wall-clock time SNAPSHOT
(ms since the epoch), writes its assignment and what it read to OUT as JSON, keeps polling and
leaves the group at LEAVE (ms), so that every member's snapshot is taken while all of them are
still in the group. CLIENT is "confluent" (python3-confluent-kafka, over librdkafka) or
"kafka-python" (python3-kafka, a pure Python client).
Usage: python3 group_member.py CLIENT BOOTSTRAP GROUP TOPIC OUT SNAPSHOT LEAVE
"""
import json
import sys
import time


def write(out, client, assigned, values):
    with open(out, "w") as f:
        json.dump({"client": client, "assigned": assigned, "values": values}, f)


def confluent(bootstrap, group, topic, out, snapshot, leave):
    from confluent_kafka import Consumer

    state = {"assigned": []}

    def on_assign(_consumer, partitions):
        state["assigned"] = sorted(p.partition for p in partitions)

    c = Consumer({"bootstrap.servers": bootstrap, "group.id": group, "auto.offset.reset": "earliest",
                  "partition.assignment.strategy": "roundrobin", "session.timeout.ms": 10000,
                  "heartbeat.interval.ms": 1000})
    c.subscribe([topic], on_assign=on_assign)
    values = []
    written = False
    while time.time() * 1000 < leave:
        if not written and time.time() * 1000 >= snapshot:
            write(out, "confluent", state["assigned"], values)
            written = True
        m = c.poll(0.2)
        if m is None:
            continue
        if m.error():
            print(f"confluent: {m.error()}", file=sys.stderr)
            continue
        values.append(m.value().decode())
    c.close()


def kafka_python(bootstrap, group, topic, out, snapshot, leave):
    from kafka import KafkaConsumer
    from kafka.coordinator.assignors.roundrobin import RoundRobinPartitionAssignor

    c = KafkaConsumer(topic, bootstrap_servers=bootstrap, group_id=group, auto_offset_reset="earliest",
                      partition_assignment_strategy=[RoundRobinPartitionAssignor], session_timeout_ms=10000,
                      heartbeat_interval_ms=1000, api_version_auto_timeout_ms=10000)
    values = []
    written = False
    while time.time() * 1000 < leave:
        if not written and time.time() * 1000 >= snapshot:
            write(out, "kafka-python", sorted(tp.partition for tp in c.assignment()), values)
            written = True
        for records in c.poll(timeout_ms=200).values():
            values.extend(r.value.decode() for r in records)
    c.close()


def main():
    client, bootstrap, group, topic, out, snapshot, leave = sys.argv[1:8]
    run = confluent if client == "confluent" else kafka_python
    run(bootstrap, group, topic, out, float(snapshot), float(leave))


if __name__ == "__main__":
    main()
