// The system's crypt library and a comparison that leaks no timing.
#pragma once

#include <optional>
#include <string>
#include <string_view>

namespace camstream::access {

// crypt_rn() of the system's libcrypt; nullopt when the setting is not a usable hash.
std::optional<std::string> crypt_hash(std::string_view password, const std::string& setting);

// Constant-time comparison (lengths are not secret).
bool equal_constant_time(std::string_view a, std::string_view b);

}  // namespace camstream::access
