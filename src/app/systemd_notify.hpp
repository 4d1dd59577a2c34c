// systemd integration through libsystemd: the service manager's notifications (sd_notify:
// READY, STATUS, WATCHDOG, STOPPING) and the listening socket of socket activation
// (sd_listen_fds). Without systemd (no NOTIFY_SOCKET, no LISTEN_FDS) all of it does nothing.
#pragma once

#include <boost/asio/io_context.hpp>
#include <boost/asio/steady_timer.hpp>
#include <chrono>
#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <string_view>

namespace camstream {

// The socket systemd passed (LISTEN_FDS=1, LISTEN_PID=this process), or -1 when it passed
// none. Throws std::system_error when it passed something camstream cannot serve on: more than
// one socket, or one that is not a listening TCP socket.
int systemd_listening_socket();

// Whether the watchdog may be fed: the capture supervision (CaptureService's once-a-second
// timer, on the I/O thread) ran within supervision_limit, and a source that is streaming has
// delivered a frame within stall_limit. Pure, so that the rule is tested without systemd.
struct WatchdogHealth {
  using Clock = std::chrono::steady_clock;
  Clock::duration supervision_limit;  // max(WATCHDOG_USEC, 3 s)
  Clock::duration stall_limit;        // max(WATCHDOG_USEC, 3 frame intervals)
  bool healthy(Clock::time_point now, Clock::time_point supervised_at, bool streaming,
               Clock::time_point last_frame_at) const;
};

// The STATUS= line: "streaming, 2 viewers, 10.0 fps", "error, 0 viewers, error: REASON".
std::string systemd_status(std::string_view state, std::size_t viewers, double fps,
                           std::string_view error);

class SystemdNotifier {
 public:
  using Clock = std::chrono::steady_clock;
  struct Probe {
    std::function<std::string()> status;  // the STATUS= text: state and viewers
    std::function<Clock::time_point()> supervised_at;
    std::function<bool()> streaming;
    std::function<std::uint64_t()> frames;            // frames captured so far
    std::function<Clock::duration()> frame_interval;  // may change live (configure)
  };

  SystemdNotifier(boost::asio::io_context& io, Probe probe);
  SystemdNotifier(const SystemdNotifier&) = delete;
  SystemdNotifier& operator=(const SystemdNotifier&) = delete;

  // READY=1 with the first status; starts feeding the watchdog if systemd asked for one.
  void ready();
  // STATUS=..., sent only when the text changed.
  void update_status();
  // STOPPING=1; stops the watchdog timer so that the I/O loop can end.
  void stopping();

 private:
  void notify(const std::string& message);
  void feed_watchdog(Clock::duration every);

  Probe probe_;
  boost::asio::steady_timer timer_;
  std::optional<WatchdogHealth> watchdog_;
  Clock::duration watchdog_period_{};
  std::string last_status_;
  std::uint64_t frames_seen_ = 0;
  Clock::time_point last_frame_at_{};
  bool stopping_ = false;
  bool unhealthy_logged_ = false;
  bool notify_failed_logged_ = false;
};

}  // namespace camstream
