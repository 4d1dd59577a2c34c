"""docs/api.md, "Outputs per viewer": /stream and /snapshot at a size and quality of their own,
encoded once per captured frame for all the viewers of that output, only while watched, at
most --max-outputs at once; every bad value a 400 or 503 that never disturbs a viewer."""

import os
import socket
import subprocess
import tempfile
import threading
import time

import pytest

from fake_upstream import FakeUpstream, make_jpegs, streaming
from helpers import (StreamClient, assert_baseline_jpeg, client_env, connect, get_json,
                     get_metrics, http_get, jpeg_info, png_size, read_until, request_bytes,
                     wait_until)

WIDTH, HEIGHT = 320, 240


def output_labels(width, height, quality):
    return f'{{width="{width}",height="{height}",quality="{quality}"}}'


def encoded(samples, width, height, quality=80):
    return samples.get(("camstream_output_frames_encoded_total",
                        output_labels(width, height, quality)))


def outputs(port):
    return [(o["width"], o["height"], o["quality"], o["viewers"])
            for o in get_json(port)["outputs"]]


def quantisation_sum(jpeg):
    """The sum of the first quantisation table's 64 entries (DQT): larger is coarser."""
    pos = 2
    while pos + 4 <= len(jpeg):
        marker = jpeg[pos + 1]
        length = int.from_bytes(jpeg[pos + 2:pos + 4], "big")
        if marker == 0xDB:
            precision = jpeg[pos + 4] >> 4
            assert precision == 0, "16-bit tables are not expected"
            return sum(jpeg[pos + 5:pos + 5 + 64])
        pos += 2 + length
    raise AssertionError("no DQT marker")


@pytest.fixture
def outputs_server(start_server):
    return start_server(width=WIDTH, height=HEIGHT, interval=50,
                        extra=["--max-outputs", "2", "--idle-timeout", "30"])


def test_two_viewers_of_one_size_share_one_encode_per_frame(outputs_server, scale):
    port = outputs_server.port
    with StreamClient(port, "/stream?width=160", timeout=10 * scale) as first, \
            StreamClient(port, "/stream?width=160&height=120", timeout=10 * scale) as second:
        first.start()
        second.start()
        for client in (first, second):
            for frame in client.read_parts(3):
                assert_baseline_jpeg(frame.jpeg, 160, 120)
        assert outputs(port) == [(WIDTH, HEIGHT, 80, 0), (160, 120, 80, 2)]
        before = get_metrics(port)
        for client in (first, second):
            client.count_parts_for(1.5)
        after = get_metrics(port)
    captured = after[("camstream_frames_captured_total", "")] - \
        before[("camstream_frames_captured_total", "")]
    made = encoded(after, 160, 120) - encoded(before, 160, 120)
    assert captured >= 10, f"only {captured} frames captured in 1.5 s"
    # One encode per captured frame for the two viewers (a frame may straddle the reads).
    assert captured - 2 <= made <= captured + 2, f"{made} encodes for {captured} frames"
    sent = after[("camstream_output_frames_sent_total", output_labels(160, 120, 80))] - \
        before[("camstream_output_frames_sent_total", output_labels(160, 120, 80))]
    assert sent >= 1.5 * made, f"{sent} frames sent for {made} encodes and two viewers"


@pytest.mark.parametrize("query,size", [
    ("width=160&height=90", (160, 90)),  # both given: exactly that, even a new aspect
    ("width=160", (160, 120)),           # width alone keeps 4:3
    ("height=60", (80, 60)),             # height alone too
    ("width=163", (162, 120)),           # odd: rounded down to even, as --width
    ("width=200", (200, 150)),
    ("width=640&height=480", (640, 480)),  # larger than the capture: scaled up
])
def test_sizes_are_the_asked_ones_as_ffmpeg_decodes_them(outputs_server, query, size, scale):
    with tempfile.TemporaryDirectory(prefix="camstream-outputs-") as workdir:
        png = os.path.join(workdir, "frame.png")
        result = subprocess.run(
            ["ffmpeg", "-v", "error", "-y", "-f", "mpjpeg", "-i",
             outputs_server.url(f"/stream?{query}"), "-frames:v", "2", "-update", "1", png],
            env=client_env(), capture_output=True, timeout=30 * scale)
        assert result.returncode == 0, result.stderr.decode()
        assert png_size(png) == size
    snapshot = http_get(outputs_server.port, f"/snapshot?{query}", timeout=10 * scale)
    assert snapshot.status == 200
    assert_baseline_jpeg(snapshot.body, *size)


@pytest.mark.parametrize("path", ["/snapshot?width=160", "/snapshot.jpg?width=160",
                                  "/?action=snapshot&width=160", "/cams/?action=snapshot&height=120"])
def test_snapshot_aliases_take_a_size(outputs_server, path, scale):
    snapshot = http_get(outputs_server.port, path, timeout=10 * scale)
    assert snapshot.status == 200, snapshot.body
    assert snapshot.header("content-type") == "image/jpeg"
    assert_baseline_jpeg(snapshot.body, 160, 120)
    head_only = http_get(outputs_server.port, path, method="HEAD", timeout=10 * scale)
    assert head_only.status == 200
    assert int(head_only.header("content-length")) > 0


@pytest.mark.parametrize("path", ["/?action=stream&width=160", "/stream.mjpg?width=160"])
def test_stream_aliases_take_a_size(outputs_server, path, scale):
    with StreamClient(outputs_server.port, path, timeout=10 * scale) as client:
        client.start()
        assert_baseline_jpeg(client.read_part().jpeg, 160, 120)


def test_quality_changes_the_quantisation_and_the_size(outputs_server, scale):
    port = outputs_server.port
    coarse = http_get(port, "/snapshot?quality=10", timeout=10 * scale).body
    fine = http_get(port, "/snapshot?quality=95", timeout=10 * scale).body
    main = http_get(port, "/snapshot", timeout=10 * scale).body
    for jpeg in (coarse, fine, main):
        assert_baseline_jpeg(jpeg, WIDTH, HEIGHT)
    assert quantisation_sum(coarse) > quantisation_sum(main) > quantisation_sum(fine)
    assert len(coarse) < len(main) < len(fine)
    # The capture's own size and --quality is the main stream: no output of its own.
    with StreamClient(port, f"/stream?width={WIDTH}&height={HEIGHT}&quality=80",
                      timeout=10 * scale) as client:
        client.start()
        client.read_parts(2)
        assert outputs(port) == [(WIDTH, HEIGHT, 80, 1)]


def test_one_output_more_than_max_outputs_is_503_naming_the_limit(outputs_server, scale):
    port = outputs_server.port
    with StreamClient(port, "/stream?width=160", timeout=10 * scale) as small, \
            StreamClient(port, "/stream?quality=20", timeout=10 * scale) as coarse, \
            StreamClient(port, "/stream", timeout=10 * scale) as main:
        for client in (small, coarse, main):
            client.start()
            client.read_part()
        for path in ("/stream?width=200", "/snapshot?width=200", "/stream?height=100&quality=50"):
            refused = http_get(port, path, timeout=10 * scale)
            assert refused.status == 503, path
            assert b"the limit is 2" in refused.body and b"--max-outputs" in refused.body
        # The same sizes are shared, not refused.
        with StreamClient(port, "/stream?width=160&quality=80", timeout=10 * scale) as again:
            again.start()
            assert_baseline_jpeg(again.read_part().jpeg, 160, 120)
        # And the others never stopped.
        assert len(small.count_parts_for(1.0, 160, 120)) >= 5
        assert len(coarse.count_parts_for(1.0, WIDTH, HEIGHT)) >= 5
        assert len(main.count_parts_for(1.0, WIDTH, HEIGHT)) >= 5
    # Once they are gone, a new size gets its turn.
    wait_until(lambda: len(outputs(port)) == 1, 5 * scale, "outputs released")
    with StreamClient(port, "/stream?width=200", timeout=10 * scale) as later:
        later.start()
        assert_baseline_jpeg(later.read_part().jpeg, 200, 150)


def test_outputs_vanish_when_their_viewers_leave_and_encoding_stops(outputs_server, scale):
    port = outputs_server.port
    with StreamClient(port, "/stream", timeout=10 * scale) as main:
        main.start()
        with StreamClient(port, "/stream?width=96", timeout=10 * scale) as viewer:
            viewer.start()
            viewer.read_parts(2)
            assert (96, 72, 80, 1) in outputs(port)
            assert get_metrics(port)[("camstream_outputs", "")] == 1
        wait_until(lambda: outputs(port) == [(WIDTH, HEIGHT, 80, 1)], 5 * scale,
                   "the output left the status")
        samples = get_metrics(port)
        assert samples[("camstream_outputs", "")] == 0
        assert encoded(samples, 96, 72) is None, "a metric series for an output no one watches"
        main.read_parts(3)  # the main stream goes on
    assert "output 96x72 quality 80 closed" in outputs_server.stderr() + outputs_server.stdout()


BAD_QUERIES = [
    ("width=-2", b"width"), ("width=0", b"width"), ("width=99999999", b"width"),
    ("width=NaN", b"width"), ("width=1e9", b"width"), ("width=", b"width"),
    ("width", b"width"), ("width=abc", b"width"), ("width=16.5", b"width"),
    ("height=4321", b"height"), ("height=-1", b"height"), ("quality=0", b"quality"),
    ("quality=101", b"quality"), ("quality=NaN", b"quality"), ("quality=", b"quality"),
    ("width=160&width=200", b"more than once"), ("quality=50&quality=50", b"more than once"),
    ("width=18446744073709551616", b"width"), ("width=" + "9" * 5000, b"width"),
    # A width alone whose height at 4:3 would be out of bounds.
    ("width=16", b"width"),
]


@pytest.mark.parametrize("endpoint", ["/stream", "/snapshot"])
def test_bad_values_are_400_naming_the_parameter_and_viewers_go_on(outputs_server, endpoint,
                                                                   scale):
    port = outputs_server.port
    with StreamClient(port, "/stream?width=160", timeout=10 * scale) as viewer:
        viewer.start()
        viewer.read_part()
        for query, named in BAD_QUERIES:
            answer = http_get(port, f"{endpoint}?{query}", timeout=10 * scale)
            assert answer.status == 400, f"{query}: {answer.status} {answer.body[:200]!r}"
            assert named in answer.body, f"{query}: {answer.body!r}"
            assert b"9999" not in answer.body and b"NaN" not in answer.body, "value echoed"
        assert len(viewer.count_parts_for(1.0, 160, 120)) >= 5
        assert outputs(port) == [(WIDTH, HEIGHT, 80, 0), (160, 120, 80, 1)]


def test_a_thousand_distinct_requests_at_once_get_answers_and_disturb_no_viewer(
        start_server, scale):
    server = start_server(width=WIDTH, height=HEIGHT, interval=50,
                          extra=["--max-outputs", "4", "--max-connections", "2000",
                                 "--max-clients", "2000"])
    port = server.port
    count = 1000
    with StreamClient(port, "/stream?width=160", timeout=10 * scale) as viewer:
        viewer.start()
        viewer.read_part()
        statuses = [None] * count

        def one(index):
            path = (f"/stream?width={100 + 2 * index}" if index % 2 else
                    f"/snapshot?width={100 + 2 * index}&quality={1 + index % 100}")
            try:
                with connect(port, timeout=20 * scale) as sock:
                    sock.sendall(request_bytes("GET", path, port))
                    line, _ = read_until(sock, b"\r\n", deadline=time.monotonic() + 20 * scale)
                    statuses[index] = int(line.split()[1])
            except OSError as error:
                statuses[index] = repr(error)

        most = [0]
        flooding = threading.Event()

        def poll():
            while not flooding.is_set():
                most[0] = max(most[0], len(get_json(port, timeout=20 * scale)["outputs"]))
                time.sleep(0.02)

        threads = [threading.Thread(target=one, args=(i,)) for i in range(count)]
        poller = threading.Thread(target=poll)
        poller.start()
        started = time.monotonic()
        for thread in threads:
            thread.start()
        parts = viewer.count_parts_for(2.0, 160, 120)
        for thread in threads:
            thread.join(timeout=60 * scale)
        flooding.set()
        poller.join(timeout=30 * scale)
        assert time.monotonic() - started < 60 * scale
        assert len(parts) >= 10, f"the viewer got {len(parts)} frames in 2 s during the flood"
        assert all(s in (200, 503) for s in statuses), \
            f"unexpected answers: {[s for s in statuses if s not in (200, 503)][:10]}"
        assert statuses.count(503) > 0, "a thousand distinct sizes, and none refused"
        assert statuses.count(200) > 0, "not one of the distinct sizes served"
        assert 2 <= most[0] <= 1 + 4, f"{most[0]} outputs at once with --max-outputs 4"
        assert len(viewer.count_parts_for(1.0, 160, 120)) >= 5
    wait_until(lambda: len(get_json(port)["outputs"]) == 1, 10 * scale,
               "every output released after the flood")


def test_a_source_of_camera_jpegs_is_decoded_for_a_sized_output(start_server, scale):
    upstream = FakeUpstream(streaming(make_jpegs(3)))
    try:
        relay = start_server(source=upstream.url(), extra=["--idle-timeout", "5"])
        port = relay.port
        with StreamClient(port, "/stream", timeout=10 * scale) as main, \
                StreamClient(port, "/stream?width=160", timeout=10 * scale) as sized:
            main.start()
            sized.start()
            for frame in sized.read_parts(3):
                assert_baseline_jpeg(frame.jpeg, 160, 120)
            assert len(main.count_parts_for(1.0, 320, 240)) >= 5
            snapshot = http_get(port, "/snapshot?width=80&quality=30", timeout=10 * scale)
            assert snapshot.status == 200
            assert_baseline_jpeg(snapshot.body, 80, 60)
            assert get_metrics(port)[("camstream_frames_decoded_total", "")] > 0
    finally:
        upstream.stop()
