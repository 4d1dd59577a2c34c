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
  std::string camera = "0";  // libcamera: index or id
  // --camera-format: "auto" (camstream chooses), or the one asked of a libcamera camera:
  // "mjpeg", "yuyv", "uyvy", "nv12" or "yuv420". Other sources take only "auto".
  std::string format = "auto";
};

// What the source is asked for: the larger of the stream and snapshot sizes (one capture
// feeds both), the interval and the orientation.
CaptureConfig capture_config(const LiveSettings& settings, const std::string& camera,
                             const std::string& format = "auto");

}  // namespace camstream
