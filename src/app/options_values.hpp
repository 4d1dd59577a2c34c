// Conversions from the text of one option value (command line or config file) to a typed value.
// Each returns std::nullopt when the text does not have the form; range checks are the caller's.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "camstream/core/value_text.hpp"

namespace camstream::options_detail {

// The number and boolean forms are shared with the settings table and camera controls.
using camstream::parse_boolean;
using camstream::parse_decimal;
using camstream::parse_whole_number;

// A numeric IPv4 or IPv6 address as the server can bind it; IPv6 may carry a %scope and may be
// written in brackets ("[::1]"). Returns the address without brackets.
std::optional<std::string> parse_bind_address(std::string_view text);

// A browser origin, "scheme://host[:port]" with no path, or "*". Browsers send exactly this form
// in the Origin header, so anything else (a trailing slash, a path) could never match.
bool is_origin(std::string_view text);

// A DNS host name as a Host header carries it, without port: letters, digits, '-' and '.'.
bool is_host_name(std::string_view text);

}  // namespace camstream::options_detail
