#pragma once

#include "camstream/encode/encoded_frame.hpp"

namespace camstream {

// A request waiting for the next camera frame (/snapshot).
class FrameWaiter {
 public:
  virtual ~FrameWaiter() = default;
  // The next camera frame (not a placeholder), or nullptr when the wait is cancelled.
  virtual void on_frame(const FramePtr& frame) = 0;
};

}  // namespace camstream
