#include "http_session.hpp"

#include <spdlog/spdlog.h>

#include <boost/beast/core/span.hpp>
#include <boost/beast/http/empty_body.hpp>
#include <boost/beast/http/read.hpp>
#include <boost/beast/http/span_body.hpp>
#include <boost/beast/http/write.hpp>
#include <boost/beast/websocket/rfc6455.hpp>

#include "camstream/web_assets.hpp"
#include "mjpeg_viewer.hpp"
#include "status.hpp"
#include "ws_session.hpp"

namespace camstream {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace http = beast::http;
using namespace std::chrono_literals;

namespace {
constexpr auto kRequestTimeout = 30s;
constexpr auto kSnapshotWait = 5s;

template <typename Response>
void common_headers(Response& response, const Server::Context& context) {
  response.set(http::field::server, "camstream");
  response.set(http::field::cache_control, "no-store, no-cache, must-revalidate, max-age=0");
  if (!context.settings.allow_origin.empty()) {
    response.set(http::field::access_control_allow_origin, context.settings.allow_origin);
  }
}

bool origin_allowed(const http::request<http::string_body>& request,
                    const ServerSettings& settings) {
  const auto origin = request.find(http::field::origin);
  if (origin == request.end()) return true;  // not a browser page: curl, scripts
  const std::string_view value = origin->value();
  if (settings.allow_origin == "*" || value == settings.allow_origin) return true;
  const std::string_view host = request[http::field::host];
  return !host.empty() &&
         (value == "http://" + std::string(host) || value == "https://" + std::string(host));
}
}  // namespace

HttpSession::HttpSession(asio::ip::tcp::socket socket, std::shared_ptr<Server::Context> context)
    : stream_(std::move(socket)),
      context_(std::move(context)),
      registered_(context_->connections, this),
      snapshot_timer_(stream_.get_executor()) {}

void HttpSession::read() {
  parser_.emplace();
  parser_->header_limit(kMaxHeaderBytes);
  parser_->body_limit(kMaxBodyBytes);
  stream_.expires_after(kRequestTimeout);
  http::async_read(
      stream_, buffer_, *parser_,
      [self = shared_from_this()](beast::error_code ec, std::size_t) { self->on_read(ec); });
}

void HttpSession::on_read(beast::error_code ec) {
  if (ec == http::error::header_limit) {
    return send_text(http::status::request_header_fields_too_large,
                     "request header fields too large: the limit is " +
                         std::to_string(kMaxHeaderBytes) + " bytes\n",
                     nullptr);
  }
  if (ec == http::error::body_limit) {
    return send_text(http::status::payload_too_large, "request body too large\n", nullptr);
  }
  if (ec == http::error::end_of_stream || ec == beast::error::timeout ||
      ec == asio::error::operation_aborted || ec == asio::error::connection_reset ||
      ec == asio::error::eof) {
    return close();
  }
  if (ec) {
    if (ec.category() == http::make_error_code(http::error::bad_target).category()) {
      return send_text(http::status::bad_request, "bad request: " + ec.message() + "\n", nullptr);
    }
    return close();
  }
  handle(parser_->release());
}

void HttpSession::handle(Request request) {
  if (context_->shutting_down) {
    return send_text(http::status::service_unavailable, "shutting down\n", nullptr);
  }
  const Route route = parse_route(request.target());
  if (route.endpoint == Endpoint::websocket && beast::websocket::is_upgrade(request)) {
    return start_websocket(std::move(request));
  }
  if (request.method() != http::verb::get && request.method() != http::verb::head) {
    if (route.endpoint == Endpoint::not_found) {
      return send_text(http::status::not_found, "not found\n", &request);
    }
    auto response = text_response(
        http::status::method_not_allowed,
        "method " + std::string(request.method_string()) + " not allowed: use GET or HEAD\n",
        &request);
    response->set(http::field::allow, "GET, HEAD");
    return send(response);
  }
  switch (route.endpoint) {
    case Endpoint::stream:
      return start_stream(request, route);
    case Endpoint::snapshot:
      return snapshot(request);
    case Endpoint::page:
      return send_text(http::status::ok, std::string(web::index_html), &request,
                       "text/html; charset=utf-8");
    case Endpoint::status:
      return send_text(http::status::ok, status_message(*context_) + "\n", &request,
                       "application/json");
    case Endpoint::metrics:
      return send_text(http::status::ok, metrics_text(*context_), &request,
                       "text/plain; version=0.0.4; charset=utf-8");
    case Endpoint::health:
      return send_text(http::status::ok, "ok\n", &request);
    case Endpoint::websocket:
      return send_text(http::status::upgrade_required,
                       "/ws is the control WebSocket: connect with a WebSocket client\n", &request);
    case Endpoint::not_found:
      break;
  }
  send_text(http::status::not_found,
            "not found: " + std::string(request.target()) +
                "\nendpoints: / /stream /snapshot /api/status /metrics /healthz /ws\n",
            &request);
}

void HttpSession::start_stream(const Request& request, const Route& route) {
  if (request.method() == http::verb::head) {
    auto head =
        std::make_shared<std::string>(multipart::response_head(context_->settings.allow_origin));
    stream_.expires_after(kRequestTimeout);
    asio::async_write(
        stream_, asio::buffer(*head),
        [self = shared_from_this(), head](beast::error_code, std::size_t) { self->close(); });
    return;
  }
  if (context_->broadcaster.viewers() >= static_cast<std::size_t>(context_->settings.max_clients)) {
    spdlog::warn("refusing a viewer: {} viewers already (--max-clients)",
                 context_->broadcaster.viewers());
    auto response =
        text_response(http::status::service_unavailable,
                      "too many viewers: the limit is " +
                          std::to_string(context_->settings.max_clients) + " (--max-clients)\n",
                      &request);
    response->set(http::field::retry_after, "5");
    return send(response);
  }
  handed_on_ = true;
  stream_.expires_never();
  auto viewer = std::make_shared<MjpegViewer>(stream_.release_socket(), context_, route,
                                              std::string(request.target()));
  viewer->start();
}

void HttpSession::start_websocket(Request request) {
  if (!origin_allowed(request, context_->settings)) {
    const std::string origin(request[http::field::origin]);
    spdlog::warn("refusing a control WebSocket from origin {}", origin);
    return send_text(http::status::forbidden,
                     "origin " + origin +
                         " may not open /ws: start camstream with "
                         "--allow-origin " +
                         origin + " to allow it\n",
                     nullptr);
  }
  handed_on_ = true;
  std::make_shared<WsSession>(std::move(stream_), context_)->run(request);
}

void HttpSession::snapshot(const Request& request) {
  const bool head_only = request.method() == http::verb::head;
  const bool keep_alive = request.keep_alive();
  if (head_only) {
    const PartPtr& latest = context_->broadcaster.latest();
    if (latest) return send_snapshot(latest->frame, true, keep_alive);
  }
  if (context_->capture.state() == CaptureState::stopped) {
    return send_text(http::status::service_unavailable,
                     "capture is stopped: send {\"type\":\"start\"} on /ws\n", &request);
  }
  waiting_for_snapshot_ = true;
  snapshot_demand_ = context_->capture.hold_demand();
  std::weak_ptr<HttpSession> weak = shared_from_this();
  context_->broadcaster.wait_for_frame([weak, head_only, keep_alive](const FramePtr& frame) {
    auto self = weak.lock();
    if (!self || !self->waiting_for_snapshot_) return;
    self->waiting_for_snapshot_ = false;
    self->snapshot_timer_.cancel();
    self->snapshot_demand_.reset();
    if (!frame) return self->close();
    self->send_snapshot(frame, head_only, keep_alive);
  });
  snapshot_timer_.expires_after(kSnapshotWait);
  snapshot_timer_.async_wait([self = shared_from_this()](beast::error_code ec) {
    if (ec || !self->waiting_for_snapshot_) return;
    self->waiting_for_snapshot_ = false;
    self->snapshot_demand_.reset();
    self->send_text(http::status::service_unavailable, "no frame from the camera within 5 s\n",
                    nullptr);
  });
}

void HttpSession::send_snapshot(const FramePtr& frame, bool head_only, bool keep_alive) {
  using Body = http::span_body<const char>;
  auto response = std::make_shared<http::response<Body>>(http::status::ok, 11);
  common_headers(*response, *context_);
  response->set(http::field::content_type, "image/jpeg");
  response->set("X-Timestamp", multipart::format_timestamp(frame->timestamp));
  const auto jpeg = frame->jpeg();
  response->body() = Body::value_type(reinterpret_cast<const char*>(jpeg.data()), jpeg.size());
  response->keep_alive(keep_alive);
  response->prepare_payload();
  if (head_only) {
    // The same headers as GET, without the body.
    auto header = std::make_shared<http::response<http::empty_body>>(response->base());
    header->set(http::field::content_length, std::to_string(jpeg.size()));
    return send(header);
  }
  stream_.expires_after(kRequestTimeout);
  http::async_write(
      stream_, *response,
      [self = shared_from_this(), response, frame](beast::error_code ec, std::size_t) {
        if (ec || !response->keep_alive()) return self->close();
        self->read();
      });
}

std::shared_ptr<http::response<http::string_body>> HttpSession::text_response(
    http::status status, std::string body, const Request* request, std::string_view content_type) {
  auto response = std::make_shared<http::response<http::string_body>>(
      status, request ? request->version() : 11);
  common_headers(*response, *context_);
  response->set(http::field::content_type, content_type);
  response->body() = std::move(body);
  // Errors close the connection: the client may be in a state we do not understand.
  response->keep_alive(request && request->keep_alive() && static_cast<int>(status) < 500);
  response->prepare_payload();
  if (request && request->method() == http::verb::head) {
    response->body().clear();  // Content-Length stays that of the GET body
  }
  return response;
}

void HttpSession::send_text(http::status status, std::string body, const Request* request,
                            std::string_view content_type) {
  send(text_response(status, std::move(body), request, content_type));
}

template <typename Response>
void HttpSession::send(std::shared_ptr<Response> response) {
  stream_.expires_after(kRequestTimeout);
  http::async_write(stream_, *response,
                    [self = shared_from_this(), response](beast::error_code ec, std::size_t) {
                      if (ec || !response->keep_alive()) return self->close();
                      self->read();
                    });
}

void HttpSession::close_for_shutdown() {
  if (handed_on_) return;
  waiting_for_snapshot_ = false;
  snapshot_timer_.cancel();
  snapshot_demand_.reset();
  stream_.cancel();
  close();
}

void HttpSession::close() {
  if (handed_on_) return;
  beast::error_code ignored;
  stream_.socket().shutdown(asio::ip::tcp::socket::shutdown_send, ignored);
  stream_.close();
}

}  // namespace camstream
