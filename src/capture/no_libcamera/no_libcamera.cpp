// Built when libcamera is not found: the camera source says so instead of existing.
#include "camstream/capture/capture_config.hpp"
#include "camstream/capture/capture_error.hpp"
#include "camstream/capture/frame_source.hpp"
#include "camstream/capture/libcamera.hpp"

namespace camstream {

namespace {
constexpr const char* kNotBuilt =
    "camstream was built without libcamera (install libcamera-dev and rebuild)";
}

bool libcamera_built() {
  return false;
}
std::string libcamera_version_string() {
  return "libcamera: not built";
}
std::vector<CameraDescription> list_cameras() {
  throw CaptureError(kNotBuilt);
}
std::unique_ptr<FrameSource> make_libcamera_source(const CaptureConfig&) {
  throw CaptureError(kNotBuilt);
}

}  // namespace camstream
