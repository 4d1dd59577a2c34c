#pragma once

#include <array>
#include <boost/asio/any_io_executor.hpp>
#include <boost/asio/steady_timer.hpp>
#include <chrono>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "camstream/capture/capture_config.hpp"
#include "camstream/capture/frame_source.hpp"
#include "camstream/core/controls.hpp"
#include "camstream/core/orientation.hpp"
#include "camstream/core/settings.hpp"
#include "camstream/encode/encoded_frame.hpp"
#include "camstream/stream/capture_status.hpp"
#include "camstream/stream/demand_token.hpp"
#include "camstream/stream/frame_hub.hpp"
#include "camstream/stream/lifecycle.hpp"
#include "camstream/stream/metrics.hpp"
#include "camstream/stream/stream_output.hpp"

namespace camstream {

class Placeholder;
class Supervision;

// Runs the source on demand, encodes each frame once into the hub, and publishes the
// placeholder pictures while stopped or failing. All methods run on the executor's thread;
// the source's callbacks hop onto it.
class CaptureService {
 public:
  // Opens the same kind of source again with new settings (live reconfiguration); throws
  // CaptureError like the first one. Without one, only the quality can change live.
  using SourceFactory = std::function<std::unique_ptr<FrameSource>(const CaptureConfig&)>;
  struct Settings {
    Lifecycle::Settings lifecycle;
    LiveSettings live;
    std::string camera = "0";
    SourceFactory reopen;
    int encode_threads = 1;  // stripes of one picture (--encode-threads)
    int max_outputs = 4;     // outputs besides the main stream at once (--max-outputs)
    // The source's picture is its own (a relay's upstream): --width and --height do not
    // apply, so the stream is never scaled to them.
    bool upstream_size = false;
  };
  static constexpr int kMaxOutputs = 32;  // the bound of --max-outputs
  using StatusListener = std::function<void()>;

  CaptureService(const boost::asio::any_io_executor& executor, std::unique_ptr<FrameSource> source,
                 Settings settings, FrameHub& hub, Metrics& metrics);
  ~CaptureService();
  CaptureService(const CaptureService&) = delete;
  CaptureService& operator=(const CaptureService&) = delete;

  void begin();     // apply --always-on, start the timers
  void shutdown();  // stop the source and the timers

  DemandToken hold_demand();
  void command_start();
  bool command_stop();  // false: refused
  CaptureStatus status() const;
  CaptureState state() const { return lifecycle_.state(); }

  // The source's controls with the values in force; applying them (all or none) keeps them
  // across stop/start and reconfiguration. The error names the control and why.
  ControlMap controls() const { return source_->controls(); }
  std::optional<ControlError> set_controls(const std::map<std::string, ControlValue>& values);
  // Applies new picture settings while viewers stay connected: the source is reopened when
  // the capture must change, the quality changes from the next frame. Returns why it cannot
  // (the camera refused the new configuration: the old one is restored), or "".
  std::string reconfigure(const LiveSettings& next);
  const LiveSettings& live_settings() const { return settings_.live; }
  // While held, each frame is also encoded at the snapshot size, when that differs from the
  // stream's (otherwise the stream's frames are the snapshots and this does nothing).
  std::shared_ptr<void> request_snapshot();
  // Which output a request names (docs/api.md, "Outputs per viewer"): a width or a height
  // alone keeps the stream's aspect ratio; the stream's own size and quality is the main
  // stream. A source whose frames cannot be scaled (camera JPEGs, for now) is unavailable.
  OutputChoice choose_output(const OutputRequest& request) const;
  // A new output for a key choose_output() gave: encoded from the next frame on while the
  // handle lives (also while the source is reconfigured), published to its own hub, which
  // calls `listener` (added before its first frame; on the encoding thread, as the main
  // hub's). nullptr, with `error` naming the limit, when --max-outputs outputs exist.
  std::shared_ptr<StreamOutput> open_output(const OutputKey& key, FrameHub::Listener listener,
                                            std::string& error);
  std::size_t outputs() const;  // besides the main stream
  // The main stream's key: the size viewers get and --quality.
  OutputKey main_output() const;
  // When the once-a-second supervision last ran (the systemd watchdog checks it).
  std::chrono::steady_clock::time_point supervised_at() const;
  // Called on every state change and once a second while capturing.
  void on_status(StatusListener listener) { status_listeners_.push_back(std::move(listener)); }

 private:
  friend class DemandToken;
  friend class StreamOutput;
  struct Shared;
  struct LiveOutput {
    std::weak_ptr<StreamOutput::Sink> sink;
    OutputKey key;
    bool in_use = false;
  };
  void release_demand();
  void release_output(std::size_t slot);
  void register_outputs();  // the live outputs onto the stage, after configure_encoding
  void update();            // carry out the lifecycle's decision, rearm the timer, notify on change
  void start_source();
  void stop_source();
  void on_second();
  void publish_placeholder(bool redraw);
  void notify_status();
  void configure_encoding();  // hands settings_.live to the worker's side; source stopped
  void reapply_controls();    // wanted_controls_ onto a newly opened source
  // Forgets (and logs) the wanted controls the source now refuses: a new source, or a camera
  // whose configured mode narrowed a range. True when any was dropped.
  bool drop_refused_controls(std::string_view when);
  std::pair<int, int> stream_size() const;

  boost::asio::any_io_executor executor_;
  std::unique_ptr<FrameSource> source_;
  Settings settings_;
  FrameHub& hub_;
  Metrics& metrics_;
  Lifecycle lifecycle_;
  std::shared_ptr<Shared> shared_;  // what the source thread touches
  boost::asio::steady_timer deadline_timer_;
  boost::asio::steady_timer second_timer_;
  std::vector<StatusListener> status_listeners_;
  std::map<std::string, ControlValue> wanted_controls_;
  int demand_ = 0;
  std::uint64_t generation_ = 0;  // counts source starts and stops
  bool source_running_ = false;
  bool shut_down_ = false;
  CaptureState last_state_ = CaptureState::idle;
  std::unique_ptr<Supervision> supervision_;
  bool scale_stream_ = false;   // the stream is scaled down from a larger snapshot capture
  PictureSize stream_picture_;  // its size then, after rotation
  std::array<LiveOutput, kMaxOutputs> live_outputs_;  // slot i is the stage's output 2 + i
  std::unique_ptr<Placeholder> placeholder_;
  // What DemandTokens hold: they expire with the service instead of dangling.
  const std::shared_ptr<CaptureService* const> alive_ =
      std::make_shared<CaptureService* const>(this);
};

}  // namespace camstream
