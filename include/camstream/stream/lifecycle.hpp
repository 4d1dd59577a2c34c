#pragma once

#include <chrono>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace camstream {

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
    // Each retry delay is stretched by a random 0..retry_jitter of itself, so that relays
    // that lost one upstream do not all reconnect in the same instant.
    double retry_jitter = 0.0;
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
  std::uint64_t jitter_state_;  // xorshift: cheap, and good enough to spread retries
  std::string error_;
};

}  // namespace camstream
