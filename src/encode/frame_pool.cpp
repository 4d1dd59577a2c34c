#include "camstream/encode/frame_pool.hpp"

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

}  // namespace camstream
