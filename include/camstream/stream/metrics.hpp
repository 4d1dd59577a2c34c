#pragma once

#include <array>
#include <atomic>
#include <chrono>
#include <cstdint>

namespace camstream {

// Counters shared by the pipeline and the server; relaxed atomics, read by /metrics.
struct Metrics {
  static constexpr std::array<double, 10> kEncodeBuckets{0.001, 0.002, 0.005, 0.01, 0.02,
                                                         0.05,  0.1,   0.2,   0.5,  1.0};
  std::atomic<std::uint64_t> frames_captured{0};
  std::atomic<std::uint64_t> frames_encoded{0};
  std::atomic<std::uint64_t> snapshots_encoded{0};  // at a snapshot size of their own
  std::atomic<std::uint64_t> frames_decoded{0};     // MJPEG frames decoded for their pixels
  std::atomic<std::uint64_t> frames_sent{0};
  std::atomic<std::uint64_t> main_frames_sent{0};  // of frames_sent: the main stream's
  std::atomic<std::uint64_t> bytes_sent{0};
  std::atomic<std::uint64_t> dropped_slow_viewer{0};  // replaced by a newer frame before sent
  std::atomic<std::uint64_t> dropped_fps_cap{0};      // skipped for a viewer's ?fps=
  std::atomic<std::uint64_t> dropped_encode_error{0};
  std::atomic<std::uint64_t> dropped_corrupt{0};  // a truncated or malformed camera frame
  std::array<std::atomic<std::uint64_t>, kEncodeBuckets.size() + 1> encode_buckets{};  // +Inf
  std::atomic<std::uint64_t> encode_nanoseconds{0};

  void observe_encode(std::chrono::nanoseconds elapsed);
};

}  // namespace camstream
