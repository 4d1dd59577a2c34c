// Stream module: encoded frames, the newest-frame hub, metrics and the capture lifecycle.
#pragma once

#include <array>
#include <atomic>
#include <boost/asio/any_io_executor.hpp>
#include <boost/asio/steady_timer.hpp>
#include <chrono>
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "camstream/capture.hpp"
#include "camstream/encode.hpp"
#include "camstream/settings.hpp"
#include "camstream/transform.hpp"

namespace camstream {

// An encoded JPEG, immutable once published; every viewer shares the same bytes.
struct EncodedFrame {
  std::unique_ptr<std::uint8_t[]> storage;  // capacity bytes; pages untouched until written
  std::size_t capacity = 0;
  std::size_t jpeg_size = 0;
  int width = 0;
  int height = 0;
  std::uint64_t sequence = 0;
  std::chrono::system_clock::time_point timestamp{};  // capture time
  bool placeholder = false;  // a STOPPED / NO SIGNAL picture, not a camera frame
  // When /snapshot has a size of its own (--snapshot-width/height): false, and `full_size`
  // holds this frame at the snapshot size if one was asked for while it was encoded.
  bool snapshot_size = true;
  std::shared_ptr<const EncodedFrame> full_size;

  std::span<const std::uint8_t> jpeg() const { return {storage.get(), jpeg_size}; }
  std::span<std::uint8_t> writable() { return {storage.get(), capacity}; }
};
using FramePtr = std::shared_ptr<const EncodedFrame>;

// Recycles frames so steady-state encoding allocates nothing: a frame is reused once no
// viewer holds it any more. Used from one thread at a time (the encoding thread).
class FramePool {
 public:
  explicit FramePool(std::size_t capacity_bytes) : capacity_bytes_(capacity_bytes) {}
  // A frame no one else holds, with capacity_bytes of storage.
  std::shared_ptr<EncodedFrame> acquire();
  std::size_t size() const { return frames_.size(); }

 private:
  std::size_t capacity_bytes_;
  std::vector<std::shared_ptr<EncodedFrame>> frames_;
};

// Holds the newest frame. publish() may be called from any thread; listeners run on the
// publishing thread and must only hand the frame on (e.g. post it to an I/O executor).
class FrameHub {
 public:
  using Listener = std::function<void(const FramePtr&)>;
  void add_listener(Listener listener);  // set up before frames flow
  void publish(const FramePtr& frame);
  FramePtr latest() const;

 private:
  mutable std::mutex mutex_;
  FramePtr latest_;
  std::vector<Listener> listeners_;
};

// Counters shared by the pipeline and the server; relaxed atomics, read by /metrics.
struct Metrics {
  static constexpr std::array<double, 10> kEncodeBuckets{0.001, 0.002, 0.005, 0.01, 0.02,
                                                         0.05,  0.1,   0.2,   0.5,  1.0};
  std::atomic<std::uint64_t> frames_captured{0};
  std::atomic<std::uint64_t> frames_encoded{0};
  std::atomic<std::uint64_t> snapshots_encoded{0};  // at a snapshot size of their own
  std::atomic<std::uint64_t> frames_sent{0};
  std::atomic<std::uint64_t> bytes_sent{0};
  std::atomic<std::uint64_t> dropped_slow_viewer{0};  // replaced by a newer frame before sent
  std::atomic<std::uint64_t> dropped_fps_cap{0};      // skipped for a viewer's ?fps=
  std::atomic<std::uint64_t> dropped_encode_error{0};
  std::atomic<std::uint64_t> dropped_corrupt{0};  // a truncated or malformed camera frame
  std::array<std::atomic<std::uint64_t>, kEncodeBuckets.size() + 1> encode_buckets{};  // +Inf
  std::atomic<std::uint64_t> encode_nanoseconds{0};

  void observe_encode(std::chrono::nanoseconds elapsed);
};

enum class CaptureState { idle, starting, streaming, stopped, error };
std::string_view to_string(CaptureState state);

// The capture lifecycle as a pure state machine (docs/api.md). It only decides; the
// CaptureService carries its decisions out. Time comes in as arguments, so tests use a
// fake clock.
class Lifecycle {
 public:
  using Clock = std::chrono::steady_clock;
  using TimePoint = Clock::time_point;
  struct Settings {
    bool always_on = false;
    Clock::duration idle_timeout = std::chrono::seconds(5);
    Clock::duration first_retry = std::chrono::seconds(1);
    Clock::duration max_retry = std::chrono::seconds(30);
  };

  explicit Lifecycle(Settings settings);

  void set_demand(bool demanded, TimePoint now);
  void command_start(TimePoint now);
  bool command_stop(TimePoint now);    // false: refused (--always-on)
  void source_started(TimePoint now);  // the first frame arrived
  void source_failed(std::string reason, TimePoint now);
  void tick(TimePoint now);  // call at next_deadline()

  CaptureState state() const { return state_; }
  const std::string& error() const { return error_; }
  bool source_should_run() const {
    return state_ == CaptureState::starting || state_ == CaptureState::streaming;
  }
  std::optional<TimePoint> next_deadline() const;

 private:
  bool wanted() const { return settings_.always_on || demanded_; }
  void enter(CaptureState state) { state_ = state; }

  Settings settings_;
  CaptureState state_ = CaptureState::idle;
  bool demanded_ = false;
  std::optional<TimePoint> idle_since_;
  std::optional<TimePoint> retry_at_;
  Clock::duration next_retry_delay_;
  std::string error_;
};

struct CaptureStatus {
  CaptureState state = CaptureState::idle;
  SourceInfo source;      // the size is the stream's (what viewers get)
  LiveSettings settings;  // in force, as configure takes them
  std::map<std::string, ControlValue> camera_controls;  // set by --control or `set`
  double fps = 0;                                       // measured over the last second
  std::uint64_t frames = 0;                             // captured since start-up
  std::string error;                                    // empty unless state is error
};

class CaptureService;

// Holds capture demand while alive (a viewer, a waiting snapshot, a control client's start).
class DemandToken {
 public:
  DemandToken() = default;
  explicit DemandToken(CaptureService* service) : service_(service) {}
  DemandToken(DemandToken&& other) noexcept : service_(std::exchange(other.service_, nullptr)) {}
  DemandToken& operator=(DemandToken&& other) noexcept;
  ~DemandToken() { reset(); }
  void reset();
  explicit operator bool() const { return service_ != nullptr; }

 private:
  CaptureService* service_ = nullptr;
};

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
  };
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
  // When the once-a-second supervision last ran (the systemd watchdog checks it).
  std::chrono::steady_clock::time_point supervised_at() const { return supervised_at_; }
  // Called on every state change and once a second while capturing.
  void on_status(StatusListener listener) { status_listeners_.push_back(std::move(listener)); }

 private:
  friend class DemandToken;
  struct Shared;
  void release_demand();
  void update();  // carry out the lifecycle's decision, rearm the timer, notify on change
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
  std::uint64_t frames_at_last_second_ = 0;
  double fps_ = 0;
  std::chrono::steady_clock::time_point supervised_at_{};
  bool scale_stream_ = false;    // the stream is scaled down from a larger snapshot capture
  PictureSize stream_picture_;  // its size then, after rotation
  std::unique_ptr<JpegEncoder> placeholder_encoder_;
  FramePtr placeholder_;
};

}  // namespace camstream
