#include "multipart.hpp"

#include <cstdio>

namespace camstream::multipart {

std::string response_head(std::string_view allow_origin) {
  std::string head =
      "HTTP/1.1 200 OK\r\n"
      "Content-Type: multipart/x-mixed-replace; boundary=camstreamframe\r\n"
      "Cache-Control: no-store, no-cache, must-revalidate, max-age=0\r\n"
      "Pragma: no-cache\r\n"
      "Expires: Mon, 3 Jan 2000 12:34:56 GMT\r\n"
      "X-Accel-Buffering: no\r\n"
      "X-Content-Type-Options: nosniff\r\n";
  if (!allow_origin.empty()) {
    head += "Access-Control-Allow-Origin: ";
    head += allow_origin;
    head += "\r\n";
  }
  head += "Connection: close\r\n\r\n";
  return head;
}

namespace {
struct SecondsMicros {
  long long seconds;
  long long micros;
};
SecondsMicros split(std::chrono::system_clock::time_point timestamp) {
  const auto micros =
      std::chrono::duration_cast<std::chrono::microseconds>(timestamp.time_since_epoch()).count();
  return {micros / 1'000'000, micros % 1'000'000};
}
}  // namespace

std::size_t format_part_header(PartHeader& out, std::size_t jpeg_size,
                               std::chrono::system_clock::time_point timestamp) {
  const auto [seconds, micros] = split(timestamp);
  const int written = std::snprintf(out.data(), out.size(),
                                    "Content-Type: image/jpeg\r\nContent-Length: %zu\r\n"
                                    "X-Timestamp: %lld.%06lld\r\n\r\n",
                                    jpeg_size, seconds, micros);
  return written < 0 ? 0 : std::min(static_cast<std::size_t>(written), out.size() - 1);
}

std::string format_timestamp(std::chrono::system_clock::time_point timestamp) {
  const auto [seconds, micros] = split(timestamp);
  char text[32];
  std::snprintf(text, sizeof text, "%lld.%06lld", seconds, micros);
  return text;
}

}  // namespace camstream::multipart
