// Who made a request, and what they may do: watch (viewer) or also steer (operator).
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace camstream::access {

// "operator" is a C++ keyword, hence the underscore.
enum class Role { viewer, operator_ };
std::string_view to_string(Role role);
std::optional<Role> parse_role(std::string_view text);
inline Role narrower(Role a, Role b) {
  return a == Role::viewer ? a : b;
}

// Who a request comes from, and what that rests on, so that a reload can tell whether a
// session's credential still holds (Gate::recheck).
struct Identity {
  enum class Basis { open, password, token };
  std::string user;
  Role role = Role::viewer;
  Basis basis = Basis::open;         // open: no --users
  std::string hash{};                // password: the hash it was verified against
  std::uint64_t key_generation = 0;  // token: the key that signed it
  Role granted = Role::viewer;       // token: the role it carries
  std::int64_t expires = 0;          // token: UNIX seconds; 0 for the others
};

}  // namespace camstream::access
