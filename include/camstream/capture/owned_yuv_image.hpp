#pragma once

#include <cstdint>
#include <memory>

#include "camstream/capture/draw.hpp"
#include "camstream/core/frame.hpp"

namespace camstream {

// Owns an I420 picture in one buffer, rows not padded.
class OwnedYuvImage {
 public:
  OwnedYuvImage(int width, int height);
  const YuvImage& image() const { return image_; }
  FrameView view() const;  // format I420, sequence 0, timestamp now

 private:
  std::unique_ptr<std::uint8_t[]> storage_;
  YuvImage image_;
};

}  // namespace camstream
