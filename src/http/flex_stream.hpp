// A connection that speaks plain TCP or TLS, decided when it is accepted. It forwards the
// asynchronous read and write calls to the one it holds, so Beast's HTTP parser, the MJPEG
// viewer's gathered writes and websocket::stream work over both without being templates.
#pragma once

#include <boost/asio/ssl/context.hpp>
#include <boost/beast/core/tcp_stream.hpp>
#include <boost/beast/ssl/ssl_stream.hpp>
#include <boost/beast/websocket/ssl.hpp>
#include <boost/beast/websocket/teardown.hpp>
#include <memory>
#include <optional>
#include <utility>

namespace camstream {

class FlexStream {
 public:
  using executor_type = boost::beast::tcp_stream::executor_type;
  using TlsStream = boost::beast::ssl_stream<boost::beast::tcp_stream>;

  explicit FlexStream(boost::beast::tcp_stream plain) : plain_(std::move(plain)) {}
  // TLS with this context, kept alive as long as the connection (a reload makes a new one).
  FlexStream(boost::beast::tcp_stream plain, std::shared_ptr<boost::asio::ssl::context> context)
      : context_(std::move(context)), tls_(std::in_place, std::move(plain), *context_) {}

  // Turns the plain connection into TLS with this context (its first byte said so).
  void start_tls(std::shared_ptr<boost::asio::ssl::context> context) {
    context_ = std::move(context);
    tls_.emplace(std::move(*plain_), *context_);
    plain_.reset();
  }

  bool is_tls() const { return tls_.has_value(); }
  TlsStream& tls() { return *tls_; }
  // The TCP connection underneath (socket options, timeouts, the peer's address).
  boost::beast::tcp_stream& tcp() { return tls_ ? tls_->next_layer() : *plain_; }
  executor_type get_executor() { return tcp().get_executor(); }

  template <typename MutableBuffers, typename Handler>
  void async_read_some(const MutableBuffers& buffers, Handler&& handler) {
    if (tls_) {
      tls_->async_read_some(buffers, std::forward<Handler>(handler));
    } else {
      plain_->async_read_some(buffers, std::forward<Handler>(handler));
    }
  }

  template <typename ConstBuffers, typename Handler>
  void async_write_some(const ConstBuffers& buffers, Handler&& handler) {
    if (tls_) {
      tls_->async_write_some(buffers, std::forward<Handler>(handler));
    } else {
      plain_->async_write_some(buffers, std::forward<Handler>(handler));
    }
  }

  // Beast's close_socket() (websocket timeouts) finds this by argument-dependent lookup.
  friend void beast_close_socket(FlexStream& stream) { boost::beast::close_socket(stream.tcp()); }

  // The websocket closing handshake ends with these (TLS: close_notify, then the socket).
  friend void teardown(boost::beast::role_type role, FlexStream& stream,
                       boost::beast::error_code& ec) {
    using boost::beast::websocket::teardown;
    if (stream.tls_) {
      teardown(role, *stream.tls_, ec);
    } else {
      teardown(role, stream.plain_->socket(), ec);
    }
  }

  template <typename Handler>
  friend void async_teardown(boost::beast::role_type role, FlexStream& stream, Handler&& handler) {
    using boost::beast::websocket::async_teardown;
    if (stream.tls_) {
      async_teardown(role, *stream.tls_, std::forward<Handler>(handler));
    } else {
      async_teardown(role, stream.plain_->socket(), std::forward<Handler>(handler));
    }
  }

 private:
  std::shared_ptr<boost::asio::ssl::context> context_;
  std::optional<boost::beast::tcp_stream> plain_;
  std::optional<TlsStream> tls_;
};

}  // namespace camstream
