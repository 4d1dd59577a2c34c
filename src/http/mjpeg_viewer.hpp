// One stream viewer: writes the newest frame whenever its socket can take one.
#pragma once

#include <array>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/system_timer.hpp>
#include <chrono>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "context.hpp"
#include "flex_stream.hpp"
#include "output_feed.hpp"
#include "route.hpp"

namespace camstream {

class MjpegViewer : public Connection, public std::enable_shared_from_this<MjpegViewer> {
 public:
  // `identity`: who asked; the stream ends with the close delimiter when their credential no
  // longer holds after a reload, or when their token expires.
  // `feed`: the output it watches (docs/api.md, "Outputs per viewer"); nullptr: the main
  // stream.
  MjpegViewer(FlexStream stream, std::shared_ptr<ViewerHub> hub, const Route& route,
              std::string target, access::Identity identity,
              std::shared_ptr<OutputFeed> feed = nullptr);
  ~MjpegViewer() override;

  // Viewers whose part went out whole during one broadcaster walk, completed together by one
  // posted handler (complete_later) rather than one post each: Asio recycles the memory of
  // only two posted handlers, so 1000 posts a frame were 1000 mallocs and frees.
  using Finished = std::vector<std::shared_ptr<MjpegViewer>>;

  // The bytes from the object's start that a frame touches (the members declared first), which
  // the broadcaster's walk fetches into cache ahead of the viewer's turn (Registry).
  static constexpr std::size_t kPrefetchBytes = 208;  // up to identity_ (gdb: ptype /o)

  void start();  // sends the response head, then frames
  // Writes `part` now if the viewer is free (else keeps it as the next). A part that goes out
  // whole is added to `finished`, for complete_later() after the walk.
  void offer(const PartPtr& part, Finished& finished);
  static void complete_later(Finished finished);
  void close_for_shutdown() override;
  void check_stalled(std::chrono::steady_clock::time_point now) override;
  void recheck_access(const access::Gate& gate) override;
  void end(std::string_view why);  // the close delimiter after the part being written

 private:
  void read();
  // `finished`: where to leave the viewer when the part goes out whole at once (nullptr: post
  // its completion on its own).
  void write_part(PartPtr part, Finished* finished = nullptr);
  std::array<boost::asio::const_buffer, 4> part_buffers() const;
  void continue_part(bool first, Finished* finished = nullptr);
  void on_written(boost::system::error_code ec, std::size_t bytes);
  void on_written(boost::system::error_code ec, std::size_t bytes,
                  std::chrono::steady_clock::time_point now);
  void write_close_delimiter();
  void close();

  // What every frame touches comes first, next to the control block (make_shared puts it just
  // before the object), so that the broadcaster's walk can fetch it ahead (kPrefetchBytes):
  // at 1000 viewers, each of these lines was a cache miss per viewer and frame.
  FlexStream stream_;  // plain TCP or TLS
  std::shared_ptr<ViewerHub> hub_;
  std::shared_ptr<OutputFeed> feed_;  // held: the output lives while it has viewers
  PartPtr writing_;
  std::size_t written_ = 0;  // of writing_, so far
  PartPtr pending_;
  std::optional<std::chrono::steady_clock::duration> min_period_;  // ?fps=
  std::chrono::steady_clock::time_point next_due_{};
  std::chrono::steady_clock::time_point last_progress_;
  std::uint64_t frames_sent_ = 0;
  bool advance_headers_;
  bool write_in_flight_ = false;
  bool closing_ = false;
  bool closed_ = false;

  access::Identity identity_;
  boost::asio::system_timer expiry_;  // a token's end
  ConnectionRegistry::Membership connection_;
  Registry<MjpegViewer>::Membership viewing_;
  DemandToken demand_;
  // The viewer always has a read pending: it sees the client leave at once, even between
  // frames (a capped viewer may write nothing for seconds), and owns itself through it.
  std::array<char, 256> discard_{};
  std::string target_;
  std::string peer_;
  std::chrono::steady_clock::time_point connected_at_;
};

}  // namespace camstream
