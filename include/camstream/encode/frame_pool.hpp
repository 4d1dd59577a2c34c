#pragma once

#include <cstddef>
#include <memory>
#include <vector>

#include "camstream/encode/encoded_frame.hpp"

namespace camstream {

// Recycles frames so steady-state encoding allocates nothing: a frame is reused once no
// viewer holds it any more. Used from one thread at a time (the encoding thread).
class FramePool {
 public:
  explicit FramePool(std::size_t capacity_bytes) : capacity_bytes_(capacity_bytes) {}
  // A frame no one else holds, with capacity_bytes of storage.
  std::shared_ptr<EncodedFrame> acquire();
  std::size_t size() const { return frames_.size(); }

 private:
  std::size_t capacity_bytes_;
  std::vector<std::shared_ptr<EncodedFrame>> frames_;
};

}  // namespace camstream
