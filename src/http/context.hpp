// What the server's sessions share, behind the narrow interface each kind of session sees
// (viewer_hub.hpp, controller.hpp).
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
#include <map>
#include <memory>
#include <string>

#include "broadcaster.hpp"
#include "camstream/access/gate.hpp"
#include "camstream/http/server.hpp"
#include "camstream/stream/capture_service.hpp"
#include "camstream/stream/frame_hub.hpp"
#include "camstream/stream/metrics.hpp"
#include "connection.hpp"
#include "controller.hpp"
#include "host_check.hpp"
#include "output_feed.hpp"
#include "part.hpp"
#include "registry.hpp"
#include "status.hpp"
#include "tls.hpp"
#include "viewer_hub.hpp"

namespace camstream {

class HttpSession;
struct Server::Context : ViewerHub, Controller, std::enable_shared_from_this<Server::Context> {
  Context(boost::asio::io_context& io, ServerSettings settings, CaptureService& capture,
          FrameHub& hub, Metrics& metrics, access::Gate& gate);

  // ViewerHub
  const ServerSettings& settings() const override { return settings_; }
  ConnectionRegistry& connections() override { return *connections_; }
  Registry<MjpegViewer>::Membership add_viewer(std::weak_ptr<MjpegViewer> viewer) override {
    return broadcaster.add_viewer(std::move(viewer));
  }
  std::size_t viewers() const override;  // of every output
  std::size_t waiters() const;           // snapshots waiting, of every output
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
  // The feed of the output a stream or snapshot request names (docs/api.md, "Outputs per
  // viewer"): the existing one, shared, or a new one; nullptr for the main stream.
  FeedChoice find_feed(const OutputRequest& request);
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
  // The outputs' feeds, held by their viewers and waiting snapshots; expired ones are erased
  // when the list is next walked.
  std::map<OutputKey, std::weak_ptr<OutputFeed>> feeds_;
  bool shutting_down_ = false;
  bool status_announced_ = false;
  bool broadcasting_ = false;
  bool status_pending_ = false;
};

}  // namespace camstream
