// Conversions from the text of one option value (command line or config file) to a typed value.
// Each returns std::nullopt when the text does not have the form; range checks are the caller's.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace camstream::options_detail {

// A whole decimal number, optionally signed, with nothing else around it ("12", "-1").
std::optional<std::int64_t> parse_whole_number(std::string_view text);

// A finite decimal number ("30", "7.5").
std::optional<double> parse_decimal(std::string_view text);

// true/false, yes/no, on/off, 1/0 (any case): what CLI11 accepts for a flag in a config file.
std::optional<bool> parse_boolean(std::string_view text);

// A numeric IPv4 or IPv6 address as the server can bind it; IPv6 may carry a %scope and may be
// written in brackets ("[::1]"). Returns the address without brackets.
std::optional<std::string> parse_bind_address(std::string_view text);

// A browser origin, "scheme://host[:port]" with no path, or "*". Browsers send exactly this form
// in the Origin header, so anything else (a trailing slash, a path) could never match.
bool is_origin(std::string_view text);

// A DNS host name as a Host header carries it, without port: letters, digits, '-' and '.'.
bool is_host_name(std::string_view text);

}  // namespace camstream::options_detail
