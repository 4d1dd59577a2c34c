// Strict, incremental checker for one camstream MJPEG stream (docs/api.md, "The stream").
//
// It is fed the bytes of one connection as they arrive and holds only header text, never a
// JPEG: the body is checked by its length and its first and last two bytes (SOI, EOI), so
// the load generator can let the kernel discard the middle of each picture (MSG_TRUNC).
#pragma once

#include <cstddef>
#include <cstdint>
#include <functional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

namespace camstream::bench {

enum class StreamError {
  none,
  bad_status,         // not "HTTP/1.1 200 OK" (e.g. 503 when over --max-clients)
  bad_response_head,  // a required header missing or with another value
  head_too_large,
  bad_delimiter,     // the body does not start with --camstreamframe\r\n
  bad_part_headers,  // not exactly Content-Type, Content-Length, X-Timestamp
  header_line_too_long,
  bad_jpeg,     // body does not start with SOI or end with EOI at Content-Length
  bad_trailer,  // the part is not followed by \r\n--camstreamframe\r\n
  data_after_close,
};

std::string_view to_string(StreamError error);

struct Part {
  std::size_t jpeg_size = 0;
  std::int64_t timestamp_us = 0;  // X-Timestamp, microseconds since the epoch
};

class MultipartChecker {
 public:
  using PartHandler = std::function<void(const Part&)>;

  // Feeds the next bytes of the connection; calls on_part for each complete part (its
  // trailer included). After the first error nothing more is accepted.
  void feed(std::span<const std::uint8_t> bytes, const PartHandler& on_part);
  // Bytes of the current JPEG body that may be discarded unseen (all but the first and the
  // last two, which carry SOI and EOI).
  std::size_t skippable() const;
  // Accounts for bytes the caller discarded instead of feeding; n <= skippable().
  void skip(std::size_t n);

  StreamError error() const { return error_; }
  const std::string& error_detail() const { return error_detail_; }
  int http_status() const { return http_status_; }
  bool closed() const { return state_ == State::closed; }  // close delimiter seen
  bool in_part() const { return state_ == State::body || state_ == State::trailer; }

  // When set, the JPEG bodies are copied here (the caller must then not skip).
  void capture_bodies(std::vector<std::uint8_t>* sink) { body_sink_ = sink; }

 private:
  enum class State {
    response_head,
    leading_delimiter,
    part_headers,
    body,
    trailer,
    closed,
    failed
  };

  std::size_t feed_text(std::span<const std::uint8_t> bytes);
  std::size_t feed_literal(std::span<const std::uint8_t> bytes, std::string_view literal,
                           StreamError on_mismatch);
  std::size_t feed_body(std::span<const std::uint8_t> bytes);
  void check_response_head();
  void check_part_headers();
  void fail(StreamError error, std::string detail);

  State state_ = State::response_head;
  std::string text_;  // header text gathered so far
  std::size_t literal_matched_ = 0;
  std::size_t body_size_ = 0;
  std::size_t body_seen_ = 0;
  std::uint8_t first_two_[2] = {0, 0};
  std::uint8_t last_two_[2] = {0, 0};
  Part part_;
  int http_status_ = 0;
  StreamError error_ = StreamError::none;
  std::string error_detail_;
  std::vector<std::uint8_t>* body_sink_ = nullptr;
};

}  // namespace camstream::bench
