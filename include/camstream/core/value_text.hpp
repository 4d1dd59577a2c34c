// Strict conversions from the text of one value (a flag, a config key, a control given as
// NAME=VALUE): a typo must be an error, never a silently different setting. Each returns
// std::nullopt when the text does not have the form; range checks are the caller's.
#pragma once

#include <cstdint>
#include <optional>
#include <string_view>

namespace camstream {

// A whole decimal number, optionally signed, with nothing else around it ("12", "-1", "+3").
std::optional<std::int64_t> parse_whole_number(std::string_view text);

// A finite decimal number ("30", "7.5", "-0.25").
std::optional<double> parse_decimal(std::string_view text);

// true/false, yes/no, on/off, 1/0, enable/disable (any case): what CLI11 takes for a flag.
std::optional<bool> parse_boolean(std::string_view text);

}  // namespace camstream
