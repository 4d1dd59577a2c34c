"""docs/api.md, "Frames and sources" and "Controls and live settings": --rotation 90/270 (and 180, flips) in software before encoding.

The stream, the snapshot, the status and the STOPPED placeholder all have the turned size, and
the picture itself is turned: ffmpeg decodes it and the test pattern's dark label panel (top-left
when upright) is found in the corner the rotation moves it to.
"""

import asyncio
import json
import os
import shutil
import subprocess
import tempfile

import pytest
import websockets

from helpers import (StreamClient, assert_baseline_jpeg, client_env, decoded_luma, ffprobe_size,
                     get_json, http_get, run_async, ws_wait_for)

pytestmark = pytest.mark.skipif(shutil.which("ffmpeg") is None or shutil.which("ffprobe") is None,
                                reason="ffmpeg/ffprobe are not installed")

WIDTH, HEIGHT = 640, 480


def turned(x, y, width, height, rotation, hflip, vflip):
    """Where the upright picture's pixel (x, y) lands: flips first, then clockwise turns."""
    if hflip:
        x = width - 1 - x
    if vflip:
        y = height - 1 - y
    for _ in range(rotation // 90):
        x, y, width, height = height - 1 - y, x, height, width
    return x, y


def label_found(luma, width, height, rotation=0, hflip=False, vflip=False):
    """Whether the label panel's top padding is where this orientation puts it.

    Upright, the panel's dark grey (16) band at x 10..199, y 10..14 lies in one row of JPEG
    blocks with nothing else: no bar (the black one is 0), no ramp (the bottom third), no text.
    """
    upright_width, upright_height = (height, width) if rotation in (90, 270) else (width, height)
    samples = []
    for y in range(10, 15):
        for x in range(10, 200):
            tx, ty = turned(x, y, upright_width, upright_height, rotation, hflip, vflip)
            samples.append(luma[ty * width + tx])
    mean = sum(samples) / len(samples)
    return 12 <= mean <= 22 and max(samples) < 40


def start_rotated(start_server, *flags):
    return start_server(width=WIDTH, height=HEIGHT, interval=50, extra=list(flags))


def test_rotation_90_swaps_stream_snapshot_and_status(start_server, scale):
    server = start_rotated(start_server, "--rotation", "90")
    status = get_json(server.port)
    assert (status["width"], status["height"]) == (HEIGHT, WIDTH), status

    with StreamClient(server.port, timeout=10 * scale) as viewer:
        viewer.start()
        for part in viewer.read_parts(3):
            assert_baseline_jpeg(part.jpeg, HEIGHT, WIDTH)
        streamed = viewer.read_part().jpeg
    assert ffprobe_size(streamed) == (HEIGHT, WIDTH)
    luma = decoded_luma(streamed, HEIGHT, WIDTH)
    assert label_found(luma, HEIGHT, WIDTH, rotation=90)
    assert not label_found(luma, HEIGHT, WIDTH, rotation=270)

    snapshot = http_get(server.port, "/snapshot", timeout=10 * scale)
    assert snapshot.status == 200
    assert_baseline_jpeg(snapshot.body, HEIGHT, WIDTH)
    assert ffprobe_size(snapshot.body) == (HEIGHT, WIDTH)

    status = get_json(server.port)
    assert (status["width"], status["height"]) == (HEIGHT, WIDTH), status


@pytest.mark.parametrize("rotation,hflip,vflip", [
    (270, False, False), (180, False, False), (0, True, False), (0, False, True),
    (90, True, False), (270, False, True), (180, True, True),
], ids=lambda value: str(value))
def test_orientation_moves_the_picture(start_server, scale, rotation, hflip, vflip):
    flags = ["--rotation", str(rotation)] + (["--hflip"] if hflip else []) + \
        (["--vflip"] if vflip else [])
    server = start_rotated(start_server, *flags)
    width, height = (HEIGHT, WIDTH) if rotation in (90, 270) else (WIDTH, HEIGHT)
    snapshot = http_get(server.port, "/snapshot", timeout=10 * scale)
    assert snapshot.status == 200
    assert_baseline_jpeg(snapshot.body, width, height)
    luma = decoded_luma(snapshot.body, width, height)
    assert label_found(luma, width, height, rotation, hflip, vflip)
    # Found only where this orientation puts it (rotate 180 with both flips is upright).
    wrong = (rotation, not hflip, vflip) if rotation != 180 or not hflip else (0, True, False)
    assert not label_found(luma, width, height, *wrong)
    status = get_json(server.port)
    assert (status["width"], status["height"]) == (width, height)


def test_stopped_placeholder_has_the_turned_size(start_server, scale):
    server = start_rotated(start_server, "--rotation", "270")

    async def stop_and_read():
        async with websockets.connect(f"ws://127.0.0.1:{server.port}/ws", open_timeout=5,
                                      close_timeout=2, compression=None) as ws:
            await ws.send(json.dumps({"type": "stop"}))
            await ws_wait_for(ws, lambda m: m.get("type") == "status" and
                              m.get("state") == "stopped", 5 * scale, "stopped status")
            viewer = StreamClient(server.port, timeout=10 * scale)
            try:
                await asyncio.to_thread(viewer.start)
                return await asyncio.to_thread(viewer.read_part)
            finally:
                viewer.close()

    part = run_async(stop_and_read(), 30 * scale)
    assert_baseline_jpeg(part.jpeg, HEIGHT, WIDTH)


def test_rotation_from_the_config_file(start_server, scale):
    with tempfile.TemporaryDirectory(prefix="camstream-rotation-") as workdir:
        config = os.path.join(workdir, "camstream.conf")
        with open(config, "w") as file:
            file.write("rotation = 270\n")
        server = start_rotated(start_server, "--config", config)
        status = get_json(server.port)
    assert (status["width"], status["height"]) == (HEIGHT, WIDTH)


@pytest.mark.parametrize("value", ["45", "-90", "360", "90.0", "ninety", "", "9" * 40])
def test_other_rotations_are_usage_errors(value):
    from conftest import server_args
    result = subprocess.run(server_args(extra=["--rotation", value]), capture_output=True,
                            timeout=15, env=client_env())
    assert result.returncode == 2
    assert b"--rotation" in result.stderr
    assert b"0, 90, 180, 270" in result.stderr
