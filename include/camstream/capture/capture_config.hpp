// What a source is asked for: size, interval, orientation, camera.
#pragma once

#include <chrono>
#include <string>

#include "camstream/core/settings.hpp"

namespace camstream {

struct CaptureConfig {
  int width = 640;   // even
  int height = 480;  // even
  std::chrono::microseconds interval{100'000};
  int rotation =
      0;  // 0, 90, 180 or 270 clockwise, after the flips (camstream/core/orientation.hpp)
  bool hflip = false;
  bool vflip = false;
  std::string camera = "0";        // libcamera: index or id
  bool label_test_pattern = true;  // the test source draws "TEST PATTERN"
};

// What the source is asked for: the larger of the stream and snapshot sizes (one capture
// feeds both), the interval and the orientation.
CaptureConfig capture_config(const LiveSettings& settings, const std::string& camera);

}  // namespace camstream
