#pragma once

#include <cstddef>
#include <memory>
#include <string>

#include "camstream/encode/encoded_frame.hpp"
#include "frame_waiter.hpp"
#include "part.hpp"
#include "registry.hpp"

namespace camstream {

class MjpegViewer;

// Hands each new frame to every viewer and to the snapshots waiting for one.
class Broadcaster {
 public:
  void publish(const FramePtr& frame);
  const PartPtr& latest() const { return latest_; }
  Registry<MjpegViewer>::Membership add_viewer(std::weak_ptr<MjpegViewer> viewer) {
    return viewers_->join(std::move(viewer));
  }
  std::size_t viewers() const { return viewers_->size(); }
  // The waiter leaves when its membership ends, or after it got a frame (it must then reset
  // its membership, which is already harmless).
  Registry<FrameWaiter>::Membership wait_for_frame(std::weak_ptr<FrameWaiter> waiter) {
    return waiters_->join(std::move(waiter));
  }
  std::size_t waiters() const { return waiters_->size(); }
  void cancel_waiters();
  // The frames cannot be made (an output the capture cannot be scaled to): the viewers end
  // their streams, the waiting snapshots are closed.
  void fail(const std::string& why);

 private:
  PartPtr latest_;
  std::size_t walk_start_ = 0;  // where the next walk over the viewers begins
  std::shared_ptr<Registry<MjpegViewer>> viewers_ = Registry<MjpegViewer>::create();
  std::shared_ptr<Registry<FrameWaiter>> waiters_ = Registry<FrameWaiter>::create();
};

}  // namespace camstream
