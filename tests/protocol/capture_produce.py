#!/usr/bin/env python3
"""Captures the record bytes a real client produces, for tests/protocol/librdkafka_captures.h.

Runs a minimal fake broker on a loopback port that answers ApiVersions, Metadata and Produce
just well enough for kcat (librdkafka) to send one Produce request, then prints the `records`
field of that request as a C++ array. The advertised Produce versions choose the format
librdkafka writes: up to v1 gives magic 0 message sets, v2 magic 1, v3 v2 record batches,
v7 also allows zstd. Produce versions above 8 (flexible encoding) are not understood here.

    capture_produce.py NAME MAX_PRODUCE_VERSION -- kcat arguments (without -b)

Example:
    printf 'k1:v1\\n' | tests/protocol/capture_produce.py gzip_v2 3 -- -P -t t -p 0 -K: -z gzip

Not part of the test run: the captured bytes are checked in, so the tests need no client.
"""
import socket
import struct
import subprocess
import sys
import threading


def read_exact(sock, n):
    buf = b""
    while len(buf) < n:
        chunk = sock.recv(n - len(buf))
        if not chunk:
            raise EOFError
        buf += chunk
    return buf


class Reader:
    def __init__(self, data):
        self.data, self.pos = data, 0

    def take(self, n):
        v = self.data[self.pos:self.pos + n]
        self.pos += n
        return v

    def i8(self):
        return struct.unpack(">b", self.take(1))[0]

    def i16(self):
        return struct.unpack(">h", self.take(2))[0]

    def i32(self):
        return struct.unpack(">i", self.take(4))[0]

    def uvarint(self):
        shift, v = 0, 0
        while True:
            b = self.take(1)[0]
            v |= (b & 0x7F) << shift
            if not b & 0x80:
                return v
            shift += 7

    def string(self):
        n = self.i16()
        return None if n < 0 else self.take(n).decode()

    def bytes32(self):
        n = self.i32()
        return None if n < 0 else self.take(n)


def s16(text):
    raw = text.encode()
    return struct.pack(">h", len(raw)) + raw


def uvarint(v):
    out = b""
    while v >= 0x80:
        out += bytes([(v & 0x7F) | 0x80])
        v >>= 7
    return out + bytes([v])


def api_versions(version, max_produce):
    # librdkafka decides what it may send from the versions of several APIs (magic 2 needs
    # Produce v3 and Fetch v4, magic 1 Produce v2 and Fetch v2, zstd Produce v7 and Fetch v10,
    # lz4 FindCoordinator), so those are advertised although only Produce is ever called.
    max_fetch = {0: 0, 1: 1, 2: 2}.get(max_produce, 10 if max_produce >= 7 else 4)
    apis = [(0, 0, max_produce), (1, 0, max_fetch), (3, 0, 1), (10, 0, 0), (18, 0, 3)]
    if version >= 3:
        body = struct.pack(">h", 0) + uvarint(len(apis) + 1)
        for key, lo, hi in apis:
            body += struct.pack(">hhh", key, lo, hi) + b"\x00"
        return body + struct.pack(">i", 0) + b"\x00"
    body = struct.pack(">hi", 0, len(apis))
    for key, lo, hi in apis:
        body += struct.pack(">hhh", key, lo, hi)
    return body + (struct.pack(">i", 0) if version >= 1 else b"")


def metadata(version, r, port):
    n = r.i32()
    topics = [r.string() for _ in range(max(n, 0))] or ["capture"]
    body = struct.pack(">i", 1) + struct.pack(">i", 0) + s16("127.0.0.1") + struct.pack(">i", port)
    if version >= 1:
        body += struct.pack(">h", -1) + struct.pack(">i", 0)  # rack null, controller 0
    body += struct.pack(">i", len(topics))
    for t in topics:
        body += struct.pack(">h", 0) + s16(t)
        if version >= 1:
            body += b"\x00"
        body += struct.pack(">i", 1) + struct.pack(">hii", 0, 0, 0) + struct.pack(">ii", 1, 0) + struct.pack(">ii", 1, 0)
    return body


def produce(version, r, captured):
    if version >= 3:
        r.string()  # transactional id
    r.i16()
    r.i32()
    body = b""
    topics = r.i32()
    body += struct.pack(">i", topics)
    for _ in range(topics):
        name = r.string()
        parts = r.i32()
        body += s16(name) + struct.pack(">i", parts)
        for _ in range(parts):
            index = r.i32()
            captured.append(r.bytes32())
            body += struct.pack(">ihq", index, 0, 0)
            if version >= 2:
                body += struct.pack(">q", -1)  # log append time
            if version >= 5:
                body += struct.pack(">q", 0)  # log start offset
    if version >= 1:
        body += struct.pack(">i", 0)
    return body


def serve(listener, max_produce, captured, port):
    while True:
        try:
            conn, _ = listener.accept()
        except OSError:
            return
        threading.Thread(target=connection, args=(conn, max_produce, captured, port), daemon=True).start()


def connection(conn, max_produce, captured, port):
    try:
        while True:
            size = struct.unpack(">i", read_exact(conn, 4))[0]
            r = Reader(read_exact(conn, size))
            key, version, correlation = r.i16(), r.i16(), r.i32()
            r.string()  # client id
            if key == 18 and version >= 3:
                for _ in range(r.uvarint()):  # header tagged fields
                    r.uvarint()
                    r.take(r.uvarint())
            if key == 18:
                body = api_versions(version, max_produce)
            elif key == 3:
                body = metadata(version, r, port)
            elif key == 0:
                body = produce(version, r, captured)
            else:
                return
            frame = struct.pack(">i", correlation) + body
            conn.sendall(struct.pack(">i", len(frame)) + frame)
    except EOFError:
        pass
    finally:
        conn.close()


def main():
    name, max_produce = sys.argv[1], int(sys.argv[2])
    kcat_args = sys.argv[sys.argv.index("--") + 1:]
    listener = socket.socket()
    listener.bind(("127.0.0.1", 0))
    listener.listen()
    port = listener.getsockname()[1]
    captured = []
    threading.Thread(target=serve, args=(listener, max_produce, captured, port), daemon=True).start()
    subprocess.run(["kcat", "-b", f"127.0.0.1:{port}"] + kcat_args, stdin=sys.stdin, check=True, timeout=30)
    listener.close()
    if not captured:
        sys.exit("no Produce request seen")
    data = captured[0]
    print(f"inline constexpr uint8_t {name}[] = {{  // {len(data)} bytes")
    for i in range(0, len(data), 16):
        print("    " + ", ".join(f"0x{b:02x}" for b in data[i:i + 16]) + ",")
    print("};")


if __name__ == "__main__":
    main()
