// FlexStream's erased reads and writes over a loopback connection: a gathered write of more
// buffers than one write_some passes on (BufferPrefix), empty ones among them, arrives whole
// and in order, and a read into two buffers fills both; the viewer's async_write_all too. (Its
// TLS path, socket writes, is in tls_test.cpp.)
#include "http/flex_stream.hpp"

#include <gtest/gtest.h>

#include <array>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/read.hpp>
#include <boost/asio/write.hpp>
#include <optional>
#include <string>
#include <vector>

namespace camstream {
namespace {

namespace asio = boost::asio;
using tcp = asio::ip::tcp;

TEST(BufferPrefix, KeepsTheFirstNonEmptyBuffersUpToItsLimit) {
  std::vector<std::string> parts;
  parts.reserve(40);
  for (int i = 0; i < 40; ++i) parts.push_back(i % 3 == 0 ? "" : std::to_string(i));
  std::vector<asio::const_buffer> buffers;
  buffers.reserve(parts.size());
  for (const auto& part : parts) buffers.push_back(asio::buffer(part));

  const BufferPrefix<asio::const_buffer> prefix(buffers);
  ASSERT_EQ(prefix.end() - prefix.begin(), BufferPrefix<asio::const_buffer>::kMaxBuffers);
  std::string seen;
  for (const auto& buffer : prefix)
    seen.append(static_cast<const char*>(buffer.data()), buffer.size());
  EXPECT_EQ(seen, "12457810111314161719202223");
  EXPECT_EQ(asio::buffer_size(BufferPrefix<asio::const_buffer>(std::vector<asio::const_buffer>{})),
            0U);
}

// A plain FlexStream connected over loopback to a bare socket, its peer.
class FlexStreamOverLoopback : public testing::Test {
 protected:
  FlexStreamOverLoopback() {
    tcp::acceptor acceptor(io, {asio::ip::make_address("127.0.0.1"), 0});
    boost::beast::tcp_stream connecting(io);
    connecting.connect(acceptor.local_endpoint());
    acceptor.accept(peer);
    stream.emplace(std::move(connecting));
  }

  asio::io_context io;
  tcp::socket peer{io};
  std::optional<FlexStream> stream;
};

TEST_F(FlexStreamOverLoopback, GatheredWriteOfManyBuffersArrivesWholeAndInOrder) {
  FlexStream& sender = *stream;
  tcp::socket& receiver = peer;

  std::vector<std::string> parts;
  std::string expected;
  for (int i = 0; i < 100; ++i) {
    parts.push_back(
        i % 7 == 0 ? "" : std::string(static_cast<std::size_t>(i * 37 % 500), char('a' + i % 26)));
    expected += parts.back();
  }
  std::vector<asio::const_buffer> buffers;
  buffers.reserve(parts.size());
  for (const auto& part : parts) buffers.push_back(asio::buffer(part));

  std::size_t written = 0;
  boost::beast::error_code write_error;
  asio::async_write(sender, buffers, [&](boost::beast::error_code ec, std::size_t n) {
    write_error = ec;
    written = n;
    sender.tcp().socket().shutdown(tcp::socket::shutdown_send);
  });
  std::string received(expected.size() + 1, '\0');
  std::size_t read = 0;
  boost::beast::error_code read_error;
  asio::async_read(receiver, asio::buffer(received),
                   [&](boost::beast::error_code ec, std::size_t n) {
                     read_error = ec;
                     read = n;
                   });
  io.run();

  EXPECT_FALSE(write_error) << write_error.message();
  EXPECT_EQ(written, expected.size());
  EXPECT_EQ(read_error, asio::error::eof);
  ASSERT_EQ(read, expected.size());
  received.resize(read);
  EXPECT_EQ(received, expected);
}

TEST_F(FlexStreamOverLoopback, ReadFillsEveryBufferItIsGiven) {
  FlexStream& reader = *stream;
  tcp::socket& writer = peer;

  asio::write(writer, asio::buffer(std::string("headbody")));
  std::string head(4, '\0');
  std::string body(4, '\0');
  std::vector<asio::mutable_buffer> buffers{asio::buffer(head), asio::mutable_buffer(),
                                            asio::buffer(body)};
  std::size_t read = 0;
  asio::async_read(reader, buffers, [&](boost::beast::error_code ec, std::size_t n) {
    EXPECT_FALSE(ec) << ec.message();
    read = n;
  });
  io.run();
  EXPECT_EQ(read, 8U);
  EXPECT_EQ(head, "head");
  EXPECT_EQ(body, "body");
}

// The stream viewer's write (async_write_all) on a plain connection: straight to the socket, a
// part far larger than the socket takes at once arrives whole, and it never completes inside
// the call.
TEST_F(FlexStreamOverLoopback, WriteAllOfAPartArrivesWholeAndCompletesLater) {
  FlexStream& sender = *stream;
  const std::string head = "head:";
  const std::string body(4 << 20, 'b');
  const std::string tail = ":tail";
  const std::array<asio::const_buffer, 4> buffers{asio::buffer(head), asio::const_buffer(),
                                                  asio::buffer(body), asio::buffer(tail)};
  bool inside_call = true;
  std::size_t written = 0;
  sender.async_write_all(buffers, [&](boost::beast::error_code ec, std::size_t n) {
    EXPECT_FALSE(ec) << ec.message();
    EXPECT_FALSE(inside_call);
    written = n;
    sender.tcp().socket().shutdown(tcp::socket::shutdown_send);
  });
  inside_call = false;
  std::string received(head.size() + body.size() + tail.size() + 1, '\0');
  std::size_t read = 0;
  asio::async_read(peer, asio::buffer(received), [&](boost::beast::error_code ec, std::size_t n) {
    EXPECT_EQ(ec, asio::error::eof);
    read = n;
  });
  io.run();
  EXPECT_EQ(written, received.size() - 1);
  ASSERT_EQ(read, received.size() - 1);
  received.resize(read);
  EXPECT_TRUE(received == head + body + tail);
}

// write_now() keeps the descriptor of its own (no pointer chase per viewer and frame): after
// close() it must fail, and never write to a new connection the kernel gave the same number.
TEST_F(FlexStreamOverLoopback, DirectWritesAfterCloseNeverReachTheDescriptorsNextOwner) {
  FlexStream& sender = *stream;
  ASSERT_TRUE(sender.use_direct_writes());
  const int old_fd = sender.tcp().socket().native_handle();
  const std::string part = "part";
  const std::array<asio::const_buffer, 1> buffers{asio::buffer(part)};
  boost::beast::error_code ec;
  ASSERT_EQ(sender.write_now(buffers, 0, ec), part.size());
  ASSERT_FALSE(ec) << ec.message();

  sender.close();
  EXPECT_FALSE(sender.tcp().socket().is_open());
  // The lowest free number goes to the next socket: this connection takes the old one.
  tcp::acceptor acceptor(io, {asio::ip::make_address("127.0.0.1"), 0});
  tcp::socket next(io);
  next.connect(acceptor.local_endpoint());
  tcp::socket next_peer(io);
  acceptor.accept(next_peer);
  const bool reused = next.native_handle() == old_fd || next_peer.native_handle() == old_fd ||
                      acceptor.native_handle() == old_fd;
  EXPECT_TRUE(reused) << "the test needs the old descriptor to be handed out again";

  EXPECT_EQ(sender.write_now(buffers, 0, ec), 0U);
  EXPECT_EQ(ec, boost::system::error_code(EBADF, boost::system::system_category()));
  next_peer.non_blocking(true);
  next.non_blocking(true);
  std::array<char, 16> scratch{};
  boost::system::error_code read_ec;
  EXPECT_EQ(next_peer.read_some(asio::buffer(scratch), read_ec), 0U);
  EXPECT_EQ(read_ec, asio::error::would_block);
  EXPECT_EQ(next.read_some(asio::buffer(scratch), read_ec), 0U);
  EXPECT_EQ(read_ec, asio::error::would_block);

  // What was sent before the close arrived, and then the end.
  std::string received(part.size() + 1, '\0');
  boost::system::error_code peer_ec;
  const std::size_t got = asio::read(peer, asio::buffer(received), peer_ec);
  EXPECT_EQ(peer_ec, asio::error::eof);
  EXPECT_EQ(received.substr(0, got), part);
}

}  // namespace
}  // namespace camstream
