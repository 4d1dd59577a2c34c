#pragma once

#include <chrono>
#include <cstdint>
#include <string>
#include <vector>

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

}  // namespace camstream
