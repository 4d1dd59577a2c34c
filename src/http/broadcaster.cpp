#include <algorithm>

#include "context.hpp"
#include "mjpeg_viewer.hpp"
#include "ws_session.hpp"

namespace camstream {

void Broadcaster::publish(const FramePtr& frame) {
  auto part = std::make_shared<Part>();
  part->frame = frame;
  part->header_size =
      multipart::format_part_header(part->header, frame->jpeg().size(), frame->timestamp);
  latest_ = part;
  // offer() never completes a write inline, so no viewer leaves the list during this loop.
  for (const auto& viewer : viewers_) viewer->offer(latest_);
  if (!frame->placeholder && !waiters_.empty()) {
    auto waiters = std::move(waiters_);
    waiters_.clear();
    for (auto& waiter : waiters) waiter(frame);
  }
}

std::size_t Broadcaster::add_viewer(std::shared_ptr<MjpegViewer> viewer) {
  viewers_.push_back(std::move(viewer));
  return viewers_.size();
}

void Broadcaster::remove_viewer(MjpegViewer* viewer) {
  auto it = std::find_if(viewers_.begin(), viewers_.end(),
                         [viewer](const auto& held) { return held.get() == viewer; });
  if (it == viewers_.end()) return;
  *it = viewers_.back();
  viewers_.pop_back();
}

void Broadcaster::cancel_waiters() {
  auto waiters = std::move(waiters_);
  waiters_.clear();
  for (auto& waiter : waiters) waiter(nullptr);
}

void ControlHub::remove(WsSession* session) {
  std::erase(sessions_, session);
}

void ControlHub::broadcast(const std::string& text) {
  auto shared = std::make_shared<const std::string>(text);
  for (WsSession* session : sessions_) session->send(shared);
}

void ControlHub::release_starts() {
  for (WsSession* session : sessions_) session->release_start();
}

}  // namespace camstream
