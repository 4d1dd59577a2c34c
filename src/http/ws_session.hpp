// One control WebSocket client (docs/api.md, "Control WebSocket").
#pragma once

#include <algorithm>
#include <boost/asio/system_timer.hpp>
#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/core/tcp_stream.hpp>
#include <boost/beast/http/message.hpp>
#include <boost/beast/http/string_body.hpp>
#include <boost/beast/websocket/stream.hpp>
#include <deque>
#include <memory>
#include <string>

#include "camstream/access/identity.hpp"
#include "context.hpp"
#include "flex_stream.hpp"

namespace camstream {

class WsSession : public Connection, public std::enable_shared_from_this<WsSession> {
 public:
  static constexpr std::size_t kMaxMessage = 4096;
  static constexpr std::size_t kMaxQueued = 32;  // a client that reads nothing is dropped

  // A viewer (access::Role::viewer) may ask for status but not start, stop, set or configure.
  // The session ends with a close frame when the identity's credential no longer holds after
  // a reload, or when its token expires.
  WsSession(FlexStream stream, std::shared_ptr<Controller> controller, access::Identity identity);
  ~WsSession() override;

  void run(const boost::beast::http::request<boost::beast::http::string_body>& request);
  void send(std::shared_ptr<const std::string> text);
  // A status is a snapshot: one still waiting in this client's queue is replaced (the newer
  // goes to the back), so a flood of changes cannot fill the queue with stale statuses.
  void send_status(std::shared_ptr<const std::string> text);
  void release_start() { start_demand_.reset(); }
  void close_for_shutdown() override;
  void recheck_access(const access::Gate& gate) override;

 private:
  void read();
  void on_piece();
  void handle(std::string_view text);
  void send_error(std::string_view message);
  void write_next();
  void drop();
  // Sends what is being written, then a close frame with `code`, then closes.
  void end(boost::beast::websocket::close_code code);

  boost::beast::websocket::stream<FlexStream> ws_;
  access::Identity identity_;
  access::Role role_;
  boost::asio::system_timer expiry_;  // a token's end
  boost::beast::websocket::close_code close_code_ = boost::beast::websocket::close_code::going_away;
  std::shared_ptr<Controller> controller_;
  ConnectionRegistry::Membership connection_;
  Registry<WsSession>::Membership control_client_;
  boost::beast::flat_buffer buffer_;
  std::deque<std::shared_ptr<const std::string>> queue_;
  std::shared_ptr<const std::string> queued_status_;  // the last status queued
  DemandToken start_demand_;
  std::string peer_;
  std::size_t dropped_bytes_ = 0;  // of the message being read, past kMaxMessage
  bool open_ = false;
  bool writing_ = false;
  bool closing_ = false;
};

}  // namespace camstream
