#!/usr/bin/python3
"""Tier benchmark: an origin camstream, two relay camstreams and HAProxy, all on loopback.

    bench/tier.py [--build build/release] [--viewers 600] [--steps 0,50,600] [--seconds 20]
                  [--json FILE]

The topology of docs/install.md "More viewers than one machine": the origin (test source,
640x480 at 30 frames/s), two relays (--source http://127.0.0.1:ORIGIN/stream) and Debian's
HAProxy (balance leastconn, timeout tunnel) in front of the relays. Then, in one run:

  direct     mjpeg-load, 2 viewers straight on the origin: the latency without the tier
  one hop    mjpeg-load, 2 viewers straight on a relay: the relay hop alone
  probe      during each step with viewers, 2 more viewers straight on relay 1: the relay hop
             under that step's load (the viewers through HAProxy on the same relay)
  steps      for each viewer count in --steps, mjpeg-load through HAProxy for --seconds;
             meanwhile the origin's stream clients (/api/status, every 0.5 s) and the CPU of
             the origin, the relays and HAProxy (/proc/PID/stat) are sampled
  failover   100 viewers through HAProxy, one relay killed (SIGKILL): its viewers' streams end,
             the others go on; the ended ones reconnect through HAProxy and land on the other

The pass marks: the origin holds exactly 2 stream clients at every sample of every step; every
viewer of the top step runs at >= 29 frames/s; the relay hop adds <= 5 ms p50 (one hop
minus direct) and so does HAProxy (top step minus one hop); the origin's CPU at the top
step is within 1 percentage point + 25% of its CPU at the lowest step. The relay hop is judged
at the top step: the probe's p50 minus the direct p50. HAProxy's own share (the top step's p50
minus the probe's) is reported, not judged: it is not a relay hop. Exits 1 if any fails.
mjpeg-load measures the latency from each part's X-Timestamp (set by the origin at capture,
kept by the relay) to its arrival. Every process started here is stopped on exit.
"""

import argparse
import json
import os
import platform
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import urllib.request

HAPROXY_CONFIG = """\
global
    maxconn 4000
defaults
    mode http
    option redispatch
    retries 3
    timeout connect 2s
    timeout client 30s
    timeout server 30s
    timeout tunnel 1h
frontend viewers
    bind 127.0.0.1:{port}
    default_backend relays
backend relays
    balance leastconn
    option httpchk GET /api/status
    default-server check inter 500ms fall 2 rise 1
{servers}
"""
DELIMITER = b"--camstreamframe\r\n"
TICKS = os.sysconf("SC_CLK_TCK")

processes = []


def free_port():
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def status(port, path="/api/status"):
    with urllib.request.urlopen(f"http://127.0.0.1:{port}{path}", timeout=5) as response:
        return json.loads(response.read())


def start_camstream(binary, args, log):
    out = open(log, "w")
    proc = subprocess.Popen([binary, "--bind", "127.0.0.1", "--port", "0", "--log-level",
                             "warn", "--idle-timeout", "1", *args],
                            stdout=subprocess.PIPE, stderr=out, text=True)
    processes.append(proc)
    line = proc.stdout.readline()
    if "listening on" not in line:
        sys.exit(f"tier: camstream {args} did not start: {line!r}")
    proc.port = int(line.split("listening on http://", 1)[1].split("/")[0].rsplit(":", 1)[1])
    threading.Thread(target=proc.stdout.read, daemon=True).start()
    return proc


def cpu_seconds(pid):
    with open(f"/proc/{pid}/stat") as f:
        fields = f.read().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / TICKS


def load(build, port, viewers, seconds, path="/stream"):
    args = [f"{build}/bench/mjpeg-load", "127.0.0.1", str(port), path, "--viewers", str(viewers),
            "--ramp-ms", str(min(3000, viewers * 5)), "--seconds", str(seconds), "--json"]
    done = subprocess.run(args, capture_output=True, text=True, timeout=seconds + 120)
    if done.returncode not in (0, 3) or not done.stdout.strip():  # 3: stream errors
        sys.exit(f"tier: mjpeg-load failed ({done.returncode}): {done.stderr[-2000:]}")
    return json.loads(done.stdout)


def step(build, proxy, origin, relays, viewers, seconds):
    """mjpeg-load through HAProxy; the origin's clients and every process's CPU meanwhile."""
    clients = []
    stop = threading.Event()

    def watch():
        while not stop.wait(0.5):
            clients.append(status(origin.port)["clients"])

    pids = {"origin": origin.pid, "relay1": relays[0].pid, "relay2": relays[1].pid,
            "haproxy": proxy.pid}
    watcher = threading.Thread(target=watch)
    ramp = min(3.0, viewers * 0.005) + 2  # connects, then the first frames
    runner = {}

    def run(name, port, count, duration):
        try:
            runner[name] = load(build, port, count, duration)
        except BaseException as error:  # noqa: B036 (sys.exit in the thread)
            runner[name + " error"] = error

    threads = []
    if viewers:
        threads.append(threading.Thread(target=run,
                                        args=("report", proxy.port, viewers, seconds + ramp)))
        threads[-1].start()
    time.sleep(ramp)
    if viewers:  # once the step's viewers are on: the relay hop under their load
        threads.append(threading.Thread(target=run,
                                        args=("probe", relays[0].port, 2, seconds - 1)))
        threads[-1].start()
    before = {name: cpu_seconds(pid) for name, pid in pids.items()}
    started = time.monotonic()
    watcher.start()
    time.sleep(seconds - 0.5 if viewers else seconds)
    elapsed = time.monotonic() - started
    cpu = {name: round(100 * (cpu_seconds(pid) - before[name]) / elapsed, 1)
           for name, pid in pids.items()}
    relay_clients = [status(r.port)["clients"] for r in relays]
    stop.set()
    watcher.join()
    for thread in threads:
        thread.join()
    if viewers and ("report" not in runner or "probe" not in runner):
        sys.exit(f"tier: the load at {viewers} viewers failed: {runner}")
    return {"viewers": viewers, "cpu_percent": cpu, "origin_clients": sorted(set(clients)),
            "relay_clients": relay_clients, "load": runner.get("report"),
            "probe": runner.get("probe")}


def open_viewers(port, count):
    socks = []
    for _ in range(count):
        sock = socket.create_connection(("127.0.0.1", port), timeout=10)
        sock.sendall(b"GET /stream HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n")
        socks.append(sock)
    for sock in socks:
        head = b""
        while b"\r\n\r\n" not in head:
            chunk = sock.recv(65536)
            if not chunk:
                raise EOFError("stream closed before its head")
            head += chunk
        assert head.startswith(b"HTTP/1.1 200"), head[:100]
    return socks


def read_for(socks, seconds):
    """Reads every socket for `seconds`: (parts seen, ended) per socket."""
    import selectors
    selector = selectors.DefaultSelector()
    parts, ended = [0] * len(socks), [False] * len(socks)
    for index, sock in enumerate(socks):
        sock.setblocking(False)
        selector.register(sock, selectors.EVENT_READ, index)
    end = time.monotonic() + seconds
    while (left := end - time.monotonic()) > 0:
        for key, _ in selector.select(left):
            try:
                chunk = socks[key.data].recv(1 << 20)
            except BlockingIOError:
                continue
            except ConnectionError:
                chunk = b""
            if not chunk:
                ended[key.data] = True
                selector.unregister(socks[key.data])
            else:
                parts[key.data] += chunk.count(DELIMITER)
    selector.close()
    return parts, ended


def failover(proxy, relays, count=100):
    socks = open_viewers(proxy.port, count)
    try:
        read_for(socks, 2)
        victim, other = relays
        on_victim = status(victim.port)["clients"]
        victim.kill()
        victim.wait(10)
        parts, ended = read_for(socks, 3)
        gone = [s for s, e in zip(socks, ended) if e]
        kept_ok = all(p > 0 for p, e in zip(parts, ended) if not e)
        for sock in gone:
            socks.remove(sock)
            sock.close()
        started = time.monotonic()
        again = open_viewers(proxy.port, len(gone))
        reconnect_s = time.monotonic() - started
        socks += again
        parts, ended = read_for(again, 3)
        return {"viewers": count, "on_killed_relay": on_victim, "streams_ended": len(gone),
                "others_kept_streaming": kept_ok, "reconnected": len(again),
                "reconnect_seconds": round(reconnect_s, 2),
                "reconnected_fps_min": min(parts) / 3 if parts else 0,
                "reconnected_ended": sum(ended),
                "other_relay_clients": status(other.port)["clients"]}
    finally:
        for sock in socks:
            sock.close()


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--build", default="build/release")
    parser.add_argument("--steps", default="0,50,600", help="viewer counts, the last is the top")
    parser.add_argument("--seconds", type=float, default=20)
    parser.add_argument("--json", help="write the whole report here")
    args = parser.parse_args()
    binary = f"{args.build}/src/camstream"
    haproxy = shutil.which("haproxy") or "/usr/sbin/haproxy"
    for tool in (binary, f"{args.build}/bench/mjpeg-load", haproxy):
        if not os.access(tool, os.X_OK):
            sys.exit(f"tier: no {tool} (build camstream and mjpeg-load; apt-get install haproxy)")
    steps = [int(n) for n in args.steps.split(",")]
    workdir = tempfile.mkdtemp(prefix="camstream-tier-")
    try:
        origin = start_camstream(binary, ["--source", "test", "--width", "640", "--height",
                                          "480", "--interval", "33"], f"{workdir}/origin.log")
        source = f"http://127.0.0.1:{origin.port}/stream"
        # Always on: the origin holds the two relays' streams even with no viewer (the lowest
        # step); 1000 viewers each (the default --max-clients is 256).
        relays = [start_camstream(binary, ["--source", source, "--always-on",
                                           "--max-clients", "1000"], f"{workdir}/relay{i}.log")
                  for i in (1, 2)]
        port = free_port()
        servers = "\n".join(f"    server relay{i} 127.0.0.1:{r.port}" for i, r in
                            enumerate(relays, 1))
        with open(f"{workdir}/haproxy.cfg", "w") as f:
            f.write(HAPROXY_CONFIG.format(port=port, servers=servers))
        proxy = subprocess.Popen([haproxy, "-db", "-f", f"{workdir}/haproxy.cfg"],
                                 stdout=open(f"{workdir}/haproxy.log", "w"),
                                 stderr=subprocess.STDOUT)
        processes.append(proxy)
        proxy.port = port
        for attempt in range(100):
            try:
                status(port)
                break
            except OSError:
                if proxy.poll() is not None or attempt == 99:
                    raise RuntimeError("HAProxy does not answer")
                time.sleep(0.1)
        load_before = os.getloadavg()
        direct = load(args.build, origin.port, 2, 10)
        time.sleep(1.5)  # the direct viewers leave
        one_hop = load(args.build, relays[0].port, 2, 10)
        time.sleep(1.5)
        results = [step(args.build, proxy, origin, relays, n, args.seconds) for n in steps]
        for r in results:
            print(f"tier: step {r['viewers']}: {r['cpu_percent']}, origin clients "
                  f"{r['origin_clients']}, relays {r['relay_clients']}", flush=True)
        over = failover(proxy, relays)
        load_after = os.getloadavg()
    except BaseException:
        for proc in processes:
            print(f"tier: {proc.args[0]} {'running' if proc.poll() is None else proc.returncode}",
                  file=sys.stderr)
        for log in sorted(os.listdir(workdir)):
            with open(f"{workdir}/{log}") as f:
                print(f"--- {log}\n{f.read()[-2000:]}", file=sys.stderr)
        raise
    finally:
        for proc in reversed(processes):
            if proc.poll() is None:
                proc.send_signal(signal.SIGTERM)
        for proc in processes:
            try:
                proc.wait(10)
            except subprocess.TimeoutExpired:
                proc.kill()
        shutil.rmtree(workdir, ignore_errors=True)

    p50 = lambda report: report["normal"]["latency_ms"]["p50"]
    top = results[-1]
    top_load = top["load"]["normal"]
    lowest = results[0]
    origin_clients_ok = all(r["origin_clients"] == [2] for r in results)
    fps_min = top_load["fps"]["min"]
    relay_hop = p50(one_hop) - p50(direct)
    relay_hop_loaded = p50(top["probe"]) - p50(direct)
    proxy_hop = top_load["latency_ms"]["p50"] - p50(top["probe"])
    origin_cpu = [r["cpu_percent"]["origin"] for r in results]
    cpu_flat = origin_cpu[-1] <= origin_cpu[0] * 1.25 + 1.0
    failover_ok = (over["streams_ended"] == over["on_killed_relay"] and
                   over["others_kept_streaming"] and over["reconnected_ended"] == 0 and
                   over["other_relay_clients"] == over["viewers"])
    marks = {
        "origin holds exactly 2 stream clients": origin_clients_ok,
        f"every viewer >= 29 fps at {top['viewers']} viewers (min {fps_min:.1f})": fps_min >= 29,
        f"relay hop <= 5 ms p50, alone (+{relay_hop:.1f} ms)": relay_hop <= 5,
        f"relay hop <= 5 ms p50 at {top['viewers']} viewers (+{relay_hop_loaded:.1f} ms)":
            relay_hop_loaded <= 5,
        f"origin CPU flat ({origin_cpu[0]}% -> {origin_cpu[-1]}%)": cpu_flat,
        "failover: the killed relay's viewers end, reconnect to the other": failover_ok,
        "no stream error at the top step": top["load"]["error_count"] == 0,
    }
    report = {"machine": f"{platform.node()} {os.cpu_count()} cpus {platform.release()}",
              "load_average_before": load_before, "load_average_after": load_after,
              "direct": direct, "one_hop": one_hop, "steps": results, "failover": over,
              "marks": marks}
    if args.json:
        with open(args.json, "w") as f:
            json.dump(report, f, indent=1)
    print(f"load average before {load_before[0]:.1f}, after {load_after[0]:.1f} "
          f"({os.cpu_count()} cpus)")
    print(f"latency p50 from X-Timestamp: direct {p50(direct):.1f} ms, one relay "
          f"{p50(one_hop):.1f} ms, relay + HAProxy at {top['viewers']} viewers "
          f"{top_load['latency_ms']['p50']:.1f} ms (p99 {top_load['latency_ms']['p99']:.1f})")
    print(f"at {top['viewers']} viewers: straight on relay 1 {p50(top['probe']):.1f} ms p50 "
          f"(relay hop +{relay_hop_loaded:.1f} ms), HAProxy adds {proxy_hop:.1f} ms more")
    print("| viewers | origin clients | relay clients | fps min / median | latency p50 ms "
          "| on relay 1, p50 ms | CPU % origin / relay1 / relay2 / haproxy | errors |")
    print("|---|---|---|---|---|---|---|---|")
    for r in results:
        l = r["load"]
        fps = f"{l['normal']['fps']['min']:.1f} / {l['normal']['fps']['median']:.1f}" if l else "-"
        lat = f"{l['normal']['latency_ms']['p50']:.1f}" if l else "-"
        probe = f"{p50(r['probe']):.1f}" if r["probe"] else "-"
        c = r["cpu_percent"]
        print(f"| {r['viewers']} | {r['origin_clients']} | {r['relay_clients']} | {fps} | {lat} "
              f"| {probe} "
              f"| {c['origin']} / {c['relay1']} / {c['relay2']} / {c['haproxy']} "
              f"| {l['error_count'] if l else '-'} |")
    print(f"failover: {over}")
    for mark, ok in marks.items():
        print(f"{'PASS' if ok else 'FAIL'} {mark}")
    sys.exit(0 if all(marks.values()) else 1)


if __name__ == "__main__":
    main()
