// Software scaling of raw frames with libyuv: the snapshot size, the test pattern's zoom.
#pragma once

#include <cstdint>
#include <vector>

#include "camstream/core/frame.hpp"
#include "camstream/core/transform_error.hpp"

namespace camstream {

// A rectangle of a picture, in pixels; x, y, width and height even.
struct CropRect {
  int x = 0;
  int y = 0;
  int width = 0;
  int height = 0;
};

// Scales frames (or a part of them) into its own buffer, which grows only with the picture.
// One per thread.
class FrameScaler {
 public:
  // `frame` (I420 or NV12, even size) scaled to width x height (even), box-filtered; the
  // result has the input's format (NV12 stays NV12), in this object's buffer until the next
  // call. Throws TransformError naming what is wrong.
  FrameView scale(const FrameView& frame, int width, int height);
  // The same for the part `crop` of the frame (a digital zoom when it is smaller).
  FrameView scale(const FrameView& frame, const CropRect& crop, int width, int height);

 private:
  std::vector<std::uint8_t> scratch_;
  std::vector<std::uint8_t> rows_;  // two source rows blended, for the 2/3 scale
};

}  // namespace camstream
