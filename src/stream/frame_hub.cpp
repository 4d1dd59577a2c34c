#include "camstream/stream/frame_hub.hpp"

namespace camstream {

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

}  // namespace camstream
