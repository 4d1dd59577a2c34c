#pragma once

#include <boost/asio/ip/address.hpp>
#include <chrono>
#include <list>
#include <optional>
#include <string>
#include <unordered_map>
#include <vector>

#include "camstream/access/lockout_settings.hpp"

namespace camstream::access {

// Failed logins per address (IPv6 by its /64, as one host usually owns a whole /64). After
// max_failures within `window` the address is locked for `lock`, whatever it sends. Memory is
// bounded: at most max_addresses are tracked, quiet ones are forgotten first.
class Lockout {
 public:
  using Clock = std::chrono::steady_clock;
  using Settings = LockoutSettings;

  explicit Lockout(Settings settings);
  Lockout() : Lockout(Settings{}) {}

  // Time left while the address is locked, rounded up to whole seconds (for Retry-After).
  std::optional<std::chrono::seconds> locked(const boost::asio::ip::address& address,
                                             Clock::time_point now);
  // Counts a failure; true when this one starts a lockout (log it then, once).
  bool failure(const boost::asio::ip::address& address, Clock::time_point now);
  void success(const boost::asio::ip::address& address);
  std::size_t tracked() const { return entries_.size(); }

  // The key an address is counted under: IPv4 (also IPv4-mapped IPv6) whole, IPv6 by /64.
  static std::string key(const boost::asio::ip::address& address);

 private:
  struct Entry {
    std::string key;
    std::vector<Clock::time_point> failures;  // the newest max_failures, oldest first
    std::optional<Clock::time_point> locked_until;
    Clock::time_point last_seen;
  };
  using List = std::list<Entry>;  // least recently seen first
  void forget_quiet(Clock::time_point now);
  bool quiet(const Entry& entry, Clock::time_point now) const;

  Settings settings_;
  List entries_;
  std::unordered_map<std::string, List::iterator> index_;
};

}  // namespace camstream::access
