#include <spdlog/spdlog.h>

#include <algorithm>
#include <boost/asio/post.hpp>
#include <optional>

#include "camstream/stream.hpp"
#include "placeholder.hpp"

namespace camstream {

namespace {
using Clock = Lifecycle::Clock;
using namespace std::chrono_literals;
}  // namespace

// What the source's worker thread touches: the encoder, the frame pool and the counters.
struct CaptureService::Shared {
  Shared(int quality, FrameHub& hub, Metrics& metrics)
      : encoder(quality), hub(hub), metrics(metrics) {}

  void encode_and_publish(const FrameView& view) {
    metrics.frames_captured.fetch_add(1, std::memory_order_relaxed);
    const std::size_t needed = JpegEncoder::max_jpeg_size(view.width, view.height);
    if (!pool || pool_capacity < needed) {
      pool.emplace(needed);
      pool_capacity = needed;
    }
    auto frame = pool->acquire();
    const auto started = Clock::now();
    try {
      frame->jpeg_size = encoder.encode(view, frame->writable());
    } catch (const CorruptFrameError& error) {
      drop(view, metrics.dropped_corrupt, "corrupt", error);
      return;
    } catch (const EncodeError& error) {
      drop(view, metrics.dropped_encode_error, "unencodable", error);
      return;
    }
    metrics.observe_encode(Clock::now() - started);
    frame->width = view.width;
    frame->height = view.height;
    frame->timestamp = view.timestamp;
    frame->placeholder = false;
    frame->sequence = next_sequence.fetch_add(1, std::memory_order_relaxed);
    hub.publish(std::move(frame));
  }

  // A camera that keeps sending bad frames must not flood the log: the first, then 1 in 100.
  static void drop(const FrameView& view, std::atomic<std::uint64_t>& counter, const char* kind,
                   const EncodeError& error) {
    const auto dropped = counter.fetch_add(1, std::memory_order_relaxed) + 1;
    if (dropped == 1 || dropped % 100 == 0) {
      spdlog::warn("dropping {} frame {} ({} so far): {}", kind, view.sequence, dropped,
                   error.what());
    }
  }

  JpegEncoder encoder;
  std::optional<FramePool> pool;
  std::size_t pool_capacity = 0;
  FrameHub& hub;
  Metrics& metrics;
  std::atomic<std::uint64_t> next_sequence{1};
};

DemandToken& DemandToken::operator=(DemandToken&& other) noexcept {
  if (this != &other) {
    reset();
    service_ = std::exchange(other.service_, nullptr);
  }
  return *this;
}

void DemandToken::reset() {
  if (auto* service = std::exchange(service_, nullptr)) service->release_demand();
}

CaptureService::CaptureService(const boost::asio::any_io_executor& executor,
                               std::unique_ptr<FrameSource> source, Settings settings,
                               FrameHub& hub, Metrics& metrics)
    : executor_(executor),
      source_(std::move(source)),
      settings_(settings),
      hub_(hub),
      metrics_(metrics),
      lifecycle_(settings.lifecycle),
      shared_(std::make_shared<Shared>(settings.quality, hub, metrics)),
      deadline_timer_(executor),
      second_timer_(executor) {}

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
  return DemandToken(this);
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
  status.fps = lifecycle_.source_should_run() ? fps_ : 0.0;  // no stale rate once stopped
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
  supervised_at_ = Clock::now();
  const std::uint64_t frames = metrics_.frames_captured.load(std::memory_order_relaxed);
  fps_ = static_cast<double>(frames - frames_at_last_second_);
  frames_at_last_second_ = frames;
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
  if (redraw || !placeholder_) {
    const SourceInfo info = source_->info();
    const bool stopped = lifecycle_.state() == CaptureState::stopped;
    if (!placeholder_encoder_) {
      placeholder_encoder_ = std::make_unique<JpegEncoder>(settings_.quality);
    }
    placeholder_ =
        render_placeholder(*placeholder_encoder_, info.width, info.height,
                           stopped ? "STOPPED" : "NO SIGNAL", stopped ? "" : lifecycle_.error());
  }
  hub_.publish(
      restamp(*placeholder_, shared_->next_sequence.fetch_add(1, std::memory_order_relaxed)));
}

void CaptureService::notify_status() {
  for (const auto& listener : status_listeners_) listener();
}

}  // namespace camstream
