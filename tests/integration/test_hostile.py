"""Hostile clients (docs/api.md): each attack that once hurt camstream, driven exactly, and
each time a well-behaved client alongside that must not notice.

The control cascade, capped viewers that leave, the descriptor limit, --max-connections,
piling snapshot waiters, DNS rebinding, requests without Host or with a foreign
Transfer-Encoding, echoed bodies, and X-Content-Type-Options.
"""

import asyncio
import base64
import json
import os
import socket
import subprocess
import time

import websockets

from helpers import (BackgroundViewer, StreamClient, connect, get_json, get_metrics,
                     http_exchange, http_get, metric, read_until, request_bytes, run_async,
                     wait_for_state, wait_until, ws_receive_json)

# --- helpers for this file -------------------------------------------------------------------


def ws_handshake(port, host_header, origin=None, timeout=5.0):
    """Sends a WebSocket upgrade with the given Host (and Origin); returns (socket, head)."""
    key = base64.b64encode(os.urandom(16)).decode()
    lines = ["GET /ws HTTP/1.1", f"Host: {host_header}", "Upgrade: websocket",
             "Connection: Upgrade", f"Sec-WebSocket-Key: {key}", "Sec-WebSocket-Version: 13"]
    if origin is not None:
        lines.append(f"Origin: {origin}")
    sock = connect(port, timeout=timeout)
    sock.sendall(("\r\n".join(lines) + "\r\n\r\n").encode())
    head, rest = read_until(sock, b"\r\n\r\n", deadline=time.monotonic() + timeout)
    return sock, head, rest


def ws_status(port, host_header, origin=None):
    sock, head, rest = ws_handshake(port, host_header, origin)
    status = int(head.split(b" ")[1])
    body = rest
    if status != 101:
        sock.settimeout(2)
        try:
            while chunk := sock.recv(65536):
                body += chunk
        except (socket.timeout, ConnectionResetError):
            pass
    sock.close()
    return status, head, body


def cpu_seconds(pid):
    with open(f"/proc/{pid}/stat") as stat:
        fields = stat.read().rsplit(")", 1)[1].split()
    ticks = os.sysconf("SC_CLK_TCK")
    return (int(fields[11]) + int(fields[12])) / ticks  # utime + stime


def open_file_count(pid):
    return len(os.listdir(f"/proc/{pid}/fd"))


def metric_now(port, name):
    return metric(get_metrics(port), name)


# --- 1. the control cascade ------------------------------------------------------------------


def test_closing_many_silent_control_clients_at_once_disturbs_no_other(server, scale):
    """1 reading control client and 60 that upgrade and never read; the 60 close at once."""
    port = server.port

    async def attack():
        async with websockets.connect(f"ws://127.0.0.1:{port}/ws", open_timeout=5,
                                      close_timeout=2, compression=None) as reader:
            await ws_receive_json(reader)
            await reader.send(json.dumps({"type": "start"}))  # statuses every second
            silent = []
            for _ in range(60):
                sock, head, _ = ws_handshake(port, f"127.0.0.1:{port}")
                assert head.startswith(b"HTTP/1.1 101"), head
                sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 1024)
                silent.append(sock)
            # The silent ones take statuses they never read, while the reader reads on.
            deadline = time.monotonic() + 3 * scale
            before = 0
            while time.monotonic() < deadline:
                message = await ws_receive_json(reader, 3 * scale)
                before += message.get("type") == "status"
            assert before >= 2, f"the reader got {before} statuses before the attack"
            for sock in silent:
                sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, b"\x01\0\0\0\0\0\0\0")
                sock.close()  # all at once, with a reset
            # The reader stays connected, keeps getting statuses, and sees the 60 go.
            statuses = []
            deadline = time.monotonic() + 4 * scale
            while time.monotonic() < deadline:
                message = await ws_receive_json(reader, 3 * scale)
                if message.get("type") == "status":
                    statuses.append(message)
            assert len(statuses) >= 3, f"the reader got {len(statuses)} statuses after the attack"
            assert statuses[-1]["controls"] == 1, statuses[-1]
            assert statuses[-1]["state"] == "streaming", statuses[-1]
            await reader.send(json.dumps({"type": "status"}))
            answer = await ws_receive_json(reader, 3 * scale)
            assert answer["type"] == "status"

    run_async(attack(), timeout=60 * scale)
    assert get_json(port)["controls"] == 0


# --- 2. capped viewers that leave -------------------------------------------------------------


def test_capped_viewers_that_leave_free_their_slot_and_the_camera(start_server, scale):
    server = start_server(extra=["--max-clients", "5", "--idle-timeout", "1"])
    port = server.port
    viewers = []
    for _ in range(5):
        client = StreamClient(port, "/stream?fps=0.1")
        client.start()
        viewers.append(client)
    wait_for_state(port, "streaming", 5 * scale)
    refused = http_get(port, "/stream")
    assert refused.status == 503, refused.status_line
    for client in viewers:
        client.close()
    # Each viewer sees its client leave between frames: slots and demand come back at once.
    wait_until(lambda: metric_now(port, "camstream_clients") == 0, 2 * scale,
               "capped viewers still counted after their clients closed")
    wait_for_state(port, "idle", 4 * scale)
    with StreamClient(port, "/stream") as fresh:
        fresh.start()
        fresh.read_part(timeout=5 * scale)


def test_fps_outside_its_range_is_refused_by_name(server):
    with BackgroundViewer(server.port) as watcher:
        for value in ("1e-9", "1e-300", "0", "0.05", "-1", "nan", "NaN", "inf", "-inf",
                      "garbage", "1e400", "121", "99999999999999999999", "", "0x10",
                      "%00", "2%20"):
            response = http_get(server.port, f"/stream?fps={value}")
            assert response.status == 400, (value, response.status_line)
            assert b"fps" in response.body, (value, response.body)
            assert b"0.1" in response.body and b"120" in response.body, response.body
        for value in ("0.1", "120", "2.5"):
            with StreamClient(server.port, f"/stream?fps={value}") as capped:
                capped.start()
                capped.read_part(timeout=15)
        time.sleep(0.3)
    assert len(watcher.parts) >= 5, "the other viewer was disturbed"
    assert metric_now(server.port, "camstream_clients") == 0


# --- 3. the descriptor limit ------------------------------------------------------------------


def test_accept_loop_at_the_descriptor_limit_backs_off(server, scale):
    """prlimit --nofile=64:64 on the running server, then 100 idle connections."""
    port = server.port
    watcher = BackgroundViewer(port)
    try:
        # UBSan's vptr check reads memory through a pipe the first time it meets a type, and
        # with no descriptor left that fails as "invalid vptr". Meet every type first: an idle
        # connection through a watchdog tick, and a request.
        warm = connect(port)
        assert http_get(port, "/healthz").status == 200
        time.sleep(1.3)
        warm.close()
        subprocess.run(["prlimit", f"--pid={server.pid}", "--nofile=64:64"], check=True,
                       timeout=10)
        lines_before = server.stderr().count("\n")
        cpu_before = cpu_seconds(server.pid)
        idle = []
        for _ in range(100):
            try:
                idle.append(connect(port, timeout=2))
            except OSError:
                break  # the backlog may refuse some: that is fine
        assert len(idle) >= 80, f"only {len(idle)} connections could be opened"
        time.sleep(3)
        cpu = cpu_seconds(server.pid) - cpu_before
        lines = server.stderr().count("\n") - lines_before
        assert lines < 50, f"{lines} log lines in 3 s at the descriptor limit"
        assert cpu < 0.6 * scale, f"{cpu:.2f} s of CPU in 3 s at the descriptor limit"
        assert "accept failed" in server.stderr(), "the limit was not reached"
        assert open_file_count(server.pid) <= 64
        parts_during = len(watcher.parts)
        assert parts_during >= 10, f"the viewer got {parts_during} frames meanwhile"
        for sock in idle:
            sock.close()
        # Served again once the descriptors are free.
        with StreamClient(port, "/stream", timeout=5 * scale) as fresh:
            fresh.start()
            fresh.read_part()
        assert "accepting again" in server.stderr()
    finally:
        watcher.stop()


# --- 4. --max-connections and snapshot waiters --------------------------------------------------


def test_max_connections_leaves_the_rest_in_the_backlog(start_server, scale):
    """Ten viewers (connections that sent a request and were let in) take every slot of
    --max-connections 10: the eleventh waits in the backlog until one leaves. (Connections that
    never sent a request give way instead: test_access_attacks.py.)"""
    server = start_server(extra=["--max-connections", "10"])
    port = server.port
    watcher = BackgroundViewer(port)  # one connection
    try:
        others = [StreamClient(port, "/stream?fps=1") for _ in range(9)]  # ten in all
        for viewer in others:
            viewer.start()
        waiting = connect(port, timeout=5)
        waiting.sendall(request_bytes("GET", "/healthz", port))
        waiting.settimeout(1.0)
        try:
            early = waiting.recv(100)
        except socket.timeout:
            early = None
        assert early is None, f"the eleventh connection was served: {early!r}"
        others.pop().close()
        head, _ = read_until(waiting, b"\r\n\r\n", deadline=time.monotonic() + 3 * scale)
        assert head.startswith(b"HTTP/1.1 200"), head
        waiting.close()
        for viewer in others:
            viewer.close()
        assert server.stderr().count("--max-connections reached") <= 2
        parts = len(watcher.parts)
        assert parts >= 20, f"the viewer got {parts} frames meanwhile"
    finally:
        watcher.stop()


def test_snapshot_waiters_are_bounded_and_leave_when_their_client_does(start_server, scale):
    # One frame a minute: a snapshot waits for a frame that does not come (as in a long
    # error state).
    server = start_server(interval=60000, extra=["--max-clients", "5"])
    port = server.port
    first = http_get(port, "/snapshot", timeout=10 * scale)  # the frame that starts capture
    assert first.status in (200, 503), first.status_line
    waiters = []
    for _ in range(5):
        sock = connect(port, timeout=10 * scale)
        sock.sendall(request_bytes("GET", "/snapshot", port))
        waiters.append(sock)
    wait_until(lambda: metric_now(port, "camstream_snapshots_waiting") == 5, 3 * scale,
               "five snapshots waiting")
    refused = http_get(port, "/snapshot")
    assert refused.status == 503, refused.status_line
    assert refused.header("retry-after") == "5"
    assert b"--max-clients" in refused.body
    for sock in waiters[:3]:
        sock.close()
    wait_until(lambda: metric_now(port, "camstream_snapshots_waiting") == 2, 2 * scale,
               "closed snapshot clients still waiting")
    # The others time out after 5 s with 503, and nothing is left waiting.
    for sock in waiters[3:]:
        head, _ = read_until(sock, b"\r\n\r\n", deadline=time.monotonic() + 8 * scale)
        assert head.startswith(b"HTTP/1.1 503"), head
        sock.close()
    assert metric_now(port, "camstream_snapshots_waiting") == 0


# --- the /ws Host rule (DNS rebinding) ---------------------------------------------------------


def test_dns_rebinding_page_cannot_open_the_control_socket(server):
    port = server.port
    evil = f"evil.example:{port}"
    status, head, body = ws_status(port, evil, f"http://{evil}")
    assert status == 403, head
    assert b"evil" not in body, body
    assert ws_status(port, f"localhost:{port}", f"http://localhost:{port}")[0] == 101
    assert ws_status(port, f"127.0.0.1:{port}", f"http://127.0.0.1:{port}")[0] == 101
    assert ws_status(port, f"[::1]:{port}", f"http://[::1]:{port}")[0] == 101
    hostname = socket.gethostname()
    assert ws_status(port, f"{hostname}:{port}", f"http://{hostname}:{port}")[0] == 101
    assert ws_status(port, f"{hostname}.local:{port}", f"http://{hostname}.local:{port}")[0] == 101
    assert ws_status(port, evil)[0] == 101  # no Origin: not a browser page
    assert get_json(port)["state"] in ("idle", "starting", "streaming")


def test_allow_host_admits_a_name(start_server):
    server = start_server(extra=["--allow-host", "evil.example", "--allow-host", "cam.lan"])
    port = server.port
    evil = f"evil.example:{port}"
    assert ws_status(port, evil, f"http://{evil}")[0] == 101
    assert ws_status(port, f"cam.lan:{port}", f"http://cam.lan:{port}")[0] == 101
    other = f"other.example:{port}"
    assert ws_status(port, other, f"http://{other}")[0] == 403


# --- request framing ---------------------------------------------------------------------------


def test_http11_without_host_is_refused(server):
    with BackgroundViewer(server.port) as watcher:
        response = http_exchange(server.port, b"GET /healthz HTTP/1.1\r\n\r\n")
        assert response.status == 400, response.status_line
        assert b"Host" in response.body
        two = http_exchange(server.port,
                            b"GET /healthz HTTP/1.1\r\nHost: a\r\nHost: b\r\n\r\n")
        assert two.status == 400, two.status_line
        old = http_exchange(server.port, b"GET /healthz HTTP/1.0\r\n\r\n")
        assert old.status == 200, old.status_line
        time.sleep(0.3)
    assert len(watcher.parts) >= 3


def test_transfer_encoding_other_than_chunked_last_is_refused(server):
    port = server.port

    def send(encoding, body=b""):
        return http_exchange(port, (f"GET /healthz HTTP/1.1\r\nHost: 127.0.0.1\r\n"
                                    f"Transfer-Encoding: {encoding}\r\n\r\n").encode() + body)

    smuggled = b"GET /metrics HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n"
    for encoding in ("gzip", "chunked, gzip", "identity", "chunked, chunked", "x"):
        response = send(encoding, smuggled)
        assert response.status == 400, (encoding, response.status_line)
        assert response.header("connection") == "close", encoding
    response = send("gzip, chunked", b"0\r\n\r\n")
    assert response.status == 501, response.status_line
    assert send("chunked", b"0\r\n\r\n").status == 200


# --- bodies that echo, and nosniff ---------------------------------------------------------------


def test_error_bodies_do_not_echo_the_client(server):
    port = server.port
    response = http_get(port, "/%3Cscript%3Ealert(1)%3C/script%3Eechomarker")
    assert response.status == 404
    assert b"echomarker" not in response.body and b"script" not in response.body
    status, _, body = ws_status(port, f"127.0.0.1:{port}", "http://echomarker.example")
    assert status == 403
    assert b"echomarker" not in body
    assert "echomarker" not in server.stderr()


def test_every_answer_says_nosniff(start_server):
    server = start_server(extra=["--max-clients", "1"])
    port = server.port
    with StreamClient(port, "/stream") as viewer:
        head = viewer.start()
        assert head.header("x-content-type-options") == "nosniff"
        answers = {
            "page": http_get(port, "/"),
            "status": http_get(port, "/api/status"),
            "metrics": http_get(port, "/metrics"),
            "health": http_get(port, "/healthz"),
            "snapshot": http_get(port, "/snapshot"),
            "head snapshot": http_get(port, "/snapshot", method="HEAD"),
            "head stream": http_get(port, "/stream", method="HEAD"),
            "404": http_get(port, "/nope"),
            "405": http_get(port, "/healthz", method="POST"),
            "426": http_get(port, "/ws"),
            "400": http_get(port, "/stream?fps=nan"),
            "503 max-clients": http_get(port, "/stream"),
            "400 no host": http_exchange(port, b"GET / HTTP/1.1\r\n\r\n"),
            "431": http_exchange(port, b"GET / HTTP/1.1\r\nHost: x\r\nX: " + b"a" * 70000 +
                                 b"\r\n\r\n"),
        }
        for name, response in answers.items():
            assert response.header("x-content-type-options") == "nosniff", \
                (name, response.status_line)
