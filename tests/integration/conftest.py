"""Starts real camstream servers (test source, loopback, port 0) for the integration tests.

The binary comes from CAMSTREAM_BIN. Each server is stopped with SIGTERM at teardown, and
the teardown asserts a clean exit (code 0, in time, no sanitizer report).
"""

import os
import re
import signal
import subprocess
import tempfile
import time

import pytest

from fake_upstream import FakeUpstream
from helpers import timeout_scale

LISTENING_RE = re.compile(r"listening on https?://(\[[0-9a-fA-F:.]+\]|[^/:\s]+):(\d+)/")
SANITIZER_MARKERS = ("ERROR: AddressSanitizer", "runtime error:", "ERROR: LeakSanitizer",
                     "WARNING: ThreadSanitizer")


def camstream_bin():
    path = os.environ.get("CAMSTREAM_BIN")
    if not path:
        pytest.fail("CAMSTREAM_BIN is not set (run through ctest, or export it)")
    if not os.access(path, os.X_OK):
        pytest.fail(f"CAMSTREAM_BIN={path} is not an executable")
    return path


class Server:
    """A running camstream process."""

    def __init__(self, args, workdir):
        self.args = args
        self.stdout_path = os.path.join(workdir, "stdout.log")
        self.stderr_path = os.path.join(workdir, "stderr.log")
        with open(self.stdout_path, "wb") as out, open(self.stderr_path, "wb") as err:
            self.proc = subprocess.Popen(args, stdout=out, stderr=err, stdin=subprocess.DEVNULL)
        self.host = None
        self.port = None
        self.listening_line = None
        self.stopped = False

    @property
    def pid(self):
        return self.proc.pid

    def stdout(self):
        with open(self.stdout_path, "rb") as out:
            return out.read().decode(errors="replace")

    def stderr(self):
        with open(self.stderr_path, "rb") as err:
            return err.read().decode(errors="replace")

    def output(self):
        return self.stdout() + self.stderr()

    def wait_listening(self, timeout):
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            for line in self.stdout().splitlines():
                match = LISTENING_RE.search(line)
                if match:
                    self.listening_line = line
                    self.host = match.group(1).strip("[]")
                    self.port = int(match.group(2))
                    return
            if self.proc.poll() is not None:
                raise AssertionError(
                    f"camstream exited with {self.proc.returncode} before listening:\n"
                    f"{self.output()[-3000:]}")
            time.sleep(0.02)
        raise AssertionError(f"no 'listening on' line within {timeout}s:\n{self.output()[-3000:]}")

    @property
    def base_url(self):
        host = f"[{self.host}]" if ":" in self.host else self.host
        return f"http://{host}:{self.port}"

    def url(self, path):
        return self.base_url + path

    def vm_rss_kib(self):
        with open(f"/proc/{self.pid}/status") as status:
            for line in status:
                if line.startswith("VmRSS:"):
                    return int(line.split()[1])
        raise AssertionError("no VmRSS")

    def stop(self, sig=signal.SIGTERM, timeout=None):
        """Signals the server and returns (exit code, seconds it took)."""
        timeout = timeout if timeout is not None else 5.0 * timeout_scale()
        if self.stopped:
            return self.proc.returncode, 0.0
        self.stopped = True
        started = time.monotonic()
        if self.proc.poll() is None:
            self.proc.send_signal(sig)
        try:
            code = self.proc.wait(timeout)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait(5)
            raise AssertionError(
                f"camstream did not exit within {timeout:.1f}s of {sig.name}:\n"
                f"{self.output()[-3000:]}")
        return code, time.monotonic() - started

    def assert_no_sanitizer_report(self):
        errors = self.stderr()
        for marker in SANITIZER_MARKERS:
            assert marker not in errors, f"sanitizer report in stderr:\n{errors[-6000:]}"


def server_args(width=320, height=240, interval=50, extra=(), bind="127.0.0.1", port=0,
                source="test"):
    args = [camstream_bin()]
    if source is not None:
        args += ["--source", source]
    if bind is not None:
        args += ["--bind", bind]
    if port is not None:
        args += ["--port", str(port)]
    if width is not None:
        args += ["--width", str(width)]
    if height is not None:
        args += ["--height", str(height)]
    if interval is not None:
        args += ["--interval", str(interval)]
    return args + [str(a) for a in extra]


def stop_all(servers, workdirs, stop_timeout=None):
    """A server factory's teardown: each server still running gets SIGTERM and must exit 0,
    none may have died during the test or left a sanitizer report; then the work folders go."""
    failures = []
    for server in servers:
        try:
            if server.listening_line is None and server.proc.poll() is not None:
                continue  # a server expected to fail at start-up; its test checked that
            if not server.stopped:
                exited_early = server.proc.poll() is not None
                code, _ = server.stop(timeout=stop_timeout)
                if exited_early:
                    failures.append(f"camstream died during the test (exit code {code}):\n"
                                    f"{server.stderr()[-3000:]}")
                elif code != 0:
                    failures.append(f"exit code {code} after SIGTERM:\n{server.stderr()[-3000:]}")
            server.assert_no_sanitizer_report()
        except AssertionError as error:
            failures.append(str(error))
    for workdir in workdirs:
        workdir.cleanup()
    if failures:
        pytest.fail("server teardown: " + "\n".join(failures))


@pytest.fixture
def start_server():
    """Factory: start_server(width=, height=, interval=, extra=[...], bind=) -> Server.

    Every server started is stopped at teardown and must exit 0 without a sanitizer report.
    """
    servers = []
    workdirs = []

    def start(wait=True, **kwargs):
        workdir = tempfile.TemporaryDirectory(prefix="camstream-it-")
        workdirs.append(workdir)
        server = Server(server_args(**kwargs), workdir.name)
        servers.append(server)
        if wait:
            server.wait_listening(10.0 * timeout_scale())
        return server

    yield start

    stop_all(servers, workdirs)


@pytest.fixture
def server(start_server):
    """A 320x240 test-source server at 20 frames/s."""
    return start_server()


@pytest.fixture
def scale():
    return timeout_scale()


@pytest.fixture
def upstreams():
    """Factory: upstreams(behaviour) -> a FakeUpstream (fake_upstream.py), stopped at teardown."""
    started = []

    def start(behaviour):
        upstream = FakeUpstream(behaviour)
        started.append(upstream)
        return upstream

    yield start
    for upstream in started:
        upstream.stop()
