#include <fmt/format.h>
#include <spdlog/spdlog.h>
#include <sys/socket.h>

#include <boost/asio/ip/v6_only.hpp>
#include <boost/asio/post.hpp>
#include <system_error>

#include "context.hpp"
#include "http_session.hpp"
#include "status.hpp"

namespace camstream {

namespace asio = boost::asio;
using tcp = asio::ip::tcp;

namespace {

void accept_next(const std::shared_ptr<Server::Context>& context) {
  context->acceptor.async_accept([context](boost::system::error_code ec, tcp::socket socket) {
    if (ec == asio::error::operation_aborted || !context->acceptor.is_open()) return;
    if (ec) {
      // Out of file descriptors, for instance: keep serving those already connected.
      spdlog::warn("accept failed: {}", ec.message());
    } else {
      std::make_shared<HttpSession>(std::move(socket), context)->run();
    }
    accept_next(context);
  });
}

// Once a second: drop viewers that read nothing. During shutdown, look often, so the process
// exits as soon as the last connection has closed.
void watch(const std::shared_ptr<Server::Context>& context) {
  using namespace std::chrono_literals;
  context->watchdog.expires_after(context->shutting_down ? 20ms : 1000ms);
  context->watchdog.async_wait([context](boost::system::error_code ec) {
    if (ec) return;
    const auto now = std::chrono::steady_clock::now();
    context->connections.for_each(
        [now](Connection* connection) { connection->check_stalled(now); });
    if (context->shutting_down && context->connections.size() == 0) {
      if (auto closed = std::exchange(context->on_closed, nullptr)) closed();
      return;
    }
    watch(context);
  });
}

// The address family of a socket someone else opened (systemd socket activation).
tcp listening_protocol(int fd) {
  sockaddr_storage address{};
  socklen_t length = sizeof address;
  if (::getsockname(fd, reinterpret_cast<sockaddr*>(&address), &length) == 0 &&
      address.ss_family == AF_INET) {
    return tcp::v4();
  }
  return tcp::v6();
}

}  // namespace

Server::Server(asio::io_context& io, ServerSettings settings, CaptureService& capture,
               FrameHub& hub, Metrics& metrics)
    : context_(std::make_shared<Context>(io, std::move(settings), capture, hub, metrics)) {
  std::weak_ptr<Context> weak = context_;
  hub.add_listener([weak, &io](const FramePtr& frame) {
    asio::post(io, [weak, frame] {
      if (auto context = weak.lock()) context->broadcaster.publish(frame);
    });
  });
  capture.on_status([weak] {
    if (auto context = weak.lock()) context->controls.broadcast(status_message(*context));
  });
}

Server::~Server() = default;

tcp::endpoint Server::listen() {
  const auto& settings = context_->settings;
  if (settings.listen_fd >= 0) {
    boost::system::error_code ec;
    context_->acceptor.assign(listening_protocol(settings.listen_fd), settings.listen_fd, ec);
    if (ec) throw std::system_error(ec, "cannot serve on the socket systemd passed");
    accept_next(context_);
    watch(context_);
    return context_->acceptor.local_endpoint();
  }
  boost::system::error_code ec;
  const auto address = asio::ip::make_address(settings.bind, ec);
  if (ec) {
    throw std::system_error(ec, "--bind " + settings.bind + ": not an IP address");
  }
  const tcp::endpoint endpoint(address, settings.port);
  auto& acceptor = context_->acceptor;
  const auto fail = [&](const char* what) {
    const std::string where = address.is_v6()
                                  ? fmt::format("[{}]:{}", address.to_string(), settings.port)
                                  : fmt::format("{}:{}", address.to_string(), settings.port);
    throw std::system_error(ec, fmt::format("cannot {} on {}", what, where));
  };
  acceptor.open(endpoint.protocol(), ec);
  if (ec) fail("open a socket");
  acceptor.set_option(tcp::acceptor::reuse_address(true), ec);
  if (address.is_v6() && address.is_unspecified()) {
    acceptor.set_option(asio::ip::v6_only(false), ec);  // "::" takes IPv4 too
  }
  acceptor.bind(endpoint, ec);
  if (ec) fail("listen");
  // A burst of viewers connecting at once must not overflow the accept queue.
  acceptor.listen(4096, ec);
  if (ec) fail("listen");
  accept_next(context_);
  watch(context_);
  return acceptor.local_endpoint();
}

std::size_t Server::viewers() const {
  return context_->broadcaster.viewers();
}

void Server::shutdown(std::function<void()> closed) {
  auto& context = *context_;
  if (context.shutting_down) return;
  context.shutting_down = true;
  context.on_closed = std::move(closed);
  boost::system::error_code ignored;
  context.acceptor.close(ignored);
  context.broadcaster.cancel_waiters();
  context.connections.for_each([](Connection* connection) { connection->close_for_shutdown(); });
  watch(context_);  // again, at the shutdown pace
}

}  // namespace camstream
