"""camstream on a real libcamera camera: the binary runs inside the Debian trixie root that
.ci/virtual-camera.sh builds (libcamera 0.7.1, the virtual pipeline), the clients run here.

CAMSTREAM_CHROOT is the root, CAMSTREAM_BIN the binary's path inside it. The root shares this
machine's network, so the server is reached on 127.0.0.1. Missing either is a failure.
"""

import importlib.util
import os
import subprocess
import sys
import tempfile

import pytest

INTEGRATION = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "integration")
sys.path.insert(0, INTEGRATION)

# The integration tests' server wrapper, loaded under its own name (both files are "conftest").
_spec = importlib.util.spec_from_file_location("integration_conftest",
                                               os.path.join(INTEGRATION, "conftest.py"))
integration_conftest = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(integration_conftest)
Server = integration_conftest.Server


def chroot_root():
    root = os.environ.get("CAMSTREAM_CHROOT")
    if not root or not os.path.isdir(root):
        pytest.fail(f"CAMSTREAM_CHROOT={root!r} is not a directory (run .ci/virtual-camera.sh)")
    return root


def inner_bin():
    path = os.environ.get("CAMSTREAM_BIN")
    if not path or not os.access(chroot_root() + path, os.X_OK):
        pytest.fail(f"CAMSTREAM_BIN={path!r} is not an executable inside CAMSTREAM_CHROOT")
    return path


def command(*args):
    """camstream inside the root: chroot execs it, so the pid is camstream's own."""
    return ["chroot", chroot_root(), "/usr/bin/env", "-i", "PATH=/usr/bin:/bin",
            "LIBCAMERA_LOG_LEVELS=*:ERROR", inner_bin(), *[str(a) for a in args]]


def run_camstream(*args, timeout=30):
    return subprocess.run(command(*args), capture_output=True, text=True, timeout=timeout,
                          stdin=subprocess.DEVNULL)


def run_in_root(*args, timeout=30):
    """Any program inside the root (cam, the controls probe), libcamera logs quiet."""
    return subprocess.run(["chroot", chroot_root(), "/usr/bin/env", "-i", "PATH=/usr/bin:/bin",
                           "LIBCAMERA_LOG_LEVELS=*:ERROR", *[str(a) for a in args]],
                          capture_output=True, text=True, timeout=timeout,
                          stdin=subprocess.DEVNULL)


def controls_probe():
    """tests/camera/controls_probe.cpp's binary inside the root (CAMSTREAM_CONTROLS_PROBE)."""
    path = os.environ.get("CAMSTREAM_CONTROLS_PROBE")
    if not path or not os.access(chroot_root() + path, os.X_OK):
        pytest.fail(f"CAMSTREAM_CONTROLS_PROBE={path!r} is not an executable inside the root")
    return path


@pytest.fixture
def start_camera_server():
    """Factory: start_camera_server(*args) -> Server on 127.0.0.1, port 0, libcamera logs quiet.

    Every server is stopped at teardown and must exit 0.
    """
    servers = []
    workdirs = []

    def start(*args, wait=True):
        workdir = tempfile.TemporaryDirectory(prefix="camstream-camera-")
        workdirs.append(workdir)
        server = Server(command("--bind", "127.0.0.1", "--port", "0", *args), workdir.name)
        servers.append(server)
        if wait:
            server.wait_listening(20.0)
        return server

    yield start

    integration_conftest.stop_all(servers, workdirs, stop_timeout=10.0)
