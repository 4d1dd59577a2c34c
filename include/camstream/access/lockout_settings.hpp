#pragma once

#include <chrono>
#include <cstddef>

namespace camstream::access {

// How many failed logins lock an address, or a user, out, and for how long (the Gate's
// Lockout; docs/security.md, "Lockout").
struct LockoutSettings {
  int max_failures = 10;       // from one address
  int max_user_failures = 20;  // for one user, from any addresses
  std::chrono::steady_clock::duration window = std::chrono::seconds(60);
  std::chrono::steady_clock::duration lock = std::chrono::seconds(60);
  std::size_t max_addresses = 10'000;
  std::size_t max_users = 10'000;
};

}  // namespace camstream::access
