#include "multipart_checker.hpp"

#include <strings.h>

#include <algorithm>
#include <charconv>
#include <cstdio>
#include <cstring>
#include <vector>

namespace camstream::bench {
namespace {

constexpr std::string_view kDelimiter = "--camstreamframe\r\n";
constexpr std::string_view kTrailer = "\r\n--camstreamframe\r\n";
constexpr std::string_view kCloseDelimiter = "--camstreamframe--\r\n";
constexpr std::size_t kMaxResponseHead = 8192;
constexpr std::size_t kMaxPartHead = 1024;
constexpr std::size_t kMaxHeaderLine = 127;  // docs/api.md: header lines under 128 bytes
constexpr std::size_t kMaxJpeg = 64u << 20;

struct Header {
  std::string_view name;
  std::string_view value;
};

bool equals_ignoring_case(std::string_view a, std::string_view b) {
  return a.size() == b.size() && ::strncasecmp(a.data(), b.data(), a.size()) == 0;
}

// Splits "Name: value" lines (the block without its final empty line).
bool split_headers(std::string_view block, std::vector<Header>& headers, std::string& bad_line) {
  while (!block.empty()) {
    const auto end = block.find("\r\n");
    const auto line = block.substr(0, end);
    block = end == std::string_view::npos ? std::string_view{} : block.substr(end + 2);
    const auto colon = line.find(':');
    if (colon == std::string_view::npos || colon == 0) {
      bad_line = std::string(line);
      return false;
    }
    auto value = line.substr(colon + 1);
    while (!value.empty() && (value.front() == ' ' || value.front() == '\t'))
      value.remove_prefix(1);
    while (!value.empty() && (value.back() == ' ' || value.back() == '\t')) value.remove_suffix(1);
    headers.push_back({line.substr(0, colon), value});
  }
  return true;
}

// "<seconds>.<6 digits>" to microseconds.
bool parse_timestamp(std::string_view text, std::int64_t& microseconds) {
  const auto dot = text.find('.');
  if (dot == std::string_view::npos || dot == 0 || text.size() - dot - 1 != 6) return false;
  std::int64_t seconds = 0;
  std::int64_t fraction = 0;
  const auto* first = text.data();
  auto [end1, ec1] = std::from_chars(first, first + dot, seconds);
  auto [end2, ec2] = std::from_chars(first + dot + 1, first + text.size(), fraction);
  if (ec1 != std::errc{} || end1 != first + dot || ec2 != std::errc{} ||
      end2 != first + text.size() || text[dot + 1] == '-' || text[0] == '-') {
    return false;
  }
  microseconds = seconds * 1'000'000 + fraction;
  return true;
}

}  // namespace

std::string_view to_string(StreamError error) {
  switch (error) {
    case StreamError::none:
      return "none";
    case StreamError::bad_status:
      return "bad_status";
    case StreamError::bad_response_head:
      return "bad_response_head";
    case StreamError::head_too_large:
      return "head_too_large";
    case StreamError::bad_delimiter:
      return "bad_delimiter";
    case StreamError::bad_part_headers:
      return "bad_part_headers";
    case StreamError::header_line_too_long:
      return "header_line_too_long";
    case StreamError::bad_jpeg:
      return "bad_jpeg";
    case StreamError::bad_trailer:
      return "bad_trailer";
    case StreamError::data_after_close:
      return "data_after_close";
  }
  return "unknown";
}

void MultipartChecker::fail(StreamError error, std::string detail) {
  state_ = State::failed;
  error_ = error;
  error_detail_ = std::move(detail);
}

void MultipartChecker::feed(std::span<const std::uint8_t> bytes, const PartHandler& on_part) {
  while (!bytes.empty() && state_ != State::failed) {
    std::size_t used = 0;
    switch (state_) {
      case State::response_head:
      case State::part_headers:
        used = feed_text(bytes);
        break;
      case State::leading_delimiter:
        used = feed_literal(bytes, kDelimiter, StreamError::bad_delimiter);
        if (literal_matched_ == kDelimiter.size()) {
          literal_matched_ = 0;
          state_ = State::part_headers;
        }
        break;
      case State::body:
        used = feed_body(bytes);
        break;
      case State::trailer:
        used = feed_literal(bytes, kTrailer, StreamError::bad_trailer);
        if (literal_matched_ == kTrailer.size()) {
          literal_matched_ = 0;
          state_ = State::part_headers;
          on_part(part_);
        }
        break;
      case State::closed:
        fail(StreamError::data_after_close, "bytes after the close delimiter");
        break;
      case State::failed:
        break;
    }
    bytes = bytes.subspan(used);
  }
}

std::size_t MultipartChecker::feed_text(std::span<const std::uint8_t> bytes) {
  const bool response = state_ == State::response_head;
  const std::size_t limit = response ? kMaxResponseHead : kMaxPartHead;
  std::size_t used = 0;
  while (used < bytes.size()) {
    text_.push_back(static_cast<char>(bytes[used++]));
    const std::string_view text = text_;
    if (text.ends_with("\r\n")) {
      const auto line_start = text.substr(0, text.size() - 2).rfind("\r\n");
      const auto line_length =
          text.size() - 2 - (line_start == std::string_view::npos ? 0 : line_start + 2);
      if (!response && line_length > kMaxHeaderLine) {
        fail(StreamError::header_line_too_long, std::to_string(line_length) + " bytes");
        return used;
      }
      if (!response && text == kCloseDelimiter) {
        state_ = State::closed;
        text_.clear();
        return used;
      }
      if (text.ends_with("\r\n\r\n")) {
        if (response) {
          check_response_head();
        } else {
          check_part_headers();
        }
        text_.clear();
        return used;
      }
    }
    if (text_.size() > limit) {
      fail(response ? StreamError::head_too_large : StreamError::header_line_too_long,
           std::to_string(text_.size()) + " bytes without an empty line");
      return used;
    }
  }
  return used;
}

std::size_t MultipartChecker::feed_literal(std::span<const std::uint8_t> bytes,
                                           std::string_view literal, StreamError on_mismatch) {
  std::size_t used = 0;
  while (used < bytes.size() && literal_matched_ < literal.size()) {
    if (static_cast<char>(bytes[used]) != literal[literal_matched_]) {
      std::string got;
      for (std::size_t i = used; i < bytes.size() && i < used + 24; ++i) {
        const char c = static_cast<char>(bytes[i]);
        char escaped[8];
        std::snprintf(escaped, sizeof escaped, "\\x%02x", bytes[i]);
        got += (c >= 32 && c < 127) ? std::string(1, c) : std::string(escaped);
      }
      fail(on_mismatch, "at byte " + std::to_string(literal_matched_) + " got \"" + got + "\"");
      return used;
    }
    ++used;
    ++literal_matched_;
  }
  return used;
}

std::size_t MultipartChecker::feed_body(std::span<const std::uint8_t> bytes) {
  const std::size_t used = std::min(bytes.size(), body_size_ - body_seen_);
  for (std::size_t i = 0; i < used && body_seen_ + i < 2; ++i)
    first_two_[body_seen_ + i] = bytes[i];
  if (used >= 2) {
    last_two_[0] = bytes[used - 2];
    last_two_[1] = bytes[used - 1];
  } else if (used == 1) {
    last_two_[0] = last_two_[1];
    last_two_[1] = bytes[0];
  }
  if (body_sink_ != nullptr)
    body_sink_->insert(body_sink_->end(), bytes.begin(), bytes.begin() + used);
  body_seen_ += used;
  if (body_seen_ == body_size_) {
    if (first_two_[0] != 0xFF || first_two_[1] != 0xD8) {
      fail(StreamError::bad_jpeg, "no SOI at the start of the part");
    } else if (last_two_[0] != 0xFF || last_two_[1] != 0xD9) {
      fail(StreamError::bad_jpeg, "no EOI at Content-Length");
    } else {
      state_ = State::trailer;
    }
  }
  return used;
}

std::size_t MultipartChecker::skippable() const {
  if (state_ != State::body || body_seen_ < 2 || body_sink_ != nullptr) return 0;
  const std::size_t left = body_size_ - body_seen_;
  return left > 2 ? left - 2 : 0;
}

void MultipartChecker::skip(std::size_t n) {
  body_seen_ += std::min(n, skippable());
}

void MultipartChecker::check_response_head() {
  std::string_view head = text_;
  head.remove_suffix(4);  // the empty line
  const auto status_end = head.find("\r\n");
  const auto status_line = head.substr(0, status_end);
  if (status_line.starts_with("HTTP/1.") && status_line.size() >= 12) {
    std::from_chars(status_line.data() + 9, status_line.data() + 12, http_status_);
  }
  if (status_line != "HTTP/1.1 200 OK") {
    fail(StreamError::bad_status, std::string(status_line));
    return;
  }
  std::vector<Header> headers;
  std::string bad_line;
  if (status_end != std::string_view::npos &&
      !split_headers(head.substr(status_end + 2), headers, bad_line)) {
    fail(StreamError::bad_response_head, "malformed line \"" + bad_line + "\"");
    return;
  }
  static constexpr Header kRequired[] = {
      {"Content-Type", "multipart/x-mixed-replace; boundary=camstreamframe"},
      {"Cache-Control", "no-store, no-cache, must-revalidate, max-age=0"},
      {"Pragma", "no-cache"},
      {"X-Accel-Buffering", "no"},
      {"Connection", "close"},
  };
  for (const auto& required : kRequired) {
    const auto found = std::find_if(headers.begin(), headers.end(), [&](const Header& h) {
      return equals_ignoring_case(h.name, required.name);
    });
    if (found == headers.end()) {
      fail(StreamError::bad_response_head, "missing " + std::string(required.name));
      return;
    }
    if (found->value != required.value) {
      fail(StreamError::bad_response_head,
           std::string(required.name) + ": " + std::string(found->value));
      return;
    }
  }
  state_ = State::leading_delimiter;
}

void MultipartChecker::check_part_headers() {
  std::string_view block = text_;
  block.remove_suffix(4);
  std::vector<Header> headers;
  std::string bad_line;
  if (!split_headers(block, headers, bad_line)) {
    fail(StreamError::bad_part_headers, "malformed line \"" + bad_line + "\"");
    return;
  }
  if (headers.size() != 3 || !equals_ignoring_case(headers[0].name, "Content-Type") ||
      !equals_ignoring_case(headers[1].name, "Content-Length") ||
      !equals_ignoring_case(headers[2].name, "X-Timestamp")) {
    fail(StreamError::bad_part_headers,
         "want Content-Type, Content-Length, X-Timestamp; got \"" + std::string(block) + "\"");
    return;
  }
  if (headers[0].value != "image/jpeg") {
    fail(StreamError::bad_part_headers, "Content-Type: " + std::string(headers[0].value));
    return;
  }
  std::size_t length = 0;
  const auto& length_text = headers[1].value;
  auto [end, ec] =
      std::from_chars(length_text.data(), length_text.data() + length_text.size(), length);
  if (ec != std::errc{} || end != length_text.data() + length_text.size() || length < 4 ||
      length > kMaxJpeg) {
    fail(StreamError::bad_part_headers, "Content-Length: " + std::string(length_text));
    return;
  }
  if (!parse_timestamp(headers[2].value, part_.timestamp_us)) {
    fail(StreamError::bad_part_headers, "X-Timestamp: " + std::string(headers[2].value));
    return;
  }
  part_.jpeg_size = length;
  body_size_ = length;
  body_seen_ = 0;
  state_ = State::body;
}

}  // namespace camstream::bench
