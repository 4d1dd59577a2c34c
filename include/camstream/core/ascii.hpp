// ASCII case, as HTTP compares schemes and host names and the command line reads words.
#pragma once

#include <string>
#include <string_view>

namespace camstream {

std::string ascii_lowercase(std::string_view text);
bool equal_ignoring_ascii_case(std::string_view a, std::string_view b);

}  // namespace camstream
