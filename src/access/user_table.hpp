#pragma once

#include <cstddef>
#include <functional>
#include <map>
#include <string>
#include <string_view>
#include <vector>

namespace camstream::access {

// The users of an htpasswd file (`name:hash` lines, # comments). Only hashes the system's
// crypt library accepts as current are taken: bcrypt ($2y$, $2b$), yescrypt ($y$), SHA-512
// ($6$) and the like; Apache's MD5 ($apr1$), DES and plain text are refused at load.
class UserTable {
 public:
  static constexpr std::size_t kMaxFileBytes = std::size_t{1} << 20;
  static constexpr std::size_t kMaxNameBytes = 256;

  // Reads and parses the file; throws AccessError naming "--users FILE" and the line.
  static UserTable load(const std::string& path);
  // `where` prefixes every message ("--users /etc/camstream/users").
  static UserTable parse(std::string_view text, const std::string& where);

  bool contains(std::string_view user) const { return hashes_.find(user) != hashes_.end(); }
  std::size_t size() const { return hashes_.size(); }
  std::vector<std::string> names() const;

  // True when the password matches. An unknown user costs the same crypt() as the most
  // expensive hash in the file (a hash of a random password with that hash's method and
  // cost, chosen at load by timing one hash of each kind) and the hashes are compared in
  // constant time. Safe to call from any thread.
  bool verify(std::string_view user, std::string_view password) const;
  // The user's hash (what a verified password rests on), or nullptr.
  const std::string* hash_of(std::string_view user) const;

 private:
  std::map<std::string, std::string, std::less<>> hashes_;
  std::string dummy_hash_;
};

}  // namespace camstream::access
