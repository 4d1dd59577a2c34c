#include "context.hpp"
#include "mjpeg_viewer.hpp"

namespace camstream {

void Broadcaster::publish(const FramePtr& frame) {
  auto part = std::make_shared<Part>();
  part->frame = frame;
  part->header_size =
      multipart::format_part_header(part->header, frame->jpeg().size(), frame->timestamp);
  latest_ = part;
  // Each walk starts elsewhere: a viewer's part leaves after those of the viewers before it
  // (about 10 us each), and a fixed order would always serve the same viewers last (3 ms
  // behind the first at 300 viewers). A prime step visits every start in turn.
  walk_start_ += 7919;
  MjpegViewer::Finished finished;
  finished.reserve(viewers_->size());
  viewers_->for_each_from(walk_start_, [&](MjpegViewer& viewer) { viewer.offer(part, finished); });
  MjpegViewer::complete_later(std::move(finished));
  // A waiting snapshot takes the frame at the snapshot size: the frame itself, or the one
  // encoded beside it when /snapshot has a size of its own (a frame without one was encoded
  // before the snapshot was asked for: the next one will have it).
  const FramePtr& snapshot = frame->snapshot_size ? frame : frame->full_size;
  if (!frame->placeholder && snapshot) {
    waiters_->for_each([&snapshot](FrameWaiter& waiter) { waiter.on_frame(snapshot); });
  }
}

void Broadcaster::fail(const std::string& why) {
  viewers_->for_each([&why](MjpegViewer& viewer) { viewer.end(why); });
  cancel_waiters();
}

void Broadcaster::cancel_waiters() {
  waiters_->for_each([](FrameWaiter& waiter) { waiter.on_frame(nullptr); });
}

}  // namespace camstream
