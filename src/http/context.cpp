#include "context.hpp"

#include <unistd.h>

#include <algorithm>
#include <array>
#include <boost/asio/post.hpp>

#include "http_session.hpp"
#include "ws_session.hpp"

namespace camstream {

namespace {
std::string machine_hostname() {
  std::array<char, 256> name{};
  if (::gethostname(name.data(), name.size() - 1) != 0) return {};
  return name.data();
}
}  // namespace

Server::Context::Context(boost::asio::io_context& io, ServerSettings settings,
                         CaptureService& capture, FrameHub& hub, Metrics& metrics,
                         access::Gate& gate)
    : io(io),
      gate(gate),
      capture(capture),
      hub(hub),
      watchdog(io),
      settings_(std::move(settings)),
      metrics_(metrics),
      host_check_(settings_.allow_origin, settings_.allow_hosts, machine_hostname()) {
  if (!settings_.tls_cert_file.empty()) {
    tls = std::make_unique<TlsCertificate>(settings_.tls_cert_file, settings_.tls_key_file);
  }
}

PartPtr Server::Context::first_part() const {
  const auto state = capture.state();
  if (state == CaptureState::idle || state == CaptureState::starting) return nullptr;
  return broadcaster.latest();
}

std::size_t Server::Context::viewers() const {
  std::size_t count = broadcaster.viewers();
  for (const auto& [key, weak] : feeds_) {
    if (const auto feed = weak.lock()) count += feed->broadcaster.viewers();
  }
  return count;
}

std::size_t Server::Context::waiters() const {
  std::size_t count = broadcaster.waiters();
  for (const auto& [key, weak] : feeds_) {
    if (const auto feed = weak.lock()) count += feed->broadcaster.waiters();
  }
  return count;
}

FeedChoice Server::Context::find_feed(const OutputRequest& request) {
  FeedChoice result;
  if (request.empty()) return result;
  const OutputChoice choice = capture.choose_output(request);
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
  feed->output = capture.open_output(
      choice.key,
      [weak, &io = io](const FramePtr& frame) {
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

ServerStatus Server::Context::status_snapshot() const {
  ServerStatus status;
  status.capture = capture.status();
  status.viewers = viewers();
  status.outputs.push_back({capture.main_output(), broadcaster.viewers() + broadcaster.waiters(),
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
  status.connections = connections_->size();
  status.snapshots_waiting = waiters();
  const auto counters = gate.counters();
  status.auth_failures = counters.failures;
  status.lockouts = counters.lockouts;
  return status;
}

std::string Server::Context::status() {
  return status_message(status_snapshot());
}

void Server::Context::broadcast_status() {
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

void Server::Context::announce_status() {
  if (status_announced_ || shutting_down_) return;
  status_announced_ = true;
  boost::asio::post(io, [weak = weak_from_this()] {
    auto context = weak.lock();
    if (!context) return;
    context->status_announced_ = false;
    if (!context->shutting_down_) context->broadcast_status();
  });
}

bool Server::Context::stop() {
  if (!capture.command_stop()) return false;
  controls_->for_each([](WsSession& session) { session.release_start(); });
  return true;
}

namespace {
std::size_t unproven_share(int max_connections) {
  return std::max<std::size_t>(1, static_cast<std::size_t>(max_connections) / 2);
}
}  // namespace

void Server::Context::make_room() {
  const auto max = static_cast<std::size_t>(settings_.max_connections);
  if (connections_->size() < max && unproven_->size() < unproven_share(settings_.max_connections)) {
    return;
  }
  bool freed = false;
  unproven_->for_each([&freed](HttpSession& session) {
    if (!freed) freed = session.evict();
  });
  if (freed || connections_->size() < max) return;
  connections_->for_each([&freed](Connection& connection) {
    if (!freed) freed = connection.close_if_idle();
  });
}

bool Server::Context::can_make_room() {
  bool found = false;
  unproven_->for_each([&found](HttpSession& session) { found = found || session.evictable(); });
  connections_->for_each([&found](Connection& connection) { found = found || connection.idle(); });
  return found;
}

void Server::Context::recheck_access() {
  connections_->for_each([this](Connection& connection) { connection.recheck_access(gate); });
}

void Server::Context::begin_shutdown(std::function<void()> closed) {
  shutting_down_ = true;
  on_closed = std::move(closed);
  broadcaster.cancel_waiters();
  for (const auto& [key, weak] : feeds_) {
    if (const auto feed = weak.lock()) feed->broadcaster.cancel_waiters();
  }
  connections_->for_each([](Connection& connection) { connection.close_for_shutdown(); });
}

}  // namespace camstream
