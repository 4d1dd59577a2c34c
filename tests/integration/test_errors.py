"""docs/usage.md, docs/api.md: error answers, client limits, usage errors, IPv6."""

import socket
import subprocess
import time

import pytest

from conftest import LISTENING_RE, camstream_bin
from helpers import (BackgroundViewer, StreamClient, assert_baseline_jpeg, connect, get_json,
                     http_exchange, http_get, request_bytes, timeout_scale)


def raw(method_line, *headers, body=b""):
    lines = [method_line, "Host: 127.0.0.1", *headers, "", ""]
    return "\r\n".join(lines).encode() + body


BIG_HEADER = "X-Padding: " + "a" * (64 * 1024)
MANY_HEADERS = tuple(f"X-Header-{i}: {'b' * 60}" for i in range(1200))

BAD_REQUESTS = [
    ("unknown path", raw("GET /no/such/page HTTP/1.1"), 404),
    ("unknown file", raw("GET /stream.avi HTTP/1.1"), 404),
    ("malformed request line", b"GARBAGE\r\n\r\n", 400),
    ("request line without version", b"GET /stream\r\nHost: x\r\n\r\n", 400),
    ("header line without colon", raw("GET /healthz HTTP/1.1", "This is not a header"), 400),
    ("64 KiB header line", raw("GET /healthz HTTP/1.1", BIG_HEADER), 431),
    ("1200 header lines", raw("GET /healthz HTTP/1.1", *MANY_HEADERS), 431),
]


@pytest.mark.parametrize("name,request_bytes_,status", BAD_REQUESTS,
                         ids=[case[0] for case in BAD_REQUESTS])
def test_bad_request_answers(server, name, request_bytes_, status):
    response = http_exchange(server.port, request_bytes_)
    assert response.status == status, f"{name}: {response.status_line!r}"
    assert get_json(server.port)["state"] in ("idle", "starting", "streaming")


@pytest.mark.parametrize("method,path", [("POST", "/stream"), ("PUT", "/snapshot"),
                                         ("DELETE", "/"), ("POST", "/api/status"),
                                         ("PATCH", "/?action=stream")])
def test_other_methods_get_405_with_allow(server, method, path):
    response = http_exchange(server.port,
                             raw(f"{method} {path} HTTP/1.1", "Content-Length: 0"))
    assert response.status == 405, f"{method} {path}: {response.status_line!r}"
    allow = response.header("allow")
    assert allow is not None, "405 without Allow"
    methods = {item.strip() for item in allow.split(",")}
    assert {"GET", "HEAD"} <= methods, f"Allow: {allow}"


def test_errors_do_not_disturb_a_viewer(server, scale):
    with BackgroundViewer(server.port) as viewer:
        time.sleep(0.5)
        started = time.monotonic()
        rounds = 0
        while time.monotonic() - started < 3.0:
            for name, request, status in BAD_REQUESTS:
                assert http_exchange(server.port, request).status == status, name
            assert http_exchange(server.port, raw("POST /stream HTTP/1.1",
                                                  "Content-Length: 0")).status == 405
            # A client that connects and leaves mid-request.
            with connect(server.port) as sock:
                sock.sendall(b"GET /stream HTTP/1.1\r\nHost: 127.0.0.1\r\nX-Half")
            rounds += 1
        ended = time.monotonic()
        parts = viewer.parts_between(started, ended)
        viewer.stop()
    assert rounds >= 2
    expected = 20 * (ended - started)
    assert len(parts) >= expected * 0.85 / scale, \
        f"viewer got {len(parts)} frames of ~{expected:.0f} during the bad requests"
    for part in parts[-3:]:
        assert_baseline_jpeg(part.jpeg, 320, 240)


def test_max_clients(start_server, scale):
    server = start_server(extra=["--max-clients", "2"])
    first = StreamClient(server.port)
    second = StreamClient(server.port)
    try:
        first.start()
        second.start()
        first.read_part()
        second.read_part()
        third = http_get(server.port, "/stream", timeout=5)
        assert third.status == 503, third.status_line
        retry_after = third.header("retry-after")
        assert retry_after is not None and retry_after.isdigit(), f"Retry-After: {retry_after}"
        # The limit is on streams: other endpoints still answer.
        assert http_get(server.port, "/healthz").status == 200
        first.read_part()
        second.read_part()
    finally:
        first.close()
    try:
        # Once a viewer leaves, a new one gets in.
        deadline = time.monotonic() + 3 * scale
        while True:
            with StreamClient(server.port) as again:
                head = again.read_head()
                if head.status == 200 or time.monotonic() > deadline:
                    assert head.status == 200, "freed stream slot not reused"
                    break
            time.sleep(0.1)
        second.read_part()
    finally:
        second.close()


def run_camstream(args, timeout=10):
    result = subprocess.run([camstream_bin(), *args], capture_output=True,
                            timeout=timeout * timeout_scale(), stdin=subprocess.DEVNULL)
    return result.returncode, result.stdout.decode(errors="replace"), \
        result.stderr.decode(errors="replace")


BASE = ["--source", "test", "--bind", "127.0.0.1", "--port", "0"]


USAGE_ERRORS = [
    (["--quality", "0"], ["--quality"]),
    (["--quality", "101"], ["--quality"]),
    (["--width", "abc"], ["--width"]),
    (["--height", "-5"], ["--height"]),
    (["--fps", "10", "--interval", "100"], ["--fps", "--interval"]),
    (["--no-such-flag"], ["--no-such-flag"]),
    (["--config", "/nonexistent/camstream.conf"], ["/nonexistent/camstream.conf"]),
    (["--source", "webcam"], ["--source"]),
    (["--rotation", "45"], ["--rotation"]),
    (["--port", "70000"], ["--port"]),
]


@pytest.mark.parametrize("args,names", USAGE_ERRORS,
                         ids=[" ".join(args) for args, _ in USAGE_ERRORS])
def test_usage_errors_exit_2_naming_the_flag(args, names):
    code, out, err = run_camstream(BASE + args)
    assert code == 2, f"{args}: exit {code}\n{out}{err}"
    assert "listening on" not in out
    message = out + err
    assert any(name in message for name in names), \
        f"{args}: message does not name {names}:\n{message}"


def test_help_and_version_exit_0():
    code, out, _ = run_camstream(["--help"])
    assert code == 0 and "--interval" in out and "--idle-timeout" in out
    code, out, _ = run_camstream(["--version"])
    assert code == 0 and out.strip()


def test_port_in_use_exits_1(scale):
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as holder:
        holder.bind(("127.0.0.1", 0))
        holder.listen()
        port = holder.getsockname()[1]
        code, out, err = run_camstream(["--source", "test", "--bind", "127.0.0.1",
                                        "--port", str(port)])
    message = out + err
    assert code == 1, f"exit {code}:\n{message}"
    assert "listening on" not in out
    assert str(port) in message and "in use" in message.lower(), \
        f"message does not say the port is in use:\n{message}"


def ipv6_loopback_available():
    if not socket.has_ipv6:
        return False
    try:
        with socket.socket(socket.AF_INET6, socket.SOCK_STREAM) as probe:
            probe.bind(("::1", 0))
        return True
    except OSError:
        return False


needs_ipv6 = pytest.mark.skipif(not ipv6_loopback_available(), reason="no IPv6 loopback")


@needs_ipv6
def test_bind_ipv6_loopback(start_server):
    server = start_server(bind="::1")
    assert server.host == "::1", server.listening_line
    assert http_get(server.port, "/healthz", host="::1").status == 200
    with StreamClient(server.port, host="::1") as viewer:
        viewer.start()
        assert_baseline_jpeg(viewer.read_part().jpeg, 320, 240)


@needs_ipv6
def test_bind_any_serves_ipv4_and_ipv6(start_server):
    server = start_server(bind="::")
    assert LISTENING_RE.search(server.listening_line)
    assert http_get(server.port, "/healthz", host="::1").status == 200
    assert http_get(server.port, "/healthz", host="127.0.0.1").status == 200


def test_request_split_across_writes(server):
    """A request that arrives a few bytes at a time still works."""
    with connect(server.port) as sock:
        for chunk in (b"GET /hea", b"lthz HTTP/1.1\r\nHo", b"st: 127.0.0.1\r\n", b"\r\n"):
            sock.sendall(chunk)
            time.sleep(0.05)
        data = b""
        deadline = time.monotonic() + 5
        while b"ok" not in data and time.monotonic() < deadline:
            chunk = sock.recv(4096)
            if not chunk:
                break
            data += chunk
    assert data.startswith(b"HTTP/1.1 200"), data[:100]


def test_head_request_line_for_unknown_path(server):
    response = http_exchange(server.port, request_bytes("HEAD", "/nope", server.port))
    assert response.status == 404
