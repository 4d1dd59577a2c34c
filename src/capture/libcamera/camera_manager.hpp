// The process's one libcamera CameraManager (a second instance aborts the process).
#pragma once

#include <libcamera/camera_manager.h>

namespace camstream::lc {

// Started on first use and kept for the life of the process, so that hot-plugged cameras are
// seen by later calls. Throws CaptureError when it cannot start (and again on each call).
libcamera::CameraManager& camera_manager();

}  // namespace camstream::lc
