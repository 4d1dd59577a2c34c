#include "context.hpp"
#include "mjpeg_viewer.hpp"

namespace camstream {

void Broadcaster::publish(const FramePtr& frame) {
  auto part = std::make_shared<Part>();
  part->frame = frame;
  part->header_size =
      multipart::format_part_header(part->header, frame->jpeg().size(), frame->timestamp);
  latest_ = part;
  viewers_->for_each([&part](MjpegViewer& viewer) { viewer.offer(part); });
  if (!frame->placeholder) {
    waiters_->for_each([&frame](FrameWaiter& waiter) { waiter.on_frame(frame); });
  }
}

void Broadcaster::cancel_waiters() {
  waiters_->for_each([](FrameWaiter& waiter) { waiter.on_frame(nullptr); });
}

}  // namespace camstream
