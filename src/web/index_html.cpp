#include "camstream/web/index_html.hpp"

// Generated from index.html by cmake/embed.cmake (src/web/CMakeLists.txt).
#include "index_html_bytes.hpp"

namespace camstream::web {

std::string_view index_html() {
  return index_html_embedded;
}

}  // namespace camstream::web
