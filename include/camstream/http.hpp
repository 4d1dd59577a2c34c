// HTTP module: the Beast server (MJPEG stream, snapshot, control WebSocket, status, metrics).
#pragma once

#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "camstream/stream.hpp"

namespace camstream {

struct ServerSettings {
  std::string bind = "::";
  std::uint16_t port = 8080;
  int max_clients = 256;                   // stream viewers at once
  std::string allow_origin;                // besides same-origin; "*" allows any
  std::chrono::seconds stall_timeout{30};  // a viewer that reads nothing this long is dropped
  int max_connections = 1024;              // every TCP connection; more wait in the backlog
  std::vector<std::string> allow_hosts;    // Host names accepted for /ws besides the built-in
};

class Listener;

class Server {
 public:
  Server(boost::asio::io_context& io, ServerSettings settings, CaptureService& capture,
         FrameHub& hub, Metrics& metrics);
  ~Server();
  Server(const Server&) = delete;
  Server& operator=(const Server&) = delete;

  // Binds and listens. Throws std::system_error naming the address on failure.
  boost::asio::ip::tcp::endpoint listen();
  // Closes the listener, ends every stream with the close delimiter and closes every
  // connection; calls closed() once the last one is gone.
  void shutdown(std::function<void()> closed);

  struct Context;

 private:
  std::shared_ptr<Context> context_;
  std::shared_ptr<Listener> listener_;
};

}  // namespace camstream
