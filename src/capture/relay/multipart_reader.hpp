// The body of an upstream MJPEG stream (multipart/x-mixed-replace) cut into parts, as real
// cameras send it: parts with or without Content-Length, a delimiter with or without leading
// dashes, and a delimiter that differs from the header's boundary= (the body's first line is
// taken as the truth). Pure: bytes in, parts out, no I/O, so it is tested on every split.
#pragma once

#include <cstddef>
#include <cstdint>
#include <functional>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

namespace camstream::relay {

struct MultipartLimits {
  std::size_t max_part = 16u << 20;     // body bytes of one part (SPEC section 10)
  std::size_t max_headers = 16u << 10;  // one part's header block, and any preamble
  std::size_t max_delimiter = 256;      // RFC 2046 allows 70 characters; some cameras add dashes
};

// One part, valid only during the callback (its bytes live in the reader's buffer).
struct MultipartPart {
  std::span<const std::uint8_t> body;
  std::optional<std::string> timestamp;     // the X-Timestamp header's value, when present
  std::optional<std::string> content_type;  // as sent
};

class MultipartReader {
 public:
  using PartCallback = std::function<void(const MultipartPart&)>;

  // `declared_boundary`: the Content-Type's boundary= parameter (possibly empty, possibly with
  // dashes); used only when the body does not start with a delimiter line of its own.
  explicit MultipartReader(std::string declared_boundary, MultipartLimits limits = {});

  // Where the next bytes read from the network go (at most `size` of them), and how many came.
  // The buffer never holds more than one part, its headers and the latest read.
  std::span<std::uint8_t> prepare(std::size_t size);
  // Parses what commit adds; calls on_part for each part completed. Returns false once the
  // stream is broken (error() says why) or ended (ended()); nothing more is parsed then.
  bool commit(std::size_t size, const PartCallback& on_part);
  // prepare + copy + commit, for tests and the fuzz target.
  bool feed(std::span<const std::uint8_t> bytes, const PartCallback& on_part);

  const std::string& error() const { return error_; }
  bool ended() const { return ended_; }  // the close delimiter came
  const std::string& delimiter() const { return delimiter_; }
  std::size_t buffered() const { return end_ - begin_; }
  std::uint64_t parts() const { return parts_; }
  std::size_t capacity() const { return buffer_.capacity(); }

 private:
  enum class State { preamble, headers, body_sized, body_scan, after_body };
  bool fail(std::string why);
  bool parse(const PartCallback& on_part);
  bool parse_preamble();
  bool parse_headers();
  bool parse_body_sized(const PartCallback& on_part);
  bool parse_body_scan(const PartCallback& on_part);
  bool parse_after_body();
  // Finds the delimiter in [from, end); npos when absent. A match must be followed by CR, LF,
  // "--", space or tab; `need_more` is set when it cannot be told yet.
  std::size_t find_delimiter(std::size_t from, bool& need_more);
  // After a delimiter at `at`: where the line after it starts, kIncomplete while that line has
  // not all come. A close delimiter sets ended_.
  std::size_t delimiter_line_end(std::size_t at);
  static constexpr std::size_t kIncomplete = static_cast<std::size_t>(-1);
  void deliver(std::size_t body_begin, std::size_t body_end, const PartCallback& on_part);
  std::string_view text(std::size_t from, std::size_t to) const;
  std::size_t find_newline(std::size_t from) const;  // kIncomplete when none

  std::string declared_;
  MultipartLimits limits_;
  std::vector<std::uint8_t> buffer_;
  std::size_t begin_ = 0;      // first unconsumed byte
  std::size_t end_ = 0;        // one past the last byte committed
  std::size_t scan_from_ = 0;  // where the next delimiter search starts (no quadratic rescans)
  State state_ = State::preamble;
  std::string delimiter_;         // e.g. "--myboundary" or "myboundary", as the body's first line
  std::size_t header_bytes_ = 0;  // of the current part's header block so far
  std::optional<std::size_t> content_length_;
  std::size_t last_length_ = 0;  // the last part's, for messages
  std::uint64_t parts_ = 0;
  std::optional<std::string> timestamp_;
  std::optional<std::string> content_type_;
  std::string error_;
  bool ended_ = false;
};

}  // namespace camstream::relay
