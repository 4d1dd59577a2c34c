// Which endpoint a request target names, and the stream's query options.
#pragma once

#include <optional>
#include <string_view>

namespace camstream {

enum class Endpoint { page, stream, snapshot, status, metrics, health, websocket, not_found };

struct Route {
  Endpoint endpoint = Endpoint::not_found;
  std::optional<double> fps;     // ?fps=N (stream), positive
  bool advance_headers = false;  // ?advance_headers=1 (stream)
};

// Routes "/path?query". mjpg-streamer's "?action=stream|snapshot" works under any path
// prefix a reverse proxy leaves; unknown query parameters are ignored.
Route parse_route(std::string_view target);

}  // namespace camstream
