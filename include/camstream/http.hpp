// HTTP module: the Beast server (MJPEG stream, snapshot, control WebSocket, status, metrics).
#pragma once

#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <stdexcept>
#include <string>
#include <vector>

#include "camstream/access.hpp"
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
  int listen_fd = -1;  // a socket already listening (systemd socket activation): bind, port unused
  std::string tls_cert_file;  // with tls_key_file: HTTPS and WSS on the port
  std::string tls_key_file;
};

class Listener;

// A --tls-cert or --tls-key that cannot be used; the message names the flag, the file and why.
class TlsError : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

class Server {
 public:
  // The gate decides who may do what (docs/api.md, section 8); it must outlive the server.
  // Throws TlsError (tls.hpp) naming the file when the certificate or key cannot be used.
  Server(boost::asio::io_context& io, ServerSettings settings, CaptureService& capture,
         FrameHub& hub, Metrics& metrics, access::Gate& gate);
  ~Server();
  Server(const Server&) = delete;
  Server& operator=(const Server&) = delete;

  // Binds and listens. Throws std::system_error naming the address on failure.
  boost::asio::ip::tcp::endpoint listen();
  // Closes the listener, ends every stream with the close delimiter and closes every
  // connection; calls closed() once the last one is gone.
  void shutdown(std::function<void()> closed);
  // Stream viewers connected now.
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
