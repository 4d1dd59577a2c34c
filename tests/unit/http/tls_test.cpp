// TLS contexts from real PEM files (made by the openssl CLI at test time) and FlexStream over
// loopback: HTTP and WebSocket through the same type, plain and TLS, with real OpenSSL clients.
#include "http/tls.hpp"

#include <gtest/gtest.h>
#include <netinet/in.h>
#include <netinet/tcp.h>

#include <boost/asio/connect.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/read.hpp>
#include <boost/asio/ssl/stream.hpp>
#include <boost/asio/write.hpp>
#include <boost/beast/core/buffers_to_string.hpp>
#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/http.hpp>
#include <boost/beast/websocket.hpp>
#include <boost/beast/websocket/ssl.hpp>
#include <thread>

#include "access/access_test_util.hpp"
#include "http/flex_stream.hpp"

namespace camstream {
namespace {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace http = beast::http;
namespace websocket = beast::websocket;
namespace ssl = asio::ssl;
using tcp = asio::ip::tcp;
using access::testing::run;
using access::testing::ScratchDir;

// A self-signed certificate and its key for CN=name.
void make_certificate(const ScratchDir& dir, const std::string& name) {
  run("openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes -days 2"
      " -subj /CN=" +
      name + " -keyout " + dir.file(name + ".key") + " -out " + dir.file(name + ".pem"));
}

std::string error_of(const std::string& cert, const std::string& key) {
  try {
    make_tls_context(cert, key);
  } catch (const TlsError& error) {
    return error.what();
  }
  return "no error";
}

class TlsFiles : public ::testing::Test {
 protected:
  void SetUp() override {
    make_certificate(dir_, "one");
    make_certificate(dir_, "two");
  }
  ScratchDir dir_;
};

TEST_F(TlsFiles, AGoodPairLoads) {
  const auto context = make_tls_context(dir_.file("one.pem"), dir_.file("one.key"));
  ASSERT_TRUE(context);
  EXPECT_EQ(SSL_CTX_get_min_proto_version(context->native_handle()), TLS1_2_VERSION);
}

TEST_F(TlsFiles, BadFilesNameTheFlagTheFileAndWhy) {
  const std::string cert = dir_.file("one.pem");
  const std::string key = dir_.file("one.key");
  const std::string missing = dir_.file("missing.pem");
  EXPECT_EQ(error_of(missing, key),
            "--tls-cert " + missing + ": cannot read: No such file or directory");
  EXPECT_EQ(error_of(cert, missing),
            "--tls-key " + missing + ": cannot read: No such file or directory");
  EXPECT_EQ(error_of(dir_.path().string(), key),
            "--tls-cert " + dir_.path().string() + ": cannot read: Is a directory");
  const std::string garbage = dir_.write("garbage.pem", "not a certificate\n");
  EXPECT_EQ(error_of(garbage, key).rfind("--tls-cert " + garbage + ": not a PEM certificate", 0),
            0u)
      << error_of(garbage, key);
  EXPECT_EQ(error_of(cert, garbage).rfind("--tls-key " + garbage + ": not a PEM private key", 0),
            0u)
      << error_of(cert, garbage);
  // The key of another certificate.
  EXPECT_EQ(error_of(cert, dir_.file("two.key")),
            "--tls-key " + dir_.file("two.key") +
                ": does not match the certificate in --tls-cert " + cert);
  // Swapped: the key given as the certificate.
  EXPECT_NE(error_of(key, cert).find("--tls-cert " + key), std::string::npos);
}

TEST_F(TlsFiles, ReloadTakesTheNewPairOrKeepsTheOld) {
  const std::string cert = dir_.file("live.pem");
  const std::string key = dir_.file("live.key");
  std::filesystem::copy_file(dir_.file("one.pem"), cert);
  std::filesystem::copy_file(dir_.file("one.key"), key);
  TlsCertificate certificate(cert, key);
  const auto first = certificate.context();

  std::filesystem::copy_file(dir_.file("two.pem"), cert,
                             std::filesystem::copy_options::overwrite_existing);
  // Half-way through a renewal: the new certificate, the old key. Keep serving the old pair.
  const std::string problem = certificate.reload();
  EXPECT_NE(problem.find("does not match"), std::string::npos) << problem;
  EXPECT_EQ(certificate.context(), first);

  std::filesystem::copy_file(dir_.file("two.key"), key,
                             std::filesystem::copy_options::overwrite_existing);
  EXPECT_EQ(certificate.reload(), "");
  EXPECT_NE(certificate.context(), first);

  std::filesystem::remove(key);
  EXPECT_NE(certificate.reload().find("cannot read"), std::string::npos);
  EXPECT_NE(certificate.context(), first);  // still the second pair
}

// Accepts one connection on loopback and hands it to `serve` on the io_context's thread.
class Loopback {
 public:
  Loopback() : acceptor_(io_, tcp::endpoint(asio::ip::make_address("127.0.0.1"), 0)) {}
  std::uint16_t port() const { return acceptor_.local_endpoint().port(); }
  template <typename Serve>
  void accept(Serve serve) {
    acceptor_.async_accept([serve](beast::error_code ec, tcp::socket socket) mutable {
      ASSERT_FALSE(ec) << ec.message();
      serve(beast::tcp_stream(std::move(socket)));
    });
  }
  void run_in_background() {
    thread_ = std::thread([this] { io_.run_for(std::chrono::seconds(20)); });
  }
  ~Loopback() {
    if (thread_.joinable()) thread_.join();
  }
  asio::io_context io_;

 private:
  tcp::acceptor acceptor_;
  std::thread thread_;
};

// The server half: one HTTP request answered with its target, over a FlexStream.
struct HttpEcho : std::enable_shared_from_this<HttpEcho> {
  explicit HttpEcho(FlexStream stream) : stream(std::move(stream)) {}
  void start() {
    if (stream.is_tls()) {
      stream.tls().async_handshake(ssl::stream_base::server,
                                   [self = shared_from_this()](beast::error_code ec) {
                                     if (!ec) self->read();
                                   });
    } else {
      read();
    }
  }
  void read() {
    http::async_read(
        stream, buffer, request, [self = shared_from_this()](beast::error_code ec, std::size_t) {
          if (ec) return;
          self->response.result(http::status::ok);
          self->response.body() = "you asked for " + std::string(self->request.target());
          self->response.prepare_payload();
          http::async_write(self->stream, self->response,
                            [self](beast::error_code, std::size_t) {});
        });
  }
  FlexStream stream;
  beast::flat_buffer buffer;
  http::request<http::string_body> request;
  http::response<http::string_body> response;
};

template <typename Stream>
std::string get(Stream& stream, const std::string& target) {
  http::request<http::empty_body> request(http::verb::get, target, 11);
  request.set(http::field::host, "localhost");
  http::write(stream, request);
  beast::flat_buffer buffer;
  http::response<http::string_body> response;
  http::read(stream, buffer, response);
  return response.body();
}

TEST_F(TlsFiles, HttpOverFlexStreamPlainAndTls) {
  const auto context = make_tls_context(dir_.file("one.pem"), dir_.file("one.key"));
  for (const bool tls : {false, true}) {
    Loopback server;
    server.accept([&](beast::tcp_stream tcp) {
      auto stream = tls ? FlexStream(std::move(tcp), context) : FlexStream(std::move(tcp));
      std::make_shared<HttpEcho>(std::move(stream))->start();
    });
    server.run_in_background();
    asio::io_context client_io;
    tcp::socket socket(client_io);
    socket.connect(tcp::endpoint(asio::ip::make_address("127.0.0.1"), server.port()));
    if (tls) {
      ssl::context client_context(ssl::context::tls_client);
      ssl::stream<tcp::socket> client(std::move(socket), client_context);
      client.handshake(ssl::stream_base::client);
      EXPECT_GE(SSL_version(client.native_handle()), TLS1_2_VERSION);
      EXPECT_EQ(get(client, "/secure"), "you asked for /secure");
    } else {
      EXPECT_EQ(get(socket, "/plain"), "you asked for /plain");
    }
  }
}

TEST_F(TlsFiles, OldTlsVersionsAreRefused) {
  const auto context = make_tls_context(dir_.file("one.pem"), dir_.file("one.key"));
  Loopback server;
  server.accept([&](beast::tcp_stream tcp) {
    std::make_shared<HttpEcho>(FlexStream(std::move(tcp), context))->start();
  });
  server.run_in_background();
  asio::io_context client_io;
  tcp::socket socket(client_io);
  socket.connect(tcp::endpoint(asio::ip::make_address("127.0.0.1"), server.port()));
  ssl::context client_context(ssl::context::tls_client);
  SSL_CTX_set_security_level(client_context.native_handle(), 0);
  SSL_CTX_set_min_proto_version(client_context.native_handle(), TLS1_VERSION);
  SSL_CTX_set_max_proto_version(client_context.native_handle(), TLS1_1_VERSION);
  ssl::stream<tcp::socket> client(std::move(socket), client_context);
  beast::error_code ec;
  client.handshake(ssl::stream_base::client, ec);
  EXPECT_TRUE(ec) << "a TLS 1.1 handshake succeeded";
}

// The server half of a WebSocket: accepts, echoes one message, closes.
struct WsEcho : std::enable_shared_from_this<WsEcho> {
  explicit WsEcho(FlexStream stream) : ws(std::move(stream)) {}
  void start() {
    if (ws.next_layer().is_tls()) {
      ws.next_layer().tls().async_handshake(ssl::stream_base::server,
                                            [self = shared_from_this()](beast::error_code ec) {
                                              if (!ec) self->accept();
                                            });
    } else {
      accept();
    }
  }
  void accept() {
    ws.set_option(websocket::stream_base::timeout::suggested(beast::role_type::server));
    ws.async_accept([self = shared_from_this()](beast::error_code ec) {
      if (ec) return;
      self->ws.async_read(self->buffer, [self](beast::error_code ec, std::size_t) {
        if (ec) return;
        self->ws.text(true);
        self->ws.async_write(self->buffer.data(), [self](beast::error_code ec, std::size_t) {
          if (ec) return;
          self->ws.async_close(websocket::close_code::normal, [self](beast::error_code) {});
        });
      });
    });
  }
  websocket::stream<FlexStream> ws;
  beast::flat_buffer buffer;
};

template <typename Stream>
void echo_and_close(websocket::stream<Stream>& ws) {
  ws.handshake("localhost", "/ws");
  ws.write(asio::buffer(std::string("{\"type\":\"status\"}")));
  beast::flat_buffer buffer;
  ws.read(buffer);
  EXPECT_EQ(beast::buffers_to_string(buffer.data()), "{\"type\":\"status\"}");
  beast::error_code ec;
  buffer.clear();
  ws.read(buffer, ec);  // the server's close
  EXPECT_EQ(ec, websocket::error::closed);
}

TEST_F(TlsFiles, WebSocketOverFlexStreamPlainAndTls) {
  const auto context = make_tls_context(dir_.file("one.pem"), dir_.file("one.key"));
  for (const bool tls : {false, true}) {
    Loopback server;
    server.accept([&](beast::tcp_stream tcp) {
      auto stream = tls ? FlexStream(std::move(tcp), context) : FlexStream(std::move(tcp));
      std::make_shared<WsEcho>(std::move(stream))->start();
    });
    server.run_in_background();
    asio::io_context client_io;
    tcp::socket socket(client_io);
    socket.connect(tcp::endpoint(asio::ip::make_address("127.0.0.1"), server.port()));
    if (tls) {
      ssl::context client_context(ssl::context::tls_client);
      websocket::stream<ssl::stream<tcp::socket>> ws(std::move(socket), client_context);
      ws.next_layer().handshake(ssl::stream_base::client);
      echo_and_close(ws);
    } else {
      websocket::stream<tcp::socket> ws(std::move(socket));
      echo_and_close(ws);
    }
  }
}

// The stream viewer's TLS path: after a request read through Asio's memory BIO, the records go
// straight to the socket (use_direct_writes). A gathered write far larger than the socket
// takes (write_now, waiting for writability many times) arrives whole and in order, and a read
// through the memory BIO and a later write (async_write_all) still work.
// What the server half saw; the test reads it once the server's thread has ended.
struct WriterResults {
  bool switched = false;
  std::size_t written = 0;
  int waits = 0;
};

// Lives through its handlers only, so it is gone before its io_context.
struct SocketWriter : std::enable_shared_from_this<SocketWriter> {
  SocketWriter(FlexStream stream, const std::string& body, WriterResults& results)
      : stream(std::move(stream)), body(body), results(results) {}
  void start() {
    stream.tls().async_handshake(ssl::stream_base::server,
                                 [self = shared_from_this()](beast::error_code ec) {
                                   ASSERT_FALSE(ec) << ec.message();
                                   self->read_request();
                                 });
  }
  void read_request() {
    http::async_read(stream, buffer, request,
                     [self = shared_from_this()](beast::error_code ec, std::size_t) {
                       ASSERT_FALSE(ec) << ec.message();
                       // As a viewer's: the socket reads as full after 16 KiB unsent.
                       const int low_water = 16 * 1024;
                       ::setsockopt(self->stream.tcp().socket().native_handle(), IPPROTO_TCP,
                                    TCP_NOTSENT_LOWAT, &low_water, sizeof low_water);
                       self->results.switched = self->stream.use_direct_writes();
                       self->write_body();
                     });
  }
  // As the stream viewer writes: what the socket takes now, then a wait for writability.
  void write_body() {
    const std::array<asio::const_buffer, 4> buffers{asio::buffer(std::string_view("head:")),
                                                    asio::const_buffer(), asio::buffer(body),
                                                    asio::buffer(std::string_view(":tail"))};
    beast::error_code ec;
    results.written += stream.write_now(buffers, results.written, ec);
    if (ec == asio::error::would_block) {
      ++results.waits;
      return stream.async_wait_writable([self = shared_from_this()](beast::error_code wait_ec) {
        ASSERT_FALSE(wait_ec) << wait_ec.message();
        self->write_body();
      });
    }
    ASSERT_FALSE(ec) << ec.message();
    read_ping();
  }
  void read_ping() {
    stream.async_read_some(
        asio::buffer(ping), [self = shared_from_this()](beast::error_code ec, std::size_t n) {
          ASSERT_FALSE(ec) << ec.message();
          ASSERT_EQ(std::string(self->ping.data(), n), "ping");
          self->stream.async_write_all(std::array{asio::const_buffer("pong", 4)},
                                       [self](beast::error_code pong_ec, std::size_t) {
                                         EXPECT_FALSE(pong_ec) << pong_ec.message();
                                       });
        });
  }
  FlexStream stream;
  const std::string& body;
  beast::flat_buffer buffer;
  http::request<http::empty_body> request;
  std::array<char, 4> ping{};
  WriterResults& results;
};

TEST_F(TlsFiles, SocketWritesAfterTheHandshakeArriveWholeAndReadsGoOn) {
  const auto context = make_tls_context(dir_.file("one.pem"), dir_.file("one.key"));
  std::string body(3 << 20, '\0');
  for (std::size_t i = 0; i < body.size(); ++i) body[i] = static_cast<char>('a' + i * 7 % 26);
  WriterResults results;
  {
    Loopback server;
    server.accept([&](beast::tcp_stream tcp) {
      std::make_shared<SocketWriter>(FlexStream(std::move(tcp), context), body, results)->start();
    });
    server.run_in_background();
    asio::io_context client_io;
    tcp::socket socket(client_io);
    socket.connect(tcp::endpoint(asio::ip::make_address("127.0.0.1"), server.port()));
    ssl::context client_context(ssl::context::tls_client);
    ssl::stream<tcp::socket> client(std::move(socket), client_context);
    client.handshake(ssl::stream_base::client);
    http::request<http::empty_body> request(http::verb::get, "/stream", 11);
    request.set(http::field::host, "localhost");
    http::write(client, request);
    std::this_thread::sleep_for(std::chrono::milliseconds(100));  // the server's socket fills
    const std::string expected = "head:" + body + ":tail";
    std::string received(expected.size(), '\0');
    asio::read(client, asio::buffer(received));
    EXPECT_TRUE(received == expected);
    asio::write(client, asio::buffer(std::string_view("ping")));
    std::string pong(4, '\0');
    asio::read(client, asio::buffer(pong));
    EXPECT_EQ(pong, "pong");
    client.next_layer().close();
  }  // the server's thread ends: it has nothing left to do
  EXPECT_TRUE(results.switched);
  EXPECT_EQ(results.written, body.size() + 10);
  EXPECT_GT(results.waits, 0);  // the socket was full at least once
}

}  // namespace
}  // namespace camstream
