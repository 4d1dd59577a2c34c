#!/bin/bash
# Fan-out benchmark: camstream against floor-server, the leanest fan-out we can write.
#
#   bench/fanout.sh [build-dir]        (default build/release)
#
# Both servers stream 640x480 pictures at 30 fps on 127.0.0.1; mjpeg-load opens the viewers,
# checks every stream strictly and samples the server's CPU and memory in /proc. Scenarios:
# idle (no viewer: the baseline CPU), 1/50/200/500/1000 viewers (connects spread over
# RAMP_MS), 50 viewers + 10 slow (64 KiB/s), 50 viewers + 20 stalled, a burst of 1000
# connects at once, and camstream alone at 1280x720 and 1920x1080 with one viewer. Each
# scenario runs REPS times, the two servers in alternating order; the table shows medians.
#
# Environment: RUN_SECONDS (10), REPS (3), VIEWERS ("1 50 200 500 1000"), RAMP_MS (1000),
# RESULTS (build-dir/bench-results/fanout-<time>), SCENARIOS (all: "idle fanout slow stalled
# burst sizes"). Loopback only; every server started here is stopped on exit.
set -euo pipefail

build_dir=${1:-build/release}
run_seconds=${RUN_SECONDS:-10}
reps=${REPS:-3}
viewer_counts=${VIEWERS:-1 50 200 500 1000}
ramp_ms=${RAMP_MS:-1000}
scenarios=${SCENARIOS:-idle fanout slow stalled burst sizes}
results=${RESULTS:-$build_dir/bench-results/fanout-$(date -u +%Y%m%dT%H%M%SZ)}
python=/usr/bin/python3

camstream=$build_dir/src/camstream
load=$build_dir/bench/mjpeg-load
floor=$build_dir/bench/floor-server
for tool in "$load" "$floor"; do
  [[ -x $tool ]] || { echo "no $tool: build the mjpeg-load and floor-server targets" >&2; exit 1; }
done
servers="camstream floor"
if [[ ! -x $camstream ]]; then
  echo "warning: no $camstream; measuring floor-server alone" >&2
  servers=floor
fi

# 1000 viewers need 1000 descriptors in each process.
ulimit -n "$(ulimit -Hn)" 2>/dev/null || true
if (($(ulimit -n) < 2200)); then
  echo "ulimit -n is $(ulimit -n); 1000 viewers need at least 2200" >&2
  exit 1
fi

mkdir -p "$results"
server_pid=
cleanup() {
  if [[ -n $server_pid ]]; then
    kill -TERM "$server_pid" 2>/dev/null || true
    wait "$server_pid" 2>/dev/null || true
  fi
}
trap cleanup EXIT
trap 'exit 130' INT TERM

# start_server KIND LOG [WIDTH HEIGHT]: sets server_pid and port.
start_server() {
  local kind=$1 log=$2 width=${3:-640} height=${4:-480}
  : >"$log"
  if [[ $kind == camstream ]]; then
    "$camstream" --source test --width "$width" --height "$height" --fps 30 --always-on \
      --bind 127.0.0.1 --port 0 --max-clients 2000 --log-level "${CAMSTREAM_LOG_LEVEL:-info}" \
      >"$log" 2>&1 &
  else
    "$floor" --frames "$results/frames" --fps 30 --port 0 --max-clients 4000 \
      --exit-after $((run_seconds + 120)) >"$log" 2>&1 &
  fi
  server_pid=$!
  port=
  for _ in $(seq 1 100); do
    port=$(sed -n 's|^listening on http://[^ ]*:\([0-9][0-9]*\)/$|\1|p' "$log" | head -1) || true
    [[ -n $port ]] && break
    kill -0 "$server_pid" 2>/dev/null || break
    sleep 0.1
  done
  if [[ -z $port ]]; then
    echo "$kind did not start:" >&2
    cat "$log" >&2
    exit 1
  fi
  sleep 1  # capture running and the first frames encoded before the viewers come
}

stop_server() {
  kill -TERM "$server_pid" 2>/dev/null || true
  for _ in $(seq 1 50); do
    kill -0 "$server_pid" 2>/dev/null || break
    sleep 0.1
  done
  kill -KILL "$server_pid" 2>/dev/null || true
  wait "$server_pid" 2>/dev/null || true
  server_pid=
}

metrics() {  # camstream's /metrics, or nothing
  curl -s -m 2 "http://127.0.0.1:$port/metrics" || true
}

# run_one NAME KIND SECONDS [WIDTH HEIGHT] -- mjpeg-load options
run_one() {
  local name=$1 kind=$2 seconds=$3 width=640 height=480
  shift 3
  if [[ $1 != -- ]]; then width=$1 height=$2; shift 2; fi
  shift
  local base="$results/$name.$kind"
  start_server "$kind" "$base.log" "$width" "$height"
  [[ $kind == camstream ]] && metrics >"$base.metrics-before"
  # Slow and stalled viewers: what the kernel holds in the server's send queues near the end.
  local ss_pid=
  if [[ $name == slow* || $name == stalled* ]] && command -v ss >/dev/null; then
    (sleep $((seconds - 2)) && ss -tnmi state established "( sport = :$port )" >"$base.ss") &
    ss_pid=$!
  fi
  "$load" 127.0.0.1 "$port" /stream --pid "$server_pid" --seconds "$seconds" --json "$@" \
    >"$base.json" || true
  [[ -n $ss_pid ]] && { wait "$ss_pid" || true; }
  [[ $kind == camstream ]] && metrics >"$base.metrics-after"
  stop_server
  printf '%-28s %-9s %s\n' "$name" "$kind" "$("$python" -c '
import json, sys
r = json.load(open(sys.argv[1]))
n = r.get("normal", {})
print("fps min %.2f, source %.2f, latency p50 %.1f ms, server cpu %.2f s, errors %d" % (
    n.get("fps", {}).get("min", 0), r["source"]["fps_from_timestamps"],
    n.get("latency_ms", {}).get("p50", 0), r.get("server", {}).get("cpu_s", 0),
    r["error_count"]))' "$base.json" 2>/dev/null || echo "no report")"
}

# The floor server loops over pictures camstream itself served, so both send the same bytes.
mkdir -p "$results/frames"
if [[ $servers == *camstream* ]]; then
  start_server camstream "$results/frames.log"
  "$load" 127.0.0.1 "$port" /stream --viewers 1 --seconds 2 --save-frames "$results/frames" \
    --save-count 30 >/dev/null || true
  stop_server
else
  ffmpeg -loglevel error -y -f lavfi -i testsrc=size=640x480:rate=30 -frames:v 30 -q:v 4 \
    "$results/frames/frame-%03d.jpg"
fi
[[ -n $(ls "$results/frames") ]] || { echo "no frames for floor-server" >&2; exit 1; }

{
  echo "date: $(date -u +%FT%TZ)"
  echo "nproc: $(nproc)"
  echo "cpu: $(sed -n 's/^model name\s*: //p' /proc/cpuinfo | head -1)"
  echo "kernel: $(uname -sr)"
  echo "git: $(git -C "$(dirname "$0")" describe --always --dirty 2>/dev/null || echo unknown)"
  echo "run_seconds: $run_seconds reps: $reps ramp_ms: $ramp_ms"
} >"$results/machine.txt"
cat "$results/machine.txt"

step=0
run_pair() {  # run_pair NAME SECONDS [W H] -- options: both servers, alternating which goes first
  local order=$servers
  if [[ $servers == "camstream floor" && $(((step + rep) % 2)) == 1 ]]; then
    order="floor camstream"
  fi
  step=$((step + 1))
  for kind in $order; do run_one "$1.rep$rep" "$kind" "${@:2}"; done
}

for rep in $(seq 1 "$reps"); do
  for scenario in $scenarios; do
    case $scenario in
      idle) run_pair idle 5 -- --viewers 0 ;;
      fanout)
        for n in $viewer_counts; do
          run_pair "fanout-$n" "$run_seconds" -- --viewers "$n" --ramp-ms "$ramp_ms"
        done ;;
      slow) run_pair slow-50+10 "$run_seconds" -- --viewers 50 --slow 10 --slow-rate 65536 ;;
      stalled) run_pair stalled-50+20 "$run_seconds" -- --viewers 50 --stalled 20 ;;
      burst) run_pair burst-1000 5 -- --viewers 1000 --ramp-ms 0 ;;
      sizes)
        if [[ $servers == *camstream* ]]; then
          run_one "size-1280x720.rep$rep" camstream "$run_seconds" 1280 720 -- --viewers 1
          run_one "size-1920x1080.rep$rep" camstream "$run_seconds" 1920 1080 -- --viewers 1
        fi ;;
    esac
  done
done

"$python" "$(dirname "$0")/fanout_report.py" "$results" | tee "$results/summary.md"
