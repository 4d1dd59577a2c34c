#include "http_session.hpp"

#include <spdlog/spdlog.h>

#include <boost/beast/core/bind_handler.hpp>
#include <boost/beast/core/detect_ssl.hpp>
#include <boost/beast/core/span.hpp>
#include <boost/beast/http/empty_body.hpp>
#include <boost/beast/http/read.hpp>
#include <boost/beast/http/span_body.hpp>
#include <boost/beast/http/write.hpp>
#include <boost/beast/websocket/rfc6455.hpp>
#include <boost/json.hpp>

#include "camstream/access/redact.hpp"
#include "camstream/access/token_signer.hpp"
#include "camstream/core/query_string.hpp"
#include "camstream/web/index_html.hpp"
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
// A client that starts a TLS handshake (or connects and says nothing) gets this long.
constexpr auto kHandshakeTimeout = 10s;
// A connection that never authenticates is closed with its third 401 (or 429): a browser's
// first request and its retry with the login fit well within it.
constexpr int kMaxRefusals = 3;

// Where docs/api.md ("Access control and TLS") accepts ?token=. Not /api/token (a token cannot
// renew itself) and not /metrics.
bool accepts_token(Endpoint endpoint) {
  return endpoint == Endpoint::page || endpoint == Endpoint::stream ||
         endpoint == Endpoint::snapshot || endpoint == Endpoint::status ||
         endpoint == Endpoint::websocket;
}

std::int64_t unix_now() {
  return std::chrono::duration_cast<std::chrono::seconds>(
             std::chrono::system_clock::now().time_since_epoch())
      .count();
}

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
    : stream_(beast::tcp_stream(std::move(socket))),
      context_(std::move(context)),
      snapshot_(stream_.get_executor(), *context_, *this) {
  boost::system::error_code ec;
  const auto endpoint = stream_.tcp().socket().remote_endpoint(ec);
  if (!ec) peer_address_ = endpoint.address();
}

void HttpSession::run() {
  connection_ = context_->connections().join(weak_from_this());
  unproven_ = context_->add_unproven(weak_from_this());
  if (context_->tls() != nullptr) return detect_tls();
  read();
}

// On the TLS port the first bytes say whether the client speaks TLS. One that speaks plain
// HTTP gets a 400 that says so, rather than a handshake error it cannot show.
void HttpSession::detect_tls() {
  reading_ = true;
  stream_.tcp().expires_after(kHandshakeTimeout);
  beast::async_detect_ssl(
      stream_.tcp(), buffer_,
      beast::bind_front_handler(&HttpSession::on_detect_tls, shared_from_this()));
}

void HttpSession::on_detect_tls(beast::error_code ec, bool tls) {
  if (ec) return close();
  if (!tls) {
    plain_on_tls_port_ = true;
    return read();
  }
  stream_.start_tls(context_->tls()->context());
  // bind_front_handler's call operator takes any arguments, which satisfies Beast 1.81's
  // constraint (it names the unbuffered signature for the buffered handshake).
  stream_.tls().async_handshake(
      asio::ssl::stream_base::server, buffer_.data(),
      beast::bind_front_handler(&HttpSession::on_handshake, shared_from_this()));
}

void HttpSession::on_handshake(beast::error_code ec, std::size_t used) {
  if (ec) {
    spdlog::debug("TLS handshake with {} failed: {}", peer_address_.to_string(), ec.message());
    return close();
  }
  buffer_.consume(used);
  read();
}

void HttpSession::read() {
  reading_ = true;
  parser_.emplace();
  parser_->header_limit(kMaxHeaderBytes);
  parser_->body_limit(kMaxBodyBytes);
  stream_.tcp().expires_after(kRequestTimeout);
  http::async_read(stream_, buffer_, *parser_,
                   beast::bind_front_handler(&HttpSession::on_read, shared_from_this()));
}

void HttpSession::on_read(beast::error_code ec, std::size_t) {
  reading_ = false;
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
  if (plain_on_tls_port_) {
    return send_text(http::status::bad_request,
                     "this port speaks HTTPS: use https:// with the same host and port\n", nullptr);
  }
  const Route route = parse_route(request.target());
  if (!context_->gate().required() || route.endpoint == Endpoint::health) {
    identity_ = access::Identity{"anonymous", access::Role::operator_};
    // /healthz proves nothing: a flood of connections asking it stays unproven.
    if (route.endpoint != Endpoint::health) proven();
    return dispatch(std::move(request), route);
  }
  authorize(std::move(request), route);
}

// Credentials first, before anything else is looked at: a client without them learns
// nothing, not even whether a path exists. The gate answers later (a password is checked on
// its worker thread); meanwhile this connection reads nothing more.
void HttpSession::authorize(Request request, const Route& route) {
  if (request.count(http::field::authorization) > 1) {
    return send_text(http::status::bad_request, "more than one Authorization header\n", nullptr);
  }
  auto pending = std::make_shared<std::pair<Request, Route>>(std::move(request), route);
  const std::string_view authorization = pending->first[http::field::authorization];
  std::optional<std::string_view> token;
  if (accepts_token(route.endpoint)) {
    token = query_parameter(pending->first.target(), "token");
  }
  context_->gate().check(peer_address_, authorization, token,
                         [self = shared_from_this(), pending](access::Gate::Decision decision) {
                           self->on_decision(std::move(pending->first), pending->second, decision);
                         });
}

void HttpSession::on_decision(Request request, const Route& route,
                              const access::Gate::Decision& decision) {
  using Outcome = access::Gate::Outcome;
  if (decision.outcome == Outcome::allowed) {
    identity_ = decision.identity;
    proven();
    return dispatch(std::move(request), route);
  }
  const auto retry_after = std::to_string(decision.retry_after.count());
  const bool last_chance = decision.outcome != Outcome::busy && ++refused_ >= kMaxRefusals;
  if (decision.outcome == Outcome::locked) {
    auto response = text_response(
        http::status::too_many_requests,
        "too many failed logins from this address: try again in " + retry_after + " s\n", &request);
    response->set(http::field::retry_after, retry_after);
    if (last_chance) response->keep_alive(false);
    return send(response);
  }
  if (decision.outcome == Outcome::busy) {
    auto response = text_response(http::status::service_unavailable,
                                  "too many logins being checked: try again\n", &request);
    response->set(http::field::retry_after, retry_after);
    return send(response);
  }
  // The same answer for a wrong password, an unknown user, a bad token or none at all.
  auto response = text_response(http::status::unauthorized,
                                "authentication required: log in as a user of --users, or add "
                                "?token= from /api/token\n",
                                &request);
  response->set(http::field::www_authenticate, R"(Basic realm="camstream", charset="UTF-8")");
  if (last_chance) response->keep_alive(false);
  send(response);
}

void HttpSession::dispatch(Request request, const Route& route) {
  if (route.endpoint == Endpoint::websocket && beast::websocket::is_upgrade(request) &&
      !route.bad_camera_name) {
    if (auto camera =
            route.camera.empty() ? context_->first_camera() : context_->camera(route.camera)) {
      return start_websocket(std::move(request), std::move(camera));
    }
  }
  if (request.method() != http::verb::get && request.method() != http::verb::head) {
    if (route.endpoint == Endpoint::not_found) {
      return send_text(http::status::not_found, "not found\n", &request);
    }
    auto response = text_response(http::status::method_not_allowed,
                                  "method not allowed: use GET or HEAD\n", &request);
    response->set(http::field::allow, "GET, HEAD");
    return send(response);
  }
  if (!route.error.empty()) {
    return send_text(http::status::bad_request, route.error + "\n", nullptr);
  }
  // Past the login: only now may an answer say whether a camera exists.
  if (route.bad_camera_name) {
    return send_text(http::status::not_found,
                     "not found: a camera name is 1 to 32 of a-z, 0-9, '_' and '-'\n", &request);
  }
  const auto camera =
      route.camera.empty() ? context_->first_camera() : context_->camera(route.camera);
  if (!camera) {
    // The name is repeated: it is only letters, digits, '_' and '-' (route.hpp).
    return send_text(http::status::not_found, "not found: no camera " + route.camera + "\n",
                     &request);
  }
  switch (route.endpoint) {
    case Endpoint::stream:
      return start_stream(request, route, camera);
    case Endpoint::snapshot:
      return snapshot(request, route, *camera);
    case Endpoint::page: {
      auto response = text_response(http::status::ok, std::string(web::index_html()), &request,
                                    "text/html; charset=utf-8");
      // Its Start and Stop buttons must not be clickjacked: only this server, and the
      // --allow-origin site (not "*", which is for reading the stream), may frame it.
      const std::string& origin = context_->settings().allow_origin;
      std::string ancestors = "frame-ancestors 'self'";
      if (!origin.empty() && origin != "*") ancestors += " " + origin;
      response->set("Content-Security-Policy", ancestors);
      response->set("X-Frame-Options", "SAMEORIGIN");
      return send(response);
    }
    case Endpoint::status:
      // /api/status has every camera; /cam/NAME/api/status that camera's alone.
      return send_text(http::status::ok,
                       (route.camera.empty() ? context_->status_json() : camera->status()) + "\n",
                       &request, "application/json");
    case Endpoint::metrics:
      return send_text(http::status::ok, context_->metrics(), &request,
                       "text/plain; version=0.0.4; charset=utf-8");
    case Endpoint::health:
      return send_text(http::status::ok, "ok\n", &request);
    case Endpoint::token:
      return send_token(request);
    case Endpoint::websocket:
      return send_text(http::status::upgrade_required,
                       "/ws is the control WebSocket: connect with a WebSocket client\n", &request);
    case Endpoint::not_found:
      break;
  }
  // The target is not repeated: an answer never echoes what a client sent.
  send_text(
      http::status::not_found,
      "not found\nendpoints: / /stream /snapshot /api/status /metrics /healthz /ws /cam/NAME/...\n",
      &request);
}

// GET /api/token?ttl=SECONDS&role=viewer: a signed token for the user who asked, at most of
// their role (docs/api.md, "Access control and TLS").
void HttpSession::send_token(const Request& request) {
  const std::string_view target = request.target();
  std::int64_t ttl = access::TokenSigner::kDefaultTtl;
  if (const auto text = query_parameter(target, "ttl")) {
    const auto parsed = access::parse_ttl(*text);
    if (!parsed) {
      return send_text(http::status::bad_request,
                       "ttl: a whole number of seconds in 60..31536000\n", &request);
    }
    ttl = *parsed;
  }
  access::Role role = identity_.role;
  if (const auto text = query_parameter(target, "role")) {
    const auto wanted = access::parse_role(*text);
    if (!wanted)
      return send_text(http::status::bad_request, "role: viewer or operator\n", &request);
    if (*wanted == access::Role::operator_ && identity_.role == access::Role::viewer) {
      return send_text(http::status::forbidden,
                       "not allowed: a viewer cannot make an operator's token\n", &request);
    }
    role = *wanted;
  }
  const std::int64_t expires = unix_now() + ttl;
  const std::string token = context_->gate().issue_token({identity_.user, role}, expires);
  boost::json::object answer;
  answer["token"] = token;
  answer["expires"] = expires;
  answer["role"] = access::to_string(role);
  send_text(http::status::ok, boost::json::serialize(answer) + "\n", &request, "application/json");
}

void HttpSession::start_stream(const Request& request, const Route& route,
                               const std::shared_ptr<CameraEndpoint>& camera) {
  if (request.method() == http::verb::head) {
    auto head =
        std::make_shared<std::string>(multipart::response_head(context_->settings().allow_origin));
    stream_.tcp().expires_after(kRequestTimeout);
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
  FeedChoice output = camera->find_feed(route.output);
  if (refuse_output(output, request)) return;
  handed_on_ = true;
  unproven_.reset();
  stream_.tcp().expires_never();
  // The target goes to the log: without the token.
  auto viewer = std::make_shared<MjpegViewer>(
      std::move(stream_), std::shared_ptr<ViewerHub>(camera), route,
      access::redact_target(request.target()), identity_, std::move(output.feed));
  connection_.reset();  // the viewer counts the connection from now on
  viewer->start();
}

void HttpSession::start_websocket(Request request, std::shared_ptr<CameraEndpoint> camera) {
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
  unproven_.reset();
  connection_.reset();  // the WebSocket counts the connection from now on
  std::make_shared<WsSession>(std::move(stream_), std::shared_ptr<Controller>(std::move(camera)),
                              identity_)
      ->run(request);
}

bool HttpSession::refuse_output(const FeedChoice& choice, const Request& request) {
  if (choice.status == 200) return false;
  if (choice.status == 503) spdlog::warn("refusing an output: {}", choice.error);
  auto response = text_response(
      choice.status == 400 ? http::status::bad_request : http::status::service_unavailable,
      choice.error + "\n", &request);
  if (choice.status == 503) response->set(http::field::retry_after, "5");
  send(response);
  return true;
}

void HttpSession::snapshot(const Request& request, const Route& route, CameraEndpoint& camera) {
  const bool head_only = request.method() == http::verb::head;
  const bool keep_alive = request.keep_alive();
  if (!route.output.empty()) {
    // Checked before the state, so that a bad size is a 400 whatever the capture does.
    FeedChoice output = camera.find_feed(route.output);
    if (refuse_output(output, request)) return;
    snapshot_.use_output(std::move(output.feed));
  }
  if (head_only) {
    if (const FramePtr latest = snapshot_.latest_for_head(camera)) {
      snapshot_.use_output(nullptr);
      return send_snapshot(latest, true, keep_alive);
    }
  }
  if (const auto refusal = snapshot_.refusal(camera)) {
    snapshot_.use_output(nullptr);
    auto response = text_response(http::status::service_unavailable, refusal->message, &request);
    if (refusal->retry_after) response->set(http::field::retry_after, *refusal->retry_after);
    return send(response);
  }
  // The waiter's pointer shares this session's ownership: its handlers keep the session.
  snapshot_.wait(std::shared_ptr<SnapshotWaiter>(shared_from_this(), &snapshot_), camera,
                 stream_.tcp().socket(), head_only, keep_alive);
}

void HttpSession::snapshot_ready(const FramePtr& frame, bool head_only, bool keep_alive) {
  send_snapshot(frame, head_only, keep_alive);
}

void HttpSession::snapshot_timed_out() {
  send_text(http::status::service_unavailable, "no frame from the camera within 5 s\n", nullptr);
}

void HttpSession::snapshot_abandoned() {
  close();
}

// Its output failed (Broadcaster::fail): say why rather than hang up.
void HttpSession::snapshot_output_failed() {
  send_text(http::status::service_unavailable,
            "this output cannot be made: the source's frames cannot be scaled (camera JPEGs, "
            "for now); /snapshot without a size works\n",
            nullptr);
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
  stream_.tcp().expires_after(kRequestTimeout);
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
  stream_.tcp().expires_after(kRequestTimeout);
  http::async_write(stream_, *response,
                    [self = shared_from_this(), response](beast::error_code ec, std::size_t) {
                      if (ec || !response->keep_alive()) return self->close();
                      self->read();
                    });
}

void HttpSession::proven() {
  unproven_.reset();
  refused_ = 0;
}

bool HttpSession::evict() {
  if (!evictable()) return false;
  spdlog::debug(
      "closing an unauthenticated connection from {} that sent no request: room for a "
      "new one",
      peer_address_.to_string());
  unproven_.reset();
  connection_.reset();
  close();
  return true;
}

bool HttpSession::close_if_idle() {
  if (!idle()) return false;
  spdlog::debug("--max-connections reached: closing an idle connection from {}",
                peer_address_.to_string());
  unproven_.reset();
  connection_.reset();
  close();
  return true;
}

// A snapshot waiting for a frame for a credential that no longer holds gets none.
void HttpSession::recheck_access(const access::Gate& gate) {
  if (!snapshot_.waiting() || gate.recheck(identity_)) return;
  snapshot_.stop();
  close();
}

void HttpSession::close_for_shutdown() {
  if (handed_on_) return;
  if (snapshot_.waiting()) snapshot_.stop();
  stream_.tcp().cancel();
  close();
}

void HttpSession::close() {
  if (handed_on_) return;
  beast::error_code ignored;
  stream_.tcp().socket().shutdown(asio::ip::tcp::socket::shutdown_send, ignored);
  stream_.tcp().close();
}

}  // namespace camstream
