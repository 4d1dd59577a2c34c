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
  // /cam/NAME/...: the camera named (docs/api.md, "Several cameras in one process"); empty:
  // the first camera, by a single-camera URL.
  std::string camera;
  // /cam/X/... where X is not a camera name (a-z, 0-9, '_', '-', at most 32): a 404 that does
  // not repeat X.
  bool bad_camera_name = false;
};

// [a-z0-9_-]{1,32}.
bool is_camera_name(std::string_view name);

// Routes "/path?query". mjpg-streamer's "?action=stream|snapshot" works under any path
// prefix a reverse proxy leaves; unknown query parameters are ignored. "/cam/NAME/REST" is
// REST for the camera NAME: the page, stream, snapshot, status, WebSocket and token URLs
// (not /metrics or /healthz, which are the server's).
Route parse_route(std::string_view target);

}  // namespace camstream
