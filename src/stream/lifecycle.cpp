#include "camstream/stream/lifecycle.hpp"

#include <algorithm>

namespace camstream {

std::string_view to_string(CaptureState state) {
  switch (state) {
    case CaptureState::idle:
      return "idle";
    case CaptureState::starting:
      return "starting";
    case CaptureState::streaming:
      return "streaming";
    case CaptureState::stopped:
      return "stopped";
    case CaptureState::error:
      return "error";
  }
  return "unknown";
}

Lifecycle::Lifecycle(Settings settings)
    : settings_(settings),
      next_retry_delay_(settings.first_retry),
      jitter_state_(static_cast<std::uint64_t>(Clock::now().time_since_epoch().count()) | 1) {
  if (settings_.always_on) enter(CaptureState::starting);
}

void Lifecycle::set_demand(bool demanded, TimePoint now) {
  demanded_ = demanded;
  switch (state_) {
    case CaptureState::idle:
      if (wanted()) enter(CaptureState::starting);
      break;
    case CaptureState::starting:
    case CaptureState::streaming:
      if (wanted()) {
        idle_since_.reset();
      } else if (!idle_since_) {
        idle_since_ = now;
        tick(now);  // an idle timeout of 0 releases at once
      }
      break;
    case CaptureState::stopped:  // stop overrides demand until the next start
    case CaptureState::error:    // the retry timer decides
      break;
  }
}

void Lifecycle::command_start(TimePoint now) {
  if (state_ == CaptureState::starting || state_ == CaptureState::streaming) return;
  retry_at_.reset();
  idle_since_.reset();
  next_retry_delay_ = settings_.first_retry;
  enter(CaptureState::starting);
  // The control client that asked holds demand; without it the idle timeout runs.
  if (!wanted()) idle_since_ = now;
}

bool Lifecycle::command_stop(TimePoint) {
  if (settings_.always_on) return false;
  idle_since_.reset();
  retry_at_.reset();
  error_.clear();
  enter(CaptureState::stopped);
  return true;
}

void Lifecycle::source_started(TimePoint) {
  if (state_ != CaptureState::starting) return;
  next_retry_delay_ = settings_.first_retry;
  error_.clear();
  enter(CaptureState::streaming);
}

void Lifecycle::source_failed(std::string reason, TimePoint now) {
  if (!source_should_run()) return;  // a late report from a source already stopped
  error_ = std::move(reason);
  idle_since_.reset();
  Clock::duration delay = next_retry_delay_;
  if (settings_.retry_jitter > 0) {
    jitter_state_ ^= jitter_state_ << 13;
    jitter_state_ ^= jitter_state_ >> 7;
    jitter_state_ ^= jitter_state_ << 17;
    const double unit = static_cast<double>(jitter_state_ >> 11) / 9007199254740992.0;  // [0, 1)
    delay += std::chrono::duration_cast<Clock::duration>(delay * (unit * settings_.retry_jitter));
  }
  retry_at_ = now + delay;
  next_retry_delay_ = std::min(next_retry_delay_ * 2, settings_.max_retry);
  enter(CaptureState::error);
}

void Lifecycle::tick(TimePoint now) {
  if (idle_since_ && source_should_run() && !wanted() &&
      now >= *idle_since_ + settings_.idle_timeout) {
    idle_since_.reset();
    enter(CaptureState::idle);
  }
  if (retry_at_ && state_ == CaptureState::error && now >= *retry_at_) {
    retry_at_.reset();
    if (wanted()) {
      enter(CaptureState::starting);  // error_ stays until a frame arrives
    } else {
      error_.clear();
      next_retry_delay_ = settings_.first_retry;
      enter(CaptureState::idle);
    }
  }
}

std::optional<Lifecycle::TimePoint> Lifecycle::next_deadline() const {
  if (state_ == CaptureState::error) return retry_at_;
  if (source_should_run() && idle_since_) return *idle_since_ + settings_.idle_timeout;
  return std::nullopt;
}

}  // namespace camstream
