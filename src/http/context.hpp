// What the server's sessions share: the server-wide part (the connections, the settings, the
// access gate, TLS, shutdown) and the cameras, each a CameraEndpoint (camera_endpoint.hpp)
// that is the narrow interface its viewers and control clients see (viewer_hub.hpp,
// controller.hpp). Only HttpSession, which routes requests and hands connections on, and the
// Server see the Context. Everything here runs on the one I/O thread.
//
// Ownership (see registry.hpp): a session owns itself through its pending operations; the
// server's lists (every connection, the stream viewers, the waiting snapshots, the control
// clients) are Registries of weak references that a session joins and leaves. Removing a
// session never disturbs a walk over a list, and no walk keeps a session alive past it.
#pragma once

#include <boost/asio/io_context.hpp>
#include <boost/asio/steady_timer.hpp>
#include <functional>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "camera_endpoint.hpp"
#include "camstream/access/gate.hpp"
#include "camstream/http/server.hpp"
#include "connection.hpp"
#include "host_check.hpp"
#include "registry.hpp"
#include "status.hpp"
#include "tls.hpp"

namespace camstream {

class HttpSession;
struct Server::Context : std::enable_shared_from_this<Server::Context> {
  Context(boost::asio::io_context& io, ServerSettings settings, access::Gate& gate);
  Context(const Context&) = delete;
  Context& operator=(const Context&) = delete;

  // Before any session: the cameras, the first first.
  void add_camera(const ServerCamera& camera);

  boost::asio::io_context& io() { return io_; }
  access::Gate& gate() { return gate_; }
  // Null: plain HTTP.
  TlsCertificate* tls() const { return tls_.get(); }
  const ServerSettings& settings() const { return settings_; }
  ConnectionRegistry& connections() { return *connections_; }
  const HostCheck& host_check() const { return host_check_; }
  bool shutting_down() const { return shutting_down_; }

  // The camera of that name, shared with this Context's ownership; null if there is none.
  std::shared_ptr<CameraEndpoint> camera(std::string_view name);
  // The first camera: it also answers the single-camera URLs.
  std::shared_ptr<CameraEndpoint> first_camera();
  // Stream viewers of every camera (--max-clients counts them together).
  std::size_t viewers() const;
  std::size_t snapshots_waiting() const;

  // /api/status: the first camera's status, and "cameras" with every camera's.
  std::string status_json() const;
  // /metrics: every camera's series (labelled camera="NAME" when there are several).
  std::string metrics() const;
  // The server-wide figures of a status (connections, logins).
  ServerStatus server_status() const;

  // Connections that have not yet sent an allowed request: at most a share of
  // --max-connections, so they can never take every slot (docs/security.md).
  Registry<HttpSession>::Membership add_unproven(std::weak_ptr<HttpSession> session) {
    return unproven_->join(std::move(session));
  }
  // Before accepting: when the unproven connections hold their share, or every connection is
  // taken, the oldest unproven one still waiting for its request is closed; failing that, at
  // the limit, the oldest connection idle between requests.
  void make_room();
  // Whether make_room() can free a slot at --max-connections.
  bool can_make_room();
  void recheck_access();
  void reload_tls();
  void begin_shutdown(std::function<void()> closed);

  // The stall watchdog's timer (server.cpp), and what it calls once the last connection is
  // gone after shutdown.
  boost::asio::steady_timer watchdog;
  std::function<void()> on_closed;

 private:
  boost::asio::io_context& io_;
  access::Gate& gate_;
  std::unique_ptr<TlsCertificate> tls_;
  ServerSettings settings_;
  HostCheck host_check_;
  std::vector<std::unique_ptr<CameraEndpoint>> cameras_;
  std::shared_ptr<ConnectionRegistry> connections_ = ConnectionRegistry::create();
  std::shared_ptr<Registry<HttpSession>> unproven_ = Registry<HttpSession>::create();
  bool shutting_down_ = false;
};

}  // namespace camstream
