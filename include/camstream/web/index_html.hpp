// The viewer page (src/web/index.html), embedded in the binary at build time.
#pragma once

#include <string_view>

namespace camstream::web {

std::string_view index_html();

}  // namespace camstream::web
