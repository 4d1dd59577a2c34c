#include "multipart_reader.hpp"

#include <algorithm>
#include <cstring>

namespace camstream::relay {

namespace {

bool is_space(std::uint8_t c) {
  return c == ' ' || c == '\t';
}

// Bytes that have no place in a delimiter or header line: a stream that sends them there is
// not a multipart stream (a raw JPEG, a binary protocol, noise).
bool is_control(std::uint8_t c) {
  return (c < 0x20 && c != '\t' && c != '\r') || c == 0x7f;
}

std::string_view trim(std::string_view text) {
  while (!text.empty() && is_space(static_cast<std::uint8_t>(text.front()))) text.remove_prefix(1);
  while (!text.empty() && (is_space(static_cast<std::uint8_t>(text.back())) || text.back() == '\r'))
    text.remove_suffix(1);
  return text;
}

bool iequals(std::string_view a, std::string_view b) {
  return a.size() == b.size() && std::equal(a.begin(), a.end(), b.begin(), [](char x, char y) {
           return (x | 0x20) == (y | 0x20);
         });
}

// An upstream's text in a message: short and printable, whatever it sent.
std::string quoted(std::string_view text) {
  std::string out;
  for (const char c : text.substr(0, 32)) {
    out += c >= 0x20 && c < 0x7f ? c : '?';
  }
  if (text.size() > 32) out += "...";
  return "'" + out + "'";
}

std::string size_text(std::size_t bytes) {
  if (bytes >= (1u << 20) && bytes % (1u << 20) == 0) return std::to_string(bytes >> 20) + " MiB";
  if (bytes >= (1u << 10) && bytes % (1u << 10) == 0) return std::to_string(bytes >> 10) + " KiB";
  return std::to_string(bytes) + " bytes";
}

}  // namespace

MultipartReader::MultipartReader(std::string declared_boundary, MultipartLimits limits)
    : declared_(std::move(declared_boundary)), limits_(limits) {}

std::span<std::uint8_t> MultipartReader::prepare(std::size_t size) {
  // Consumed bytes go before new ones come: what stays is at most one partial part.
  if (begin_ > 0) {
    std::memmove(buffer_.data(), buffer_.data() + begin_, end_ - begin_);
    end_ -= begin_;
    begin_ = 0;
  }
  if (buffer_.size() < end_ + size) {
    // Grow by doubling, but never past what one part, its headers and a read can need, so a
    // refused part leaves at most that much behind (not twice it).
    const std::size_t ceiling =
        limits_.max_part + limits_.max_headers + limits_.max_delimiter + 2 * size + 64;
    if (buffer_.capacity() < end_ + size) {
      buffer_.reserve(std::max(end_ + size, std::min(2 * buffer_.capacity(), ceiling)));
    }
    buffer_.resize(end_ + size);
  }
  return {buffer_.data() + end_, size};
}

bool MultipartReader::commit(std::size_t size, const PartCallback& on_part) {
  end_ = std::min(end_ + size, buffer_.size());
  if (!error_.empty() || ended_) return false;
  return parse(on_part);
}

bool MultipartReader::feed(std::span<const std::uint8_t> bytes, const PartCallback& on_part) {
  const auto room = prepare(bytes.size());
  if (!bytes.empty()) std::memcpy(room.data(), bytes.data(), bytes.size());
  return commit(bytes.size(), on_part);
}

bool MultipartReader::fail(std::string why) {
  if (error_.empty()) error_ = std::move(why);
  return false;
}

std::size_t MultipartReader::find_newline(std::size_t from) const {
  if (from >= end_) return kIncomplete;
  const auto* found =
      static_cast<const std::uint8_t*>(std::memchr(buffer_.data() + from, '\n', end_ - from));
  return found ? static_cast<std::size_t>(found - buffer_.data()) : kIncomplete;
}

std::string_view MultipartReader::text(std::size_t from, std::size_t to) const {
  return {reinterpret_cast<const char*>(buffer_.data()) + from, to - from};
}

// Each step returns true when it made progress and the next may run, false when it needs
// more bytes (or failed, or the stream ended: error_ and ended_ tell).
bool MultipartReader::parse(const PartCallback& on_part) {
  while (true) {
    bool progress = false;
    switch (state_) {
      case State::preamble:
        progress = parse_preamble();
        break;
      case State::headers:
        progress = parse_headers();
        break;
      case State::body_sized:
        progress = parse_body_sized(on_part);
        break;
      case State::body_scan:
        progress = parse_body_scan(on_part);
        break;
      case State::after_body:
        progress = parse_after_body();
        break;
    }
    if (!error_.empty() || ended_) return false;
    if (!progress) return true;
  }
}

// The body's first non-empty line is the delimiter as this upstream writes it, whatever its
// boundary= said. A first line that is a header means the upstream left out the first
// delimiter: the declared boundary is then all there is.
bool MultipartReader::parse_preamble() {
  while (begin_ < end_ && (buffer_[begin_] == '\r' || buffer_[begin_] == '\n')) ++begin_;
  const std::size_t from = begin_ + scan_from_;
  const std::size_t newline = find_newline(from);
  const bool found = newline != kIncomplete;
  const std::size_t line_end = found ? newline : end_;
  for (std::size_t i = from; i < line_end; ++i) {
    if (is_control(buffer_[i])) {
      return fail("the stream does not start with a multipart delimiter (binary data)");
    }
  }
  // Judged the same whether the line's end has come or not, so that where the reads cut the
  // stream never changes the outcome (a blank line longer than the limit once passed when read
  // whole).
  if (line_end - begin_ > limits_.max_headers) {
    return fail("no line end in the first " + size_text(limits_.max_headers) + " of the stream");
  }
  const std::string_view line = trim(text(begin_, line_end));
  const bool header = line.find(':') != std::string_view::npos;
  if (found && line.empty()) {  // white space only: not yet the delimiter
    begin_ = line_end + 1;
    scan_from_ = 0;
    return true;
  }
  if (!found) {
    scan_from_ = end_ - begin_;
    return false;  // a line is judged once it ends: it may yet turn out to be a header
  }
  scan_from_ = 0;
  if (header) {
    std::string_view declared = trim(declared_);
    if (declared.empty()) return fail("the stream starts with no delimiter and has no boundary=");
    delimiter_ =
        declared.substr(0, 2) == "--" ? std::string(declared) : "--" + std::string(declared);
    state_ = State::headers;  // the line is the first part's first header: not consumed
    return true;
  }
  if (line.size() > limits_.max_delimiter) {
    return fail("the delimiter line is longer than " + size_text(limits_.max_delimiter));
  }
  delimiter_ = std::string(line);
  begin_ = line_end + 1;
  state_ = State::headers;
  return true;
}

bool MultipartReader::parse_headers() {
  while (true) {
    const std::size_t from = begin_ + scan_from_;
    const std::size_t newline = find_newline(from);
    const bool found = newline != kIncomplete;
    const std::size_t line_end = found ? newline : end_;
    for (std::size_t i = from; i < line_end; ++i) {
      if (is_control(buffer_[i])) return fail("a part's headers hold binary data");
    }
    if (header_bytes_ + (line_end - begin_) > limits_.max_headers) {
      return fail("a part's header block is larger than " + size_text(limits_.max_headers));
    }
    if (!found) {
      scan_from_ = end_ - begin_;
      return false;
    }
    scan_from_ = 0;
    const std::string_view line = trim(text(begin_, line_end));
    header_bytes_ += line_end + 1 - begin_;
    begin_ = line_end + 1;
    if (line.empty()) break;
    const auto colon = line.find(':');
    if (colon == std::string_view::npos) {
      return fail("a part header line is not NAME: VALUE: " + quoted(line));
    }
    const std::string_view name = trim(line.substr(0, colon));
    const std::string_view value = trim(line.substr(colon + 1));
    if (iequals(name, "Content-Length")) {
      const bool digits =
          !value.empty() && value.size() <= 12 &&
          std::all_of(value.begin(), value.end(), [](char c) { return c >= '0' && c <= '9'; });
      if (!digits) return fail("a part's Content-Length is not a number: " + quoted(value));
      const std::size_t length = std::stoull(std::string(value));
      if (length > limits_.max_part) {
        return fail("a part of " + std::to_string(length) + " bytes is over the " +
                    size_text(limits_.max_part) + " limit");
      }
      content_length_ = length;
    } else if (iequals(name, "X-Timestamp")) {
      timestamp_ = std::string(value.substr(0, 64));
    } else if (iequals(name, "Content-Type")) {
      content_type_ = std::string(value.substr(0, 128));
    }
  }
  header_bytes_ = 0;
  state_ = content_length_ ? State::body_sized : State::body_scan;
  return true;
}

bool MultipartReader::parse_body_sized(const PartCallback& on_part) {
  if (end_ - begin_ < *content_length_) return false;
  deliver(begin_, begin_ + *content_length_, on_part);
  begin_ += *content_length_;
  state_ = State::after_body;
  return true;
}

// Between a sized part and the next delimiter there should be only CRLF; cameras add a few
// bytes more, so anything up to a header block's size is skipped.
bool MultipartReader::parse_after_body() {
  bool need_more = false;
  const std::size_t at = find_delimiter(begin_ + scan_from_, need_more);
  // The same limit whether the delimiter came in this read or was still missing.
  if (at != std::string::npos ? at - begin_ > limits_.max_headers
                              : end_ - begin_ > limits_.max_headers + delimiter_.size() + 2) {
    return fail("no delimiter after a part of Content-Length " + std::to_string(last_length_) +
                " (a wrong Content-Length?)");
  }
  if (at == std::string::npos) return false;
  const std::size_t next = delimiter_line_end(at);
  if (next == kIncomplete) return false;
  begin_ = next;
  state_ = State::headers;
  return !ended_;
}

bool MultipartReader::parse_body_scan(const PartCallback& on_part) {
  bool need_more = false;
  const std::size_t at = find_delimiter(begin_ + scan_from_, need_more);
  if (at == std::string::npos) {
    // A delimiter within the limit, with the two bytes that tell what it is, would be here.
    if (end_ - begin_ > limits_.max_part + delimiter_.size() + 4) {
      return fail("a part is larger than " + size_text(limits_.max_part) + " (no delimiter found)");
    }
    return false;
  }
  if (at - begin_ > limits_.max_part + 2) {  // the same limit as while it was missing
    return fail("a part is larger than " + size_text(limits_.max_part) + " (no delimiter found)");
  }
  const std::size_t next = delimiter_line_end(at);
  if (next == kIncomplete) return false;
  // The line end before the delimiter belongs to the delimiter (RFC 2046).
  std::size_t body_end = at;
  if (body_end > begin_ && buffer_[body_end - 1] == '\n') --body_end;
  if (body_end > begin_ && buffer_[body_end - 1] == '\r') --body_end;
  deliver(begin_, body_end, on_part);
  begin_ = next;
  state_ = State::headers;
  return !ended_;
}

std::size_t MultipartReader::find_delimiter(std::size_t from, bool& need_more) {
  const std::string_view haystack = text(0, end_);
  std::size_t at = from;
  while ((at = haystack.find(delimiter_, at)) != std::string_view::npos) {
    const std::size_t after = at + delimiter_.size();
    if (after == end_ || (buffer_[after] == '-' && after + 1 == end_)) {
      need_more = true;
      scan_from_ = at - begin_;
      return std::string_view::npos;
    }
    const std::uint8_t next = buffer_[after];
    if (next == '\r' || next == '\n' || is_space(next) ||
        (next == '-' && buffer_[after + 1] == '-')) {
      return at;
    }
    ++at;
  }
  // The next search starts where a delimiter could still begin.
  const std::size_t keep = delimiter_.size() + 1;
  scan_from_ = (end_ - begin_) > keep ? (end_ - begin_) - keep : 0;
  scan_from_ = std::max(scan_from_, from - begin_);
  return std::string_view::npos;
}

std::size_t MultipartReader::delimiter_line_end(std::size_t at) {
  const std::size_t after = at + delimiter_.size();
  if (buffer_[after] == '-') {
    ended_ = true;  // the close delimiter: the upstream ended the stream
    return end_;
  }
  const std::size_t newline = find_newline(after);
  if (newline == kIncomplete) {
    // Transport padding (RFC 2046) is white space; a long run of it is not a stream.
    if (end_ - after > limits_.max_delimiter) fail("a delimiter line does not end");
    scan_from_ = at - begin_;
    return kIncomplete;
  }
  if (newline - after > limits_.max_delimiter) {
    fail("a delimiter line does not end");
    return kIncomplete;
  }
  scan_from_ = 0;
  return newline + 1;
}

void MultipartReader::deliver(std::size_t body_begin, std::size_t body_end,
                              const PartCallback& on_part) {
  MultipartPart part;
  part.body = {buffer_.data() + body_begin, body_end - body_begin};
  part.timestamp = std::move(timestamp_);
  part.content_type = std::move(content_type_);
  last_length_ = content_length_.value_or(body_end - body_begin);
  timestamp_.reset();
  content_type_.reset();
  content_length_.reset();
  scan_from_ = 0;
  ++parts_;
  if (on_part) on_part(part);
}

}  // namespace camstream::relay
