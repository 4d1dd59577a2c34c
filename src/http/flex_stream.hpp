// A connection that speaks plain TCP or TLS, decided when it is accepted. It forwards the
// asynchronous read and write calls to the one it holds, so Beast's HTTP parser, the MJPEG
// viewer's gathered writes and websocket::stream work over both without being templates.
//
// Reads and writes are type-erased (flex_stream.cpp): every composed operation of Beast and
// Asio that reads or writes a FlexStream would otherwise instantiate both the TCP and the TLS
// operation for its own handler type. Erased, the TLS state machine is compiled once, which
// more than halves the build time of the sessions (docs/performance.md, "CI time"). The
// websocket teardown is not (Boost 1.81's erased handler cannot be posted), but it is
// instantiated once, by WsSession.
//
// The one exception is the stream viewer's writes, the hot path of the fan-out: an erased
// handler costs an allocation per write (docs/performance.md, "The fan-out lost and got
// back"). The viewer writes a frame with write_now() (one sendmsg, or OpenSSL's records written
// straight into the socket) and waits for writability only when the socket is full; its head
// and closing delimiter go through async_write_all(), which is not erased either.
#pragma once

#include <array>
#include <boost/asio/any_completion_handler.hpp>
#include <boost/asio/associated_executor.hpp>
#include <boost/asio/buffer.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/ssl/context.hpp>
#include <boost/asio/write.hpp>
#include <boost/beast/core/tcp_stream.hpp>
#include <boost/beast/ssl/ssl_stream.hpp>
#include <boost/beast/websocket/ssl.hpp>
#include <boost/beast/websocket/teardown.hpp>
#include <cstddef>
#include <memory>
#include <optional>
#include <span>
#include <utility>

namespace camstream {

// The first buffers of a buffer sequence, by value: what a read_some or write_some may use (it
// may transfer less than the whole sequence; the composed operations above continue).
template <typename Buffer>
class BufferPrefix {
 public:
  static constexpr std::size_t kMaxBuffers = 16;
  using value_type = Buffer;
  using const_iterator = const Buffer*;

  template <typename Sequence>
  explicit BufferPrefix(const Sequence& sequence) {
    auto it = boost::asio::buffer_sequence_begin(sequence);
    const auto end = boost::asio::buffer_sequence_end(sequence);
    for (; it != end && count_ < kMaxBuffers; ++it) {
      const Buffer buffer(*it);
      if (buffer.size() != 0) buffers_[count_++] = buffer;
    }
  }

  const Buffer* begin() const { return buffers_.data(); }
  const Buffer* end() const { return buffers_.data() + count_; }

 private:
  std::array<Buffer, kMaxBuffers> buffers_{};
  std::size_t count_ = 0;
};

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

  using TransferHandler =
      boost::asio::any_completion_handler<void(boost::beast::error_code, std::size_t)>;

  template <typename MutableBuffers, typename Handler>
  void async_read_some(const MutableBuffers& buffers, Handler&& handler) {
    const executor_type executor = boost::asio::get_associated_executor(handler, get_executor());
    read_some(BufferPrefix<boost::asio::mutable_buffer>(buffers), executor,
              TransferHandler(std::forward<Handler>(handler)));
  }

  template <typename ConstBuffers, typename Handler>
  void async_write_some(const ConstBuffers& buffers, Handler&& handler) {
    const executor_type executor = boost::asio::get_associated_executor(handler, get_executor());
    write_some(BufferPrefix<boost::asio::const_buffer>(buffers), executor,
               TransferHandler(std::forward<Handler>(handler)));
  }

  // For a connection that from now on only writes what write_now() and async_write_all() send
  // (the stream viewer), once no write is in flight. Plain: the socket is made non-blocking.
  // TLS, once the handshake is done: OpenSSL's records go straight to the socket (a BIO of our
  // own on its descriptor) instead of through Asio's memory BIO pair, which copies every record
  // once more and writes it with a composed operation of its own. Reads keep the memory BIO
  // (Asio's read operation and whatever it has buffered stay valid). False, and nothing
  // changed, if the connection cannot switch (handshake unfinished, output not yet sent).
  bool use_direct_writes();
  bool direct_writes() const { return direct_writes_; }

  // After use_direct_writes(): writes what the socket takes now, without an Asio operation,
  // of the buffers from `skip` bytes on (plain: sendmsg; TLS: whole records). Returns the bytes
  // written; ec is would_block when the socket takes no more.
  std::size_t write_now(std::span<const boost::asio::const_buffer> buffers, std::size_t skip,
                        boost::beast::error_code& ec);
  // Calls handler(error_code) once the socket can take more (or is closed).
  template <typename Handler>
  void async_wait_writable(Handler&& handler) {
    tcp().socket().async_wait(boost::asio::socket_base::wait_write, std::forward<Handler>(handler));
  }

  // Writes every byte of the buffers, then calls handler(error_code, bytes written), never from
  // inside this call. The stream viewer's write of a part: no allocation per call.
  template <std::size_t N, typename Handler>
  void async_write_all(const std::array<boost::asio::const_buffer, N>& buffers, Handler&& handler) {
    if (!tls_) {
      // Straight to the socket: a viewer's connection has no timeout (its stall check is its
      // own), so tcp_stream's timer machinery would only cost.
      boost::asio::async_write(plain_->socket(), buffers, std::forward<Handler>(handler));
    } else if (direct_writes_) {
      SocketWriteOp<N, std::decay_t<Handler>>{this, buffers, std::forward<Handler>(handler)}
          .start();
    } else {
      boost::asio::async_write(*this, buffers, std::forward<Handler>(handler));
    }
  }

  // Shuts the connection down and closes it; write_now() then fails with EBADF, as before the
  // socket was ever open, and never writes to a descriptor the kernel has handed out again.
  void close() {
    plain_fd_ = -1;
    boost::system::error_code ignored;
    tcp().socket().shutdown(boost::asio::ip::tcp::socket::shutdown_both, ignored);
    tcp().socket().close(ignored);
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
  // What one call of write_records() came to.
  enum class WriteStep { done, would_block, failed };
  // Writes TLS records of buffers from (*index, *offset) on to the socket until all is written,
  // the socket takes no more or an error; advances the position and *total.
  WriteStep write_records(std::span<const boost::asio::const_buffer> buffers, std::size_t& index,
                          std::size_t& offset, std::size_t& total, boost::beast::error_code& ec);

  // async_write_all over TLS with direct writes: OpenSSL encrypts from the caller's buffers
  // (the cipher's copy is the only one) and writes whole records; when the socket is full it
  // waits for it to be writable again. The operation lives in the wait's handler (Asio
  // recycles that memory), so a write allocates nothing.
  template <std::size_t N, typename Handler>
  struct SocketWriteOp {
    FlexStream* stream;
    std::array<boost::asio::const_buffer, N> buffers;
    Handler handler;
    std::size_t index = 0;
    std::size_t offset = 0;
    std::size_t total = 0;

    void start() { step(/*first=*/true); }
    void operator()(boost::beast::error_code ec) {
      if (ec) return complete(ec, false);
      step(false);
    }
    void step(bool first) {
      boost::beast::error_code ec;
      switch (stream->write_records(buffers, index, offset, total, ec)) {
        case WriteStep::would_block: {
          auto& socket = stream->tcp().socket();
          socket.async_wait(boost::asio::socket_base::wait_write, std::move(*this));
          return;
        }
        case WriteStep::done:
        case WriteStep::failed:
          return complete(ec, first);
      }
    }
    void complete(boost::beast::error_code ec, bool first) {
      if (!first) return std::move(handler)(ec, total);
      // Never complete inside the initiating call (the broadcaster offers a frame to every
      // viewer in one loop, and a viewer writes its next part from its completion).
      auto executor = boost::asio::get_associated_executor(handler, stream->get_executor());
      boost::asio::post(executor, [handler = std::move(handler), ec, total = total]() mutable {
        std::move(handler)(ec, total);
      });
    }
  };

  // The handler's own executor travels beside it: Boost 1.81's erased handler offers an executor
  // that the TLS operations cannot post to.
  void read_some(BufferPrefix<boost::asio::mutable_buffer> buffers, const executor_type& executor,
                 TransferHandler handler);
  void write_some(BufferPrefix<boost::asio::const_buffer> buffers, const executor_type& executor,
                  TransferHandler handler);

  std::shared_ptr<boost::asio::ssl::context> context_;
  std::optional<boost::beast::tcp_stream> plain_;
  std::optional<TlsStream> tls_;
  bool direct_writes_ = false;
  // Plain direct writes: the socket's descriptor, kept here because tcp_stream holds its socket
  // in a separate allocation, a cache miss per viewer and frame at 1000 viewers.
  int plain_fd_ = -1;
};

}  // namespace camstream
