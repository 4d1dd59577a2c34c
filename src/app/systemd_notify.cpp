#include "systemd_notify.hpp"

#include <fmt/format.h>
#include <spdlog/spdlog.h>
#include <sys/socket.h>
#include <systemd/sd-daemon.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <system_error>

namespace camstream {

using namespace std::chrono_literals;

int systemd_listening_socket() {
  // Unset LISTEN_FDS and LISTEN_PID: they describe this process only.
  const int count = sd_listen_fds(1);
  if (count == 0) return -1;
  if (count < 0) {
    throw std::system_error(-count, std::generic_category(),
                            "socket activation: bad LISTEN_FDS or passed descriptors");
  }
  if (count > 1) {
    throw std::system_error(
        EINVAL, std::generic_category(),
        fmt::format("socket activation: systemd passed {} sockets, camstream serves on one "
                    "(give camstream.socket a single ListenStream=)",
                    count));
  }
  const int fd = SD_LISTEN_FDS_START;
  const int listening_tcp = sd_is_socket_inet(fd, AF_UNSPEC, SOCK_STREAM, 1, 0);
  if (listening_tcp <= 0) {
    throw std::system_error(listening_tcp < 0 ? -listening_tcp : ENOTSOCK, std::generic_category(),
                            fmt::format("socket activation: descriptor {} is not a listening TCP "
                                        "socket (camstream.socket needs ListenStream=)",
                                        fd));
  }
  return fd;
}

bool WatchdogHealth::healthy(Clock::time_point now, Clock::time_point supervised_at, bool streaming,
                             Clock::time_point last_frame_at) const {
  if (now - supervised_at > supervision_limit) return false;
  return !streaming || now - last_frame_at <= stall_limit;
}

std::string systemd_status(std::string_view state, std::size_t viewers, double fps,
                           std::string_view error) {
  std::string text = fmt::format("{}, {} viewer{}", state, viewers, viewers == 1 ? "" : "s");
  if (fps > 0) text += fmt::format(", {:.1f} fps", fps);
  if (!error.empty()) text += fmt::format(", error: {}", error);
  // One line: systemd shows STATUS= as is, and a newline would start another assignment.
  std::replace(text.begin(), text.end(), '\n', ' ');
  return text;
}

SystemdNotifier::SystemdNotifier(boost::asio::io_context& io, Probe probe)
    : probe_(std::move(probe)), timer_(io) {}

void SystemdNotifier::ready() {
  last_status_ = probe_.status();
  notify("READY=1\nSTATUS=" + last_status_);
  std::uint64_t usec = 0;
  if (sd_watchdog_enabled(0, &usec) > 0 && usec > 0) {
    // Bounded, so that a nonsense WATCHDOG_USEC neither spins the I/O thread nor overflows.
    // At least a second: sd_notify() blocks the I/O thread once the receiver's datagram queue
    // is full, so a nonsense WATCHDOG_USEC must not make us send a ping every few milliseconds.
    const Clock::duration period = std::clamp<Clock::duration>(
        std::chrono::microseconds(std::min<std::uint64_t>(usec, 1ULL << 40)), 1s, 24h);
    // The supervision ticks once a second: allow it a late tick even with a short period.
    watchdog_ = WatchdogHealth{std::max<Clock::duration>(period, 3s),
                               std::max<Clock::duration>(period, 3 * probe_.frame_interval())};
    watchdog_period_ = period;
    frames_seen_ = probe_.frames();
    last_frame_at_ = Clock::now();
    const auto period_ms = std::chrono::duration_cast<std::chrono::milliseconds>(period).count();
    spdlog::info("systemd watchdog: {} ms, fed every {} ms", period_ms, period_ms / 2);
    feed_watchdog(period / 2);
  }
}

void SystemdNotifier::update_status() {
  if (stopping_) return;
  std::string status = probe_.status();
  if (status == last_status_) return;
  last_status_ = std::move(status);
  notify("STATUS=" + last_status_);
}

void SystemdNotifier::stopping() {
  if (stopping_) return;
  stopping_ = true;
  timer_.cancel();
  notify("STOPPING=1\nSTATUS=stopping");
}

void SystemdNotifier::feed_watchdog(Clock::duration every) {
  timer_.expires_after(every);
  timer_.async_wait([this, every](boost::system::error_code ec) {
    if (ec || stopping_) return;
    const auto now = Clock::now();
    const bool streaming = probe_.streaming();
    const std::uint64_t frames = probe_.frames();
    if (!streaming || frames != frames_seen_) {
      frames_seen_ = frames;
      last_frame_at_ = now;
    }
    watchdog_->stall_limit =
        std::max<Clock::duration>(watchdog_period_, 3 * probe_.frame_interval());
    if (watchdog_->healthy(now, probe_.supervised_at(), streaming, last_frame_at_)) {
      notify("WATCHDOG=1");
      unhealthy_logged_ = false;
    } else if (!std::exchange(unhealthy_logged_, true)) {
      spdlog::error(
          "watchdog: {}; no longer telling systemd that camstream is alive (it will restart it)",
          now - probe_.supervised_at() > watchdog_->supervision_limit
              ? "the capture supervision has stopped"
              : "no frame from the camera while streaming");
    }
    update_status();
    feed_watchdog(every);
  });
}

void SystemdNotifier::notify(const std::string& message) {
  const int result = sd_notify(0, message.c_str());
  if (result < 0 && !std::exchange(notify_failed_logged_, true)) {
    spdlog::warn("cannot notify systemd (NOTIFY_SOCKET): {}", std::strerror(-result));
  }
}

}  // namespace camstream
