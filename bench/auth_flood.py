#!/usr/bin/env python3
"""auth-flood: what a password flood from one address does to a login from another, and how
long a wrong password takes for a known and an unknown user.

Starts camstream with a users file of bcrypt hashes (htpasswd -B), sends N guesses at once
from 127.30.0.1 (one connection each), times a good login from 127.30.0.2 sent meanwhile,
and counts how many guesses were checked (401) and refused (429/503). Then times wrong
passwords for `zed` (cost --slow-cost) and for a user not in the file, with `aaa` (cost 4)
first in the file. Loopback only.

    bench/auth_flood.py build/release/src/camstream [--guesses 70] [--cost 10] [--reps 3]
"""

import argparse
import base64
import os
import re
import socket
import statistics
import subprocess
import sys
import tempfile
import time


def basic(user, password):
    return "Basic " + base64.b64encode(f"{user}:{password}".encode()).decode()


def connect_from(port, source):
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.settimeout(60)
    sock.bind((source, 0))
    sock.connect(("127.0.0.1", port))
    return sock


def send(sock, port, authorization):
    sock.sendall((f"GET /api/status HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\nConnection: close\r\n"
                  f"Authorization: {authorization}\r\n\r\n").encode())


def status(sock):
    data = b""
    while b"\r\n" not in data:
        chunk = sock.recv(4096)
        if not chunk:
            break
        data += chunk
    return int(data.split()[1]) if data else 0


def start(binary, users):
    server = subprocess.Popen([binary, "--source", "test", "--bind", "127.0.0.1", "--port", "0",
                               "--users", users], stdout=subprocess.PIPE,
                              stderr=subprocess.DEVNULL, text=True)
    for line in server.stdout:
        match = re.search(r"listening on https?://[^:]+:(\d+)/", line)
        if match:
            return server, int(match.group(1))
    raise SystemExit("camstream did not start")


def hashed(user, password, cost):
    return subprocess.run(["htpasswd", "-nbB", "-C", str(cost), user, password], check=True,
                          capture_output=True, text=True).stdout.strip()


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("binary")
    parser.add_argument("--guesses", type=int, default=70)
    parser.add_argument("--cost", type=int, default=10)
    parser.add_argument("--slow-cost", type=int, default=11)
    parser.add_argument("--reps", type=int, default=3)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as workdir:
        users = os.path.join(workdir, "users")
        with open(users, "w") as users_file:
            users_file.write(hashed("admin", "admin-pw", args.cost) + "\n" +
                             hashed("viewer", "viewer-pw", args.cost) + "\n")
        for rep in range(args.reps):
            server, port = start(args.binary, users)
            try:
                sockets = [connect_from(port, "127.30.0.1") for _ in range(args.guesses)]
                for i, sock in enumerate(sockets):
                    send(sock, port, basic("admin", f"guess{i}"))
                time.sleep(0.05)
                started = time.monotonic()
                with connect_from(port, "127.30.0.2") as legit:
                    send(legit, port, basic("viewer", "viewer-pw"))
                    legit_status = status(legit)
                legit_ms = (time.monotonic() - started) * 1000
                statuses = [status(sock) for sock in sockets]
                for sock in sockets:
                    sock.close()
                print(f"rep {rep + 1}: login from another address {legit_ms:.0f} ms "
                      f"({legit_status}); of {args.guesses} guesses at once {statuses.count(401)} "
                      f"checked, {statuses.count(429)} got 429, {statuses.count(503)} got 503")
            finally:
                server.terminate()
                server.wait(10)

        with open(users, "w") as users_file:
            users_file.write(hashed("aaa", "aaa-pw", 4) + "\n" +
                             hashed("zed", "zed-pw", args.slow_cost) + "\n")
        server, port = start(args.binary, users)
        try:
            times = {"zed": [], "nobody": []}
            for i in range(args.reps * 2):
                for user in times:
                    with connect_from(port, f"127.31.{len(user)}.{i + 1}") as sock:
                        started = time.monotonic()
                        send(sock, port, basic(user, "wrong"))
                        status(sock)
                        times[user].append((time.monotonic() - started) * 1000)
            print(f"wrong password, median of {args.reps * 2}: zed (cost {args.slow_cost}) "
                  f"{statistics.median(times['zed']):.1f} ms, unknown user "
                  f"{statistics.median(times['nobody']):.1f} ms")
        finally:
            server.terminate()
            server.wait(10)


if __name__ == "__main__":
    sys.exit(main())
