#include "snapshot_waiter.hpp"

#include <sys/socket.h>

#include <cerrno>

namespace camstream {

namespace asio = boost::asio;
using namespace std::chrono_literals;

namespace {
constexpr auto kSnapshotWait = 5s;
}  // namespace

SnapshotWaiter::SnapshotWaiter(const asio::any_io_executor& executor, Server::Context& context,
                               Client& client)
    : context_(context), client_(client), timer_(executor) {}

FramePtr SnapshotWaiter::latest_for_head(const CameraEndpoint& camera) const {
  if (feed_) {
    const PartPtr& latest = feed_->broadcaster.latest();
    if (latest && !latest->frame->placeholder) return latest->frame;
    return nullptr;
  }
  const PartPtr& latest = camera.latest_part();
  if (latest && latest->frame->snapshot_size) return latest->frame;
  return nullptr;
}

std::optional<SnapshotWaiter::Refusal> SnapshotWaiter::refusal(const CameraEndpoint& camera) const {
  if (camera.stopped()) {
    return Refusal{"capture is stopped: send {\"type\":\"start\"} on /ws\n", std::nullopt};
  }
  // Each waiting snapshot holds a connection and demand: as many as viewers may wait.
  const auto max_waiting = static_cast<std::size_t>(context_.settings().max_clients);
  if (context_.snapshots_waiting() >= max_waiting) {
    return Refusal{"too many snapshots waiting for a frame: the limit is " +
                       std::to_string(max_waiting) + " (--max-clients)\n",
                   "5"};
  }
  return std::nullopt;
}

void SnapshotWaiter::wait(const std::shared_ptr<SnapshotWaiter>& self, CameraEndpoint& camera,
                          asio::ip::tcp::socket& socket, bool head_only, bool keep_alive) {
  waiting_ = true;
  head_only_ = head_only;
  keep_alive_ = keep_alive;
  socket_ = &socket;
  demand_ = camera.hold_demand();
  if (feed_) {
    place_ = feed_->broadcaster.wait_for_frame(std::weak_ptr<FrameWaiter>(self));
  } else {
    request_ = camera.request_snapshot();
    place_ = camera.wait_for_frame(std::weak_ptr<FrameWaiter>(self));
  }
  timer_.expires_after(kSnapshotWait);
  timer_.async_wait([self](boost::system::error_code ec) {
    if (ec || !self->waiting_) return;
    self->stop();
    self->client_.snapshot_timed_out();
  });
  watch_for_hang_up(self);
}

// A client that hangs up while its snapshot waits gives up its place, and its demand, at once.
void SnapshotWaiter::watch_for_hang_up(std::shared_ptr<SnapshotWaiter> self) {
  socket_->async_wait(asio::socket_base::wait_read, [self](boost::system::error_code ec) {
    if (ec || !self->waiting_) return;
    char byte = 0;
    const auto got = ::recv(self->socket_->native_handle(), &byte, 1, MSG_PEEK | MSG_DONTWAIT);
    if (got > 0) return;  // the next request, pipelined: it waits for its turn
    if (got < 0 && (errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR)) {
      return self->watch_for_hang_up(self);
    }
    self->stop();
    self->client_.snapshot_abandoned();
  });
}

void SnapshotWaiter::stop() {
  waiting_ = false;
  place_.reset();
  demand_.reset();
  request_.reset();
  feed_.reset();  // the last holder releases the output
  timer_.cancel();
  boost::system::error_code ignored;
  if (socket_) socket_->cancel(ignored);  // the hang-up watch
}

void SnapshotWaiter::on_frame(const FramePtr& frame) {
  if (!waiting_) return;
  const bool sized = feed_ != nullptr;
  stop();
  if (!frame && sized && !context_.shutting_down()) return client_.snapshot_output_failed();
  if (!frame) return client_.snapshot_abandoned();
  client_.snapshot_ready(frame, head_only_, keep_alive_);
}

}  // namespace camstream
