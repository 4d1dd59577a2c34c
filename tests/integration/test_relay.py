"""The relay source (--source http://...): a real camstream relaying a fake upstream written
for these tests (each camera quirk, each kind of break) and a real camstream upstream.

Everything is on loopback with port 0; every wait is bounded.
"""

import os
import socket
import statistics
import subprocess
import tempfile
import threading
import time

import pytest

from access_fixtures import Certificates, write_users
from conftest import server_args, camstream_bin
from fake_upstream import FakeUpstream, basic, head, make_jpegs, part
from helpers import StreamClient, get_json, get_text, http_get

SECRET_USER = "relayuser"
SECRET_PASSWORD = "pw-Zq9sEcret"
SECRET_TOKEN = "tok-Xy7sEcretBearer"


@pytest.fixture(scope="module")
def jpegs():
    return make_jpegs(4)


@pytest.fixture
def upstreams():
    started = []

    def start(behaviour):
        upstream = FakeUpstream(behaviour)
        started.append(upstream)
        return upstream

    yield start
    for upstream in started:
        upstream.stop()


def streaming(jpegs, interval=0.05, content_type="multipart/x-mixed-replace; boundary=frame",
              delimiter=b"--frame", content_length=True, newline=b"\r\n", timestamps=True,
              status="200 OK"):
    """A well-behaved upstream (with the quirks asked for) that streams until the relay leaves."""

    def behave(connection):
        if not connection.send(head(content_type, status)):
            return
        index = 0
        while True:
            stamp = f"{time.time():.6f}" if timestamps else None
            data = part(jpegs[index % len(jpegs)], delimiter, content_length, stamp, newline)
            if not connection.send(data) or not connection.wait(interval):
                return
            index += 1

    return behave


def first_then(broken, good, broken_count=1):
    """The first connections break as `broken` does; the later ones are good."""

    def behave(connection):
        (broken if connection.index < broken_count else good)(connection)

    return behave


def start_relay(start_server, upstream_url, extra=(), **kwargs):
    return start_server(source=upstream_url, extra=["--idle-timeout", "1", *extra], **kwargs)


def read_until_upstream_picture(client, jpegs, timeout):
    """Reads parts until one is an upstream JPEG; returns (that part, parts skipped)."""
    deadline = time.monotonic() + timeout
    skipped = []
    while time.monotonic() < deadline:
        got = client.read_part(timeout=max(0.1, deadline - time.monotonic()))
        if got.jpeg in jpegs:
            return got, skipped
        skipped.append(got)
    raise AssertionError(f"no upstream picture within {timeout:.1f}s ({len(skipped)} others)")


# --- passthrough and the framing quirks ------------------------------------------------------


QUIRKS = {
    "content_length": {},
    "no_content_length": {"content_length": False},
    "boundary_without_dashes": {"content_type": "multipart/x-mixed-replace;boundary=myboundary",
                                "delimiter": b"myboundary"},
    "boundary_param_differs": {"content_type": 'multipart/x-mixed-replace; boundary="--other"',
                               "delimiter": b"--ipcamera", "content_length": False},
    "lf_line_ends": {"newline": b"\n"},
}


@pytest.mark.parametrize("quirk", sorted(QUIRKS))
def test_relay_serves_upstream_jpegs_byte_for_byte_with_their_timestamps(
        start_server, upstreams, jpegs, quirk, scale):
    upstream = upstreams(streaming(jpegs, **QUIRKS[quirk]))
    relay = start_relay(start_server, upstream.url())
    with StreamClient(relay.port, timeout=10 * scale) as client:
        client.start()
        got, _ = read_until_upstream_picture(client, jpegs, 10 * scale)
        parts = [got] + client.read_parts(6)
    # Every part is one of the upstream's JPEGs, unchanged, stamped with the upstream's time.
    for relayed in parts:
        assert relayed.jpeg in jpegs, f"{quirk}: a part is not an upstream JPEG byte for byte"
        stamp = float(relayed.header("x-timestamp"))
        assert 0 <= time.time() - stamp < 5 * scale
    assert len({p.jpeg for p in parts}) >= 3, "the relay repeats one picture"
    snapshot = http_get(relay.port, "/snapshot", timeout=10 * scale)
    assert snapshot.status == 200 and snapshot.body in jpegs, "/snapshot is not an upstream JPEG"
    status = get_json(relay.port)
    assert status["source"] == "relay"
    assert status["state"] == "streaming"
    assert (status["width"], status["height"]) == (320, 240)
    assert status["camera"] == f"http://127.0.0.1:{upstream.port}/stream"


def test_chunked_upstream_is_relayed(start_server, upstreams, jpegs, scale):
    """An HTTP/1.1 upstream may send the stream chunked; the chunks do not follow the parts."""

    def behave(connection):
        connection.send(head(extra=["Transfer-Encoding: chunked"]).replace(
            b"Connection: close\r\n", b""))
        index = 0
        while True:
            data = part(jpegs[index % len(jpegs)], content_length=index % 2 == 0)
            cut = len(data) // 3  # a chunk boundary inside a part
            for piece in (data[:cut], data[cut:]):
                if not connection.send(b"%x\r\n" % len(piece) + piece + b"\r\n"):
                    return
            if not connection.wait(0.05):
                return
            index += 1

    relay = start_relay(start_server, upstreams(behave).url())
    with StreamClient(relay.port, timeout=10 * scale) as client:
        client.start()
        read_until_upstream_picture(client, jpegs, 10 * scale)
        assert all(p.jpeg in jpegs for p in client.read_parts(4))


def test_upstream_timestamp_is_kept_exactly(start_server, upstreams, jpegs, scale):
    """A fixed X-Timestamp from upstream arrives unchanged: latency adds up across hops."""

    def behave(connection):
        connection.send(head())
        while connection.send(part(jpegs[0], timestamp="1700000000.123456")) and \
                connection.wait(0.05):
            pass

    relay = start_relay(start_server, upstreams(behave).url())
    with StreamClient(relay.port, timeout=10 * scale) as client:
        client.start()
        got, _ = read_until_upstream_picture(client, jpegs, 10 * scale)
        assert got.header("x-timestamp") == "1700000000.123456"


def test_camera_style_jpeg_is_repaired_as_camera_mjpeg(start_server, upstreams, scale):
    """A UVC-style JPEG (no Huffman tables, zero padding after EOI) gets the standard tables,
    as camera MJPEG does; everything else is passed on."""
    data_dir = os.path.join(os.path.dirname(__file__), "..", "data")
    with open(os.path.join(data_dir, "usb_uvc_640x480.mjpg"), "rb") as f:
        uvc = f.read()
    assert b"\xff\xc4" not in uvc
    relay = start_relay(start_server, upstreams(streaming([uvc])).url())
    with StreamClient(relay.port, timeout=10 * scale) as client:
        client.start()
        deadline = time.monotonic() + 10 * scale
        while time.monotonic() < deadline:
            got = client.read_part()
            if b"\xff\xc4" in got.jpeg and len(got.jpeg) > 30000:
                break
        trimmed = uvc[:uvc.rindex(b"\xff\xd9") + 2]
        assert len(got.jpeg) == len(trimmed) + 420  # one DHT segment of the four tables
        assert got.jpeg.endswith(trimmed[-1000:])
    assert get_json(relay.port)["width"] == 640


# --- on demand -------------------------------------------------------------------------------


def test_upstream_is_open_only_while_someone_watches(start_server, upstreams, jpegs, scale):
    upstream = upstreams(streaming(jpegs))
    relay = start_relay(start_server, upstream.url())
    time.sleep(1.0)
    assert upstream.connections() == [], "connected upstream with no viewer"
    with StreamClient(relay.port, timeout=10 * scale) as client:
        client.start()
        read_until_upstream_picture(client, jpegs, 10 * scale)
        assert upstream.open_connections() == 1
    upstream.wait_open(0, 5 * scale)  # --idle-timeout 1 after the viewer left
    assert get_json(relay.port)["state"] == "idle"
    assert len(upstream.connections()) == 1


def test_always_on_connects_without_viewers(start_server, upstreams, jpegs, scale):
    upstream = upstreams(streaming(jpegs))
    relay = start_relay(start_server, upstream.url(), extra=["--always-on"])
    upstream.wait_connections(1, 5 * scale)
    assert get_json(relay.port)["state"] in ("starting", "streaming")
    time.sleep(1.5)
    assert upstream.open_connections() == 1


# --- breaks ------------------------------------------------------------------------------------


def closes_half_way(jpegs):
    def behave(connection):
        connection.send(head())
        for jpeg in jpegs[:2]:
            connection.send(part(jpeg))
        whole = part(jpegs[2])
        connection.send(whole[:len(whole) // 2])
    return behave


def stalls(jpegs):
    def behave(connection):
        connection.send(head())
        for jpeg in jpegs[:2]:
            connection.send(part(jpeg))
        while not connection.closed_by_peer() and connection.wait(0.1):
            pass
    return behave


def sends_garbage(jpegs):
    def behave(connection):
        connection.send(head())
        connection.send(part(jpegs[0]))
        for _ in range(64):
            if not connection.send(os.urandom(4096)):
                return
    return behave


def garbage_from_the_start(connection):
    connection.send(head())
    for _ in range(16):
        if not connection.send(b"\x00\x01\xfe" + os.urandom(4096)):
            return


def not_multipart(connection):
    connection.send(head("text/html"))
    connection.send(b"<html><body>login</body></html>")
    connection.wait(10)


def huge_content_length(connection):
    connection.send(head())
    connection.send(b"--frame\r\nContent-Type: image/jpeg\r\nContent-Length: 999999999999\r\n\r\n")
    connection.wait(10)


def negative_content_length(connection):
    connection.send(head())
    connection.send(b"--frame\r\nContent-Type: image/jpeg\r\nContent-Length: -20\r\n\r\n\xff\xd8")
    connection.wait(10)


def endless_headers(connection):
    connection.send(head())
    connection.send(b"--frame\r\n")
    for _ in range(100_000):
        if not connection.send(b"X-Pad: " + b"a" * 100 + b"\r\n"):
            return


ENDLESS_SENT = []


def endless_part(connection):
    """A part with no Content-Length and no delimiter, as fast as loopback goes, up to 64 MiB."""
    connection.send(head())
    connection.send(b"--frame\r\nContent-Type: image/jpeg\r\n\r\n\xff\xd8")
    chunk = b"\x55" * 65536
    sent = 0
    while sent < 64 << 20 and connection.send(chunk):
        sent += len(chunk)
    ENDLESS_SENT.append(sent)


def long_boundary(connection):
    connection.send(head("multipart/x-mixed-replace; boundary=" + "b" * 10_000))
    connection.send(b"--" + b"b" * 10_000 + b"\r\n")
    connection.wait(10)


def slowloris(connection):
    connection.send(head())
    connection.send(b"--frame\r\n")
    while not connection.closed_by_peer() and connection.send(b"X") and connection.wait(0.5):
        pass


def endless_response_head(connection):
    connection.send(b"HTTP/1.1 200 OK\r\nContent-Type: multipart/x-mixed-replace; boundary=frame\r\n")
    for _ in range(10_000):
        if not connection.send(b"X-Pad: " + b"a" * 100 + b"\r\n"):
            return


def unauthorized(connection):
    connection.send(head("text/plain", status="401 Unauthorized",
                         extra=['WWW-Authenticate: Basic realm="cam"']))


def parts_not_jpeg(connection):
    connection.send(head())
    while connection.send(b"--frame\r\nContent-Type: text/plain\r\n\r\nhello\r\n") and \
            connection.wait(0.05):
        pass


# kind -> (behaviour factory, how many connections break, the reason in the status and log)
BREAKS = {
    "closes_half_way": (closes_half_way, 2, "upstream closed the connection"),
    "stalls": (stalls, 1, "upstream sent nothing for 5 s"),
    "garbage_after_a_picture": (sends_garbage, 2, "upstream stream is broken"),
    "garbage_from_the_start": (lambda _: garbage_from_the_start, 2,
                               "does not start with a multipart delimiter"),
    "not_multipart": (lambda _: not_multipart, 2, "not a multipart MJPEG stream"),
    "huge_content_length": (lambda _: huge_content_length, 2, "over the 16 MiB limit"),
    "negative_content_length": (lambda _: negative_content_length, 2,
                                "Content-Length is not a number"),
    "endless_headers": (lambda _: endless_headers, 2, "header block is larger than 16 KiB"),
    "endless_part": (lambda _: endless_part, 2, "larger than 16 MiB (no delimiter found)"),
    "boundary_of_10_kb": (lambda _: long_boundary, 2, "delimiter line is longer than 256 bytes"),
    "slowloris": (lambda _: slowloris, 1, "no complete picture for 10 s"),
    "unauthorized": (lambda _: unauthorized, 2, "upstream answered 401 Unauthorized"),
    "endless_response_head": (lambda _: endless_response_head, 2,
                              "response header is larger than 16 KiB"),
    "parts_not_jpeg": (lambda _: parts_not_jpeg, 2, "parts that are not JPEG pictures"),
}


@pytest.mark.parametrize("kind", sorted(BREAKS))
def test_upstream_break_gives_no_signal_then_pictures_again_on_the_same_connection(
        start_server, upstreams, jpegs, kind, scale, monkeypatch):
    factory, broken_count, reason = BREAKS[kind]
    # AddressSanitizer keeps freed memory in quarantine, which would count in the RSS below.
    asan = os.environ.get("ASAN_OPTIONS", "")
    monkeypatch.setenv("ASAN_OPTIONS", (asan + ":" if asan else "") + "quarantine_size_mb=0")
    upstream = upstreams(first_then(factory(jpegs), streaming(jpegs), broken_count))
    relay = start_relay(start_server, upstream.url())
    rss_before = relay.vm_rss_kib()
    seen_error = []
    stop_polling = threading.Event()

    def poll_status():
        while not stop_polling.is_set():
            status = get_json(relay.port)
            if status["state"] == "error":
                seen_error.append(status["error"])
            started = time.monotonic()
            assert get_text(relay.port, "/healthz")[0] == 200
            healthz_ms.append((time.monotonic() - started) * 1000)
            time.sleep(0.03)

    healthz_ms = []
    poller = threading.Thread(target=poll_status, daemon=True)
    poller.start()
    try:
        with StreamClient(relay.port, timeout=30 * scale) as client:
            client.start()
            # The same connection: NO SIGNAL placeholders while upstream is broken, then the
            # upstream's pictures once a later connection is good.
            deadline = time.monotonic() + 25 * scale
            while client.read_part().jpeg in jpegs:  # pictures sent before the break
                assert time.monotonic() < deadline, f"{kind}: no placeholder"
            got, _ = read_until_upstream_picture(client, jpegs, 25 * scale)
            client.read_parts(3)
    finally:
        stop_polling.set()
        poller.join(10)
    assert len(upstream.connections()) >= 2, "pictures again without a reconnection?"
    log = relay.stderr()
    assert reason in log, f"{kind}: no '{reason}' in the log:\n{log[-2000:]}"
    assert any(reason in error for error in seen_error), f"{kind}: status errors {seen_error}"
    # Other clients were served throughout; memory stayed bounded (one refused part at most).
    assert max(healthz_ms) < 2000 * scale, f"/healthz took {max(healthz_ms):.0f} ms"
    growth_mib = (relay.vm_rss_kib() - rss_before) / 1024
    assert growth_mib < 48, f"{kind}: camstream grew by {growth_mib:.0f} MiB"
    if kind == "endless_part":
        # camstream refused the part at 16 MiB rather than reading on: the upstream could not
        # send its 64 MiB.
        assert ENDLESS_SENT and max(ENDLESS_SENT) < 24 << 20, ENDLESS_SENT


def test_unreachable_upstream_is_an_error_and_viewers_stay(start_server, scale):
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]  # closed once the block ends: nothing listens there
    relay = start_relay(start_server, f"http://127.0.0.1:{port}/stream")
    with StreamClient(relay.port, timeout=10 * scale) as client:
        client.start()
        client.read_parts(2)  # placeholders keep coming
        status = get_json(relay.port)
    assert status["state"] in ("error", "starting")
    assert "cannot connect to 127.0.0.1:" in relay.stderr()


def test_reconnects_with_backoff_doubling_from_half_a_second(start_server, upstreams, scale):
    upstream = upstreams(lambda connection: None)  # accepts and closes at once
    relay = start_relay(start_server, upstream.url(), extra=["--always-on"])
    upstream.wait_connections(5, 20 * scale)
    times = upstream.accept_times()[:5]
    gaps = [b - a for a, b in zip(times, times[1:])]
    print("reconnection gaps (s):", " ".join(f"{gap:.2f}" for gap in gaps))
    # 0.5, 1, 2, 4 s, each stretched by up to 20% jitter (and the time to fail once).
    for gap, base in zip(gaps, (0.5, 1.0, 2.0, 4.0)):
        assert base * 0.95 <= gap <= base * 1.2 + 0.4 * scale, f"gaps {gaps}"
    assert get_json(relay.port)["state"] in ("error", "starting")


# --- credentials -----------------------------------------------------------------------------


def assert_secret_nowhere(relay, *secrets):
    shown = [relay.output(), str(get_json(relay.port)), get_text(relay.port, "/metrics")[2],
             http_get(relay.port, "/").body.decode(errors="replace")]
    for secret in secrets:
        for text in shown:
            assert secret not in text, f"{secret} shown"


def test_url_credentials_are_sent_as_basic_and_never_shown(start_server, upstreams, jpegs,
                                                            scale):
    upstream = upstreams(streaming(jpegs))
    url = upstream.url(userinfo=f"{SECRET_USER}:{SECRET_PASSWORD}@")
    relay = start_relay(start_server, url + "?token=" + SECRET_TOKEN,
                        extra=["--log-level", "trace"])
    with StreamClient(relay.port, timeout=10 * scale) as client:
        client.start()
        read_until_upstream_picture(client, jpegs, 10 * scale)
    assert upstream.connections()[0].authorization() == basic(SECRET_USER, SECRET_PASSWORD)
    assert get_json(relay.port)["camera"] == f"http://127.0.0.1:{upstream.port}/stream?..."
    assert_secret_nowhere(relay, SECRET_PASSWORD, SECRET_TOKEN)


def test_source_header_is_sent_and_never_shown_also_on_401(start_server, upstreams, scale):
    upstream = upstreams(unauthorized)
    relay = start_relay(start_server, upstream.url(), extra=[
        "--source-header", f"Authorization: Bearer {SECRET_TOKEN}", "--log-level", "trace"])
    with StreamClient(relay.port, timeout=10 * scale) as client:
        client.start()
        upstream.wait_connections(1, 5 * scale)
        client.read_parts(1)
    assert upstream.connections()[0].authorization() == f"Bearer {SECRET_TOKEN}"
    assert "401 Unauthorized" in relay.stderr()
    assert_secret_nowhere(relay, SECRET_TOKEN)


@pytest.mark.parametrize("url,message", [
    ("ftp://cam/stream", "scheme ftp: is not http or https"),
    ("http:///stream", "has no host"),
    ("http://cam:99999/stream", "port 99999 is not in 1..65535"),
    ("http://cam/my stream", "space"),
    (f"rtsp://{SECRET_USER}:{SECRET_PASSWORD}@cam/", "is not http or https"),
    (f"http://{SECRET_USER}:{SECRET_PASSWORD}@cam:0/", "is not in 1..65535"),
])
def test_bad_source_url_is_a_usage_error_naming_the_flag(url, message):
    result = subprocess.run([camstream_bin(), "--source", url, "--port", "0"],
                            capture_output=True, text=True, timeout=10)
    assert result.returncode == 2
    assert "--source:" in result.stderr and message in result.stderr, result.stderr
    assert SECRET_PASSWORD not in result.stderr + result.stdout


def test_bad_source_url_in_the_config_file_names_the_key():
    with tempfile.NamedTemporaryFile("w", suffix=".conf") as config:
        config.write('source = "http://cam:70000/"\nsource-header = "no colon"\n')
        config.flush()
        result = subprocess.run([camstream_bin(), "--config", config.name], capture_output=True,
                                text=True, timeout=10)
    assert result.returncode == 2
    assert f"config file {config.name}: key 'source': the URL's port 70000" in result.stderr


def test_relay_flags_from_the_config_file(start_server, upstreams, jpegs, scale):
    upstream = upstreams(streaming(jpegs))
    with tempfile.TemporaryDirectory() as workdir:
        path = os.path.join(workdir, "relay.conf")
        with open(path, "w") as config:
            config.write(f'source = "{upstream.url()}"\n'
                         f'source-header = "X-Api-Key: {SECRET_TOKEN}"\n')
        relay = start_server(source=None, extra=["--config", path])
        with StreamClient(relay.port, timeout=10 * scale) as client:
            client.start()
            read_until_upstream_picture(client, jpegs, 10 * scale)
    assert f"X-Api-Key: {SECRET_TOKEN}".encode() in upstream.connections()[0].request
    assert SECRET_TOKEN not in relay.output()


# --- a real camstream upstream -----------------------------------------------------------------


def wall(monotonic):
    """A time.monotonic() reading (when a part arrived) on the wall clock of X-Timestamp."""
    return monotonic + (time.time() - time.monotonic())


def test_relay_of_a_real_camstream_keeps_bytes_and_timestamps(start_server, scale):
    upstream = start_server(interval=100)
    relay = start_relay(start_server, upstream.url("/stream"))
    latencies = []
    with StreamClient(upstream.port, timeout=10 * scale) as direct, \
            StreamClient(relay.port, timeout=10 * scale) as relayed:
        direct.start()
        relayed.start()
        direct_parts = {}
        relayed_parts = []
        deadline = time.monotonic() + 20 * scale
        while get_json(relay.port)["state"] != "streaming":
            assert time.monotonic() < deadline, "the relay does not stream"
            relayed.read_part()
        relayed.read_parts(2)  # any part read while polling has arrived late
        for got in relayed.read_parts(30):
            relayed_parts.append(got)
            latencies.append(wall(got.arrived) - float(got.header("x-timestamp")))
        for got in direct.read_parts(40):
            direct_parts[got.header("x-timestamp")] = got.jpeg
    direct_latencies = []
    with StreamClient(upstream.port, timeout=10 * scale) as fresh:  # read as frames come
        fresh.start()
        for got in fresh.read_parts(25):
            direct_latencies.append(wall(got.arrived) - float(got.header("x-timestamp")))
    matched = [p for p in relayed_parts if p.header("x-timestamp") in direct_parts]
    assert len(matched) >= 5, "the relay's timestamps are not the upstream's"
    for got in matched:
        assert got.jpeg == direct_parts[got.header("x-timestamp")], "bytes changed in the relay"
    p50 = statistics.median(latencies[-20:])
    direct_p50 = statistics.median(direct_latencies[-20:])
    print(f"latency from X-Timestamp, p50: direct viewer {direct_p50 * 1000:.1f} ms, "
          f"viewer of the relay {p50 * 1000:.1f} ms")
    assert p50 < 1.0 * scale


def test_two_hops_keep_the_camera_timestamp(start_server, scale):
    """camera -> relay -> relay: the last viewer's X-Timestamp is still the capture time."""
    camera = start_server(interval=100)
    first = start_relay(start_server, camera.url("/stream"))
    second = start_relay(start_server, first.url("/stream"))
    with StreamClient(camera.port, timeout=10 * scale) as direct, \
            StreamClient(second.port, timeout=10 * scale) as relayed:
        direct.start()
        relayed.start()
        deadline = time.monotonic() + 15 * scale
        while get_json(second.port)["state"] != "streaming":
            assert time.monotonic() < deadline, second.stderr()[-2000:]
            relayed.read_part()
        relayed_parts = relayed.read_parts(10)
        captured = {p.header("x-timestamp"): p.jpeg for p in direct.read_parts(60)}
    matched = [p for p in relayed_parts if p.header("x-timestamp") in captured]
    assert len(matched) >= 5, "timestamps changed over two hops"
    assert all(captured[p.header("x-timestamp")] == p.jpeg for p in matched)
    latency = statistics.median(wall(p.arrived) - float(p.header("x-timestamp"))
                                for p in relayed_parts)
    print(f"two hops: capture-to-viewer latency p50 {latency * 1000:.1f} ms")
    assert latency < 1.0 * scale


def test_relay_of_a_real_camstream_over_https(start_server, scale):
    with tempfile.TemporaryDirectory() as workdir:
        certs = Certificates(workdir)
        upstream = start_server(extra=["--tls-cert", certs.chain, "--tls-key", certs.key])
        url = f"https://127.0.0.1:{upstream.port}/stream"
        # Verified against the system store by default: the test CA is not in it.
        refused = start_relay(start_server, url)
        with StreamClient(refused.port, timeout=10 * scale) as client:
            client.start()
            client.read_parts(2)
        deadline = time.monotonic() + 10 * scale
        while "certificate verify failed" not in refused.stderr() and time.monotonic() < deadline:
            time.sleep(0.1)
        assert "certificate verify failed" in refused.stderr()
        assert "--source-insecure" in refused.stderr()
        # --source-insecure accepts it; a trust store that holds the CA verifies it.
        for extra, env in ((["--source-insecure"], {}), ([], {"SSL_CERT_FILE": certs.ca})):
            old = {k: os.environ.get(k) for k in env}
            os.environ.update(env)
            try:
                relay = start_relay(start_server, url, extra=extra)
            finally:
                for k, v in old.items():
                    if v is None:
                        os.environ.pop(k)
                    else:
                        os.environ[k] = v
            with StreamClient(relay.port, timeout=10 * scale) as client:
                client.start()
                deadline = time.monotonic() + 10 * scale
                while get_json(relay.port)["state"] != "streaming":
                    assert time.monotonic() < deadline, relay.stderr()[-2000:]
                    client.read_part()
                assert client.read_part().jpeg.startswith(b"\xff\xd8")


def test_relay_of_a_camstream_behind_users_with_url_credentials(start_server, scale):
    """The upstream's access control sees Basic from the URL: the right password streams, a
    wrong one is a 401 in the status and the log, and neither password is ever shown."""
    with tempfile.TemporaryDirectory() as workdir:
        users = write_users(workdir, {SECRET_USER: SECRET_PASSWORD})
        upstream = start_server(extra=["--users", users])
        good = start_relay(start_server,
                           f"http://{SECRET_USER}:{SECRET_PASSWORD}@127.0.0.1:{upstream.port}/stream")
        wrong = start_relay(start_server,
                            f"http://{SECRET_USER}:wrong-{SECRET_PASSWORD}@127.0.0.1:"
                            f"{upstream.port}/stream")
        with StreamClient(good.port, timeout=10 * scale) as viewer, \
                StreamClient(wrong.port, timeout=10 * scale) as refused:
            viewer.start()
            refused.start()
            deadline = time.monotonic() + 10 * scale
            while get_json(good.port)["state"] != "streaming":
                assert time.monotonic() < deadline, good.stderr()[-2000:]
                viewer.read_part()
            assert viewer.read_part().jpeg.startswith(b"\xff\xd8")
            while "401" not in (get_json(wrong.port)["error"] or ""):
                assert time.monotonic() < deadline, wrong.stderr()[-2000:]
                refused.read_part()
        for relay in (good, wrong):
            assert_secret_nowhere(relay, SECRET_PASSWORD)
