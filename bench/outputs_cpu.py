#!/usr/bin/env python3
"""CPU per captured frame of three outputs watched at once (1920x1080, 1280x720 and 640x360 from
one 1920x1080 capture: /stream, ?width=1280, ?width=640) against the sum of the three sizes each
served alone (three runs of camstream, each capturing at that size with one viewer), docs/api.md
"Outputs per viewer". The issue's target is at most 1.1x that sum.

camstream runs on the test source (--always-on, --encode-threads 1 by default); one viewer
reads each output for SECONDS; the server's CPU is utime + stime from /proc/PID/stat over the
frames captured in that time (/metrics). The cases take turns, REPS times; the summary is the
median per case. Loopback only, a bounded number of connections, stops by itself.

    bench/outputs_cpu.py BUILD_DIR [--seconds 10] [--reps 3] [--fps 30] [--threads 1]
"""

import argparse
import os
import re
import socket
import statistics
import subprocess
import threading
import time

# name: (capture size, the paths one viewer each reads)
CASES = {
    "1920x1080": ("1920x1080", ["/stream"]),
    "1280x720": ("1280x720", ["/stream"]),
    "640x360": ("640x360", ["/stream"]),
    "3 outputs": ("1920x1080", ["/stream", "/stream?width=1280", "/stream?width=640"]),
}
SINGLES = ["1920x1080", "1280x720", "640x360"]


def free_port():
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def cpu_seconds(pid):
    with open(f"/proc/{pid}/stat") as stat:
        fields = stat.read().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def metric(port, name, labels=""):
    with socket.create_connection(("127.0.0.1", port), timeout=5) as sock:
        sock.sendall(f"GET /metrics HTTP/1.0\r\nHost: 127.0.0.1\r\n\r\n".encode())
        data = b""
        while chunk := sock.recv(65536):
            data += chunk
    text = data.decode()
    match = re.search(rf"^{re.escape(name + labels)} (\S+)$", text, re.M)
    return float(match.group(1)) if match else None


def view(port, path, stop, counts, index):
    """Reads a stream and counts its parts until stop is set."""
    with socket.create_connection(("127.0.0.1", port), timeout=5) as sock:
        sock.sendall(f"GET {path} HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n".encode())
        tail = b""
        while not stop.is_set():
            chunk = sock.recv(1 << 20)
            if not chunk:
                break
            data = tail + chunk
            counts[index] += data.count(b"--camstreamframe\r\n")
            tail = data[-17:]


def run_case(binary, size, paths, args):
    port = free_port()
    width, height = size.split("x")
    server = subprocess.Popen(
        [binary, "--source", "test", "--bind", "127.0.0.1", "--port", str(port), "--width", width,
         "--height", height, "--fps", str(args.fps), "--encode-threads", str(args.threads),
         "--always-on", "--log-level", "warn"],
        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        time.sleep(2)  # listening, capture running
        stop = threading.Event()
        counts = [0] * len(paths)
        viewers = [threading.Thread(target=view, args=(port, p, stop, counts, i))
                   for i, p in enumerate(paths)]
        for viewer in viewers:
            viewer.start()
        time.sleep(1.5)  # every output opened and warm
        frames_before = metric(port, "camstream_frames_captured_total")
        cpu_before = cpu_seconds(server.pid)
        counts_before = list(counts)
        time.sleep(args.seconds)
        cpu = cpu_seconds(server.pid) - cpu_before
        frames = metric(port, "camstream_frames_captured_total") - frames_before
        sent = [after - before for after, before in zip(counts, counts_before)]
        outputs = metric(port, "camstream_outputs")
        stop.set()
        for viewer in viewers:
            viewer.join(timeout=10)
        return {"cpu_ms_per_frame": 1000 * cpu / frames, "fps": frames / args.seconds,
                "min_viewer_fps": min(sent) / args.seconds, "outputs": outputs}
    finally:
        server.terminate()
        server.wait(timeout=10)


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("build")
    parser.add_argument("--seconds", type=float, default=10)
    parser.add_argument("--reps", type=int, default=3)
    parser.add_argument("--fps", type=float, default=30)
    parser.add_argument("--threads", type=int, default=1)
    args = parser.parse_args()
    binary = os.path.join(args.build, "src", "camstream")
    results = {name: [] for name in CASES}
    for _ in range(args.reps):
        for name, (size, paths) in CASES.items():
            results[name].append(run_case(binary, size, paths, args))
    print(f"# {args.fps} fps, --encode-threads {args.threads}, "
          f"{args.seconds:g} s x {args.reps} runs; load average {os.getloadavg()[0]:.2f}")
    print(f"{'case':>10} {'cpu_ms/frame':>13} {'capture_fps':>12} {'min_viewer_fps':>15} "
          f"{'outputs':>8}  runs (cpu_ms/frame)")
    medians = {}
    for name, runs in results.items():
        medians[name] = statistics.median(r["cpu_ms_per_frame"] for r in runs)
        print(f"{name:>10} {medians[name]:13.2f} "
              f"{statistics.median(r['fps'] for r in runs):12.1f} "
              f"{statistics.median(r['min_viewer_fps'] for r in runs):15.1f} "
              f"{statistics.median(r['outputs'] for r in runs):8.0f}  "
              + " ".join(f"{r['cpu_ms_per_frame']:.2f}" for r in runs))
    total = sum(medians[name] for name in SINGLES)
    print(f"3 outputs / sum of the 3 sizes alone ({total:.2f} ms): "
          f"{medians['3 outputs'] / total:.2f}x CPU per frame (target <= 1.10x)")


if __name__ == "__main__":
    main()
