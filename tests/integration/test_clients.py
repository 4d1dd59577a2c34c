"""Real clients read the stream: ffprobe, ffmpeg (lax and strict boundary), VLC."""

import json
import re
import shutil
import subprocess
import tempfile

import pytest

from helpers import client_env, png_size, run_vlc

WIDTH, HEIGHT = 320, 232  # a height that is not a multiple of 16, as cameras give

needs_ffmpeg = pytest.mark.skipif(shutil.which("ffmpeg") is None or shutil.which("ffprobe") is None,
                                  reason="ffmpeg is not installed")


@pytest.fixture
def client_server(start_server):
    return start_server(width=WIDTH, height=HEIGHT, interval=50)


@needs_ffmpeg
def test_ffprobe_sees_mjpeg(client_server, scale):
    result = subprocess.run(
        ["ffprobe", "-hide_banner", "-v", "error", "-rw_timeout", "5000000",
         "-select_streams", "v:0", "-show_entries", "stream=codec_name,width,height",
         "-show_entries", "format=format_name", "-of", "json", client_server.url("/stream")],
        env=client_env(), capture_output=True, timeout=30 * scale, stdin=subprocess.DEVNULL)
    assert result.returncode == 0, result.stderr.decode()
    info = json.loads(result.stdout)
    assert info["format"]["format_name"] == "mpjpeg"
    stream = info["streams"][0]
    assert stream["codec_name"] == "mjpeg"
    assert (stream["width"], stream["height"]) == (WIDTH, HEIGHT)


def run_ffmpeg(url, input_options, scale, frames=30):
    command = ["ffmpeg", "-hide_banner", "-nostdin", "-loglevel", "error", "-rw_timeout",
               "5000000", *input_options, "-i", url, "-frames:v", str(frames),
               "-f", "framemd5", "-"]
    result = subprocess.run(command, env=client_env(), capture_output=True,
                            timeout=30 * scale, stdin=subprocess.DEVNULL)
    assert result.returncode == 0, result.stderr.decode()[-3000:]
    errors = result.stderr.decode().strip()
    assert errors == "", f"ffmpeg reported problems:\n{errors[-3000:]}"
    lines = result.stdout.decode().splitlines()
    dimensions = [line for line in lines if line.startswith("#dimensions")]
    assert dimensions == [f"#dimensions 0: {WIDTH}x{HEIGHT}"], dimensions
    frame_lines = [line for line in lines if not line.startswith("#")]
    assert len(frame_lines) == frames
    digests = {line.split(",")[-1].strip() for line in frame_lines}
    assert len(digests) >= frames - 2, f"only {len(digests)} distinct decoded frames"


@needs_ffmpeg
def test_ffmpeg_decodes_30_frames(client_server, scale):
    run_ffmpeg(client_server.url("/stream"), [], scale)


@needs_ffmpeg
def test_ffmpeg_strict_boundary(client_server, scale):
    run_ffmpeg(client_server.url("/stream"), ["-f", "mpjpeg", "-strict_mime_boundary", "1"],
               scale)


@needs_ffmpeg
def test_ffmpeg_mjpg_streamer_alias(client_server, scale):
    run_ffmpeg(client_server.url("/?action=stream"), [], scale, frames=10)


@needs_ffmpeg
def test_ffmpeg_reads_advance_headers_stream(client_server, scale):
    """Parts without Content-Length (advance_headers) still split and decode."""
    run_ffmpeg(client_server.url("/stream?advance_headers=1"), [], scale, frames=10)


VLC_ERROR_RE = re.compile(r"(decoder error|demux error|Corrupt JPEG|jpeg.*error|mjpeg.*error|"
                          r"avcodec.*error|cannot (open|decode))", re.IGNORECASE)


@pytest.mark.skipif(shutil.which("vlc") is None or shutil.which("setpriv") is None,
                    reason="vlc or setpriv is not installed")
def test_vlc_decodes_pictures(client_server, scale):
    with tempfile.TemporaryDirectory(prefix="camstream-vlc-", dir="/tmp") as workdir:
        log, pictures = run_vlc(client_server.url("/stream"), workdir, 4 * scale, scale)
        assert len(pictures) >= 10, \
            f"VLC wrote {len(pictures)} pictures in 4 s at 20 frames/s:\n{log[-4000:]}"
        # The visible size ("vsz") is in the log; the pictures carry the coded size, which
        # libavcodec pads (232 lines become 256 here).
        formats = [line for line in log.splitlines() if "original format sz" in line]
        assert formats and all(f"vsz {WIDTH}x{HEIGHT}," in line for line in formats), \
            f"VLC did not report a {WIDTH}x{HEIGHT} picture: {formats}\n" + log[-3000:]
        for picture in pictures[-3:]:
            width, height = png_size(picture)
            assert width == WIDTH and HEIGHT <= height < HEIGHT + 32, \
                f"VLC picture is {width}x{height}"
        problems = [line for line in log.splitlines() if VLC_ERROR_RE.search(line)]
        assert not problems, "VLC reported decoding problems:\n" + "\n".join(problems[:20])
