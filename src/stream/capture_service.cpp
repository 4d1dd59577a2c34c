#include "camstream/stream/capture_service.hpp"

#include <spdlog/spdlog.h>

#include <algorithm>
#include <boost/asio/post.hpp>
#include <mutex>
#include <optional>
#include <tuple>

#include "camstream/capture/capture_config.hpp"
#include "camstream/core/frame_scaler.hpp"
#include "camstream/core/orientation.hpp"
#include "camstream/core/settings.hpp"
#include "camstream/encode/encode_error.hpp"
#include "camstream/encode/encode_stage.hpp"
#include "placeholder.hpp"
#include "supervision.hpp"

namespace camstream {

namespace {
using Clock = Lifecycle::Clock;
using namespace std::chrono_literals;
}  // namespace

// What the source's worker thread touches: the encoding stage (and its frame pools) and the
// counters. The stage's outputs are set only while no source runs (configure_encoding); the
// quality and the snapshot requests may change at any time.
struct CaptureService::Shared {
  // Output 0 is the stream, output 1 the snapshot at a size of its own (when there is one).
  static constexpr std::size_t kStream = 0;
  static constexpr std::size_t kSnapshot = 1;
  static constexpr std::size_t kFirstLive = 2;  // the outputs viewers asked for, in slots

  Shared(int quality, int threads, FrameHub& hub, Metrics& metrics)
      : stage({quality, threads, {OutputSize{}}},
              [this](const FrameView& captured, std::span<const EncodedOutput> jpegs) {
                publish(captured, jpegs);
              }),
        hub(hub),
        metrics(metrics) {}

  void encode_and_publish(const FrameView& view) {
    metrics.frames_captured.fetch_add(1, std::memory_order_relaxed);
    EncodeStage::OutputSet wanted = EncodeStage::OutputSet{1} << kStream;
    if (separate_snapshot && snapshot_requests.load(std::memory_order_acquire) > 0) {
      wanted |= EncodeStage::OutputSet{1} << kSnapshot;
    }
    wanted |= live_mask.load(std::memory_order_acquire);
    const std::uint64_t decoded = stage.frames_decoded();
    encode(view, wanted);
    metrics.frames_decoded.fetch_add(stage.frames_decoded() - decoded, std::memory_order_relaxed);
  }

  void encode(const FrameView& view, EncodeStage::OutputSet wanted) {
    try {
      stage.encode(view, wanted);
    } catch (const TransformError& error) {
      return drop(view, metrics.dropped_encode_error, "unscalable", error.what());
    } catch (const CorruptFrameError& error) {
      return drop(view, metrics.dropped_corrupt, "corrupt", error.what());
    } catch (const EncodeError& error) {
      return drop(view, metrics.dropped_encode_error, "unencodable", error.what());
    }
  }

  // The stage's frames are published as they are: the stream's, with the snapshot's attached
  // as full_size (it is made only because someone waits for a snapshot).
  void publish(const FrameView& captured, std::span<const EncodedOutput> jpegs) {
    std::shared_ptr<EncodedFrame> snapshot;
    std::shared_ptr<EncodedFrame> frame;
    for (const EncodedOutput& jpeg : jpegs) {
      if (jpeg.output >= kFirstLive) {
        publish_live(captured, jpeg);
        continue;
      }
      jpeg.frame->timestamp = captured.timestamp;
      if (jpeg.output == kSnapshot) {
        metrics.snapshots_encoded.fetch_add(1, std::memory_order_relaxed);
        snapshot = jpeg.frame;
      } else {
        metrics.observe_encode(jpeg.encode_time);
        frame = jpeg.frame;
      }
    }
    if (!frame) return;
    frame->full_size = std::move(snapshot);
    frame->placeholder = false;
    frame->snapshot_size = !separate_snapshot;
    frame->sequence = next_sequence.fetch_add(1, std::memory_order_relaxed);
    hub.publish(std::move(frame));
  }

  // An output a viewer asked for, to its own hub. One that cannot be made (a camera JPEG
  // cannot be scaled yet) is published as nullptr: its viewers are told, and no new one is
  // accepted while the capture's frames are such (choose_output).
  void publish_live(const FrameView& captured, const EncodedOutput& jpeg) {
    auto* sink = static_cast<StreamOutput::Sink*>(jpeg.tag.get());
    if (sink == nullptr) return;
    if (!jpeg.frame) {
      if (!unscalable.exchange(true, std::memory_order_acq_rel)) {
        spdlog::warn("output {}x{} cannot be made: {}", jpeg.width, jpeg.height, jpeg.error);
      }
      {
        std::lock_guard lock(error_mutex);
        unscalable_error = jpeg.error;
      }
      sink->hub.publish(nullptr);
      return;
    }
    unscalable.store(false, std::memory_order_release);
    jpeg.frame->timestamp = captured.timestamp;
    jpeg.frame->placeholder = false;
    jpeg.frame->snapshot_size = true;
    jpeg.frame->sequence = next_sequence.fetch_add(1, std::memory_order_relaxed);
    sink->frames_encoded.fetch_add(1, std::memory_order_relaxed);
    sink->hub.publish(jpeg.frame);
  }

  std::string unscalable_reason() const {
    std::lock_guard lock(error_mutex);
    return unscalable_error;
  }

  // A camera that keeps sending bad frames must not flood the log: the first, then 1 in 100.
  static void drop(const FrameView& view, std::atomic<std::uint64_t>& counter, const char* kind,
                   const char* why) {
    const auto dropped = counter.fetch_add(1, std::memory_order_relaxed) + 1;
    if (dropped == 1 || dropped % 100 == 0) {
      spdlog::warn("dropping {} frame {} ({} so far): {}", kind, view.sequence, dropped, why);
    }
  }

  EncodeStage stage;
  FrameHub& hub;
  Metrics& metrics;
  std::atomic<std::uint64_t> next_sequence{1};
  std::atomic<int> snapshot_requests{0};
  std::atomic<EncodeStage::OutputSet> live_mask{0};  // the live outputs in use
  // The last live output failed because of the captured frames (the encoding thread says).
  std::atomic<bool> unscalable{false};
  mutable std::mutex error_mutex;
  std::string unscalable_error;
  // Written only while no source runs.
  bool separate_snapshot = false;
};

CaptureService::CaptureService(const boost::asio::any_io_executor& executor,
                               std::unique_ptr<FrameSource> source, Settings settings,
                               FrameHub& hub, Metrics& metrics)
    : executor_(executor),
      source_(std::move(source)),
      settings_(std::move(settings)),
      hub_(hub),
      metrics_(metrics),
      lifecycle_(settings_.lifecycle),
      shared_(
          std::make_shared<Shared>(settings_.live.quality, settings_.encode_threads, hub, metrics)),
      deadline_timer_(executor),
      second_timer_(executor),
      supervision_(std::make_unique<Supervision>()),
      placeholder_(std::make_unique<Placeholder>()) {
  configure_encoding();
}

CaptureService::~CaptureService() {
  shutdown();
}

void CaptureService::begin() {
  last_state_ = CaptureState::idle;
  update();
  on_second();
}

void CaptureService::shutdown() {
  if (shut_down_) return;
  shut_down_ = true;
  deadline_timer_.cancel();
  second_timer_.cancel();
  if (source_running_) stop_source();
}

DemandToken CaptureService::hold_demand() {
  if (++demand_ == 1) {
    lifecycle_.set_demand(true, Clock::now());
    update();
  }
  return DemandToken(alive_);
}

void CaptureService::release_demand() {
  if (--demand_ == 0) {
    lifecycle_.set_demand(false, Clock::now());
    update();
  }
}

void CaptureService::command_start() {
  lifecycle_.command_start(Clock::now());
  update();
}

bool CaptureService::command_stop() {
  if (!lifecycle_.command_stop(Clock::now())) return false;
  update();
  return true;
}

CaptureStatus CaptureService::status() const {
  CaptureStatus status;
  status.state = lifecycle_.state();
  status.source = source_->info();
  std::tie(status.source.width, status.source.height) = stream_size();
  status.settings = settings_.live;
  status.camera_controls = wanted_controls_;
  status.fps =
      lifecycle_.source_should_run() ? supervision_->fps() : 0.0;  // no stale rate once stopped
  status.frames = metrics_.frames_captured.load(std::memory_order_relaxed);
  status.error = lifecycle_.error();
  return status;
}

void CaptureService::update() {
  if (shut_down_) return;
  // A start that fails moves the lifecycle to error, which may change the decision once.
  for (int attempt = 0; attempt < 2; ++attempt) {
    if (lifecycle_.source_should_run() && !source_running_) {
      start_source();
    } else if (!lifecycle_.source_should_run() && source_running_) {
      stop_source();
    } else {
      break;
    }
  }

  if (auto deadline = lifecycle_.next_deadline()) {
    deadline_timer_.expires_at(*deadline);
    deadline_timer_.async_wait([this](boost::system::error_code ec) {
      if (ec || shut_down_) return;
      lifecycle_.tick(Clock::now());
      update();
    });
  } else {
    deadline_timer_.cancel();
  }

  const CaptureState state = lifecycle_.state();
  if (state != last_state_) {
    spdlog::info("capture: {} -> {}{}{}", to_string(last_state_), to_string(state),
                 lifecycle_.error().empty() ? "" : ": ", lifecycle_.error());
    last_state_ = state;
    if (state == CaptureState::stopped || state == CaptureState::error) publish_placeholder(true);
    notify_status();
  }
}

void CaptureService::start_source() {
  const std::uint64_t generation = ++generation_;
  auto first_frame_seen = std::make_shared<std::atomic<bool>>(false);
  try {
    source_->start(
        [this, shared = shared_, generation, first_frame_seen](const FrameView& view) {
          shared->encode_and_publish(view);
          if (!first_frame_seen->exchange(true)) {
            boost::asio::post(executor_, [this, generation] {
              if (generation != generation_ || !source_running_) return;
              lifecycle_.source_started(Clock::now());
              update();
            });
          }
        },
        [this, generation](const std::string& reason) {
          boost::asio::post(executor_, [this, generation, reason] {
            if (generation != generation_ || !source_running_) return;
            spdlog::error("capture failed: {}", reason);
            lifecycle_.source_failed(reason, Clock::now());
            update();
          });
        });
    source_running_ = true;
    if (drop_refused_controls("by the camera as configured")) notify_status();
    const SourceInfo info = source_->info();
    spdlog::info("capture: {} source started at {}x{}, interval {} us", info.name, info.width,
                 info.height, info.interval.count());
  } catch (const std::exception& error) {
    spdlog::error("capture: cannot start the {} source: {}", source_->info().name, error.what());
    lifecycle_.source_failed(error.what(), Clock::now());
  }
}

void CaptureService::stop_source() {
  ++generation_;  // events already posted by this run are stale now
  source_->stop();
  source_running_ = false;
  spdlog::info("capture: source released");
}

void CaptureService::on_second() {
  if (shut_down_) return;
  supervision_->tick(Clock::now(), metrics_.frames_captured.load(std::memory_order_relaxed));
  const CaptureState state = lifecycle_.state();
  if (state == CaptureState::stopped || state == CaptureState::error) publish_placeholder(false);
  if (lifecycle_.source_should_run()) notify_status();
  second_timer_.expires_after(1s);
  second_timer_.async_wait([this](boost::system::error_code ec) {
    if (!ec) on_second();
  });
}

// While stopped or failing, viewers get a picture naming the state: drawn and encoded once
// on the change, then sent again each second with a fresh timestamp.
void CaptureService::publish_placeholder(bool redraw) {
  if (redraw || !placeholder_->drawn()) {
    const auto [width, height] = stream_size();
    const bool stopped = lifecycle_.state() == CaptureState::stopped;
    placeholder_->draw(width, height, settings_.live.quality, stopped ? "STOPPED" : "NO SIGNAL",
                       stopped ? "" : lifecycle_.error());
  }
  hub_.publish(placeholder_->again(shared_->next_sequence.fetch_add(1, std::memory_order_relaxed)));
  // The outputs' viewers see the state too (at the stream's size: it is only a notice).
  for (const LiveOutput& output : live_outputs_) {
    if (auto sink = output.sink.lock()) {
      sink->hub.publish(
          placeholder_->again(shared_->next_sequence.fetch_add(1, std::memory_order_relaxed)));
    }
  }
}

std::chrono::steady_clock::time_point CaptureService::supervised_at() const {
  return supervision_->at();
}

std::optional<ControlError> CaptureService::set_controls(
    const std::map<std::string, ControlValue>& values) {
  const CheckedControls checked = check_controls(source_->controls(), values);
  if (checked.error) return checked.error;
  if (auto error = source_->set_controls(checked.values)) return error;
  for (const auto& [name, value] : checked.values) wanted_controls_[name] = value;
  notify_status();
  return std::nullopt;
}

std::string CaptureService::reconfigure(const LiveSettings& next) {
  // Everything the source or the worker's geometry depends on; the quality is not among them.
  const auto geometry = [](const LiveSettings& s) {
    return std::tuple(s.width, s.height, s.interval, s.rotation, s.hflip, s.vflip,
                      s.effective_snapshot_width(), s.effective_snapshot_height());
  };
  if (geometry(next) != geometry(settings_.live)) {
    if (!settings_.reopen) return "this source cannot be reconfigured";
    const bool was_running = source_running_;
    if (was_running) stop_source();
    try {
      // The old source is stopped (the camera released) but kept until the new one opens,
      // so that a configuration the camera refuses leaves the one in force.
      source_ = settings_.reopen(capture_config(next, settings_.camera));
    } catch (const std::exception& error) {
      spdlog::warn("reconfiguration refused: {}; the settings in force stay", error.what());
      if (was_running) update();
      return error.what();
    }
    reapply_controls();
  }
  settings_.live = next;
  configure_encoding();
  const auto [width, height] = stream_size();
  spdlog::info("reconfigured: {}x{}, interval {} us, quality {}, orientation {}, snapshot {}x{}",
               width, height, next.interval.count(), next.quality,
               describe(Orientation{next.rotation, next.hflip, next.vflip}),
               next.effective_snapshot_width(), next.effective_snapshot_height());
  update();  // restarts the source if capture should run
  const CaptureState state = lifecycle_.state();
  if (state == CaptureState::stopped || state == CaptureState::error) publish_placeholder(true);
  notify_status();
  return {};
}

std::shared_ptr<void> CaptureService::request_snapshot() {
  if (!settings_.live.separate_snapshot()) return nullptr;
  shared_->snapshot_requests.fetch_add(1, std::memory_order_release);
  return {nullptr, [shared = shared_](auto) {
            shared->snapshot_requests.fetch_sub(1, std::memory_order_release);
          }};
}

void CaptureService::configure_encoding() {
  const LiveSettings& live = settings_.live;
  Shared& shared = *shared_;
  shared.stage.set_quality(live.quality);
  if (source_running_) return;  // only the quality may change under a running source
  // A new configuration may give frames that can be scaled: outputs get a new chance.
  shared.unscalable.store(false, std::memory_order_release);
  const Orientation orientation{live.rotation, live.hflip, live.vflip};
  const CaptureConfig config = capture_config(live, settings_.camera);
  shared.separate_snapshot = live.separate_snapshot();
  shared.stage.set_mjpeg_orientation(orientation);
  // The capture is the larger of the two pictures; the smaller is scaled from it. A relay's
  // picture is the upstream's whatever the sizes: its stream is never scaled.
  scale_stream_ =
      !settings_.upstream_size && (config.width != live.width || config.height != live.height);
  stream_picture_ = turned_size(live.width, live.height, orientation);
  std::vector<OutputSize> outputs{
      scale_stream_ ? OutputSize{stream_picture_.width, stream_picture_.height} : OutputSize{}};
  if (shared.separate_snapshot) {
    const PictureSize snapshot =
        turned_size(live.effective_snapshot_width(), live.effective_snapshot_height(), orientation);
    outputs.push_back({snapshot.width, snapshot.height});
  }
  shared.stage.set_outputs(std::move(outputs));
  register_outputs();
}

void CaptureService::register_outputs() {
  for (std::size_t slot = 0; slot < live_outputs_.size(); ++slot) {
    const LiveOutput& output = live_outputs_[slot];
    if (!output.in_use) continue;
    shared_->stage.set_live_output(Shared::kFirstLive + slot,
                                   {output.key.width, output.key.height, output.key.quality},
                                   output.sink.lock());
  }
}

OutputKey CaptureService::main_output() const {
  const auto [width, height] = stream_size();
  return {width, height, settings_.live.quality};
}

OutputChoice CaptureService::choose_output(const OutputRequest& request) const {
  OutputChoice choice;
  choice.key = main_output();
  if (request.empty()) return choice;
  const OutputKey main = choice.key;
  OutputKey& key = choice.key;
  if (request.quality) key.quality = *request.quality;
  if (request.width) key.width = *request.width;
  if (request.height) key.height = *request.height;
  // One side alone keeps the stream's aspect ratio; the other side is rounded down to even
  // and must be within the flag's bounds as if it had been asked for.
  const auto derive = [&](const char* name, int given, int main_given, int main_other,
                          const char* other) -> std::optional<int> {
    const std::int64_t derived =
        static_cast<std::int64_t>(given) * main_other / std::max(main_given, 1) / 2 * 2;
    const SettingRow* row = find_setting_by_flag(other);
    if (derived < row->min || derived > row->max) {
      choice.kind = OutputChoice::Kind::bad_request;
      choice.error = fmt::format(
          "bad query parameter {}: {} keeps the aspect ratio of {}x{} with a {} of {}, not in "
          "{}..{}",
          name, given, main.width, main.height, other, derived, row->min, row->max);
      return std::nullopt;
    }
    return static_cast<int>(derived);
  };
  if (request.width && !request.height) {
    const auto height = derive("width", *request.width, main.width, main.height, "height");
    if (!height) return choice;
    key.height = *height;
  } else if (request.height && !request.width) {
    const auto width = derive("height", *request.height, main.height, main.width, "width");
    if (!width) return choice;
    key.width = *width;
  }
  if (key == main) return choice;
  if (shared_->unscalable.load(std::memory_order_acquire)) {
    choice.kind = OutputChoice::Kind::unavailable;
    choice.error = "this output cannot be made: " + shared_->unscalable_reason() +
                   "; the stream at its own size and quality is available without parameters";
    return choice;
  }
  choice.kind = OutputChoice::Kind::output;
  return choice;
}

std::shared_ptr<StreamOutput> CaptureService::open_output(const OutputKey& key,
                                                          FrameHub::Listener listener,
                                                          std::string& error) {
  const auto max = static_cast<std::size_t>(settings_.max_outputs);
  std::size_t slot = live_outputs_.size();
  for (std::size_t i = 0; i < live_outputs_.size(); ++i) {
    if (!live_outputs_[i].in_use) {
      slot = i;
      break;
    }
  }
  if (outputs() >= max || slot == live_outputs_.size()) {
    error = fmt::format(
        "too many outputs: the limit is {} sizes or qualities besides the stream's own "
        "(--max-outputs)",
        max);
    return nullptr;
  }
  auto sink = std::make_shared<StreamOutput::Sink>();
  sink->hub.add_listener(std::move(listener));  // before the first frame can reach it
  live_outputs_[slot] = {sink, key, true};
  const std::size_t index = Shared::kFirstLive + slot;
  shared_->stage.set_live_output(index, {key.width, key.height, key.quality}, sink);
  shared_->live_mask.fetch_or(EncodeStage::OutputSet{1} << index, std::memory_order_release);
  spdlog::info("output {}x{} quality {} opened ({} of {})", key.width, key.height, key.quality,
               outputs(), max);
  return std::make_shared<StreamOutput>(key, slot, std::move(sink), alive_);
}

std::size_t CaptureService::outputs() const {
  return static_cast<std::size_t>(std::count_if(live_outputs_.begin(), live_outputs_.end(),
                                                [](const LiveOutput& o) { return o.in_use; }));
}

void CaptureService::release_output(std::size_t slot) {
  LiveOutput& output = live_outputs_.at(slot);
  if (!output.in_use) return;
  const std::size_t index = Shared::kFirstLive + slot;
  shared_->live_mask.fetch_and(~(EncodeStage::OutputSet{1} << index), std::memory_order_release);
  shared_->stage.clear_live_output(index);
  spdlog::info("output {}x{} quality {} closed: no one watches it", output.key.width,
               output.key.height, output.key.quality);
  output = LiveOutput{};
}

StreamOutput::StreamOutput(OutputKey key, std::size_t slot, std::shared_ptr<Sink> sink,
                           std::weak_ptr<CaptureService* const> service)
    : key_(key), slot_(slot), sink_(std::move(sink)), service_(std::move(service)) {}

StreamOutput::~StreamOutput() {
  if (const auto service = service_.lock()) (*service)->release_output(slot_);
}

void CaptureService::reapply_controls() {
  drop_refused_controls("after reconfiguration");
  if (wanted_controls_.empty()) return;
  if (const auto error = source_->set_controls(wanted_controls_)) {
    spdlog::warn("controls not reapplied after reconfiguration: {}", error->message());
  }
}

bool CaptureService::drop_refused_controls(std::string_view when) {
  if (wanted_controls_.empty()) return false;
  const ControlMap offered = source_->controls();
  const std::size_t before = wanted_controls_.size();
  // One at a time, so that one the source refuses does not take the others with it.
  for (auto it = wanted_controls_.begin(); it != wanted_controls_.end();) {
    if (const auto error = check_controls(offered, {*it}).error) {
      spdlog::warn("control {} dropped {}: {}", it->first, when, error->message());
      it = wanted_controls_.erase(it);
    } else {
      ++it;
    }
  }
  return wanted_controls_.size() != before;
}

// What viewers get: the source's granted size, unless the stream is scaled down from a
// larger snapshot capture.
std::pair<int, int> CaptureService::stream_size() const {
  if (scale_stream_) return {stream_picture_.width, stream_picture_.height};
  const SourceInfo info = source_->info();
  return {info.width, info.height};
}

void CaptureService::notify_status() {
  for (const auto& listener : status_listeners_) listener();
}

}  // namespace camstream
