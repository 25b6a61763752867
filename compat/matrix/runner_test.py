#!/usr/bin/python3
"""Tests the matrix runner itself with a scripted client whose every scenario ends a known way:
a pass, a failure with a reason, "cannot express", a hang past the time limit, an odd exit
status, a codec scenario that claims success with nothing stored, a member process left behind,
a not-yet-supported feature failing and one passing. The runner must report each one as the
contract says, count them, write the table, exit non-zero and leave no process behind.
Usage: runner_test.py RUNNER SAMSA
"""
import json
import os
import subprocess
import sys
import tempfile
import time

FAKE_CLIENT = r'''
import os, socket, subprocess, sys, time
scenario, phase = sys.argv[1], (sys.argv[2] if len(sys.argv) > 2 else "")
state = os.environ["FAKE_STATE"]
host, port = os.environ["SAMSA_BOOTSTRAP"].rsplit(":", 1)
socket.create_connection((host, int(port)), 2).close()  # a broker listens there
if scenario == "metadata":
    ok = os.environ["SAMSA_TOPIC"] == "m-fake-metadata" and os.environ["SAMSA_TIMEOUT_S"] == "3"
    sys.exit(0 if ok else 1)
if scenario == "produce-consume-none":
    print("some client noise", file=sys.stderr)
    print("FAIL: offset 3 holds the wrong value", file=sys.stderr)
    sys.exit(1)
if scenario == "produce-consume-gzip":
    print("fake has no gzip")
    sys.exit(3)
if scenario == "produce-consume-snappy":
    time.sleep(60)
if scenario == "produce-consume-lz4":
    sys.exit(7)
if scenario == "produce-consume-zstd":
    sys.exit(0)  # claims success without having produced anything
if scenario == "group":
    member = subprocess.Popen(["sleep", "300"])
    open(os.path.join(state, "member.pid"), "w").write(str(member.pid))
    print("FAIL: a member did not leave", file=sys.stderr)
    sys.exit(1)
if scenario == "offsets-restart":
    path = os.path.join(state, "port")
    if phase == "commit":
        open(path, "w").write(port)
        sys.exit(0)
    sys.exit(0 if phase == "verify" and open(path).read() == port else 1)
if scenario == "idempotent":
    print("FAIL: no producer id", file=sys.stderr)
    sys.exit(1)
if scenario == "transactions":
    sys.exit(0)
sys.exit(1)
'''

EXPECTED = [
    ("metadata", "pass", ""),
    ("produce-consume-none", "FAIL", "FAIL: offset 3 holds the wrong value"),
    ("produce-consume-gzip", "n/a", "fake has no gzip"),
    ("produce-consume-snappy", "FAIL", "killed after the 3s time limit"),
    ("produce-consume-lz4", "FAIL", "exit status 7"),
    ("produce-consume-zstd", "FAIL", "no zstd data batch stored"),
    ("group", "FAIL", "FAIL: a member did not leave"),
    ("offsets-restart", "pass", ""),
    ("idempotent", "not-yet", "not yet supported (#7): FAIL: no producer id"),
    ("transactions", "pass", ""),
]


def gone(pid):
    """True once pid has exited (a zombie waiting for its reaper counts as exited)."""
    deadline = time.monotonic() + 5
    while time.monotonic() < deadline:
        try:
            with open(f"/proc/{pid}/stat") as f:
                if f.read().rsplit(")", 1)[1].split()[0] == "Z":
                    return True
        except FileNotFoundError:
            return True
        time.sleep(0.1)
    return False


def main():
    runner, samsa = sys.argv[1], sys.argv[2]
    failures = []
    with tempfile.TemporaryDirectory() as work:
        clients = os.path.join(work, "clients", "fake")
        os.makedirs(clients)
        with open(os.path.join(clients, "client.py"), "w") as f:
            f.write(FAKE_CLIENT)
        with open(os.path.join(clients, "client.json"), "w") as f:
            json.dump({"name": "fake", "version": "0", "command": [sys.executable, os.path.join(clients, "client.py")]}, f)
        table = os.path.join(work, "table.md")
        with open(table, "w") as f:
            f.write("before\n<!-- matrix results begin -->\nold\n<!-- matrix results end -->\nafter\n")
        argv = [runner, "--samsa", samsa, "--clients-dir", os.path.join(work, "clients"), "--timeout", "3",
                "--markdown", table, "--not-yet", "idempotent=#7", "--not-yet", "transactions=#7"]
        for scenario, _, _ in EXPECTED:
            argv += ["--scenario", scenario]
        started = time.monotonic()
        done = subprocess.run(argv, capture_output=True, text=True, env=dict(os.environ, FAKE_STATE=work), timeout=120)
        print(done.stdout)
        lines = done.stdout.splitlines()

        for scenario, outcome, reason in EXPECTED:
            line = next((l for l in lines if l.startswith(f"fake {scenario} ")), None)
            if line is None:
                failures.append(f"no line for {scenario}")
                continue
            words = line.split(" ", 4)
            if words[2] != outcome or not words[3].endswith("s") or reason not in (words[4] if len(words) > 4 else ""):
                failures.append(f"{scenario}: got {line!r}, expected {outcome} with {reason!r}")
        if lines[-1:] != ["3 passed, 5 failed, 1 n/a, 1 not yet supported"]:
            failures.append(f"closing line {lines[-1:]}")
        if not any("NOT_YET table is stale" in l and "transactions" in l for l in lines):
            failures.append("no note that the NOT_YET table is stale for transactions")
        if done.returncode == 0:
            failures.append("the runner exited 0 although scenarios failed")
        if "samsa log (tail)" not in done.stderr or "listening on" not in done.stderr:
            failures.append("no broker log tail for the failed scenarios")
        if time.monotonic() - started > 60:
            failures.append("the hanging scenario was not cut at its time limit")

        text = open(table).read()
        if not text.startswith("before\n<!-- matrix results begin -->\n| client | version | scenario | result | reason |"):
            failures.append("the table did not replace the text between the markers")
        if "| fake | 0 | produce-consume-gzip | n/a | fake has no gzip |" not in text or "\nold\n" in text or "after" not in text:
            failures.append("the table rows are wrong:\n" + text)

        member = int(open(os.path.join(work, "member.pid")).read())
        if not gone(member):
            failures.append(f"the group member (pid {member}) outlived its scenario")

    for f in failures:
        print(f"FAIL: {f}")
    print("PASS" if not failures else "FAILED")
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
