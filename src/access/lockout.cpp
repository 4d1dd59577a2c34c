#include "lockout.hpp"

#include <algorithm>

namespace camstream::access {

Lockout::Lockout(Settings settings) : settings_(settings) {
  settings_.max_failures = std::max(settings_.max_failures, 1);
  settings_.max_addresses = std::max<std::size_t>(settings_.max_addresses, 1);
}

std::string Lockout::key(const boost::asio::ip::address& address) {
  if (address.is_v4()) return address.to_v4().to_string();
  const auto v6 = address.to_v6();
  if (v6.is_v4_mapped()) {
    return boost::asio::ip::make_address_v4(boost::asio::ip::v4_mapped, v6).to_string();
  }
  auto bytes = v6.to_bytes();
  std::fill(bytes.begin() + 8, bytes.end(), 0);
  return boost::asio::ip::address_v6(bytes).to_string() + "/64";
}

bool Lockout::quiet(const Entry& entry, Clock::time_point now) const {
  const bool locked = entry.locked_until && *entry.locked_until > now;
  return !locked && now - entry.last_seen >= settings_.window;
}

// The list is ordered by last_seen, so the quiet ones are at its front.
void Lockout::forget_quiet(Clock::time_point now) {
  while (!entries_.empty() && quiet(entries_.front(), now)) {
    index_.erase(entries_.front().key);
    entries_.pop_front();
  }
}

std::optional<std::chrono::seconds> Lockout::locked(const boost::asio::ip::address& address,
                                                    Clock::time_point now) {
  const auto it = index_.find(key(address));
  if (it == index_.end()) return std::nullopt;
  const Entry& entry = *it->second;
  if (!entry.locked_until || *entry.locked_until <= now) return std::nullopt;
  const auto left = *entry.locked_until - now;
  auto seconds = std::chrono::ceil<std::chrono::seconds>(left);
  return std::max(seconds, std::chrono::seconds(1));
}

bool Lockout::failure(const boost::asio::ip::address& address, Clock::time_point now) {
  forget_quiet(now);
  std::string address_key = key(address);
  auto it = index_.find(address_key);
  if (it == index_.end()) {
    if (entries_.size() >= settings_.max_addresses) {
      // Full of addresses failing right now: the one seen longest ago goes, unless it is
      // locked and a newer one is not.
      auto victim = std::find_if(entries_.begin(), entries_.end(), [now](const Entry& entry) {
        return !entry.locked_until || *entry.locked_until <= now;
      });
      if (victim == entries_.end()) victim = entries_.begin();
      index_.erase(victim->key);
      entries_.erase(victim);
    }
    entries_.push_back(Entry{address_key, {}, std::nullopt, now});
    it = index_.emplace(std::move(address_key), std::prev(entries_.end())).first;
  } else {
    entries_.splice(entries_.end(), entries_, it->second);
  }
  Entry& entry = *it->second;
  entry.last_seen = now;
  if (entry.locked_until && *entry.locked_until > now) return false;  // already locked
  entry.locked_until.reset();
  auto& failures = entry.failures;
  failures.erase(std::remove_if(failures.begin(), failures.end(),
                                [&](Clock::time_point at) { return now - at >= settings_.window; }),
                 failures.end());
  failures.push_back(now);
  if (failures.size() < static_cast<std::size_t>(settings_.max_failures)) return false;
  failures.clear();
  entry.locked_until = now + settings_.lock;
  return true;
}

void Lockout::success(const boost::asio::ip::address& address) {
  const auto it = index_.find(key(address));
  if (it == index_.end()) return;
  entries_.erase(it->second);
  index_.erase(it);
}

}  // namespace camstream::access
