// stripe-bench: what striped encoding (--encode-threads) buys, per picture size.
//
//   latency     one frame at a time with a pause between frames (as a camera delivers them):
//               wall time of JpegEncoder::encode, median and p90 over --frames frames
//   throughput  frames encoded back to back for --seconds: frames/s (1 thread keeps one core
//               busy, N threads keep N busy)
//   size        the JPEG's bytes with N stripes against one: the cost of DRI and the RSTn
//               markers with their byte padding
//   in flight   (--in-flight) the alternative to stripes: N one-thread encoders, each on its
//               own thread, take whole frames back to back for --seconds; frames/s of all,
//               and the wall time of one frame (its latency). Rows "N/f".
//
// The picture is the test source's 30th frame, quality 80, I420 (4:2:0). Threads, sizes and
// repetitions come from the command line; the output is one line per (size, threads), then
// the ratios against one thread. On a shared machine every figure moves with the neighbours:
// compare ratios from one run, and repeat (--reps takes the median of the runs' medians).
#include <algorithm>
#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <mutex>
#include <stdexcept>
#include <string>
#include <thread>
#include <vector>

#include "camstream/capture/owned_yuv_image.hpp"
#include "camstream/encode/jpeg_encoder.hpp"
#include "test_picture.hpp"

namespace {

using namespace camstream;
using camstream::bench::test_picture;
using Clock = std::chrono::steady_clock;
constexpr int kQuality = 80;

double percentile(std::vector<double> values, double p) {
  std::sort(values.begin(), values.end());
  const auto index = static_cast<std::size_t>(p * static_cast<double>(values.size() - 1) + 0.5);
  return values[index];
}

struct Result {
  double latency_ms = 0;  // median
  double latency_p90_ms = 0;
  double fps = 0;
  std::size_t bytes = 0;
};

Result measure(const FrameView& frame, int threads, int frames, double seconds, double gap_ms) {
  JpegEncoder encoder(kQuality, threads);
  std::vector<std::uint8_t> out(JpegEncoder::max_jpeg_size(frame.width, frame.height));
  Result result;
  for (int i = 0; i < 3; ++i) result.bytes = encoder.encode(frame, out);  // warm
  std::vector<double> latencies;
  for (int i = 0; i < frames; ++i) {
    // A camera's pause between frames: the workers sleep, as in service. 0: back to back.
    if (gap_ms > 0) std::this_thread::sleep_for(std::chrono::duration<double, std::milli>(gap_ms));
    const auto start = Clock::now();
    encoder.encode(frame, out);
    latencies.push_back(std::chrono::duration<double, std::milli>(Clock::now() - start).count());
  }
  result.latency_ms = percentile(latencies, 0.5);
  result.latency_p90_ms = percentile(latencies, 0.9);
  const auto start = Clock::now();
  const auto end =
      start + std::chrono::duration_cast<Clock::duration>(std::chrono::duration<double>(seconds));
  int count = 0;
  while (Clock::now() < end) {
    encoder.encode(frame, out);
    ++count;
  }
  result.fps = count / std::chrono::duration<double>(Clock::now() - start).count();
  return result;
}

// Frames in flight: `threads` one-thread encoders, each on its own thread, encode frames back
// to back; a frame's latency is its own encode, the throughput is everyone's frames.
Result measure_in_flight(const FrameView& frame, int threads, double seconds) {
  std::vector<std::vector<double>> latencies(static_cast<std::size_t>(threads));
  std::atomic<int> count{0};
  std::atomic<int> ready{0};
  Result result;
  Clock::time_point start;
  std::vector<std::thread> encoders;
  for (int t = 0; t < threads; ++t) {
    encoders.emplace_back([&, t] {
      JpegEncoder encoder(kQuality, 1);
      std::vector<std::uint8_t> out(JpegEncoder::max_jpeg_size(frame.width, frame.height));
      for (int i = 0; i < 3; ++i) encoder.encode(frame, out);  // warm
      ready.fetch_add(1);
      while (ready.load() < threads) std::this_thread::yield();
      const auto end = Clock::now() + std::chrono::duration_cast<Clock::duration>(
                                          std::chrono::duration<double>(seconds));
      auto& mine = latencies[static_cast<std::size_t>(t)];
      while (Clock::now() < end) {
        const auto begin = Clock::now();
        encoder.encode(frame, out);
        mine.push_back(std::chrono::duration<double, std::milli>(Clock::now() - begin).count());
        count.fetch_add(1);
      }
    });
  }
  while (ready.load() < threads) std::this_thread::yield();
  start = Clock::now();
  for (auto& encoder : encoders) encoder.join();
  result.fps = count.load() / std::chrono::duration<double>(Clock::now() - start).count();
  std::vector<double> all;
  for (const auto& mine : latencies) all.insert(all.end(), mine.begin(), mine.end());
  result.latency_ms = percentile(all, 0.5);
  result.latency_p90_ms = percentile(all, 0.9);
  return result;
}

}  // namespace

int main(int argc, char** argv) {
  std::vector<std::pair<int, int>> sizes{{640, 480}, {1280, 720}, {1920, 1080}};
  std::vector<int> threads{1, 2};
  int frames = 60;
  double seconds = 3;
  int reps = 3;
  double gap_ms = 5;
  bool in_flight = false;
  for (int i = 1; i < argc; ++i) {
    const std::string arg = argv[i];
    const auto value = [&]() -> std::string {
      if (i + 1 >= argc) throw std::invalid_argument(arg + " needs a value");
      return argv[++i];
    };
    if (arg == "--frames") {
      frames = std::stoi(value());
    } else if (arg == "--seconds") {
      seconds = std::stod(value());
    } else if (arg == "--gap-ms") {
      gap_ms = std::stod(value());
      if (!(gap_ms >= 0 && gap_ms <= 1000)) throw std::invalid_argument("--gap-ms: 0..1000");
    } else if (arg == "--in-flight") {
      in_flight = true;
    } else if (arg == "--reps") {
      reps = std::stoi(value());
    } else if (arg == "--threads") {
      threads.clear();
      std::string list = value();
      for (std::size_t at = 0; at <= list.size();) {
        const std::size_t comma = std::min(list.find(',', at), list.size());
        threads.push_back(std::stoi(list.substr(at, comma - at)));
        at = comma + 1;
      }
    } else if (arg == "--size") {
      const std::string size = value();
      const auto x = size.find('x');
      sizes = {{std::stoi(size.substr(0, x)), std::stoi(size.substr(x + 1))}};
    } else {
      std::fprintf(stderr,
                   "usage: stripe-bench [--size WxH] [--threads 1,2,...] [--frames N] "
                   "[--seconds S] [--reps R] [--gap-ms MS] [--in-flight]\n");
      return 2;
    }
  }
  std::printf("# %u online cores; quality %d; I420; median of %d reps; %.2f ms between frames\n",
              std::thread::hardware_concurrency(), kQuality, reps, gap_ms);
  std::printf("%-10s %7s %12s %12s %10s %10s %9s %9s %9s\n", "size", "threads", "latency_ms",
              "p90_ms", "fps", "bytes", "lat_x", "fps_x", "size_+%");
  // What each row measures: striped with N threads, or N frames in flight ("N/f").
  struct Row {
    int threads;
    bool in_flight;
  };
  std::vector<Row> rows;
  for (int n : threads) rows.push_back({n, false});
  if (in_flight) {
    for (int n : threads) {
      if (n > 1) rows.push_back({n, true});
    }
  }
  for (const auto& [width, height] : sizes) {
    const OwnedYuvImage picture = test_picture(width, height);
    const FrameView frame = picture.view();
    std::vector<Result> medians;
    // Each rep measures every row in turn, so that a busy neighbour hurts them alike.
    std::vector<std::vector<Result>> runs(rows.size());
    for (int rep = 0; rep < reps; ++rep) {
      for (std::size_t t = 0; t < rows.size(); ++t) {
        runs[t].push_back(rows[t].in_flight
                              ? measure_in_flight(frame, rows[t].threads, seconds)
                              : measure(frame, rows[t].threads, frames, seconds, gap_ms));
      }
    }
    for (auto& run : runs) {
      Result median;
      std::vector<double> latency, p90, fps;
      for (const Result& r : run) {
        latency.push_back(r.latency_ms);
        p90.push_back(r.latency_p90_ms);
        fps.push_back(r.fps);
      }
      median.latency_ms = percentile(latency, 0.5);
      median.latency_p90_ms = percentile(p90, 0.5);
      median.fps = percentile(fps, 0.5);
      median.bytes = run.front().bytes;
      medians.push_back(median);
    }
    const Result& one = medians.front();
    for (std::size_t t = 0; t < rows.size(); ++t) {
      Result r = medians[t];
      if (rows[t].in_flight) r.bytes = one.bytes;  // whole frames: the one-thread JPEG
      const std::string label = std::to_string(rows[t].threads) + (rows[t].in_flight ? "/f" : "");
      std::printf("%-10s %7s %12.2f %12.2f %10.1f %10zu %9.2f %9.2f %9.3f\n",
                  (std::to_string(width) + "x" + std::to_string(height)).c_str(), label.c_str(),
                  r.latency_ms, r.latency_p90_ms, r.fps, r.bytes, one.latency_ms / r.latency_ms,
                  r.fps / one.fps,
                  100.0 * (static_cast<double>(r.bytes) - static_cast<double>(one.bytes)) /
                      static_cast<double>(one.bytes));
    }
  }
  return 0;
}
