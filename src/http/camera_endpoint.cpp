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

ServerStatus CameraEndpoint::status_snapshot() const {
  ServerStatus status = server_.server_status();
  status.capture = capture_.status();
  status.viewers = broadcaster_.viewers();
  status.control_clients = controls_->size();
  status.snapshots_waiting = broadcaster_.waiters();
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
