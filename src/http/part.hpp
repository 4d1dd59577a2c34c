#pragma once

#include <cstddef>
#include <memory>
#include <string>

#include "camstream/encode/encoded_frame.hpp"
#include "multipart.hpp"

namespace camstream {

// A frame dressed for the stream: the part header is formatted once, shared by all viewers.
struct Part {
  FramePtr frame;
  multipart::PartHeader header{};
  std::size_t header_size = 0;
  // The part in one piece (header, JPEG, trailer, advance headers) for TLS viewers: their
  // records are then full 16 KiB ones, encrypted from memory all of them share, with no copy
  // per viewer. Made by the first TLS viewer that writes the part (on the I/O thread).
  mutable std::shared_ptr<const std::string> joined;
};
using PartPtr = std::shared_ptr<const Part>;

}  // namespace camstream
