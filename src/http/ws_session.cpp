#include "ws_session.hpp"

#include <spdlog/spdlog.h>

#include <boost/beast/core/buffers_to_string.hpp>
#include <boost/json.hpp>

#include "control_message.hpp"

namespace camstream {

namespace beast = boost::beast;
namespace websocket = beast::websocket;
namespace json = boost::json;

WsSession::WsSession(FlexStream stream, std::shared_ptr<Controller> controller,
                     access::Identity identity)
    : ws_(std::move(stream)),
      identity_(std::move(identity)),
      role_(identity_.role),
      expiry_(ws_.get_executor()),
      controller_(std::move(controller)) {
  boost::system::error_code ec;
  const auto endpoint = ws_.next_layer().tcp().socket().remote_endpoint(ec);
  peer_ = ec ? "?" : endpoint.address().to_string() + ":" + std::to_string(endpoint.port());
}

WsSession::~WsSession() = default;

void WsSession::run(const beast::http::request<beast::http::string_body>& request) {
  connection_ = controller_->connections().join(weak_from_this());
  ws_.next_layer().tcp().expires_never();
  ws_.set_option(websocket::stream_base::timeout::suggested(beast::role_type::server));
  // Any size is read (in pieces, see read()) so an oversized message gets an error reply.
  ws_.read_message_max(0);
  ws_.set_option(websocket::stream_base::decorator(
      [](websocket::response_type& response) { response.set("Server", "camstream"); }));
  ws_.async_accept(request, [self = shared_from_this()](beast::error_code ec) {
    if (ec) return;
    if (self->controller_->shutting_down()) return self->close_for_shutdown();
    self->open_ = true;
    self->control_client_ = self->controller_->add_control_client(self->weak_from_this());
    spdlog::info("control client {} connected ({} control clients)", self->peer_,
                 self->controller_->control_clients());
    // The new client sees its own count in the status everyone gets.
    self->controller_->announce_status();
    if (self->identity_.expires > 0) {
      self->expiry_.expires_at(
          std::chrono::system_clock::time_point(std::chrono::seconds(self->identity_.expires)));
      self->expiry_.async_wait([self](beast::error_code timer_ec) {
        if (timer_ec) return;
        spdlog::info("control client {}: its token expired: closing", self->peer_);
        self->end(websocket::close_code::policy_error);
      });
    }
    self->read();
  });
}

// Reads a message piece by piece: past kMaxMessage the bytes are counted and dropped, so a
// huge message costs no memory and still gets an error reply, and the connection stays.
void WsSession::read() {
  ws_.async_read_some(buffer_, kMaxMessage + 1,
                      [self = shared_from_this()](beast::error_code ec, std::size_t) {
                        if (ec) return self->drop();
                        self->on_piece();
                      });
}

void WsSession::on_piece() {
  if (buffer_.size() > kMaxMessage) {
    dropped_bytes_ += buffer_.size();
    buffer_.consume(buffer_.size());
  }
  if (!ws_.is_message_done()) return read();
  const std::string text = beast::buffers_to_string(buffer_.data());
  const std::size_t size = dropped_bytes_ + text.size();
  buffer_.consume(buffer_.size());
  dropped_bytes_ = 0;
  if (!ws_.got_text()) {
    send_error("binary messages are not supported; send JSON text");
  } else if (size > kMaxMessage) {
    send_error("message too large: " + std::to_string(size) + " bytes, the limit is " +
               std::to_string(kMaxMessage));
  } else {
    handle(text);
  }
  read();
}

void WsSession::handle(std::string_view text) {
  const ControlMessage message = parse_control_message(text);
  if (message.steers && role_ == access::Role::viewer) return send_error("not allowed");
  if (!message.type) return send_error(message.error);
  switch (*message.type) {
    case ControlCommand::start:
      if (!start_demand_) start_demand_ = controller_->hold_demand();
      controller_->start();
      return;
    case ControlCommand::stop:
      if (!controller_->stop()) {
        send_error("stop refused: capture is always on (--always-on)");
      }
      return;
    case ControlCommand::status:
      return send_status(std::make_shared<const std::string>(controller_->status()));
    case ControlCommand::controls:
      return send(std::make_shared<const std::string>(controller_->controls_message()));
    case ControlCommand::set:
      if (const auto error = controller_->set_controls(message.controls)) {
        return send_error(error->message());
      }
      send(std::make_shared<const std::string>(controller_->controls_message()));
      return controller_->announce_status();
    case ControlCommand::configure: {
      LiveSettings next = controller_->live_settings();
      for (const auto& [row, value] : message.settings) row->set(next, value);
      // Applied before the next message is read: one reconfiguration at a time.
      if (const std::string error = controller_->configure(next); !error.empty()) {
        return send_error("configure refused: " + error);
      }
      return controller_->announce_status();
    }
  }
}

void WsSession::send_error(std::string_view message) {
  json::object error;
  error["type"] = "error";
  error["message"] = message;
  send(std::make_shared<const std::string>(json::serialize(error)));
}

void WsSession::send(std::shared_ptr<const std::string> text) {
  if (!open_ || closing_) return;
  if (queue_.size() >= kMaxQueued) {
    spdlog::warn("control client {} reads nothing: dropped", peer_);
    return drop();
  }
  queue_.push_back(std::move(text));
  if (!writing_) write_next();
}

void WsSession::send_status(std::shared_ptr<const std::string> text) {
  if (queued_status_) {
    // The message being written stays at the front until its write completes.
    const auto unsent = queue_.begin() + (writing_ ? 1 : 0);
    if (const auto stale = std::find(unsent, queue_.end(), queued_status_); stale != queue_.end()) {
      queue_.erase(stale);
    }
  }
  queued_status_ = text;
  send(std::move(text));
}

void WsSession::write_next() {
  if (queue_.empty()) {
    if (closing_) {
      ws_.async_close(close_code_,
                      [self = shared_from_this()](beast::error_code) { self->drop(); });
    }
    return;
  }
  writing_ = true;
  ws_.text(true);
  ws_.async_write(boost::asio::buffer(*queue_.front()),
                  [self = shared_from_this()](beast::error_code ec, std::size_t) {
                    self->writing_ = false;
                    self->queue_.pop_front();
                    if (ec) return self->drop();
                    self->write_next();
                  });
}

void WsSession::recheck_access(const access::Gate& gate) {
  if (closing_) return;
  const auto role = gate.recheck(identity_);
  if (!role) {
    spdlog::info("control client {}: its credential no longer holds: closing", peer_);
    return end(websocket::close_code::policy_error);
  }
  if (*role == access::Role::viewer && role_ != access::Role::viewer) {
    spdlog::info("control client {}: no longer an operator", peer_);
    start_demand_.reset();  // its start ends with its right to start
  }
  role_ = *role;
}

void WsSession::close_for_shutdown() {
  end(websocket::close_code::going_away);
}

void WsSession::end(websocket::close_code code) {
  if (closing_) return;
  closing_ = true;
  close_code_ = code;
  expiry_.cancel();
  start_demand_.reset();
  if (!open_) return drop();
  // The message being written stays at the front until its write completes.
  queue_.erase(writing_ ? queue_.begin() + 1 : queue_.begin(), queue_.end());
  if (!writing_) write_next();
}

void WsSession::drop() {
  start_demand_.reset();
  expiry_.cancel();
  if (open_) {
    open_ = false;
    control_client_.reset();
    spdlog::info("control client {} disconnected", peer_);
    // Later, not now: drop() may run inside a broadcast, which must reach every other client
    // in order.
    controller_->announce_status();
  }
  connection_.reset();
  boost::system::error_code ignored;
  ws_.next_layer().tcp().socket().close(ignored);
}

}  // namespace camstream
