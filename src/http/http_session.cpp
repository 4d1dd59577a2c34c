#include "http_session.hpp"

#include <spdlog/spdlog.h>
#include <sys/socket.h>

#include <boost/beast/core/span.hpp>
#include <boost/beast/http/empty_body.hpp>
#include <boost/beast/http/read.hpp>
#include <boost/beast/http/span_body.hpp>
#include <boost/beast/http/write.hpp>
#include <boost/beast/websocket/rfc6455.hpp>

#include "camstream/web_assets.hpp"
#include "mjpeg_viewer.hpp"
#include "request_checks.hpp"
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
  response.set("X-Content-Type-Options", "nosniff");
  if (!context.settings().allow_origin.empty()) {
    response.set(http::field::access_control_allow_origin, context.settings().allow_origin);
  }
}
}  // namespace

HttpSession::HttpSession(asio::ip::tcp::socket socket, std::shared_ptr<Server::Context> context)
    : stream_(std::move(socket)),
      context_(std::move(context)),
      snapshot_timer_(stream_.get_executor()) {}

void HttpSession::run() {
  connection_ = context_->connections().join(weak_from_this());
  read();
}

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
  if (context_->shutting_down()) {
    return send_text(http::status::service_unavailable, "shutting down\n", nullptr);
  }
  if (const auto problem = framing_problem(request)) {
    return send_text(problem->status, problem->message + "\n", nullptr);
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
  if (!route.error.empty()) {
    return send_text(http::status::bad_request, route.error + "\n", nullptr);
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
      return send_text(http::status::ok, context_->status() + "\n", &request, "application/json");
    case Endpoint::metrics:
      return send_text(http::status::ok,
                       metrics_text(context_->metrics(), context_->status_snapshot()), &request,
                       "text/plain; version=0.0.4; charset=utf-8");
    case Endpoint::health:
      return send_text(http::status::ok, "ok\n", &request);
    case Endpoint::websocket:
      return send_text(http::status::upgrade_required,
                       "/ws is the control WebSocket: connect with a WebSocket client\n", &request);
    case Endpoint::not_found:
      break;
  }
  // The target is not repeated: an answer never echoes what a client sent.
  send_text(http::status::not_found,
            "not found\nendpoints: / /stream /snapshot /api/status /metrics /healthz /ws\n",
            &request);
}

void HttpSession::start_stream(const Request& request, const Route& route) {
  if (request.method() == http::verb::head) {
    auto head =
        std::make_shared<std::string>(multipart::response_head(context_->settings().allow_origin));
    stream_.expires_after(kRequestTimeout);
    asio::async_write(
        stream_, asio::buffer(*head),
        [self = shared_from_this(), head](beast::error_code, std::size_t) { self->close(); });
    return;
  }
  const auto max_clients = static_cast<std::size_t>(context_->settings().max_clients);
  if (context_->viewers() >= max_clients) {
    spdlog::warn("refusing a viewer: {} viewers already (--max-clients)", context_->viewers());
    auto response = text_response(
        http::status::service_unavailable,
        "too many viewers: the limit is " + std::to_string(max_clients) + " (--max-clients)\n",
        &request);
    response->set(http::field::retry_after, "5");
    return send(response);
  }
  handed_on_ = true;
  stream_.expires_never();
  auto viewer =
      std::make_shared<MjpegViewer>(stream_.release_socket(), std::shared_ptr<ViewerHub>(context_),
                                    route, std::string(request.target()));
  connection_.reset();  // the viewer counts the connection from now on
  viewer->start();
}

void HttpSession::start_websocket(Request request) {
  const auto origin = request.find(http::field::origin);
  const std::string_view origin_value =
      origin == request.end() ? std::string_view{} : std::string_view(origin->value());
  if (!context_->host_check().websocket_allowed(origin == request.end() ? nullptr : &origin_value,
                                                request[http::field::host])) {
    // Neither Origin nor Host is repeated, in the answer or the log: both are the client's.
    spdlog::warn("refusing a control WebSocket: its Origin or Host is not allowed");
    return send_text(http::status::forbidden,
                     "this page may not open /ws: its Origin must be this server (reached by an "
                     "IP address, localhost, the machine's name or an --allow-host name) or the "
                     "--allow-origin origin\n",
                     nullptr);
  }
  handed_on_ = true;
  connection_.reset();  // the WebSocket counts the connection from now on
  std::make_shared<WsSession>(std::move(stream_), std::shared_ptr<Controller>(context_))
      ->run(request);
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
  // Each waiting snapshot holds a connection and demand: as many as viewers may wait.
  const auto max_waiting = static_cast<std::size_t>(context_->settings().max_clients);
  if (context_->broadcaster.waiters() >= max_waiting) {
    auto response = text_response(http::status::service_unavailable,
                                  "too many snapshots waiting for a frame: the limit is " +
                                      std::to_string(max_waiting) + " (--max-clients)\n",
                                  &request);
    response->set(http::field::retry_after, "5");
    return send(response);
  }
  waiting_for_snapshot_ = true;
  snapshot_head_only_ = head_only;
  snapshot_keep_alive_ = keep_alive;
  snapshot_demand_ = context_->capture.hold_demand();
  snapshot_wait_ = context_->broadcaster.wait_for_frame(weak_from_this());
  snapshot_timer_.expires_after(kSnapshotWait);
  snapshot_timer_.async_wait([self = shared_from_this()](beast::error_code ec) {
    if (ec || !self->waiting_for_snapshot_) return;
    self->stop_waiting();
    self->send_text(http::status::service_unavailable, "no frame from the camera within 5 s\n",
                    nullptr);
  });
  watch_for_hang_up();
}

// A client that hangs up while its snapshot waits gives up its place, and its demand, at once.
void HttpSession::watch_for_hang_up() {
  stream_.socket().async_wait(
      asio::socket_base::wait_read, [self = shared_from_this()](beast::error_code ec) {
        if (ec || !self->waiting_for_snapshot_) return;
        char byte = 0;
        const auto got =
            ::recv(self->stream_.socket().native_handle(), &byte, 1, MSG_PEEK | MSG_DONTWAIT);
        if (got > 0) return;  // the next request, pipelined: it waits for its turn
        if (got < 0 && (errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR)) {
          return self->watch_for_hang_up();
        }
        self->stop_waiting();
        self->close();
      });
}

void HttpSession::stop_waiting() {
  waiting_for_snapshot_ = false;
  snapshot_wait_.reset();
  snapshot_demand_.reset();
  snapshot_timer_.cancel();
  boost::system::error_code ignored;
  stream_.socket().cancel(ignored);  // the hang-up watch
}

void HttpSession::on_frame(const FramePtr& frame) {
  if (!waiting_for_snapshot_) return;
  stop_waiting();
  if (!frame) return close();
  send_snapshot(frame, snapshot_head_only_, snapshot_keep_alive_);
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
  if (waiting_for_snapshot_) stop_waiting();
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
