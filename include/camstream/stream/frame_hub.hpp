#pragma once

#include <functional>
#include <mutex>
#include <vector>

#include "camstream/encode/encoded_frame.hpp"

namespace camstream {

// Holds the newest frame. publish() may be called from any thread; listeners run on the
// publishing thread and must only hand the frame on (e.g. post it to an I/O executor).
class FrameHub {
 public:
  using Listener = std::function<void(const FramePtr&)>;
  void add_listener(Listener listener);  // set up before frames flow
  void publish(const FramePtr& frame);
  FramePtr latest() const;

 private:
  mutable std::mutex mutex_;
  FramePtr latest_;
  std::vector<Listener> listeners_;
};

}  // namespace camstream
