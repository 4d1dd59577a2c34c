#include "camstream/access/redact.hpp"

#include "camstream/core/query_string.hpp"

namespace camstream::access {

std::string redact_target(std::string_view target) {
  const auto question = target.find('?');
  if (question == std::string_view::npos) return std::string(target);
  std::string redacted(target.substr(0, question + 1));
  bool first = true;
  for_each_query_pair(target.substr(question + 1), [&](const QueryPair& pair) {
    if (!first) redacted += '&';
    first = false;
    if (pair.key == "token" && pair.value) {
      redacted += "token=\xE2\x80\xA6";  // …
    } else {
      redacted += pair.text;
    }
    return true;
  });
  return redacted;
}

}  // namespace camstream::access
