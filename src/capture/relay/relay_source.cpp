// The relay source: an upstream MJPEG stream read with Beast on the source's own io_context
// thread (as the other sources have their worker thread), each JPEG passed on untouched.
// The flow follows Beast's async HTTP(S) client examples: resolve, connect, (handshake),
// write the request, read the header, then the body piece by piece into the multipart
// reader; every step has an expiry, so a silent upstream is noticed.
#include "camstream/capture/relay_source.hpp"

#include <openssl/ssl.h>
#include <spdlog/spdlog.h>

#include <atomic>
#include <boost/asio/executor_work_guard.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/ssl.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <boost/beast/ssl.hpp>
#include <charconv>
#include <future>
#include <optional>
#include <thread>

#include "camstream/capture/capture_error.hpp"
#include "camstream/capture/relay_url.hpp"
#include "camstream/core/frame.hpp"
#include "camstream/core/orientation.hpp"
#include "multipart_reader.hpp"

namespace camstream {

namespace {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace http = beast::http;
namespace ssl = asio::ssl;
using tcp = asio::ip::tcp;
using namespace std::chrono_literals;

constexpr std::size_t kReadSize = 64 * 1024;
// The largest picture relayed: the encoder sizes each frame's buffer by the JPEG's own frame
// header, so a forged header must not make it reserve gigabytes.
constexpr int kMaxSide = 8192;
constexpr long long kMaxPixels = 8192LL * 4352;
// Parts in a row that hold no JPEG before the upstream counts as sending garbage.
constexpr int kMaxBadParts = 3;

std::string base64(std::string_view in) {
  static constexpr char kAlphabet[] =
      "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
  std::string out;
  std::size_t i = 0;
  for (; i + 2 < in.size(); i += 3) {
    const unsigned v = static_cast<unsigned char>(in[i]) << 16 |
                       static_cast<unsigned char>(in[i + 1]) << 8 |
                       static_cast<unsigned char>(in[i + 2]);
    for (int shift : {18, 12, 6, 0}) out += kAlphabet[(v >> shift) & 63];
  }
  if (const std::size_t left = in.size() - i; left > 0) {
    unsigned v = static_cast<unsigned char>(in[i]) << 16;
    if (left == 2) v |= static_cast<unsigned char>(in[i + 1]) << 8;
    out += kAlphabet[(v >> 18) & 63];
    out += kAlphabet[(v >> 12) & 63];
    out += left == 2 ? kAlphabet[(v >> 6) & 63] : '=';
    out += '=';
  }
  return out;
}

struct PictureSize {
  int width = 0;
  int height = 0;
};

// The size in a JPEG's frame header (SOF), found by walking the marker segments; none when the
// bytes are no JPEG. The full check is the passthrough's (repair_mjpeg), as for camera MJPEG.
std::optional<PictureSize> jpeg_size(std::span<const std::uint8_t> data) {
  if (data.size() < 4 || data[0] != 0xFF || data[1] != 0xD8) return std::nullopt;
  std::size_t i = 2;
  while (i < data.size()) {
    if (data[i] != 0xFF) return std::nullopt;
    while (i < data.size() && data[i] == 0xFF) ++i;  // fill bytes
    if (i >= data.size()) return std::nullopt;
    const std::uint8_t marker = data[i++];
    if ((marker >= 0xD0 && marker <= 0xD7) || marker == 0x01) continue;  // no length
    if (marker == 0xD9 || marker == 0xDA || i + 2 > data.size()) return std::nullopt;
    const std::size_t length = static_cast<std::size_t>(data[i]) << 8 | data[i + 1];
    if (length < 2) return std::nullopt;
    const bool sof =
        marker >= 0xC0 && marker <= 0xCF && marker != 0xC4 && marker != 0xC8 && marker != 0xCC;
    if (sof) {
      if (i + 7 > data.size()) return std::nullopt;
      return PictureSize{data[i + 5] << 8 | data[i + 6], data[i + 3] << 8 | data[i + 4]};
    }
    i += length;
  }
  return std::nullopt;
}

// The part's JPEG: from its SOI (some cameras put a line end first) to its last EOI (some
// append bytes after it). Empty when there is no SOI near the start.
std::span<const std::uint8_t> jpeg_in(std::span<const std::uint8_t> body) {
  const std::size_t look = std::min<std::size_t>(body.size(), 1024);
  std::size_t start = 0;
  while (start + 1 < look && !(body[start] == 0xFF && body[start + 1] == 0xD8)) ++start;
  if (start + 1 >= look) return {};
  body = body.subspan(start);
  for (std::size_t end = body.size(); end >= 4; --end) {
    if (body[end - 2] == 0xFF && body[end - 1] == 0xD9) return body.first(end);
    if (body.size() - end > 4096) break;  // no EOI near the end: truncated, the check says so
  }
  return body;
}

// "1733580000.123456" (camstream's X-Timestamp, seconds since the epoch); none otherwise.
std::optional<std::chrono::system_clock::time_point> parse_timestamp(const std::string& text) {
  const auto dot = text.find('.');
  const std::string_view whole(text.data(), dot == std::string::npos ? text.size() : dot);
  long long seconds = 0;
  if (whole.empty() || whole.size() > 12 ||
      std::from_chars(whole.data(), whole.data() + whole.size(), seconds).ptr !=
          whole.data() + whole.size()) {
    return std::nullopt;
  }
  long long micros = 0;
  if (dot != std::string::npos) {
    const std::string_view fraction = std::string_view(text).substr(dot + 1);
    if (fraction.empty() || fraction.size() > 9) return std::nullopt;
    int digits = 0;
    for (const char c : fraction) {
      if (c < '0' || c > '9') return std::nullopt;
      if (digits++ < 6) micros = micros * 10 + (c - '0');
    }
    for (; digits < 6; ++digits) micros *= 10;
  }
  return std::chrono::system_clock::time_point(std::chrono::seconds(seconds) +
                                               std::chrono::microseconds(micros));
}

std::string lower(std::string_view text) {
  std::string out(text);
  for (char& c : out) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return out;
}

// The boundary= parameter of a Content-Type, quotes removed; empty when there is none.
std::string boundary_parameter(std::string_view content_type) {
  const std::string folded = lower(content_type);
  const auto at = folded.find("boundary=");
  if (at == std::string::npos) return {};
  std::string_view value = content_type.substr(at + 9);
  value = value.substr(0, value.find(';'));
  while (!value.empty() && (value.back() == ' ' || value.back() == '\t')) value.remove_suffix(1);
  if (value.size() >= 2 && value.front() == '"' && value.back() == '"') {
    value = value.substr(1, value.size() - 2);
  }
  return std::string(value);
}

bool is_ip_literal(const std::string& host) {
  boost::system::error_code ec;
  asio::ip::make_address(host, ec);
  return !ec;
}

std::string seconds_text(std::chrono::milliseconds duration) {
  const auto ms = duration.count();
  return ms % 1000 == 0 ? std::to_string(ms / 1000) + " s" : std::to_string(ms) + " ms";
}

// What the source shares with its sessions: fixed at construction, or atomic.
struct RelayShared {
  RelaySettings settings;
  RelayUrl url;
  std::string authorization;  // "Basic ..." from the URL's credentials, or empty
  std::atomic<int> width{0};
  std::atomic<int> height{0};
};

// One connection to the upstream, from resolve to the first break. Runs only on the source's
// io_context thread; reports one error at most and then does nothing more.
class Session : public std::enable_shared_from_this<Session> {
 public:
  Session(asio::io_context& io, RelayShared& shared, FrameCallback on_frame, ErrorCallback on_error)
      : shared_(shared),
        resolver_(io),
        picture_timer_(io),
        on_frame_(std::move(on_frame)),
        on_error_(std::move(on_error)) {}
  virtual ~Session() = default;

  virtual void run() = 0;
  // Ends the session without a report (stop()): handlers still queued see closed_ and return.
  void close() {
    if (closed_) return;
    closed_ = true;
    resolver_.cancel();
    picture_timer_.cancel();
    close_socket();
  }

 protected:
  virtual void close_socket() = 0;

  // The one report of a break: viewers get NO SIGNAL, the capture service reconnects.
  void fail(const std::string& reason) {
    if (closed_) return;
    close();
    spdlog::warn("relay: {}: {}", shared_.url.shown(), reason);
    on_error_(reason);
  }

  void fail(const char* step, const boost::system::error_code& ec) {
    if (ec == beast::error::timeout) {
      return fail("upstream sent nothing for " + seconds_text(shared_.settings.stall_timeout) +
                  " (" + step + ")");
    }
    if (ec == http::error::end_of_stream || ec == asio::error::eof ||
        ec == ssl::error::stream_truncated) {
      return fail(std::string("upstream closed the connection (") + step + ")");
    }
    fail(std::string(step) + ": " + ec.message());
  }

  http::request<http::empty_body> make_request() const {
    http::request<http::empty_body> request{http::verb::get, shared_.url.target, 11};
    request.set(http::field::host, shared_.url.host_header());
    request.set(http::field::user_agent, "camstream");
    request.set(http::field::accept, "multipart/x-mixed-replace, image/jpeg");
    request.set(http::field::connection, "close");
    if (!shared_.authorization.empty()) {
      request.set(http::field::authorization, shared_.authorization);
    }
    for (const auto& header : shared_.settings.headers) {
      const auto colon = header.find(':');
      std::string_view value = std::string_view(header).substr(colon + 1);
      while (!value.empty() && (value.front() == ' ' || value.front() == '\t'))
        value.remove_prefix(1);
      request.set(std::string_view(header).substr(0, colon), value);
    }
    return request;
  }

  // The response head: a 200 with a multipart body, or a clear reason why not.
  bool accept_header(const http::response_parser<http::buffer_body>& parser) {
    const auto& head = parser.get();
    if (head.result() != http::status::ok) {
      std::string reason = "upstream answered " + std::to_string(head.result_int()) + " " +
                           std::string(head.reason().substr(0, 64));
      if (head.result() == http::status::unauthorized || head.result() == http::status::forbidden)
        reason += " (check the credentials or --source-header)";
      fail(reason);
      return false;
    }
    const std::string type(head[http::field::content_type].substr(0, 256));
    if (lower(type).rfind("multipart/", 0) != 0) {
      fail("upstream is not a multipart MJPEG stream (Content-Type: " +
           (type.empty() ? std::string("none") : type.substr(0, 64)) + ")");
      return false;
    }
    relay::MultipartLimits limits;
    limits.max_part = shared_.settings.max_part;
    limits.max_headers = shared_.settings.max_headers;
    reader_.emplace(boundary_parameter(type), limits);
    last_picture_ = std::chrono::steady_clock::now();
    watch_pictures();
    return true;
  }

  // Bytes that keep coming without ever completing a picture (a slowloris upstream) are a
  // break too, noticed after twice the stall time.
  void watch_pictures() {
    picture_timer_.expires_after(1s);
    picture_timer_.async_wait([self = shared_from_this()](boost::system::error_code ec) {
      if (ec || self->closed_) return;
      const auto limit = 2 * self->shared_.settings.stall_timeout;
      if (std::chrono::steady_clock::now() - self->last_picture_ > limit) {
        return self->fail("upstream sent no complete picture for " + seconds_text(limit));
      }
      self->watch_pictures();
    });
  }

  // Where the body's next bytes go, for the parser's buffer_body.
  void prepare_body(http::response_parser<http::buffer_body>& parser) {
    room_ = reader_->prepare(kReadSize);
    parser.get().body().data = room_.data();
    parser.get().body().size = room_.size();
  }

  // After a read: hands the bytes to the multipart reader; false when the session ended.
  bool take_body(http::response_parser<http::buffer_body>& parser, boost::system::error_code ec) {
    if (closed_) return false;
    if (ec == http::error::need_buffer) ec = {};
    const std::size_t produced = room_.size() - parser.get().body().size;
    const bool more =
        reader_->commit(produced, [this](const relay::MultipartPart& part) { on_part(part); });
    if (closed_) return false;
    if (!more) {
      fail(reader_->ended() ? "upstream ended the stream (close delimiter)"
                            : "upstream stream is broken: " + reader_->error());
      return false;
    }
    if (ec) {
      fail("reading the stream", ec);
      return false;
    }
    if (parser.is_done()) {
      fail("upstream closed the connection (end of the stream)");
      return false;
    }
    return true;
  }

  void on_part(const relay::MultipartPart& part) {
    if (closed_) return;
    const auto jpeg = jpeg_in(part.body);
    const auto size = jpeg.empty() ? std::nullopt : jpeg_size(jpeg);
    if (!size) {
      // One odd part among pictures is skipped; an upstream that sends only such parts
      // sends no MJPEG.
      if (pictures_ == 0 || ++bad_parts_ >= kMaxBadParts) {
        fail("upstream sends parts that are not JPEG pictures (Content-Type: " +
             part.content_type.value_or("none").substr(0, 64) + ")");
      }
      return;
    }
    if (size->width < 1 || size->height < 1 || size->width > kMaxSide || size->height > kMaxSide ||
        static_cast<long long>(size->width) * size->height > kMaxPixels) {
      return fail("upstream sends a " + std::to_string(size->width) + "x" +
                  std::to_string(size->height) + " picture, over the relay's limit of " +
                  std::to_string(kMaxSide) + " a side and " + std::to_string(kMaxPixels) +
                  " pixels");
    }
    bad_parts_ = 0;
    ++pictures_;
    last_picture_ = std::chrono::steady_clock::now();
    shared_.width.store(size->width, std::memory_order_relaxed);
    shared_.height.store(size->height, std::memory_order_relaxed);
    FrameView view;
    view.format = PixelFormat::MJPEG;
    view.width = size->width;
    view.height = size->height;
    view.planes[0] = PlaneView{jpeg.data(), 0, jpeg.size()};
    view.range = ColorRange::Full;
    view.sequence = pictures_;
    // The upstream's capture time, so that latency adds up across hops.
    const auto stamped = part.timestamp ? parse_timestamp(*part.timestamp) : std::nullopt;
    view.timestamp = stamped.value_or(std::chrono::system_clock::now());
    on_frame_(view);
  }

  RelayShared& shared_;
  tcp::resolver resolver_;
  asio::steady_timer picture_timer_;
  FrameCallback on_frame_;
  ErrorCallback on_error_;
  bool closed_ = false;
  std::optional<relay::MultipartReader> reader_;
  std::span<std::uint8_t> room_;
  std::uint64_t pictures_ = 0;
  int bad_parts_ = 0;
  std::chrono::steady_clock::time_point last_picture_{};
};

// The same steps over TCP or TLS: Stream is beast::tcp_stream or ssl_stream of one.
template <class Stream>
class StreamSession final : public Session {
 public:
  template <class... TlsContext>
  StreamSession(asio::io_context& io, RelayShared& shared, FrameCallback on_frame,
                ErrorCallback on_error, TlsContext&... tls)
      : Session(io, shared, std::move(on_frame), std::move(on_error)), stream_(io, tls...) {}

  void run() override {
    resolver_.async_resolve(
        shared_.url.host, shared_.url.port,
        [self = shared(), this](boost::system::error_code ec, tcp::resolver::results_type found) {
          if (closed_) return;
          if (ec) return fail("cannot resolve " + shared_.url.host + ": " + ec.message());
          lowest().expires_after(shared_.settings.stall_timeout);
          lowest().async_connect(found, [self, this](boost::system::error_code ec,
                                                     const tcp::endpoint&) { on_connect(ec); });
        });
  }

 private:
  static constexpr bool kTls = !std::is_same_v<Stream, beast::tcp_stream>;

  std::shared_ptr<StreamSession> shared() {
    return std::static_pointer_cast<StreamSession>(shared_from_this());
  }
  beast::tcp_stream& lowest() { return beast::get_lowest_layer(stream_); }

  void close_socket() override {
    boost::system::error_code ignored;
    lowest().socket().close(ignored);
  }

  void on_connect(boost::system::error_code ec) {
    if (closed_) return;
    if (ec) {
      return fail(ec == beast::error::timeout
                      ? "cannot connect to " + shared_.url.host_header() + ": no answer in " +
                            seconds_text(shared_.settings.stall_timeout)
                      : "cannot connect to " + shared_.url.host_header() + ": " + ec.message());
    }
    if constexpr (kTls) {
      // SNI for names (not addresses), and the name the certificate must carry.
      if (!is_ip_literal(shared_.url.host) &&
          !SSL_set_tlsext_host_name(stream_.native_handle(), shared_.url.host.c_str())) {
        return fail("TLS: cannot set the server name");
      }
      if (!shared_.settings.insecure) {
        stream_.set_verify_callback(ssl::host_name_verification(shared_.url.host));
      }
      lowest().expires_after(shared_.settings.stall_timeout);
      stream_.async_handshake(
          ssl::stream_base::client, [self = shared(), this](boost::system::error_code ec) {
            if (closed_) return;
            if (ec) {
              return fail(ec == beast::error::timeout
                              ? "TLS handshake: no answer in " +
                                    seconds_text(shared_.settings.stall_timeout)
                              : "TLS handshake: " + ec.message() +
                                    (shared_.settings.insecure ? ""
                                                               : " (--source-insecure accepts a "
                                                                 "self-signed certificate)"));
            }
            send_request();
          });
    } else {
      send_request();
    }
  }

  void send_request() {
    request_ = make_request();
    lowest().expires_after(shared_.settings.stall_timeout);
    http::async_write(stream_, request_,
                      [self = shared(), this](boost::system::error_code ec, std::size_t) {
                        if (closed_) return;
                        if (ec) return fail("sending the request", ec);
                        read_header();
                      });
  }

  void read_header() {
    parser_.emplace();
    parser_->header_limit(static_cast<std::uint32_t>(shared_.settings.max_headers));
    parser_->body_limit(boost::none);  // a stream has no end; the multipart reader bounds parts
    lowest().expires_after(shared_.settings.stall_timeout);
    http::async_read_header(stream_, buffer_, *parser_,
                            [self = shared(), this](boost::system::error_code ec, std::size_t) {
                              if (closed_) return;
                              if (ec == http::error::header_limit) {
                                return fail("upstream's response header is larger than " +
                                            std::to_string(shared_.settings.max_headers / 1024) +
                                            " KiB");
                              }
                              if (ec) return fail("reading the response header", ec);
                              if (accept_header(*parser_)) read_body();
                            });
  }

  void read_body() {
    prepare_body(*parser_);
    lowest().expires_after(shared_.settings.stall_timeout);
    http::async_read_some(stream_, buffer_, *parser_,
                          [self = shared(), this](boost::system::error_code ec, std::size_t) {
                            if (take_body(*parser_, ec)) read_body();
                          });
  }

  Stream stream_;
  // Beast's own read buffer: the response head (bounded by header_limit) and one read.
  beast::flat_buffer buffer_{kReadSize + (16u << 10)};
  http::request<http::empty_body> request_;
  std::optional<http::response_parser<http::buffer_body>> parser_;
};

class RelaySource final : public FrameSource {
 public:
  RelaySource(const RelaySettings& settings, const CaptureConfig& config)
      : tls_(ssl::context::tls_client), work_(asio::make_work_guard(io_)) {
    shared_.settings = settings;
    shared_.url = parse_relay_url(settings.url);
    if (shared_.url.has_credentials) {
      shared_.authorization = "Basic " + base64(shared_.url.user + ":" + shared_.url.password);
    }
    shared_.width = config.width;
    shared_.height = config.height;
    interval_ = config.interval;
    orientation_ = Orientation{config.rotation, config.hflip, config.vflip};
    if (shared_.url.tls) {
      tls_.set_options(ssl::context::default_workarounds | ssl::context::no_sslv2 |
                       ssl::context::no_sslv3 | ssl::context::no_tlsv1 | ssl::context::no_tlsv1_1);
      if (settings.insecure) {
        tls_.set_verify_mode(ssl::verify_none);
      } else {
        // The system's trust store (SSL_CERT_FILE and SSL_CERT_DIR are honoured).
        tls_.set_default_verify_paths();
        tls_.set_verify_mode(ssl::verify_peer);
      }
    }
    thread_ = std::thread([this] { io_.run(); });
  }

  ~RelaySource() override {
    stop();
    work_.reset();
    io_.stop();
    thread_.join();
  }

  void start(FrameCallback on_frame, ErrorCallback on_error) override {
    stop();
    running_ = true;
    asio::post(io_, [this, on_frame = std::move(on_frame), on_error = std::move(on_error)] {
      if (shared_.url.tls) {
        session_ = std::make_shared<StreamSession<beast::ssl_stream<beast::tcp_stream>>>(
            io_, shared_, on_frame, on_error, tls_);
      } else {
        session_ =
            std::make_shared<StreamSession<beast::tcp_stream>>(io_, shared_, on_frame, on_error);
      }
      session_->run();
    });
  }

  void stop() override {
    if (!running_) return;
    running_ = false;
    // The session lives on the source's thread: it is closed there, and once that has run
    // no callback of it can follow (they all run on that thread, and check closed_).
    std::promise<void> closed;
    asio::post(io_, [this, &closed] {
      if (session_) session_->close();
      session_.reset();
      closed.set_value();
    });
    closed.get_future().wait();
  }

  SourceInfo info() const override {
    SourceInfo info;
    info.name = "relay";
    info.camera_id = shared_.url.shown();
    info.width = shared_.width.load(std::memory_order_relaxed);
    info.height = shared_.height.load(std::memory_order_relaxed);
    if (!is_identity(orientation_)) {
      // The JPEGs go on unturned; the encoding stage decodes and turns them (an odd size
      // loses its last column or row there).
      const auto turned = turned_size(info.width & ~1, info.height & ~1, orientation_);
      info.width = turned.width;
      info.height = turned.height;
    }
    info.interval = interval_;
    return info;
  }

 private:
  RelayShared shared_;
  std::chrono::microseconds interval_{0};
  Orientation orientation_{};
  asio::io_context io_{1};
  ssl::context tls_;
  asio::executor_work_guard<asio::io_context::executor_type> work_;
  std::shared_ptr<Session> session_;  // only on the source's thread
  bool running_ = false;              // only on the caller's thread
  std::thread thread_;
};

}  // namespace

std::unique_ptr<FrameSource> make_relay_source(const RelaySettings& settings,
                                               const CaptureConfig& config) {
  try {
    return std::make_unique<RelaySource>(settings, config);
  } catch (const RelayUrlError& error) {
    throw CaptureError(std::string("--source: ") + error.what());
  }
}

}  // namespace camstream
