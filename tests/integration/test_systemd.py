"""systemd integration (docs/install.md, "As a service"): the sd_notify messages a Type=notify
unit relies on, read from a real NOTIFY_SOCKET, and socket activation with a listening
socket passed the way systemd passes it (LISTEN_FDS, LISTEN_PID, descriptor 3)."""

import os
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import time

import pytest

import conftest
from conftest import camstream_bin, server_args
from helpers import StreamClient, http_get, timeout_scale


class NotifySocket:
    """The service manager's end: an AF_UNIX datagram socket collecting sd_notify messages."""

    def __init__(self, directory):
        self.path = os.path.join(directory, "notify")
        self.sock = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
        self.sock.bind(self.path)
        self.messages = []  # (monotonic time, {key: value})

    def close(self):
        self.sock.close()

    def _receive(self, timeout):
        self.sock.settimeout(max(0.001, timeout))
        try:
            data = self.sock.recv(65536)
        except socket.timeout:
            return False
        fields = dict(line.split("=", 1) for line in data.decode().splitlines() if "=" in line)
        self.messages.append((time.monotonic(), fields))
        return True

    def wait_for(self, key, value=None, timeout=5.0, contains=None):
        """Returns the first message (collected or new) with key (= value, or containing)."""
        deadline = time.monotonic() + timeout * timeout_scale()
        seen = 0
        while True:
            for _, fields in self.messages[seen:]:
                if key in fields and (value is None or fields[key] == value) and \
                        (contains is None or contains in fields[key]):
                    return fields
            seen = len(self.messages)
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                raise AssertionError(f"no {key}={value or contains or ''} within {timeout}s; "
                                     f"got {[m for _, m in self.messages]}")
            self._receive(remaining)

    def collect(self, seconds):
        deadline = time.monotonic() + seconds
        while (remaining := deadline - time.monotonic()) > 0:
            self._receive(remaining)

    def times_of(self, key):
        return [t for t, fields in self.messages if key in fields]


@pytest.fixture
def notify(monkeypatch):
    with tempfile.TemporaryDirectory(prefix="camstream-notify-") as directory:
        listener = NotifySocket(directory)
        monkeypatch.setenv("NOTIFY_SOCKET", listener.path)
        monkeypatch.delenv("WATCHDOG_PID", raising=False)
        yield listener
        listener.close()


def test_ready_status_watchdog_and_stopping(start_server, notify, monkeypatch):
    monkeypatch.setenv("WATCHDOG_USEC", "1000000")  # fed every 0.5 s
    server = start_server(wait=False)
    ready = notify.wait_for("READY", "1", timeout=10)
    # READY=1 comes once the socket is bound: the listening line is out and the port answers.
    server.wait_listening(1.0)
    assert http_get(server.port, "/healthz").status == 200
    assert ready.get("STATUS", "").startswith("idle, 0 viewers"), ready

    notify.collect(2.0)
    pings = notify.times_of("WATCHDOG")
    assert 3 <= len(pings) <= 6, f"{len(pings)} WATCHDOG=1 in 2 s at a 1 s period"
    gaps = [b - a for a, b in zip(pings, pings[1:])]
    # What systemd needs: no gap near the 1 s timeout. The pings keep their schedule, so one
    # late by a busy machine is followed by one soon after: the median is the period.
    assert max(gaps) < 0.8 * timeout_scale(), gaps
    assert 0.3 < statistics.median(gaps) < 0.7, gaps
    assert all(fields["WATCHDOG"] == "1" for _, fields in notify.messages if "WATCHDOG" in fields)

    with StreamClient(server.port) as viewer:
        viewer.start()
        viewer.read_parts(5)
        notify.wait_for("STATUS", contains="streaming, 1 viewer,")
        # Streaming with a viewer, the watchdog is still fed.
        before = len(notify.times_of("WATCHDOG"))
        notify.collect(1.2)
        assert len(notify.times_of("WATCHDOG")) > before

    notify.messages.clear()
    code, _ = server.stop(signal.SIGTERM)
    assert code == 0
    notify.collect(0.2)
    stopping = [fields for _, fields in notify.messages if fields.get("STOPPING") == "1"]
    assert len(stopping) == 1, notify.messages
    # Nothing but the last words after STOPPING=1: no more watchdog pings.
    after = notify.messages[[m for _, m in notify.messages].index(stopping[0]) + 1:]
    assert not [m for _, m in after if "WATCHDOG" in m], after


def test_no_watchdog_pings_unless_asked(start_server, notify, monkeypatch):
    monkeypatch.delenv("WATCHDOG_USEC", raising=False)
    server = start_server()
    notify.wait_for("READY", "1")
    notify.collect(1.2)
    assert not notify.times_of("WATCHDOG")
    # A watchdog meant for another process (WATCHDOG_PID) is not ours to feed either.
    monkeypatch.setenv("WATCHDOG_USEC", "200000")
    monkeypatch.setenv("WATCHDOG_PID", "1")
    other = start_server()
    notify.collect(0.6)
    assert not notify.times_of("WATCHDOG")
    assert http_get(server.port, "/healthz").status == 200
    assert http_get(other.port, "/healthz").status == 200


@pytest.mark.parametrize("usec", ["abc", "0", "-5", "1", "18446744073709551615",
                                  "99999999999999999999999", ""])
def test_nonsense_watchdog_usec_is_harmless(start_server, notify, monkeypatch, usec):
    monkeypatch.setenv("WATCHDOG_USEC", usec)
    server = start_server()
    notify.wait_for("READY", "1")
    notify.collect(0.5)
    # At most every 500 ms (the period is at least 1 s: sd_notify blocks on a full queue),
    # however small the value.
    assert len(notify.times_of("WATCHDOG")) <= 2
    with StreamClient(server.port) as viewer:
        viewer.start()
        viewer.read_parts(3)
    assert http_get(server.port, "/healthz").status == 200


@pytest.mark.parametrize("path", ["/nonexistent/notify", "x" * 5000, "@"])
def test_unreachable_notify_socket_is_harmless(start_server, monkeypatch, path):
    monkeypatch.setenv("NOTIFY_SOCKET", path)
    monkeypatch.setenv("WATCHDOG_USEC", "200000")
    server = start_server()
    with StreamClient(server.port) as viewer:
        viewer.start()
        viewer.read_parts(3)
    time.sleep(0.3)
    assert server.stderr().count("cannot notify systemd") <= 1


# --- Socket activation -----------------------------------------------------------------------

# Does what systemd does between fork and exec: the passed sockets at descriptors 3, 4...,
# LISTEN_FDS=count, LISTEN_PID=the pid that execs camstream (this one: exec keeps it).
LAUNCHER = r"""
import fcntl, os, sys
fds = [int(fd) for fd in sys.argv[1].split(",") if fd]
high = [fcntl.fcntl(fd, fcntl.F_DUPFD, 100) for fd in fds]
for index, fd in enumerate(high):
    os.dup2(fd, 3 + index)
os.environ["LISTEN_FDS"] = sys.argv[2]
os.environ["LISTEN_PID"] = str(os.getpid()) if sys.argv[3] == "self" else sys.argv[3]
os.execv(sys.argv[4], sys.argv[4:])
"""


class ActivatedServer(conftest.Server):
    """A camstream started through LAUNCHER with the given sockets."""

    # By default its own --bind/--port would fail (a TEST-NET address): proves they are unused.
    def __init__(self, sockets, workdir, listen_fds=None, listen_pid="self", bind="192.0.2.1",
                 port=9):
        fds = [s.fileno() for s in sockets]
        args = server_args(bind=bind, port=port)
        self.args = [sys.executable, "-c", LAUNCHER, ",".join(map(str, fds)),
                     str(len(fds) if listen_fds is None else listen_fds), listen_pid] + args
        self.stdout_path = os.path.join(workdir, "stdout.log")
        self.stderr_path = os.path.join(workdir, "stderr.log")
        with open(self.stdout_path, "wb") as out, open(self.stderr_path, "wb") as err:
            self.proc = subprocess.Popen(self.args, stdout=out, stderr=err,
                                         stdin=subprocess.DEVNULL, pass_fds=fds)
        self.host = None
        self.port = None
        self.listening_line = None
        self.stopped = False


@pytest.fixture
def activate():
    started = []
    with tempfile.TemporaryDirectory(prefix="camstream-activation-") as workdir:
        def launch(sockets, **kwargs):
            directory = tempfile.mkdtemp(dir=workdir)
            server = ActivatedServer(sockets, directory, **kwargs)
            started.append(server)
            return server

        yield launch
        for server in started:
            if server.proc.poll() is None:
                server.stop()
            server.assert_no_sanitizer_report()


def listening_socket(host):
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    sock = socket.socket(family, socket.SOCK_STREAM)
    sock.bind((host, 0))
    sock.listen(128)
    return sock


@pytest.mark.parametrize("host", ["127.0.0.1", "::1"])
def test_streams_through_the_socket_systemd_passes(activate, host):
    with listening_socket(host) as sock:
        port = sock.getsockname()[1]
        server = activate([sock])
        server.wait_listening(10.0 * timeout_scale())
        assert server.port == port and server.host == host, server.listening_line
        assert "socket activation" in server.stderr()
        with StreamClient(port, host=host) as viewer:
            viewer.start()
            parts = viewer.read_parts(10)
            assert len(parts) == 10
        assert http_get(port, "/healthz", host=host).status == 200
        code, _ = server.stop()
        assert code == 0, server.stderr()[-2000:]


def test_sockets_meant_for_another_process_are_ignored(activate):
    with listening_socket("127.0.0.1") as sock:
        server = activate([sock], listen_pid="1", bind="127.0.0.1", port=0)
        server.wait_listening(10.0 * timeout_scale())
        assert server.port != sock.getsockname()[1]
        assert http_get(server.port, "/healthz").status == 200


def udp_socket():
    sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    sock.bind(("127.0.0.1", 0))
    return sock


def unlistened_tcp_socket():
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.bind(("127.0.0.1", 0))
    return sock


class FileAsSocket:
    def __init__(self):
        self.file = tempfile.TemporaryFile()

    def fileno(self):
        return self.file.fileno()

    def close(self):
        self.file.close()


@pytest.mark.parametrize("make, listen_fds, message", [
    (lambda: [listening_socket("127.0.0.1"), listening_socket("127.0.0.1")], None, "2 sockets"),
    (lambda: [udp_socket()], None, "not a listening TCP socket"),
    (lambda: [unlistened_tcp_socket()], None, "not a listening TCP socket"),
    (lambda: [FileAsSocket()], None, "not a listening TCP socket"),
    (lambda: [listening_socket("127.0.0.1")], "5", "socket activation"),  # 4..7 not open
    (lambda: [listening_socket("127.0.0.1")], "many", "socket activation"),
    (lambda: [listening_socket("127.0.0.1")], "0", "socket activation"),
])
def test_unusable_passed_sockets_are_refused(activate, make, listen_fds, message):
    sockets = make()
    try:
        server = activate(sockets, listen_fds=listen_fds)
        code = server.proc.wait(10 * timeout_scale())
        assert code == 1, server.output()[-2000:]
        assert message in server.stderr(), server.stderr()[-2000:]
        assert "listening on" not in server.stdout()
    finally:
        for sock in sockets:
            sock.close()
