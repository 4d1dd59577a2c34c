// Capture module: frame sources (test pattern, libcamera) behind one interface.
#pragma once

#include <chrono>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <stdexcept>
#include <string>
#include <vector>

#include "camstream/controls.hpp"
#include "camstream/frame.hpp"

namespace camstream {

struct CaptureConfig {
  int width = 640;   // even
  int height = 480;  // even
  std::chrono::microseconds interval{100'000};
  int rotation = 0;  // 0, 90, 180 or 270 clockwise, after the flips (camstream/transform.hpp)
  bool hflip = false;
  bool vflip = false;
  std::string camera = "0";        // libcamera: index or id
  bool label_test_pattern = true;  // the test source draws "TEST PATTERN"
};

// What a source really delivers (the camera may round the size or the interval).
struct SourceInfo {
  std::string name;                      // "test" or "libcamera"
  std::optional<std::string> camera_id;  // libcamera id, none for the test source
  int width = 0;
  int height = 0;
  std::chrono::microseconds interval{0};
};

// Thrown when a source cannot be opened or started; the message names the problem.
class CaptureError : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

// Called on the source's own worker thread, never on a camera or I/O thread.
using FrameCallback = std::function<void(const FrameView&)>;
// Called (on any thread) when a running source fails; no frames follow until start() again.
using ErrorCallback = std::function<void(const std::string& reason)>;

class FrameSource {
 public:
  virtual ~FrameSource() = default;
  // Acquires the device and starts delivering frames. Throws CaptureError on failure.
  virtual void start(FrameCallback on_frame, ErrorCallback on_error) = 0;
  // Stops and releases the device; returns once no callback runs any more. Idempotent.
  virtual void stop() = 0;
  // The granted configuration (valid after construction, refined by start()). The size is
  // that of the frames delivered: after any rotation (90 and 270 swap width and height).
  virtual SourceInfo info() const = 0;

  // The controls this source offers, with the values in force (none by default). Any thread.
  // start() may narrow them (a camera's configured mode); a value set that the narrower
  // ranges refuse then goes back to its default.
  virtual ControlMap controls() const { return {}; }
  // Applies every value from the next frame on, or none: on an unknown control or a refused
  // value returns the error (naming the control and why) and changes nothing. Any thread, also
  // while frames flow; the values persist across stop() and start().
  virtual std::optional<ControlError> set_controls(
      const std::map<std::string, ControlValue>& values) {
    return check_controls(controls(), values).error;
  }
};

// The built-in moving test picture: I420, paced on a steady clock. It turns the picture as
// config's rotation and flips say in software (it is no camera), and offers the controls
// Brightness (-1..1), Contrast (0..2) and Zoom (1..8), which its picture shows.
std::unique_ptr<FrameSource> make_test_source(const CaptureConfig& config);

// --- libcamera (src/capture/libcamera_*) ---

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
