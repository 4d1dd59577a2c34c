"""docs/api.md, "Controls and live settings", on the test source: camera controls (`controls`, `set`, --control),
live settings (`configure`) while viewers watch, and a snapshot larger than the stream.

Every change is checked where a user sees it: in the picture (decoded by ffmpeg), in the parts
an open stream receives, in the status, and in real clients that keep playing (ffmpeg, VLC)
across a size change. Abuse: every field and control given wrong, and a burst of
reconfigurations while another viewer watches undisturbed.
"""

import json
import os
import subprocess
import tempfile

import websockets

from helpers import (BackgroundViewer, StreamClient, client_env, decoded_luma, ffprobe_size,
                     get_json, get_metrics, http_get, jpeg_info, metric, run_async, run_vlc,
                     ws_wait_for)


def ws_url(server):
    return f"ws://127.0.0.1:{server.port}/ws"


async def exchange(server, *messages, answer=lambda m: m.get("type") in ("controls", "error")):
    """Sends each message on one connection; returns the answer to each (the first message
    that `answer` accepts, skipping the status broadcasts)."""
    answers = []
    async with websockets.connect(ws_url(server), open_timeout=5) as ws:
        await ws_wait_for(ws, lambda m: m["type"] == "status", what="the first status")
        for message in messages:
            await ws.send(message if isinstance(message, str) else json.dumps(message))
            answers.append(await ws_wait_for(ws, answer, what=f"an answer to {message}"))
    return answers


def configure(server, **fields):
    """Sends one configure; returns the status or error that answers it."""
    (reply,) = run_async(exchange(
        server, {"type": "configure", **fields},
        answer=lambda m: m["type"] == "error" or (
            m["type"] == "status" and all(
                m["settings"].get(k) == v for k, v in fields.items() if k in m["settings"]))))
    return reply


def snapshot(server):
    response = http_get(server.port, "/snapshot", timeout=10)
    assert response.status == 200, response.status_line
    return response.body


def wait_until(condition, timeout):
    import time

    deadline = time.monotonic() + timeout
    while not condition():
        assert time.monotonic() < deadline, "condition not met in time"
        time.sleep(0.05)


def wait_for_parts(viewer, count, timeout=10.0):
    """Waits until the background viewer has `count` parts (it keeps receiving)."""
    import time

    deadline = time.monotonic() + timeout
    while len(viewer.parts) < count:
        assert time.monotonic() < deadline, f"{len(viewer.parts)} parts, not {count}"
        assert viewer.error is None, viewer.error
        time.sleep(0.05)


def mean_luma(jpeg):
    width, height = jpeg_info(jpeg)[:2]
    luma = decoded_luma(jpeg, width, height)
    return sum(luma) / len(luma)


# --- controls ------------------------------------------------------------------------------


def test_controls_lists_the_test_sources_controls(server):
    (reply,) = run_async(exchange(server, {"type": "controls"}))
    assert reply["type"] == "controls", reply
    controls = reply["controls"]
    assert set(controls) == {"Brightness", "Contrast", "Zoom"}
    assert controls["Brightness"] == {"type": "float", "min": -1, "max": 1, "default": 0,
                                      "value": 0}
    assert controls["Contrast"]["min"] == 0 and controls["Contrast"]["max"] == 2
    assert controls["Zoom"]["min"] == 1 and controls["Zoom"]["max"] == 8


def test_set_changes_the_picture_and_is_reported(server):
    before = mean_luma(snapshot(server))
    (reply,) = run_async(exchange(server, {"type": "set", "controls": {"Brightness": 0.6}}))
    assert reply["type"] == "controls", reply
    assert reply["controls"]["Brightness"]["value"] == 0.6
    after = mean_luma(snapshot(server))
    # Brightness 0.6 lifts every pixel by far more than frame-to-frame motion moves the mean.
    assert after > before + 40, (before, after)
    status = get_json(server.port)
    assert status["camera_controls"] == {"Brightness": 0.6}


def test_set_refusals_name_the_control_and_keep_the_connection(server):
    with BackgroundViewer(server.port) as viewer:
        refusals = [
            ({"type": "set", "controls": {"Focus": 1}}, "Focus: unknown control"),
            ({"type": "set", "controls": {"Brightness": 2}}, "Brightness: 2 not in -1..1"),
            ({"type": "set", "controls": {"Brightness": -1e308}}, "Brightness: -1e+308 not in"),
            ({"type": "set", "controls": {"Brightness": "bright"}}, "Brightness: expected float"),
            ({"type": "set", "controls": {"Brightness": True}}, "Brightness: expected float"),
            ({"type": "set", "controls": {"Brightness": [1]}}, "Brightness: expected a number"),
            ({"type": "set", "controls": {"Brightness": None}}, "Brightness: expected a number"),
            ({"type": "set", "controls": {"Zoom": 18446744073709551615}}, "Zoom: "),
            ({"type": "set"}, 'set: expected "controls"'),
            ({"type": "set", "controls": [1, 2]}, 'set: expected "controls"'),
            ('{"type":"set","controls":{"Brightness":NaN}}', "invalid JSON"),
            # All or none: the good value is not applied beside the refused one.
            ({"type": "set", "controls": {"Contrast": 1.5, "Zoom": 0}}, "Zoom: 0 not in 1..8"),
        ]
        replies = run_async(exchange(server, *(message for message, _ in refusals)))
        for (message, expected), reply in zip(refusals, replies):
            assert reply["type"] == "error", (message, reply)
            assert reply["message"].startswith(expected), (message, reply)
        status = get_json(server.port)
        assert status["camera_controls"] == {}
        wait_for_parts(viewer, len(viewer.parts) + 3)


def test_controls_persist_across_stop_and_start(server):
    run_async(exchange(server, {"type": "set", "controls": {"Contrast": 1.5, "Zoom": 2}}))

    async def stop_then_start():
        async with websockets.connect(ws_url(server), open_timeout=5) as ws:
            await ws.send(json.dumps({"type": "stop"}))
            await ws_wait_for(ws, lambda m: m.get("state") == "stopped", what="stopped")
            await ws.send(json.dumps({"type": "start"}))
            await ws_wait_for(ws, lambda m: m.get("state") == "streaming", what="streaming")
            await ws.send(json.dumps({"type": "controls"}))
            return await ws_wait_for(ws, lambda m: m["type"] == "controls")

    reply = run_async(stop_then_start())
    assert reply["controls"]["Contrast"]["value"] == 1.5
    assert reply["controls"]["Zoom"]["value"] == 2
    assert get_json(server.port)["camera_controls"] == {"Contrast": 1.5, "Zoom": 2}


def test_control_flag_and_config_file(start_server):
    with tempfile.TemporaryDirectory() as folder:
        config = os.path.join(folder, "camstream.conf")
        with open(config, "w") as file:
            file.write('control = ["Brightness=0.25", "Zoom=3"]\n')
        server = start_server(extra=["-c", config, "--control", "Zoom=2",
                                     "--control", "Contrast=+1.25"])
        # The command line's Zoom wins over the file's; the file's Brightness stays.
        assert get_json(server.port)["camera_controls"] == {
            "Brightness": 0.25, "Contrast": 1.25, "Zoom": 2}


def test_bad_control_flags_exit_2_naming_the_problem(start_server):
    cases = [
        (["--control", "Brightness=2"], "--control: Brightness: 2 not in -1..1"),
        (["--control", "Focus=1"], "--control: Focus: unknown control; this camera has "
                                   "Brightness, Contrast, Zoom"),
        (["--control", "Brightness=nan"], "--control: Brightness: 'nan' is not a number"),
        (["--control", "Brightness"], "--control: 'Brightness' is not NAME=VALUE"),
        (["--control", "=1"], "--control: '=1' is not NAME=VALUE"),
        (["--control", "Brightness="], "--control: 'Brightness=' is not NAME=VALUE"),
        (["--control", "Bright ness=1"], "--control: 'Bright ness=1' is not NAME=VALUE"),
    ]
    for extra, message in cases:
        server = start_server(wait=False, extra=extra)
        assert server.proc.wait(20) == 2, (extra, server.output())
        assert message in server.output(), (extra, server.output()[-2000:])


# --- configure -----------------------------------------------------------------------------


def test_configure_changes_size_rate_and_quality_without_closing_a_viewer(server):
    with StreamClient(server.port) as viewer:
        viewer.start()
        first = viewer.read_part(timeout=5)
        assert jpeg_info(first.jpeg)[:2] == (320, 240)
        status = configure(server, width=640, height=480, fps=10, quality=50)
        assert status["type"] == "status", status
        assert status["settings"]["width"] == 640 and status["settings"]["height"] == 480
        assert status["settings"]["interval_ms"] == 100 and status["settings"]["quality"] == 50
        assert (status["width"], status["height"]) == (640, 480)
        # The same connection goes on with the new size.
        sizes = [jpeg_info(viewer.read_part(timeout=5).jpeg)[:2] for _ in range(8)]
        assert sizes[-1] == (640, 480), sizes
        assert set(sizes) <= {(320, 240), (640, 480)}, sizes
    assert get_json(server.port)["interval_ms"] == 100


def test_configure_rotation_swaps_the_size_live(server):
    with StreamClient(server.port) as viewer:
        viewer.start()
        viewer.read_part(timeout=5)
        status = configure(server, rotation=90, hflip=True)
        assert (status["width"], status["height"]) == (240, 320), status
        sizes = [jpeg_info(viewer.read_part(timeout=5).jpeg)[:2] for _ in range(6)]
        assert sizes[-1] == (240, 320), sizes
    assert ffprobe_size(snapshot(server)) == (240, 320)


def test_configure_refusals_name_the_field(server):
    bad = [
        ({"width": 7}, "width: 7 not in 16..7680"),
        ({"width": 100000000000000000000}, "width: 1e+20 is not a whole number"),
        ({"width": 640.5}, "width: 640.5 is not a whole number"),
        ({"width": "640"}, "width: expected a whole number"),
        ({"height": -480}, "height: -480 not in 16..4320"),
        ({"fps": 0}, "fps: 0 not in 1/60..1000"),
        ({"fps": 1e300}, "fps: 1e+300 not in 1/60..1000"),
        ({"fps": 10, "interval_ms": 100}, "configure: give fps or interval_ms, not both"),
        ({"interval_ms": 0}, "interval_ms: 0 not in 1..60000"),
        ({"quality": 101}, "quality: 101 not in 1..100"),
        ({"rotation": 45}, "rotation: 45 is not one of 0, 90, 180, 270"),
        ({"hflip": "yes"}, "hflip: expected true or false"),
        ({"snapshot_width": [1]}, "snapshot_width: expected a value"),
        ({"brightness": 1}, 'configure: unknown field "brightness": expected any of width'),
    ]
    replies = run_async(exchange(server, *({"type": "configure", **fields} for fields, _ in bad)))
    for (fields, expected), reply in zip(bad, replies):
        assert reply["type"] == "error", (fields, reply)
        assert reply["message"].startswith(expected), (fields, reply)
    status = get_json(server.port)
    assert status["settings"]["width"] == 320 and status["settings"]["quality"] == 80


def test_configure_odd_size_is_rounded_down_as_on_the_command_line(server):
    (status,) = run_async(exchange(
        server, {"type": "configure", "width": 481, "height": 361},
        answer=lambda m: m["type"] == "error" or (
            m["type"] == "status" and m["settings"]["width"] != 320)))
    assert (status["settings"]["width"], status["settings"]["height"]) == (480, 360), status


def test_a_burst_of_reconfigurations_disturbs_no_viewer(server, scale):
    with BackgroundViewer(server.port) as viewer:
        sizes = [{"width": 320, "height": 240}, {"width": 160, "height": 120},
                 {"width": 640, "height": 480, "rotation": 270}]

        async def burst():
            async with websockets.connect(ws_url(server), open_timeout=5) as ws:
                for i in range(150):
                    await ws.send(json.dumps({"type": "configure", **sizes[i % 3]}))
                await ws.send(json.dumps({"type": "configure", "width": 320, "height": 240,
                                          "rotation": 0}))
                await ws_wait_for(ws, lambda m: m.get("type") == "status" and
                                  m["settings"]["width"] == 320 and m["settings"]["rotation"] == 0,
                                  timeout=30 * scale, what="the last configure")

        run_async(burst(), timeout=60 * scale)
        # Parts of the burst's sizes may still be in the socket buffers: the viewer reaches the
        # last size, and stays there.
        wait_until(lambda: jpeg_info(viewer.parts[-1].jpeg)[:2] == (320, 240), 10 * scale)
        seen = len(viewer.parts)
        wait_for_parts(viewer, seen + 5)
        assert {jpeg_info(part.jpeg)[:2] for part in viewer.parts[seen:]} == {(320, 240)}
    assert get_json(server.port)["state"] == "streaming"


def test_ffmpeg_keeps_decoding_across_a_size_change(server, scale):
    # showinfo logs each decoded frame's size at the info level.
    command = ["ffmpeg", "-nostats", "-v", "info", "-f", "mjpeg", "-i", server.url("/stream"),
               "-t", "4", "-vf", "showinfo", "-f", "null", "-"]
    with subprocess.Popen(command, env=client_env(), stderr=subprocess.PIPE,
                          stdin=subprocess.DEVNULL) as ffmpeg:
        import time
        time.sleep(1.5)
        configure(server, width=640, height=480)
        _, errors = ffmpeg.communicate(timeout=30 * scale)
    log = errors.decode(errors="replace")
    assert ffmpeg.returncode == 0, log[-3000:]
    assert " s:320x240 " in log and " s:640x480 " in log, log[-3000:]
    last = [line for line in log.splitlines() if " s:" in line][-1]
    assert " s:640x480 " in last, last


def test_vlc_keeps_playing_across_a_size_change(server, scale):
    with tempfile.TemporaryDirectory(prefix="camstream-vlc-", dir="/tmp") as workdir:
        log, pictures = run_vlc(server.url("/stream"), workdir, 6 * scale, scale,
                                during=lambda: configure(server, width=640, height=480))
    formats = [line for line in log.splitlines() if "original format sz" in line]
    assert any("vsz 320x240," in line for line in formats), formats
    assert any("vsz 640x480," in line for line in formats), (formats, log[-3000:])
    assert len(pictures) >= 20, f"VLC wrote {len(pictures)} pictures:\n{log[-3000:]}"


# --- snapshot size -------------------------------------------------------------------------


def test_snapshot_larger_than_the_stream_comes_from_one_capture(start_server):
    server = start_server(extra=["--snapshot-width", "1280", "--snapshot-height", "960"])
    with StreamClient(server.port) as viewer:
        viewer.start()
        assert jpeg_info(viewer.read_part(timeout=5).jpeg)[:2] == (320, 240)
        assert ffprobe_size(snapshot(server)) == (1280, 960)
        assert jpeg_info(viewer.read_part(timeout=5).jpeg)[:2] == (320, 240)
    status = get_json(server.port)
    assert (status["width"], status["height"]) == (320, 240)
    assert (status["settings"]["snapshot_width"], status["settings"]["snapshot_height"]) == \
        (1280, 960)
    # Live: a smaller snapshot, scaled from the stream's capture.
    status = configure(server, snapshot_width=160, snapshot_height=120)
    assert status["type"] == "status", status
    assert ffprobe_size(snapshot(server)) == (160, 120)
    status = configure(server, snapshot_width=320, snapshot_height=240)
    assert ffprobe_size(snapshot(server)) == (320, 240)


def test_snapshots_are_encoded_only_when_asked_for(start_server):
    server = start_server(extra=["--snapshot-width", "1280", "--snapshot-height", "960"])
    with BackgroundViewer(server.port) as viewer:
        wait_for_parts(viewer, 10)
        assert snapshots_encoded(server) == 0
        assert ffprobe_size(snapshot(server)) == (1280, 960)
        wait_for_parts(viewer, len(viewer.parts) + 10)
        # One request, one large encode (two if a frame was being encoded as it arrived).
        assert 1 <= snapshots_encoded(server) <= 2
        assert all(jpeg_info(part.jpeg)[:2] == (320, 240) for part in viewer.parts)


def snapshots_encoded(server):
    return metric(get_metrics(server.port), "camstream_snapshots_encoded_total")
