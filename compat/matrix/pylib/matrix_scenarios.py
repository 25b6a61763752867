"""The matrix scenarios for the clients driven from Python (confluent-kafka-python, kafka-python,
kcat), written once against a small adapter each client implements.

A scenario checks content: every value, key, header, timestamp and offset it produced comes back
exactly once and in order. It raises Failure with a one-line reason when something differs, and
NotExpressible when the client has no way to do what the scenario needs. `main()` turns that into
the runner's exit statuses (0 pass, 1 fail, 3 not expressible). An adapter implements:

  brokers() -> [(node_id, host, port)]          partitions(topic) -> int (0: no such topic)
  create_topic(topic, partitions, configs)      delete_topic(topic)
  describe_config(topic) -> {name: value}       alter_config(topic, {name: value})
  produce(topic, records, settings) -> [offset or None per record], in record order
  reader(topic, partition, start, settings) -> Reader; start is "earliest", "latest", an offset or
      ("timestamp", ms)
  offset_for_time(topic, partition, ms) -> offset
  group_read(group, topic, count) -> records read by a subscribed member that commits and leaves
  committed(group, topic, partition) -> offset
  group_member_argv(topic, group) -> argv of one member process (see run_group_member)
  transaction(topic, records, transactional_id, commit)

settings holds only what a scenario is about: compression, acks, idempotence, isolation.
And it says what it can do: name, codecs, can_create_topics (an admin API), can_query_committed,
per_record_timestamps and per_record_headers (false: one set of headers for a whole produce).
"""
import os
import select
import signal
import subprocess
import sys
import time
import traceback


class Failure(Exception):
    pass


class NotExpressible(Exception):
    pass


class Record:
    def __init__(self, value, key=None, headers=(), timestamp=None, offset=None, partition=0,
                 timestamp_type=None):
        self.value, self.key, self.headers = value, key, list(headers)
        self.timestamp, self.offset, self.partition = timestamp, offset, partition
        self.timestamp_type = timestamp_type  # "create" or "append" when read

    def __repr__(self):
        return (f"Record(p{self.partition}@{self.offset} key={self.key!r} value={self.value!r} "
                f"headers={self.headers!r} ts={self.timestamp}/{self.timestamp_type})")


class Reader:
    """Reads one partition from a start position; subclasses implement _next and position_known."""

    def position_known(self, timeout):
        """Blocks until the reader has resolved its start offset (ListOffsets answered)."""
        raise NotImplementedError

    def take(self, count, timeout):
        """Exactly count records, or Failure naming how many arrived."""
        raise NotImplementedError

    def to_end(self, timeout):
        """Every record up to the partition's end as the broker reports it now."""
        raise NotImplementedError

    def close(self):
        pass


def env():
    return os.environ["SAMSA_BOOTSTRAP"], os.environ["SAMSA_TOPIC"], float(os.environ.get("SAMSA_TIMEOUT_S", "60"))


def expect(condition, reason):
    if not condition:
        raise Failure(reason)


def values(n, tag):
    # Repetitive text, so that every codec has something to compress.
    return [f"{tag}-{i:05d}-" .encode() + b"payload " * 8 for i in range(n)]


def check_sequence(got, expected, first_offset, what):
    """got must be exactly the expected values at consecutive offsets from first_offset."""
    got_values = [r.value for r in got]
    if got_values != expected:
        missing = len([v for v in expected if v not in got_values])
        extra = len([v for v in got_values if v not in expected])
        raise Failure(f"{what}: read {len(got)} records, expected {len(expected)} "
                      f"({missing} missing, {extra} unexpected; first read: {got[:1]})")
    offsets = [r.offset for r in got]
    expect(offsets == list(range(first_offset, first_offset + len(expected))),
           f"{what}: offsets {offsets[:3]}... are not consecutive from {first_offset}")


def read_all(client, topic, partition=0, start="earliest", settings=None, timeout=20):
    reader = client.reader(topic, partition, start, settings or {})
    try:
        return reader.to_end(timeout)
    finally:
        reader.close()


# Scenarios --------------------------------------------------------------------------------------

def scenario_metadata(client, bootstrap, prefix):
    host, port = bootstrap.rsplit(":", 1)
    brokers = client.brokers()
    expect([(b[1], b[2]) for b in brokers] == [(host, int(port))], f"brokers {brokers}, expected one at {bootstrap}")
    expect(brokers[0][0] == 1, f"node id {brokers[0][0]}, expected 1")
    topic = prefix + "-t"
    expect(client.partitions(topic) == 0, f"{topic} exists before it was created")
    partitions = 3 if client.can_create_topics else 1
    client.create_topic(topic, partitions, {})
    deadline = time.monotonic() + 10
    while client.partitions(topic) != partitions and time.monotonic() < deadline:
        time.sleep(0.2)
    expect(client.partitions(topic) == partitions, f"{topic} has {client.partitions(topic)} partitions, expected {partitions}")


def produce_consume(client, prefix, settings, n=300):
    topic = prefix + "-t"
    client.create_topic(topic, 1, {})
    expected = values(n, "m")
    offsets = client.produce(topic, [Record(v) for v in expected], settings)
    # With acks=0 the producer never learns offsets; some clients never report them (None).
    if offsets is not None and settings.get("acks") != "0":
        expect(offsets == list(range(n)), f"delivery reports gave offsets {offsets[:3]}...{offsets[-3:]}, expected 0..{n - 1}")
    check_sequence(read_all(client, topic), expected, 0, "consume")


def scenario_produce_consume(codec):
    def run(client, _bootstrap, prefix):
        if codec not in client.codecs:
            raise NotExpressible(f"{client.name} has no {codec} codec")
        produce_consume(client, prefix, {"compression": codec})
    return run


def scenario_acks(acks):
    def run(client, _bootstrap, prefix):
        produce_consume(client, prefix, {"acks": acks})
    return run


def scenario_headers_keys_timestamps(client, _bootstrap, prefix):
    topic = prefix + "-t"
    client.create_topic(topic, 1, {})
    base = int(time.time() * 1000) - 3_600_000  # an hour ago: not what the broker would stamp
    records = []
    for i in range(50):
        headers = [("trace", f"t-{i}".encode()), ("bin", bytes([0, 255, i])), ("trace", b"second")]
        if i % 5 == 0:
            headers = []
        key = None if i % 7 == 0 else f"key-{i}".encode()
        records.append(Record(f"v-{i}".encode(), key, headers, base + i * 10))
    if not client.per_record_timestamps:
        for r in records:
            r.timestamp = None
    if not client.per_record_headers:
        for r in records:
            r.headers = [("trace", b"same"), ("origin", b"matrix"), ("trace", b"second"), ("empty", b"")]
    before = int(time.time() * 1000)
    client.produce(topic, records, {})
    after = int(time.time() * 1000)
    got = read_all(client, topic)
    check_sequence(got, [r.value for r in records], 0, "consume")
    for sent, read in zip(records, got):
        expect(read.key == sent.key, f"offset {read.offset}: key {read.key!r}, sent {sent.key!r}")
        expect(read.headers == sent.headers, f"offset {read.offset}: headers {read.headers!r}, sent {sent.headers!r}")
        expect(read.timestamp_type == "create", f"offset {read.offset}: timestamp type {read.timestamp_type}, expected CreateTime")
        if sent.timestamp is not None:
            expect(read.timestamp == sent.timestamp, f"offset {read.offset}: timestamp {read.timestamp}, sent {sent.timestamp}")
        else:
            expect(before - 1000 <= read.timestamp <= after + 1000,
                   f"offset {read.offset}: timestamp {read.timestamp} outside the produce window {before}..{after}")


def scenario_consume_from_earliest(client, _bootstrap, prefix):
    topic = prefix + "-t"
    client.create_topic(topic, 1, {})
    expected = values(200, "e")
    client.produce(topic, [Record(v) for v in expected], {})
    check_sequence(read_all(client, topic, start="earliest"), expected, 0, "from earliest")


def scenario_consume_from_latest(client, _bootstrap, prefix):
    topic = prefix + "-t"
    client.create_topic(topic, 1, {})
    old, new = values(100, "old"), values(100, "new")
    client.produce(topic, [Record(v) for v in old], {})
    reader = client.reader(topic, 0, "latest", {})
    try:
        reader.position_known(15)
        client.produce(topic, [Record(v) for v in new], {})
        check_sequence(reader.take(len(new), 15), new, len(old), "from latest")
        check_sequence(reader.to_end(10), [], len(old) + len(new), "after the new records")
    finally:
        reader.close()


def scenario_consume_from_timestamp(client, _bootstrap, prefix):
    topic = prefix + "-t"
    client.create_topic(topic, 1, {})
    base = int(time.time() * 1000) - 3_600_000
    expected = values(200, "ts")
    if client.per_record_timestamps:
        records = [Record(v, timestamp=base + i * 1000) for i, v in enumerate(expected)]
        client.produce(topic, records, {})
        target, first = base + 120 * 1000 - 500, 120
    else:
        # Timestamps are the producer's clock: produce in two rounds a second apart and ask for
        # the first record of the second round.
        client.produce(topic, [Record(v) for v in expected[:120]], {})
        time.sleep(1.2)
        target = int(time.time() * 1000)
        client.produce(topic, [Record(v) for v in expected[120:]], {})
        first = 120
    offset = client.offset_for_time(topic, 0, target)
    expect(offset == first, f"offset for timestamp {target} is {offset}, expected {first}")
    check_sequence(read_all(client, topic, start=("timestamp", target)), expected[first:], first, "from timestamp")


def scenario_consume_from_mid_batch(client, _bootstrap, prefix):
    topic = prefix + "-t"
    client.create_topic(topic, 1, {})
    expected = values(200, "mid")
    # One produce call: the client batches the records, so offset 77 lies inside a batch and the
    # broker returns that batch from its start; the client must skip the records before 77.
    client.produce(topic, [Record(v) for v in expected], {})
    check_sequence(read_all(client, topic, start=77), expected[77:], 77, "from offset 77")


def scenario_admin(client, _bootstrap, prefix):
    if not client.can_create_topics:
        raise NotExpressible(f"{client.name} has no admin API")
    topic = prefix + "-t"
    client.create_topic(topic, 3, {"retention.ms": "3600000", "cleanup.policy": "compact"})
    expect(client.partitions(topic) == 3, f"{topic} has {client.partitions(topic)} partitions after creation, expected 3")
    configs = client.describe_config(topic)
    expect(configs.get("retention.ms") == "3600000", f"retention.ms is {configs.get('retention.ms')!r}, created with 3600000")
    expect(configs.get("cleanup.policy") == "compact", f"cleanup.policy is {configs.get('cleanup.policy')!r}, created with compact")
    client.alter_config(topic, {"retention.ms": "7200000", "cleanup.policy": "compact"})
    configs = client.describe_config(topic)
    expect(configs.get("retention.ms") == "7200000", f"retention.ms is {configs.get('retention.ms')!r} after altering it to 7200000")
    client.delete_topic(topic)
    deadline = time.monotonic() + 10
    while client.partitions(topic) != 0 and time.monotonic() < deadline:
        time.sleep(0.2)
    expect(client.partitions(topic) == 0, f"{topic} still exists after its deletion")


def scenario_idempotent(client, _bootstrap, prefix):
    topic = prefix + "-t"
    client.create_topic(topic, 1, {})
    expected = values(500, "idem")
    offsets = client.produce(topic, [Record(v) for v in expected], {"idempotence": True})
    expect(offsets is None or offsets == list(range(len(expected))),
           f"delivery reports gave offsets {(offsets or [])[:3]}..., expected 0..{len(expected) - 1}")
    check_sequence(read_all(client, topic), expected, 0, "idempotent produce")


def scenario_transactions(client, _bootstrap, prefix):
    topic = prefix + "-t"
    client.create_topic(topic, 1, {})
    committed, aborted, committed2 = values(20, "committed"), values(20, "aborted"), values(10, "later")
    tid = prefix + "-tx"
    client.transaction(topic, [Record(v) for v in committed], tid, commit=True)
    client.transaction(topic, [Record(v) for v in aborted], tid, commit=False)
    client.transaction(topic, [Record(v) for v in committed2], tid, commit=True)
    got = read_all(client, topic, settings={"isolation": "read_committed"})
    expect([r.value for r in got] == committed + committed2,
           f"read_committed read {len(got)} records, expected the {len(committed) + len(committed2)} committed ones"
           f" ({sum(r.value in aborted for r in got)} aborted ones among them)")
    # Offsets: the first transaction's records, its commit marker, the aborted records and their
    # marker come before the last transaction.
    expect([r.offset for r in got[:len(committed)]] == list(range(len(committed))), "committed records are not at offsets 0..19")
    expect(got[len(committed)].offset == 2 * len(committed) + 2,
           f"the second committed transaction starts at offset {got[len(committed)].offset}, expected 42 (after two markers)")
    everything = read_all(client, topic, settings={"isolation": "read_uncommitted"})
    expect([r.value for r in everything] == committed + aborted + committed2,
           f"read_uncommitted read {len(everything)} records, expected all {len(committed) + len(aborted) + len(committed2)}")


# The group scenario ------------------------------------------------------------------------------

GROUP_PARTITIONS = 6


class Member:
    """One member process; it prints `assigned p,p,...` on every rebalance and `read p offset`."""

    def __init__(self, argv, bootstrap, name):
        self.name = name
        self.proc = subprocess.Popen(argv, stdout=subprocess.PIPE, stderr=sys.stderr,
                                     env=dict(os.environ, SAMSA_BOOTSTRAP=bootstrap))
        self.assigned = None
        self.read = set()
        self.buffer = b""

    def pump(self):
        while True:
            ready, _, _ = select.select([self.proc.stdout], [], [], 0)
            if not ready:
                return
            chunk = os.read(self.proc.stdout.fileno(), 65536)
            if not chunk:
                return
            self.buffer += chunk
            *lines, self.buffer = self.buffer.split(b"\n")
            for line in lines:
                word, _, rest = line.decode().partition(" ")
                if word == "assigned":
                    self.assigned = sorted(int(p) for p in rest.split(",") if p)
                elif word == "read":
                    p, o = rest.split()
                    self.read.add((int(p), int(o)))


def wait_for_assignment(members, timeout, what):
    deadline = time.monotonic() + timeout
    while True:
        for m in members:
            m.pump()
        sets = [m.assigned for m in members]
        if all(s for s in sets):
            union = sorted(p for s in sets for p in s)
            if union == list(range(GROUP_PARTITIONS)):
                return
        if time.monotonic() > deadline:
            raise Failure(f"{what}: assignments {[(m.name, m.assigned) for m in members]} never covered "
                          f"partitions 0..{GROUP_PARTITIONS - 1} exactly once within {timeout}s")
        for m in members:
            if m.proc.poll() is not None:
                raise Failure(f"{what}: member {m.name} exited with status {m.proc.returncode}")
        time.sleep(0.1)


def scenario_group(client, bootstrap, prefix):
    if not client.can_create_topics:
        raise NotExpressible(f"{client.name} has no admin API to create the {GROUP_PARTITIONS}-partition topic")
    topic, group = prefix + "-t", prefix + "-g"
    client.create_topic(topic, GROUP_PARTITIONS, {})
    expected = {}
    for p in range(GROUP_PARTITIONS):
        offsets = client.produce(topic, [Record(f"p{p}-{i}".encode(), partition=p) for i in range(50)], {})
        expect(offsets == list(range(50)), f"partition {p}: delivery reports gave offsets {offsets[:3]}...")
        expected.update({(p, o): None for o in offsets})
    members = [Member(client.group_member_argv(topic, group), bootstrap, n) for n in ("a", "b", "c")]
    try:
        wait_for_assignment(members, 40, "three members")
        # A clean leave (LeaveGroup): its partitions move to the other two.
        members[0].proc.send_signal(signal.SIGTERM)
        expect(members[0].proc.wait(15) == 0, f"member a exited with status {members[0].proc.returncode} on SIGTERM")
        members[0].pump()
        wait_for_assignment(members[1:], 30, "after member a left")
        # A crash: only the session timeout (6 s) tells the coordinator.
        members[1].proc.kill()
        members[1].proc.wait()
        wait_for_assignment(members[2:], 40, "after member b was killed")
        deadline = time.monotonic() + 20
        while time.monotonic() < deadline:
            for m in members:
                m.pump()
            if all(k in set().union(*(m.read for m in members)) for k in expected):
                break
            time.sleep(0.2)
        read = set().union(*(m.read for m in members))
        missing = [k for k in expected if k not in read]
        expect(not missing, f"{len(missing)} of {len(expected)} records were read by no member, e.g. {missing[:3]}")
    finally:
        for m in members:
            if m.proc.poll() is None:
                m.proc.kill()
                m.proc.wait()


def run_group_member(consume_loop):
    """The member side: consume_loop(on_assign, on_record, stopping) runs until stopping() is true."""
    stop = {"now": False}
    signal.signal(signal.SIGTERM, lambda *_: stop.__setitem__("now", True))

    def on_assign(partitions):
        print("assigned " + ",".join(str(p) for p in sorted(partitions)), flush=True)

    def on_record(partition, offset):
        print(f"read {partition} {offset}", flush=True)

    consume_loop(on_assign, on_record, lambda: stop["now"])


# Offsets across a restart ---------------------------------------------------------------------------

def scenario_offsets_restart(client, _bootstrap, prefix, phase):
    topic, group = prefix + "-t", prefix + "-g"
    expected = values(100, "o")
    if phase == "commit":
        client.create_topic(topic, 1, {})
        client.produce(topic, [Record(v) for v in expected], {})
        got = client.group_read(group, topic, 60)
        check_sequence(got, expected[:60], 0, "before the restart")
        if client.can_query_committed:
            expect(client.committed(group, topic, 0) == 60, f"committed offset {client.committed(group, topic, 0)}, expected 60")
    elif phase == "verify":
        if client.can_query_committed:
            expect(client.committed(group, topic, 0) == 60,
                   f"committed offset after the restart is {client.committed(group, topic, 0)}, expected 60")
        got = client.group_read(group, topic, 40)
        check_sequence(got, expected[60:], 60, "after the restart")
    else:
        raise Failure(f"unknown phase {phase!r}")


SCENARIOS = {
    "metadata": scenario_metadata,
    "produce-consume-none": scenario_produce_consume("none"),
    "produce-consume-gzip": scenario_produce_consume("gzip"),
    "produce-consume-snappy": scenario_produce_consume("snappy"),
    "produce-consume-lz4": scenario_produce_consume("lz4"),
    "produce-consume-zstd": scenario_produce_consume("zstd"),
    "headers-keys-timestamps": scenario_headers_keys_timestamps,
    "acks-0": scenario_acks("0"),
    "acks-1": scenario_acks("1"),
    "acks-all": scenario_acks("all"),
    "consume-from-earliest": scenario_consume_from_earliest,
    "consume-from-latest": scenario_consume_from_latest,
    "consume-from-timestamp": scenario_consume_from_timestamp,
    "consume-from-mid-batch": scenario_consume_from_mid_batch,
    "group": scenario_group,
    "admin": scenario_admin,
    "idempotent": scenario_idempotent,
    "transactions": scenario_transactions,
}


def main(make_client, member_loop=None):
    """The entry point of a Python client program: `<program> <scenario> [<phase>]`, or
    `<program> group-member <topic> <group>` for one member of the group scenario."""
    bootstrap, prefix, _timeout = env()
    args = sys.argv[1:]
    try:
        if args[:1] == ["group-member"]:
            run_group_member(lambda *cb: member_loop(bootstrap, args[1], args[2], *cb))
            return 0
        client = make_client(bootstrap)
        if args[:1] == ["offsets-restart"]:
            scenario_offsets_restart(client, bootstrap, prefix, args[1] if len(args) > 1 else "")
        elif args and args[0] in SCENARIOS:
            SCENARIOS[args[0]](client, bootstrap, prefix)
        else:
            raise Failure(f"unknown scenario {args!r}")
    except NotExpressible as e:
        print(e, flush=True)
        return 3
    except Failure as e:
        print(f"FAIL: {e}", file=sys.stderr, flush=True)
        return 1
    except Exception as e:  # a client error is a failure with the client's own words
        traceback.print_exc()
        print(f"FAIL: {type(e).__name__}: {e}".replace("\n", " "), file=sys.stderr, flush=True)
        return 1
    return 0
