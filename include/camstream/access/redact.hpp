// Query parameters of a request target, and the target as logs may show it.
#pragma once

#include <optional>
#include <string>
#include <string_view>

namespace camstream::access {

// The request target with every token= value replaced by "…", for logs.
std::string redact_target(std::string_view target);

// The value of one query parameter of a target ("/stream?a=1&token=x" -> "x"), undecoded.
std::optional<std::string_view> query_parameter(std::string_view target, std::string_view name);

}  // namespace camstream::access
