#pragma once

#include <optional>
#include <string>
#include <string_view>

namespace camstream::access {

// Base64 (standard alphabet, padding optional) and base64url (no padding), through OpenSSL.
std::optional<std::string> base64_decode(std::string_view text);
std::string base64url_encode(std::string_view bytes);
std::optional<std::string> base64url_decode(std::string_view text);

}  // namespace camstream::access
