// Signed, expiring tokens for clients that cannot send a password (<img>, WebSocket).
#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "camstream/access/identity.hpp"

namespace camstream::access {

struct TokenClaims {
  std::string user;
  Role role = Role::viewer;
  std::int64_t expires = 0;  // UNIX seconds
};

enum class TokenProblem { none, malformed, bad_signature, expired };
std::string_view to_string(TokenProblem problem);

struct TokenCheck {
  std::optional<TokenClaims> claims;
  TokenProblem problem = TokenProblem::none;
};

// Signs and checks tokens: base64url(payload) "." base64url(HMAC-SHA256(key, payload)), the
// payload naming the version, role, expiry and user. Another key makes every token invalid.
class TokenSigner {
 public:
  static constexpr std::size_t kKeyBytes = 32;       // made by load_or_create and random()
  static constexpr std::size_t kMinKeyBytes = 16;    // accepted in a key file
  static constexpr std::size_t kMaxKeyBytes = 4096;  // accepted in a key file
  static constexpr std::size_t kMaxTokenBytes = 1024;
  static constexpr std::int64_t kMinTtl = 60;
  static constexpr std::int64_t kMaxTtl = 31'536'000;
  static constexpr std::int64_t kDefaultTtl = 86'400;

  explicit TokenSigner(std::string key);
  // A fresh key for this run only (no --token-key): tokens end with the process.
  static TokenSigner random();
  // --token-key FILE: reads the key, or creates the file (mode 0600, 32 random bytes) when it
  // does not exist. A file others may read or write adds a warning. Throws AccessError.
  static TokenSigner load_or_create(const std::string& path, std::vector<std::string>& warnings);

  std::string issue(const TokenClaims& claims) const;
  TokenCheck check(std::string_view token, std::int64_t now_unix) const;
  bool same_key(const TokenSigner& other) const;

 private:
  std::string mac(std::string_view payload) const;
  std::string key_;
};

// ?ttl= of /api/token: a whole number of seconds in kMinTtl..kMaxTtl, else nullopt.
std::optional<std::int64_t> parse_ttl(std::string_view text);

}  // namespace camstream::access
