"""The matrix scenarios with the kcat command-line tool (Debian kcat, over librdkafka), driven as
a user would drive it: records go in on stdin, come out as kcat's JSON lines, and librdkafka
settings are passed with -X only when a scenario is about them.

kcat has no admin API (topics are created by asking for their metadata, with the broker's
default of one partition), no per-record headers or timestamps on the command line, no way to
read committed offsets, and reports no offsets for what it produced."""
import json
import os
import re
import shutil
import subprocess
import sys
import threading
import time

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..", "pylib"))

import matrix_scenarios as ms  # noqa: E402
from matrix_scenarios import Failure, NotExpressible, Record  # noqa: E402

KCAT = shutil.which("kcat") or shutil.which("kafkacat") or "kcat"
KEY_DELIMITER, RECORD_DELIMITER = b"\x1f", b"\x1e"
END_OF_PARTITION = re.compile(r"Reached end of topic .* \[(\d+)\] at offset (\d+)")


def settings_args(settings):
    args = []
    if settings.get("compression", "none") != "none":
        args += ["-X", f"compression.codec={settings['compression']}"]
    if "acks" in settings:
        args += ["-X", f"acks={settings['acks']}"]
    if settings.get("idempotence"):
        args += ["-X", "enable.idempotence=true"]
    if "isolation" in settings:
        args += ["-X", f"isolation.level={settings['isolation']}"]
    return args


def from_json(line):
    m = json.loads(line)
    h = m.get("headers") or []
    headers = [(h[i], h[i + 1].encode()) for i in range(0, len(h), 2)]
    key = m["key"].encode() if m.get("key") is not None else None
    value = m["payload"].encode() if m.get("payload") is not None else None
    return Record(value, key, headers, m.get("ts"), m["offset"], m["partition"], m.get("tstype"))


class KcatReader(ms.Reader):
    """A `kcat -C` process; its JSON lines are records, its end-of-partition notices positions."""

    def __init__(self, bootstrap, topic, partition, start, settings):
        if start == "earliest":
            offset = "beginning"
        elif start == "latest":
            offset = "end"
        elif isinstance(start, tuple):
            offset = f"s@{start[1]}"
        else:
            offset = str(start)
        argv = [KCAT, "-b", bootstrap, "-C", "-t", topic, "-p", str(partition), "-o", offset, "-J", "-u"]
        self.proc = subprocess.Popen(argv + settings_args(settings), stdout=subprocess.PIPE, stderr=subprocess.PIPE)
        self.lock = threading.Condition()
        self.pending, self.end_offset, self.next_offset, self.errors = [], None, None, []
        threading.Thread(target=self._records, daemon=True).start()
        threading.Thread(target=self._notices, daemon=True).start()

    def _records(self):
        for line in self.proc.stdout:
            r = from_json(line)
            with self.lock:
                self.pending.append(r)
                self.next_offset = r.offset + 1
                self.lock.notify_all()

    def _notices(self):
        for line in self.proc.stderr:
            text = line.decode(errors="replace").strip()
            m = END_OF_PARTITION.search(text)
            with self.lock:
                if m:
                    self.end_offset = int(m.group(2))
                elif "ERROR" in text:
                    self.errors.append(text)
                self.lock.notify_all()

    def _wait(self, predicate, timeout, what):
        deadline = time.monotonic() + timeout
        with self.lock:
            while not predicate():
                if self.errors:
                    raise Failure(f"kcat: {self.errors[-1]}")
                left = deadline - time.monotonic()
                if left <= 0 or self.proc.poll() is not None:
                    raise Failure(f"{what} (kcat {'exited' if self.proc.poll() is not None else 'timed out'}, "
                                  f"{len(self.pending)} records read)")
                self.lock.wait(min(left, 0.2))

    def position_known(self, timeout):
        self._wait(lambda: self.end_offset is not None, timeout, "kcat never reached the end of the partition")

    def take(self, count, timeout):
        self._wait(lambda: len(self.pending) >= count, timeout, f"kcat did not deliver {count} records")
        with self.lock:
            got, self.pending = self.pending[:count], self.pending[count:]
        return got

    def to_end(self, timeout):
        # The end is reached when kcat reports end-of-partition at the offset after the last record
        # it printed (at any offset when it printed none).
        self._wait(lambda: self.end_offset is not None and
                   (self.next_offset is None or self.end_offset >= self.next_offset),
                   timeout, "kcat did not reach the end of the partition")
        with self.lock:
            got, self.pending = self.pending, []
        return got

    def close(self):
        if self.proc.poll() is None:
            self.proc.terminate()
        self.proc.wait(10)


class KcatClient:
    name = "kcat"
    codecs = ("none", "gzip", "snappy", "lz4", "zstd")
    can_create_topics = False
    can_query_committed = False
    per_record_timestamps = False
    per_record_headers = False

    def __init__(self, bootstrap):
        self.bootstrap = bootstrap

    def _run(self, args, stdin=b"", timeout=30):
        done = subprocess.run([KCAT, "-b", self.bootstrap] + args, input=stdin, capture_output=True, timeout=timeout)
        errors = [l for l in done.stderr.decode(errors="replace").splitlines() if "ERROR" in l]
        if done.returncode != 0 or errors:
            raise Failure(f"kcat {' '.join(args[:2])} exited with {done.returncode}: "
                          f"{(errors or done.stderr.decode(errors='replace').splitlines() or [''])[-1]}")
        return done.stdout

    def _metadata(self, args=()):
        return json.loads(self._run(["-L", "-J"] + list(args)))

    def brokers(self):
        out = []
        for b in self._metadata()["brokers"]:
            host, port = b["name"].rsplit(":", 1)
            out.append((b["id"], host, int(port)))
        return sorted(out)

    def partitions(self, topic):
        for t in self._metadata()["topics"]:
            if t["topic"] == topic and not t.get("error"):
                return len(t["partitions"])
        return 0

    def create_topic(self, topic, partitions, configs):
        if partitions != 1 or configs:
            raise NotExpressible("kcat has no admin API (it can only auto-create single-partition topics)")
        self._metadata(["-t", topic])

    def delete_topic(self, topic):
        raise NotExpressible("kcat has no admin API")

    def describe_config(self, topic):
        raise NotExpressible("kcat has no admin API")

    def alter_config(self, topic, configs):
        raise NotExpressible("kcat has no admin API")

    def _produce_args(self, topic, records):
        partitions = {r.partition for r in records}
        headers = {tuple(r.headers) for r in records}
        if len(partitions) > 1 or len(headers) > 1:
            raise Failure("kcat produces one partition and one set of headers per run")
        args = ["-P", "-t", topic, "-p", str(partitions.pop()), "-K", r"\x1f", "-D", r"\x1e"]
        for name, value in headers.pop():
            args += ["-H", f"{name}={value.decode()}"]
        data = b"".join((r.key + KEY_DELIMITER if r.key is not None else b"") + r.value + RECORD_DELIMITER
                        for r in records)
        return args, data

    def produce(self, topic, records, settings):
        args, data = self._produce_args(topic, records)
        self._run(args + settings_args(settings), data)
        return None  # kcat prints no delivery offsets

    def transaction(self, topic, records, transactional_id, commit):
        args, data = self._produce_args(topic, records)
        args += ["-X", f"transactional.id={transactional_id}"]
        if commit:
            # kcat commits its one transaction when its input ends.
            self._run(args, data)
            return
        # kcat aborts its transaction only when interrupted, and it reads piped input in blocks,
        # producing a block's records only after its next read returns (strace shows a second
        # read(0) pending with the whole first block unsent). So it cannot be made to abort a
        # transaction whose records are known to be in the log.
        raise NotExpressible("kcat aborts only on interrupt and sends piped records only after its next read, "
                             "so it cannot abort a transaction whose records are written")

    def reader(self, topic, partition, start, settings):
        return KcatReader(self.bootstrap, topic, partition, start, settings)

    def offset_for_time(self, topic, partition, ms_):
        out = self._run(["-Q", "-t", f"{topic}:{partition}:{ms_}"]).decode()
        m = re.search(r"\[(\d+)\] offset (-?\d+)", out)
        if not m:
            raise Failure(f"kcat -Q printed {out!r}")
        return int(m.group(2))

    def group_read(self, group, topic, count):
        # Offsets are stored as records are printed and committed when kcat closes the consumer.
        out = self._run(["-G", group, "-c", str(count), "-J", "-X", "auto.offset.reset=earliest", topic], timeout=40)
        return [from_json(line) for line in out.splitlines() if line.strip()]

    def committed(self, group, topic, partition):
        raise NotExpressible("kcat cannot read committed offsets")

    def group_member_argv(self, topic, group):
        raise NotExpressible("kcat has no admin API")


if __name__ == "__main__":
    sys.exit(ms.main(KcatClient))
