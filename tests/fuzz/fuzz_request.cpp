// Request heads as a client sends them: Beast's parser with the server's limits, then what the
// server checks and reads: the framing checks, routing and the query parameters (fps,
// advance_headers, action, token), and the Host/Origin rule for /ws.
#include <boost/beast/core/error.hpp>
#include <boost/beast/http/parser.hpp>
#include <boost/beast/http/string_body.hpp>
#include <boost/beast/websocket/rfc6455.hpp>
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string>
#include <string_view>

#include "camstream/core/query_string.hpp"
#include "http/host_check.hpp"
#include "http/http_session.hpp"
#include "http/request_checks.hpp"
#include "http/route.hpp"

namespace {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace http = beast::http;

void check(bool condition) {
  if (!condition) std::abort();
}

void route_target(std::string_view target) {
  const camstream::Route route = camstream::parse_route(target);
  if (route.fps) {
    check(*route.fps >= camstream::kMinViewerFps && *route.fps <= camstream::kMaxViewerFps);
  }
  // An accepted fps carries no fps error; another parameter (?quality=2.5) may still refuse
  // the request with its own.
  check(!route.fps || route.error.find("fps") == std::string::npos);
  if (route.advance_headers) check(route.endpoint == camstream::Endpoint::stream);
  const auto question = target.find('?');
  const std::string_view query =
      question == std::string_view::npos ? std::string_view{} : target.substr(question + 1);
  for (const std::string_view key : {"fps", "advance_headers", "action", "token"}) {
    if (const auto value = camstream::query_value(query, key); value && !value->empty()) {
      // The value is a view into the query, never beyond it.
      check(value->data() >= query.data() &&
            value->data() + value->size() <= query.data() + query.size());
    }
  }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  http::request_parser<http::string_body> parser;
  parser.header_limit(camstream::HttpSession::kMaxHeaderBytes);
  parser.body_limit(camstream::HttpSession::kMaxBodyBytes);
  beast::error_code ec;
  asio::const_buffer rest(data, size);
  // As http::async_read feeds it: whatever has arrived, until the message is done.
  while (rest.size() > 0 && !parser.is_done()) {
    const std::size_t used = parser.put(rest, ec);
    rest += used;
    if (ec == http::error::need_more) {
      if (used == 0) break;
      ec = {};
    }
    if (ec) return 0;
  }
  if (!parser.is_done()) {
    parser.put_eof(ec);
    if (ec || !parser.is_done()) return 0;
  }
  const http::request<http::string_body> request = parser.release();
  if (const auto problem = camstream::framing_problem(request)) {
    check(!problem->message.empty());
    return 0;
  }
  route_target(request.target());
  static const camstream::HostCheck host_check("https://octoprint.example", {"cam.example"},
                                               "camhost");
  const auto origin = request.find(http::field::origin);
  const std::string_view origin_value =
      origin == request.end() ? std::string_view{} : std::string_view(origin->value());
  const std::string_view host = request[http::field::host];
  (void)host_check.host_allowed(host);
  (void)host_check.websocket_allowed(origin == request.end() ? nullptr : &origin_value, host);
  (void)beast::websocket::is_upgrade(request);
  (void)request.keep_alive();
  return 0;
}
