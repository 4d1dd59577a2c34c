#!/bin/bash
# Compares camstream's JPEG encoder with libjpeg-turbo's own tjbench on the same picture.
#
#   bench/tjbench-compare.sh [build-dir] [results-dir]
#
# For 640x480, 1280x720 and 1920x1080 it writes the test-pattern picture as a PPM
# (encoder-bench --write-ppm), runs `tjbench <ppm> 80 -subsamp 420 -yuv` (its "Comp Perf" is
# compression from planar YUV, the work camstream does; the RGB->YUV step is reported apart)
# and encoder-bench's BM_Encode and BM_TurboJpegFromYuv. The machine is shared, so each is run
# REPS times, interleaved, and the best run of each counts. Prints a Markdown table; the raw
# outputs stay in results-dir.
set -euo pipefail

build_dir=${1:-build/release}
results=${2:-$build_dir/bench-results/tjbench-$(date -u +%Y%m%dT%H%M%SZ)}
reps=${REPS:-3}
benchtime=${BENCHTIME:-5}
encoder_bench=$build_dir/bench/encoder-bench
python=/usr/bin/python3

[[ -x $encoder_bench ]] || { echo "no $encoder_bench: build the encoder-bench target" >&2; exit 1; }
command -v tjbench >/dev/null || { echo "tjbench not found (Debian: libjpeg-turbo-progs)" >&2; exit 1; }
mkdir -p "$results"

sizes=(640x480 1280x720 1920x1080)
for size in "${sizes[@]}"; do
  "$encoder_bench" --write-ppm="$results/test-$size.ppm" --ppm-size="$size"
done

for rep in $(seq 1 "$reps"); do
  for size in "${sizes[@]}"; do
    # -quiet prints one row; with -yuv: ... Width Height EncodePerf CompPerf Ratio (Mpixels/s).
    (cd "$results" && tjbench "test-$size.ppm" 80 -subsamp 420 -yuv -componly -nowrite \
      -benchtime "$benchtime" -warmup 1 -quiet) >"$results/tjbench-yuv-$size-$rep.txt"
    (cd "$results" && tjbench "test-$size.ppm" 80 -subsamp 420 -componly -nowrite \
      -benchtime "$benchtime" -warmup 1 -quiet) >"$results/tjbench-rgb-$size-$rep.txt"
  done
  "$encoder_bench" --benchmark_filter='BM_Encode|BM_TurboJpegFromYuv' \
    --benchmark_min_time="$benchtime" --benchmark_format=json \
    >"$results/encoder-bench-$rep.json" 2>/dev/null
done

"$python" - "$results" "$reps" <<'PY'
import json, re, sys
results, reps = sys.argv[1], int(sys.argv[2])
sizes = ["640x480", "1280x720", "1920x1080"]

def tjbench_row(path):
    for line in open(path):
        fields = line.split()
        if len(fields) >= 8 and fields[1] == "(TD)" and re.match(r"^[0-9.]+$", fields[6]):
            return [float(f) for f in fields[6:9] if re.match(r"^[0-9.]+$", f)]
    raise SystemExit(f"no result row in {path}")

best = {}
for size in sizes:
    w, h = map(int, size.split("x"))
    yuv = [tjbench_row(f"{results}/tjbench-yuv-{size}-{r}.txt") for r in range(1, reps + 1)]
    rgb = [tjbench_row(f"{results}/tjbench-rgb-{size}-{r}.txt") for r in range(1, reps + 1)]
    ours_wall, ours_cpu, lib_cpu, jpeg = [], [], [], 0
    for r in range(1, reps + 1):
        for b in json.load(open(f"{results}/encoder-bench-{r}.json"))["benchmarks"]:
            if not b["name"].endswith(f"/{w}/{h}"):
                continue
            pix = w * h / 1e6
            scale = {"ms": 1e-3, "us": 1e-6, "ns": 1e-9}[b["time_unit"]]
            if b["name"].startswith("BM_Encode/"):
                ours_wall.append(pix / (b["real_time"] * scale))
                ours_cpu.append(pix / (b["cpu_time"] * scale))
                jpeg = b["jpeg_bytes"]
            elif b["name"].startswith("BM_TurboJpegFromYuv/"):
                lib_cpu.append(pix / (b["cpu_time"] * scale))
    best[size] = dict(
        tj_comp_yuv=max(r[1] for r in yuv), tj_rgb_to_yuv=max(r[0] for r in yuv),
        tj_comp_rgb=max(r[0] for r in rgb), ours_wall=max(ours_wall), ours_cpu=max(ours_cpu),
        lib_cpu=max(lib_cpu), jpeg_bytes=jpeg,
        fps_cpu=max(ours_cpu) / (w * h / 1e6))
json.dump(best, open(f"{results}/summary.json", "w"), indent=1)

print(f"Best of {reps} runs, Mpixels/s (higher is better); quality 80, 4:2:0.\n")
print("| size | tjbench comp from YUV (wall) | camstream JpegEncoder (wall) | ratio | "
      "TurboJPEG direct (CPU) | camstream JpegEncoder (CPU) | ratio | tjbench from RGB (wall) | "
      "JPEG bytes | encoder fps (CPU) |")
print("|---|---|---|---|---|---|---|---|---|---|")
for size in sizes:
    b = best[size]
    print(f"| {size} | {b['tj_comp_yuv']:.1f} | {b['ours_wall']:.1f} | "
          f"{b['ours_wall'] / b['tj_comp_yuv']:.3f} | {b['lib_cpu']:.1f} | {b['ours_cpu']:.1f} | "
          f"{b['ours_cpu'] / b['lib_cpu']:.3f} | {b['tj_comp_rgb']:.1f} | {b['jpeg_bytes']:.0f} | "
          f"{b['fps_cpu']:.0f} |")
PY
echo
echo "raw results: $results"
