#include "mjpeg_viewer.hpp"

#include <netinet/in.h>
#include <netinet/tcp.h>
#include <spdlog/spdlog.h>

#include <array>
#include <boost/asio/post.hpp>
#include <boost/asio/write.hpp>

namespace camstream {

namespace asio = boost::asio;
using Clock = std::chrono::steady_clock;

namespace {
// Unsent bytes the kernel may hold for a viewer. Above it the socket reads as not writable,
// so a slow viewer gets the newest frame next instead of a queue of old ones.
constexpr int kNotSentLowWater = 16 * 1024;

std::string describe(const asio::ip::tcp::socket& socket) {
  boost::system::error_code ec;
  const auto endpoint = socket.remote_endpoint(ec);
  if (ec) return "?";
  return endpoint.address().to_string() + ":" + std::to_string(endpoint.port());
}
}  // namespace

MjpegViewer::MjpegViewer(FlexStream stream, std::shared_ptr<ViewerHub> hub, const Route& route,
                         std::string target, access::Identity identity,
                         std::shared_ptr<OutputFeed> feed)
    : stream_(std::move(stream)),
      hub_(std::move(hub)),
      feed_(std::move(feed)),
      last_progress_(Clock::now()),
      advance_headers_(route.advance_headers),
      identity_(std::move(identity)),
      expiry_(stream_.get_executor()),
      target_(std::move(target)),
      peer_(describe(stream_.tcp().socket())),
      connected_at_(last_progress_) {
  if (route.fps) {
    // parse_route() bounds fps (kMinViewerFps..kMaxViewerFps), so this cannot overflow.
    min_period_ = std::chrono::duration_cast<Clock::duration>(
        std::chrono::duration<double>(1.0 / *route.fps));
  }
  boost::system::error_code ignored;
  auto& socket = stream_.tcp().socket();
  socket.set_option(asio::ip::tcp::no_delay(true), ignored);
  const int low_water = kNotSentLowWater;
  ::setsockopt(socket.native_handle(), IPPROTO_TCP, TCP_NOTSENT_LOWAT, &low_water,
               sizeof low_water);
  // A viewer only writes parts from here on, each with one sendmsg (or, over TLS, OpenSSL's
  // records written straight to the socket) and no Asio operation unless the socket is full
  // (flex_stream.hpp). The session that handed the connection over has nothing in flight.
  if (!stream_.use_direct_writes()) {
    spdlog::debug("viewer {}: writes stay on Asio's operations (TLS memory BIO)", peer_);
  }
}

MjpegViewer::~MjpegViewer() {
  const auto seconds = std::chrono::duration<double>(Clock::now() - connected_at_).count();
  spdlog::info("viewer {} disconnected from {}: {} frames in {:.1f} s", peer_, target_,
               frames_sent_, seconds);
}

void MjpegViewer::start() {
  connection_ = hub_->connections().join(weak_from_this());
  viewing_ =
      feed_ ? feed_->broadcaster.add_viewer(weak_from_this()) : hub_->add_viewer(weak_from_this());
  spdlog::info("viewer {} connected to {} ({} viewers)", peer_, target_, hub_->viewers());
  demand_ = hub_->hold_demand();
  if (identity_.expires > 0) {
    expiry_.expires_at(
        std::chrono::system_clock::time_point(std::chrono::seconds(identity_.expires)));
    expiry_.async_wait([self = shared_from_this()](boost::system::error_code ec) {
      if (!ec) self->end("its token expired");
    });
  }
  read();
  // Lives only as long as its write: a viewer keeps no per-connection buffers.
  auto head =
      std::make_shared<std::string>(multipart::response_head(hub_->settings().allow_origin));
  *head += multipart::kDelimiter;
  if (advance_headers_) *head += multipart::kAdvanceHeaders;
  write_in_flight_ = true;
  stream_.async_write_all(
      std::array{asio::const_buffer(asio::buffer(*head))},
      [self = shared_from_this(), head](boost::system::error_code ec, std::size_t) {
        self->write_in_flight_ = false;
        if (ec) return self->close();
        self->last_progress_ = Clock::now();
        if (self->closing_) return self->write_close_delimiter();
        // Start with the newest frame if capture is live, not a stale one.
        PartPtr first = std::exchange(self->pending_, nullptr);
        if (!first) first = self->hub_->first_part();
        // An output's newest part, when capture is live (the main stream's part says so).
        if (first && self->feed_) first = self->feed_->broadcaster.latest();
        if (first) self->write_part(std::move(first));
      });
}

// What a viewer sends is read and dropped; the end of it (EOF or an error) means it left.
void MjpegViewer::read() {
  stream_.async_read_some(asio::buffer(discard_),
                          [self = shared_from_this()](boost::system::error_code ec, std::size_t) {
                            if (ec) return self->close();
                            self->read();
                          });
}

void MjpegViewer::offer(const PartPtr& part, Finished& finished) {
  if (closing_ || closed_) return;
  if (min_period_ && !part->frame->placeholder) {
    const auto now = Clock::now();
    if (now < next_due_) {
      hub_->metrics().dropped_fps_cap.fetch_add(1, std::memory_order_relaxed);
      return;
    }
    // Allow a little jitter so a 10 fps cap on a 10 fps source keeps every frame.
    next_due_ = now + *min_period_ * 9 / 10;
  }
  if (write_in_flight_) {
    if (pending_) hub_->metrics().dropped_slow_viewer.fetch_add(1, std::memory_order_relaxed);
    pending_ = part;
    return;
  }
  write_part(part, &finished);
}

void MjpegViewer::complete_later(Finished finished) {
  if (finished.empty()) return;
  const auto executor = finished.front()->stream_.get_executor();
  asio::post(executor, [finished = std::move(finished)] {
    const auto now = Clock::now();  // one clock read for the batch, not one per viewer
    for (const auto& viewer : finished) viewer->on_written({}, viewer->written_, now);
  });
}

void MjpegViewer::write_part(PartPtr part, Finished* finished) {
  writing_ = std::move(part);
  write_in_flight_ = true;
  written_ = 0;
  if (stream_.direct_writes()) return continue_part(true, finished);
  stream_.async_write_all(
      part_buffers(), [self = shared_from_this()](boost::system::error_code ec, std::size_t bytes) {
        self->on_written(ec, bytes);
      });
}

// One gathered write straight from the shared frame: no copy per viewer. Over TLS the joined
// part, so that no record is a small one of its own (header, trailer): 3 records for 40 KB.
std::array<asio::const_buffer, 4> MjpegViewer::part_buffers() const {
  const auto jpeg = writing_->frame->jpeg();
  const std::string_view header(writing_->header.data(), writing_->header_size);
  const std::string_view advance = advance_headers_ ? multipart::kAdvanceHeaders : "";
  if (stream_.is_tls() && stream_.direct_writes()) {
    if (!writing_->joined) {
      auto joined = std::make_shared<std::string>();
      joined->reserve(header.size() + jpeg.size() + multipart::kTrailer.size() +
                      multipart::kAdvanceHeaders.size());
      joined->append(header);
      joined->append(reinterpret_cast<const char*>(jpeg.data()), jpeg.size());
      joined->append(multipart::kTrailer);
      joined->append(multipart::kAdvanceHeaders);
      writing_->joined = std::move(joined);
    }
    const std::string& joined = *writing_->joined;
    const std::size_t from = advance_headers_ ? header.size() : 0;
    const std::size_t to =
        header.size() + jpeg.size() + multipart::kTrailer.size() + advance.size();
    return {asio::buffer(joined.data() + from, to - from), asio::const_buffer(),
            asio::const_buffer(), asio::const_buffer()};
  }
  return {asio::buffer(header.data(), advance_headers_ ? 0 : header.size()),
          asio::buffer(jpeg.data(), jpeg.size()),
          asio::buffer(multipart::kTrailer.data(), multipart::kTrailer.size()),
          asio::buffer(advance.data(), advance.size())};
}

// Writes what the socket takes now. A part usually goes whole at once; only a full socket
// costs an Asio operation, a wait for writability. Completion is never inline in write_part():
// offer() runs inside the broadcaster's walk, and with parts completing there, accepts and
// requests starved at 1000 viewers (measured: a third of the viewers got no frame in 5 s).
// Inside a walk the completion waits in `finished` for the walk's one post (complete_later).
void MjpegViewer::continue_part(bool first, Finished* finished) {
  const auto buffers = part_buffers();
  boost::system::error_code ec;
  written_ += stream_.write_now(buffers, written_, ec);
  if (ec == asio::error::would_block) {
    return stream_.async_wait_writable(
        [self = shared_from_this()](boost::system::error_code wait_ec) {
          if (wait_ec) return self->on_written(wait_ec, self->written_);
          self->continue_part(false);
        });
  }
  if (!first) return on_written(ec, written_);
  if (finished != nullptr && !ec) {
    finished->push_back(shared_from_this());
    return;
  }
  asio::post(stream_.get_executor(),
             [self = shared_from_this(), ec] { self->on_written(ec, self->written_); });
}

void MjpegViewer::on_written(boost::system::error_code ec, std::size_t bytes) {
  on_written(ec, bytes, Clock::now());
}

void MjpegViewer::on_written(boost::system::error_code ec, std::size_t bytes,
                             Clock::time_point now) {
  write_in_flight_ = false;
  writing_.reset();
  if (ec) return close();
  last_progress_ = now;
  ++frames_sent_;
  hub_->metrics().frames_sent.fetch_add(1, std::memory_order_relaxed);
  hub_->metrics().bytes_sent.fetch_add(bytes, std::memory_order_relaxed);
  if (feed_) {
    feed_->output->sink().frames_sent.fetch_add(1, std::memory_order_relaxed);
    feed_->output->sink().bytes_sent.fetch_add(bytes, std::memory_order_relaxed);
  } else {
    hub_->metrics().main_frames_sent.fetch_add(1, std::memory_order_relaxed);
  }
  if (closing_) return write_close_delimiter();
  if (pending_) write_part(std::exchange(pending_, nullptr));
}

void MjpegViewer::close_for_shutdown() {
  if (closing_ || closed_) return;
  closing_ = true;
  pending_.reset();
  if (!write_in_flight_) write_close_delimiter();
}

void MjpegViewer::recheck_access(const access::Gate& gate) {
  if (gate.recheck(identity_)) return;
  end("its credential no longer holds");
}

void MjpegViewer::end(std::string_view why) {
  if (closing_ || closed_) return;
  spdlog::info("viewer {}: {}: ending the stream", peer_, why);
  close_for_shutdown();  // the close delimiter after the part being written
}

void MjpegViewer::write_close_delimiter() {
  const std::string_view delimiter =
      advance_headers_ ? multipart::kCloseDelimiterInBody : multipart::kCloseDelimiter;
  write_in_flight_ = true;
  stream_.async_write_all(std::array{asio::const_buffer(delimiter.data(), delimiter.size())},
                          [self = shared_from_this()](boost::system::error_code, std::size_t) {
                            self->write_in_flight_ = false;
                            self->close();
                          });
}

void MjpegViewer::check_stalled(Clock::time_point now) {
  if (closed_ || !write_in_flight_) return;
  const auto limit = closing_ ? std::chrono::seconds(1) : hub_->settings().stall_timeout;
  if (now - last_progress_ >= limit) {
    spdlog::info("viewer {} read nothing for {} s: dropped", peer_,
                 std::chrono::duration_cast<std::chrono::seconds>(now - last_progress_).count());
    close();
  }
}

void MjpegViewer::close() {
  if (closed_) return;
  closed_ = true;
  expiry_.cancel();
  pending_.reset();
  viewing_.reset();
  feed_.reset();  // the last viewer of an output releases it
  demand_.reset();
  connection_.reset();
  stream_.close();
}

}  // namespace camstream
