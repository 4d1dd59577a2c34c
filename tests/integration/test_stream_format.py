"""docs/api.md, "The stream": the stream, checked byte by byte with a raw socket."""

import socket
import time

import pytest

from helpers import (DELIMITER, PART_END, TIMESTAMP_RE, StreamClient, assert_baseline_jpeg,
                     connect, read_to_eof, read_until, request_bytes)

WIDTH, HEIGHT = 320, 240


def test_response_head_is_exact(server):
    with StreamClient(server.port) as viewer:
        head = viewer.read_head()
        assert head.status_line == b"HTTP/1.1 200 OK"
        assert head.header("content-type") == \
            "multipart/x-mixed-replace; boundary=camstreamframe"
        assert head.header("cache-control") == "no-store, no-cache, must-revalidate, max-age=0"
        assert head.header("pragma") == "no-cache"
        assert head.header("x-accel-buffering") == "no"
        assert head.header("connection").lower() == "close"
        assert head.header("content-length") is None, "a stream has no Content-Length"
        assert head.header("transfer-encoding") is None, "a stream must not be chunked"
        # The body starts at once with the delimiter: no preamble, no blank line.
        first = viewer.read_exact(len(DELIMITER), time.monotonic() + 5)
        assert first == b"--camstreamframe\r\n"


def test_parts_are_exact_and_decodable(server, scale):
    with StreamClient(server.port) as viewer:
        viewer.start()
        parts = viewer.read_parts(12)
    timestamps = []
    for part in parts:
        assert [name for name, _ in part.headers] == \
            ["content-type", "content-length", "x-timestamp"], part.raw_header_lines
        assert part.header("content-type") == "image/jpeg"
        assert int(part.header("content-length")) == len(part.jpeg)
        stamp = part.header("x-timestamp").encode()
        assert TIMESTAMP_RE.match(stamp), f"X-Timestamp not seconds.micro: {stamp!r}"
        timestamps.append(float(stamp))
        # Capture time: a fresh frame is at most a frame interval (and encoding) old.
        age = time.time() - float(stamp)
        assert -0.05 < age < 1.0 * scale, f"X-Timestamp {stamp!r} is {age:.3f} s old"
        for line in part.raw_header_lines:
            assert len(line) + 2 < 128
        assert_baseline_jpeg(part.jpeg, WIDTH, HEIGHT)
    assert timestamps == sorted(timestamps) and len(set(timestamps)) == len(timestamps), \
        f"capture timestamps must increase: {timestamps}"
    distinct = len({part.jpeg for part in parts})
    assert distinct >= len(parts) - 1, f"the test picture must move: {distinct} distinct frames"


def test_delimiter_is_sent_with_the_frame(start_server):
    """The delimiter ending a frame must not wait for the next frame (1 frame/s here)."""
    server = start_server(interval=1000)
    with StreamClient(server.port, timeout=10) as viewer:
        viewer.start()
        viewer.read_part(timeout=10)
        headers, _ = viewer.read_part_headers(time.monotonic() + 10)
        length = int(dict(headers)["content-length"])
        jpeg = viewer.read_exact(length, time.monotonic() + 10)
        got_jpeg = time.monotonic()
        trailer = viewer.read_exact(len(PART_END), time.monotonic() + 0.5)
        assert trailer == PART_END
        assert time.monotonic() - got_jpeg < 0.5, "delimiter came late"
        assert_baseline_jpeg(jpeg, WIDTH, HEIGHT)


def test_full_rate(server, scale):
    with StreamClient(server.port) as viewer:
        viewer.start()
        viewer.read_parts(3)
        parts = viewer.count_parts_for(3.0)
    rate = len(parts) / 3.0
    assert 20 * (0.85 / scale) <= rate <= 22, f"{rate:.1f} frames/s at --interval 50"


def test_fps_query_caps_only_that_viewer(server, scale):
    with StreamClient(server.port, "/stream?fps=2") as slow, \
            StreamClient(server.port) as fast:
        slow.start()
        fast.start()
        slow.read_part()
        fast.read_part()
        # Read both in turns so neither stalls: the fast one for 2 s, then whatever the slow
        # one has (it keeps at most a few frames in the socket buffers).
        started = time.monotonic()
        fast_parts = fast.count_parts_for(2.0)
        slow_parts = []
        drain_end = time.monotonic() + 0.5
        while time.monotonic() < drain_end:
            try:
                slow_parts.append(slow.read_part(timeout=0.05))
            except socket.timeout:
                break
        elapsed = time.monotonic() - started
    assert len(slow_parts) <= 5, f"?fps=2 viewer got {len(slow_parts)} frames in {elapsed:.1f}s"
    assert len(slow_parts) >= 2, f"?fps=2 viewer got only {len(slow_parts)} frames"
    assert len(fast_parts) >= 40 * 0.85 / scale, f"other viewer got {len(fast_parts)} in 2 s"


def test_fps_query_rate_over_time(server):
    with StreamClient(server.port, "/stream?fps=2") as slow:
        slow.start()
        slow.read_part()
        parts = slow.count_parts_for(3.0, WIDTH, HEIGHT)
    assert 4 <= len(parts) <= 7, f"?fps=2 gave {len(parts)} frames in 3 s"


def test_advance_headers(start_server):
    """After each delimiter the next part's headers come at once, without Content-Length."""
    server = start_server(interval=500)
    with StreamClient(server.port, "/stream?advance_headers=1", timeout=10) as viewer:
        head = viewer.read_head()
        assert head.status == 200
        assert head.header("content-type") == \
            "multipart/x-mixed-replace; boundary=camstreamframe"
        viewer.expect(DELIMITER, time.monotonic() + 5, "body starts with the delimiter")
        for index in range(4):
            delimiter_at = time.monotonic()
            headers, lines = viewer.read_part_headers(time.monotonic() + 5)
            headers_at = time.monotonic()
            names = [name for name, _ in headers]
            assert "content-length" not in names, f"advance headers with length: {lines}"
            assert dict(headers).get("content-type") == "image/jpeg", lines
            body, viewer.buffer = read_until(viewer.sock, PART_END, viewer.buffer,
                                             limit=4 << 20, deadline=time.monotonic() + 5)
            jpeg_at = time.monotonic()
            assert_baseline_jpeg(body[:-len(PART_END)], WIDTH, HEIGHT)
            if index >= 1:  # the first delimiter may have come just before a frame
                assert headers_at - delimiter_at < 0.15, \
                    f"headers came {headers_at - delimiter_at:.3f}s after the delimiter"
                assert jpeg_at - headers_at > 0.2, \
                    "headers should arrive well before the next frame (interval 500 ms)"


@pytest.mark.parametrize("path", ["/stream?timestamp=123", "/stream?foo=bar&type=.mjpg",
                                  "/stream.mjpg", "/?action=stream",
                                  "/webcam/?action=stream", "/webcam/?action=stream&t=1"])
def test_stream_aliases_and_unknown_parameters(server, path):
    with StreamClient(server.port, path) as viewer:
        head = viewer.start()
        assert head.header("content-type") == \
            "multipart/x-mixed-replace; boundary=camstreamframe"
        for part in viewer.read_parts(3):
            assert_baseline_jpeg(part.jpeg, WIDTH, HEIGHT)


def test_head_stream_has_head_and_no_body(server):
    with connect(server.port) as sock:
        sock.sendall(request_bytes("HEAD", "/stream", server.port))
        head, rest = read_until(sock, b"\r\n\r\n", deadline=time.monotonic() + 5)
        assert head.startswith(b"HTTP/1.1 200 OK\r\n")
        assert b"multipart/x-mixed-replace; boundary=camstreamframe" in head
        try:
            rest = read_to_eof(sock, rest, timeout=2)
        except socket.timeout:
            pass  # keeping the connection open is fine, sending a body is not
        assert rest == b"", f"HEAD got a body: {rest[:100]!r}"


def test_odd_size_is_rounded_down(start_server):
    server = start_server(width=321, height=241)
    with StreamClient(server.port) as viewer:
        viewer.start()
        part = viewer.read_part()
    assert_baseline_jpeg(part.jpeg, 320, 240)
