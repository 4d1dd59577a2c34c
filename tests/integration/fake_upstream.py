"""A fake MJPEG upstream for the relay tests: a loopback HTTP server (port 0) whose every
connection is handled by a behaviour function, so that a test can send each camera quirk and
each kind of break. It records the requests and how many connections are open.

Everything runs on 127.0.0.1, every socket has a timeout, and stop() ends every thread.
"""

import base64
import socket
import subprocess
import threading
import time


def make_jpegs(count, width=320, height=240):
    """Distinct baseline JPEGs (with Huffman tables) made by ffmpeg's test source."""
    jpegs = []
    for index in range(count):
        out = subprocess.run(
            ["ffmpeg", "-v", "error", "-f", "lavfi", "-i", f"testsrc2=size={width}x{height}:rate=25",
             "-vf", f"select=eq(n\\,{index})", "-frames:v", "1", "-pix_fmt", "yuvj420p",
             "-f", "mjpeg", "-q:v", "5", "-"],
            check=True, capture_output=True, timeout=30)
        jpegs.append(out.stdout)
    assert len(set(jpegs)) == count, "ffmpeg gave identical frames"
    return jpegs


def head(content_type="multipart/x-mixed-replace; boundary=frame", status="200 OK", extra=()):
    lines = [f"HTTP/1.1 {status}", f"Content-Type: {content_type}", "Connection: close",
             "Cache-Control: no-cache", *extra, "", ""]
    return "\r\n".join(lines).encode()


def part(jpeg, delimiter=b"--frame", content_length=True, timestamp=None, newline=b"\r\n"):
    """One part: delimiter line, headers, blank line, JPEG, line end (before the next one)."""
    lines = [delimiter, b"Content-Type: image/jpeg"]
    if content_length:
        lines.append(b"Content-Length: " + str(len(jpeg)).encode())
    if timestamp is not None:
        lines.append(b"X-Timestamp: " + timestamp.encode())
    return newline.join(lines) + newline + newline + jpeg + newline


class Connection:
    def __init__(self, upstream, sock, index):
        self.upstream = upstream
        self.sock = sock
        self.index = index
        self.request = b""

    def send(self, data):
        """False once the peer is gone or the upstream is stopping."""
        if self.upstream.stopping.is_set():
            return False
        try:
            self.sock.sendall(data)
            return True
        except OSError:
            return False

    def wait(self, seconds):
        """Sleeps, or returns False early when the upstream is stopping."""
        return not self.upstream.stopping.wait(seconds)

    def closed_by_peer(self):
        """True once the relay has closed its end (a read returns EOF)."""
        try:
            self.sock.settimeout(0.0)
            return self.sock.recv(1, socket.MSG_PEEK) == b""
        except (BlockingIOError, InterruptedError):
            return False
        except OSError:
            return True
        finally:
            self.sock.settimeout(5.0)

    def authorization(self):
        for line in self.request.split(b"\r\n")[1:]:
            name, _, value = line.partition(b":")
            if name.strip().lower() == b"authorization":
                return value.strip().decode()
        return None


class FakeUpstream:
    """behaviour(connection) runs on its own thread for each accepted connection."""

    def __init__(self, behaviour):
        self.behaviour = behaviour
        self.listener = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        self.listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        self.listener.bind(("127.0.0.1", 0))
        self.listener.listen(16)
        self.listener.settimeout(0.2)
        self.port = self.listener.getsockname()[1]
        self.stopping = threading.Event()
        self.lock = threading.Lock()
        self.accepted = []  # (monotonic time, Connection)
        self.open = 0
        self.threads = []
        self.acceptor = threading.Thread(target=self._accept, daemon=True)
        self.acceptor.start()

    def url(self, path="/stream", userinfo=""):
        return f"http://{userinfo}127.0.0.1:{self.port}{path}"

    def _accept(self):
        while not self.stopping.is_set():
            try:
                sock, _ = self.listener.accept()
            except socket.timeout:
                continue
            except OSError:
                return
            sock.settimeout(5.0)
            with self.lock:
                connection = Connection(self, sock, len(self.accepted))
                self.accepted.append((time.monotonic(), connection))
                self.open += 1
            thread = threading.Thread(target=self._serve, args=(connection,), daemon=True)
            self.threads.append(thread)
            thread.start()

    def _serve(self, connection):
        try:
            data = b""
            while b"\r\n\r\n" not in data and len(data) < 65536:
                chunk = connection.sock.recv(4096)
                if not chunk:
                    return
                data += chunk
            connection.request = data
            self.behaviour(connection)
        except OSError:
            pass
        finally:
            try:
                connection.sock.close()
            except OSError:
                pass
            with self.lock:
                self.open -= 1

    def connections(self):
        with self.lock:
            return [connection for _, connection in self.accepted]

    def accept_times(self):
        with self.lock:
            return [at for at, _ in self.accepted]

    def open_connections(self):
        with self.lock:
            return self.open

    def wait_connections(self, count, timeout):
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if len(self.connections()) >= count:
                return self.connections()
            time.sleep(0.02)
        raise AssertionError(f"{len(self.connections())} upstream connections, not {count}, "
                             f"after {timeout:.1f}s")

    def wait_open(self, count, timeout):
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.open_connections() == count:
                return
            time.sleep(0.02)
        raise AssertionError(f"{self.open_connections()} upstream connections open, not "
                             f"{count}, after {timeout:.1f}s")

    def stop(self):
        self.stopping.set()
        self.listener.close()
        self.acceptor.join(5)
        for connection in self.connections():
            try:
                connection.sock.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass
        for thread in self.threads:
            thread.join(5)


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


def basic(user, password):
    return "Basic " + base64.b64encode(f"{user}:{password}".encode()).decode()
