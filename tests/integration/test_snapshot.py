"""docs/api.md, "HTTP endpoints": snapshots and health, fetched with curl."""

import http.client
import os
import re
import shutil
import subprocess
import tempfile
import time

import pytest

from helpers import TIMESTAMP_RE, assert_baseline_jpeg, client_env, get_json, http_get

WIDTH, HEIGHT = 352, 288

pytestmark = pytest.mark.skipif(shutil.which("curl") is None, reason="curl is not installed")


def curl(url, *options, timeout=15):
    """Returns (status, {header: value}, body) as curl saw them."""
    with tempfile.TemporaryDirectory(prefix="camstream-curl-") as workdir:
        headers_path = os.path.join(workdir, "headers")
        body_path = os.path.join(workdir, "body")
        result = subprocess.run(
            ["curl", "--silent", "--show-error", "--noproxy", "*", "--max-time", "10",
             "--dump-header", headers_path, "--output", body_path, *options, url],
            env=client_env(), capture_output=True, timeout=timeout)
        assert result.returncode == 0, f"curl {url}: {result.stderr.decode()}"
        with open(headers_path, "rb") as head:
            lines = head.read().decode().split("\r\n")
        with open(body_path, "rb") as body_file:
            body = body_file.read()
    status = int(lines[0].split()[1])
    headers = {}
    for line in lines[1:]:
        if ":" in line:
            name, _, value = line.partition(":")
            headers[name.strip().lower()] = value.strip()
    return status, headers, body


@pytest.fixture
def snapshot_server(start_server):
    return start_server(width=WIDTH, height=HEIGHT, interval=100)


@pytest.mark.parametrize("path", ["/snapshot", "/snapshot.jpg", "/?action=snapshot",
                                  "/webcam/?action=snapshot", "/snapshot?timestamp=42"])
def test_snapshot(snapshot_server, path):
    status, headers, body = curl(snapshot_server.url(path))
    assert status == 200
    assert headers.get("content-type") == "image/jpeg"
    assert int(headers["content-length"]) == len(body)
    stamp = headers.get("x-timestamp", "")
    assert TIMESTAMP_RE.match(stamp.encode()), f"X-Timestamp {stamp!r}"
    assert abs(float(stamp) - time.time()) < 5, "snapshot is not fresh"
    assert_baseline_jpeg(body, WIDTH, HEIGHT)


def test_snapshots_follow_the_picture(snapshot_server):
    first = curl(snapshot_server.url("/snapshot"))
    time.sleep(0.3)
    second = curl(snapshot_server.url("/snapshot"))
    assert float(second[1]["x-timestamp"]) > float(first[1]["x-timestamp"])
    assert first[2] != second[2], "two snapshots 0.3 s apart are the same picture"


def test_snapshot_when_idle_starts_capture(snapshot_server, scale):
    assert get_json(snapshot_server.port)["state"] == "idle"
    started = time.monotonic()
    status, headers, body = curl(snapshot_server.url("/snapshot"))
    assert status == 200
    assert time.monotonic() - started < 5 * scale
    assert_baseline_jpeg(body, WIDTH, HEIGHT)


def test_head_snapshot(snapshot_server):
    status, headers, _ = curl(snapshot_server.url("/snapshot"), "--head")
    assert status == 200
    assert headers.get("content-type") == "image/jpeg"
    assert int(headers.get("content-length", "0")) > 0
    raw = http_get(snapshot_server.port, "/snapshot", method="HEAD")
    assert raw.status == 200
    assert raw.body == b"", "HEAD answer carries a body"


def test_healthz(snapshot_server):
    status, _, body = curl(snapshot_server.url("/healthz"))
    assert status == 200
    assert body.strip() == b"ok"
    assert http_get(snapshot_server.port, "/healthz", method="HEAD").status == 200


def test_viewer_page(snapshot_server):
    status, headers, body = curl(snapshot_server.url("/"))
    assert status == 200
    assert headers.get("content-type", "").startswith("text/html")
    page = body.decode()
    assert "<html" in page.lower()
    # Self-contained: nothing loaded from another host (absolute or protocol-relative URLs).
    external = re.search(r"""(?:\b(?:src|href)\s*=\s*["']?|url\(\s*["']?|@import\s+["'])"""
                         r"""\s*(?:https?:)?//""", page, re.IGNORECASE)
    assert external is None, f"viewer page loads an external resource: {external.group(0)}"


def test_snapshot_polling_on_one_connection(snapshot_server):
    """Snapshot pollers (Mainsail's adaptive mode, timelapse tools) reuse the connection."""
    connection = http.client.HTTPConnection("127.0.0.1", snapshot_server.port, timeout=10)
    stamps = []
    try:
        for _ in range(4):
            connection.request("GET", "/snapshot")
            response = connection.getresponse()
            body = response.read()
            assert response.status == 200
            assert_baseline_jpeg(body, WIDTH, HEIGHT)
            stamps.append(float(response.getheader("X-Timestamp")))
            time.sleep(0.15)
    finally:
        connection.close()
    assert stamps == sorted(stamps) and len(set(stamps)) >= 3, stamps
