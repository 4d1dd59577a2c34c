// The libcamera source (src/capture/libcamera/), or its stand-in when the build has no
// libcamera (src/capture/no_libcamera/): every function exists in both builds.
#pragma once

#include <memory>
#include <string>
#include <vector>

#include "camstream/capture/capture_config.hpp"
#include "camstream/capture/capture_error.hpp"
#include "camstream/capture/frame_source.hpp"

namespace camstream {

struct CameraDescription {
  int index = 0;
  std::string id;
  std::string model;
  std::vector<std::string> modes;  // e.g. "YUV420 640x480", "YUV420 320x240-1920x1080"
};

// True when this build includes the libcamera source.
bool libcamera_built();
// e.g. "libcamera 0.0.3" or "libcamera: not built".
std::string libcamera_version_string();
// Enumerates cameras (empty when there are none). Throws CaptureError if not built.
std::vector<CameraDescription> list_cameras();
// Selects the camera named by config.camera (index or id) and checks that it can be acquired.
// Throws CaptureError naming the problem (no camera, unknown id, busy, not built).
std::unique_ptr<FrameSource> make_libcamera_source(const CaptureConfig& config);

}  // namespace camstream
