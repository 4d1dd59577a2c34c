// Test-only: the libcamera source's controls on a real camera, for tests/camera (until the
// WebSocket messages reach them). Lists the controls the source offers, applies each --set in
// order (NAME=VALUE as on the command line; each one alone, all or nothing), lists them again
// and streams a few frames with them:
//
//   camera_controls_probe [--camera ID] [--set NAME=VALUE]...
//
// Output, one line each: "control NAME TYPE MIN MAX DEFAULT VALUE [NAME,NAME...]", then
// "set NAME=VALUE: ok" or "set NAME=VALUE: error MESSAGE", the controls again, "frames N".
// Exit status 0 unless the camera cannot be opened or gives no frames.
#include <chrono>
#include <condition_variable>
#include <cstdio>
#include <exception>
#include <map>
#include <mutex>
#include <string>
#include <string_view>
#include <vector>

#include "camstream/capture/capture_config.hpp"
#include "camstream/capture/frame_source.hpp"
#include "camstream/capture/libcamera.hpp"
#include "camstream/core/controls.hpp"
#include "camstream/core/frame.hpp"

namespace {

void print_controls(const camstream::ControlMap& controls) {
  for (const auto& [name, info] : controls) {
    std::string names;
    for (const auto& known : info.enum_names) names += (names.empty() ? "" : ",") + known;
    std::printf("control %s %s %s %s %s %s%s%s\n", name.c_str(),
                std::string(camstream::to_string(info.type)).c_str(),
                camstream::to_text(info.min).c_str(), camstream::to_text(info.max).c_str(),
                camstream::to_text(info.default_value).c_str(),
                camstream::to_text(info.value).c_str(), names.empty() ? "" : " ", names.c_str());
  }
}

void apply(camstream::FrameSource& source, std::string_view assignment) {
  const auto equals = assignment.find('=');
  const std::string name(assignment.substr(0, equals));
  const std::string_view text =
      equals == std::string_view::npos ? std::string_view() : assignment.substr(equals + 1);
  const camstream::ControlMap offered = source.controls();
  std::optional<camstream::ControlError> error;
  if (const auto info = offered.find(name); info == offered.end()) {
    error = source.set_controls({{name, std::string(text)}});  // names the unknown control
  } else if (const auto parsed = camstream::parse_control_value(info->second, text);
             !parsed.error.empty()) {
    error = camstream::ControlError{name, parsed.error};
  } else {
    error = source.set_controls({{name, parsed.value}});
  }
  std::printf("set %.*s: %s\n", static_cast<int>(assignment.size()), assignment.data(),
              error ? ("error " + error->message()).c_str() : "ok");
}

}  // namespace

int main(int argc, char** argv) {
  camstream::CaptureConfig config;
  config.interval = std::chrono::milliseconds(50);
  std::vector<std::string_view> sets;
  for (int i = 1; i + 1 < argc; i += 2) {
    const std::string_view flag = argv[i];
    if (flag == "--camera") {
      config.camera = argv[i + 1];
    } else if (flag == "--set") {
      sets.emplace_back(argv[i + 1]);
    } else {
      std::fprintf(stderr, "unknown argument %s\n", argv[i]);
      return 2;
    }
  }
  try {
    const auto source = camstream::make_libcamera_source(config);
    print_controls(source->controls());
    for (const auto assignment : sets) apply(*source, assignment);
    print_controls(source->controls());

    std::mutex mutex;
    std::condition_variable changed;
    int frames = 0;
    std::string failure;
    source->start(
        [&](const camstream::FrameView&) {
          std::lock_guard lock(mutex);
          ++frames;
          changed.notify_all();
        },
        [&](const std::string& reason) {
          std::lock_guard lock(mutex);
          failure = reason;
          changed.notify_all();
        });
    {
      std::unique_lock lock(mutex);
      changed.wait_for(lock, std::chrono::seconds(10),
                       [&] { return frames >= 5 || !failure.empty(); });
    }
    source->stop();
    std::printf("frames %d\n", frames);
    if (!failure.empty() || frames < 5) {
      std::fprintf(stderr, "camera failed: %s\n", failure.c_str());
      return 1;
    }
  } catch (const std::exception& e) {
    std::fprintf(stderr, "%s\n", e.what());
    return 1;
  }
  return 0;
}
