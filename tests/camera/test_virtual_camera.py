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

import pytest
import websockets

from conftest import controls_probe, run_camstream, run_in_root
from helpers import (StreamClient, assert_baseline_jpeg, get_json, http_get, run_async,
                     ws_wait_for, wait_for_state, wait_until)

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


def test_camera_format_nv12_is_what_the_camera_is_asked_for(start_camera_server):
    # The virtual camera gives NV12 only: forcing it streams as auto does, and the log says so.
    server = start_camera_server("--source", "libcamera", "--camera-format", "nv12")
    assert_baseline_jpeg(snapshot(server), 640, 480)
    with StreamClient(server.port, timeout=20) as viewer:
        viewer.start()
        for part in viewer.read_parts(3, timeout=20):
            assert_baseline_jpeg(part.jpeg, 640, 480)
    assert re.search(r"acquired: 640x480-NV12", server.stderr()), server.stderr()


@pytest.mark.parametrize("wanted", ["mjpeg", "yuyv", "uyvy", "yuv420"])
def test_camera_format_the_camera_lacks_exits_2_naming_what_it_offers(wanted):
    result = run_camstream("--source", "libcamera", "--port", "0", "--camera-format", wanted)
    assert result.returncode == 2, (result.returncode, result.stderr[-2000:])
    assert re.search(rf"--camera-format {wanted}: the camera does not offer it; it offers "
                     r"[a-z0-9, ]*\bnv12\b", result.stderr), result.stderr[-2000:]
    assert "acquired" not in result.stderr


def test_camera_change_is_named(start_camera_server):
    # 800x600 is not in the camera's list: validate() picks another size, and the log says which.
    server = start_camera_server("--source", "libcamera", "--width", 800, "--height", 600)
    jpeg = snapshot(server)
    width, height = get_json(server.port)["width"], get_json(server.port)["height"]
    assert_baseline_jpeg(jpeg, width, height)
    assert (width, height) != (800, 600)
    assert re.search(rf"changed the request: size 800x600 -> {width}x{height}", server.stderr()), \
        server.stderr()


# --- Picture orientation: camera flips plus software (docs/usage.md, "Rotation") ---------------

def luma_plane(jpeg):
    """(width, height, samples) of a JPEG's luma, decoded by djpeg."""
    with tempfile.NamedTemporaryFile(suffix=".jpg") as file:
        file.write(jpeg)
        file.flush()
        pgm = subprocess.run(["djpeg", "-grayscale", "-pnm", file.name], capture_output=True,
                             check=True, timeout=20).stdout
    magic, width, height, _, samples = pgm.split(maxsplit=4)
    assert magic == b"P5"
    return int(width), int(height), samples


def row(plane, y):
    width, _, samples = plane
    return list(samples[y * width:(y + 1) * width])


def column(plane, x):
    width, height, samples = plane
    return [samples[y * width + x] for y in range(height)]


def bar_steps(line):
    """Luma steps along a line of the bars: (down, up). The virtual camera's bars run from white
    to black left to right (scrolling, so one step wraps from black back to white)."""
    down = up = 0
    for a, b in zip(line, line[8:]):
        if b - a < -8:
            down += 1
        elif b - a > 8:
            up += 1
    return down, up


def spread(line):
    return max(line) - min(line)


# (flags, size of the JPEG, the line along which the bars run, bars white-to-black along it)
ORIENTATIONS = [
    ((), (640, 480), "row", True),
    (("--rotation", 90), (480, 640), "column", True),   # the left edge is now the top
    (("--rotation", 270), (480, 640), "column", False),
    (("--rotation", 180), (640, 480), "row", False),
    (("--hflip",), (640, 480), "row", False),
    (("--rotation", 90, "--hflip"), (480, 640), "column", False),  # flipped first, then turned
    (("--rotation", 90, "--vflip"), (480, 640), "column", True),
]


@pytest.mark.parametrize("flags,size,along,white_first", ORIENTATIONS,
                         ids=[" ".join(map(str, o[0])) or "upright" for o in ORIENTATIONS])
def test_rotation_and_flips_turn_the_picture(start_camera_server, flags, size, along,
                                             white_first):
    server = start_camera_server("--source", "libcamera", "--width", 640, "--height", 480,
                                 *flags)
    jpeg = snapshot(server)
    assert_baseline_jpeg(jpeg, *size)
    status = get_json(server.port)
    assert (status["width"], status["height"]) == size, status
    plane = luma_plane(jpeg)
    width, height, _ = plane
    if along == "row":
        bars, across = row(plane, height // 2), column(plane, width // 2)
    else:
        bars, across = column(plane, width // 2), row(plane, height // 2)
    # Each bar is one colour across: the bars run along `along` only.
    assert spread(across) <= 12, f"luma {min(across)}..{max(across)} across the bars"
    down, up = bar_steps(bars)
    if white_first:
        assert down > 3 * up, f"bars not white to black: {down} steps down, {up} up"
    else:
        assert up > 3 * down, f"bars not black to white: {up} steps up, {down} down"
    # The virtual camera grants any orientation and applies none: camstream does it all itself.
    assert "by the camera, " in server.stderr(), server.stderr()


def test_vflip_turns_the_diagonal_lines(start_camera_server):
    # Virtual1's lines fall from top right to bottom left (a pixel's colour depends on x + y):
    # flipped upside down, they fall from top left to bottom right.
    def along_diagonals(plane):
        width, height, samples = plane
        same_rising = same_falling = 0
        for y in range(40, height - 40, 20):
            for x in range(40, width - 40, 20):
                here = samples[y * width + x]
                same_rising += abs(samples[(y - 6) * width + x + 6] - here) < 16
                same_falling += abs(samples[(y + 6) * width + x + 6] - here) < 16
        return same_rising, same_falling

    upright = start_camera_server("--source", "libcamera", "--camera", "Virtual1")
    rising, falling = along_diagonals(luma_plane(snapshot(upright)))
    assert rising > falling + 50, (rising, falling)
    flipped = start_camera_server("--source", "libcamera", "--camera", "Virtual1", "--vflip")
    rising, falling = along_diagonals(luma_plane(snapshot(flipped)))
    assert falling > rising + 50, (rising, falling)


def test_rotated_stream_keeps_its_rate(start_camera_server):
    server = start_camera_server("--source", "libcamera", "--rotation", 90, "--fps", 30,
                                 "--always-on")
    with StreamClient(server.port, timeout=10.0) as viewer:
        viewer.start()
        viewer.read_parts(3)
        parts = viewer.count_parts_for(3.0)
    for part in parts[-3:]:
        assert_baseline_jpeg(part.jpeg, 480, 640)
    assert abs(len(parts) / 3.0 - 30) <= 3, f"{len(parts)} parts in 3 s at --fps 30"


# --- Controls (docs/api.md, "Controls and live settings") ------------------------------------------

def probe(*args):
    """Runs the controls probe in the root: its output and its "set ..." lines."""
    result = run_in_root(controls_probe(), *args, timeout=60)
    assert result.returncode == 0, result.stderr[-3000:]
    sets = [line for line in result.stdout.splitlines() if line.startswith("set ")]
    return result.stdout, sets


def probe_controls(output):
    """NAME -> (type, min, max, default, value, names) from the probe's first listing."""
    controls = {}
    for line in output.splitlines():
        if not line.startswith("control "):
            continue
        fields = line.split(" ")
        name = fields[1]
        if name in controls:
            break  # the second listing
        controls[name] = (*fields[2:7], fields[7].split(",") if len(fields) > 7 else [])
    return controls


def cam_controls(index):
    """NAME -> enum value names, as libcamera's own `cam --list-controls` shows them."""
    result = run_in_root("cam", "-c", index, "--list-controls")
    assert result.returncode == 0, result.stderr
    controls = {}
    name = None
    for line in result.stdout.splitlines():
        match = re.match(r"Control: (?:\[\w+\] )?(?:\w+::)*(\w+):", line)
        if match:
            name = match.group(1)
            controls[name] = []
        elif name and (value := re.match(r"\s+- (\w+) \(", line)):
            controls[name].append(value.group(1))
    return controls


@pytest.mark.parametrize("index,camera", [(1, "Virtual0"), (2, "Virtual1")])
def test_controls_are_what_libcamera_lists(index, camera):
    listed = cam_controls(index)
    output, _ = probe("--camera", camera)
    offered = probe_controls(output)
    # camstream sets FrameDurationLimits itself (--fps); arrays and rectangles have no place in
    # the list (ScalerCrop would be Zoom). Everything else libcamera lists is offered.
    expected = {name: names for name, names in listed.items() if name != "FrameDurationLimits"}
    assert set(offered) == set(expected), (offered, listed)
    for name, names in expected.items():
        if names:
            assert offered[name][0] == "enum", offered[name]
            assert offered[name][5] == names, (offered[name], names)
    # What the virtual camera of libcamera 0.7.1 offers: only FaceDetectMode (off).
    assert offered == {"FaceDetectMode": ("enum", "FaceDetectModeOff", "FaceDetectModeOff",
                                          "FaceDetectModeOff", "FaceDetectModeOff",
                                          ["FaceDetectModeOff"])}, offered


@pytest.mark.parametrize("assignment,error", [
    ("NoSuchControl=1", "NoSuchControl: unknown control"),
    ("FrameDurationLimits=33333", "FrameDurationLimits: unknown control"),
    ("FaceDetectMode=FaceDetectModeOn",
     "FaceDetectMode: 'FaceDetectModeOn' is not one of FaceDetectModeOff"),
    ("FaceDetectMode=0", "FaceDetectMode: '0' is not one of FaceDetectModeOff"),
    ("FaceDetectMode=", "FaceDetectMode: '' is not one of FaceDetectModeOff"),
    ("FaceDetectMode=" + "x" * 100000, "FaceDetectMode: 'xxxx"),
])
def test_refused_control_names_the_control_and_frames_flow(assignment, error):
    # The virtual camera has no numeric control: a value outside its one enumeration is what
    # "out of range" means there.
    output, sets = probe("--set", assignment)
    assert len(sets) == 1, output[-2000:]
    assert sets[0].startswith(f"set {assignment}: error {error}"), sets[0][:300]
    assert "frames 5" in output


def test_accepted_control_is_in_force():
    output, sets = probe("--set", "FaceDetectMode=FaceDetectModeOff", "--set", "Zoom=2")
    assert sets[0] == "set FaceDetectMode=FaceDetectModeOff: ok", sets
    # No ScalerCrop on the virtual camera, so no Zoom either.
    assert sets[1] == "set Zoom=2: error Zoom: unknown control", sets
    assert "frames 5" in output


# --- section 7 end to end: the WebSocket messages and live settings on a real libcamera ----


def test_controls_and_set_over_the_websocket(start_camera_server):
    server = start_camera_server("--source", "libcamera",
                                 "--control", "FaceDetectMode=FaceDetectModeOff")
    assert get_json(server.port)["camera_controls"] == {"FaceDetectMode": "FaceDetectModeOff"}
    url = f"ws://127.0.0.1:{server.port}/ws"

    async def scenario():
        async with websockets.connect(url, open_timeout=5) as ws:
            await ws.send(json.dumps({"type": "controls"}))
            listed = await ws_wait_for(ws, lambda m: m["type"] == "controls", 10, "controls")
            await ws.send(json.dumps({"type": "set", "controls": {"FaceDetectMode": "On"}}))
            refused = await ws_wait_for(ws, lambda m: m["type"] == "error", 10, "an error")
            await ws.send(json.dumps({"type": "set",
                                      "controls": {"FaceDetectMode": "FaceDetectModeOff"}}))
            accepted = await ws_wait_for(ws, lambda m: m["type"] == "controls", 10, "controls")
            return listed, refused, accepted

    listed, refused, accepted = run_async(scenario(), timeout=60)
    assert set(listed["controls"]) == {"FaceDetectMode"}, listed
    assert listed["controls"]["FaceDetectMode"]["values"] == ["FaceDetectModeOff"]
    assert refused["message"] == "FaceDetectMode: 'On' is not one of FaceDetectModeOff"
    assert accepted["controls"]["FaceDetectMode"]["value"] == "FaceDetectModeOff"


def test_bad_control_flag_exits_2_naming_it():
    result = run_camstream("--source", "libcamera", "--port", "0", "--control", "Zoom=2")
    assert result.returncode == 2, result.stderr[-2000:]
    assert "--control: Zoom: unknown control; this camera has FaceDetectMode" in result.stderr


def test_configure_reopens_the_camera_while_the_viewer_stays(start_camera_server):
    server = start_camera_server("--source", "libcamera", "--fps", 15)
    url = f"ws://127.0.0.1:{server.port}/ws"
    with StreamClient(server.port, timeout=20) as viewer:
        viewer.start()
        assert_baseline_jpeg(viewer.read_part(timeout=20).jpeg, 640, 480)

        async def configure(**fields):
            async with websockets.connect(url, open_timeout=5) as ws:
                await ws.send(json.dumps({"type": "configure", **fields}))
                return await ws_wait_for(
                    ws, lambda m: m["type"] == "error" or (
                        m["type"] == "status" and m["settings"]["width"] == fields["width"]
                        and m["settings"]["rotation"] == fields.get("rotation", 0)),
                    20, "the configured status")

        status = run_async(configure(width=1280, height=720), timeout=60)
        assert (status["width"], status["height"]) == (1280, 720), status
        sizes = [viewer.read_part(timeout=20).jpeg for _ in range(8)]
        assert_baseline_jpeg(sizes[-1], 1280, 720)
        status = run_async(configure(width=640, height=480, rotation=90), timeout=60)
        assert (status["width"], status["height"]) == (480, 640), status
        sizes = [viewer.read_part(timeout=20).jpeg for _ in range(8)]
        assert_baseline_jpeg(sizes[-1], 480, 640)
    # One acquisition per configuration, each released before the next.
    assert server.stderr().count("acquired") >= 3, server.stderr()[-3000:]
