#include "camstream/capture/capture_config.hpp"

#include <cstdint>

namespace camstream {

CaptureConfig capture_config(const LiveSettings& settings, const std::string& camera,
                             const std::string& format) {
  CaptureConfig config;
  // One capture feeds both: the larger picture is captured and the other scaled from it.
  const bool snapshot_larger =
      std::int64_t{settings.effective_snapshot_width()} * settings.effective_snapshot_height() >
      std::int64_t{settings.width} * settings.height;
  config.width = snapshot_larger ? settings.effective_snapshot_width() : settings.width;
  config.height = snapshot_larger ? settings.effective_snapshot_height() : settings.height;
  config.interval = settings.interval;
  config.rotation = settings.rotation;
  config.hflip = settings.hflip;
  config.vflip = settings.vflip;
  config.camera = camera;
  config.format = format;
  return config;
}

}  // namespace camstream
