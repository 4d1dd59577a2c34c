"""docs/api.md, "The stream": a viewer that reads nothing for 30 s is dropped; a slow one is not.

This takes ~35 s, so it is a file of its own and runs beside the others under ctest -j2.
"""

import threading
import time

from helpers import StreamClient, connect, get_json, read_to_eof, request_bytes


def test_stalled_viewer_is_dropped_after_30_s(start_server, scale):
    server = start_server(width=640, height=480, interval=50)
    stalled = connect(server.port, rcvbuf=4096, timeout=10)
    stalled.sendall(request_bytes("GET", "/stream", server.port))
    connected_at = time.monotonic()

    # A viewer reading slowly (one frame every 2 s) must stay connected all along.
    slow = StreamClient(server.port, timeout=10)
    slow.start()
    slow_parts = []
    slow_error = []
    done = threading.Event()

    def read_slowly():
        try:
            while not done.wait(2.0):
                slow_parts.append(slow.read_part())
        except Exception as error:
            slow_error.append(error)

    reader = threading.Thread(target=read_slowly, daemon=True)
    reader.start()
    try:
        assert get_json(server.port)["clients"] == 2
        time.sleep(20)
        assert get_json(server.port)["clients"] == 2, "a viewer was dropped before 30 s"
        deadline = connected_at + 40 * min(scale, 1.5)
        while time.monotonic() < deadline and get_json(server.port)["clients"] != 1:
            time.sleep(0.25)
        dropped_after = time.monotonic() - connected_at
        assert get_json(server.port)["clients"] == 1, \
            f"stalled viewer still counted after {dropped_after:.0f} s"
        assert dropped_after >= 28, f"stalled viewer dropped after only {dropped_after:.1f} s"
        # The connection is closed: what the kernel still holds drains, then EOF.
        read_to_eof(stalled, timeout=10)
    finally:
        done.set()
        reader.join(5)
        stalled.close()
        slow.close()
    assert not slow_error, f"slow viewer failed: {slow_error[0]!r}"
    assert len(slow_parts) >= 12, f"slow viewer got {len(slow_parts)} frames in ~30 s"
