"""docs/api.md, "Access control and TLS", over plain HTTP: users (bcrypt, yescrypt, SHA-512), operators and
viewers, tokens, lockout, secrets kept out of the log, and abuse of every new input.

Real clients: curl --user, Python's http.client and websockets, the byte-exact StreamClient.
"""

import base64
import hashlib
import hmac
import json
import os
import signal
import socket
import stat
import subprocess
import tempfile
import threading
import time

import pytest
import websockets

from access_fixtures import basic, get_token, request, require_tools, write_users
from helpers import (StreamClient, assert_baseline_jpeg, client_env, read_until, run_async,
                     ws_receive_json, ws_wait_for)

WIDTH, HEIGHT = 320, 240
CHALLENGE = 'Basic realm="camstream", charset="UTF-8"'
USERS = {"alice": "alice-pw", "bob": ("bob-pw", "yescrypt"), "carol": ("carol pw:x", "sha-512")}
PROTECTED = ["/", "/stream", "/stream.mjpg", "/?action=stream", "/snapshot", "/snapshot.jpg",
             "/?action=snapshot", "/api/status", "/metrics", "/ws", "/api/token", "/no/such/path"]


@pytest.fixture
def workdir():
    with tempfile.TemporaryDirectory(prefix="camstream-access-") as directory:
        yield directory


@pytest.fixture
def users_file(workdir):
    return write_users(workdir, USERS)


@pytest.fixture
def secured(start_server, users_file):
    """alice is an operator; bob and carol only watch."""
    return start_server(extra=["--users", users_file, "--operators", "alice"])


def assert_challenge(answer, what):
    assert answer.status == 401, f"{what}: {answer.status} {answer.body[:200]!r}"
    assert answer.header("WWW-Authenticate") == CHALLENGE, (what, answer.headers)


def connect_from(port, source):
    """A socket to the server from another loopback address (127.0.0.0/8 is all ours)."""
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.settimeout(10)
    sock.bind((source, 0))
    sock.connect(("127.0.0.1", port))
    return sock


def raw_request(port, path, headers=(), source="127.0.0.1"):
    """Status and head of one request sent from `source`."""
    with connect_from(port, source) as sock:
        lines = [f"GET {path} HTTP/1.1", f"Host: 127.0.0.1:{port}", "Connection: close",
                 *headers, "", ""]
        sock.sendall("\r\n".join(lines).encode())
        head, _ = read_until(sock, b"\r\n\r\n", deadline=time.monotonic() + 10)
        status_line = head.split(b"\r\n", 1)[0]
        return int(status_line.split()[1]), head.decode(errors="replace")


# --- who gets in -----------------------------------------------------------------------------


def test_every_endpoint_but_healthz_needs_credentials(secured):
    for path in PROTECTED:
        for method in ("GET", "HEAD"):
            answer = request(secured.port, path, method=method)
            assert_challenge(answer, f"{method} {path}")
    assert request(secured.port, "/healthz").status == 200
    # A WebSocket upgrade without credentials is refused before the handshake.
    status, head = raw_request(secured.port, "/ws", [
        "Upgrade: websocket", "Connection: Upgrade", "Sec-WebSocket-Version: 13",
        "Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ=="])
    assert status == 401 and CHALLENGE in head, head


def test_users_of_every_hash_kind_get_in_with_curl(secured):
    require_tools("curl")
    for user, value in USERS.items():
        password = value[0] if isinstance(value, tuple) else value
        result = subprocess.run(
            ["curl", "-sS", "--max-time", "10", "--user", f"{user}:{password}",
             "-o", "-", "-w", "\n%{http_code}", secured.url("/api/status")],
            capture_output=True, env=client_env(), timeout=30, stdin=subprocess.DEVNULL)
        body, _, code = result.stdout.decode().rpartition("\n")
        assert code == "200", f"{user}: {code} {body[:200]} {result.stderr.decode()}"
        assert json.loads(body)["type"] == "status"


def test_wrong_password_and_unknown_user_get_the_same_answer(secured):
    wrong = request(secured.port, "/api/status", {"Authorization": basic("alice", "nope")})
    unknown = request(secured.port, "/api/status", {"Authorization": basic("mallory", "nope")})
    missing = request(secured.port, "/api/status")
    for answer in (wrong, unknown, missing):
        assert_challenge(answer, "bad credentials")
    strip = lambda answer: sorted((k.lower(), v) for k, v in answer.headers if k.lower() != "date")
    assert strip(wrong) == strip(unknown) == strip(missing)
    assert wrong.body == unknown.body == missing.body


def test_stream_and_snapshot_with_basic(secured):
    with StreamClient(secured.port, extra_headers=[f"Authorization: {basic('bob', 'bob-pw')}"]) \
            as viewer:
        viewer.start()
        for part in viewer.read_parts(3, timeout=10):
            assert_baseline_jpeg(part.jpeg, WIDTH, HEIGHT)
    answer = request(secured.port, "/snapshot", {"Authorization": basic("carol", "carol pw:x")})
    assert answer.status == 200
    assert_baseline_jpeg(answer.body, WIDTH, HEIGHT)


def test_without_users_nothing_needs_credentials(server):
    assert request(server.port, "/api/status").status == 200
    assert request(server.port, "/api/status", {"Authorization": basic("x", "y")}).status == 200
    token = request(server.port, "/api/token")
    assert token.status == 200 and token.json()["role"] == "operator"


# --- tokens ----------------------------------------------------------------------------------


def test_token_answer_and_where_it_works(secured):
    before = int(time.time())
    issued = get_token(secured.port, "bob", "bob-pw")
    assert set(issued) == {"token", "expires", "role"}
    assert issued["role"] == "viewer"
    assert before + 86400 <= issued["expires"] <= int(time.time()) + 86400
    token = issued["token"]
    for path in ("/", "/api/status", "/snapshot", "/?action=snapshot"):
        answer = request(secured.port, f"{path}{'&' if '?' in path else '?'}token={token}")
        assert answer.status == 200, f"{path}: {answer.status} {answer.body[:100]!r}"
    with StreamClient(secured.port, path=f"/stream?fps=5&token={token}") as viewer:
        viewer.start()
        assert_baseline_jpeg(viewer.read_part(timeout=10).jpeg, WIDTH, HEIGHT)
    # Not where docs/api.md does not list it: a token cannot renew itself or read metrics.
    assert_challenge(request(secured.port, f"/api/token?token={token}"), "/api/token?token=")
    assert_challenge(request(secured.port, f"/metrics?token={token}"), "/metrics?token=")


def test_ttl_and_role_parameters(secured):
    issued = get_token(secured.port, "alice", "alice-pw", "?ttl=60")
    assert issued["role"] == "operator"
    assert abs(issued["expires"] - (time.time() + 60)) < 5
    longest = get_token(secured.port, "alice", "alice-pw", "?ttl=31536000&role=viewer")
    assert longest["role"] == "viewer"
    assert abs(longest["expires"] - (time.time() + 31536000)) < 5
    alice = {"Authorization": basic("alice", "alice-pw")}
    for bad in ("59", "31536001", "0", "-60", "NaN", "inf", "1e3", "60.5", "", "%20", "0x3c",
                "9" * 400, "60&ttl=70"):
        answer = request(secured.port, f"/api/token?ttl={bad}", alice)
        if bad == "60&ttl=70":
            assert answer.status == 200  # the first value counts
            continue
        assert answer.status == 400, f"ttl={bad}: {answer.status}"
        assert b"ttl" in answer.body and b"60..31536000" in answer.body, answer.body
    for bad_role in ("admin", "", "Operator", "viewer%00"):
        assert request(secured.port, f"/api/token?role={bad_role}", alice).status == 400
    # A viewer cannot widen its role.
    bob = {"Authorization": basic("bob", "bob-pw")}
    answer = request(secured.port, "/api/token?role=operator", bob)
    assert answer.status == 403, answer.body
    assert request(secured.port, "/api/token?role=viewer", bob).json()["role"] == "viewer"


def test_tampered_and_garbage_tokens_get_401(secured):
    token = get_token(secured.port, "alice", "alice-pw")["token"]
    payload, signature = token.split(".")
    forged_payload = base64.urlsafe_b64encode(
        base64.urlsafe_b64decode(payload + "==").replace(b"|viewer|", b"|operator|")
        .replace(b"|alice", b"|bob")).decode().rstrip("=")
    for bad in (token[:-1] + ("A" if token[-1] != "A" else "B"), forged_payload + "." + signature,
                payload, "." + signature, "x" * 5000, "%41%42.%43", token + token):
        assert_challenge(request(secured.port, f"/api/status?token={bad}"), bad[:40])
    assert request(secured.port, f"/api/status?token={token}").status == 200


def python_token(key, user, role, expires):
    """The token format of docs/api.md, "Access control and TLS", made independently of camstream."""
    payload = f"v1|{role}|{expires}|{user}".encode()
    mac = hmac.new(key, payload, hashlib.sha256).digest()
    encode = lambda data: base64.urlsafe_b64encode(data).decode().rstrip("=")
    return encode(payload) + "." + encode(mac)


def test_key_file_made_0600_tokens_survive_restart_and_a_new_key_revokes(
        start_server, users_file, workdir):
    key_path = os.path.join(workdir, "token.key")
    first = start_server(extra=["--users", users_file, "--token-key", key_path])
    assert stat.S_IMODE(os.stat(key_path).st_mode) == 0o600
    with open(key_path, "rb") as key_file:
        key = key_file.read()
    assert len(key) == 32
    token = get_token(first.port, "alice", "alice-pw")["token"]
    assert request(first.port, f"/api/status?token={token}").status == 200
    # Expired, signed with the right key: refused. Valid, made by Python: accepted.
    expired = python_token(key, "alice", "operator", int(time.time()) - 1)
    assert_challenge(request(first.port, f"/api/status?token={expired}"), "expired")
    made = python_token(key, "bob", "viewer", int(time.time()) + 100)
    assert request(first.port, f"/api/status?token={made}").status == 200
    first.stop()

    restarted = start_server(extra=["--users", users_file, "--token-key", key_path])
    assert request(restarted.port, f"/api/status?token={token}").status == 200
    restarted.stop()

    os.remove(key_path)  # a new key: every token is revoked
    renewed = start_server(extra=["--users", users_file, "--token-key", key_path])
    assert_challenge(request(renewed.port, f"/api/status?token={token}"), "old key")


def test_a_key_file_others_can_read_gets_a_warning(start_server, users_file, workdir):
    key_path = os.path.join(workdir, "shared.key")
    with open(key_path, "wb") as key_file:
        key_file.write(os.urandom(32))
    os.chmod(key_path, 0o644)
    server = start_server(extra=["--users", users_file, "--token-key", key_path])
    assert f"--token-key {key_path}: others may read or change it (mode 0644)" in server.stderr()


# --- operators and viewers -------------------------------------------------------------------


async def control_session(port, authorization=None, token=None):
    path = f"/ws?token={token}" if token else "/ws"
    headers = {"Authorization": authorization} if authorization else {}
    async with websockets.connect(f"ws://127.0.0.1:{port}{path}", extra_headers=headers,
                                  open_timeout=5, close_timeout=2, compression=None) as ws:
        first = await ws_receive_json(ws)
        assert first["type"] == "status"
        answers = {}
        for message_type in ("start", "stop", "set", "configure"):
            message = {"type": message_type}
            if message_type == "set":
                message["controls"] = {"Brightness": 0.1}
            if message_type == "configure":
                message["quality"] = 70
            await ws.send(json.dumps(message))
            answers[message_type] = await ws_wait_for(
                ws, lambda m: m["type"] in ("error", "controls") or
                (m["type"] == "status" and message_type in ("start", "stop", "configure")),
                what=f"an answer to {message_type}")
        await ws.send(json.dumps({"type": "status"}))
        answers["status"] = await ws_wait_for(ws, lambda m: m["type"] == "status")
        return answers


def test_viewers_watch_and_operators_steer(secured):
    viewer = run_async(control_session(secured.port, basic("bob", "bob-pw")))
    for message_type in ("start", "stop", "set", "configure"):
        assert viewer[message_type] == {"type": "error", "message": "not allowed"}, viewer
    assert viewer["status"]["type"] == "status"

    # A viewer token of the operator is a viewer too.
    narrowed = get_token(secured.port, "alice", "alice-pw", "?role=viewer")["token"]
    as_viewer = run_async(control_session(secured.port, token=narrowed))
    assert as_viewer["start"] == {"type": "error", "message": "not allowed"}

    operator = run_async(control_session(secured.port, basic("alice", "alice-pw")))
    not_allowed = {"type": "error", "message": "not allowed"}
    for message_type in ("start", "stop", "configure"):
        assert operator[message_type] != not_allowed, operator
    assert operator["start"]["type"] == "status", operator
    assert operator["set"]["type"] == "controls", operator
    assert operator["set"]["controls"]["Brightness"]["value"] == 0.1, operator
    token = get_token(secured.port, "alice", "alice-pw")["token"]
    with_token = run_async(control_session(secured.port, token=token))
    assert with_token["start"]["type"] == "status", with_token


# --- lockout ---------------------------------------------------------------------------------


def test_ten_failures_lock_the_address_for_a_minute_even_with_good_credentials(secured):
    good = f"Authorization: {basic('alice', 'alice-pw')}"
    # Requests without credentials (a browser before its prompt) do not count.
    for _ in range(15):
        assert raw_request(secured.port, "/api/status", source="127.0.0.2")[0] == 401
    for attempt in range(10):
        status, _ = raw_request(secured.port, "/api/status",
                                [f"Authorization: {basic('alice', f'guess{attempt}')}"],
                                source="127.0.0.2")
        assert status == 401, attempt
    status, head = raw_request(secured.port, "/api/status", [good], source="127.0.0.2")
    assert status == 429, head
    retry_after = [line for line in head.split("\r\n") if line.lower().startswith("retry-after:")]
    assert retry_after and 55 <= int(retry_after[0].split(":")[1]) <= 60, head
    # Tokens too, and every endpoint but /healthz.
    token = get_token(secured.port, "alice", "alice-pw")["token"]
    assert raw_request(secured.port, f"/stream?token={token}", source="127.0.0.2")[0] == 429
    assert raw_request(secured.port, "/healthz", source="127.0.0.2")[0] == 200
    # Another address is not affected.
    assert raw_request(secured.port, "/api/status", [good], source="127.0.0.3")[0] == 200
    # Logged once for the lockout, however many requests it refuses.
    for _ in range(20):
        raw_request(secured.port, "/api/status", [good], source="127.0.0.2")
    lines = [line for line in secured.stderr().splitlines() if "failed logins" in line]
    assert len(lines) == 1 and "127.0.0.2" in lines[0], lines


def test_thousands_of_failed_logins_do_not_disturb_viewers_or_other_users(secured, scale):
    """One address hammering with wrong passwords, and 300 others failing once each (300
    bcrypt checks), while a viewer watches: the viewer keeps its frame rate, and a good user
    from elsewhere gets in."""
    good = f"Authorization: {basic('bob', 'bob-pw')}"
    viewer = StreamClient(secured.port, extra_headers=[good], timeout=10)
    viewer.start()
    viewer.read_part(timeout=10)
    stop = threading.Event()
    hammered = [0]

    def hammer():
        while not stop.is_set() and hammered[0] < 3000:
            raw_request(secured.port, "/snapshot",
                        [f"Authorization: {basic('alice', str(hammered[0]))}"], source="127.0.0.9")
            hammered[0] += 1

    def many_addresses():
        for i in range(300):
            if stop.is_set():
                return
            raw_request(secured.port, "/api/status", [f"Authorization: {basic('x', 'y')}"],
                        source=f"127.1.{i // 200}.{i % 200 + 1}")

    threads = [threading.Thread(target=hammer), threading.Thread(target=many_addresses)]
    for thread in threads:
        thread.start()
    try:
        started = time.monotonic()
        parts = 0
        while time.monotonic() - started < 3:
            viewer.read_part(timeout=5)
            parts += 1
        ok = raw_request(secured.port, "/api/status", [good], source="127.0.0.4")[0]
    finally:
        stop.set()
        for thread in threads:
            thread.join(60)
        viewer.close()
    assert hammered[0] > 100, hammered
    # 20 frames/s for 3 s: allow for a loaded machine, not for a stalled server.
    assert parts >= 40 / scale, f"the viewer got {parts} parts in 3 s during the attack"
    assert ok == 200


# --- abuse of the new inputs -----------------------------------------------------------------


def test_huge_and_garbage_authorization_headers(secured):
    refused = (401, 400, 431)
    cases = [
        ("Basic " + "A" * 7000, refused),
        ("Basic " + base64.b64encode(b"alice:" + b"x" * 5000).decode(), refused),
        ("Basic " + base64.b64encode(os.urandom(600)).decode(), refused),
        ("Basic ====", refused),
        ("Basic YWxpY2U6YWxpY2UtcHc", (200,)),  # alice:alice-pw without padding
        ("Bearer " + "x" * 100, refused),
        ("Basic\tYWxpY2U6YWxpY2UtcHc=", refused),
        ("\x01\x02\x7f", refused),
        ("Basic " + base64.b64encode(b"alice:alice-pw\x00").decode(), refused),
    ]
    for i, (value, expected) in enumerate(cases):
        status, head = raw_request(secured.port, "/api/status", [f"Authorization: {value}"],
                                   source=f"127.2.0.{i + 1}")
        assert status in expected, (i, status, head)
    # Two Authorization headers, and a header block past the limit.
    status, _ = raw_request(secured.port, "/api/status", [
        f"Authorization: {basic('alice', 'alice-pw')}", "Authorization: Basic eDp5"],
        source="127.2.1.1")
    assert status in (400, 401)
    status, _ = raw_request(secured.port, "/api/status", ["Authorization: Basic " + "Q" * 20000],
                            source="127.2.1.2")
    assert status == 431
    # Everyone else is still served.
    assert request(secured.port, "/api/status",
                   {"Authorization": basic("alice", "alice-pw")}).status == 200


def test_huge_tokens(secured):
    for i, token in enumerate(("A" * 7000, "A.B" * 2000, "%" * 3000, "." * 500)):
        status, _ = raw_request(secured.port, f"/snapshot?token={token}", source=f"127.3.0.{i + 1}")
        assert status in (401, 414, 431), status
    assert request(secured.port, "/api/status",
                   {"Authorization": basic("alice", "alice-pw")}).status == 200


# --- nothing secret in the log, status or metrics --------------------------------------------


def test_no_password_header_or_token_in_log_status_or_metrics(secured):
    alice = basic("alice", "alice-pw")
    token = get_token(secured.port, "alice", "alice-pw")["token"]
    with StreamClient(secured.port, path=f"/stream?token={token}") as viewer:
        viewer.start()
        viewer.read_part(timeout=10)
    request(secured.port, "/api/status", {"Authorization": basic("alice", "wrong-pw")})
    status = request(secured.port, "/api/status", {"Authorization": alice}).body.decode()
    metrics = request(secured.port, "/metrics", {"Authorization": alice}).body.decode()
    time.sleep(0.3)  # the viewer's disconnect line
    log = secured.stderr()
    assert "token=\u2026" in log, log[-2000:]
    for secret in ("alice-pw", "wrong-pw", alice.split()[1], token, token.split(".")[1]):
        for where, text in (("log", log), ("status", status), ("metrics", metrics)):
            assert secret not in text, f"{secret!r} in the {where}"


# --- start-up and reload ---------------------------------------------------------------------


def test_warning_when_not_loopback_and_no_users(start_server, users_file):
    warning = "without --users"
    open_server = start_server(bind="0.0.0.0")
    assert warning in open_server.stderr(), open_server.stderr()
    loopback = start_server(bind="127.0.0.1")
    assert warning not in loopback.stderr()
    protected = start_server(bind="0.0.0.0", extra=["--users", users_file])
    assert warning not in protected.stderr()


def test_bad_files_stop_start_up_naming_flag_and_file(start_server, users_file, workdir):
    md5 = os.path.join(workdir, "md5-users")
    require_tools("htpasswd")
    with open(md5, "w") as md5_file:
        md5_file.write(subprocess.run(["htpasswd", "-nbm", "old", "pw"], capture_output=True,
                                      check=True).stdout.decode())
    short_key = os.path.join(workdir, "short.key")
    with open(short_key, "wb") as key_file:
        key_file.write(b"short")
    missing = os.path.join(workdir, "missing")
    cases = [
        (["--users", missing], f"--users {missing}: cannot read"),
        (["--users", md5], f"--users {md5}: line 1: user 'old'"),
        (["--users", users_file, "--operators", "alice,mallory"],
         f"--operators: 'mallory' is not a user in --users {users_file}"),
        (["--users", users_file, "--token-key", short_key], f"--token-key {short_key}: 5 bytes"),
        (["--operators", "alice"], "--operators: needs --users"),
    ]
    for extra, message in cases:
        server = start_server(wait=False, extra=extra)
        code = server.proc.wait(10)
        assert code == 2, (extra, code, server.stderr())
        assert message in server.stderr(), (message, server.stderr())


def test_sighup_reloads_users_and_a_bad_file_keeps_the_old(start_server, workdir):
    users = write_users(workdir, {"alice": "first"})
    server = start_server(extra=["--users", users])
    assert request(server.port, "/api/status", {"Authorization": basic("alice", "first")}).status \
        == 200
    write_users(workdir, {"alice": "second", "dave": "dave-pw"})
    os.kill(server.pid, signal.SIGHUP)
    deadline = time.monotonic() + 5
    while "reloaded 2 users" not in server.stderr() and time.monotonic() < deadline:
        time.sleep(0.05)
    assert request(server.port, "/api/status", {"Authorization": basic("alice", "first")}).status \
        == 401
    assert request(server.port, "/api/status", {"Authorization": basic("dave", "dave-pw")}).status \
        == 200
    with open(users, "w") as users_file:
        users_file.write("alice:plaintext\n")
    os.kill(server.pid, signal.SIGHUP)
    deadline = time.monotonic() + 5
    while "keeping the users read before" not in server.stderr() and time.monotonic() < deadline:
        time.sleep(0.05)
    assert "keeping the users read before" in server.stderr()
    assert request(server.port, "/api/status", {"Authorization": basic("dave", "dave-pw")}).status \
        == 200
