#!/usr/bin/python3
"""Soak benchmark: a release camstream under churn for some minutes; does anything leak?

    bench/soak.py [--binary build/release/src/camstream] [--minutes 10] [--json FILE]
                  [--relay] [--server-command PREFIX]
                  [-- more camstream flags, e.g. --source libcamera]

Starts camstream (test source, 127.0.0.1, port 0) and keeps a bounded crowd of clients
coming and going on loopback. With --relay, the camstream under test is a relay
(--source http://127.0.0.1:PORT/stream) of a second, origin camstream, and the origin is
killed (SIGKILL) and started again on the same port every --upstream-restart seconds (60).
The crowd comes in waves (--on seconds of clients, then --off seconds of none), so capture
(or the relay's upstream connection) stops and starts on demand every few seconds. Each kind
of client runs in its own loop:
  viewers         GET /stream, read 1..40 parts, leave (some close half-way through a part)
  capped viewers  GET /stream?fps=1, read 1..3 parts, leave
  stalled readers GET /stream with a 4 KiB receive buffer, never read, leave after 5..40 s
                  (past 30 s the server drops them itself)
  snapshot polls  GET /snapshot (and HEAD), one request per connection, or keep-alive
  control clients /ws: status, start, stop + start, status; stay 0..5 s, leave
  junk            connect and close, half a request head, an unknown path
  configures      /ws: a live configure every few seconds (size and rate; the quality alone
                  for a relay, which passes the upstream's JPEGs on)

It samples the server's RSS (VmRSS, /proc/PID/status), threads and open descriptors
(/proc/PID/fd; a libcamera camera's buffers are dmabuf descriptors, or camstream's own memfd
buffers where libcamera cannot allocate, counted apart as "dmabufs") at start, every minute, and at the end once every client is gone and capture is
idle again, and says whether descriptors, threads or memory were lost: at the end the
descriptors, threads and dmabufs must be those of the start or of minute 1, and RSS within
10% of minute 1's. Loopback only; the server and every
client stop by themselves (the script kills the server on exit).

--server-command puts a prefix before the binary, e.g. a chroot into the Debian root of
.ci/virtual-camera.sh (`--soak MINUTES` there runs this script on its virtual libcamera
camera). The prefix must exec the binary (chroot and env do), so that the pid sampled is
camstream's own; --binary is then the path inside the root.
"""

import argparse
import asyncio
import json
import os
import platform
import random
import re
import shlex
import signal
import socket
import subprocess
import sys
import time

import websockets

DELIMITER = b"--camstreamframe\r\n"


# A libcamera camera's buffers: dmabufs, or the memfd buffers camstream makes itself when
# libcamera cannot allocate any (the virtual camera without /dev/dma_heap or /dev/udmabuf).
CAMERA_BUFFERS = ("/dmabuf", "anon_inode:dmabuf", "/memfd:camstream-frame")


def proc_sample(pid):
    status = {}
    with open(f"/proc/{pid}/status") as f:
        for line in f:
            key, _, value = line.partition(":")
            status[key] = value.strip()
    kib = lambda key: int(status[key].split()[0])
    fds = dmabufs = 0
    for fd in os.listdir(f"/proc/{pid}/fd"):
        fds += 1
        try:
            dmabufs += os.readlink(f"/proc/{pid}/fd/{fd}").startswith(CAMERA_BUFFERS)
        except OSError:
            pass
    return {
        "rss_kib": kib("VmRSS"),
        "hwm_kib": kib("VmHWM"),
        "threads": int(status["Threads"]),
        "fds": fds,
        "dmabufs": dmabufs,
    }


class Waves:
    """Clients come for `on` seconds, then none for `off` seconds (off 0: always on)."""

    def __init__(self, on, off):
        self.on, self.off, self.start = on, off, time.monotonic()

    def left(self):
        """Seconds left in the current on phase (0 in an off phase)."""
        if self.off <= 0:
            return float("inf")
        phase = (time.monotonic() - self.start) % (self.on + self.off)
        return max(0.0, self.on - phase)

    async def wait_on(self):
        while self.left() <= 0.5:
            await asyncio.sleep(0.1)


WAVES = Waves(1, 0)


class Counters:
    def __init__(self):
        self.counts = {}

    def add(self, key, n=1):
        self.counts[key] = self.counts.get(key, 0) + n


async def open_http(port, rcvbuf=None):
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    if rcvbuf:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, rcvbuf)
    sock.setblocking(False)
    await asyncio.get_running_loop().sock_connect(sock, ("127.0.0.1", port))
    return await asyncio.open_connection(sock=sock)


def request(method, target):
    return f"{method} {target} HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n".encode()


async def close(writer):
    writer.close()
    try:
        await asyncio.wait_for(writer.wait_closed(), 2)
    except (OSError, asyncio.TimeoutError):
        pass


async def read_parts(reader, parts, timeout):
    """Reads until `parts` delimiters arrived; returns how many did."""
    seen, tail = 0, b""
    deadline = time.monotonic() + timeout
    while seen < parts:
        left = deadline - time.monotonic()
        if left <= 0:
            break
        chunk = await asyncio.wait_for(reader.read(65536), left)
        if not chunk:
            break
        window = tail + chunk
        seen += window.count(DELIMITER)
        tail = window[-(len(DELIMITER) - 1):]
    return seen


async def viewer(port, rng, counters, capped=False):
    reader, writer = await open_http(port)
    try:
        target = "/stream?fps=1" if capped else rng.choice(
            ["/stream", "/stream.mjpg", "/?action=stream", "/stream?advance_headers=1"])
        writer.write(request("GET", target))
        head = await asyncio.wait_for(reader.readuntil(b"\r\n\r\n"), 10)
        if not head.startswith(b"HTTP/1.1 200"):
            counters.add("viewer_refused")
            return
        wanted = rng.randint(1, 3) if capped else rng.randint(1, 40)
        got = await read_parts(reader, wanted + 1, 10 + wanted * (1.5 if capped else 0.5))
        counters.add("capped_parts" if capped else "viewer_parts", max(0, got - 1))
        if not capped and rng.random() < 0.3:
            await reader.read(rng.randint(1, 20000))  # leave in the middle of a part
    finally:
        await close(writer)
    counters.add("capped" if capped else "viewers")


async def stalled(port, rng, counters):
    reader, writer = await open_http(port, rcvbuf=4096)
    try:
        writer.write(request("GET", "/stream"))
        await asyncio.sleep(min(rng.uniform(5, 40), WAVES.left()))
    finally:
        writer.transport.abort()
    counters.add("stalled")


async def snapshots(port, rng, counters):
    reader, writer = await open_http(port)
    try:
        for _ in range(rng.randint(1, 5)):
            method = "HEAD" if rng.random() < 0.2 else "GET"
            writer.write(request(method, rng.choice(["/snapshot", "/snapshot.jpg"])))
            head = await asyncio.wait_for(reader.readuntil(b"\r\n\r\n"), 10)
            match = re.search(rb"\r\ncontent-length: *(\d+)", head, re.IGNORECASE)
            if method == "GET" and match:
                await asyncio.wait_for(reader.readexactly(int(match.group(1))), 10)
            counters.add("snapshots" if head.startswith(b"HTTP/1.1 200") else "snapshot_errors")
            if b"connection: close" in head.lower():
                break
            await asyncio.sleep(rng.uniform(0, 0.3))
    finally:
        await close(writer)


async def control(port, rng, counters):
    async with websockets.connect(f"ws://127.0.0.1:{port}/ws", open_timeout=10,
                                  close_timeout=2, max_queue=64) as ws:
        await asyncio.wait_for(ws.recv(), 10)  # the status on connect
        for _ in range(rng.randint(1, 4)):
            command = rng.choice(["status", "start", "stop", "status", "bogus"])
            await ws.send(json.dumps({"type": command}))
            if command == "stop":
                await asyncio.sleep(rng.uniform(0, 1))
                await ws.send('{"type":"start"}')  # the other clients still want pictures
            counters.add("control_messages")
            await asyncio.sleep(rng.uniform(0, 1))
        # Stay a while, mostly without reading; websockets' own queue absorbs the statuses.
        await asyncio.sleep(min(rng.uniform(0, 5), WAVES.left()))
    counters.add("controls")


async def junk(port, rng, counters):
    reader, writer = await open_http(port)
    try:
        kind = rng.randrange(3)
        if kind == 1:
            writer.write(b"GET /stream HTTP/1.1\r\nHost: 127.0.0.1\r\nX-Half")
            await asyncio.sleep(rng.uniform(0, 2))
        elif kind == 2:
            writer.write(request("GET", "/no/such/path"))
            await asyncio.wait_for(reader.read(4096), 10)
    finally:
        await close(writer)
    counters.add("junk")


CONFIGURES = [dict(width=640, height=480, fps=30), dict(width=320, height=240, fps=15),
              dict(width=1280, height=720, fps=10), dict(width=640, height=360, fps=25)]


async def configure(port, rng, counters, relay=False):
    async with websockets.connect(f"ws://127.0.0.1:{port}/ws", open_timeout=10,
                                  close_timeout=2, max_queue=64) as ws:
        await asyncio.wait_for(ws.recv(), 10)  # the status on connect
        for _ in range(rng.randint(1, 3)):
            fields = {"quality": rng.choice([60, 75, 85])}
            if not relay:
                fields.update(rng.choice(CONFIGURES))
            await ws.send(json.dumps({"type": "configure", **fields}))
            counters.add("configures")
            await asyncio.sleep(min(rng.uniform(1, 4), WAVES.left()))


async def churn(kind, body, port, seed, counters, until):
    rng = random.Random(seed)
    while time.monotonic() < until:
        await WAVES.wait_on()
        if time.monotonic() >= until:
            break
        try:
            await body(port, rng, counters)
        except (OSError, asyncio.TimeoutError, asyncio.IncompleteReadError,
                websockets.exceptions.WebSocketException) as error:
            counters.add(f"{kind}_errors")
            counters.add(f"{kind}_error:{type(error).__name__}")
        await asyncio.sleep(rng.uniform(0, 0.2))


async def get_json(port, path):
    reader, writer = await open_http(port)
    try:
        writer.write(f"GET {path} HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n"
                     .encode())
        data = await asyncio.wait_for(reader.read(-1), 10)
    finally:
        await close(writer)
    return json.loads(data.split(b"\r\n\r\n", 1)[1])


async def watch_capture(port, counters, until):
    """Counts the capture's starts and stops (polling /api/status twice a second)."""
    last = None
    while time.monotonic() < until:
        try:
            state = (await get_json(port, "/api/status")).get("state")
        except (OSError, asyncio.TimeoutError, ValueError, IndexError):
            counters.add("status_errors")
            state = last
        if last is not None and state != last:
            if state in ("idle", "stopped"):
                counters.add("capture_stops")
            elif last in ("idle", "stopped"):
                counters.add("capture_starts")
        last = state
        await asyncio.sleep(0.5)


async def restart_upstream(origin, counters, until, every):
    while True:
        await asyncio.sleep(max(0.0, min(every, until - time.monotonic())))
        if time.monotonic() >= until:
            return
        await asyncio.to_thread(origin.kill)
        await asyncio.sleep(random.uniform(0.5, 3))  # the relay sees it gone, then back
        await asyncio.to_thread(origin.start)
        counters.add("upstream_restarts")


async def soak(args, pid, port, origin=None):
    counters = Counters()
    samples = [dict(t=0.0, label="start", **proc_sample(pid))]
    started = time.monotonic()
    until = started + args.minutes * 60
    crowd = ([("viewer", viewer)] * args.viewers +
             [("capped", lambda p, r, c: viewer(p, r, c, capped=True))] * args.capped +
             [("stalled", stalled)] * args.stalled +
             [("snapshot", snapshots)] * args.snapshots +
             [("control", control)] * args.controls +
             [("junk", junk)] * args.junk +
             [("configure", lambda p, r, c: configure(p, r, c, relay=origin is not None))] *
             args.configures)
    tasks = [asyncio.create_task(churn(kind, body, port, args.seed * 1000 + i, counters, until))
             for i, (kind, body) in enumerate(crowd)]
    tasks.append(asyncio.create_task(watch_capture(port, counters, until)))
    if origin is not None:
        tasks.append(asyncio.create_task(
            restart_upstream(origin, counters, until, args.upstream_restart)))
    minute = 1
    while minute <= args.minutes:
        await asyncio.sleep(min(1.0, max(0.0, until - time.monotonic())))
        if time.monotonic() >= min(until, started + minute * 60):
            sample = dict(t=round(time.monotonic() - started, 1), label=f"minute {minute}",
                          **proc_sample(pid))
            samples.append(sample)
            print(f"soak: {sample['label']}: RSS {sample['rss_kib']} KiB, "
                  f"{sample['fds']} fds ({sample['dmabufs']} dmabufs), "
                  f"{sample['threads']} threads; {dict(sorted(counters.counts.items()))}",
                  flush=True)
            minute += 1
    await asyncio.gather(*tasks)  # each finishes its current client (stalled: <= 40 s)

    # Every client is gone: wait for the server to close its side and go idle.
    settle_deadline = time.monotonic() + 60
    status = {}
    while time.monotonic() < settle_deadline:
        status = await get_json(port, "/api/status")
        if status.get("state") in ("idle", "stopped") and status.get("clients") == 0 and \
                status.get("controls") == 0 and \
                proc_sample(pid)["fds"] <= max(s["fds"] for s in samples[:2]):
            break
        await asyncio.sleep(1)
    samples.append(dict(t=round(time.monotonic() - started, 1), label="end",
                        **proc_sample(pid)))
    return samples, counters.counts, status


class Origin:
    """The relay's upstream: a test-source camstream on one port, killed and started again."""

    def __init__(self, binary):
        self.binary, self.port, self.proc = binary, 0, None  # binary: a command list

    def start(self):
        command = [*self.binary, "--source", "test", "--bind", "127.0.0.1", "--port",
                   str(self.port), "--width", "640", "--height", "480", "--interval", "33",
                   "--idle-timeout", "1", "--log-level", "warn"]
        deadline = time.monotonic() + 20
        while True:  # the port may stay taken a moment after a kill
            self.proc = subprocess.Popen(command, stdout=subprocess.PIPE,
                                         stderr=subprocess.DEVNULL, text=True)
            line = self.proc.stdout.readline()
            match = re.search(r"listening on http://[^ ]*:(\d+)/", line)
            if match:
                self.port = int(match.group(1))
                return
            self.proc.wait(5)
            if time.monotonic() > deadline:
                sys.exit(f"soak: the origin did not start: {line!r}")
            time.sleep(0.5)

    def kill(self):
        self.proc.kill()
        self.proc.wait(10)

    def stop(self):
        if self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(10)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait(10)


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--binary", default="build/release/src/camstream")
    parser.add_argument("--minutes", type=float, default=10)
    parser.add_argument("--viewers", type=int, default=6)
    parser.add_argument("--capped", type=int, default=3)
    parser.add_argument("--stalled", type=int, default=2)
    parser.add_argument("--snapshots", type=int, default=2)
    parser.add_argument("--controls", type=int, default=2)
    parser.add_argument("--junk", type=int, default=1)
    parser.add_argument("--configures", type=int, default=1)
    parser.add_argument("--on", type=float, default=8, help="seconds of clients in a wave")
    parser.add_argument("--off", type=float, default=3,
                        help="seconds without clients between waves (0: no waves)")
    parser.add_argument("--relay", action="store_true",
                        help="soak a relay of an origin camstream that is killed and restarted")
    parser.add_argument("--upstream-restart", type=float, default=60,
                        help="seconds between the origin's restarts (--relay)")
    parser.add_argument("--server-command", default="",
                        help="prefix before the binary (split like a shell), e.g. "
                             "'chroot ROOT /usr/bin/env -i PATH=/usr/bin:/bin'; must exec it")
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--json", help="write the samples and counts here")
    parser.add_argument("server_args", nargs="*",
                        help="more camstream flags (after --), e.g. -- --interval 33")
    args = parser.parse_args()
    global WAVES
    WAVES = Waves(args.on, args.off)

    binary = [*shlex.split(args.server_command), args.binary]
    origin = None
    source = ["--source", "test"]
    if args.relay:
        origin = Origin(binary)
        origin.start()
        source = ["--source", f"http://127.0.0.1:{origin.port}/stream"]
    elif any(a == "--source" or a.startswith("--source=") for a in args.server_args):
        source = []  # -- --source libcamera: one --source only
    command = [*binary, *source, "--bind", "127.0.0.1", "--port", "0",
               "--idle-timeout", "1", "--log-level", "warn", *args.server_args]
    server = subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL,
                              text=True)
    try:
        line = server.stdout.readline()
        match = re.search(r"listening on http://[^ ]*:(\d+)/", line)
        if not match:
            sys.exit(f"soak: camstream did not start: {line!r}")
        port = int(match.group(1))
        samples, counts, status = asyncio.run(soak(args, server.pid, port, origin))
        alive = server.poll() is None
    finally:
        if origin is not None:
            origin.stop()
        server.send_signal(signal.SIGTERM)
        try:
            exit_code = server.wait(10)
        except subprocess.TimeoutExpired:
            server.kill()
            exit_code = "killed after SIGTERM timed out"

    start, end = samples[0], samples[-1]
    warm = samples[1] if len(samples) > 2 else start
    minutes = [s for s in samples if s["label"].startswith("minute")]
    rss_growth = end["rss_kib"] - warm["rss_kib"]
    # Against the start or minute 1, whichever is higher: a relay's TLS context or a
    # camera's buffers may be made on first use and kept.
    fd_lost = end["fds"] - max(start["fds"], warm["fds"])
    threads_lost = end["threads"] - max(start["threads"], warm["threads"])
    dmabufs_lost = end["dmabufs"] - max(start["dmabufs"], warm["dmabufs"])
    # Flat: no descriptor, thread or buffer lost, and RSS after the first minute moved by
    # less than 10%.
    flat = alive and fd_lost <= 0 and threads_lost <= 0 and dmabufs_lost <= 0 and \
        abs(rss_growth) < 0.10 * warm["rss_kib"]
    report = {
        "machine": f"{platform.node()} {platform.machine()} {os.cpu_count()} cpus, "
                   f"{platform.release()}",
        "command": " ".join(command), "minutes": args.minutes, "samples": samples,
        "counts": dict(sorted(counts.items())), "final_status": status,
        "server_alive_at_end": alive, "exit_code_after_sigterm": exit_code,
        "fds_lost": fd_lost, "threads_lost": threads_lost, "dmabufs_lost": dmabufs_lost,
        "rss_growth_after_minute_1_kib": rss_growth, "flat": flat,
    }
    if args.json:
        with open(args.json, "w") as f:
            json.dump(report, f, indent=1)
    print("| when | RSS KiB | peak RSS KiB | fds | dmabufs | threads |")
    print("|---|---|---|---|---|---|")
    for s in [start] + minutes + [end]:
        print(f"| {s['label']} ({s['t']} s) | {s['rss_kib']} | {s['hwm_kib']} | {s['fds']} | "
              f"{s['dmabufs']} | {s['threads']} |")
    print("clients served:", ", ".join(f"{k} {v}" for k, v in sorted(counts.items())))
    print(f"end state: {status.get('state')}, clients {status.get('clients')}, "
          f"controls {status.get('controls')}; exit code after SIGTERM: {exit_code}")
    print(f"descriptors lost: {fd_lost}; threads lost: {threads_lost}; dmabufs lost: "
          f"{dmabufs_lost}; RSS change after minute 1: {rss_growth} KiB; "
          f"{'FLAT: nothing leaked' if flat else 'NOT FLAT: something leaked or died'}")
    sys.exit(0 if flat and exit_code == 0 else 1)


if __name__ == "__main__":
    main()
