"""The matrix scenarios with kafka-python (Debian python3-kafka), a pure Python client with its own
protocol code. Every client object is built with its defaults plus the bootstrap address and the
settings a scenario is about."""
import os
import sys
import time

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..", "pylib"))

from kafka import KafkaAdminClient, KafkaConsumer, KafkaProducer, TopicPartition  # noqa: E402
from kafka.admin import ConfigResource, ConfigResourceType, NewTopic  # noqa: E402
from kafka.consumer.subscription_state import ConsumerRebalanceListener  # noqa: E402
from kafka.structs import OffsetAndMetadata  # noqa: E402

import matrix_scenarios as ms  # noqa: E402
from matrix_scenarios import NotExpressible, Record  # noqa: E402


def to_record(m):
    return Record(m.value, m.key, list(m.headers or []), m.timestamp, m.offset, m.partition,
                  {0: "create", 1: "append"}.get(m.timestamp_type))


class PartitionReader(ms.Reader):
    def __init__(self, bootstrap, topic, partition, start, settings):
        conf = {"bootstrap_servers": bootstrap, "enable_auto_commit": False}
        if "isolation" in settings:
            conf["isolation_level"] = settings["isolation"]
        self.consumer = KafkaConsumer(**conf)
        self.tp = TopicPartition(topic, partition)
        self.consumer.assign([self.tp])
        if start == "earliest":
            self.consumer.seek_to_beginning(self.tp)
        elif start == "latest":
            self.consumer.seek_to_end(self.tp)
        elif isinstance(start, tuple):
            found = self.consumer.offsets_for_times({self.tp: start[1]})[self.tp]
            ms.expect(found is not None, f"no offset for timestamp {start[1]}")
            self.consumer.seek(self.tp, found.offset)
        else:
            self.consumer.seek(self.tp, start)
        self.pending = []

    def _poll(self):
        for records in self.consumer.poll(timeout_ms=200).values():
            self.pending.extend(to_record(m) for m in records)

    def position_known(self, timeout):
        # position() sends the ListOffsets request that resolves "latest" and waits for it.
        self.consumer.position(self.tp)

    def take(self, count, timeout):
        deadline = time.monotonic() + timeout
        while len(self.pending) < count and time.monotonic() < deadline:
            self._poll()
        got, self.pending = self.pending[:count], self.pending[count:]
        ms.expect(len(got) == count, f"read {len(got)} records within {timeout}s, expected {count}")
        return got

    def to_end(self, timeout):
        end = self.consumer.end_offsets([self.tp])[self.tp]
        deadline = time.monotonic() + timeout
        while self.consumer.position(self.tp) < end:
            ms.expect(time.monotonic() < deadline, f"position {self.consumer.position(self.tp)} did not reach the end "
                                                   f"offset {end} within {timeout}s")
            self._poll()
        got, self.pending = self.pending, []
        return got

    def close(self):
        self.consumer.close()


class KafkaPythonClient:
    name = "kafka-python"
    codecs = ("none", "gzip", "snappy", "lz4", "zstd")
    can_create_topics = True
    can_query_committed = True
    per_record_timestamps = True
    per_record_headers = True

    def __init__(self, bootstrap):
        self.bootstrap = bootstrap
        self.admin = KafkaAdminClient(bootstrap_servers=bootstrap)

    def brokers(self):
        return sorted((b["node_id"], b["host"], b["port"]) for b in self.admin.describe_cluster()["brokers"])

    def partitions(self, topic):
        # Only names listed by a metadata request for all topics: asking for one topic by name
        # would create it.
        if topic not in self.admin.list_topics():
            return 0
        (described,) = self.admin.describe_topics([topic])
        return len(described["partitions"]) if described["error_code"] == 0 else 0

    def create_topic(self, topic, partitions, configs):
        response = self.admin.create_topics([NewTopic(topic, partitions, 1, topic_configs=configs)])
        for name, code, *_ in response.topic_errors:
            ms.expect(code == 0, f"CreateTopics {name}: error {code}")

    def delete_topic(self, topic):
        response = self.admin.delete_topics([topic])
        for name, code in response.topic_error_codes:
            ms.expect(code == 0, f"DeleteTopics {name}: error {code}")

    def describe_config(self, topic):
        (response,) = self.admin.describe_configs([ConfigResource(ConfigResourceType.TOPIC, topic)])
        (resource,) = response.resources
        code, message, _type, _name, entries = resource
        ms.expect(code == 0, f"DescribeConfigs {topic}: error {code} {message}")
        return {e[0]: e[1] for e in entries}

    def alter_config(self, topic, configs):
        response = self.admin.alter_configs([ConfigResource(ConfigResourceType.TOPIC, topic, configs=configs)])
        for code, message, *_ in response.resources:
            ms.expect(code == 0, f"AlterConfigs {topic}: error {code} {message}")

    def produce(self, topic, records, settings):
        if settings.get("idempotence"):
            raise NotExpressible("kafka-python 2.0.2 has no idempotent producer")
        conf = {"bootstrap_servers": self.bootstrap}
        if settings.get("compression", "none") != "none":
            conf["compression_type"] = settings["compression"]
        if "acks" in settings:
            conf["acks"] = settings["acks"] if settings["acks"] == "all" else int(settings["acks"])
        producer = KafkaProducer(**conf)
        try:
            futures = [producer.send(topic, value=r.value, key=r.key, headers=r.headers or None,
                                     partition=r.partition, timestamp_ms=r.timestamp) for r in records]
            producer.flush(20)
            offsets = [f.get(timeout=20).offset for f in futures]
        finally:
            producer.close(10)
        return [o if o >= 0 else None for o in offsets]

    def transaction(self, topic, records, transactional_id, commit):
        raise NotExpressible("kafka-python 2.0.2 has no transactional producer")

    def reader(self, topic, partition, start, settings):
        return PartitionReader(self.bootstrap, topic, partition, start, settings)

    def offset_for_time(self, topic, partition, ms_):
        consumer = KafkaConsumer(bootstrap_servers=self.bootstrap)
        try:
            tp = TopicPartition(topic, partition)
            found = consumer.offsets_for_times({tp: ms_})[tp]
            return found.offset if found is not None else None
        finally:
            consumer.close()

    def group_read(self, group, topic, count):
        consumer = KafkaConsumer(topic, bootstrap_servers=self.bootstrap, group_id=group,
                                 auto_offset_reset="earliest", enable_auto_commit=False)
        got = []
        deadline = time.monotonic() + 30
        try:
            while len(got) < count and time.monotonic() < deadline:
                for records in consumer.poll(timeout_ms=200).values():
                    got.extend(to_record(m) for m in records)
            ms.expect(len(got) >= count, f"the group member read {len(got)} records within 30s, expected {count}")
            # A poll returns whole fetches; the scenario consumes only the first count records.
            got = got[:count]
            consumer.commit({TopicPartition(topic, 0): OffsetAndMetadata(got[-1].offset + 1, None)})
        finally:
            consumer.close()
        return got

    def committed(self, group, topic, partition):
        consumer = KafkaConsumer(bootstrap_servers=self.bootstrap, group_id=group, enable_auto_commit=False)
        try:
            return consumer.committed(TopicPartition(topic, partition))
        finally:
            consumer.close()

    def group_member_argv(self, topic, group):
        return ["/usr/bin/python3", os.path.abspath(__file__), "group-member", topic, group]


def member_loop(bootstrap, topic, group, on_assign, on_record, stopping):
    consumer = KafkaConsumer(bootstrap_servers=bootstrap, group_id=group, auto_offset_reset="earliest",
                             session_timeout_ms=6000)

    class Listener(ConsumerRebalanceListener):
        def on_partitions_revoked(self, revoked):
            on_assign([])

        def on_partitions_assigned(self, assigned):
            on_assign(tp.partition for tp in assigned)

    consumer.subscribe([topic], listener=Listener())
    while not stopping():
        for records in consumer.poll(timeout_ms=100).values():
            for m in records:
                on_record(m.partition, m.offset)
    consumer.close()


if __name__ == "__main__":
    sys.exit(ms.main(KafkaPythonClient, member_loop))
