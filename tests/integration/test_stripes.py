"""Striped encoding (--encode-threads): the stream's JPEGs carry a restart interval and one RSTn
between stripes, and real decoders (djpeg, ffmpeg, VLC) read them without a word."""

import re
import shutil
import subprocess
import tempfile

import pytest

from helpers import StreamClient, assert_baseline_jpeg, client_env, http_get, png_size, run_vlc

# 360 rows: 22.5 MCU rows at 4:2:0, so the last stripe ends in a half-padded MCU row.
WIDTH, HEIGHT = 640, 360
THREADS = 3
STRIPE_RESTARTS = [0, 1, 2, 3, 4, 5, 6, 7, 0, 1, 2]


def restart_markers(jpeg):
    """(DRI's interval or None, the n of every RSTn in order)."""
    interval = None
    dri = jpeg.find(b"\xff\xdd")
    if dri >= 0:
        interval = int.from_bytes(jpeg[dri + 4:dri + 6], "big")
    restarts = [m.group(0)[1] - 0xD0 for m in re.finditer(rb"\xff[\xd0-\xd7]", jpeg)]
    return interval, restarts


@pytest.fixture
def striped_server(start_server):
    return start_server(width=WIDTH, height=HEIGHT, interval=50,
                        extra=["--encode-threads", str(THREADS)])


def test_stream_parts_are_striped_baseline_jpegs(striped_server, scale):
    with StreamClient(striped_server.port, timeout=10 * scale) as client:
        client.start(timeout=10 * scale)
        parts = client.read_parts(5, timeout=10 * scale)
    # 3 threads cut 12 stripes (4 each): 23 MCU rows as 11 of 2 rows and one of 1, 40 MCUs a
    # row, and 11 restart markers that wrap from RST7 back to RST0.
    for part in parts:
        assert_baseline_jpeg(part.jpeg, WIDTH, HEIGHT)
        interval, restarts = restart_markers(part.jpeg)
        assert interval == 40 * 2, f"DRI {interval}"
        assert restarts == STRIPE_RESTARTS, restarts


def test_one_thread_gives_no_restart_markers(start_server, scale):
    server = start_server(width=WIDTH, height=HEIGHT, interval=50,
                          extra=["--encode-threads", "1"])
    response = http_get(server.port, "/snapshot", timeout=10 * scale)
    assert response.status == 200, response.status_line
    assert_baseline_jpeg(response.body, WIDTH, HEIGHT)
    assert restart_markers(response.body) == (None, [])


@pytest.mark.skipif(shutil.which("djpeg") is None, reason="djpeg is not installed")
def test_djpeg_decodes_a_striped_snapshot_without_warnings(striped_server, scale):
    response = http_get(striped_server.port, "/snapshot", timeout=10 * scale)
    assert response.status == 200, response.status_line
    assert restart_markers(response.body)[1] == STRIPE_RESTARTS
    result = subprocess.run(["djpeg", "-pnm"], input=response.body, capture_output=True,
                            timeout=30 * scale)
    assert result.returncode == 0, result.stderr.decode()
    assert result.stderr == b"", result.stderr.decode()
    assert result.stdout.startswith(f"P6\n{WIDTH} {HEIGHT}\n255\n".encode())


@pytest.mark.skipif(shutil.which("ffmpeg") is None, reason="ffmpeg is not installed")
def test_ffmpeg_decodes_the_striped_stream_without_warnings(striped_server, scale):
    # -loglevel warning: a restart marker out of place makes libavcodec's mjpeg decoder warn
    # ("marker ... not found", "error count"), which the error level would not show.
    command = ["ffmpeg", "-hide_banner", "-nostdin", "-loglevel", "warning", "-rw_timeout",
               "5000000", "-i", striped_server.url("/stream"), "-frames:v", "20",
               "-f", "framemd5", "-"]
    result = subprocess.run(command, env=client_env(), capture_output=True, timeout=30 * scale,
                            stdin=subprocess.DEVNULL)
    assert result.returncode == 0, result.stderr.decode()[-3000:]
    assert result.stderr.decode().strip() == "", result.stderr.decode()[-3000:]
    lines = result.stdout.decode().splitlines()
    assert [line for line in lines if line.startswith("#dimensions")] == \
        [f"#dimensions 0: {WIDTH}x{HEIGHT}"]
    frames = [line for line in lines if not line.startswith("#")]
    assert len(frames) == 20
    assert len({line.split(",")[-1].strip() for line in frames}) >= 18


VLC_ERROR_RE = re.compile(r"(decoder error|demux error|Corrupt JPEG|jpeg.*error|mjpeg.*error|"
                          r"avcodec.*error|cannot (open|decode)|restart|marker)", re.IGNORECASE)


@pytest.mark.skipif(shutil.which("vlc") is None or shutil.which("setpriv") is None,
                    reason="vlc or setpriv is not installed")
def test_vlc_decodes_the_striped_stream(striped_server, scale):
    with tempfile.TemporaryDirectory(prefix="camstream-vlc-", dir="/tmp") as workdir:
        log, pictures = run_vlc(striped_server.url("/stream"), workdir, 4 * scale, scale)
        assert len(pictures) >= 10, f"VLC wrote {len(pictures)} pictures:\n{log[-4000:]}"
        for picture in pictures[-3:]:
            width, height = png_size(picture)
            assert width == WIDTH and HEIGHT <= height < HEIGHT + 32, f"{width}x{height}"
        problems = [line for line in log.splitlines() if VLC_ERROR_RE.search(line)]
        assert not problems, "VLC reported decoding problems:\n" + "\n".join(problems[:20])
