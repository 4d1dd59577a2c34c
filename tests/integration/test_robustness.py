"""docs/api.md, "none of these disturbs another client": churn, floods, odd clients."""

import asyncio
import json
import socket
import threading
import time

import websockets

from helpers import (BackgroundViewer, StreamClient, assert_baseline_jpeg, connect, get_json,
                     http_exchange, http_get, read_until, request_bytes, run_async,
                     ws_receive_json, ws_wait_for)


def test_connection_churn_leaves_the_server_healthy(server, scale):
    """Hundreds of viewers that come and go at every stage of a request.

    The 300 connections are spread over at least 2 s, so that the viewer's frame count over
    the churn means something even when a release build could get through them in a few
    milliseconds."""
    connections, least_duration = 300, 2.0
    with BackgroundViewer(server.port) as viewer:
        started = time.monotonic()
        for index in range(connections):
            pause = started + index * least_duration / connections - time.monotonic()
            if pause > 0:
                time.sleep(pause)
            with connect(server.port) as sock:
                stage = index % 4
                if stage >= 1:
                    sock.sendall(b"GET /stream HTTP/1.1\r\nHost: 127.0.0.1\r\n")
                if stage >= 2:
                    sock.sendall(b"\r\n")
                if stage == 3:
                    read_until(sock, b"--camstreamframe\r\n", deadline=time.monotonic() + 5)
                if index % 2:  # abortive close: RST instead of FIN
                    sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER,
                                    b"\x01\x00\x00\x00\x00\x00\x00\x00")
        ended = time.monotonic()
        time.sleep(0.5)
        status = get_json(server.port)
        parts = viewer.parts_between(started, ended)
        viewer.stop()
    assert status["clients"] == 1, f"connections leaked: {status}"
    expected = 20 * (ended - started)
    assert len(parts) >= expected * 0.8 / scale, \
        f"viewer got {len(parts)} of ~{expected:.0f} frames during the churn"


def test_pipelined_requests_are_all_answered(server):
    with connect(server.port) as sock:
        sock.sendall(request_bytes("GET", "/healthz", server.port) * 3)
        data = b""
        deadline = time.monotonic() + 5
        while data.count(b"HTTP/1.1 200") < 3 and time.monotonic() < deadline:
            sock.settimeout(max(0.01, deadline - time.monotonic()))
            chunk = sock.recv(65536)
            if not chunk:
                break
            data += chunk
    assert data.count(b"HTTP/1.1 200") == 3, data


def test_http_10_client_gets_the_stream(server):
    """Old clients (and some camera tools) still speak HTTP/1.0."""
    with connect(server.port) as sock:
        sock.sendall(b"GET /?action=stream HTTP/1.0\r\n\r\n")
        head, rest = read_until(sock, b"\r\n\r\n", deadline=time.monotonic() + 5)
        assert head.split(b" ")[1] == b"200", head
        assert b"boundary=camstreamframe" in head
        assert b"chunked" not in head.lower()
        body, _ = read_until(sock, b"\r\n--camstreamframe\r\n", rest, limit=4 << 20,
                             deadline=time.monotonic() + 5)
    assert body.startswith(b"--camstreamframe\r\nContent-Type: image/jpeg\r\n")
    jpeg = body[body.index(b"\r\n\r\n") + 4:-len(b"\r\n--camstreamframe\r\n")]
    assert_baseline_jpeg(jpeg, 320, 240)


def test_slow_request_does_not_block_others(server):
    """A client that sends its request a byte at a time must not hold anyone up."""
    with connect(server.port) as slow:
        slow.sendall(b"GET /str")
        started = time.monotonic()
        for _ in range(5):
            assert http_get(server.port, "/healthz").status == 200
        with StreamClient(server.port) as viewer:
            viewer.start()
            viewer.read_parts(3)
        assert time.monotonic() - started < 5
        slow.sendall(b"eam HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n")
        head, _ = read_until(slow, b"\r\n\r\n", deadline=time.monotonic() + 5)
        assert head.startswith(b"HTTP/1.1 200")


def test_concurrent_snapshots_from_idle(server, scale):
    assert get_json(server.port)["state"] == "idle"
    results = [None] * 16

    def fetch(index):
        try:
            results[index] = http_get(server.port, "/snapshot", timeout=10 * scale)
        except Exception as error:  # reported below
            results[index] = error

    threads = [threading.Thread(target=fetch, args=(i,)) for i in range(len(results))]
    started = time.monotonic()
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(15 * scale)
    took = time.monotonic() - started
    for result in results:
        assert not isinstance(result, Exception) and result is not None, result
        assert result.status == 200, result.status_line
        assert_baseline_jpeg(result.body, 320, 240)
    assert took < 5 * scale, f"16 snapshots from idle took {took:.1f} s"


def test_websocket_flood_does_not_hurt_others(server):
    """A control client that sends thousands of requests and reads nothing."""

    async def scenario():
        async with websockets.connect(f"ws://127.0.0.1:{server.port}/ws", open_timeout=5,
                                      close_timeout=2, compression=None) as bystander:
            await ws_receive_json(bystander)
            flooder = await websockets.connect(f"ws://127.0.0.1:{server.port}/ws",
                                               open_timeout=5, close_timeout=1,
                                               compression=None, max_queue=1)
            try:
                for _ in range(3000):
                    await flooder.send(json.dumps({"type": "status"}))
                await asyncio.sleep(0.5)
            except websockets.exceptions.ConnectionClosed:
                pass  # the server may drop a client that does not read its answers
            finally:
                flooder.transport.abort()
            await bystander.send(json.dumps({"type": "status"}))
            status = await ws_wait_for(bystander, lambda m: m.get("type") == "status", 3,
                                       "status for the bystander")
            return status

    status = run_async(scenario(), timeout=30)
    assert status["controls"] >= 1
    assert http_exchange(server.port, request_bytes("GET", "/healthz", server.port)).status == 200
    time.sleep(0.5)
    assert get_json(server.port)["controls"] == 0, "flooding client not cleaned up"
