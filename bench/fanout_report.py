#!/usr/bin/python3
"""Summarises a bench/fanout.sh results directory: medians over repetitions, camstream/floor
ratios and the issue's targets, as Markdown on stdout (and summary.json beside the runs)."""
import glob
import json
import os
import re
import statistics
import sys
from collections import defaultdict

results = sys.argv[1]
runs = defaultdict(list)  # (scenario, server) -> [report]
for path in sorted(glob.glob(os.path.join(results, "*.json"))):
    match = re.match(r"(.+)\.rep(\d+)\.(camstream|floor)\.json$", os.path.basename(path))
    if not match:
        continue
    scenario, rep, server = match.groups()
    try:
        report = json.load(open(path))
    except ValueError:
        continue
    base = path[: -len(".json")]
    for when in ("before", "after"):
        report[f"metrics_{when}"] = {}
        if os.path.exists(f"{base}.metrics-{when}"):
            for line in open(f"{base}.metrics-{when}"):
                m = re.match(r"^([a-z_]+)(\{[^}]*\})?\s+([0-9.eE+-]+)$", line.strip())
                if m and not m.group(2):
                    report[f"metrics_{when}"][m.group(1)] = float(m.group(3))
    report["send_queues"] = []
    if os.path.exists(f"{base}.ss"):
        for line in open(f"{base}.ss"):
            fields = line.split()
            if len(fields) >= 4 and fields[0].isdigit() and fields[1].isdigit():
                report["send_queues"].append(int(fields[1]))
    runs[(scenario, server)].append(report)


def get(report, *keys, default=0.0):
    for key in keys:
        if not isinstance(report, dict) or key not in report:
            return default
        report = report[key]
    return report


def median(scenario, server, *keys):
    values = [get(r, *keys) for r in runs.get((scenario, server), [])]
    return statistics.median(values) if values else None


def cpu_per_frame(r):
    frames = get(r, "frames_total")
    return get(r, "server", "cpu_s") / frames * 1e6 if frames else None


def idle_rate(server):
    rates = [get(r, "server", "cpu_s") / get(r, "duration_s") for r in runs.get(("idle", server), [])
             if get(r, "duration_s")]
    return statistics.median(rates) if rates else 0.0


def net_cpu_per_frame(r, server):
    frames = get(r, "frames_total")
    if not frames:
        return None
    return (get(r, "server", "cpu_s") - idle_rate(server) * get(r, "duration_s")) / frames * 1e6


def med(values):
    values = [v for v in values if v is not None]
    return statistics.median(values) if values else None


def fmt(value, spec=".1f"):
    return "–" if value is None else format(value, spec)


def ratio(a, b):
    # A floor that rounds to nothing (floor-server's net CPU with one viewer) makes no ratio.
    return None if a is None or b is None or abs(b) < 1e-3 else a / b


def encode_counts(r):
    before, after = r.get("metrics_before", {}), r.get("metrics_after", {})
    keys = ("camstream_frames_encoded_total", "camstream_frames_captured_total")
    if not all(k in before and k in after for k in keys):
        return None
    return tuple(after[k] - before[k] for k in keys)


scenario_order = ["idle"] + sorted({s for s, _ in runs if s.startswith("fanout-")},
                                   key=lambda s: int(s.split("-")[1])) + [
    "slow-50+10", "stalled-50+20", "burst-1000"]
servers = [s for s in ("camstream", "floor") if any(k[1] == s for k in runs)]
summary = {}

print("## Fan-out: camstream vs floor-server (medians of %d runs)\n" %
      max((len(v) for v in runs.values()), default=0))
print("| scenario | server | fps min | fps median | source fps | CPU µs/frame sent | ×floor | "
      "net of idle µs/frame | ×floor | latency p50 ms | p99 ms | ×floor p50 | first frame p50/max ms "
      "| longest gap ms | RSS MB | RSS growth KB/viewer | threads | errors |")
print("|" + "---|" * 18)
rss_one = {s: median("fanout-1", s, "server", "rss_end_kb") for s in servers}
for scenario in scenario_order:
    for server in servers:
        reports = runs.get((scenario, server))
        if not reports:
            continue
        row = {
            "fps_min": median(scenario, server, "normal", "fps", "min"),
            "fps_median": median(scenario, server, "normal", "fps", "median"),
            "source_fps": median(scenario, server, "source", "fps_from_timestamps"),
            "cpu_us_per_frame": med([cpu_per_frame(r) for r in reports]),
            "net_cpu_us_per_frame": med([net_cpu_per_frame(r, server) for r in reports]),
            "cpu_s_per_s": med([get(r, "server", "cpu_s") / get(r, "duration_s") for r in reports]),
            "latency_p50": median(scenario, server, "normal", "latency_ms", "p50"),
            "latency_p99": median(scenario, server, "normal", "latency_ms", "p99"),
            "latency_max": median(scenario, server, "normal", "latency_ms", "max"),
            "first_p50": median(scenario, server, "normal", "first_frame_ms", "p50"),
            "first_max": median(scenario, server, "normal", "first_frame_ms", "max"),
            "first_max_worst": max(get(r, "normal", "first_frame_ms", "max") for r in reports),
            "gap_max": median(scenario, server, "normal", "max_gap_ms", "max"),
            "rss_end_kb": median(scenario, server, "server", "rss_end_kb"),
            "rss_start_kb": median(scenario, server, "server", "rss_start_kb"),
            "threads": median(scenario, server, "server", "threads_max"),
            "errors": sum(get(r, "error_count") for r in reports),
            "error_kinds": sorted({k for r in reports for k in get(r, "errors", default={})}),
            "viewers": get(reports[0], "viewers", "normal"),
            "load_average": med([get(r, "machine", "load_average_1m_start") for r in reports]),
            "machine_busy": med([get(r, "machine", "cpu_busy_fraction") for r in reports]),
            "runs": len(reports),
        }
        n = row["viewers"]
        row["rss_growth_kb_per_viewer"] = (
            (row["rss_end_kb"] - rss_one[server]) / (n - 1)
            if scenario.startswith("fanout-") and n > 1 and rss_one.get(server) is not None
            else None)
        if scenario == "slow-50+10":
            row["slow_fps_median"] = median(scenario, server, "slow", "fps", "median")
            row["slow_latency_p50"] = median(scenario, server, "slow", "latency_ms", "p50")
            row["slow_latency_max"] = median(scenario, server, "slow", "latency_ms", "max")
            row["slow_jpeg_bytes"] = median(scenario, server, "slow", "jpeg_bytes_mean")
            rate = get(reports[0], "viewers", "slow_rate", default=65536)
            row["frame_transfer_ms"] = (row["slow_jpeg_bytes"] or 0) / rate * 1000
        if scenario == "stalled-50+20":
            rss_50 = median("fanout-50", server, "server", "rss_end_kb")
            row["rss_kb_per_stalled"] = (None if rss_50 is None else
                                         (row["rss_end_kb"] - rss_50) / 20)
            row["jpeg_bytes"] = median(scenario, server, "normal", "jpeg_bytes_mean")
        if scenario in ("stalled-50+20", "slow-50+10"):
            # The largest send queues are those of the stalled (slow) viewers.
            k = 20 if scenario.startswith("stalled") else 10
            tops = [sorted(get(r, "send_queues", default=[]), reverse=True)[:k] for r in reports]
            tops = [t for t in tops if t]
            if tops:
                row["send_queue_median"] = med([statistics.median(t) for t in tops])
                row["send_queue_max"] = max(max(t) for t in tops)
        if server == "camstream":
            counts = [c for c in (encode_counts(r) for r in reports) if c]
            if counts:
                row["encoded"] = sum(e for e, _ in counts)
                row["captured"] = sum(c for _, c in counts)
                row["captured_fps"] = med([c / get(r, "duration_s") for r, (_, c) in
                                           zip(reports, counts)])
        summary.setdefault(scenario, {})[server] = row

for scenario in scenario_order:
    for server in servers:
        row = summary.get(scenario, {}).get(server)
        if row is None:
            continue
        floor = summary.get(scenario, {}).get("floor", {})
        is_cam = server == "camstream"
        print(f"| {scenario} | {server} | {fmt(row['fps_min'], '.2f')} | "
              f"{fmt(row['fps_median'], '.2f')} | {fmt(row['source_fps'], '.2f')} | "
              f"{fmt(row['cpu_us_per_frame'], '.0f')} | "
              f"{fmt(ratio(row['cpu_us_per_frame'], floor.get('cpu_us_per_frame')), '.2f') if is_cam else ''} | "
              f"{fmt(row['net_cpu_us_per_frame'], '.0f')} | "
              f"{fmt(ratio(row['net_cpu_us_per_frame'], floor.get('net_cpu_us_per_frame')), '.2f') if is_cam else ''} | "
              f"{fmt(row['latency_p50'])} | {fmt(row['latency_p99'])} | "
              f"{fmt(ratio(row['latency_p50'], floor.get('latency_p50')), '.2f') if is_cam else ''} | "
              f"{fmt(row['first_p50'])} / {fmt(row['first_max'])} | {fmt(row['gap_max'])} | "
              f"{fmt(row['rss_end_kb'] / 1024 if row['rss_end_kb'] else None)} | "
              f"{fmt(row['rss_growth_kb_per_viewer'], '.2f')} | {fmt(row['threads'], '.0f')} | "
              f"{row['errors']}{' ' + ','.join(row['error_kinds']) if row['error_kinds'] else ''} |")

print("\nCPU µs/frame sent: server CPU (utime+stime over the run) / parts received by all viewers; "
      "net of idle subtracts the server's CPU rate with no viewer (the idle row: camstream "
      "captures and encodes 30 fps regardless, floor-server sends pre-encoded pictures). "
      "RSS growth: (RSS at N viewers − RSS at 1 viewer) / (N − 1), VmRSS at the end of the run.")

encode_rows = [(s, row) for s in scenario_order
               for row in [summary.get(s, {}).get("camstream")] if row and "captured" in row]
if encode_rows:
    print("\n## One encode per captured frame (camstream /metrics, before and after each run)\n")
    print("| scenario | frames captured | frames encoded | encoded / captured | capture fps |")
    print("|---|---|---|---|---|")
    for scenario, row in encode_rows:
        print(f"| {scenario} | {row['captured']:.0f} | {row['encoded']:.0f} | "
              f"{ratio(row['encoded'], row['captured']) or 0:.3f} | "
              f"{fmt(row['captured_fps'], '.2f')} |")

if any(s.startswith("size-") for s, _ in runs):
    print("\n## Larger pictures (camstream, one viewer)\n")
    print("| size | source fps | viewer fps min | CPU s/s | latency p50 ms | JPEG bytes | errors |")
    print("|---|---|---|---|---|---|---|")
    for scenario in sorted({s for s, _ in runs if s.startswith("size-")}):
        reports = runs[(scenario, "camstream")]
        row = {
            "source_fps": median(scenario, "camstream", "source", "fps_from_timestamps"),
            "fps_min": median(scenario, "camstream", "normal", "fps", "min"),
            "cpu_s_per_s": med([get(r, "server", "cpu_s") / get(r, "duration_s") for r in reports]),
            "latency_p50": median(scenario, "camstream", "normal", "latency_ms", "p50"),
            "jpeg_bytes": median(scenario, "camstream", "normal", "jpeg_bytes_mean"),
            "errors": sum(get(r, "error_count") for r in reports),
        }
        summary.setdefault(scenario, {})["camstream"] = row
        print(f"| {scenario[5:]} | {fmt(row['source_fps'], '.2f')} | {fmt(row['fps_min'], '.2f')} | "
              f"{fmt(row['cpu_s_per_s'], '.2f')} | {fmt(row['latency_p50'])} | "
              f"{fmt(row['jpeg_bytes'], '.0f')} | {row['errors']} |")

slow = summary.get("slow-50+10", {})
if slow:
    print("\n## Slow viewers (10 at 64 KiB/s beside 50 normal)\n")
    print("| server | slow fps | slow lag p50 ms | slow lag max ms | one frame transfer ms | "
          "lag p50 / max in frame transfers | kernel send queue per slow viewer, median bytes | "
          "normal fps min |")
    print("|---|---|---|---|---|---|---|---|")
    for server in servers:
        row = slow.get(server)
        if not row:
            continue
        t = row.get("frame_transfer_ms") or None
        print(f"| {server} | {fmt(row.get('slow_fps_median'), '.2f')} | "
              f"{fmt(row.get('slow_latency_p50'), '.0f')} | {fmt(row.get('slow_latency_max'), '.0f')} | "
              f"{fmt(t, '.0f')} | {fmt(ratio(row.get('slow_latency_p50'), t), '.2f')} / "
              f"{fmt(ratio(row.get('slow_latency_max'), t), '.2f')} | "
              f"{fmt(row.get('send_queue_median'), '.0f')} | {fmt(row['fps_min'], '.2f')} |")

stalled = summary.get("stalled-50+20", {})
if stalled:
    print("\n## Stalled viewers (20 that never read, beside 50 normal)\n")
    print("| server | RSS vs 50 viewers, KB per stalled viewer | in frames (÷ JPEG size) | "
          "kernel send queue per stalled viewer, median / max bytes | in frames | "
          "normal fps min | errors |")
    print("|---|---|---|---|---|---|---|")
    for server in servers:
        row = stalled.get(server)
        if not row:
            continue
        per = row.get("rss_kb_per_stalled")
        frames = ratio(per * 1024 if per is not None else None, row.get("jpeg_bytes"))
        queue = row.get("send_queue_median")
        print(f"| {server} | {fmt(per)} | {fmt(frames, '.2f')} | {fmt(queue, '.0f')} / "
              f"{fmt(row.get('send_queue_max'), '.0f')} | "
              f"{fmt(ratio(queue, row.get('jpeg_bytes')), '.2f')} | {fmt(row['fps_min'], '.2f')} | "
              f"{row['errors']} |")

json.dump(summary, open(os.path.join(results, "summary.json"), "w"), indent=1, sort_keys=True)
