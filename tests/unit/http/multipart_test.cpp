#include "http/multipart.hpp"

#include <gtest/gtest.h>

#include "http/route.hpp"

namespace camstream {
namespace {

using namespace std::chrono;

TEST(Multipart, ResponseHeadIsExactlyTheSpec) {
  EXPECT_EQ(multipart::response_head(""),
            "HTTP/1.1 200 OK\r\n"
            "Content-Type: multipart/x-mixed-replace; boundary=camstreamframe\r\n"
            "Cache-Control: no-store, no-cache, must-revalidate, max-age=0\r\n"
            "Pragma: no-cache\r\n"
            "Expires: Mon, 3 Jan 2000 12:34:56 GMT\r\n"
            "X-Accel-Buffering: no\r\n"
            "X-Content-Type-Options: nosniff\r\n"
            "Connection: close\r\n\r\n");
}

TEST(Multipart, ResponseHeadCarriesAllowOrigin) {
  const std::string head = multipart::response_head("https://dash.example");
  EXPECT_NE(head.find("\r\nAccess-Control-Allow-Origin: https://dash.example\r\n"),
            std::string::npos);
}

TEST(Multipart, DelimiterAndAdvanceHeaders) {
  EXPECT_EQ(multipart::kDelimiter, "--camstreamframe\r\n");
  EXPECT_EQ(multipart::kAdvanceHeaders, "Content-Type: image/jpeg\r\n\r\n");
}

TEST(Multipart, PartHeaderBytes) {
  multipart::PartHeader header;
  const system_clock::time_point timestamp{seconds(1700000000) + microseconds(42)};
  const std::size_t size = multipart::format_part_header(header, 12345, timestamp);
  EXPECT_EQ(std::string(header.data(), size),
            "Content-Type: image/jpeg\r\n"
            "Content-Length: 12345\r\n"
            "X-Timestamp: 1700000000.000042\r\n"
            "\r\n");
}

TEST(Multipart, PartHeaderLinesStayShort) {
  multipart::PartHeader header;
  const std::size_t size = multipart::format_part_header(
      header, std::numeric_limits<std::size_t>::max(), system_clock::now());
  EXPECT_LT(size, multipart::kMaxPartHeader);
  EXPECT_EQ(std::string(header.data(), size).substr(size - 4), "\r\n\r\n");
}

TEST(Multipart, TrailerEndsThePartAndOpensTheNext) {
  EXPECT_EQ(multipart::kTrailer, "\r\n--camstreamframe\r\n");
  EXPECT_EQ(multipart::kCloseDelimiter, "--camstreamframe--\r\n");
  EXPECT_EQ(multipart::kCloseDelimiterInBody, "\r\n--camstreamframe--\r\n");
}

TEST(Route, Endpoints) {
  EXPECT_EQ(parse_route("/").endpoint, Endpoint::page);
  EXPECT_EQ(parse_route("/stream").endpoint, Endpoint::stream);
  EXPECT_EQ(parse_route("/stream.mjpg").endpoint, Endpoint::stream);
  EXPECT_EQ(parse_route("/snapshot").endpoint, Endpoint::snapshot);
  EXPECT_EQ(parse_route("/snapshot.jpg").endpoint, Endpoint::snapshot);
  EXPECT_EQ(parse_route("/api/status").endpoint, Endpoint::status);
  EXPECT_EQ(parse_route("/metrics").endpoint, Endpoint::metrics);
  EXPECT_EQ(parse_route("/healthz").endpoint, Endpoint::health);
  EXPECT_EQ(parse_route("/ws").endpoint, Endpoint::websocket);
  EXPECT_EQ(parse_route("/nope").endpoint, Endpoint::not_found);
  EXPECT_EQ(parse_route("/stream/x").endpoint, Endpoint::not_found);
}

TEST(Route, CameraUrls) {
  const Route stream = parse_route("/cam/nozzle/stream?fps=2");
  EXPECT_EQ(stream.endpoint, Endpoint::stream);
  EXPECT_EQ(stream.camera, "nozzle");
  EXPECT_EQ(stream.fps, 2);
  EXPECT_EQ(parse_route("/cam/a/stream.mjpg").endpoint, Endpoint::stream);
  EXPECT_EQ(parse_route("/cam/a/snapshot.jpg").endpoint, Endpoint::snapshot);
  EXPECT_EQ(parse_route("/cam/a/api/status").endpoint, Endpoint::status);
  EXPECT_EQ(parse_route("/cam/a/ws").endpoint, Endpoint::websocket);
  EXPECT_EQ(parse_route("/cam/a/api/token").endpoint, Endpoint::token);
  EXPECT_EQ(parse_route("/cam/a/").endpoint, Endpoint::page);
  EXPECT_EQ(parse_route("/cam/a/?action=stream").endpoint, Endpoint::stream);
  EXPECT_EQ(parse_route("/cam/a/?action=stream").camera, "a");
  EXPECT_EQ(parse_route("/cam/a/?action=snapshot").endpoint, Endpoint::snapshot);
  EXPECT_EQ(parse_route("/cam/a/stream?fps=0").error.empty(), false);
  // The server's own endpoints are not a camera's.
  EXPECT_EQ(parse_route("/cam/a/metrics").endpoint, Endpoint::not_found);
  EXPECT_EQ(parse_route("/cam/a/healthz").endpoint, Endpoint::not_found);
  EXPECT_EQ(parse_route("/cam/a").endpoint, Endpoint::not_found);
  EXPECT_FALSE(parse_route("/cam/a").bad_camera_name);
  for (const char* bad : {"/cam/../stream", "/cam/a%2Fb/stream", "/cam/A/stream", "/cam//stream",
                          "/cam/a.b/stream", "/cam/", "/cam/x?action=stream"}) {
    const Route route = parse_route(bad);
    EXPECT_EQ(route.endpoint, Endpoint::not_found) << bad;
    EXPECT_TRUE(route.bad_camera_name || route.camera.empty()) << bad;
  }
  EXPECT_TRUE(parse_route("/cam/" + std::string(33, 'a') + "/stream").bad_camera_name);
  EXPECT_EQ(parse_route("/cam/" + std::string(32, 'a') + "/stream").endpoint, Endpoint::stream);
  EXPECT_TRUE(is_camera_name("a-b_9"));
  EXPECT_FALSE(is_camera_name(""));
  EXPECT_FALSE(is_camera_name("a b"));
}

TEST(Route, MjpgStreamerActionsUnderAnyPrefix) {
  EXPECT_EQ(parse_route("/?action=stream").endpoint, Endpoint::stream);
  EXPECT_EQ(parse_route("/?action=snapshot").endpoint, Endpoint::snapshot);
  EXPECT_EQ(parse_route("/webcam/?action=stream").endpoint, Endpoint::stream);
  EXPECT_EQ(parse_route("/webcam2/?action=snapshot&t=1").endpoint, Endpoint::snapshot);
  EXPECT_EQ(parse_route("/?foo=1&action=stream").endpoint, Endpoint::stream);
  EXPECT_EQ(parse_route("/?action=dance").endpoint, Endpoint::not_found);
}

TEST(Route, StreamOptionsAndUnknownParameters) {
  const Route plain = parse_route("/stream?timestamp=123&type=.mjpg");
  EXPECT_EQ(plain.endpoint, Endpoint::stream);
  EXPECT_FALSE(plain.fps);
  EXPECT_FALSE(plain.advance_headers);
  const Route capped = parse_route("/stream?fps=2.5&advance_headers=1");
  ASSERT_TRUE(capped.fps);
  EXPECT_DOUBLE_EQ(*capped.fps, 2.5);
  EXPECT_TRUE(capped.advance_headers);
  EXPECT_FALSE(parse_route("/stream?fps=0").fps);
  EXPECT_FALSE(parse_route("/stream?fps=-3").fps);
  EXPECT_FALSE(parse_route("/stream?fps=abc").fps);
  EXPECT_FALSE(parse_route("/stream?fps=abc").error.empty());
  EXPECT_TRUE(capped.error.empty());
  EXPECT_FALSE(parse_route("/stream?advance_headers=0").advance_headers);
}

TEST(Route, FpsOutsideItsRangeIsAnErrorNamingIt) {
  for (const char* bad : {"0", "-3", "abc", "nan", "NaN", "inf", "-inf", "1e-9", "1e400", "0.099",
                          "120.5", "1e9", "", "2x", "0x10", " 2"}) {
    const Route route = parse_route(std::string("/stream?fps=") + bad);
    EXPECT_FALSE(route.fps) << bad;
    EXPECT_NE(route.error.find("fps"), std::string::npos) << bad;
  }
  for (const char* good : {"0.1", "1", "120", "7.5"}) {
    const Route route = parse_route(std::string("/stream?fps=") + good);
    EXPECT_TRUE(route.fps) << good;
    EXPECT_TRUE(route.error.empty()) << good;
  }
  EXPECT_EQ(parse_route("/stream?fps=<script>").error.find("<script>"), std::string::npos);
}

}  // namespace
}  // namespace camstream
