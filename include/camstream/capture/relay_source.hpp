// The relay source: another MJPEG stream (http:// or https://) served as the camera.
#pragma once

#include <chrono>
#include <cstddef>
#include <memory>
#include <string>
#include <vector>

#include "camstream/capture/capture_config.hpp"
#include "camstream/capture/frame_source.hpp"

namespace camstream {

struct RelaySettings {
  std::string url;                                // as given, credentials included
  std::vector<std::string> headers;               // "Name: value", sent with the request
  bool insecure = false;                          // https without certificate verification
  std::chrono::milliseconds stall_timeout{5000};  // no byte for this long: broken
  std::size_t max_part = 16u << 20;
  std::size_t max_headers = 16u << 10;
};

// Connects on start(), reads the upstream's multipart stream on its own thread and delivers
// each JPEG as an MJPEG frame, stamped with the upstream's X-Timestamp when it sent one. A
// break (refused, closed, stalled, not multipart, over a limit) is reported once through the
// error callback; the capture service reconnects by calling start() again. The JPEGs go on
// unturned whatever the config's orientation (the encoding stage turns them); info() gives the
// turned size. Throws CaptureError for a bad URL.
std::unique_ptr<FrameSource> make_relay_source(const RelaySettings& settings,
                                               const CaptureConfig& config);

}  // namespace camstream
