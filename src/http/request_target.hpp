// Query strings of request targets: "key=value" pairs joined by '&'.
#pragma once

#include <optional>
#include <string_view>

namespace camstream {

// The value of the first `key` in `query` (the part after '?', without it): empty for a bare
// "key", nullopt when the key is absent. Values are returned as sent (no percent-decoding).
std::optional<std::string_view> query_value(std::string_view query, std::string_view key);

}  // namespace camstream
