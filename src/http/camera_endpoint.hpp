// One camera as the server serves it: its capture, the Broadcaster of its frames to its viewers
// and waiting snapshots, the feeds of the outputs its viewers asked for, and its control clients.
// It is the ViewerHub its stream viewers see and the Controller its control WebSockets see
// (docs/api.md, "Several cameras in one process"); what every camera shares (the connections, the
// settings, shutdown) it asks of the Server::Context that owns it.
//
// Lifetime: the Context owns its endpoints; a session holds an endpoint through a shared_ptr
// that shares the Context's ownership (the aliasing constructor), so an endpoint lives exactly
// as long as its Context. Everything here runs on the one I/O thread.
#pragma once

#include <map>
#include <memory>
#include <optional>
#include <string>

#include "broadcaster.hpp"
#include "camstream/http/server.hpp"
#include "camstream/stream/capture_service.hpp"
#include "camstream/stream/metrics.hpp"
#include "controller.hpp"
#include "frame_waiter.hpp"
#include "output_feed.hpp"
#include "registry.hpp"
#include "status.hpp"
#include "viewer_hub.hpp"

namespace camstream {

class CameraEndpoint : public ViewerHub, public Controller {
 public:
  CameraEndpoint(Server::Context& server, std::string name, CaptureService& capture,
                 Metrics& metrics);
  CameraEndpoint(const CameraEndpoint&) = delete;
  CameraEndpoint& operator=(const CameraEndpoint&) = delete;

  const std::string& name() const { return name_; }

  // ViewerHub
  const ServerSettings& settings() const override;
  ConnectionRegistry& connections() override;
  Registry<MjpegViewer>::Membership add_viewer(std::weak_ptr<MjpegViewer> viewer) override {
    return broadcaster_.add_viewer(std::move(viewer));
  }
  std::size_t viewers() const override;  // of every output of this camera
  PartPtr first_part() const override;
  DemandToken hold_demand() override { return capture_.hold_demand(); }
  Metrics& metrics() override { return metrics_; }

  // Controller
  Registry<WsSession>::Membership add_control_client(std::weak_ptr<WsSession> session) override {
    return controls_->join(std::move(session));
  }
  std::size_t control_clients() const override { return controls_->size(); }
  bool shutting_down() const override;
  std::string status() override { return status_message(status_snapshot()); }
  void announce_status() override;
  void start() override { capture_.command_start(); }
  bool stop() override;
  std::string controls_message() const override {
    return camstream::controls_message(capture_.controls());
  }
  std::optional<ControlError> set_controls(
      const std::map<std::string, ControlValue>& values) override {
    return capture_.set_controls(values);
  }
  const LiveSettings& live_settings() const override { return capture_.live_settings(); }
  std::string configure(const LiveSettings& next) override { return capture_.reconfigure(next); }

  // A snapshot: the newest frame, whether capture is stopped, and a wait for the next frame
  // (with the demand and the snapshot-size request that bring it).
  const PartPtr& latest_part() const { return broadcaster_.latest(); }
  bool stopped() const { return capture_.state() == CaptureState::stopped; }
  std::size_t snapshots_waiting() const;  // of every output of this camera
  Registry<FrameWaiter>::Membership wait_for_frame(std::weak_ptr<FrameWaiter> waiter) {
    return broadcaster_.wait_for_frame(std::move(waiter));
  }
  std::shared_ptr<void> request_snapshot() { return capture_.request_snapshot(); }

  // The feed of the output a stream or snapshot request names (docs/api.md, "Outputs per
  // viewer"): the existing one, shared, or a new one; nullptr for the main stream. Each camera
  // has outputs of its own, up to --max-outputs.
  FeedChoice find_feed(const OutputRequest& request);

  // From the Server: a new frame of this camera, a change of its capture's status, shutdown.
  void publish(const FramePtr& frame) { broadcaster_.publish(frame); }
  void broadcast_status();  // to every control client of this camera, now
  void cancel_waiters();    // of every output
  // This camera's figures and the server-wide ones, taken now.
  ServerStatus status_snapshot() const;
  const Metrics& counters() const { return metrics_; }

 private:
  Server::Context& server_;
  std::string name_;
  CaptureService& capture_;
  Metrics& metrics_;
  Broadcaster broadcaster_;
  // The outputs' feeds, held by their viewers and waiting snapshots; expired ones are erased
  // when the list is next walked.
  std::map<OutputKey, std::weak_ptr<OutputFeed>> feeds_;
  std::shared_ptr<Registry<WsSession>> controls_ = Registry<WsSession>::create();
  bool status_announced_ = false;
  bool broadcasting_ = false;
  bool status_pending_ = false;
};

}  // namespace camstream
