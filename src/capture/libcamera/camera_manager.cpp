#include "camera_manager.hpp"

#include <spdlog/spdlog.h>

#include <cstring>
#include <string>

#include "camstream/capture/capture_error.hpp"

namespace camstream::lc {

namespace {

struct StartedManager {
  libcamera::CameraManager manager;
  int start_result;

  StartedManager() : start_result(manager.start()) {
    if (start_result == 0) {
      spdlog::debug("libcamera {} started: {} camera(s)", libcamera::CameraManager::version(),
                    manager.cameras().size());
    }
  }
  ~StartedManager() {
    if (start_result == 0) manager.stop();
  }
};

}  // namespace

libcamera::CameraManager& camera_manager() {
  // A function-local static: built once, thread-safely, destroyed at exit after every source
  // (sources are owned by objects that main() destroys before returning).
  static StartedManager started;
  if (started.start_result != 0) {
    throw CaptureError(std::string("cannot start libcamera's camera manager: ") +
                       std::strerror(-started.start_result));
  }
  return started.manager;
}

}  // namespace camstream::lc
