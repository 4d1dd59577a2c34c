#include "listener.hpp"

#include <fcntl.h>
#include <fmt/format.h>
#include <spdlog/spdlog.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <boost/asio/ip/v6_only.hpp>
#include <cerrno>
#include <system_error>

namespace camstream {

namespace asio = boost::asio;
using tcp = asio::ip::tcp;
using namespace std::chrono_literals;

namespace {
constexpr auto kFirstBackoff = 50ms;
constexpr auto kMaxBackoff = 500ms;
constexpr auto kRoomPoll = 50ms;  // how often a full server looks for a free slot
// Connections closed at once per try while out of descriptors: the backlog drains, the loop
// stays cheap.
constexpr int kShedPerTry = 64;

bool out_of_descriptors(const boost::system::error_code& ec) {
  return ec == asio::error::no_descriptors || ec == boost::system::errc::too_many_files_open ||
         ec == boost::system::errc::too_many_files_open_in_system;
}
}  // namespace

void SpareDescriptor::release() {
  if (fd_ >= 0) ::close(fd_);
  fd_ = -1;
}

void SpareDescriptor::reopen() {
  if (fd_ < 0) fd_ = ::open("/dev/null", O_RDONLY | O_CLOEXEC);
}

Listener::Listener(asio::io_context& io, Accepted accepted, HasRoom has_room)
    : acceptor_(io),
      retry_timer_(io),
      accepted_(std::move(accepted)),
      has_room_(std::move(has_room)) {}

tcp::endpoint Listener::listen(const std::string& bind, std::uint16_t port) {
  boost::system::error_code ec;
  const auto address = asio::ip::make_address(bind, ec);
  if (ec) throw std::system_error(ec, "--bind " + bind + ": not an IP address");
  const tcp::endpoint endpoint(address, port);
  const auto fail = [&](const char* what) {
    const std::string where = address.is_v6() ? fmt::format("[{}]:{}", address.to_string(), port)
                                              : fmt::format("{}:{}", address.to_string(), port);
    throw std::system_error(ec, fmt::format("cannot {} on {}", what, where));
  };
  acceptor_.open(endpoint.protocol(), ec);
  if (ec) fail("open a socket");
  acceptor_.set_option(tcp::acceptor::reuse_address(true), ec);
  if (address.is_v6() && address.is_unspecified()) {
    acceptor_.set_option(asio::ip::v6_only(false), ec);  // "::" takes IPv4 too
  }
  acceptor_.bind(endpoint, ec);
  if (ec) fail("listen");
  // A burst of viewers connecting at once must not overflow the accept queue.
  acceptor_.listen(4096, ec);
  if (ec) fail("listen");
  // shed_backlog() accepts by hand and must never block.
  acceptor_.native_non_blocking(true, ec);
  return acceptor_.local_endpoint();
}

tcp::endpoint Listener::adopt(int listening_fd) {
  sockaddr_storage address{};
  socklen_t length = sizeof address;
  const bool v4 =
      ::getsockname(listening_fd, reinterpret_cast<sockaddr*>(&address), &length) == 0 &&
      address.ss_family == AF_INET;
  boost::system::error_code ec;
  acceptor_.assign(v4 ? tcp::v4() : tcp::v6(), listening_fd, ec);
  if (ec) throw std::system_error(ec, "cannot serve on the socket systemd passed");
  acceptor_.native_non_blocking(true, ec);
  return acceptor_.local_endpoint();
}

void Listener::close() {
  boost::system::error_code ignored;
  acceptor_.close(ignored);
  retry_timer_.cancel();
  parked_.reset();
}

void Listener::accept_next() {
  if (!acceptor_.is_open()) return;
  if (!has_room_()) {
    if (!full_) {
      full_ = true;
      spdlog::warn("--max-connections reached: new connections wait until one closes");
    }
    return retry_after(kRoomPoll);
  }
  if (full_) {
    full_ = false;
    spdlog::info("below --max-connections again: accepting");
  }
  acceptor_.async_accept(
      [self = shared_from_this()](boost::system::error_code ec, tcp::socket socket) {
        self->on_accepted(ec, std::move(socket));
      });
}

void Listener::on_accepted(boost::system::error_code ec, tcp::socket socket) {
  if (ec == asio::error::operation_aborted || !acceptor_.is_open()) return;
  if (ec) {
    // Log once per episode: at the descriptor limit this fails for every try.
    if (!failing_) {
      failing_ = true;
      shed_ = 0;
      backoff_ = kFirstBackoff;
      spdlog::warn(
          "accept failed: {}; retrying every {}..{} ms, and connections that cannot be served "
          "are closed at once until descriptors are free",
          ec.message(), kFirstBackoff.count(), kMaxBackoff.count());
    } else {
      backoff_ = std::min<std::chrono::milliseconds>(backoff_ * 2, kMaxBackoff);
    }
    if (out_of_descriptors(ec)) shed_ += shed_backlog();
    return retry_after(backoff_);
  }
  if (failing_) {
    failing_ = false;
    spdlog::info("accepting again ({} connections were closed at once meanwhile)", shed_);
  }
  if (!accepted_(socket)) {
    // The room seen before accepting was taken meanwhile (an unproven connection that could
    // have given way was let in): this one waits, as it would have in the backlog.
    parked_.emplace(std::move(socket));
    return offer_parked();
  }
  accept_next();
}

void Listener::offer_parked() {
  retry_timer_.expires_after(kRoomPoll);
  retry_timer_.async_wait([self = shared_from_this()](boost::system::error_code ec) {
    if (ec || !self->parked_ || !self->acceptor_.is_open()) return;
    if (!self->accepted_(*self->parked_)) return self->offer_parked();
    self->parked_.reset();
    self->accept_next();
  });
}

void Listener::retry_after(std::chrono::milliseconds delay) {
  retry_timer_.expires_after(delay);
  retry_timer_.async_wait([self = shared_from_this()](boost::system::error_code ec) {
    if (!ec) self->accept_next();
  });
}

// Out of descriptors, a connection cannot even be accepted to be refused, so the backlog would
// stay full and every client hang. The spare descriptor makes room for one at a time.
std::size_t Listener::shed_backlog() {
  spare_.release();
  std::size_t closed = 0;
  for (int i = 0; i < kShedPerTry; ++i) {
    const int fd = ::accept4(acceptor_.native_handle(), nullptr, nullptr, SOCK_CLOEXEC);
    if (fd < 0) break;
    ::close(fd);
    ++closed;
  }
  spare_.reopen();
  return closed;
}

}  // namespace camstream
