"""Two libcamera cameras in one camstream (docs/api.md, "Several cameras in one process"):
the virtual pipeline's Virtual0 and Virtual1 as [camera.bars] and [camera.lines], each at its
own rate at once, and stopping one leaves the other streaming.
"""

import json
import os
import tempfile
import time

import websockets

from conftest import chroot_root
from helpers import (BackgroundViewer, StreamClient, assert_baseline_jpeg, get_json, run_async,
                     ws_wait_for)

CONFIG = """\
source = libcamera
always-on = true

[camera.bars]
camera = Virtual0
width = 640
height = 480
fps = 10

[camera.lines]
camera = Virtual1
width = 640
height = 480
fps = 15
"""


def config_in_root(text=CONFIG):
    """The config file, written inside the root (camstream reads it from there); its path
    there."""
    directory = os.path.join(chroot_root(), "tmp")
    handle = tempfile.NamedTemporaryFile("w", suffix=".conf", prefix="camstream-two-",
                                         dir=directory, delete=False)
    with handle:
        handle.write(text)
    return handle.name, "/tmp/" + os.path.basename(handle.name)


def timestamp(part):
    return float(part.header("x-timestamp"))


def rate_of(parts):
    stamps = [timestamp(part) for part in parts]
    return (len(stamps) - 1) / (stamps[-1] - stamps[0])


def test_two_virtual_cameras_stream_at_their_rates_at_once(start_camera_server):
    outside, inside = config_in_root()
    try:
        server = start_camera_server("-c", inside)
        status = get_json(server.port)
        assert status["cameras"]["bars"]["camera"] == "Virtual0", status
        assert status["cameras"]["lines"]["camera"] == "Virtual1", status
        # Each read on its own thread, so neither waits for the other.
        with BackgroundViewer(server.port, "/cam/bars/stream") as bars, \
                BackgroundViewer(server.port, "/cam/lines/stream") as lines:
            time.sleep(2.0)  # past start-up
            start = time.monotonic()
            time.sleep(6.0)
            end = time.monotonic()
            got = {"bars": bars.parts_between(start, end), "lines": lines.parts_between(start, end)}
        for part in got["bars"] + got["lines"]:
            assert_baseline_jpeg(part.jpeg, 640, 480)
        # Against the wall clock too: no frames lost on the way.
        assert abs(len(got["bars"]) / (end - start) - 10) <= 1, len(got["bars"])
        assert abs(len(got["lines"]) / (end - start) - 15) <= 1.5, len(got["lines"])
        assert abs(rate_of(got["bars"]) - 10) <= 0.5, rate_of(got["bars"])
        assert abs(rate_of(got["lines"]) - 15) <= 0.75, rate_of(got["lines"])
    finally:
        os.unlink(outside)


def test_stopping_one_virtual_camera_leaves_the_other_streaming(start_camera_server):
    # On demand (always-on refuses stop): both stream for their viewers, then bars is stopped.
    outside, inside = config_in_root(CONFIG.replace("always-on = true", "always-on = false"))
    try:
        server = start_camera_server("-c", inside)

        async def stop_bars():
            url = f"ws://127.0.0.1:{server.port}/cam/bars/ws"
            async with websockets.connect(url, open_timeout=5) as ws:
                await ws.send(json.dumps({"type": "stop"}))
                await ws_wait_for(ws, lambda m: m.get("state") == "stopped", 10, "bars stopped")

        with StreamClient(server.port, "/cam/bars/stream", timeout=10.0) as bars, \
                StreamClient(server.port, "/cam/lines/stream", timeout=10.0) as lines:
            bars.start()
            lines.start()
            bars.read_parts(3)
            lines.read_parts(3)
            run_async(stop_bars(), timeout=30)
            assert "camera Virtual0 released" in server.stderr(), server.stderr()
            assert "camera Virtual1 released" not in server.stderr(), server.stderr()
            parts = lines.count_parts_for(3.0)
            assert abs(len(parts) / 3.0 - 15) <= 2, f"{len(parts)} parts of lines in 3 s"
            status = get_json(server.port)
            assert status["cameras"]["bars"]["state"] == "stopped", status
            assert status["cameras"]["lines"]["state"] == "streaming", status
    finally:
        os.unlink(outside)
