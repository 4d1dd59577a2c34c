#pragma once

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <span>

namespace camstream {

// An encoded JPEG, immutable once published; every viewer shares the same bytes.
struct EncodedFrame {
  std::unique_ptr<std::uint8_t[]> storage;  // capacity bytes; pages untouched until written
  std::size_t capacity = 0;
  std::size_t jpeg_size = 0;
  int width = 0;
  int height = 0;
  std::uint64_t sequence = 0;
  std::chrono::system_clock::time_point timestamp{};  // capture time
  bool placeholder = false;  // a STOPPED / NO SIGNAL picture, not a camera frame
  // When /snapshot has a size of its own (--snapshot-width/height): false, and `full_size`
  // holds this frame at the snapshot size if one was asked for while it was encoded.
  bool snapshot_size = true;
  std::shared_ptr<const EncodedFrame> full_size;

  std::span<const std::uint8_t> jpeg() const { return {storage.get(), jpeg_size}; }
  std::span<std::uint8_t> writable() { return {storage.get(), capacity}; }
};
using FramePtr = std::shared_ptr<const EncodedFrame>;

}  // namespace camstream
