// The one place the TCP and TLS read and write operations are instantiated (flex_stream.hpp
// says why).
#include "flex_stream.hpp"

#include <netinet/in.h>
#include <netinet/tcp.h>
#include <openssl/bio.h>
#include <openssl/err.h>
#include <openssl/ssl.h>
#include <sys/socket.h>
#include <sys/uio.h>

#include <array>
#include <boost/asio/bind_executor.hpp>
#include <boost/asio/error.hpp>
#include <boost/asio/ssl/error.hpp>
#include <cerrno>
#include <memory>

namespace camstream {

namespace {

// A socket BIO of our own, not OpenSSL's: it sends with MSG_NOSIGNAL (a viewer that left must
// not raise SIGPIPE) and with MSG_MORE while the part has more records to come, so the records
// of one part leave as few TCP segments as plain HTTP's one writev (each segment costs the
// sender a trip through the loopback's receive path).
struct SendState {
  int fd;
  bool more = false;
};

int send_write(BIO* bio, const char* data, std::size_t size, std::size_t* written) {
  const auto* state = static_cast<const SendState*>(BIO_get_data(bio));
  BIO_clear_retry_flags(bio);
  const ssize_t sent = ::send(state->fd, data, size, MSG_NOSIGNAL | (state->more ? MSG_MORE : 0));
  if (sent >= 0) {
    *written = static_cast<std::size_t>(sent);
    return 1;
  }
  if (errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR) BIO_set_retry_write(bio);
  return 0;
}

long send_ctrl(BIO*, int command, long, void*) {
  return command == BIO_CTRL_FLUSH ? 1 : 0;
}

int send_create(BIO* bio) {
  BIO_set_init(bio, 1);
  return 1;
}

// The BIO owns its state from BIO_set_data on (use_direct_writes) and frees it with itself.
int send_destroy(BIO* bio) {
  const std::unique_ptr<SendState> owned(static_cast<SendState*>(BIO_get_data(bio)));
  BIO_set_data(bio, nullptr);
  return 1;
}

const BIO_METHOD* send_method() {
  static BIO_METHOD* const method = [] {
    BIO_METHOD* made =
        BIO_meth_new(BIO_get_new_index() | BIO_TYPE_SOURCE_SINK, "camstream socket writes");
    if (made != nullptr) {
      BIO_meth_set_write_ex(made, send_write);
      BIO_meth_set_ctrl(made, send_ctrl);
      BIO_meth_set_create(made, send_create);
      BIO_meth_set_destroy(made, send_destroy);
    }
    return made;
  }();
  return method;
}

// The most plaintext one TLS record carries.
constexpr std::size_t kMaxRecordPlaintext = std::size_t{16} * 1024;

}  // namespace

void FlexStream::read_some(BufferPrefix<boost::asio::mutable_buffer> buffers,
                           const executor_type& executor, TransferHandler handler) {
  auto bound = boost::asio::bind_executor(executor, std::move(handler));
  if (tls_) {
    tls_->async_read_some(buffers, std::move(bound));
  } else {
    plain_->async_read_some(buffers, std::move(bound));
  }
}

void FlexStream::write_some(BufferPrefix<boost::asio::const_buffer> buffers,
                            const executor_type& executor, TransferHandler handler) {
  auto bound = boost::asio::bind_executor(executor, std::move(handler));
  if (tls_) {
    tls_->async_write_some(buffers, std::move(bound));
  } else {
    plain_->async_write_some(buffers, std::move(bound));
  }
}

bool FlexStream::use_direct_writes() {
  if (direct_writes_) return true;
  auto& socket = tcp().socket();
  if (!tls_) {
    boost::system::error_code ec;
    socket.native_non_blocking(true, ec);  // write_now() must never block the I/O thread
    direct_writes_ = !ec;
    if (direct_writes_) plain_fd_ = socket.native_handle();
    return direct_writes_;
  }
  SSL* ssl = tls_->native_handle();
  // Asio's engine gave SSL one end of a BIO pair for both directions. Whatever SSL wrote there
  // (handshake, session tickets, the last response) must have been sent: Asio sends it before
  // an operation completes, and the caller has none in flight that writes.
  BIO* pair = SSL_get_wbio(ssl);
  if (!SSL_is_init_finished(ssl) || pair == nullptr || pair != SSL_get_rbio(ssl) ||
      BIO_ctrl_wpending(pair) != 0 || !socket.is_open()) {
    return false;
  }
  boost::system::error_code ec;
  socket.native_non_blocking(true, ec);  // OpenSSL's writes must never block the I/O thread
  if (ec) return false;
  BIO* direct = send_method() != nullptr ? BIO_new(send_method()) : nullptr;
  if (direct == nullptr) {
    ERR_clear_error();
    return false;
  }
  BIO_set_data(direct, std::make_unique<SendState>(SendState{socket.native_handle()}).release());
  // SSL holds two references to the pair (read and write); this drops the write one and keeps
  // the pair for reads, so Asio's read operation, and what it has read but SSL not yet, stay.
  SSL_set0_wbio(ssl, direct);
  direct_writes_ = true;
  return true;
}

std::size_t FlexStream::write_now(std::span<const boost::asio::const_buffer> buffers,
                                  std::size_t skip, boost::beast::error_code& ec) {
  ec = {};
  std::size_t index = 0;
  while (index < buffers.size() && skip >= buffers[index].size()) skip -= buffers[index++].size();
  std::size_t total = 0;
  if (tls_) {
    if (write_records(buffers, index, skip, total, ec) == WriteStep::would_block) {
      ec = boost::asio::error::would_block;
    }
    return total;
  }
  const int fd = plain_fd_;
  while (index < buffers.size()) {
    std::array<iovec, 16> vectors{};
    std::size_t count = 0;
    for (std::size_t i = index; i < buffers.size() && count < vectors.size(); ++i) {
      const std::size_t from = i == index ? skip : 0;
      if (buffers[i].size() == from) continue;
      vectors[count].iov_base =
          const_cast<char*>(static_cast<const char*>(buffers[i].data())) + from;
      vectors[count].iov_len = buffers[i].size() - from;
      ++count;
    }
    if (count == 0) break;
    msghdr message{};
    message.msg_iov = vectors.data();
    message.msg_iovlen = count;
    const ssize_t sent = ::sendmsg(fd, &message, MSG_NOSIGNAL);
    if (sent < 0) {
      if (errno == EINTR) continue;
      ec = errno == EAGAIN || errno == EWOULDBLOCK
               ? boost::beast::error_code(boost::asio::error::would_block)
               : boost::beast::error_code(errno, boost::system::system_category());
      return total;
    }
    total += static_cast<std::size_t>(sent);
    skip += static_cast<std::size_t>(sent);
    while (index < buffers.size() && skip >= buffers[index].size()) {
      skip -= buffers[index++].size();
    }
  }
  return total;
}

FlexStream::WriteStep FlexStream::write_records(std::span<const boost::asio::const_buffer> buffers,
                                                std::size_t& index, std::size_t& offset,
                                                std::size_t& total, boost::beast::error_code& ec) {
  SSL* ssl = tls_->native_handle();
  auto* state = static_cast<SendState*>(BIO_get_data(SSL_get_wbio(ssl)));
  // SSL_get_error() reads the queue: empty before the first call, and after each failure.
  ERR_clear_error();
  while (index < buffers.size()) {
    const auto& buffer = buffers[index];
    if (offset == buffer.size()) {
      ++index;
      offset = 0;
      continue;
    }
    // With SSL_MODE_ENABLE_PARTIAL_WRITE (Asio sets it) this returns after each record of up
    // to 16 KiB, encrypted from the caller's memory into SSL's record buffer and written with
    // one send. After SSL_ERROR_WANT_WRITE the same call is repeated with the same bytes.
    // MSG_MORE unless this record is the part's last.
    bool later = false;
    for (std::size_t next = index + 1; next < buffers.size() && !later; ++next) {
      later = buffers[next].size() != 0;
    }
    state->more = later || buffer.size() - offset > kMaxRecordPlaintext;
    errno = 0;
    std::size_t written = 0;
    const int result = SSL_write_ex(ssl, static_cast<const char*>(buffer.data()) + offset,
                                    buffer.size() - offset, &written);
    const int error_number = errno;
    if (result == 1) {
      offset += written;
      total += written;
      continue;
    }
    switch (SSL_get_error(ssl, result)) {
      case SSL_ERROR_WANT_WRITE:
        if (state->more) {
          // Records held back by MSG_MORE count as unsent (TCP_NOTSENT_LOWAT): push them out
          // now, or the socket might never read as writable again.
          const int on = 1;
          ::setsockopt(state->fd, IPPROTO_TCP, TCP_NODELAY, &on, sizeof on);
        }
        return WriteStep::would_block;
      case SSL_ERROR_SYSCALL:
        ec = error_number != 0
                 ? boost::beast::error_code(error_number, boost::system::system_category())
                 : boost::beast::error_code(boost::asio::error::eof);
        break;
      case SSL_ERROR_SSL:
        ec = boost::beast::error_code(static_cast<int>(ERR_get_error()),
                                      boost::asio::error::get_ssl_category());
        break;
      default:  // WANT_READ and the like: a renegotiation we do not offer (tls.cpp)
        ec = boost::asio::ssl::error::unspecified_system_error;
        break;
    }
    ERR_clear_error();
    return WriteStep::failed;
  }
  return WriteStep::done;
}

}  // namespace camstream
