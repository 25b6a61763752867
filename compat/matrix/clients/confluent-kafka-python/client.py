"""The matrix scenarios with confluent-kafka-python (Debian python3-confluent-kafka, over the
system librdkafka). Every client object is built with its defaults plus the bootstrap address and
the settings a scenario is about."""
import os
import sys
import time

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..", "pylib"))

from confluent_kafka import (Consumer, KafkaError, KafkaException, Producer, TopicPartition,  # noqa: E402
                             TIMESTAMP_CREATE_TIME, TIMESTAMP_LOG_APPEND_TIME, OFFSET_BEGINNING, OFFSET_END)
from confluent_kafka.admin import AdminClient, ConfigResource, NewTopic  # noqa: E402

import matrix_scenarios as ms  # noqa: E402
from matrix_scenarios import Failure, Record  # noqa: E402

TIMESTAMP_TYPES = {TIMESTAMP_CREATE_TIME: "create", TIMESTAMP_LOG_APPEND_TIME: "append"}


def to_record(m):
    kind, ts = m.timestamp()
    return Record(m.value(), m.key(), [(k, v) for k, v in (m.headers() or [])], ts, m.offset(), m.partition(),
                  TIMESTAMP_TYPES.get(kind))


class PartitionReader(ms.Reader):
    def __init__(self, bootstrap, topic, partition, start, settings):
        conf = {"bootstrap.servers": bootstrap, "group.id": topic + "-reader", "enable.partition.eof": True,
                "enable.auto.commit": False}
        if "isolation" in settings:
            conf["isolation.level"] = settings["isolation"]
        self.consumer = Consumer(conf)
        self.topic, self.partition = topic, partition
        if start == "earliest":
            offset = OFFSET_BEGINNING
        elif start == "latest":
            offset = OFFSET_END
        elif isinstance(start, tuple):
            offset = self.consumer.offsets_for_times([TopicPartition(topic, partition, start[1])], 10)[0].offset
        else:
            offset = start
        self.consumer.assign([TopicPartition(topic, partition, offset)])
        self.pending = []
        self.at_end = False

    def _poll(self, timeout):
        m = self.consumer.poll(timeout)
        if m is None:
            return
        if m.error():
            if m.error().code() == KafkaError._PARTITION_EOF:
                self.at_end = True
                return
            raise Failure(f"consume error: {m.error()}")
        self.at_end = False
        self.pending.append(to_record(m))

    def position_known(self, timeout):
        # librdkafka reports no position before a record is consumed, but the partition-EOF event
        # at the resolved "latest" offset tells that the start was resolved and fetched from.
        deadline = time.monotonic() + timeout
        while not self.at_end:
            ms.expect(time.monotonic() < deadline, "the consumer never reached the end of the partition")
            self._poll(0.1)

    def take(self, count, timeout):
        deadline = time.monotonic() + timeout
        while len(self.pending) < count and time.monotonic() < deadline:
            self._poll(0.2)
        got, self.pending = self.pending[:count], self.pending[count:]
        ms.expect(len(got) == count, f"read {len(got)} records within {timeout}s, expected {count}")
        return got

    def to_end(self, timeout):
        deadline = time.monotonic() + timeout
        self.at_end = False
        while not self.at_end:
            ms.expect(time.monotonic() < deadline, f"the end of the partition was not reached within {timeout}s "
                                                   f"({len(self.pending)} records read)")
            self._poll(0.2)
        got, self.pending = self.pending, []
        return got

    def close(self):
        self.consumer.close()


class ConfluentClient:
    name = "confluent-kafka-python"
    codecs = ("none", "gzip", "snappy", "lz4", "zstd")
    can_create_topics = True
    can_query_committed = True
    per_record_timestamps = True
    per_record_headers = True

    def __init__(self, bootstrap):
        self.bootstrap = bootstrap
        self.admin = AdminClient({"bootstrap.servers": bootstrap})

    def brokers(self):
        md = self.admin.list_topics(timeout=10)
        return sorted((b.id, b.host, b.port) for b in md.brokers.values())

    def partitions(self, topic):
        md = self.admin.list_topics(timeout=10)
        t = md.topics.get(topic)
        return len(t.partitions) if t is not None and t.error is None else 0

    def create_topic(self, topic, partitions, configs):
        futures = self.admin.create_topics([NewTopic(topic, partitions, 1, config=configs)], request_timeout=15)
        futures[topic].result(15)

    def delete_topic(self, topic):
        self.admin.delete_topics([topic], request_timeout=15)[topic].result(15)

    def describe_config(self, topic):
        resource = ConfigResource("topic", topic)
        entries = self.admin.describe_configs([resource], request_timeout=15)[resource].result(15)
        return {name: e.value for name, e in entries.items()}

    def alter_config(self, topic, configs):
        resource = ConfigResource("topic", topic, set_config=configs)
        self.admin.alter_configs([resource], request_timeout=15)[resource].result(15)

    def _produce(self, producer, topic, records):
        offsets = [None] * len(records)
        errors = []

        def delivered(index):
            def report(err, m):
                if err is not None:
                    errors.append(err)
                else:
                    # acks=0: the producer never learns the offset.
                    offset = m.offset()
                    offsets[index] = offset if offset is not None and offset >= 0 else None
            return report

        for i, r in enumerate(records):
            kwargs = {"value": r.value, "key": r.key, "partition": r.partition, "on_delivery": delivered(i)}
            if r.headers:
                kwargs["headers"] = r.headers
            if r.timestamp is not None:
                kwargs["timestamp"] = r.timestamp
            producer.produce(topic, **kwargs)
            producer.poll(0)
        return offsets, errors

    def produce(self, topic, records, settings):
        conf = {"bootstrap.servers": self.bootstrap}
        if "compression" in settings:
            conf["compression.type"] = settings["compression"]
        if "acks" in settings:
            conf["acks"] = settings["acks"]
        if settings.get("idempotence"):
            conf["enable.idempotence"] = True
        producer = Producer(conf)
        offsets, errors = self._produce(producer, topic, records)
        remaining = producer.flush(20)
        ms.expect(remaining == 0, f"{remaining} records were not delivered within 20s")
        ms.expect(not errors, f"delivery failed: {errors[0] if errors else ''}")
        return offsets

    def transaction(self, topic, records, transactional_id, commit):
        producer = Producer({"bootstrap.servers": self.bootstrap, "transactional.id": transactional_id})
        producer.init_transactions(15)
        producer.begin_transaction()
        _, errors = self._produce(producer, topic, records)
        producer.flush(15)
        ms.expect(not errors, f"delivery failed: {errors[0] if errors else ''}")
        if commit:
            producer.commit_transaction(15)
        else:
            producer.abort_transaction(15)

    def reader(self, topic, partition, start, settings):
        return PartitionReader(self.bootstrap, topic, partition, start, settings)

    def offset_for_time(self, topic, partition, ms_):
        consumer = Consumer({"bootstrap.servers": self.bootstrap, "group.id": topic + "-times"})
        try:
            return consumer.offsets_for_times([TopicPartition(topic, partition, ms_)], 10)[0].offset
        finally:
            consumer.close()

    def group_read(self, group, topic, count):
        consumer = Consumer({"bootstrap.servers": self.bootstrap, "group.id": group, "auto.offset.reset": "earliest",
                             "enable.auto.commit": False})
        consumer.subscribe([topic])
        got = []
        deadline = time.monotonic() + 30
        try:
            while len(got) < count and time.monotonic() < deadline:
                m = consumer.poll(0.2)
                if m is None:
                    continue
                if m.error():
                    raise Failure(f"consume error: {m.error()}")
                got.append(to_record(m))
            ms.expect(len(got) == count, f"the group member read {len(got)} records within 30s, expected {count}")
            consumer.commit(offsets=[TopicPartition(topic, 0, got[-1].offset + 1)], asynchronous=False)
        finally:
            consumer.close()
        return got

    def committed(self, group, topic, partition):
        consumer = Consumer({"bootstrap.servers": self.bootstrap, "group.id": group})
        try:
            return consumer.committed([TopicPartition(topic, partition)], 10)[0].offset
        finally:
            consumer.close()

    def group_member_argv(self, topic, group):
        return ["/usr/bin/python3", os.path.abspath(__file__), "group-member", topic, group]


def member_loop(bootstrap, topic, group, on_assign, on_record, stopping):
    consumer = Consumer({"bootstrap.servers": bootstrap, "group.id": group, "auto.offset.reset": "earliest",
                         "session.timeout.ms": 6000})
    current = set()

    def assigned(_c, partitions):
        current.clear()
        current.update(p.partition for p in partitions)
        on_assign(current)

    def revoked(_c, partitions):
        current.difference_update(p.partition for p in partitions)
        on_assign(current)

    consumer.subscribe([topic], on_assign=assigned, on_revoke=revoked)
    while not stopping():
        m = consumer.poll(0.1)
        if m is not None and not m.error():
            on_record(m.partition(), m.offset())
    consumer.close()


if __name__ == "__main__":
    try:
        sys.exit(ms.main(ConfluentClient, member_loop))
    except KafkaException as e:
        print(f"FAIL: {e}", file=sys.stderr)
        sys.exit(1)
