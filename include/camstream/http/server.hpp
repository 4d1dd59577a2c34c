// HTTP module: the Beast server (MJPEG stream, snapshot, control WebSocket, status, metrics).
#pragma once

#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <cstddef>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "camstream/access/gate.hpp"
#include "camstream/http/server_settings.hpp"
#include "camstream/http/tls_error.hpp"
#include "camstream/stream/capture_service.hpp"
#include "camstream/stream/frame_hub.hpp"
#include "camstream/stream/metrics.hpp"

namespace camstream {

class Listener;

// One camera the server serves, at /cam/NAME/... (docs/api.md, "Several cameras in one
// process"); the services must outlive the server.
struct ServerCamera {
  std::string name;
  CaptureService& capture;
  FrameHub& hub;
  Metrics& metrics;
};

class Server {
 public:
  // The gate decides who may do what (docs/api.md, "Access control and TLS"); it must outlive the
  // server. The first of the cameras (at least one) also answers the single-camera URLs. Throws
  // TlsError (tls_error.hpp) naming the file when the certificate or key cannot be used.
  Server(boost::asio::io_context& io, ServerSettings settings,
         const std::vector<ServerCamera>& cameras, access::Gate& gate);
  ~Server();
  Server(const Server&) = delete;
  Server& operator=(const Server&) = delete;

  // Binds and listens. Throws std::system_error naming the address on failure.
  boost::asio::ip::tcp::endpoint listen();
  // Closes the listener, ends every stream with the close delimiter and closes every
  // connection; calls closed() once the last one is gone.
  void shutdown(std::function<void()> closed);
  // Stream viewers of every camera connected now.
  std::size_t viewers() const;
  bool tls() const;
  // SIGHUP: the certificate and key again, for new connections; a bad file keeps the old
  // pair (the log says why).
  void reload_tls();
  // After the gate's reload (SIGHUP): ends every session whose credential no longer holds,
  // and gives the others the role they have now.
  void recheck_access();

  struct Context;

 private:
  std::shared_ptr<Context> context_;
  std::shared_ptr<Listener> listener_;
};

}  // namespace camstream
