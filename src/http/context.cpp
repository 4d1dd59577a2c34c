#include "context.hpp"

#include <unistd.h>

#include <algorithm>
#include <array>

#include "http_session.hpp"

namespace camstream {

namespace {
std::string machine_hostname() {
  std::array<char, 256> name{};
  if (::gethostname(name.data(), name.size() - 1) != 0) return {};
  return name.data();
}
}  // namespace

Server::Context::Context(boost::asio::io_context& io, ServerSettings settings, access::Gate& gate)
    : watchdog(io),
      io_(io),
      gate_(gate),
      settings_(std::move(settings)),
      host_check_(settings_.allow_origin, settings_.allow_hosts, machine_hostname()) {
  if (!settings_.tls_cert_file.empty()) {
    tls_ = std::make_unique<TlsCertificate>(settings_.tls_cert_file, settings_.tls_key_file);
  }
}

void Server::Context::add_camera(const ServerCamera& camera) {
  cameras_.push_back(
      std::make_unique<CameraEndpoint>(*this, camera.name, camera.capture, camera.metrics));
}

std::shared_ptr<CameraEndpoint> Server::Context::camera(std::string_view name) {
  for (const auto& camera : cameras_) {
    if (camera->name() == name) return {shared_from_this(), camera.get()};
  }
  return nullptr;
}

std::shared_ptr<CameraEndpoint> Server::Context::first_camera() {
  return {shared_from_this(), cameras_.front().get()};
}

std::size_t Server::Context::viewers() const {
  std::size_t total = 0;
  for (const auto& camera : cameras_) total += camera->viewers();
  return total;
}

std::size_t Server::Context::snapshots_waiting() const {
  std::size_t total = 0;
  for (const auto& camera : cameras_) total += camera->snapshots_waiting();
  return total;
}

ServerStatus Server::Context::server_status() const {
  ServerStatus status;
  status.connections = connections_->size();
  const auto counters = gate_.counters();
  status.auth_failures = counters.failures;
  status.lockouts = counters.lockouts;
  return status;
}

std::string Server::Context::status_json() const {
  std::vector<std::pair<std::string, ServerStatus>> cameras;
  for (const auto& camera : cameras_) {
    cameras.emplace_back(camera->name(), camera->status_snapshot());
  }
  return status_with_cameras(cameras);
}

std::string Server::Context::metrics() const {
  std::vector<CameraFigures> cameras;
  for (const auto& camera : cameras_) {
    cameras.push_back(
        CameraFigures{camera->name(), &camera->counters(), camera->status_snapshot()});
  }
  return metrics_text(cameras, server_status());
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

// Every connection of every camera is in the one registry.
void Server::Context::recheck_access() {
  connections_->for_each([this](Connection& connection) { connection.recheck_access(gate_); });
}

void Server::Context::reload_tls() {
  if (tls_) tls_->reload();
}

void Server::Context::begin_shutdown(std::function<void()> closed) {
  shutting_down_ = true;
  on_closed = std::move(closed);
  for (const auto& camera : cameras_) camera->cancel_waiters();
  connections_->for_each([](Connection& connection) { connection.close_for_shutdown(); });
}

}  // namespace camstream
