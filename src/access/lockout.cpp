#include "lockout.hpp"

#include <algorithm>

#include "user_table.hpp"

namespace camstream::access {

namespace {
// Names longer than any in a users file (UserTable::kMaxNameBytes) are all unknown: counted
// by their start, so a flood of long names costs no more memory than short ones.
std::string user_key(std::string_view user) {
  return std::string(user.substr(0, UserTable::kMaxNameBytes));
}

FailureTable::Settings table(int limit, const Lockout::Settings& s, std::size_t capacity) {
  return {limit, s.window, s.lock, capacity};
}
}  // namespace

Lockout::Lockout(Settings settings)
    : settings_(settings),
      addresses_(table(settings.max_failures, settings, settings.max_addresses)),
      users_(table(settings.max_user_failures, settings, settings.max_users)) {}

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

std::optional<std::chrono::seconds> Lockout::locked(const boost::asio::ip::address& address,
                                                    std::string_view user,
                                                    Clock::time_point now) const {
  const std::string address_key = key(address);
  if (auto left = addresses_.refusal(address_key, now)) return left;
  if (user.empty()) return std::nullopt;
  // A user under attack is refused only where failures come from: the user logging in from
  // an address that has not failed is let in.
  if (!addresses_.known(address_key, now)) return std::nullopt;
  return users_.refusal(user_key(user), now);
}

Lockout::Ticket Lockout::begin(const boost::asio::ip::address& address, std::string_view user,
                               Clock::time_point now) {
  const Ticket ticket = next_ticket_++;
  const std::string address_key = key(address);
  addresses_.add(address_key, user_key(user), ticket, now);
  if (!user.empty()) users_.add(user_key(user), address_key, ticket, now);
  return ticket;
}

Lockout::Started Lockout::finish(const boost::asio::ip::address& address, std::string_view user,
                                 Ticket ticket, bool succeeded, Clock::time_point now) {
  const std::string address_key = key(address);
  const bool by_address = addresses_.resolve(address_key, ticket, !succeeded, now);
  const bool by_user = !user.empty() && users_.resolve(user_key(user), ticket, !succeeded, now);
  return by_address ? Started::address : by_user ? Started::user : Started::none;
}

Lockout::Started Lockout::failure(const boost::asio::ip::address& address, std::string_view user,
                                  Clock::time_point now) {
  const std::string address_key = key(address);
  const bool by_address = addresses_.add(address_key, user_key(user), 0, now);
  const bool by_user = !user.empty() && users_.add(user_key(user), address_key, 0, now);
  return by_address ? Started::address : by_user ? Started::user : Started::none;
}

void Lockout::success(const boost::asio::ip::address& address, std::string_view user) {
  const std::string address_key = key(address);
  addresses_.clear(address_key, user_key(user));
  if (!user.empty()) users_.clear(user_key(user), address_key);
}

}  // namespace camstream::access
