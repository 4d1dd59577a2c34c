// The one place the TCP and TLS read and write operations are instantiated (flex_stream.hpp
// says why).
#include "flex_stream.hpp"

#include <boost/asio/bind_executor.hpp>

namespace camstream {

void FlexStream::read_some(BufferPrefix<boost::asio::mutable_buffer> buffers,
                           executor_type executor, TransferHandler handler) {
  auto bound = boost::asio::bind_executor(std::move(executor), std::move(handler));
  if (tls_) {
    tls_->async_read_some(buffers, std::move(bound));
  } else {
    plain_->async_read_some(buffers, std::move(bound));
  }
}

void FlexStream::write_some(BufferPrefix<boost::asio::const_buffer> buffers, executor_type executor,
                            TransferHandler handler) {
  auto bound = boost::asio::bind_executor(std::move(executor), std::move(handler));
  if (tls_) {
    tls_->async_write_some(buffers, std::move(bound));
  } else {
    plain_->async_write_some(buffers, std::move(bound));
  }
}

}  // namespace camstream
