#include "camstream/core/query_string.hpp"

namespace camstream {

std::optional<std::string_view> query_value(std::string_view query, std::string_view key) {
  std::optional<std::string_view> found;
  if (query.empty()) return found;
  for_each_query_pair(query, [&](const QueryPair& pair) {
    if (pair.key != key) return true;
    found = pair.value.value_or(std::string_view{});
    return false;
  });
  return found;
}

std::optional<std::string_view> query_parameter(std::string_view target, std::string_view name) {
  const auto question = target.find('?');
  if (question == std::string_view::npos) return std::nullopt;
  return query_value(target.substr(question + 1), name);
}

}  // namespace camstream
