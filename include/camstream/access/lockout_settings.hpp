#pragma once

#include <chrono>
#include <cstddef>

namespace camstream::access {

// How many failed logins lock an address out, and for how long (the Gate's Lockout).
struct LockoutSettings {
  int max_failures = 10;
  std::chrono::steady_clock::duration window = std::chrono::seconds(60);
  std::chrono::steady_clock::duration lock = std::chrono::seconds(60);
  std::size_t max_addresses = 10'000;
};

}  // namespace camstream::access
