// What the software geometry (FrameTransformer, FrameScaler) throws for a frame it cannot
// take, and the check both make.
#pragma once

#include <stdexcept>

#include "camstream/core/frame.hpp"

namespace camstream {

// A frame that a transform cannot take (format, size, planes too small); names the problem.
class TransformError : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

// Throws TransformError unless frame is I420 or NV12 of a positive even size whose planes hold
// every row they claim (rows may be padded; strides may be odd).
void check_planar_frame(const FrameView& frame, const char* what);

}  // namespace camstream
