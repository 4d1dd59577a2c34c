#!/usr/bin/env python3
"""CPU time camstream spends per delivered frame: the virtual libcamera camera against the
built-in test source, same binary, same size and rate, one viewer on loopback.

Run by `.ci/virtual-camera.sh --bench` (which builds the trixie root and mounts it), or by hand
with CAMSTREAM_CHROOT (the root) and CAMSTREAM_BIN (the binary's path inside it) set.
Settings: SECONDS_PER_RUN (20), REPS (3), WIDTH/HEIGHT (640x480), FPS (30).
Prints a Markdown table: utime+stime from /proc/PID/stat over the window, divided by the frames
the source delivered in it (camstream_frames_captured_total), median of REPS runs.
"""

import os
import statistics
import sys
import tempfile
import time

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "tests", "integration"))
sys.path.insert(0, os.path.join(HERE, "..", "tests", "camera"))

from conftest import Server, command  # noqa: E402  (tests/camera/conftest.py)
from helpers import StreamClient, get_metrics, metric  # noqa: E402

SECONDS_PER_RUN = float(os.environ.get("SECONDS_PER_RUN", "20"))
REPS = int(os.environ.get("REPS", "3"))
WIDTH = int(os.environ.get("WIDTH", "640"))
HEIGHT = int(os.environ.get("HEIGHT", "480"))
FPS = int(os.environ.get("FPS", "30"))
TICKS = os.sysconf("SC_CLK_TCK")


def cpu_seconds(pid):
    with open(f"/proc/{pid}/stat") as stat:
        fields = stat.read().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / TICKS  # utime, stime


def run(source):
    with tempfile.TemporaryDirectory(prefix="camstream-bench-") as workdir:
        server = Server(command("--bind", "127.0.0.1", "--port", "0", "--source", source,
                                "--always-on", "--width", WIDTH, "--height", HEIGHT,
                                "--fps", FPS, "--log-level", "warn"), workdir)
        try:
            server.wait_listening(20)
            with StreamClient(server.port, timeout=10) as viewer:
                viewer.start()
                viewer.read_parts(3 * FPS)  # warm-up: 3 s
                frames0 = metric(get_metrics(server.port), "camstream_frames_captured_total")
                cpu0, t0 = cpu_seconds(server.pid), time.monotonic()
                viewer.count_parts_for(SECONDS_PER_RUN)
                cpu1, t1 = cpu_seconds(server.pid), time.monotonic()
                frames1 = metric(get_metrics(server.port), "camstream_frames_captured_total")
        finally:
            code, _ = server.stop(timeout=10)
        assert code == 0, server.stderr()[-2000:]
    frames = frames1 - frames0
    return {"fps": frames / (t1 - t0), "cpu": (cpu1 - cpu0) / (t1 - t0),
            "ms_per_frame": 1000 * (cpu1 - cpu0) / frames}


def main():
    results = {}
    for rep in range(REPS):
        for source in ("libcamera", "test"):  # alternate, so drift hits both alike
            results.setdefault(source, []).append(run(source))
            print(f"rep {rep} {source}: {results[source][-1]}", file=sys.stderr)
    print(f"| source ({WIDTH}x{HEIGHT}, --fps {FPS}) | frames/s delivered | CPU (cores) "
          f"| CPU ms per delivered frame |")
    print("|---|---|---|---|")
    for source, runs in results.items():
        med = {key: statistics.median(r[key] for r in runs) for key in runs[0]}
        each = ", ".join("%.2f" % r["ms_per_frame"] for r in runs)
        print(f"| {source} | {med['fps']:.1f} | {med['cpu']:.2f} | {med['ms_per_frame']:.2f} "
              f"(runs: {each}) |")


if __name__ == "__main__":
    main()
