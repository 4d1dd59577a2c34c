#!/usr/bin/env bash
# End to end with --encode-threads 1 and 2: camstream on the test source at 1920x1080, one
# viewer (mjpeg-load) for SECONDS; reports the server's CPU per delivered frame and the
# capture-to-viewer latency (X-Timestamp to the part's last byte), p50 and p99.
# The two thread counts take turns, REPS times; the summary is the median per count.
#
#   bench/encode_e2e.sh BUILD_DIR        (environment: SECONDS_RUN 15, REPS 3, FPS 30,
#                                         THREADS "1 2", SIZE 1920x1080)
set -euo pipefail
build=${1:?usage: $0 BUILD_DIR}
seconds=${SECONDS_RUN:-15}
reps=${REPS:-3}
fps=${FPS:-30}
threads_list=${THREADS:-1 2}
size=${SIZE:-1920x1080}
width=${size%x*}
height=${size#*x}
out=$(mktemp -d /tmp/camstream-e2e.XXXXXX)
port=18431

for rep in $(seq 1 "$reps"); do
  for threads in $threads_list; do
    "$build/src/camstream" --source test --bind 127.0.0.1 --port "$port" --width "$width" \
      --height "$height" --fps "$fps" --encode-threads "$threads" --always-on \
      --log-level warn >"$out/server.$threads.$rep.log" 2>&1 &
    server=$!
    sleep 2  # listening, capture running (--always-on)
    "$build/bench/mjpeg-load" 127.0.0.1 "$port" /stream --viewers 1 --seconds "$seconds" \
      --pid "$server" --json >"$out/e2e.$threads.$rep.json" || true
    kill -TERM "$server"
    wait "$server" || true
  done
done

python3 - "$out" "$threads_list" <<'PY'
import glob, json, statistics, sys
out, threads_list = sys.argv[1], sys.argv[2].split()
print(f"# results in {out}; median over runs")
print(f"{'threads':>7} {'fps':>6} {'cpu_ms/frame':>13} {'lat_p50_ms':>11} {'lat_p99_ms':>11} {'load1m':>7}")
rows = {}
for t in threads_list:
    runs = [json.load(open(p)) for p in sorted(glob.glob(f"{out}/e2e.{t}.*.json"))]
    def med(f):
        return statistics.median(f(r) for r in runs)
    rows[t] = dict(
        fps=med(lambda r: r["normal"]["fps"]["median"]),
        cpu=med(lambda r: r["server"]["cpu_s_per_frame_sent"] * 1000),
        p50=med(lambda r: r["normal"]["latency_ms"]["p50"]),
        p99=med(lambda r: r["normal"]["latency_ms"]["p99"]),
        load=med(lambda r: r["machine"]["load_average_1m_start"]))
    r = rows[t]
    print(f"{t:>7} {r['fps']:6.1f} {r['cpu']:13.2f} {r['p50']:11.2f} {r['p99']:11.2f} {r['load']:7.2f}")
first = rows[threads_list[0]]
for t in threads_list[1:]:
    r = rows[t]
    print(f"ratio {threads_list[0]}/{t}: cpu/frame {first['cpu'] / r['cpu']:.2f}, "
          f"p50 {first['p50'] / r['p50']:.2f}, p99 {first['p99'] / r['p99']:.2f}")
PY
