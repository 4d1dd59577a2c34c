// The interface every frame source (test pattern, libcamera) implements.
#pragma once

#include <chrono>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <stdexcept>
#include <string>
#include <vector>

#include "camstream/core/controls.hpp"
#include "camstream/core/frame.hpp"

namespace camstream {

// What a source really delivers (the camera may round the size or the interval).
struct SourceInfo {
  std::string name;                      // "test" or "libcamera"
  std::optional<std::string> camera_id;  // libcamera id, none for the test source
  int width = 0;
  int height = 0;
  std::chrono::microseconds interval{0};
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

}  // namespace camstream
