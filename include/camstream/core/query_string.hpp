// Query strings of request targets: "key=value" pairs joined by '&'. Values are as sent (no
// percent-decoding). The one parser of them: http reads its parameters with it, access finds
// and redacts tokens with it.
#pragma once

#include <optional>
#include <string_view>

namespace camstream {

struct QueryPair {
  std::string_view text;                  // "key=value", as in the query
  std::string_view key;                   // "key"
  std::optional<std::string_view> value;  // "value"; nullopt for a bare "key"
};

// Calls visit(pair) for each '&'-separated pair of `query` (the part after '?', without it), in
// order, empty ones included, until visit returns false.
template <typename Visit>
void for_each_query_pair(std::string_view query, Visit&& visit) {
  while (true) {
    const auto amp = query.find('&');
    const std::string_view text = query.substr(0, amp);
    const auto eq = text.find('=');
    QueryPair pair{text, text.substr(0, eq), std::nullopt};
    if (eq != std::string_view::npos) pair.value = text.substr(eq + 1);
    if (!visit(pair)) return;
    if (amp == std::string_view::npos) return;
    query.remove_prefix(amp + 1);
  }
}

// The value of the first `key` in `query` (the part after '?', without it): empty for a bare
// "key", nullopt when the key is absent.
std::optional<std::string_view> query_value(std::string_view query, std::string_view key);

// The value of one query parameter of a request target ("/stream?a=1&token=x" -> "x").
std::optional<std::string_view> query_parameter(std::string_view target, std::string_view name);

}  // namespace camstream
