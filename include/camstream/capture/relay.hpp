// The relay source: another MJPEG stream (http:// or https://) served as the camera.
#pragma once

#include <chrono>
#include <memory>
#include <stdexcept>
#include <string>
#include <vector>

#include "camstream/capture/capture_config.hpp"
#include "camstream/capture/frame_source.hpp"

namespace camstream {

// An upstream URL taken apart. The credentials are kept apart from everything that is shown.
struct RelayUrl {
  bool tls = false;
  std::string host;          // without brackets for IPv6
  std::string port;          // "80", "443" or as given
  std::string target = "/";  // path and query, as given
  std::string user;          // percent-decoded; empty: none
  std::string password;
  bool has_credentials = false;
  // What logs and the status show: scheme, host, port and path; never the credentials, and
  // the query (which may carry a token) only as "?...".
  std::string shown() const;
  // host:port as a Host header (IPv6 in brackets).
  std::string host_header() const;
};

// Thrown for a URL camstream cannot relay; the message never repeats the credentials.
class RelayUrlError : public std::invalid_argument {
 public:
  using std::invalid_argument::invalid_argument;
};

bool is_relay_url(const std::string& text);  // starts with http:// or https:// (any case)
RelayUrl parse_relay_url(const std::string& text);

// "Name: value" for --source-header; throws RelayUrlError naming what is wrong (not the value).
void check_source_header(const std::string& header);

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
// error callback; the capture service reconnects by calling start() again. Throws CaptureError
// when the config asks for what a passthrough cannot do (rotation, flips).
std::unique_ptr<FrameSource> make_relay_source(const RelaySettings& settings,
                                               const CaptureConfig& config);

}  // namespace camstream
