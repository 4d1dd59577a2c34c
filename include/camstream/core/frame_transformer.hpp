// Software rotation and flips of raw frames with libyuv, for what a camera cannot do itself
// (docs/api.md, "Camera controls"). In core so that every source and the encoding can use it.
#pragma once

#include <cstdint>
#include <vector>

#include "camstream/core/frame.hpp"
#include "camstream/core/orientation.hpp"
#include "camstream/core/transform_error.hpp"

namespace camstream {

// Rotates and flips frames into its own I420 buffer, which grows only with the picture: no
// allocation per frame. One per thread (it is the caller's scratch, not thread-safe).
class FrameTransformer {
 public:
  // `frame` (I420, NV12, YUYV or UYVY, even size) turned as `orientation` says: an I420 view
  // of this object's buffer, valid until the next call; `frame` itself when the orientation
  // is the identity. Width and height swap for 90 and 270. One libyuv pass whatever the
  // orientation (two for packed 4:2:2, unpacked first). The range flag and the stamps are
  // kept. Throws TransformError naming what is wrong with the frame (MJPEG cannot be turned).
  FrameView apply(const FrameView& frame, Orientation orientation);

 private:
  FrameView unpack(const FrameView& packed);  // YUYV/UYVY to I420 in unpacked_

  std::vector<std::uint8_t> scratch_;
  std::vector<std::uint8_t> unpacked_;
};

}  // namespace camstream
