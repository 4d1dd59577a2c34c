#pragma once

#include <chrono>

#include "camstream/access/gate.hpp"
#include "registry.hpp"

namespace camstream {

// Any open connection, so shutdown can reach it and the watchdog can check it.
class Connection {
 public:
  virtual ~Connection() = default;
  virtual void close_for_shutdown() = 0;
  virtual void check_stalled(std::chrono::steady_clock::time_point) {}
  // After a reload (SIGHUP): a session whose credential no longer holds ends, or takes the
  // role it has now (docs/security.md, "Revocation").
  virtual void recheck_access(const access::Gate&) {}
  // At --max-connections: a connection idle between requests closes (HTTP lets a server
  // close an idle persistent connection) and returns true; streams and WebSockets do not.
  virtual bool close_if_idle() { return false; }
  virtual bool idle() const { return false; }
};
using ConnectionRegistry = Registry<Connection>;

}  // namespace camstream
