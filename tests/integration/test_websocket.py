"""docs/api.md: the control WebSocket, the capture lifecycle, status and metrics.

Uses Debian's python3-websockets (10.x: the asyncio client; websockets.sync needs 11.0).
"""

import asyncio
import json
import time

import websockets

from helpers import (BackgroundViewer, PartCounter, StreamClient, assert_baseline_jpeg,
                     get_json, get_metrics, get_text, http_get, open_viewers, parse_metrics,
                     run_async, wait_for_state, ws_close_code, ws_receive_json,
                     ws_refusal_status, ws_wait_for)

WIDTH, HEIGHT, INTERVAL = 320, 240, 50
STATUS_FIELDS = {"type", "state", "source", "camera", "width", "height", "interval_ms", "fps",
                 "clients", "controls", "frames", "error"}
STATES = {"idle", "starting", "streaming", "stopped", "error"}


def ws_connect(server, origin=None):
    return websockets.connect(f"ws://127.0.0.1:{server.port}/ws", origin=origin,
                              open_timeout=5, close_timeout=2, compression=None)


async def send_json(ws, message):
    await ws.send(json.dumps(message))


def is_status(message):
    return message.get("type") == "status"


def state_is(*states):
    return lambda message: is_status(message) and message.get("state") in states


def is_error(message):
    return message.get("type") == "error"


def assert_status_shape(status, server_state=None):
    missing = STATUS_FIELDS - set(status)
    assert not missing, f"status lacks {missing}: {status}"
    assert status["type"] == "status"
    assert status["state"] in STATES
    assert status["source"] == "test"
    assert status["camera"] is None or isinstance(status["camera"], str)
    assert (status["width"], status["height"]) == (WIDTH, HEIGHT)
    assert status["interval_ms"] == INTERVAL
    assert isinstance(status["fps"], (int, float)) and status["fps"] >= 0
    for field in ("clients", "controls", "frames"):
        assert isinstance(status[field], int) and status[field] >= 0, (field, status)
    assert status["error"] is None or isinstance(status["error"], str)
    if server_state is not None:
        assert status["state"] == server_state, status


def test_status_on_connect_and_on_request(server):
    async def scenario():
        async with ws_connect(server) as ws:
            first = await ws_receive_json(ws, 3)
            assert_status_shape(first, "idle")
            assert first["clients"] == 0 and first["controls"] == 1
            assert first["error"] is None
            await send_json(ws, {"type": "status"})
            answer = await ws_wait_for(ws, is_status, 3, "status answer")
            assert_status_shape(answer, "idle")
            async with ws_connect(server) as other:
                assert (await ws_receive_json(other, 3))["controls"] == 2
            # A state change caused by someone else is pushed without asking.
            with StreamClient(server.port) as viewer:
                viewer.start()
                pushed = await ws_wait_for(ws, state_is("streaming"), 3, "pushed streaming")
                assert pushed["clients"] == 1, pushed

    run_async(scenario())


def test_start_without_viewers_streams(server, scale):
    async def scenario():
        async with ws_connect(server) as ws:
            await ws_wait_for(ws, state_is("idle"), 3, "initial idle status")
            await send_json(ws, {"type": "start"})
            await ws_wait_for(ws, state_is("streaming"), 5 * scale, "streaming status")
            first = get_json(server.port)
            await asyncio.sleep(1.0)
            second = get_json(server.port)
            assert second["state"] == "streaming"
            assert second["frames"] - first["frames"] >= 20 * 0.7 / scale, (first, second)
            # While capturing, a status arrives about once a second without being asked.
            pushed = []
            started = time.monotonic()
            while time.monotonic() - started < 3.2:
                try:
                    message = await ws_receive_json(ws, 0.2)
                except asyncio.TimeoutError:
                    continue
                if is_status(message):
                    pushed.append(message)
            assert 2 <= len(pushed) <= 6, f"{len(pushed)} status pushes in 3.2 s"
            assert pushed[-1]["fps"] > 20 * 0.7 / scale, pushed[-1]
            assert pushed[-1]["frames"] > pushed[0]["frames"]

    run_async(scenario())


def test_stop_sends_placeholder_and_start_resumes(server, scale):
    async def scenario():
        async with ws_connect(server) as ws:
            await ws_receive_json(ws)
            await ws_wait_for(ws, state_is("streaming"), 5 * scale, "streaming with a viewer")
            await send_json(ws, {"type": "stop"})
            await ws_wait_for(ws, state_is("stopped"), 3 * scale, "stopped status")
            stopped_at = time.monotonic()
            await asyncio.sleep(1.0)
            # A new viewer does not restart capture and gets the placeholder too.
            late = StreamClient(server.port, timeout=5)
            late.start()
            late_part = late.read_part(timeout=2.5)
            late.close()
            assert get_json(server.port)["state"] == "stopped"
            await asyncio.sleep(max(0.0, stopped_at + 3.5 - time.monotonic()))
            await send_json(ws, {"type": "start"})
            await ws_wait_for(ws, state_is("streaming"), 5 * scale, "streaming after start")
            started_at = time.monotonic()
            await asyncio.sleep(2.0)
            return stopped_at, started_at, late_part

    viewer = BackgroundViewer(server.port)
    try:
        stopped_at, started_at, late_part = run_async(scenario(), 30 * scale)
    finally:
        parts = viewer.stop()
    assert parts, "viewer got nothing"
    stopped_parts = [p for p in parts if stopped_at + 0.3 <= p.arrived < stopped_at + 3.3]
    assert 2 <= len(stopped_parts) <= 5, \
        f"{len(stopped_parts)} placeholder frames in 3 s while stopped (want ~1 per second)"
    for part in stopped_parts:
        assert_baseline_jpeg(part.jpeg, WIDTH, HEIGHT)
    assert len({part.jpeg for part in stopped_parts}) == 1, \
        "the STOPPED placeholder must be one static picture"
    assert_baseline_jpeg(late_part.jpeg, WIDTH, HEIGHT)
    assert late_part.jpeg == stopped_parts[0].jpeg, "new viewer did not get the placeholder"
    resumed = [p for p in parts if started_at + 0.5 <= p.arrived < started_at + 2.0]
    assert len(resumed) >= 30 * 0.8 / scale, f"only {len(resumed)} frames in 1.5 s after start"
    assert resumed[-1].jpeg != stopped_parts[0].jpeg


def test_stop_outlives_the_control_client(server, scale):
    """stop overrides demand until the next start, even after its sender has left."""

    async def send_and_leave(message, wanted_state):
        async with ws_connect(server) as ws:
            await ws_receive_json(ws)
            await send_json(ws, message)
            await ws_wait_for(ws, state_is(wanted_state), 5 * scale, wanted_state)

    with BackgroundViewer(server.port) as viewer:
        wait_for_state(server.port, "streaming", 5 * scale)
        run_async(send_and_leave({"type": "stop"}, "stopped"))
        left_at = time.monotonic()
        time.sleep(2.5)
        assert get_json(server.port)["state"] == "stopped"
        placeholders = viewer.parts_between(left_at + 0.2, left_at + 2.5)
        assert 1 <= len(placeholders) <= 4, f"{len(placeholders)} parts in 2.3 s while stopped"
        run_async(send_and_leave({"type": "start"}, "streaming"))
        time.sleep(1.0)
        assert get_json(server.port)["state"] == "streaming", \
            "capture must go on for the viewer after the starting control client left"
        resumed = viewer.parts_between(time.monotonic() - 0.8, time.monotonic())
        viewer.stop()
    assert len(resumed) >= 16 * 0.7 / scale, f"{len(resumed)} frames in 0.8 s after start"


def test_first_frame_comes_quickly_from_idle(server, scale):
    """OctoPrint gives up after 5 s: the first picture must come well before."""
    assert get_json(server.port)["state"] == "idle"
    connected = time.monotonic()
    with StreamClient(server.port) as viewer:
        viewer.start()
        part = viewer.read_part(timeout=5)
    latency = part.arrived - connected
    assert latency < 1.0 * scale, f"first frame {latency:.2f} s after connecting while idle"
    assert_baseline_jpeg(part.jpeg, WIDTH, HEIGHT)


BAD_MESSAGES = [
    ("invalid JSON", "this is not json"),
    ("truncated JSON", '{"type": "sta'),
    ("unknown type", '{"type": "dance"}'),
    ("type not a string", '{"type": 5}'),
    ("no type", "{}"),
    ("array", '["start"]'),
    ("string", '"start"'),
    ("number", "42"),
    ("null", "null"),
    ("binary", b"\x00\x01\x02{\"type\":\"status\"}"),
    ("over 4 KiB", json.dumps({"type": "status", "padding": "x" * 5000})),
    ("60 KiB", json.dumps({"type": "start", "padding": "y" * 60000})),
    ("1 MiB", json.dumps({"type": "stop", "padding": "z" * (1 << 20)})),
]


def test_bad_messages_get_an_error_and_the_connection_stays(server):
    async def scenario():
        async with ws_connect(server) as ws:
            await ws_receive_json(ws)
            for name, message in BAD_MESSAGES:
                await ws.send(message)
                error = await ws_wait_for(ws, is_error, 3, f"error for {name}")
                assert isinstance(error.get("message"), str) and error["message"], \
                    f"{name}: error without a message: {error}"
                await send_json(ws, {"type": "status"})
                status = await ws_wait_for(ws, is_status, 3, f"status after {name}")
                assert status["state"] == "idle", f"{name} changed the state: {status}"

    run_async(scenario())
    assert http_get(server.port, "/healthz").status == 200


def test_huge_message_does_not_hurt_the_server(server):
    """A 1 MiB message gets an error; another client is not held up meanwhile."""

    async def scenario():
        async with ws_connect(server) as bystander:
            await ws_receive_json(bystander)
            async with ws_connect(server) as ws:
                await ws_receive_json(ws)
                await ws.send(json.dumps({"type": "stop", "padding": "z" * (1 << 20)}))
                await send_json(bystander, {"type": "status"})
                await ws_wait_for(bystander, is_status, 3, "status for the bystander")
                reply = await ws_wait_for(ws, is_error, 3, "error for the 1 MiB message")
                assert "too large" in reply["message"], reply
                await send_json(ws, {"type": "status"})
                status = await ws_wait_for(ws, is_status, 3, "status after the 1 MiB message")
                assert status["state"] == "idle", "the huge message must not have been obeyed"

    run_async(scenario())
    assert http_get(server.port, "/healthz").status == 200


def test_idle_timeout_releases_capture(start_server, scale):
    server = start_server(extra=["--idle-timeout", "2"])
    assert get_json(server.port)["state"] == "idle"
    with StreamClient(server.port) as viewer:
        viewer.start()
        viewer.read_parts(3)
        assert get_json(server.port)["state"] == "streaming"
    left_at = time.monotonic()

    async def scenario():
        async with ws_connect(server) as ws:
            await ws_receive_json(ws)
            await asyncio.sleep(max(0.0, left_at + 0.7 - time.monotonic()))
            status = get_json(server.port)
            assert status["state"] == "streaming", \
                f"capture released {time.monotonic() - left_at:.1f}s after the viewer left " \
                f"with --idle-timeout 2: {status}"
            idle = await ws_wait_for(ws, state_is("idle"), 2 + 2 * scale, "idle status push")
            return idle, time.monotonic() - left_at

    idle, after = run_async(scenario())
    assert after >= 1.5, f"idle after {after:.1f}s with --idle-timeout 2"
    assert idle["clients"] == 0


def test_snapshot_starts_capture_on_demand(start_server, scale):
    server = start_server(extra=["--idle-timeout", "1"])
    assert get_json(server.port)["state"] == "idle"
    snapshot = http_get(server.port, "/snapshot", timeout=10 * scale)
    assert snapshot.status == 200
    assert snapshot.header("content-type") == "image/jpeg"
    assert_baseline_jpeg(snapshot.body, WIDTH, HEIGHT)
    assert get_json(server.port)["state"] in ("streaming", "starting")
    wait_for_state(server.port, "idle", 1 + 3 * scale)


def test_control_start_keeps_capture_while_connected(start_server, scale):
    server = start_server(extra=["--idle-timeout", "1"])

    async def scenario():
        async with ws_connect(server) as ws:
            await ws_receive_json(ws)
            await send_json(ws, {"type": "start"})
            await ws_wait_for(ws, state_is("streaming"), 5 * scale, "streaming")
            await asyncio.sleep(2.5)  # beyond the idle timeout, with no viewer
            assert get_json(server.port)["state"] == "streaming"

    run_async(scenario())
    # The control client has gone: demand ends, and capture stops after the idle timeout.
    wait_for_state(server.port, "idle", 1 + 3 * scale)


def test_always_on_refuses_stop(start_server, scale):
    server = start_server(extra=["--always-on"])
    wait_for_state(server.port, "streaming", 3 * scale)

    async def scenario():
        async with ws_connect(server) as ws:
            await ws_receive_json(ws)
            await send_json(ws, {"type": "stop"})
            error = await ws_wait_for(ws, is_error, 3, "error refusing stop")
            assert error.get("message")
            await asyncio.sleep(0.5)
            assert get_json(server.port)["state"] == "streaming"

    run_async(scenario())
    first = get_json(server.port)["frames"]
    time.sleep(1.0)
    assert get_json(server.port)["frames"] > first, "always-on capture is not running"


def ws_status_code(server, origin):
    """Returns 101 when the upgrade is accepted, else the HTTP status of the refusal."""

    async def attempt():
        try:
            async with ws_connect(server, origin) as ws:
                assert is_status(await ws_receive_json(ws))
                return 101
        except websockets.exceptions.InvalidHandshake as refused:
            status = ws_refusal_status(refused)
            assert status is not None, f"handshake failed without an HTTP status: {refused!r}"
            return status

    return run_async(attempt())


def test_origin_check_default(server):
    assert ws_status_code(server, "http://evil.example") == 403
    assert ws_status_code(server, "http://127.0.0.1:1") == 403
    assert ws_status_code(server, f"http://127.0.0.1:{server.port}") == 101
    assert ws_status_code(server, None) == 101
    assert http_get(server.port, "/api/status").header("access-control-allow-origin") is None


def test_allow_origin(start_server):
    server = start_server(extra=["--allow-origin", "http://evil.example"])
    assert ws_status_code(server, "http://evil.example") == 101
    assert ws_status_code(server, "http://other.example") == 403
    assert ws_status_code(server, f"http://127.0.0.1:{server.port}") == 101
    for path in ("/api/status", "/healthz", "/snapshot", "/metrics", "/"):
        response = http_get(server.port, path, timeout=10)
        assert response.header("access-control-allow-origin") == "http://evil.example", path
    with StreamClient(server.port) as viewer:
        head = viewer.start()
        assert head.header("access-control-allow-origin") == "http://evil.example"


def test_api_status_matches_websocket_status(server):
    async def scenario():
        async with ws_connect(server) as ws:
            return await ws_receive_json(ws)

    ws_status = run_async(scenario())
    response = http_get(server.port, "/api/status")
    assert response.status == 200
    assert response.header("content-type").startswith("application/json")
    api_status = json.loads(response.body)
    # /api/status adds every camera's status (docs/api.md, "Several cameras in one process").
    cameras = api_status.pop("cameras")
    assert list(cameras) == ["default"] and set(cameras["default"]) == set(ws_status), cameras
    assert set(api_status) == set(ws_status), (api_status, ws_status)
    assert_status_shape(api_status, "idle")
    with StreamClient(server.port) as viewer:
        viewer.start()
        viewer.read_parts(3)
        status = get_json(server.port)
        assert status["state"] == "streaming" and status["clients"] == 1
        assert status["frames"] >= 3


def test_metrics(server):
    with StreamClient(server.port) as viewer:
        viewer.start()
        viewer.read_parts(10)
        status, headers, text = get_text(server.port, "/metrics")
    assert status == 200
    content_type = {k.lower(): v for k, v in headers.items()}["content-type"]
    assert content_type.startswith("text/plain"), content_type
    samples, types = parse_metrics(text)
    names = {name for name, _ in samples}
    for counter in ("camstream_frames_sent_total", "camstream_frames_encoded_total",
                    "camstream_frames_captured_total", "camstream_bytes_sent_total"):
        assert counter in names, f"{counter} missing:\n{text}"
        assert types.get(counter) == "counter" or \
            types.get(counter.removesuffix("_total")) == "counter", f"{counter} type"
    assert samples[("camstream_frames_sent_total", "")] >= 10
    assert samples[("camstream_bytes_sent_total", "")] > 10 * 1000
    assert samples[("camstream_frames_captured_total", "")] >= 10
    dropped = [labels for name, labels in samples if name == "camstream_frames_dropped_total"]
    assert dropped and all("reason=" in labels for labels in dropped), dropped
    assert types.get("camstream_clients") == "gauge"
    assert samples[("camstream_clients", "")] == 1
    assert types.get("camstream_encode_seconds") == "histogram"
    buckets = {labels: value for (name, labels), value in samples.items()
               if name == "camstream_encode_seconds_bucket"}
    assert '{le="+Inf"}' in buckets, buckets
    count = samples[("camstream_encode_seconds_count", "")]
    assert buckets['{le="+Inf"}'] == count
    assert sorted(buckets.values()) == [buckets[k] for k in sorted(
        buckets, key=lambda k: float(k.split('"')[1].replace("+Inf", "inf")))], \
        "histogram buckets must be cumulative"
    assert samples[("camstream_encode_seconds_sum", "")] > 0
    assert any(name.startswith("camstream_capture_state") for name in names), names


def test_one_encode_per_frame_whatever_the_viewers(server, scale):
    viewers = open_viewers(server.port, 5)
    try:
        PartCounter(viewers).run(0.5)
        before = get_metrics(server.port)
        counts = PartCounter(viewers).run(2.0)
        after = get_metrics(server.port)
    finally:
        for viewer in viewers:
            viewer.close()

    def delta(name):
        return after[(name, "")] - before[(name, "")]

    captured = delta("camstream_frames_captured_total")
    encoded = delta("camstream_frames_encoded_total")
    sent = delta("camstream_frames_sent_total")
    assert captured >= 40 * 0.7 / scale, f"captured {captured} in 2 s"
    assert abs(encoded - captured) <= 2, f"encoded {encoded} for {captured} captured frames"
    assert sent >= 5 * encoded * 0.85, f"sent {sent} for {encoded} frames to 5 viewers"
    assert after[("camstream_clients", "")] == 5
    assert min(counts) >= 0.85 * captured, counts
