// The bytes of docs/api.md, "The stream": response head, part headers, delimiters.
#pragma once

#include <array>
#include <chrono>
#include <cstddef>
#include <string>
#include <string_view>

namespace camstream::multipart {

inline constexpr std::string_view kBoundary = "camstreamframe";
// The body starts with this line (no preamble: VLC and ffmpeg look for "--" at byte 0).
inline constexpr std::string_view kDelimiter = "--camstreamframe\r\n";
// Ends a part and opens the next, so a frame is never held back waiting for its delimiter.
inline constexpr std::string_view kTrailer = "\r\n--camstreamframe\r\n";
// advance_headers=1: the next part's headers follow each delimiter at once (no
// Content-Length), for Chromium, which paints a part only when the next one's headers arrive.
inline constexpr std::string_view kAdvanceHeaders = "Content-Type: image/jpeg\r\n\r\n";
// After kTrailer the next part has not begun; after advance headers we are inside its body.
inline constexpr std::string_view kCloseDelimiter = "--camstreamframe--\r\n";
inline constexpr std::string_view kCloseDelimiterInBody = "\r\n--camstreamframe--\r\n";

inline constexpr std::size_t kMaxPartHeader = 128;
using PartHeader = std::array<char, kMaxPartHeader>;

// The response head (status line and headers, no body). allow_origin may be empty.
std::string response_head(std::string_view allow_origin);
// Writes a part's header block (Content-Type, Content-Length, X-Timestamp, blank line) into
// out and returns its length.
std::size_t format_part_header(PartHeader& out, std::size_t jpeg_size,
                               std::chrono::system_clock::time_point timestamp);
// X-Timestamp's value: seconds.microseconds.
std::string format_timestamp(std::chrono::system_clock::time_point timestamp);

}  // namespace camstream::multipart
