"""camstream through a real libcamera stack: libcamera 0.7.1's virtual cameras (see
.ci/virtual-camera.sh: "Virtual0" gives colour bars at 640x480 and 1280x720, "Virtual1" lines
at 640x480; both NV12, Rec709 limited range, no dma-buf provider, no frame pacing of their own).
Clients are real (HTTP, the MJPEG stream, WebSocket, djpeg) and run outside the root.
"""

import json
import os
import re
import subprocess
import tempfile
import time

import pytest
import websockets

from conftest import run_camstream
from helpers import (StreamClient, assert_baseline_jpeg, get_json, http_get, run_async,
                     ws_wait_for, wait_for_state)

SIZES = [(640, 480), (1280, 720)]


def timestamp(part):
    return float(part.header("x-timestamp"))


def camera_buffers(pid):
    """camstream's own frame buffers (memfds) open in the process: none once the camera is
    released."""
    count = 0
    for fd in os.listdir(f"/proc/{pid}/fd"):
        try:
            if "camstream-frame" in os.readlink(f"/proc/{pid}/fd/{fd}"):
                count += 1
        except OSError:
            pass
    return count


def wait_until(predicate, timeout, what):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return
        time.sleep(0.05)
    raise AssertionError(f"{what}: not within {timeout}s")


def snapshot(server, timeout=10.0):
    response = http_get(server.port, "/snapshot", timeout=timeout)
    assert response.status == 200, response.status_line
    return response.body


def luma_range(jpeg):
    """Min and max luma of a JPEG, decoded by libjpeg-turbo's djpeg (grayscale: the Y samples
    as stored)."""
    with tempfile.NamedTemporaryFile(suffix=".jpg") as file:
        file.write(jpeg)
        file.flush()
        pgm = subprocess.run(["djpeg", "-grayscale", "-pnm", file.name], capture_output=True,
                             check=True, timeout=20).stdout
    # "P5\n<w> <h>\n255\n" then the samples.
    fields = pgm.split(maxsplit=4)
    assert fields[0] == b"P5", pgm[:20]
    samples = fields[4]
    return min(samples), max(samples)


def test_list_cameras_shows_what_each_camera_grants():
    result = run_camstream("--list-cameras")
    assert result.returncode == 0, result.stderr
    lines = result.stdout.splitlines()
    assert lines[0] == "0: Virtual0 (Virtual Bars)", result.stdout
    # libcamera lists many sizes for the virtual camera; only these two validate unchanged.
    assert lines[1:3] == ["    NV12 640x480", "    NV12 1280x720"], result.stdout
    assert lines[3] == "1: Virtual1 (Virtual Lines)", result.stdout
    assert lines[4:] == ["    NV12 640x480"], result.stdout


@pytest.mark.parametrize("source", ["libcamera", "auto"])
@pytest.mark.parametrize("width,height", SIZES)
def test_source_streams_at_the_size_asked(start_camera_server, source, width, height):
    server = start_camera_server("--source", source, "--width", width, "--height", height,
                                 "--fps", 10)
    with StreamClient(server.port, timeout=10.0) as viewer:
        viewer.start()
        parts = viewer.read_parts(5)
    for part in parts:
        assert_baseline_jpeg(part.jpeg, width, height)
    status = get_json(server.port)
    assert status["source"] == "libcamera", status
    assert status["camera"] == "Virtual0", status
    assert (status["width"], status["height"]) == (width, height), status
    log = server.stderr()
    assert "test pattern" not in log.lower(), log
    # Without a dma-buf provider camstream's own memfd buffers are what runs.
    if not os.path.exists("/dev/dma_heap") and not os.path.exists("/dev/udmabuf"):
        assert "using memfd buffers" in log, log


@pytest.mark.parametrize("fps", [10, 30])
def test_rate_is_the_rate_asked(start_camera_server, fps):
    # The virtual camera gives frames as fast as it can: camstream paces them.
    server = start_camera_server("--source", "libcamera", "--always-on", "--fps", fps)
    with StreamClient(server.port, timeout=10.0) as viewer:
        viewer.start()
        viewer.read_parts(3)  # past start-up
        parts = viewer.count_parts_for(6.0)
    stamps = [timestamp(part) for part in parts]
    assert len(stamps) > 3 * fps, f"{len(stamps)} frames in 6 s"
    rate = (len(stamps) - 1) / (stamps[-1] - stamps[0])
    assert abs(rate - fps) <= 0.05 * fps, f"{rate:.2f} frames/s for --fps {fps}"
    # Against the wall clock too: no frames lost on the way.
    assert abs(len(parts) / 6.0 - fps) <= 0.1 * fps, f"{len(parts)} parts in 6 s"


def test_snapshot_is_full_range(start_camera_server):
    server = start_camera_server("--source", "libcamera", "--width", 640, "--height", 480)
    jpeg = snapshot(server)
    assert_baseline_jpeg(jpeg, 640, 480)
    low, high = luma_range(jpeg)
    # The camera's bars are Rec709 limited range (black 16, white 235); the JPEG is full range.
    assert low <= 6 and high >= 249, f"luma {low}..{high}: limited range not expanded"
    assert "limited-range" in server.stderr(), server.stderr()


def test_websocket_stop_releases_and_start_reacquires(start_camera_server):
    server = start_camera_server("--source", "libcamera", "--idle-timeout", 30)
    url = f"ws://127.0.0.1:{server.port}/ws"

    async def scenario():
        async with websockets.connect(url, open_timeout=5) as ws:
            await ws.send(json.dumps({"type": "start"}))
            await ws_wait_for(ws, lambda m: m.get("state") == "streaming", 10, "streaming")
            assert camera_buffers(server.pid) > 0, "streaming without camera buffers"
            assert server.stderr().count("acquired") == 1, server.stderr()

            await ws.send(json.dumps({"type": "stop"}))
            await ws_wait_for(ws, lambda m: m.get("state") == "stopped", 10, "stopped")
            # Stopped means released: the buffers are gone and the camera is free.
            wait_until(lambda: camera_buffers(server.pid) == 0, 5, "buffers freed")
            assert "camera Virtual0 released" in server.stderr(), server.stderr()
            other = run_camstream("--list-cameras")
            assert other.returncode == 0 and "Virtual0" in other.stdout, other.stderr

            await ws.send(json.dumps({"type": "start"}))
            await ws_wait_for(ws, lambda m: m.get("state") == "streaming", 10, "streaming again")
            assert camera_buffers(server.pid) > 0
            assert server.stderr().count("acquired") == 2, server.stderr()

    run_async(scenario(), timeout=60)
    assert_baseline_jpeg(snapshot(server), 640, 480)  # frames flow again


def test_on_demand_idle_and_restart(start_camera_server):
    server = start_camera_server("--source", "libcamera", "--idle-timeout", 1, "--fps", 20)
    assert get_json(server.port)["state"] == "idle"
    assert camera_buffers(server.pid) == 0, "camera held before anyone watched"
    for round_ in range(2):
        with StreamClient(server.port, timeout=10.0) as viewer:
            viewer.start()
            parts = viewer.read_parts(5)
            assert_baseline_jpeg(parts[-1].jpeg, 640, 480)
            assert get_json(server.port)["state"] == "streaming"
        # The last viewer left: idle after --idle-timeout, the camera released.
        wait_for_state(server.port, "idle", 6)
        wait_until(lambda: camera_buffers(server.pid) == 0, 5, f"round {round_}: buffers freed")
        assert server.stderr().count("camera Virtual0 released") == round_ + 1, server.stderr()


@pytest.mark.parametrize("selector", ["1", "Virtual1"])
def test_camera_by_index_and_id(start_camera_server, selector):
    server = start_camera_server("--source", "libcamera", "--camera", selector)
    jpeg = snapshot(server)
    assert_baseline_jpeg(jpeg, 640, 480)
    assert get_json(server.port)["camera"] == "Virtual1"
    assert "using camera Virtual1 (Virtual Lines)" in server.stderr(), server.stderr()


@pytest.mark.parametrize("selector,message", [
    ("2", r"camera index 2 is out of range: 2 cameras found \(0\.\.1\)"),
    ("Virtual9", r"no camera with id 'Virtual9'"),
])
def test_unknown_camera_is_a_clear_error(selector, message):
    result = run_camstream("--source", "libcamera", "--camera", selector, "--port", "0")
    assert result.returncode == 1, (result.returncode, result.stderr)
    assert re.search(message, result.stderr), result.stderr


def test_camera_change_is_named(start_camera_server):
    # 800x600 is not in the camera's list: validate() picks another size, and the log says which.
    server = start_camera_server("--source", "libcamera", "--width", 800, "--height", 600)
    jpeg = snapshot(server)
    width, height = get_json(server.port)["width"], get_json(server.port)["height"]
    assert_baseline_jpeg(jpeg, width, height)
    assert (width, height) != (800, 600)
    assert re.search(rf"changed the request: size 800x600 -> {width}x{height}", server.stderr()), \
        server.stderr()
