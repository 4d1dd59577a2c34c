// The request target as logs may show it.
#pragma once

#include <string>
#include <string_view>

namespace camstream::access {

// The request target with every token= value replaced by "…", for logs.
std::string redact_target(std::string_view target);

}  // namespace camstream::access
