// Which endpoint a request target names, and the stream's query options.
#pragma once

#include <optional>
#include <string>
#include <string_view>

#include "camstream/stream/stream_output.hpp"

namespace camstream {

enum class Endpoint {
  page,
  stream,
  snapshot,
  status,
  metrics,
  health,
  websocket,
  token,
  not_found
};

// A viewer's ?fps= cap, in frames per second.
inline constexpr double kMinViewerFps = 0.1;
inline constexpr double kMaxViewerFps = 120;

struct Route {
  Endpoint endpoint = Endpoint::not_found;
  std::optional<double> fps;     // ?fps=N (stream), kMinViewerFps..kMaxViewerFps
  bool advance_headers = false;  // ?advance_headers=1 (stream)
  OutputRequest output;          // ?width=&height=&quality= (stream, snapshot), as the flags
  std::string error;             // a query parameter out of range: the request gets 400
};

// Routes "/path?query". mjpg-streamer's "?action=stream|snapshot" works under any path
// prefix a reverse proxy leaves; unknown query parameters are ignored.
Route parse_route(std::string_view target);

}  // namespace camstream
