"""docs/api.md section 8, TLS: HTTPS and WSS on the same port with real clients (curl, ffmpeg,
ffprobe, VLC, Python's ssl and websockets), plain HTTP to the TLS port, SIGHUP reloads.

Certificates are made at test time by the openssl CLI (access_fixtures.Certificates).
"""

import json
import os
import shutil
import signal
import socket
import ssl
import subprocess
import tempfile
import time

import pytest
import websockets

from access_fixtures import (Certificates, basic, get_token, insecure_context, request,
                             require_tools, write_users)
from helpers import (assert_baseline_jpeg, client_env, read_until, run_async, run_vlc,
                     ws_receive_json)

WIDTH, HEIGHT = 320, 240


@pytest.fixture
def workdir():
    with tempfile.TemporaryDirectory(prefix="camstream-tls-") as directory:
        os.chmod(directory, 0o755)  # VLC runs as nobody and reads the CA from here
        yield directory


@pytest.fixture
def certs(workdir):
    return Certificates(workdir)


@pytest.fixture
def tls_server(start_server, certs):
    return start_server(extra=["--tls-cert", certs.chain, "--tls-key", certs.key])


def tls_socket(port, context, server_hostname="localhost"):
    raw = socket.create_connection(("127.0.0.1", port), timeout=10)
    return context.wrap_socket(raw, server_hostname=server_hostname)


def read_stream_parts(sock, port, path, count, headers=()):
    """Reads `count` parts from an MJPEG stream over an open (TLS) socket."""
    lines = [f"GET {path} HTTP/1.1", f"Host: localhost:{port}", *headers, "", ""]
    sock.sendall("\r\n".join(lines).encode())
    deadline = time.monotonic() + 10
    head, rest = read_until(sock, b"\r\n\r\n", deadline=deadline)
    assert head.startswith(b"HTTP/1.1 200"), head
    jpegs = []
    for _ in range(count):
        part_head, rest = read_until(sock, b"\r\n\r\n", rest, deadline=deadline)
        length = int([line.split(b":")[1] for line in part_head.split(b"\r\n")
                      if line.lower().startswith(b"content-length")][0])
        while len(rest) < length:
            rest += sock.recv(65536)
        jpegs.append(rest[:length])
        rest = rest[length:]
    return jpegs


def peer_certificate(port):
    with tls_socket(port, insecure_context()) as sock:
        return sock.getpeercert(binary_form=True)


# --- the port speaks HTTPS -------------------------------------------------------------------


def test_listening_line_says_https_and_tls12_or_13_is_spoken(tls_server, certs):
    assert tls_server.listening_line.startswith("listening on https://127.0.0.1:"), \
        tls_server.listening_line
    with tls_socket(tls_server.port, certs.client_context()) as sock:
        assert sock.version() in ("TLSv1.2", "TLSv1.3")
    for version in (ssl.TLSVersion.TLSv1_2, ssl.TLSVersion.TLSv1_3):
        context = certs.client_context()
        context.minimum_version = context.maximum_version = version
        with tls_socket(tls_server.port, context) as sock:
            assert sock.version() == version.name.replace("_", ".").replace("TLSv1.", "TLSv1.")
    old = insecure_context()
    old.minimum_version = ssl.TLSVersion.MINIMUM_SUPPORTED
    old.maximum_version = ssl.TLSVersion.TLSv1_1
    old.set_ciphers("ALL:@SECLEVEL=0")
    with pytest.raises((ssl.SSLError, ConnectionError)):
        tls_socket(tls_server.port, old).close()


def test_tls12_offers_only_aead_suites_with_forward_secrecy(tls_server):
    """Issue 20, item 7: every TLS 1.2 suite OpenSSL knows is offered to the server one at a
    time; it must take only ECDHE with AES-GCM or ChaCha20-Poly1305 (no CBC, no SHA-1 MAC)."""
    probe = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
    probe.set_ciphers("ALL:@SECLEVEL=0")
    # "protocol" names the version a suite came with: all but the TLS 1.3 suites work in 1.2.
    names = sorted({cipher["name"] for cipher in probe.get_ciphers()
                    if cipher["protocol"] != "TLSv1.3"})
    assert "ECDHE-ECDSA-AES128-SHA" in names, names  # the client can offer what must be refused
    accepted = []
    for name in names:
        context = insecure_context()
        context.minimum_version = ssl.TLSVersion.TLSv1_2
        context.maximum_version = ssl.TLSVersion.TLSv1_2
        context.set_ciphers(f"{name}:@SECLEVEL=0")
        try:
            with tls_socket(tls_server.port, context) as sock:
                accepted.append(sock.cipher()[0])
        except (ssl.SSLError, ConnectionError, OSError):
            pass
    assert accepted, "no TLS 1.2 suite was accepted"
    for name in accepted:
        assert name.startswith("ECDHE-") and ("-GCM-" in name or "CHACHA20-POLY1305" in name), \
            f"TLS 1.2 suite {name} accepted (all accepted: {accepted})"
    # TLS 1.3 is still spoken.
    modern = insecure_context()
    modern.minimum_version = ssl.TLSVersion.TLSv1_3
    with tls_socket(tls_server.port, modern) as sock:
        assert sock.version() == "TLSv1.3"


def test_every_endpoint_over_https(tls_server, certs):
    context = certs.client_context()
    assert request(tls_server.port, "/healthz", tls=context, host="localhost").body == b"ok\n"
    status = request(tls_server.port, "/api/status", tls=context).json()
    assert status["type"] == "status"
    snapshot = request(tls_server.port, "/snapshot", tls=context)
    assert snapshot.status == 200
    assert_baseline_jpeg(snapshot.body, WIDTH, HEIGHT)
    page = request(tls_server.port, "/", tls=context)
    assert page.status == 200 and b"<html" in page.body.lower()
    with tls_socket(tls_server.port, context) as sock:
        for jpeg in read_stream_parts(sock, tls_server.port, "/stream", 5):
            assert_baseline_jpeg(jpeg, WIDTH, HEIGHT)


def test_curl_with_the_test_ca_and_insecure(tls_server, certs):
    require_tools("curl")
    url = f"https://127.0.0.1:{tls_server.port}/api/status"
    for options in (["--cacert", certs.ca], ["--insecure"]):
        result = subprocess.run(["curl", "-sS", "--max-time", "10", *options, url],
                                capture_output=True, env=client_env(), timeout=30,
                                stdin=subprocess.DEVNULL)
        assert result.returncode == 0, (options, result.stderr.decode())
        assert json.loads(result.stdout)["type"] == "status"
    # Without the CA the certificate is not trusted: curl refuses (exit 60).
    result = subprocess.run(["curl", "-sS", "--max-time", "10", url], capture_output=True,
                            env=client_env(), timeout=30, stdin=subprocess.DEVNULL)
    assert result.returncode == 60, result.stderr.decode()


def test_plain_http_to_the_tls_port_gets_an_answer_within_a_second(tls_server):
    started = time.monotonic()
    with socket.create_connection(("127.0.0.1", tls_server.port), timeout=5) as sock:
        sock.sendall(f"GET /stream HTTP/1.1\r\nHost: 127.0.0.1:{tls_server.port}\r\n\r\n".encode())
        answer = b""
        try:
            while chunk := sock.recv(4096):
                answer += chunk
        except ConnectionResetError:
            pass
    elapsed = time.monotonic() - started
    assert elapsed < 1.0, f"{elapsed:.2f} s"
    assert answer.startswith(b"HTTP/1.1 400"), answer[:200]
    assert b"https://" in answer


def test_half_a_handshake_or_silence_is_closed_not_kept(tls_server, scale):
    """A client that starts TLS and stops, or sends nothing, is dropped by the handshake
    timeout; garbage is closed at once. Other clients are served meanwhile."""
    stuck = socket.create_connection(("127.0.0.1", tls_server.port), timeout=30)
    stuck.sendall(b"\x16\x03\x01\x02\x00\x01\x00\x01\xfc\x03\x03")  # a ClientHello, cut short
    garbage = socket.create_connection(("127.0.0.1", tls_server.port), timeout=5)
    garbage.sendall(b"\x16\x03\x01\x00\x05" + os.urandom(64))
    assert garbage.recv(4096) in (b"",) or True  # an alert, then close
    try:
        assert request(tls_server.port, "/healthz", tls=insecure_context()).status == 200
        started = time.monotonic()
        stuck.settimeout(30 * scale)
        try:
            while stuck.recv(4096):
                pass
        except ConnectionResetError:
            pass
        assert time.monotonic() - started < 15 * scale, "half a handshake was kept"
    finally:
        stuck.close()
        garbage.close()


# --- real clients ----------------------------------------------------------------------------


def run_ffmpeg(url, options, frames=20):
    require_tools("ffmpeg")
    command = ["ffmpeg", "-hide_banner", "-nostdin", "-loglevel", "error", "-rw_timeout",
               "5000000", *options, "-i", url, "-frames:v", str(frames), "-f", "framemd5", "-"]
    return subprocess.run(command, env=client_env(), capture_output=True, timeout=60,
                          stdin=subprocess.DEVNULL)


def test_ffmpeg_and_ffprobe_over_https(tls_server, certs, workdir):
    require_tools("ffprobe")
    url = f"https://localhost:{tls_server.port}/stream"
    result = subprocess.run(
        ["ffprobe", "-hide_banner", "-v", "error", "-tls_verify", "0", "-rw_timeout", "5000000",
         "-show_entries", "stream=codec_name,width,height", "-of", "json", url],
        env=client_env(), capture_output=True, timeout=60, stdin=subprocess.DEVNULL)
    assert result.returncode == 0, result.stderr.decode()
    stream = json.loads(result.stdout)["streams"][0]
    assert (stream["codec_name"], stream["width"], stream["height"]) == ("mjpeg", WIDTH, HEIGHT)

    verified = run_ffmpeg(url, ["-tls_verify", "1", "-ca_file", certs.ca])
    assert verified.returncode == 0, verified.stderr.decode()[-2000:]
    frames = [line for line in verified.stdout.decode().splitlines() if not line.startswith("#")]
    assert len(frames) == 20
    # Verification is real: another CA is refused.
    other = Certificates(workdir, name="other")
    refused = run_ffmpeg(url, ["-tls_verify", "1", "-ca_file", other.ca], frames=1)
    assert refused.returncode != 0


def test_ffmpeg_over_https_behind_users(start_server, certs, workdir):
    users = write_users(workdir, {"alice": "alice-pw"})
    server = start_server(extra=["--tls-cert", certs.chain, "--tls-key", certs.key,
                                 "--users", users])
    with_basic = run_ffmpeg(f"https://alice:alice-pw@localhost:{server.port}/stream",
                            ["-tls_verify", "1", "-ca_file", certs.ca], frames=5)
    assert with_basic.returncode == 0, with_basic.stderr.decode()[-2000:]
    token = get_token(server.port, "alice", "alice-pw", tls=certs.client_context())["token"]
    with_token = run_ffmpeg(f"https://localhost:{server.port}/stream?token={token}",
                            ["-tls_verify", "1", "-ca_file", certs.ca], frames=5)
    assert with_token.returncode == 0, with_token.stderr.decode()[-2000:]
    assert token not in server.stderr()


def test_vlc_over_https_with_the_test_ca(tls_server, certs, workdir):
    require_tools("vlc", "setpriv")
    trust = os.path.join(workdir, "trust")
    os.mkdir(trust)
    shutil.copy(certs.ca, os.path.join(trust, "ca.pem"))
    os.chmod(trust, 0o777)
    os.chmod(os.path.join(trust, "ca.pem"), 0o644)
    player = os.path.join(workdir, "vlc")
    os.mkdir(player)
    log, pictures = run_vlc(f"https://localhost:{tls_server.port}/stream", player, 5, 1.0,
                            extra_args=["--no-gnutls-system-trust", f"--gnutls-dir-trust={trust}"])
    assert len(pictures) >= 10, f"VLC wrote {len(pictures)} pictures over https:\n{log[-4000:]}"


def test_wss_with_a_token(start_server, certs, workdir):
    users = write_users(workdir, {"alice": "alice-pw", "bob": "bob-pw"})
    server = start_server(extra=["--tls-cert", certs.chain, "--tls-key", certs.key,
                                 "--users", users, "--operators", "alice"])
    context = certs.client_context()
    token = get_token(server.port, "alice", "alice-pw", tls=context)["token"]
    viewer_token = get_token(server.port, "bob", "bob-pw", tls=context)["token"]

    async def session(token_value):
        async with websockets.connect(f"wss://localhost:{server.port}/ws?token={token_value}",
                                      ssl=context, open_timeout=5, close_timeout=2,
                                      compression=None) as ws:
            status = await ws_receive_json(ws)
            await ws.send(json.dumps({"type": "stop"}))
            answer = await ws_receive_json(ws)
            while answer["type"] == "status" and answer["state"] != "stopped":
                answer = await ws_receive_json(ws)
            return status, answer

    status, answer = run_async(session(token))
    assert status["type"] == "status"
    assert answer["state"] == "stopped", answer
    _, refused = run_async(session(viewer_token))
    assert refused == {"type": "error", "message": "not allowed"}

    async def without_token():
        try:
            async with websockets.connect(f"wss://localhost:{server.port}/ws", ssl=context,
                                          open_timeout=5):
                return None
        except websockets.exceptions.InvalidStatusCode as refused_status:
            return refused_status.status_code

    assert run_async(without_token()) == 401


# --- SIGHUP ----------------------------------------------------------------------------------


def wait_for_log(server, text, timeout=5.0):
    deadline = time.monotonic() + timeout
    while text not in server.stderr():
        assert time.monotonic() < deadline, f"no {text!r} in the log:\n{server.stderr()[-2000:]}"
        time.sleep(0.05)


def test_sighup_reloads_the_certificate_without_dropping_a_viewer(start_server, workdir):
    first = Certificates(workdir, name="first")
    second = Certificates(workdir, name="second")
    cert = os.path.join(workdir, "live.pem")
    key = os.path.join(workdir, "live.key")
    shutil.copy(first.chain, cert)
    shutil.copy(first.key, key)
    server = start_server(extra=["--tls-cert", cert, "--tls-key", key])
    before = peer_certificate(server.port)

    viewer = tls_socket(server.port, first.client_context())
    try:
        read_stream_parts(viewer, server.port, "/stream", 2)
        shutil.copy(second.chain, cert)
        shutil.copy(second.key, key)
        os.kill(server.pid, signal.SIGHUP)
        wait_for_log(server, "TLS: reloaded")
        after = peer_certificate(server.port)
        assert after != before, "new connections still get the old certificate"
        # The viewer connected before the reload keeps receiving frames.
        viewer.settimeout(5)
        received = b""
        deadline = time.monotonic() + 2
        while time.monotonic() < deadline:
            received += viewer.recv(65536)
        assert received.count(b"--camstreamframe\r\n") >= 10, len(received)

        # A bad file: the log says why, the second pair stays.
        with open(key, "w") as key_file:
            key_file.write("not a key\n")
        os.kill(server.pid, signal.SIGHUP)
        wait_for_log(server, "keeping the certificate and key loaded before")
        assert f"--tls-key {key}: not a PEM private key" in server.stderr()
        assert peer_certificate(server.port) == after
        assert request(server.port, "/healthz", tls=second.client_context()).status == 200
    finally:
        viewer.close()


def test_bad_certificate_files_stop_start_up(start_server, certs, workdir):
    garbage = os.path.join(workdir, "garbage.pem")
    with open(garbage, "w") as garbage_file:
        garbage_file.write("-----BEGIN CERTIFICATE-----\nnot base64\n-----END CERTIFICATE-----\n")
    other = Certificates(workdir, name="other")
    missing = os.path.join(workdir, "missing.pem")
    cases = [
        (["--tls-cert", missing, "--tls-key", certs.key], f"--tls-cert {missing}: cannot read"),
        (["--tls-cert", garbage, "--tls-key", certs.key], f"--tls-cert {garbage}: not a PEM"),
        (["--tls-cert", certs.cert, "--tls-key", other.key],
         f"--tls-key {other.key}: does not match the certificate in --tls-cert {certs.cert}"),
        (["--tls-cert", certs.cert], "--tls-cert: needs --tls-key too"),
    ]
    for extra, message in cases:
        server = start_server(wait=False, extra=extra)
        assert server.proc.wait(10) == 2, (extra, server.stderr())
        assert message in server.stderr(), (message, server.stderr())
