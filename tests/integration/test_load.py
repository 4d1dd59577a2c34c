"""docs/api.md, "The stream", delivery: many viewers at full rate; stalled viewers cost nothing."""

from helpers import PartCounter, connect, get_metrics, metric, open_viewers, request_bytes

CAPTURED = "camstream_frames_captured_total"


def count_with_source(server, viewers, seconds):
    """Counts each viewer's frames over a window, and the frames the source produced."""
    before = metric(get_metrics(server.port), CAPTURED)
    counts = PartCounter(viewers).run(seconds)
    produced = metric(get_metrics(server.port), CAPTURED) - before
    return counts, produced


def test_twenty_viewers_get_full_rate(start_server, scale):
    server = start_server(width=640, height=480, interval=50)
    viewers = open_viewers(server.port, 20)
    try:
        PartCounter(viewers).run(0.5)  # every viewer is flowing before counting
        counts, produced = count_with_source(server, viewers, 3.0)
    finally:
        for viewer in viewers:
            viewer.close()
    assert produced >= 60 * 0.8 / scale, f"source made {produced} frames in 3 s at 20/s"
    slowest = min(counts)
    assert slowest >= 0.9 * produced - 1, \
        f"slowest of 20 viewers got {slowest} of {produced} frames: {counts}"


def stalled_viewer(port):
    """Connects with a tiny receive buffer, asks for the stream and never reads."""
    sock = connect(port, rcvbuf=4096)
    sock.sendall(request_bytes("GET", "/stream", port))
    return sock


def test_stalled_viewers_do_not_slow_others_or_grow_memory(start_server, scale):
    server = start_server(width=1280, height=720, interval=50)
    viewers = open_viewers(server.port, 3)
    stalled = []
    try:
        PartCounter(viewers).run(1.5)  # warm up: frame pool, buffers
        rss_before = server.vm_rss_kib()
        stalled = [stalled_viewer(server.port) for _ in range(10)]
        PartCounter(viewers).run(1.0)  # the stalled sockets fill up
        counts, produced = count_with_source(server, viewers, 4.0)
        rss_after = server.vm_rss_kib()
        clients = get_metrics(server.port)[("camstream_clients", "")]
    finally:
        for sock in viewers + stalled:
            sock.close()
    assert clients == 13, f"camstream_clients is {clients} with 3 viewers and 10 stalled"
    assert produced >= 80 * 0.8 / scale, f"source made {produced} frames in 4 s at 20/s"
    assert min(counts) >= 0.9 * produced - 1, \
        f"viewers got {counts} of {produced} frames with 10 stalled viewers"
    growth_mib = (rss_after - rss_before) / 1024
    limit_mib = 20 if scale == 1.0 else 100  # sanitizers keep freed memory in quarantine
    assert growth_mib < limit_mib, \
        f"RSS grew {growth_mib:.1f} MiB with 10 stalled 1280x720 viewers"

