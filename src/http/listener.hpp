// The listening socket and its accept loop, which holds at two limits without spinning:
// --max-connections (new connections wait in the backlog) and the process's descriptor limit
// (a spare descriptor lets it accept and close what waits, with a timer between tries).
#pragma once

#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/steady_timer.hpp>
#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>

namespace camstream {

// A descriptor held in reserve (/dev/null), given up for a moment when the process has no
// other one left.
class SpareDescriptor {
 public:
  SpareDescriptor() { reopen(); }
  ~SpareDescriptor() { release(); }
  SpareDescriptor(const SpareDescriptor&) = delete;
  SpareDescriptor& operator=(const SpareDescriptor&) = delete;
  void release();
  void reopen();
  bool held() const { return fd_ >= 0; }

 private:
  int fd_ = -1;
};

class Listener : public std::enable_shared_from_this<Listener> {
 public:
  // Takes the connection (moving the socket out) and returns true, or returns false when
  // there is no room for it after all: the listener then holds it, accepts nothing more, and
  // offers it again until it is taken.
  using Accepted = std::function<bool(boost::asio::ip::tcp::socket&)>;
  using HasRoom = std::function<bool()>;  // false: --max-connections is reached

  Listener(boost::asio::io_context& io, Accepted accepted, HasRoom has_room);

  // Binds and listens. Throws std::system_error naming the address on failure.
  boost::asio::ip::tcp::endpoint listen(const std::string& bind, std::uint16_t port);
  // Serves on a socket that is already listening (systemd socket activation passes one).
  boost::asio::ip::tcp::endpoint adopt(int listening_fd);
  void start() { accept_next(); }
  void close();

 private:
  void accept_next();
  void on_accepted(boost::system::error_code ec, boost::asio::ip::tcp::socket socket);
  void retry_after(std::chrono::milliseconds delay);
  void offer_parked();
  std::size_t shed_backlog();

  boost::asio::ip::tcp::acceptor acceptor_;
  boost::asio::steady_timer retry_timer_;
  Accepted accepted_;
  HasRoom has_room_;
  SpareDescriptor spare_;
  std::optional<boost::asio::ip::tcp::socket> parked_;  // accepted, waiting for room
  bool full_ = false;                                   // at --max-connections: not accepting
  bool failing_ = false;                  // accept fails (out of descriptors): backing off
  std::chrono::milliseconds backoff_{0};  // grows while accept keeps failing
  std::uint64_t shed_ = 0;                // connections closed at once in this episode
};

}  // namespace camstream
