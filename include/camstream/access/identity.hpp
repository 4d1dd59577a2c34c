// Who made a request, and what they may do: watch (viewer) or also steer (operator).
#pragma once

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

struct Identity {
  std::string user;
  Role role = Role::viewer;
};

}  // namespace camstream::access
