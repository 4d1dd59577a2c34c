// What the once-a-second supervision of the capture measures.
#pragma once

#include <chrono>
#include <cstdint>

namespace camstream {

// When the supervision last ran (the systemd watchdog checks that it keeps running: the I/O
// thread turns) and the frame rate over the last second.
class Supervision {
 public:
  using Clock = std::chrono::steady_clock;

  // One run, given the frames captured so far.
  void tick(Clock::time_point now, std::uint64_t frames) {
    at_ = now;
    fps_ = static_cast<double>(frames - frames_at_last_);
    frames_at_last_ = frames;
  }
  Clock::time_point at() const { return at_; }
  double fps() const { return fps_; }

 private:
  Clock::time_point at_{};
  std::uint64_t frames_at_last_ = 0;
  double fps_ = 0;
};

}  // namespace camstream
