#pragma once

#include <chrono>

#include "registry.hpp"

namespace camstream {

// Any open connection, so shutdown can reach it and the watchdog can check it.
class Connection {
 public:
  virtual ~Connection() = default;
  virtual void close_for_shutdown() = 0;
  virtual void check_stalled(std::chrono::steady_clock::time_point) {}
};
using ConnectionRegistry = Registry<Connection>;

}  // namespace camstream
