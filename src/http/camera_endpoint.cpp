#include "camera_endpoint.hpp"

#include <boost/asio/post.hpp>

#include "context.hpp"
#include "ws_session.hpp"

namespace camstream {

CameraEndpoint::CameraEndpoint(Server::Context& server, std::string name, CaptureService& capture,
                               Metrics& metrics)
    : server_(server), name_(std::move(name)), capture_(capture), metrics_(metrics) {}

const ServerSettings& CameraEndpoint::settings() const {
  return server_.settings();
}

ConnectionRegistry& CameraEndpoint::connections() {
  return server_.connections();
}

bool CameraEndpoint::shutting_down() const {
  return server_.shutting_down();
}

PartPtr CameraEndpoint::first_part() const {
  const auto state = capture_.state();
  if (state == CaptureState::idle || state == CaptureState::starting) return nullptr;
  return broadcaster_.latest();
}

std::size_t CameraEndpoint::viewers() const {
  std::size_t count = broadcaster_.viewers();
  for (const auto& [key, weak] : feeds_) {
    if (const auto feed = weak.lock()) count += feed->broadcaster.viewers();
  }
  return count;
}

std::size_t CameraEndpoint::snapshots_waiting() const {
  std::size_t count = broadcaster_.waiters();
  for (const auto& [key, weak] : feeds_) {
    if (const auto feed = weak.lock()) count += feed->broadcaster.waiters();
  }
  return count;
}

void CameraEndpoint::cancel_waiters() {
  broadcaster_.cancel_waiters();
  for (const auto& [key, weak] : feeds_) {
    if (const auto feed = weak.lock()) feed->broadcaster.cancel_waiters();
  }
}

FeedChoice CameraEndpoint::find_feed(const OutputRequest& request) {
  FeedChoice result;
  if (request.empty()) return result;
  const OutputChoice choice = capture_.choose_output(request);
  switch (choice.kind) {
    case OutputChoice::Kind::main:
      return result;
    case OutputChoice::Kind::bad_request:
      result.status = 400;
      result.error = choice.error;
      return result;
    case OutputChoice::Kind::unavailable:
      result.status = 503;
      result.error = choice.error;
      return result;
    case OutputChoice::Kind::output:
      break;
  }
  std::erase_if(feeds_, [](const auto& entry) { return entry.second.expired(); });
  if (auto feed = feeds_[choice.key].lock()) {
    result.feed = std::move(feed);
    return result;
  }
  auto feed = std::make_shared<OutputFeed>();
  std::weak_ptr<OutputFeed> weak = feed;
  // As the main hub's listener (server.cpp): the frame hops onto the I/O thread. A frame
  // that could not be made comes as nullptr, with the reason in the next choose_output().
  feed->output = capture_.open_output(
      choice.key,
      [weak, &io = server_.io()](const FramePtr& frame) {
        boost::asio::post(io, [weak, frame] {
          const auto feed = weak.lock();
          if (!feed) return;
          if (frame) return feed->broadcaster.publish(frame);
          feed->broadcaster.fail("its output cannot be made from this source");
        });
      },
      result.error);
  if (!feed->output) {
    feeds_.erase(choice.key);
    result.status = 503;
    return result;
  }
  feeds_[choice.key] = feed;
  result.feed = std::move(feed);
  return result;
}

ServerStatus CameraEndpoint::status_snapshot() const {
  ServerStatus status = server_.server_status();
  status.capture = capture_.status();
  status.viewers = viewers();
  status.outputs.push_back({capture_.main_output(), broadcaster_.viewers() + broadcaster_.waiters(),
                            metrics_.frames_encoded.load(std::memory_order_relaxed),
                            metrics_.main_frames_sent.load(std::memory_order_relaxed)});
  for (const auto& [key, weak] : feeds_) {
    const auto feed = weak.lock();
    if (!feed) continue;
    const auto& sink = feed->output->sink();
    status.outputs.push_back({key, feed->broadcaster.viewers() + feed->broadcaster.waiters(),
                              sink.frames_encoded.load(std::memory_order_relaxed),
                              sink.frames_sent.load(std::memory_order_relaxed)});
  }
  status.control_clients = controls_->size();
  status.snapshots_waiting = snapshots_waiting();
  return status;
}

void CameraEndpoint::broadcast_status() {
  // A status asked for during a broadcast (a client dropped, the state changed) goes out
  // after it, so every client gets the statuses in the same order.
  if (broadcasting_) {
    status_pending_ = true;
    return;
  }
  broadcasting_ = true;
  do {
    status_pending_ = false;
    auto text = std::make_shared<const std::string>(status());
    controls_->for_each([&text](WsSession& session) { session.send_status(text); });
  } while (status_pending_);
  broadcasting_ = false;
}

void CameraEndpoint::announce_status() {
  if (status_announced_ || shutting_down()) return;
  status_announced_ = true;
  // The Context owns this endpoint: while it lives, so does this.
  boost::asio::post(server_.io(), [weak = server_.weak_from_this(), this] {
    const auto context = weak.lock();
    if (!context) return;
    status_announced_ = false;
    if (!shutting_down()) broadcast_status();
  });
}

bool CameraEndpoint::stop() {
  if (!capture_.command_stop()) return false;
  controls_->for_each([](WsSession& session) { session.release_start(); });
  return true;
}

}  // namespace camstream
