"""Clients for the integration tests: raw HTTP, a byte-exact MJPEG stream reader, JPEG and
PNG header parsing, metrics parsing, and the WebSocket client wrapper.

Everything here talks only to loopback and every blocking call has a timeout.
"""

import asyncio
import http.client
import json
import os
import re
import selectors
import socket
import struct
import time

BOUNDARY = b"camstreamframe"
DELIMITER = b"--" + BOUNDARY + b"\r\n"
CLOSE_DELIMITER = b"--" + BOUNDARY + b"--\r\n"
# What follows every JPEG: the end of the part and the next part's delimiter, in one write.
PART_END = b"\r\n" + DELIMITER
TIMESTAMP_RE = re.compile(rb"^\d+\.\d{6}$")


def timeout_scale():
    """Sanitizer builds run ~3x slower; time bounds are multiplied by this."""
    scale = os.environ.get("CAMSTREAM_TIMEOUT_SCALE")
    if scale:
        return float(scale)
    return 3.0 if _binary_has_sanitizer() else 1.0


_sanitizer_cache = {}


def _binary_has_sanitizer():
    path = os.environ.get("CAMSTREAM_BIN", "")
    if path not in _sanitizer_cache:
        markers = (b"__asan_init", b"__tsan_init", b"libasan.so", b"libtsan.so")
        found = False
        try:
            with open(path, "rb") as binary:
                tail = b""
                while not found and (chunk := binary.read(8 << 20)):
                    window = tail + chunk
                    found = any(marker in window for marker in markers)
                    tail = chunk[-16:]
        except OSError:
            pass
        _sanitizer_cache[path] = found
    return _sanitizer_cache[path]


def client_env():
    """Environment for client programs: no proxies (they must reach loopback directly)."""
    env = {k: v for k, v in os.environ.items() if "proxy" not in k.lower()}
    env["LC_ALL"] = "C"
    return env


def connect(port, host="127.0.0.1", timeout=5.0, rcvbuf=None):
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    sock = socket.socket(family, socket.SOCK_STREAM)
    if rcvbuf is not None:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, rcvbuf)
    sock.settimeout(timeout)
    sock.connect((host, port))
    return sock


def request_bytes(method, path, port, host="127.0.0.1", extra_headers=()):
    host_header = f"[{host}]:{port}" if ":" in host else f"{host}:{port}"
    lines = [f"{method} {path} HTTP/1.1", f"Host: {host_header}", *extra_headers, "", ""]
    return "\r\n".join(lines).encode()


class Response:
    def __init__(self, status_line, headers, body, head_raw):
        self.status_line = status_line
        self.status = int(status_line.split(b" ")[1]) if status_line else 0
        self.headers = headers  # list of (lower-case name, value) as str
        self.body = body
        self.head_raw = head_raw

    def header(self, name):
        values = [v for n, v in self.headers if n == name.lower()]
        return values[0] if values else None

    def header_names(self):
        return [n for n, _ in self.headers]


def parse_head(head_raw):
    lines = head_raw.split(b"\r\n")
    headers = []
    for line in lines[1:]:
        if not line:
            continue
        name, _, value = line.partition(b":")
        headers.append((name.decode().strip().lower(), value.decode().strip()))
    return lines[0], headers


def read_until(sock, marker, buffer=b"", limit=1 << 20, deadline=None):
    """Reads until marker is in the data; returns (data up to and incl. marker, rest)."""
    while marker not in buffer:
        if len(buffer) > limit:
            raise AssertionError(f"no {marker!r} within {limit} bytes")
        if deadline is not None:
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                raise socket.timeout(f"timed out waiting for {marker!r}")
            sock.settimeout(remaining)
        chunk = sock.recv(65536)
        if not chunk:
            raise EOFError(f"connection closed before {marker!r}; got {buffer[-200:]!r}")
        buffer += chunk
    index = buffer.index(marker) + len(marker)
    return buffer[:index], buffer[index:]


def read_to_eof(sock, buffer=b"", timeout=5.0, limit=64 << 20):
    deadline = time.monotonic() + timeout
    while True:
        remaining = deadline - time.monotonic()
        if remaining <= 0:
            raise socket.timeout("connection not closed in time")
        sock.settimeout(remaining)
        try:
            chunk = sock.recv(65536)
        except ConnectionResetError:
            return buffer
        if not chunk:
            return buffer
        buffer += chunk
        if len(buffer) > limit:
            raise AssertionError("too much data before EOF")


def http_exchange(port, raw_request, host="127.0.0.1", timeout=5.0):
    """Sends raw bytes, reads the whole answer (to Content-Length or EOF)."""
    with connect(port, host, timeout) as sock:
        try:
            sock.sendall(raw_request)
        except (BrokenPipeError, ConnectionResetError):
            pass  # the server may answer (and close) before reading everything
        head, rest = read_until(sock, b"\r\n\r\n", deadline=time.monotonic() + timeout)
        status_line, headers = parse_head(head[:-4])
        response = Response(status_line, headers, b"", head)
        length = response.header("content-length")
        if raw_request.startswith(b"HEAD ") or response.status in (204, 304):
            response.body = rest
        elif length is not None:
            body = rest
            deadline = time.monotonic() + timeout
            while len(body) < int(length):
                sock.settimeout(max(0.01, deadline - time.monotonic()))
                chunk = sock.recv(65536)
                if not chunk:
                    break
                body += chunk
            response.body = body
        else:
            response.body = read_to_eof(sock, rest, timeout)
        return response


def http_get(port, path, method="GET", host="127.0.0.1", headers=(), timeout=5.0):
    return http_exchange(port, request_bytes(method, path, port, host, headers), host, timeout)


def get_json(port, path="/api/status", timeout=5.0):
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=timeout)
    try:
        conn.request("GET", path)
        response = conn.getresponse()
        body = response.read()
        assert response.status == 200, f"GET {path}: {response.status} {body[:200]!r}"
        return json.loads(body)
    finally:
        conn.close()


def get_text(port, path, timeout=5.0):
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=timeout)
    try:
        conn.request("GET", path)
        response = conn.getresponse()
        return response.status, dict(response.getheaders()), response.read().decode()
    finally:
        conn.close()


def wait_until(predicate, timeout, what):
    """Polls predicate until it returns something true, and returns that; fails naming `what`
    after `timeout` seconds."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = predicate()
        if value:
            return value
        time.sleep(0.05)
    raise AssertionError(f"{what}: not within {timeout:.1f} s")


def wait_for_state(port, wanted, timeout):
    """Polls /api/status until state is one of wanted; returns the status."""
    wanted = (wanted,) if isinstance(wanted, str) else tuple(wanted)
    deadline = time.monotonic() + timeout
    status = None
    while time.monotonic() < deadline:
        status = get_json(port)
        if status["state"] in wanted:
            return status
        time.sleep(0.05)
    raise AssertionError(f"state not in {wanted} after {timeout:.1f}s; last status {status}")


# --- JPEG / PNG -----------------------------------------------------------------------------


def jpeg_info(data):
    """Checks SOI..EOI and walks the markers up to SOS. Returns (width, height, sof_marker)."""
    assert data[:2] == b"\xff\xd8", f"no SOI: {data[:4]!r}"
    assert data[-2:] == b"\xff\xd9", f"no EOI: {data[-4:]!r}"
    pos = 2
    sof = None
    while pos + 4 <= len(data):
        assert data[pos] == 0xFF, f"bad marker at {pos}: {data[pos:pos + 2]!r}"
        marker = data[pos + 1]
        if marker == 0xFF:  # fill byte
            pos += 1
            continue
        (length,) = struct.unpack(">H", data[pos + 2:pos + 4])
        if 0xC0 <= marker <= 0xCF and marker not in (0xC4, 0xC8, 0xCC):
            height, width = struct.unpack(">HH", data[pos + 5:pos + 9])
            sof = (width, height, marker)
        if marker == 0xDA:  # start of scan: entropy-coded data follows
            break
        pos += 2 + length
    assert sof is not None, "no SOF marker before SOS"
    return sof


def assert_baseline_jpeg(data, width, height):
    got_width, got_height, marker = jpeg_info(data)
    assert marker == 0xC0, f"not a baseline JPEG (SOF marker 0xFF{marker:02X})"
    assert (got_width, got_height) == (width, height), \
        f"JPEG is {got_width}x{got_height}, expected {width}x{height}"


def png_size(path):
    with open(path, "rb") as png:
        head = png.read(24)
    assert head[:8] == b"\x89PNG\r\n\x1a\n", f"{path} is not a PNG"
    return struct.unpack(">II", head[16:24])


# --- MJPEG stream ---------------------------------------------------------------------------


class Part:
    def __init__(self, headers, raw_header_lines, jpeg, arrived):
        self.headers = headers  # list of (lower-case name, value)
        self.raw_header_lines = raw_header_lines
        self.jpeg = jpeg
        self.arrived = arrived

    def header(self, name):
        values = [v for n, v in self.headers if n == name]
        return values[0] if values else None


class StreamClient:
    """A viewer that checks the multipart framing byte by byte as it reads.

    Reads consume nothing until a whole unit (head, part) is buffered, so a timeout can be
    retried without losing bytes.
    """

    def __init__(self, port, path="/stream", host="127.0.0.1", timeout=5.0, rcvbuf=None,
                 method="GET", extra_headers=()):
        self.sock = connect(port, host, timeout, rcvbuf)
        self.timeout = timeout
        self.sock.sendall(request_bytes(method, path, port, host, extra_headers))
        self.buffer = b""

    def close(self):
        self.sock.close()

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()

    def _deadline(self, timeout):
        return time.monotonic() + (self.timeout if timeout is None else timeout)

    def _fill(self, deadline, wanted=65536):
        remaining = deadline - time.monotonic()
        if remaining <= 0:
            raise socket.timeout("timed out reading the stream")
        self.sock.settimeout(remaining)
        chunk = self.sock.recv(max(65536, wanted))
        if not chunk:
            raise EOFError(f"stream closed; unread bytes: {self.buffer[-200:]!r}")
        self.buffer += chunk

    def _wait_for(self, marker, deadline, limit):
        while marker not in self.buffer:
            assert len(self.buffer) <= limit, f"no {marker!r} within {limit} bytes"
            self._fill(deadline)
        return self.buffer.index(marker)

    def read_head(self, timeout=None):
        end = self._wait_for(b"\r\n\r\n", self._deadline(timeout), 1 << 16) + 4
        head, self.buffer = self.buffer[:end], self.buffer[end:]
        status_line, headers = parse_head(head[:-4])
        return Response(status_line, headers, b"", head)

    def read_exact(self, count, deadline):
        while len(self.buffer) < count:
            self._fill(deadline, count - len(self.buffer))
        data, self.buffer = self.buffer[:count], self.buffer[count:]
        return data

    def expect(self, expected, deadline, what):
        got = self.read_exact(len(expected), deadline)
        assert got == expected, f"{what}: expected {expected!r}, got {got!r}"

    def start(self, timeout=None):
        """Reads and checks the head and the first delimiter."""
        deadline = self._deadline(timeout)
        head = self.read_head(deadline - time.monotonic())
        assert head.status == 200, f"stream answered {head.status_line!r}"
        self.expect(DELIMITER, deadline, "body must start with the delimiter")
        return head

    def _parse_part_headers(self, deadline):
        """Waits for a part's header block; returns (headers, lines, block length)."""
        end = self._wait_for(b"\r\n\r\n", deadline, 4096) + 4
        lines = self.buffer[:end - 4].split(b"\r\n")
        headers = []
        for line in lines:
            assert len(line) + 2 < 128, f"part header line too long: {line!r}"
            name, sep, value = line.partition(b":")
            assert sep, f"malformed part header line {line!r} (buffer {self.buffer[:300]!r})"
            headers.append((name.decode().strip().lower(), value.decode().strip()))
        return headers, lines, end

    def read_part_headers(self, deadline):
        headers, lines, end = self._parse_part_headers(deadline)
        self.buffer = self.buffer[end:]
        return headers, lines

    def read_part(self, timeout=None):
        """Reads one part after a delimiter, and the delimiter ending it."""
        deadline = self._deadline(timeout)
        headers, lines, end = self._parse_part_headers(deadline)
        names = [n for n, _ in headers]
        assert len(set(names)) == len(names), f"repeated part headers: {lines}"
        length = [v for n, v in headers if n == "content-length"]
        assert len(length) == 1, f"part needs exactly one Content-Length: {lines}"
        total = end + int(length[0]) + len(PART_END)
        while len(self.buffer) < total:
            self._fill(deadline, total - len(self.buffer))
        arrived = time.monotonic()
        jpeg = self.buffer[end:end + int(length[0])]
        trailer = self.buffer[end + int(length[0]):total]
        assert trailer == PART_END, \
            f"JPEG must be followed by CRLF and the delimiter, got {trailer!r}"
        self.buffer = self.buffer[total:]
        return Part(headers, lines, jpeg, arrived)

    def read_parts(self, count, timeout=None):
        return [self.read_part(timeout) for _ in range(count)]

    def count_parts_for(self, seconds, width=None, height=None):
        """Reads parts for a fixed time; returns the parts that arrived in the window."""
        parts = []
        end = time.monotonic() + seconds
        while True:
            remaining = end - time.monotonic()
            if remaining <= 0:
                break
            try:
                part = self.read_part(timeout=remaining)
            except socket.timeout:
                break
            if part.arrived > end:
                break
            if width is not None:
                assert_baseline_jpeg(part.jpeg, width, height)
            parts.append(part)
        return parts


class PartCounter:
    """Counts delimiters on many sockets at once (cheap enough for dozens of viewers)."""

    def __init__(self, sockets):
        self.sockets = list(sockets)
        self.counts = [0] * len(self.sockets)
        self.tails = [b""] * len(self.sockets)
        self.eof = [False] * len(self.sockets)

    def run(self, seconds):
        selector = selectors.DefaultSelector()
        for index, sock in enumerate(self.sockets):
            sock.setblocking(False)
            selector.register(sock, selectors.EVENT_READ, index)
        end = time.monotonic() + seconds
        try:
            while (remaining := end - time.monotonic()) > 0:
                for key, _ in selector.select(remaining):
                    index = key.data
                    try:
                        chunk = self.sockets[index].recv(1 << 20)
                    except BlockingIOError:
                        continue
                    if not chunk:
                        self.eof[index] = True
                        selector.unregister(self.sockets[index])
                        continue
                    data = self.tails[index] + chunk
                    self.counts[index] += data.count(PART_END)
                    self.tails[index] = data[-(len(PART_END) - 1):]
        finally:
            selector.close()
            for sock in self.sockets:
                sock.setblocking(True)
        return self.counts


def open_viewers(port, count, path="/stream", rcvbuf=None, timeout=5.0):
    """Opens viewers and checks each one's response head (the body is left unread)."""
    viewers = []
    for _ in range(count):
        sock = connect(port, timeout=timeout, rcvbuf=rcvbuf)
        sock.sendall(request_bytes("GET", path, port))
        viewers.append(sock)
    for sock in viewers:
        # Bytes read past the head are dropped: PartCounter counts part ends, not starts.
        head, _ = read_until(sock, b"\r\n\r\n", deadline=time.monotonic() + timeout)
        assert head.startswith(b"HTTP/1.1 200"), head
    return viewers


# --- metrics --------------------------------------------------------------------------------

METRIC_LINE_RE = re.compile(
    r'^([a-zA-Z_:][a-zA-Z0-9_:]*)(\{[^}]*\})?\s+([-+0-9.eEInfa]+|NaN)(\s+-?\d+)?$')


def parse_metrics(text):
    """Returns {(name, labels): value} and {name: type} from Prometheus text format."""
    samples = {}
    types = {}
    for line in text.splitlines():
        if not line.strip():
            continue
        if line.startswith("# TYPE "):
            _, _, name, kind = line.split(None, 3)
            types[name] = kind.strip()
            continue
        if line.startswith("#"):
            continue
        match = METRIC_LINE_RE.match(line)
        assert match, f"not a Prometheus sample line: {line!r}"
        samples[(match.group(1), match.group(2) or "")] = float(match.group(3))
    return samples, types


def metric(samples, name, labels=""):
    return samples[(name, labels)]


def get_metrics(port):
    status, _, text = get_text(port, "/metrics")
    assert status == 200
    return parse_metrics(text)[0]


# --- WebSocket ------------------------------------------------------------------------------


def run_async(coroutine, timeout=30.0):
    async def bounded():
        return await asyncio.wait_for(coroutine, timeout)

    return asyncio.run(bounded())


async def ws_receive_json(ws, timeout=3.0):
    message = await asyncio.wait_for(ws.recv(), timeout)
    assert isinstance(message, str), f"server sent a binary message: {message!r}"
    data = json.loads(message)
    assert isinstance(data, dict), f"server message is not an object: {message}"
    return data


async def ws_wait_for(ws, predicate, timeout=5.0, what="message"):
    """Receives messages until predicate(message) holds; returns it."""
    deadline = time.monotonic() + timeout
    seen = []
    while True:
        remaining = deadline - time.monotonic()
        if remaining <= 0:
            raise AssertionError(f"no {what} within {timeout:.1f}s; got {seen[-5:]}")
        try:
            message = await ws_receive_json(ws, remaining)
        except asyncio.TimeoutError:
            continue
        seen.append(message)
        if predicate(message):
            return message


class BackgroundViewer:
    """A StreamClient read on its own thread, recording every part (for tests that do other
    things meanwhile). stop() ends it and re-raises any framing error it met."""

    def __init__(self, port, path="/stream", timeout=10.0):
        import threading

        self.client = StreamClient(port, path, timeout=timeout)
        self.parts = []
        self.error = None
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)
        self.head = self.client.start()
        self._thread.start()

    def _run(self):
        try:
            while not self._stop.is_set():
                try:
                    part = self.client.read_part(timeout=0.2)
                except socket.timeout:
                    continue
                self.parts.append(part)
        except Exception as error:  # reported by stop()
            if not self._stop.is_set():
                self.error = error

    def parts_between(self, start, end):
        return [part for part in self.parts if start <= part.arrived < end]

    def stop(self):
        self._stop.set()
        self._thread.join(5)
        self.client.close()
        if self.error is not None:
            raise AssertionError(f"viewer failed: {self.error!r}") from self.error
        return self.parts

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        if exc[0] is None:
            self.stop()
        else:
            self._stop.set()
            self.client.close()


# websockets changed its exceptions over versions (Debian 12 has 10.4, Debian 13 has 15.x):
# these read them either way.


def ws_close_code(closed):
    """The close code the server sent (1006 when it sent none)."""
    received = getattr(closed, "rcvd", None)
    if received is not None:
        return received.code
    code = getattr(closed, "code", None)
    return 1006 if code is None else code


def ws_refusal_status(refused):
    """The HTTP status of a refused WebSocket handshake."""
    status = getattr(refused, "status_code", None)
    if status is None and getattr(refused, "response", None) is not None:
        status = refused.response.status_code
    return status


def run_vlc(url, workdir, seconds, scale, during=None, extra_args=()):
    """Plays url in VLC (dummy interface and output, every picture saved as PNG by the scene
    filter) for about `seconds`, calling during() (if given) once it has played a while.
    extra_args go before the URL. Returns (VLC's log, the PNG paths in order). VLC refuses to
    run as root: it then runs as nobody through setpriv."""
    import glob
    import shutil
    import subprocess
    import threading

    assert shutil.which("vlc") and shutil.which("setpriv"), "vlc and setpriv must be installed"
    home = os.path.join(workdir, "home")
    scenes = os.path.join(workdir, "scenes")
    for path in (home, scenes):
        os.mkdir(path)
        os.chmod(path, 0o777)
    os.chmod(workdir, 0o755)
    env = client_env()
    env.update(HOME=home, XDG_CONFIG_HOME=os.path.join(home, ".config"),
               XDG_CACHE_HOME=os.path.join(home, ".cache"),
               XDG_DATA_HOME=os.path.join(home, ".local/share"), XDG_RUNTIME_DIR=home)
    env.pop("DISPLAY", None)
    env.pop("WAYLAND_DISPLAY", None)
    command = []
    if os.geteuid() == 0:
        command += ["setpriv", "--reuid=nobody", "--regid=nogroup", "--clear-groups"]
    command += ["vlc", "-I", "dummy", "-vv", "--no-metadata-network-access", "--no-audio",
                "--avcodec-hw=none", "--vout=vdummy", "--network-caching=300",
                "--play-and-exit", "--video-filter=scene", f"--scene-path={scenes}",
                "--scene-ratio=1", "--scene-format=png", "--scene-prefix=frame", *extra_args, url]
    # --run-time does not end a live stream in this VLC: stop it with SIGTERM, which it
    # handles cleanly.
    with subprocess.Popen(command, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                          stdin=subprocess.DEVNULL, cwd=home) as vlc:
        chunks = []
        reader = threading.Thread(target=lambda: chunks.append(vlc.stdout.read()), daemon=True)
        reader.start()
        if during is not None:
            time.sleep(seconds / 2)
            during()
            time.sleep(seconds / 2)
        else:
            time.sleep(seconds)
        vlc.terminate()
        try:
            vlc.wait(timeout=10 * scale)
        except subprocess.TimeoutExpired:
            vlc.kill()
            vlc.wait()
        reader.join(10)
    log = b"".join(chunks).decode(errors="replace")
    return log, sorted(glob.glob(os.path.join(scenes, "frame*.png")))


def ffprobe_size(jpeg):
    """(width, height) as ffprobe reads the JPEG."""
    import subprocess
    import tempfile

    with tempfile.NamedTemporaryFile(suffix=".jpg") as picture:
        picture.write(jpeg)
        picture.flush()
        result = subprocess.run(
            ["ffprobe", "-v", "error", "-select_streams", "v:0", "-show_entries",
             "stream=width,height", "-of", "json", picture.name],
            env=client_env(), capture_output=True, timeout=15)
    assert result.returncode == 0, result.stderr.decode()
    stream = json.loads(result.stdout)["streams"][0]
    return stream["width"], stream["height"]


def decoded_luma(jpeg, width, height):
    """The picture's luma, one byte a pixel, as ffmpeg decodes it."""
    import subprocess

    result = subprocess.run(
        ["ffmpeg", "-v", "error", "-f", "image2pipe", "-c:v", "mjpeg", "-i", "-",
         "-f", "rawvideo", "-pix_fmt", "gray", "-"],
        input=jpeg, env=client_env(), capture_output=True, timeout=15)
    assert result.returncode == 0, result.stderr.decode()
    assert len(result.stdout) == width * height, "ffmpeg decoded another size"
    return result.stdout
