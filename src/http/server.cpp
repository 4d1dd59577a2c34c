#include <spdlog/spdlog.h>

#include <boost/asio/post.hpp>

#include "context.hpp"
#include "http_session.hpp"
#include "listener.hpp"

namespace camstream {

namespace asio = boost::asio;
using tcp = asio::ip::tcp;

namespace {

// Once a second: drop viewers (of any camera) that read nothing. During shutdown, look often, so
// the process exits as soon as the last connection has closed.
void watch(const std::shared_ptr<Server::Context>& context) {
  using namespace std::chrono_literals;
  context->watchdog.expires_after(context->shutting_down() ? 20ms : 1000ms);
  context->watchdog.async_wait([context](boost::system::error_code ec) {
    if (ec) return;
    const auto now = std::chrono::steady_clock::now();
    // Every camera's viewers are in the one registry of connections.
    context->connections().for_each(
        [now](Connection& connection) { connection.check_stalled(now); });
    if (context->shutting_down() && context->connections().size() == 0) {
      if (auto closed = std::exchange(context->on_closed, nullptr)) closed();
      return;
    }
    watch(context);
  });
}

}  // namespace

Server::Server(asio::io_context& io, ServerSettings settings,
               const std::vector<ServerCamera>& cameras, access::Gate& gate)
    : context_(std::make_shared<Context>(io, std::move(settings), gate)) {
  std::weak_ptr<Context> weak = context_;
  for (const auto& camera : cameras) {
    context_->add_camera(camera);
    // The endpoint lives as long as the Context: it is found again by name from the weak one.
    CameraEndpoint* endpoint = context_->camera(camera.name).get();
    camera.hub.add_listener([weak, endpoint, &io](const FramePtr& frame) {
      asio::post(io, [weak, endpoint, frame] {
        if (auto context = weak.lock()) endpoint->publish(frame);
      });
    });
    camera.capture.on_status([weak, endpoint] {
      if (auto context = weak.lock()) endpoint->broadcast_status();
    });
  }
  listener_ = std::make_shared<Listener>(
      io,
      [weak](tcp::socket& socket) {
        auto context = weak.lock();
        if (!context) return true;  // shutting down: the socket closes
        context->make_room();
        if (context->connections().size() >=
            static_cast<std::size_t>(context->settings().max_connections)) {
          return false;
        }
        std::make_shared<HttpSession>(std::move(socket), context)->run();
        return true;
      },
      [weak] {
        auto context = weak.lock();
        if (!context) return false;
        // At the limit, an unproven connection waiting for its request gives way, so a
        // flood of them cannot keep /healthz or a login out.
        return context->connections().size() <
                   static_cast<std::size_t>(context->settings().max_connections) ||
               context->can_make_room();
      });
}

Server::~Server() {
  listener_->close();
}

tcp::endpoint Server::listen() {
  const auto& settings = context_->settings();
  const auto endpoint = settings.listen_fd >= 0 ? listener_->adopt(settings.listen_fd)
                                                : listener_->listen(settings.bind, settings.port);
  listener_->start();
  watch(context_);
  return endpoint;
}

std::size_t Server::viewers() const {
  return context_->viewers();
}

bool Server::tls() const {
  return context_->tls() != nullptr;
}

void Server::reload_tls() {
  context_->reload_tls();
}

void Server::recheck_access() {
  context_->recheck_access();
}

void Server::shutdown(std::function<void()> closed) {
  if (context_->shutting_down()) return;
  listener_->close();
  context_->begin_shutdown(std::move(closed));
  watch(context_);  // again, at the shutdown pace
}

}  // namespace camstream
