// The Basic scheme of the Authorization header (RFC 7617).
#pragma once

#include <cstddef>
#include <optional>
#include <string>
#include <string_view>

namespace camstream::access {

struct BasicCredentials {
  std::string user;
  std::string password;
};

// "Basic base64(user:password)" (RFC 7617; the scheme in any case). nullopt for anything else,
// including headers longer than kMaxAuthorizationBytes.
constexpr std::size_t kMaxAuthorizationBytes = 4096;
std::optional<BasicCredentials> parse_basic(std::string_view authorization);

}  // namespace camstream::access
