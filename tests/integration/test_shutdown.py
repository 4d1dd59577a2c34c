"""docs/usage.md, docs/api.md: the listening line, and graceful shutdown on SIGTERM / SIGINT."""

import signal
import time

import pytest
import websockets

from helpers import (CLOSE_DELIMITER, PART_END, StreamClient, connect, http_get, read_to_eof,
                     read_until, request_bytes, run_async, ws_close_code,
                     ws_receive_json)


def test_listening_line_reports_the_real_port(server):
    assert server.listening_line.strip() == f"listening on http://127.0.0.1:{server.port}/"
    assert server.port not in (0, 8080)
    assert http_get(server.port, "/healthz").status == 200
    with open("/proc/net/tcp") as table:
        listening = [line.split() for line in table.readlines()[1:]]
    # local_address is HEX_IP:HEX_PORT, state 0A is LISTEN; 0100007F is 127.0.0.1.
    assert any(row[1] == f"0100007F:{server.port:04X}" and row[3] == "0A" for row in listening)


def assert_rest_is_parts_then_close(rest):
    """What a viewer receives after its last complete part: more whole parts, then the
    close delimiter, then nothing."""
    assert rest.endswith(CLOSE_DELIMITER), f"stream did not end with the close delimiter: " \
                                           f"{rest[-80:]!r}"
    rest = rest[:-len(CLOSE_DELIMITER)]
    while rest:
        head_end = rest.index(b"\r\n\r\n") + 4
        length = [line for line in rest[:head_end].split(b"\r\n")
                  if line.lower().startswith(b"content-length:")]
        assert length, f"unexpected bytes before the close delimiter: {rest[:80]!r}"
        end = head_end + int(length[0].split(b":")[1])
        assert rest[end:end + len(PART_END)] == PART_END
        rest = rest[end + len(PART_END):]


@pytest.mark.parametrize("sig", [signal.SIGTERM, signal.SIGINT], ids=["SIGTERM", "SIGINT"])
def test_signal_closes_viewers_cleanly(server, sig, scale):
    viewers = [StreamClient(server.port) for _ in range(3)]
    try:
        for viewer in viewers:
            viewer.start()
            viewer.read_parts(2)
        signalled = time.monotonic()
        server.proc.send_signal(sig)
        for viewer in viewers:
            rest = read_to_eof(viewer.sock, viewer.buffer, timeout=3 * scale)
            assert_rest_is_parts_then_close(rest)
        code, _ = server.stop(sig, timeout=5 * scale)
        took = time.monotonic() - signalled
    finally:
        for viewer in viewers:
            viewer.close()
    assert code == 0, f"exit code {code} after {sig.name}:\n{server.stderr()[-2000:]}"
    assert took < 2 * scale, f"exit took {took:.2f} s after {sig.name}"


def test_shutdown_with_stalled_viewer_and_control_client(server, scale):
    """A viewer that reads nothing and a WebSocket client must not hold up the exit."""
    stalled = connect(server.port, rcvbuf=4096)
    stalled.sendall(request_bytes("GET", "/stream", server.port))
    reader = StreamClient(server.port)
    reader.start()
    reader.read_parts(3)
    time.sleep(0.5)  # the stalled socket fills up

    async def control_client_sees_close():
        async with websockets.connect(f"ws://127.0.0.1:{server.port}/ws", open_timeout=5,
                                      close_timeout=2) as ws:
            await ws_receive_json(ws)
            server.proc.send_signal(signal.SIGTERM)
            try:
                while True:
                    await ws.recv()
            except websockets.exceptions.ConnectionClosed as closed:
                return closed

    try:
        signalled = time.monotonic()
        closed = run_async(control_client_sees_close(), timeout=5 * scale)
        code, _ = server.stop(timeout=5 * scale)
        took = time.monotonic() - signalled
        rest = read_to_eof(reader.sock, reader.buffer, timeout=3 * scale)
    finally:
        stalled.close()
        reader.close()
    assert code == 0
    assert took < 2 * scale, f"exit took {took:.2f} s with a stalled viewer"
    assert ws_close_code(closed) in (1000, 1001), f"WebSocket closed with {ws_close_code(closed)}"
    assert_rest_is_parts_then_close(rest)


def test_advance_headers_viewer_gets_the_close_delimiter(server, scale):
    with StreamClient(server.port, "/stream?advance_headers=1") as viewer:
        viewer.read_head()
        read_until(viewer.sock, b"\r\n--camstreamframe\r\n", viewer.buffer, limit=4 << 20,
                   deadline=time.monotonic() + 5)
        server.proc.send_signal(signal.SIGTERM)
        rest = read_to_eof(viewer.sock, b"", timeout=3 * scale)
    code, _ = server.stop(timeout=5 * scale)
    assert code == 0
    assert rest.endswith(b"\r\n--camstreamframe--\r\n"), rest[-60:]
