"""Several cameras in one process (docs/api.md, "Several cameras in one process"): two test
sources of different sizes and rates declared as [camera.NAME] sections of a config file,
each at /cam/NAME/..., the first also at the single-camera URLs; the sections' errors; the
/cam/ path tricks.
"""

import json
import os
import subprocess
import tempfile
import time

import pytest
import websockets

from conftest import camstream_bin
from helpers import (BackgroundViewer, StreamClient, assert_baseline_jpeg, client_env,
                     ffprobe_size, get_json, get_metrics, get_text, http_get, metric, png_size,
                     run_async, ws_refusal_status, ws_wait_for)

# a: 320x240 at 20 frames/s; b: 160x120 at 5 frames/s.
TWO_CAMERAS = """\
# The defaults of both cameras.
source = test
idle-timeout = 1

[camera.a]
width = 320
height = 240
interval = 50

[camera.b]
width = 160
height = 120
fps = 5
quality = 60
"""

SIZES = {"a": (320, 240), "b": (160, 120)}


def write_config(text):
    handle = tempfile.NamedTemporaryFile("w", suffix=".conf", prefix="camstream-cams-",
                                         delete=False)
    with handle:
        handle.write(text)
    return handle.name


@pytest.fixture
def config_file():
    paths = []

    def make(text):
        path = write_config(text)
        paths.append(path)
        return path

    yield make
    for path in paths:
        os.unlink(path)


@pytest.fixture
def cameras(start_server, config_file):
    """A server with the cameras a and b (the command line says only where to listen)."""
    return start_server(width=None, height=None, interval=None, source=None,
                        extra=["-c", config_file(TWO_CAMERAS)])


def ws_url(server, path):
    return f"ws://127.0.0.1:{server.port}{path}"


async def send_and_wait(server, path, message, predicate, what):
    async with websockets.connect(ws_url(server, path), open_timeout=5) as ws:
        await ws_wait_for(ws, lambda m: m["type"] == "status", what="the first status")
        await ws.send(json.dumps(message))
        return await ws_wait_for(ws, predicate, what=what)


def wait_for_camera_state(port, name, wanted, timeout):
    deadline = time.monotonic() + timeout
    status = None
    while time.monotonic() < deadline:
        status = get_json(port, f"/cam/{name}/api/status")
        if status["state"] == wanted:
            return status
        time.sleep(0.05)
    raise AssertionError(f"camera {name} not {wanted} after {timeout}s: {status}")


def snapshot(server, path):
    response = http_get(server.port, path, timeout=10)
    assert response.status == 200, (path, response.status_line)
    return response.body


# --- each camera its own -------------------------------------------------------------------


def test_each_camera_streams_its_own_size_at_its_own_rate(cameras, scale):
    with BackgroundViewer(cameras.port, "/cam/a/stream") as viewer_a, \
            BackgroundViewer(cameras.port, "/cam/b/stream") as viewer_b:
        time.sleep(1.0)  # both streaming
        start = time.monotonic()
        time.sleep(3.0)
        end = time.monotonic()
        parts_a = viewer_a.parts_between(start, end)
        parts_b = viewer_b.parts_between(start, end)
    for part in parts_a:
        assert_baseline_jpeg(part.jpeg, 320, 240)
    for part in parts_b:
        assert_baseline_jpeg(part.jpeg, 160, 120)
    # ffmpeg decodes each at its own size too.
    assert ffprobe_size(parts_a[-1].jpeg) == (320, 240)
    assert ffprobe_size(parts_b[-1].jpeg) == (160, 120)
    rate_a = len(parts_a) / (end - start)
    rate_b = len(parts_b) / (end - start)
    # 20 and 5 frames/s; a debug build on a busy machine may lose some, never gain.
    assert 20 / scale * 0.6 <= rate_a <= 20 * 1.15, rate_a
    assert 5 / scale * 0.6 <= rate_b <= 5 * 1.25, rate_b


def test_the_single_camera_urls_are_the_first_camera(cameras):
    for path in ("/snapshot", "/snapshot.jpg", "/?action=snapshot"):
        assert_baseline_jpeg(snapshot(cameras, path), 320, 240)
    for path in ("/cam/b/snapshot", "/cam/b/snapshot.jpg", "/cam/b/?action=snapshot"):
        assert_baseline_jpeg(snapshot(cameras, path), 160, 120)
    for path, size in (("/stream", (320, 240)), ("/stream.mjpg", (320, 240)),
                       ("/?action=stream", (320, 240)), ("/cam/b/stream.mjpg", (160, 120)),
                       ("/cam/b/?action=stream", (160, 120)),
                       ("/cam/a/stream?fps=2", (320, 240))):
        with StreamClient(cameras.port, path, timeout=10) as client:
            client.start()
            assert_baseline_jpeg(client.read_part().jpeg, *size)
    # The query parameters are checked under /cam/ as elsewhere.
    status, _, body = get_text(cameras.port, "/cam/b/stream?fps=NaN")
    assert status == 400 and "fps" in body
    # /cam/NAME/ is the viewer page, which reaches its camera by relative URLs.
    status, headers, body = get_text(cameras.port, "/cam/b/")
    assert status == 200 and "<img" in body


def test_api_status_lists_every_camera_and_keeps_the_first_at_the_top(cameras):
    status = get_json(cameras.port)
    assert list(status["cameras"]) == ["a", "b"]
    assert (status["width"], status["height"]) == (320, 240)
    assert status["interval_ms"] == 50
    for name, (width, height) in SIZES.items():
        camera = status["cameras"][name]
        assert camera["type"] == "status"
        assert (camera["width"], camera["height"]) == (width, height)
    assert status["cameras"]["b"]["interval_ms"] == 200
    assert status["cameras"]["b"]["settings"]["quality"] == 60
    alone = get_json(cameras.port, "/cam/b/api/status")
    assert (alone["width"], alone["height"]) == (160, 120)
    assert "cameras" not in alone


def test_stopping_one_camera_leaves_the_other_streaming(cameras, scale):
    with BackgroundViewer(cameras.port, "/cam/b/stream") as viewer_b:
        wait_for_camera_state(cameras.port, "b", "streaming", 10 * scale)
        stopped = run_async(send_and_wait(cameras, "/cam/a/ws", {"type": "stop"},
                                          lambda m: m.get("state") == "stopped",
                                          "a stopped status"))
        assert (stopped["width"], stopped["height"]) == (320, 240)  # a's status, from a's /ws
        assert get_json(cameras.port)["state"] == "stopped"  # the top level is a
        before = len(viewer_b.parts)
        time.sleep(1.5)
        assert len(viewer_b.parts) - before >= 3, "b stopped streaming when a was stopped"
        assert get_json(cameras.port, "/cam/b/api/status")["state"] == "streaming"
        # a's snapshot says a is stopped; b's still answers.
        assert http_get(cameras.port, "/snapshot").status == 503
        assert http_get(cameras.port, "/cam/a/snapshot").status == 503
        assert_baseline_jpeg(snapshot(cameras, "/cam/b/snapshot"), 160, 120)
        run_async(send_and_wait(cameras, "/cam/a/ws", {"type": "start"},
                                lambda m: m.get("state") in ("starting", "streaming"),
                                "a starting again"))


def test_each_camera_starts_and_idles_on_its_own_demand(cameras, scale):
    assert get_json(cameras.port, "/cam/a/api/status")["state"] == "idle"
    assert get_json(cameras.port, "/cam/b/api/status")["state"] == "idle"
    with BackgroundViewer(cameras.port, "/cam/a/stream"):
        wait_for_camera_state(cameras.port, "a", "streaming", 10 * scale)
        time.sleep(1.5)  # longer than the idle timeout: b was never wanted
        assert get_json(cameras.port, "/cam/b/api/status")["state"] == "idle"
        with BackgroundViewer(cameras.port, "/cam/b/stream"):
            wait_for_camera_state(cameras.port, "b", "streaming", 10 * scale)
        # b's viewer left: b idles after its timeout while a streams on.
        wait_for_camera_state(cameras.port, "b", "idle", 5 * scale)
        assert get_json(cameras.port, "/cam/a/api/status")["state"] == "streaming"


def test_controls_and_configure_change_only_their_camera(cameras):
    reply = run_async(send_and_wait(cameras, "/cam/b/ws",
                                    {"type": "set", "controls": {"Brightness": 0.5}},
                                    lambda m: m["type"] in ("controls", "error"), "controls"))
    assert reply["controls"]["Brightness"]["value"] == 0.5
    reply = run_async(send_and_wait(cameras, "/cam/b/ws",
                                    {"type": "configure", "width": 96, "height": 64,
                                     "quality": 40},
                                    lambda m: m["type"] == "error" or (
                                        m["type"] == "status" and m["width"] == 96),
                                    "b's new size"))
    assert reply["type"] == "status", reply
    a = get_json(cameras.port, "/cam/a/api/status")
    b = get_json(cameras.port, "/cam/b/api/status")
    assert (a["width"], a["height"], a["settings"]["quality"]) == (320, 240, 80)
    assert a["camera_controls"] == {}
    assert (b["width"], b["height"], b["settings"]["quality"]) == (96, 64, 40)
    assert b["camera_controls"] == {"Brightness": 0.5}
    assert_baseline_jpeg(snapshot(cameras, "/cam/b/snapshot"), 96, 64)
    assert_baseline_jpeg(snapshot(cameras, "/snapshot"), 320, 240)
    # The first camera's /ws is still /ws: its controls are a's.
    reply = run_async(send_and_wait(cameras, "/ws", {"type": "controls"},
                                    lambda m: m["type"] == "controls", "controls"))
    assert reply["controls"]["Brightness"]["value"] == 0


def test_metrics_label_each_cameras_series(cameras):
    snapshot(cameras, "/cam/b/snapshot")
    samples = get_metrics(cameras.port)
    assert metric(samples, "camstream_frames_captured_total", '{camera="b"}') >= 1
    assert metric(samples, "camstream_frames_captured_total", '{camera="a"}') >= 0
    assert metric(samples, "camstream_capture_state", '{camera="b",state="streaming"}') == 1
    assert metric(samples, "camstream_capture_state", '{camera="a",state="idle"}') == 1
    assert metric(samples, "camstream_connections") >= 1  # server-wide: no label
    assert ("camstream_clients", "") not in samples


def test_the_single_camera_keeps_its_metrics_unlabelled(server):
    samples = get_metrics(server.port)
    assert metric(samples, "camstream_clients") == 0
    assert metric(samples, "camstream_capture_state", '{state="idle"}') == 1
    # Without sections the one camera is "default".
    assert list(get_json(server.port)["cameras"]) == ["default"]
    assert_baseline_jpeg(snapshot(server, "/cam/default/snapshot"), 320, 240)


def camera_outputs(port, name):
    return [(o["width"], o["height"], o["quality"], o["viewers"])
            for o in get_json(port, f"/cam/{name}/api/status")["outputs"]]


def test_a_sized_output_is_its_cameras_own(start_server, config_file, scale):
    """docs/api.md, "Outputs per viewer" under several cameras: an output is made from its
    camera's capture, listed in that camera's status and metrics, and --max-outputs bounds each
    camera on its own."""
    server = start_server(width=None, height=None, interval=None, source=None,
                          extra=["-c", config_file(TWO_CAMERAS), "--max-outputs", "1"])
    port = server.port
    with StreamClient(port, "/cam/b/stream?width=96", timeout=10 * scale) as sized:
        sized.start()
        for frame in sized.read_parts(2):
            assert_baseline_jpeg(frame.jpeg, 96, 72)  # b's 4:3, not a's picture
        # ffmpeg decodes the same output at that size.
        with tempfile.TemporaryDirectory(prefix="camstream-cams-") as workdir:
            png = os.path.join(workdir, "frame.png")
            result = subprocess.run(
                ["ffmpeg", "-v", "error", "-y", "-f", "mpjpeg", "-i",
                 server.url("/cam/b/stream?width=96"), "-frames:v", "2", "-update", "1", png],
                env=client_env(), capture_output=True, timeout=30 * scale)
            assert result.returncode == 0, result.stderr.decode()
            assert png_size(png) == (96, 72)
        # b lists it after its main stream (b's own size and quality); a lists only its own.
        b_outputs = camera_outputs(port, "b")
        assert b_outputs[0] == (160, 120, 60, 0) and b_outputs[1][:3] == (96, 72, 60), b_outputs
        assert len(b_outputs) == 2 and b_outputs[1][3] >= 1, b_outputs
        assert camera_outputs(port, "a") == [(320, 240, 80, 0)]
        assert [o["width"] for o in get_json(port)["cameras"]["b"]["outputs"]] == [160, 96]
        # A sized snapshot of b waits on the same output; bad values are 400s under /cam/ too.
        assert_baseline_jpeg(snapshot(server, "/cam/b/snapshot?width=96"), 96, 72)
        for bad in ("width=abc", "width=-2", "quality=1e9", "height=NaN", "width=96&width=96"):
            status, _, body = get_text(port, f"/cam/b/stream?{bad}")
            assert status == 400 and "bad query parameter" in body, (bad, status, body)
        # width=160 is b's own size: b's main stream, no second output of b's.
        with StreamClient(port, "/cam/b/stream?width=160", timeout=10 * scale) as main_b:
            main_b.start()
            assert_baseline_jpeg(main_b.read_part().jpeg, 160, 120)
        # --max-outputs 1 is b's bound: a may still have an output of its own ...
        with StreamClient(port, "/cam/a/stream?width=160", timeout=10 * scale) as sized_a:
            sized_a.start()
            assert_baseline_jpeg(sized_a.read_part().jpeg, 160, 120)
            assert [o[:3] for o in camera_outputs(port, "a")] == [(320, 240, 80),
                                                                  (160, 120, 80)]
            # ... while a second size on b is refused, naming the limit.
            refused = http_get(port, "/cam/b/stream?width=64", timeout=10 * scale)
            assert refused.status == 503 and b"--max-outputs" in refused.body, refused.body
            samples = get_metrics(port)
            assert metric(samples, "camstream_outputs", '{camera="a"}') == 1
            assert metric(samples, "camstream_outputs", '{camera="b"}') == 1
            assert metric(samples, "camstream_output_frames_encoded_total",
                          '{camera="b",width="96",height="72",quality="60"}') >= 2
            assert ("camstream_output_frames_encoded_total",
                    '{camera="a",width="96",height="72",quality="60"}') not in samples
            assert ("camstream_outputs", "") not in samples
        # The refusal disturbed no viewer of b's output.
        assert_baseline_jpeg(sized.read_part().jpeg, 96, 72)
    # The last viewer gone, b's output is released.
    deadline = time.monotonic() + 5 * scale
    while camera_outputs(port, "b") != [(160, 120, 60, 0)]:
        assert time.monotonic() < deadline, camera_outputs(port, "b")
        time.sleep(0.05)


# --- what is not a camera ------------------------------------------------------------------


@pytest.mark.parametrize("path", ["/cam/zz/stream", "/cam/zz/snapshot", "/cam/zz/api/status",
                                  "/cam/zz/", "/cam/zz/?action=stream"])
def test_an_unknown_camera_is_404_naming_it(cameras, path):
    status, _, body = get_text(cameras.port, path)
    assert status == 404
    assert body == "not found: no camera zz\n"


@pytest.mark.parametrize("path", [
    "/cam/../stream", "/cam/a%2Fb/stream", "/cam/A/stream", "/cam/a.b/stream",
    "/cam/" + "a" * 33 + "/stream", "/cam/" + "x" * 4000 + "/stream", "/cam//stream",
    "/cam/%61/stream", "/cam/a%00/stream", "/cam/<script>/stream"])
def test_path_tricks_are_404_without_repeating_them(cameras, path):
    response = http_get(cameras.port, path)
    assert response.status == 404, (path, response.status_line)
    assert b"camera name" in response.body
    assert b"script" not in response.body and b"%" not in response.body


@pytest.mark.parametrize("path", ["/cam/a", "/cam/", "/cam", "/cam/a/metrics", "/cam/a/healthz",
                                  "/cam/a/nope", "/cam/a/cam/b/stream"])
def test_other_cam_paths_are_404(cameras, path):
    assert http_get(cameras.port, path).status == 404, path


def test_a_websocket_to_an_unknown_camera_is_refused(cameras):
    async def attempt():
        try:
            async with websockets.connect(ws_url(cameras, "/cam/zz/ws"), open_timeout=5):
                return None
        except websockets.exceptions.InvalidHandshake as refused:
            return ws_refusal_status(refused)

    assert run_async(attempt()) == 404
    # The other cameras' WebSockets are undisturbed.
    reply = run_async(send_and_wait(cameras, "/cam/b/ws", {"type": "controls"},
                                    lambda m: m["type"] == "controls", "controls"))
    assert "Brightness" in reply["controls"]


def test_many_viewers_of_one_camera_do_not_disturb_the_other(cameras, scale):
    clients = []
    try:
        for _ in range(30):
            client = StreamClient(cameras.port, "/cam/a/stream", timeout=10)
            client.start()
            clients.append(client)
        with BackgroundViewer(cameras.port, "/cam/b/stream") as viewer_b:
            time.sleep(2.0)
            assert len(viewer_b.parts) >= 5 / scale, len(viewer_b.parts)
        assert get_json(cameras.port, "/cam/a/api/status")["clients"] == 30
        assert get_json(cameras.port)["cameras"]["b"]["clients"] == 0
    finally:
        for client in clients:
            client.close()


# --- the config file's sections ------------------------------------------------------------


def run_camstream(*args, timeout=20):
    return subprocess.run([camstream_bin(), *args], capture_output=True, timeout=timeout,
                          stdin=subprocess.DEVNULL)


@pytest.mark.parametrize("text, problem", [
    ("[camera.Front]\n", "line 1: [camera.Front]: a camera name is 1 to 32 of a-z"),
    ("[camera.a b]\n", "line 1: [camera.a b]: a camera name"),
    ("[camera.]\n", "line 1: [camera.]: a camera name"),
    ('[camera."a"]\n', "line 1: [camera.\"a\"]: a camera name"),
    ("[camera.a.b]\n", "line 1: [camera.a.b]: a camera name"),
    ("[camera." + "a" * 33 + "]\n", "line 1: [camera." + "a" * 33 + "]: a camera name"),
    ("[camera.a]\nwidth = 320\n\n[camera.a]\n", "line 4: [camera.a] given twice (first on line 1)"),
    ("[camera.a]\nbrightness = 1\n", "line 2: key 'brightness' of [camera.a]: unknown key"),
    ("[camera.a]\nport = 81\n",
     "line 2: key 'port' of [camera.a]: a server-wide key; put it before the first [camera.NAME]"),
    ("[camera.a]\nusers = /etc/passwd\n", "line 2: key 'users' of [camera.a]: a server-wide key"),
    ("[camera.a]\nencode-threads = 2\n", "key 'encode-threads' of [camera.a]: a server-wide key"),
    ("[camera.a]\nwidth = 320\nwidth = 640\n", "key 'width' of [camera.a]: given more than once"),
    ("[camera.a]\nwidth = -1\n", "line 2: key 'width' of [camera.a]: -1 not in"),
    ("[camera.a]\nwidth = NaN\n", "line 2: key 'width' of [camera.a]:"),
    ("[camera.a]\nquality = 99999999999999999999\n", "line 2: key 'quality' of [camera.a]:"),
    ("[camera.a]\nfps = 5\ninterval = 100\n", "[camera.a]: keys 'fps' and 'interval' cannot both"),
    ("[camera.a]\nsource = nope\n", "line 2: key 'source' of [camera.a]: 'nope' is not one of"),
    ("[camera.a]\nsource = test\ncamera-format = mjpeg\n", "key 'camera-format' of [camera.a]"),
    ("[camera.a]\nsource-insecure = true\n", "key 'source-insecure' of [camera.a]: needs --source"),
    ("[camera]\nwidth = 320\n", "unknown section '[camera]'"),
    ("[cameras.a]\n", "unknown section"),
])
def test_bad_sections_exit_2_naming_the_line(config_file, text, problem):
    path = config_file(text)
    result = run_camstream("-c", path, "--port", "0", "--bind", "127.0.0.1")
    assert result.returncode == 2, result.stderr.decode()
    error = result.stderr.decode()
    assert f"camstream: config file {path}" in error
    assert problem in error, error


def test_at_most_16_cameras(config_file, start_server):
    seventeen = "source = test\nwidth = 32\nheight = 32\n" + "".join(
        f"[camera.c{i}]\n" for i in range(17))
    result = run_camstream("-c", config_file(seventeen), "--port", "0")
    assert result.returncode == 2
    assert "line 20: [camera.c16]: more than 16 cameras" in result.stderr.decode()
    thousand = "".join(f"[camera.c{i}]\n" for i in range(1000))
    result = run_camstream("-c", config_file(thousand), "--port", "0")
    assert result.returncode == 2 and "more than 16 cameras" in result.stderr.decode()

    sixteen = "source = test\nwidth = 32\nheight = 32\n" + "".join(
        f"[camera.c{i}]\n" for i in range(16))
    server = start_server(width=None, height=None, interval=None, source=None,
                          extra=["-c", config_file(sixteen)])
    status = get_json(server.port)
    assert list(status["cameras"]) == [f"c{i}" for i in range(16)]
    assert_baseline_jpeg(snapshot(server, "/cam/c15/snapshot"), 32, 32)


def test_command_line_camera_flags_are_every_cameras_defaults(start_server, config_file):
    # --quality applies to both; b's own quality and size win for b.
    server = start_server(width=None, height=None, interval=None, source=None,
                          extra=["-c", config_file(TWO_CAMERAS), "--quality", "33",
                                 "--width", "64", "--height", "48"])
    status = get_json(server.port)
    assert status["cameras"]["a"]["settings"]["quality"] == 33
    assert status["cameras"]["b"]["settings"]["quality"] == 60
    assert (status["cameras"]["a"]["width"], status["cameras"]["b"]["width"]) == (320, 160)


def test_a_bad_control_names_its_camera(config_file):
    text = "source = test\n[camera.a]\n[camera.b]\ncontrol = Focus=1\n"
    result = run_camstream("-c", config_file(text), "--port", "0", "--bind", "127.0.0.1")
    assert result.returncode == 2
    error = result.stderr.decode()
    assert "camera b: " in error and "Focus: unknown control" in error, error


def test_sighup_and_shutdown_cover_every_camera(cameras, scale):
    import signal

    viewers = [StreamClient(cameras.port, f"/cam/{name}/stream", timeout=10) for name in "ab"]
    try:
        for viewer in viewers:
            viewer.start()
            viewer.read_part()
        cameras.proc.send_signal(signal.SIGHUP)
        time.sleep(0.5)
        for viewer in viewers:
            viewer.read_part()  # SIGHUP without --users leaves every viewer watching
        code, took = cameras.stop()
        assert code == 0
        for viewer in viewers:
            with pytest.raises((EOFError, ConnectionError)):
                for _ in range(100):
                    viewer.read_part(timeout=5)
    finally:
        for viewer in viewers:
            viewer.close()
