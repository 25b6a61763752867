#!/usr/bin/env python3
"""Measures how fast `samsa` accepts connections after launch with an empty data directory, and
its resident memory once idle. Usage: compat/bench/startup.py PATH/TO/samsa [RUNS]"""
import os
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import time


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def rss_kib(pid):
    with open(f"/proc/{pid}/status") as f:
        for line in f:
            if line.startswith("VmRSS:"):
                return int(line.split()[1])
    return 0


def one_run(binary):
    with tempfile.TemporaryDirectory(prefix="samsa-startup-") as data:
        port = free_port()
        start = time.perf_counter()
        proc = subprocess.Popen([binary, "--override", f"listeners=PLAINTEXT://127.0.0.1:{port}",
                                 "--override", f"log.dir={data}/data"],
                                stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        try:
            while True:
                try:
                    with socket.create_connection(("127.0.0.1", port), timeout=0.05):
                        break
                except OSError:
                    if proc.poll() is not None:
                        raise SystemExit("samsa exited during start-up")
                    if time.perf_counter() - start > 10:
                        raise SystemExit("samsa did not accept connections within 10 s")
                    time.sleep(0.0002)
            accept_ms = (time.perf_counter() - start) * 1000
            time.sleep(1.0)
            rss = rss_kib(proc.pid)
        finally:
            proc.send_signal(signal.SIGTERM)
            proc.wait(timeout=30)
        return accept_ms, rss


def main():
    if len(sys.argv) < 2:
        raise SystemExit(__doc__)
    runs = int(sys.argv[2]) if len(sys.argv) > 2 else 10
    results = [one_run(sys.argv[1]) for _ in range(runs)]
    accept = [r[0] for r in results]
    rss = [r[1] for r in results]
    print(f"runs: {runs}")
    print(f"accepts connections after launch: median {statistics.median(accept):.1f} ms, max {max(accept):.1f} ms")
    print(f"idle RSS after 1 s: median {statistics.median(rss) / 1024:.1f} MiB, max {max(rss) / 1024:.1f} MiB")
    ok = max(accept) <= 50 and max(rss) < 30 * 1024
    print("targets (<= 50 ms, < 30 MiB):", "met" if ok else "MISSED")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
