#include "http/request_checks.hpp"

#include <gtest/gtest.h>

#include "http/host_check.hpp"

namespace camstream {
namespace {

namespace http = boost::beast::http;
using Request = http::request<http::string_body>;

Request request(unsigned version,
                std::initializer_list<std::pair<const char*, const char*>> fields) {
  Request r{http::verb::get, "/", version};
  for (const auto& [name, value] : fields) r.insert(name, value);
  return r;
}

std::optional<unsigned> problem(const Request& r) {
  const auto found = framing_problem(r);
  if (!found) return std::nullopt;
  return static_cast<unsigned>(found->status);
}

TEST(RequestChecks, Http11NeedsExactlyOneHost) {
  EXPECT_EQ(problem(request(11, {})), 400u);
  EXPECT_EQ(problem(request(11, {{"Host", "a"}, {"Host", "b"}})), 400u);
  EXPECT_EQ(problem(request(11, {{"Host", "a"}})), std::nullopt);
  EXPECT_EQ(problem(request(10, {})), std::nullopt);
}

TEST(RequestChecks, TransferEncodingMustEndWithChunked) {
  EXPECT_EQ(problem(request(11, {{"Host", "a"}, {"Transfer-Encoding", "chunked"}})), std::nullopt);
  EXPECT_EQ(problem(request(11, {{"Host", "a"}, {"Transfer-Encoding", " Chunked "}})),
            std::nullopt);
  for (const char* bad : {"gzip", "chunked, gzip", "chunked, chunked", "", " , ", "chunked;x=1",
                          "identity", "chunked\x01"}) {
    EXPECT_EQ(problem(request(11, {{"Host", "a"}, {"Transfer-Encoding", bad}})), 400u) << bad;
  }
  EXPECT_EQ(
      problem(request(
          11, {{"Host", "a"}, {"Transfer-Encoding", "chunked"}, {"Transfer-Encoding", "gzip"}})),
      400u);
  EXPECT_EQ(problem(request(11, {{"Host", "a"}, {"Transfer-Encoding", "gzip, chunked"}})), 501u);
  EXPECT_EQ(problem(request(10, {{"Transfer-Encoding", "chunked"}})), 400u);
}

TEST(HostCheck, HostsThisMachineAnswersTo) {
  const HostCheck check("", {"Camera.Example"}, "printer");
  for (const char* good : {"127.0.0.1", "127.0.0.1:8080", "[::1]:8080", "[::1]", "10.1.2.3:80",
                           "localhost", "LOCALHOST:8080", "localhost.:1", "printer:8080",
                           "printer.local", "camera.example:9", "CAMERA.EXAMPLE"}) {
    EXPECT_TRUE(check.host_allowed(good)) << good;
  }
  for (const char* bad : {"evil.example", "evil.example:8080", "", ":8080", "printer.evil",
                          "localhost:80x", "[::1", "[evil]:80", "127.0.0.1.evil.example",
                          "localhost:8080:1", "[::1]x", "camera.example.evil"}) {
    EXPECT_FALSE(check.host_allowed(bad)) << bad;
  }
}

TEST(HostCheck, WebSocketOrigins) {
  const HostCheck check("", {}, "printer");
  const auto allowed = [&](const char* origin, const char* host) {
    const std::string_view value = origin ? origin : "";
    return check.websocket_allowed(origin ? &value : nullptr, host);
  };
  EXPECT_TRUE(allowed(nullptr, "evil.example:1"));  // not a browser
  EXPECT_TRUE(allowed("http://localhost:8080", "localhost:8080"));
  EXPECT_TRUE(allowed("https://127.0.0.1:8080", "127.0.0.1:8080"));
  EXPECT_TRUE(allowed("HTTP://Printer.local:8080", "printer.local:8080"));
  EXPECT_FALSE(allowed("http://evil.example:8080", "evil.example:8080"));  // DNS rebinding
  EXPECT_FALSE(allowed("http://localhost:8081", "localhost:8080"));
  EXPECT_FALSE(allowed("ftp://localhost:8080", "localhost:8080"));
  EXPECT_FALSE(allowed("null", "localhost:8080"));
  EXPECT_FALSE(allowed("http://localhost:8080", ""));

  const HostCheck listed("https://dash.example", {"evil.example"}, "printer");
  const std::string_view dash = "https://dash.example";
  EXPECT_TRUE(listed.websocket_allowed(&dash, "evil.example:1"));
  const std::string_view evil = "http://evil.example:8080";
  EXPECT_TRUE(listed.websocket_allowed(&evil, "evil.example:8080"));

  const HostCheck any("*", {}, "printer");
  EXPECT_TRUE(any.websocket_allowed(&evil, "elsewhere:1"));
}

}  // namespace
}  // namespace camstream
