"""MJPEG decoded for the outputs that need pixels (docs/api.md, "Frames and sources" and "Relay
source"): a real camstream relaying a fake upstream (JPEGs made by ffmpeg) is turned, given a
snapshot size of its own and reconfigured over /ws; whatever needs no pixels stays the
upstream's bytes. And --camera-format's refusals.

Everything is on loopback with port 0; every wait is bounded.
"""

import json
import os
import subprocess
import tempfile
import time

import pytest
import websockets

from conftest import camstream_bin
from fake_upstream import FakeUpstream, head, make_jpegs, part
from helpers import (StreamClient, assert_baseline_jpeg, decoded_luma, ffprobe_size, get_json,
                     get_metrics, http_get, jpeg_info, metric, run_async, ws_wait_for)

WIDTH, HEIGHT = 352, 288  # not the relay's --width/--height: the size must be the upstream's


@pytest.fixture(scope="module")
def jpegs():
    return make_jpegs(3, WIDTH, HEIGHT)


@pytest.fixture
def upstreams():
    started = []

    def start(behaviour):
        upstream = FakeUpstream(behaviour)
        started.append(upstream)
        return upstream

    yield start
    for upstream in started:
        upstream.stop()


def streaming(jpegs, interval=0.05):
    def behave(connection):
        if not connection.send(head()):
            return
        index = 0
        while True:
            data = part(jpegs[index % len(jpegs)], timestamp=f"{time.time():.6f}")
            if not connection.send(data) or not connection.wait(interval):
                return
            index += 1

    return behave


def start_relay(start_server, upstream, *extra):
    return start_server(source=upstream.url(), extra=["--idle-timeout", "1", *extra])


def decoded(server):
    return metric(get_metrics(server.port), "camstream_frames_decoded_total")


def turned_90(luma, width, height):
    """A width x height luma picture turned 90 degrees clockwise (height x width)."""
    out = bytearray(width * height)
    for y in range(height):
        row = luma[y * width:(y + 1) * width]
        x_out = height - 1 - y
        for x in range(width):
            out[x * height + x_out] = row[x]
    return bytes(out)


def mean_difference(a, b):
    step = 7  # a sample of the pixels is plenty
    return sum(abs(a[i] - b[i]) for i in range(0, len(a), step)) / len(range(0, len(a), step))


def test_a_turned_relay_decodes_turns_and_encodes_every_frame(start_server, upstreams, jpegs,
                                                               scale):
    relay = start_relay(start_server, upstreams(streaming(jpegs)), "--rotation", "90")
    with StreamClient(relay.port, timeout=10 * scale) as viewer:
        viewer.start()
        parts = viewer.read_parts(6)
    for got in parts[2:]:
        assert got.jpeg not in jpegs, "a turned relay passed an upstream JPEG on"
        assert_baseline_jpeg(got.jpeg, HEIGHT, WIDTH)
    last = parts[-1].jpeg
    assert ffprobe_size(last) == (HEIGHT, WIDTH)
    # The relayed picture is one of the upstream's, turned clockwise (and not the other way).
    luma = decoded_luma(last, HEIGHT, WIDTH)
    upstream_lumas = [decoded_luma(jpeg, WIDTH, HEIGHT) for jpeg in jpegs]
    clockwise = min(mean_difference(luma, turned_90(u, WIDTH, HEIGHT)) for u in upstream_lumas)
    anticlockwise = min(
        mean_difference(luma, turned_90(turned_90(turned_90(u, WIDTH, HEIGHT), HEIGHT, WIDTH),
                                        WIDTH, HEIGHT)) for u in upstream_lumas)
    assert clockwise < 4, f"not the upstream's picture turned: mean difference {clockwise:.1f}"
    assert anticlockwise > 4 * clockwise + 10, (clockwise, anticlockwise)

    status = get_json(relay.port)
    assert (status["width"], status["height"]) == (HEIGHT, WIDTH), status
    assert status["settings"]["rotation"] == 90
    assert decoded(relay) >= len(parts)
    snapshot = http_get(relay.port, "/snapshot", timeout=10 * scale)
    assert snapshot.status == 200
    assert ffprobe_size(snapshot.body) == (HEIGHT, WIDTH)


def test_an_odd_sized_upstream_loses_its_last_row_and_column_when_turned(start_server, upstreams,
                                                                          scale):
    odd = make_jpegs(2, 321, 241)
    relay = start_relay(start_server, upstreams(streaming(odd)), "--rotation", "270", "--hflip")
    with StreamClient(relay.port, timeout=10 * scale) as viewer:
        viewer.start()
        for got in viewer.read_parts(4)[1:]:
            assert_baseline_jpeg(got.jpeg, 240, 320)
    status = get_json(relay.port)
    assert (status["width"], status["height"]) == (240, 320), status


def test_a_snapshot_size_of_its_own_leaves_the_stream_passed_through(start_server, upstreams,
                                                                      jpegs, scale):
    relay = start_relay(start_server, upstreams(streaming(jpegs)), "--snapshot-width", "160",
                        "--snapshot-height", "128")
    with StreamClient(relay.port, timeout=10 * scale) as viewer:
        viewer.start()
        for got in viewer.read_parts(4):
            assert got.jpeg in jpegs, "the stream is not the upstream's bytes"
        assert decoded(relay) == 0, "decoded with no output that needs pixels"

        snapshot = http_get(relay.port, "/snapshot", timeout=10 * scale)
        assert snapshot.status == 200
        assert_baseline_jpeg(snapshot.body, 160, 128)
        assert ffprobe_size(snapshot.body) == (160, 128)
        assert snapshot.body not in jpegs
        after_snapshot = decoded(relay)
        assert 1 <= after_snapshot <= 3, after_snapshot

        # Decoding stops with the last snapshot: the stream goes on untouched.
        for got in viewer.read_parts(6):
            assert got.jpeg in jpegs, "the stream is not the upstream's bytes"
        assert decoded(relay) == after_snapshot
    status = get_json(relay.port)
    assert (status["width"], status["height"]) == (WIDTH, HEIGHT), status
    assert (status["settings"]["snapshot_width"], status["settings"]["snapshot_height"]) == \
        (160, 128)


def test_a_corrupt_upstream_jpeg_that_must_be_decoded_is_dropped(start_server, upstreams, jpegs,
                                                                 scale):
    broken = jpegs[0][:len(jpegs[0]) // 2]  # cut short: no EOI
    garbage = b"\xff\xd8" + bytes(range(256)) * 40 + b"\xff\xd9"
    relay = start_relay(start_server, upstreams(streaming([jpegs[1], broken, garbage, jpegs[2]])),
                        "--vflip")
    with StreamClient(relay.port, timeout=10 * scale) as viewer, \
            StreamClient(relay.port, timeout=10 * scale) as other:
        viewer.start()
        other.start()
        for got in viewer.read_parts(8) + other.read_parts(8):
            assert_baseline_jpeg(got.jpeg, WIDTH, HEIGHT)
    samples = get_metrics(relay.port)
    assert metric(samples, "camstream_frames_dropped_total", '{reason="corrupt"}') >= 2
    assert get_json(relay.port)["state"] == "streaming"


def test_configure_turns_a_relay_live_and_back(start_server, upstreams, jpegs, scale):
    relay = start_relay(start_server, upstreams(streaming(jpegs)))

    async def configure(ws, **fields):
        await ws.send(json.dumps({"type": "configure", **fields}))
        return await ws_wait_for(
            ws, lambda m: m["type"] == "error" or (
                m["type"] == "status" and
                all(m["settings"].get(k) == v for k, v in fields.items())),
            10 * scale, f"an answer to configure {fields}")

    with StreamClient(relay.port, timeout=10 * scale) as viewer:
        viewer.start()
        assert viewer.read_part().jpeg in jpegs

        async def turn():
            async with websockets.connect(f"ws://127.0.0.1:{relay.port}/ws", open_timeout=5,
                                          compression=None) as ws:
                await ws_wait_for(ws, lambda m: m["type"] == "status", 5 * scale,
                                  "the first status")
                return await configure(ws, rotation=270, vflip=True)

        turned = run_async(turn(), 30 * scale)
        assert turned["type"] == "status", turned
        assert turned["settings"]["rotation"] == 270 and turned["settings"]["vflip"], turned
        # The same viewer connection goes on with turned pictures.
        sizes = [jpeg_info(viewer.read_part().jpeg)[:2] for _ in range(12)]
        assert sizes[-1] == (HEIGHT, WIDTH), sizes
        assert set(sizes) <= {(WIDTH, HEIGHT), (HEIGHT, WIDTH)}, sizes
        # The reopened relay knows the upstream's size again from its first picture on.
        status = get_json(relay.port)
        assert (status["width"], status["height"]) == (HEIGHT, WIDTH), status

        async def turn_back():
            async with websockets.connect(f"ws://127.0.0.1:{relay.port}/ws", open_timeout=5,
                                          compression=None) as ws:
                await ws_wait_for(ws, lambda m: m["type"] == "status", 5 * scale,
                                  "the first status")
                return await configure(ws, rotation=0, vflip=False)

        back = run_async(turn_back(), 30 * scale)
        assert back["type"] == "status", back
        assert back["settings"]["rotation"] == 0 and not back["settings"]["vflip"], back
        deadline = time.monotonic() + 10 * scale
        while viewer.read_part().jpeg not in jpegs:
            assert time.monotonic() < deadline, "no upstream bytes after turning back"
        for got in viewer.read_parts(4):
            assert got.jpeg in jpegs, "passthrough did not resume"
        status = get_json(relay.port)
        assert (status["width"], status["height"]) == (WIDTH, HEIGHT), status


# --- --camera-format -------------------------------------------------------------------------


def run_camstream(*args):
    return subprocess.run([camstream_bin(), *args], capture_output=True, text=True, timeout=20)


@pytest.mark.parametrize("value", ["", "jpeg", "MJPEG", "rgb888", "-1", "nan", "mjpeg,yuyv",
                                   "y" * 100000])
def test_bad_camera_formats_are_usage_errors(value):
    result = run_camstream("--source", "test", "--port", "0", "--camera-format", value)
    assert result.returncode == 2, result
    assert "--camera-format: '" in result.stderr
    assert "is not one of auto, mjpeg, yuyv, uyvy, nv12, yuv420" in result.stderr


@pytest.mark.parametrize("source,named", [
    ("test", "not --source test"),
    ("http://127.0.0.1:9/stream", "not --source http(s)://... (a relayed stream)"),
])
def test_a_camera_format_without_a_camera_is_a_usage_error(source, named):
    result = run_camstream("--source", source, "--port", "0", "--camera-format", "mjpeg")
    assert result.returncode == 2, result
    assert f"--camera-format: only a libcamera camera has a format to choose, {named}" in \
        result.stderr


def test_camera_format_from_the_config_file_is_checked_there(start_server):
    with tempfile.TemporaryDirectory(prefix="camstream-format-") as workdir:
        path = os.path.join(workdir, "camstream.conf")
        with open(path, "w") as config:
            config.write("source = test\ncamera-format = nv21\n")
        result = run_camstream("--config", path, "--port", "0")
        assert result.returncode == 2, result
        assert f"config file {path}: key 'camera-format': 'nv21' is not one of" in \
            result.stderr, result.stderr
        with open(path, "w") as config:
            config.write("source = test\ncamera-format = auto\n")
        server = start_server(source=None, extra=["--config", path])
        assert get_json(server.port)["source"] == "test"
