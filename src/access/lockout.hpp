#pragma once

#include <boost/asio/ip/address.hpp>
#include <chrono>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "camstream/access/lockout_settings.hpp"
#include "failure_table.hpp"

namespace camstream::access {

// Failed logins per address (IPv6 by its /64, as one host usually owns a whole /64) and per
// user across addresses (docs/security.md, "Lockout"). After max_failures from an address
// within `window` the address is locked for `lock`, whatever it sends. After
// max_user_failures for one user within `window` that user is refused for `lock` from every
// address with a failure on record, never from an address that has not failed: an attacker
// can lock out only the addresses they guess from. A success clears only the failures of that
// user from that address. A password check counts as a failure from when it is queued until
// it succeeds. Both tables are bounded and keep locked and high counts over single failures.
class Lockout {
 public:
  using Clock = std::chrono::steady_clock;
  using Settings = LockoutSettings;
  // What started a lockout, for the log.
  enum class Started { none, address, user };
  using Ticket = std::uint64_t;

  explicit Lockout(Settings settings);
  Lockout() : Lockout(Settings{}) {}

  // While a request from `address` naming `user` (empty: none) is refused, the time left in
  // whole seconds (for Retry-After).
  std::optional<std::chrono::seconds> locked(const boost::asio::ip::address& address,
                                             std::string_view user, Clock::time_point now) const;
  // A password check about to run: it counts as a failure until finish() says otherwise.
  Ticket begin(const boost::asio::ip::address& address, std::string_view user,
               Clock::time_point now);
  Started finish(const boost::asio::ip::address& address, std::string_view user, Ticket ticket,
                 bool succeeded, Clock::time_point now);
  // A failure known at once (a header that is not Basic, a bad token).
  Started failure(const boost::asio::ip::address& address, std::string_view user,
                  Clock::time_point now);
  // A success outside a check (forgets that user's failures from that address).
  void success(const boost::asio::ip::address& address, std::string_view user);
  std::size_t tracked() const { return addresses_.size(); }
  std::size_t tracked_users() const { return users_.size(); }
  const Settings& settings() const { return settings_; }

  // The key an address is counted under: IPv4 (also IPv4-mapped IPv6) whole, IPv6 by /64.
  static std::string key(const boost::asio::ip::address& address);

 private:
  Settings settings_;
  FailureTable addresses_;  // failures tagged with the user they named
  FailureTable users_;      // failures tagged with the address they came from
  Ticket next_ticket_ = 1;
};

}  // namespace camstream::access
