"""docs/usage.md: the command line and config file, seen through a running server."""

import os
import subprocess
import tempfile

import pytest

from conftest import camstream_bin
from helpers import StreamClient, assert_baseline_jpeg, get_json, http_get, timeout_scale


def run_camstream(args, timeout=10):
    result = subprocess.run([camstream_bin(), *args], capture_output=True,
                            timeout=timeout * timeout_scale(), stdin=subprocess.DEVNULL)
    return result.returncode, result.stdout.decode(errors="replace") + \
        result.stderr.decode(errors="replace")


def no_cameras_here():
    code, output = run_camstream(["--list-cameras"])
    return code == 0 and "no cameras found" in output


def test_list_cameras_exits_0():
    code, output = run_camstream(["--list-cameras"])
    assert code == 0, output
    assert output.strip(), "--list-cameras printed nothing"


@pytest.mark.skipif(not no_cameras_here(), reason="this machine has a camera")
def test_auto_source_falls_back_to_test_pattern_with_warning(start_server):
    server = start_server(source="auto")
    status = get_json(server.port)
    assert status["source"] == "test", status
    log = server.output().lower()
    assert "test pattern" in log and "warn" in log, f"no warning about the fallback:\n{log}"
    with StreamClient(server.port) as viewer:
        viewer.start()
        assert_baseline_jpeg(viewer.read_part().jpeg, 320, 240)


@pytest.mark.skipif(not no_cameras_here(), reason="this machine has a camera")
def test_libcamera_source_without_camera_exits_1():
    code, output = run_camstream(["--source", "libcamera", "--bind", "127.0.0.1",
                                  "--port", "0"])
    assert code == 1, output
    assert "camera" in output.lower()
    assert "listening on" not in output


def test_config_file_with_command_line_winning(start_server):
    with tempfile.TemporaryDirectory(prefix="camstream-conf-") as workdir:
        path = os.path.join(workdir, "camstream.conf")
        with open(path, "w") as config:
            config.write("# test configuration\n"
                         "width = 480\n"
                         "height = 360\n"
                         "interval = 200\n"
                         "quality = 50\n")
        server = start_server(width=320, height=None, interval=None,
                              extra=["--config", path])
        status = get_json(server.port)
    assert (status["width"], status["height"]) == (320, 360), status
    assert status["interval_ms"] == 200, status
    with StreamClient(server.port) as viewer:
        viewer.start()
        assert_baseline_jpeg(viewer.read_part().jpeg, 320, 360)


def test_bad_config_value_exits_2_naming_the_key():
    with tempfile.TemporaryDirectory(prefix="camstream-conf-") as workdir:
        path = os.path.join(workdir, "camstream.conf")
        with open(path, "w") as config:
            config.write("quality = 500\n")
        code, output = run_camstream(["--config", path, "--source", "test", "--port", "0"])
    assert code == 2, output
    assert "quality" in output, output


def test_fps_flag_sets_the_interval(start_server):
    server = start_server(interval=None, extra=["--fps", "10"])
    assert get_json(server.port)["interval_ms"] == 100


def snapshot_size(start_server, quality):
    server = start_server(width=640, height=480, extra=["--quality", quality])
    response = http_get(server.port, "/snapshot", timeout=10)
    assert response.status == 200
    assert_baseline_jpeg(response.body, 640, 480)
    return len(response.body)


def test_quality_changes_the_jpeg_size(start_server):
    low = snapshot_size(start_server, 10)
    high = snapshot_size(start_server, 95)
    assert high > low * 1.5, f"quality 95 gave {high} bytes, quality 10 gave {low}"


@pytest.mark.parametrize("path", ["/", "/api/status", "/metrics", "/healthz", "/snapshot",
                                  "/?action=snapshot"])
def test_head_works_wherever_get_does(server, path):
    get = http_get(server.port, path, timeout=10)
    head = http_get(server.port, path, method="HEAD", timeout=10)
    assert get.status == 200 and head.status == 200, (get.status_line, head.status_line)
    assert head.header("content-type") == get.header("content-type")
    assert head.body == b""
