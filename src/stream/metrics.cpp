#include "camstream/stream/metrics.hpp"

namespace camstream {

void Metrics::observe_encode(std::chrono::nanoseconds elapsed) {
  const double seconds = std::chrono::duration<double>(elapsed).count();
  std::size_t bucket = 0;
  while (bucket < kEncodeBuckets.size() && seconds > kEncodeBuckets[bucket]) ++bucket;
  encode_buckets[bucket].fetch_add(1, std::memory_order_relaxed);
  encode_nanoseconds.fetch_add(static_cast<std::uint64_t>(elapsed.count()),
                               std::memory_order_relaxed);
  frames_encoded.fetch_add(1, std::memory_order_relaxed);
}

}  // namespace camstream
