// What the server's sessions share, and the narrow interface each kind of session sees.
// Everything here runs on the one I/O thread.
//
// Ownership (see registry.hpp): a session owns itself through its pending operations; the
// server's lists (every connection, the stream viewers, the waiting snapshots, the control
// clients) are Registries of weak references that a session joins and leaves. Removing a
// session never disturbs a walk over a list, and no walk keeps a session alive past it.
#pragma once

#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/steady_timer.hpp>
#include <functional>
#include <memory>
#include <string>

#include "camstream/http.hpp"
#include "host_check.hpp"
#include "multipart.hpp"
#include "registry.hpp"
#include "status.hpp"
#include "tls.hpp"

namespace camstream {

// A frame dressed for the stream: the part header is formatted once, shared by all viewers.
struct Part {
  FramePtr frame;
  multipart::PartHeader header{};
  std::size_t header_size = 0;
};
using PartPtr = std::shared_ptr<const Part>;

// Any open connection, so shutdown can reach it and the watchdog can check it.
class Connection {
 public:
  virtual ~Connection() = default;
  virtual void close_for_shutdown() = 0;
  virtual void check_stalled(std::chrono::steady_clock::time_point) {}
  // After a reload (SIGHUP): a session whose credential no longer holds ends, or takes the
  // role it has now (docs/security.md, "Revocation").
  virtual void recheck_access(const access::Gate&) {}
  // At --max-connections: a connection idle between requests closes (HTTP lets a server
  // close an idle persistent connection) and returns true; streams and WebSockets do not.
  virtual bool close_if_idle() { return false; }
  virtual bool idle() const { return false; }
};
using ConnectionRegistry = Registry<Connection>;

class HttpSession;

// A request waiting for the next camera frame (/snapshot).
class FrameWaiter {
 public:
  virtual ~FrameWaiter() = default;
  // The next camera frame (not a placeholder), or nullptr when the wait is cancelled.
  virtual void on_frame(const FramePtr& frame) = 0;
};

class MjpegViewer;
class WsSession;

// Hands each new frame to every viewer and to the snapshots waiting for one.
class Broadcaster {
 public:
  void publish(const FramePtr& frame);
  const PartPtr& latest() const { return latest_; }
  Registry<MjpegViewer>::Membership add_viewer(std::weak_ptr<MjpegViewer> viewer) {
    return viewers_->join(std::move(viewer));
  }
  std::size_t viewers() const { return viewers_->size(); }
  // The waiter leaves when its membership ends, or after it got a frame (it must then reset
  // its membership, which is already harmless).
  Registry<FrameWaiter>::Membership wait_for_frame(std::weak_ptr<FrameWaiter> waiter) {
    return waiters_->join(std::move(waiter));
  }
  std::size_t waiters() const { return waiters_->size(); }
  void cancel_waiters();

 private:
  PartPtr latest_;
  std::shared_ptr<Registry<MjpegViewer>> viewers_ = Registry<MjpegViewer>::create();
  std::shared_ptr<Registry<FrameWaiter>> waiters_ = Registry<FrameWaiter>::create();
};

// What a stream viewer needs from the server.
class ViewerHub {
 public:
  virtual ~ViewerHub() = default;
  virtual const ServerSettings& settings() const = 0;
  virtual ConnectionRegistry& connections() = 0;
  virtual Registry<MjpegViewer>::Membership add_viewer(std::weak_ptr<MjpegViewer> viewer) = 0;
  virtual std::size_t viewers() const = 0;
  // The part a new viewer starts with: the newest, if capture is live; else nullptr.
  virtual PartPtr first_part() const = 0;
  virtual DemandToken hold_demand() = 0;
  virtual Metrics& metrics() = 0;
};

// What a control WebSocket client needs from the server.
class Controller {
 public:
  virtual ~Controller() = default;
  virtual ConnectionRegistry& connections() = 0;
  virtual Registry<WsSession>::Membership add_control_client(std::weak_ptr<WsSession> session) = 0;
  virtual std::size_t control_clients() const = 0;
  virtual bool shutting_down() const = 0;
  virtual std::string status() = 0;  // the serialized status message
  // Sends a status to every control client once the current handler has returned (many
  // calls in a row send one), so no client gets it before a message already on its way.
  virtual void announce_status() = 0;
  virtual DemandToken hold_demand() = 0;
  virtual void start() = 0;
  virtual bool stop() = 0;  // false: refused (--always-on); else every client's start ends
  virtual std::string controls_message() const = 0;  // serialized, "type":"controls"
  // All or none; the error names the control and why.
  virtual std::optional<ControlError> set_controls(
      const std::map<std::string, ControlValue>& values) = 0;
  virtual const LiveSettings& live_settings() const = 0;
  virtual std::string configure(const LiveSettings& next) = 0;  // why not, or ""
};

struct Server::Context : ViewerHub, Controller, std::enable_shared_from_this<Server::Context> {
  Context(boost::asio::io_context& io, ServerSettings settings, CaptureService& capture,
          FrameHub& hub, Metrics& metrics, access::Gate& gate);

  // ViewerHub
  const ServerSettings& settings() const override { return settings_; }
  ConnectionRegistry& connections() override { return *connections_; }
  Registry<MjpegViewer>::Membership add_viewer(std::weak_ptr<MjpegViewer> viewer) override {
    return broadcaster.add_viewer(std::move(viewer));
  }
  std::size_t viewers() const override { return broadcaster.viewers(); }
  PartPtr first_part() const override;
  DemandToken hold_demand() override { return capture.hold_demand(); }
  Metrics& metrics() override { return metrics_; }

  // Controller
  Registry<WsSession>::Membership add_control_client(std::weak_ptr<WsSession> session) override {
    return controls_->join(std::move(session));
  }
  std::size_t control_clients() const override { return controls_->size(); }
  bool shutting_down() const override { return shutting_down_; }
  std::string status() override;
  void announce_status() override;
  void start() override { capture.command_start(); }
  bool stop() override;
  std::string controls_message() const override {
    return camstream::controls_message(capture.controls());
  }
  std::optional<ControlError> set_controls(
      const std::map<std::string, ControlValue>& values) override {
    return capture.set_controls(values);
  }
  const LiveSettings& live_settings() const override { return capture.live_settings(); }
  std::string configure(const LiveSettings& next) override { return capture.reconfigure(next); }

  const HostCheck& host_check() const { return host_check_; }
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
  void broadcast_status();  // to every control client, now
  ServerStatus status_snapshot() const;
  void begin_shutdown(std::function<void()> closed);

  boost::asio::io_context& io;
  access::Gate& gate;
  std::unique_ptr<TlsCertificate> tls;  // null: plain HTTP
  CaptureService& capture;
  FrameHub& hub;
  Broadcaster broadcaster;
  boost::asio::steady_timer watchdog;
  std::function<void()> on_closed;  // after shutdown, when the last connection is gone

 private:
  ServerSettings settings_;
  Metrics& metrics_;
  HostCheck host_check_;
  std::shared_ptr<ConnectionRegistry> connections_ = ConnectionRegistry::create();
  std::shared_ptr<Registry<WsSession>> controls_ = Registry<WsSession>::create();
  std::shared_ptr<Registry<HttpSession>> unproven_ = Registry<HttpSession>::create();
  bool shutting_down_ = false;
  bool status_announced_ = false;
  bool broadcasting_ = false;
  bool status_pending_ = false;
};

}  // namespace camstream
