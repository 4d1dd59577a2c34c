#include "camstream/stream.hpp"

namespace camstream {

std::shared_ptr<EncodedFrame> FramePool::acquire() {
  // use_count() == 1: only the pool holds it. No other thread can gain a reference to a
  // frame it no longer holds, so the frame is free for good.
  for (auto& frame : frames_) {
    if (frame.use_count() == 1) return frame;
  }
  auto frame = std::make_shared<EncodedFrame>();
  frame->storage = std::make_unique_for_overwrite<std::uint8_t[]>(capacity_bytes_);
  frame->capacity = capacity_bytes_;
  frames_.push_back(frame);
  return frame;
}

void FrameHub::add_listener(Listener listener) {
  std::lock_guard lock(mutex_);
  listeners_.push_back(std::move(listener));
}

void FrameHub::publish(const FramePtr& frame) {
  std::lock_guard lock(mutex_);
  latest_ = frame;
  for (const auto& listener : listeners_) listener(frame);
}

FramePtr FrameHub::latest() const {
  std::lock_guard lock(mutex_);
  return latest_;
}

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
