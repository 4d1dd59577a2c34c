#pragma once

#include <cstddef>
#include <memory>

#include "camstream/encode/encoded_frame.hpp"
#include "multipart.hpp"

namespace camstream {

// A frame dressed for the stream: the part header is formatted once, shared by all viewers.
struct Part {
  FramePtr frame;
  multipart::PartHeader header{};
  std::size_t header_size = 0;
};
using PartPtr = std::shared_ptr<const Part>;

}  // namespace camstream
