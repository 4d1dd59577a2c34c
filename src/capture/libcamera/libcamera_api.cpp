// The capture module's libcamera entry points (declared in camstream/capture/libcamera.hpp).
#include <spdlog/spdlog.h>

#include <cerrno>
#include <cstring>

#include "camera_logic.hpp"
#include "camera_manager.hpp"
#include "camstream/capture/capture_config.hpp"
#include "camstream/capture/capture_error.hpp"
#include "camstream/capture/frame_source.hpp"
#include "camstream/capture/libcamera.hpp"
#include "camstream/core/frame.hpp"
#include "camstream/core/orientation.hpp"
#include "lc_compat.hpp"
#include "libcamera_source.hpp"

namespace camstream {

namespace {

// Whether the camera grants `size` in `format` as it is (validate() leaves both unchanged).
bool grants(libcamera::Camera& camera, const libcamera::PixelFormat& format,
            const libcamera::Size& size) {
  const auto config = camera.generateConfiguration(
      std::vector<libcamera::StreamRole>{libcamera::StreamRole::VideoRecording});
  if (!config || config->empty()) return false;
  libcamera::StreamConfiguration& stream = config->at(0);
  stream.pixelFormat = format;
  stream.size = size;
  if (config->validate() == libcamera::CameraConfiguration::Invalid) return false;
  return stream.pixelFormat == format && stream.size == size;
}

// Modes in the formats camstream takes. libcamera lists sizes a pipeline may not give (the
// virtual camera lists 28 and gives the 2 of its configuration), so each listed size is
// validated and only those granted unchanged are shown.
std::vector<std::string> modes_of(libcamera::Camera& camera) {
  std::vector<std::string> modes;
  const auto config = camera.generateConfiguration(
      std::vector<libcamera::StreamRole>{libcamera::StreamRole::VideoRecording});
  if (!config || config->empty()) return modes;
  const libcamera::StreamFormats& formats = config->at(0).formats();
  const auto pixel_formats = formats.pixelformats();
  std::vector<std::uint32_t> codes;
  for (const auto& format : pixel_formats) codes.push_back(format.fourcc());
  for (const auto code : camera_logic::listing_order(codes)) {
    const libcamera::PixelFormat format(code);
    std::vector<camera_logic::Size> listed;
    std::vector<camera_logic::Size> granted;
    for (const auto& size : formats.sizes(format)) {
      listed.push_back({size.width, size.height});
      if (grants(camera, format, size)) granted.push_back({size.width, size.height});
    }
    const libcamera::SizeRange range = formats.range(format);
    const camera_logic::SizeRange size_range{{range.min.width, range.min.height},
                                             {range.max.width, range.max.height},
                                             range.hStep,
                                             range.vStep};
    // Every listed size granted: the range (a scaling ISP) stands for them; else only the sizes.
    const auto described =
        granted.size() == listed.size()
            ? camera_logic::describe_modes(format.toString(), listed, size_range)
            : camera_logic::describe_modes(format.toString(), granted, std::nullopt);
    modes.insert(modes.end(), described.begin(), described.end());
  }
  return modes;
}

}  // namespace

bool libcamera_built() {
  return true;
}

std::string libcamera_version_string() {
  std::string version = libcamera::CameraManager::version();
  if (!version.empty() && version.front() == 'v') version.erase(0, 1);
  return "libcamera " + version;
}

std::vector<CameraDescription> list_cameras() {
  std::vector<CameraDescription> descriptions;
  const auto cameras = lc::camera_manager().cameras();
  for (std::size_t i = 0; i < cameras.size(); ++i) {
    CameraDescription description;
    description.index = static_cast<int>(i);
    description.id = cameras[i]->id();
    description.model = lc::model_of(*cameras[i]);
    description.modes = modes_of(*cameras[i]);
    descriptions.push_back(std::move(description));
  }
  return descriptions;
}

std::unique_ptr<FrameSource> make_libcamera_source(const CaptureConfig& config) {
  if (!is_valid_rotation(config.rotation)) {  // reject early
    throw CaptureError("rotation " + std::to_string(config.rotation) + " is not 0, 90, 180 or 270");
  }
  const auto cameras = lc::camera_manager().cameras();
  std::vector<std::string> ids;
  for (const auto& camera : cameras) ids.push_back(camera->id());
  const auto& camera = cameras[camera_logic::select_camera(ids, config.camera)];

  // Probe: another process holding the camera (rpicam-hello, a second camstream) makes every
  // start fail, so say so now.
  if (const int ret = camera->acquire(); ret < 0) {
    throw CaptureError(ret == -EBUSY
                           ? "camera " + camera->id() +
                                 " is busy: another program (e.g. rpicam-hello or another "
                                 "camstream) uses it"
                           : "cannot acquire camera " + camera->id() + ": " + std::strerror(-ret));
  }
  camera->release();
  spdlog::info("using camera {} ({})", camera->id(), lc::model_of(*camera));
  return std::make_unique<LibcameraSource>(config, camera);
}

}  // namespace camstream
