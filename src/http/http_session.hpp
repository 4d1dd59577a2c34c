// One HTTP connection: reads requests and answers them, or hands the socket on to a stream
// viewer or a control WebSocket.
#pragma once

#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/core/tcp_stream.hpp>
#include <boost/beast/http/parser.hpp>
#include <boost/beast/http/string_body.hpp>
#include <memory>
#include <optional>

#include "camstream/access/gate.hpp"
#include "camstream/access/identity.hpp"
#include "context.hpp"
#include "flex_stream.hpp"
#include "route.hpp"
#include "snapshot_waiter.hpp"

namespace camstream {

class HttpSession : public Connection,
                    private SnapshotWaiter::Client,
                    public std::enable_shared_from_this<HttpSession> {
 public:
  static constexpr std::size_t kMaxHeaderBytes = std::size_t{8} * 1024;
  static constexpr std::size_t kMaxBodyBytes = std::size_t{64} * 1024;

  HttpSession(boost::asio::ip::tcp::socket socket, std::shared_ptr<Server::Context> context);
  void run();
  void close_for_shutdown() override;
  void recheck_access(const access::Gate& gate) override;
  // Still waiting for its first allowed request, and for request bytes now (not for a
  // password check): closing it loses no answer. evict() closes it if so.
  bool evictable() const { return unproven_ && reading_; }
  bool evict();
  bool idle() const override { return reading_ && !handed_on_; }
  bool close_if_idle() override;

 private:
  using Request = boost::beast::http::request<boost::beast::http::string_body>;

  void detect_tls();
  void on_detect_tls(boost::beast::error_code ec, bool tls);
  void on_handshake(boost::beast::error_code ec, std::size_t used);
  void read();
  void on_read(boost::beast::error_code ec, std::size_t bytes);
  void handle(Request request);
  void authorize(Request request, const Route& route);
  void on_decision(Request request, const Route& route, const access::Gate::Decision& decision);
  void dispatch(Request request, const Route& route);
  void send_token(const Request& request);
  void start_stream(const Request& request, const Route& route,
                    const std::shared_ptr<CameraEndpoint>& camera);
  void start_websocket(Request request, std::shared_ptr<CameraEndpoint> camera);
  void snapshot(const Request& request, const Route& route, CameraEndpoint& camera);
  // Answers a refused output choice; false when there is none to answer.
  bool refuse_output(const FeedChoice& choice, const Request& request);
  // SnapshotWaiter::Client
  void snapshot_ready(const FramePtr& frame, bool head_only, bool keep_alive) override;
  void snapshot_timed_out() override;
  void snapshot_abandoned() override;
  void snapshot_output_failed() override;
  void send_snapshot(const FramePtr& frame, bool head_only, bool keep_alive);
  std::shared_ptr<boost::beast::http::response<boost::beast::http::string_body>> text_response(
      boost::beast::http::status status, std::string body, const Request* request,
      std::string_view content_type = "text/plain; charset=utf-8");
  void send_text(boost::beast::http::status status, std::string body, const Request* request,
                 std::string_view content_type = "text/plain; charset=utf-8");
  template <typename Response>
  void send(std::shared_ptr<Response> response);
  void close();
  void proven();

  FlexStream stream_;
  boost::asio::ip::address peer_address_;
  access::Identity identity_;  // who sent the request being answered
  boost::beast::flat_buffer buffer_;
  std::optional<boost::beast::http::request_parser<boost::beast::http::string_body>> parser_;
  std::shared_ptr<Server::Context> context_;
  ConnectionRegistry::Membership connection_;
  Registry<HttpSession>::Membership unproven_;  // until a request is allowed
  SnapshotWaiter snapshot_;
  bool handed_on_ = false;
  bool plain_on_tls_port_ = false;  // an http:// request to the https:// port
  bool reading_ = false;            // waiting for a request (or the TLS handshake)
  int refused_ = 0;                 // 401 and 429 answers on this connection
};

}  // namespace camstream
