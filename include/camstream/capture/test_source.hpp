#pragma once

#include <memory>

#include "camstream/capture/capture_config.hpp"
#include "camstream/capture/frame_source.hpp"

namespace camstream {

// The built-in moving test picture: I420, paced on a steady clock. It turns the picture as
// config's rotation and flips say in software (it is no camera), and offers the controls
// Brightness (-1..1), Contrast (0..2) and Zoom (1..8), which its picture shows.
std::unique_ptr<FrameSource> make_test_source(const CaptureConfig& config);

}  // namespace camstream
