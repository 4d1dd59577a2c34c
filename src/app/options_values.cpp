// Strict value conversions: a typo must be a usage error, never a silently different setting.
#include "options_values.hpp"

#include <arpa/inet.h>

#include <algorithm>
#include <cctype>

namespace camstream::options_detail {

namespace {

bool is_ipv4(const std::string& text) {
  in_addr address{};
  return inet_pton(AF_INET, text.c_str(), &address) == 1;
}

bool is_ipv6(const std::string& text) {
  in6_addr address{};
  return inet_pton(AF_INET6, text.c_str(), &address) == 1;
}

bool is_scheme_char(char c) {
  return std::isalnum(static_cast<unsigned char>(c)) || c == '+' || c == '-' || c == '.';
}

}  // namespace

std::optional<std::string> parse_bind_address(std::string_view text) {
  std::string address(text);
  if (address.size() > 2 && address.front() == '[' && address.back() == ']') {
    address = address.substr(1, address.size() - 2);
    if (!is_ipv6(address.substr(0, address.find('%')))) return std::nullopt;
  }
  if (is_ipv4(address)) return address;
  // An IPv6 scope is an interface name or number; whether it exists is a start-up matter.
  const auto percent = address.find('%');
  if (percent != std::string::npos && percent + 1 == address.size()) return std::nullopt;
  if (is_ipv6(address.substr(0, percent))) return address;
  return std::nullopt;
}

bool is_origin(std::string_view text) {
  if (text == "*") return true;
  const auto separator = text.find("://");
  if (separator == std::string_view::npos || separator == 0) return false;
  const std::string_view scheme = text.substr(0, separator);
  if (!std::isalpha(static_cast<unsigned char>(scheme.front())) ||
      !std::all_of(scheme.begin(), scheme.end(), is_scheme_char)) {
    return false;
  }
  const std::string_view authority = text.substr(separator + 3);
  if (authority.empty()) return false;
  // No path, query, fragment, user info or whitespace: none of them appear in an Origin header.
  return std::none_of(authority.begin(), authority.end(), [](char c) {
    return c == '/' || c == '?' || c == '#' || c == '@' ||
           std::isspace(static_cast<unsigned char>(c)) ||
           std::iscntrl(static_cast<unsigned char>(c));
  });
}

bool is_host_name(std::string_view text) {
  if (text.empty() || text.size() > 253 || text.front() == '.' || text.front() == '-') {
    return false;
  }
  return std::all_of(text.begin(), text.end(), [](char c) {
    return std::isalnum(static_cast<unsigned char>(c)) != 0 || c == '-' || c == '.';
  });
}

}  // namespace camstream::options_detail
