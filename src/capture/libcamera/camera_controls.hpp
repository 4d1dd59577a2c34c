// A camera's controls as camstream describes them (docs/api.md, section 7) and the way back:
// checked values into a libcamera ControlList. Names are libcamera's (ControlId::name()); the
// controls camstream manages itself (FrameDurationLimits) and those it cannot express (arrays,
// rectangles, sizes, text) are left out, except ScalerCrop, offered as a Zoom factor.
#pragma once

#include <libcamera/libcamera.h>

#include <cstdint>
#include <map>
#include <mutex>
#include <optional>
#include <string>

#include "camstream/core/controls.hpp"

namespace camstream {

// The name under which ScalerCrop is offered: a factor 1..8 cropping the centre.
inline constexpr const char* kZoomControl = "Zoom";

class CameraControls {
 public:
  // From a camera's ControlInfoMap. `zoom_maximum` is the rectangle Zoom crops
  // (properties::ScalerCropMaximum); Zoom is offered only when the map has ScalerCrop and it is
  // given.
  CameraControls(const libcamera::ControlInfoMap& info,
                 std::optional<libcamera::Rectangle> zoom_maximum);

  // Every control offered, its default as the value in force.
  const ControlMap& offered() const { return offered_; }
  // offered() with `values` (checked against it) in force.
  ControlMap with_values(const std::map<std::string, ControlValue>& values) const;
  // Checked values as libcamera controls, added to `list` (Zoom as ScalerCrop); names that are
  // not offered are ignored (check them first with check_controls).
  void add_to(libcamera::ControlList& list,
              const std::map<std::string, ControlValue>& values) const;

 private:
  struct Target {
    const libcamera::ControlId* id = nullptr;
    std::map<std::string, std::int32_t> enum_values;  // enumeration: value of each name
  };

  ControlMap offered_;
  std::map<std::string, Target> targets_;
  std::optional<libcamera::Rectangle> zoom_maximum_;
};

// The rectangle Zoom crops on `camera`: properties::ScalerCropMaximum, else the largest ScalerCrop
// its ControlInfo allows; none when the camera has no ScalerCrop.
std::optional<libcamera::Rectangle> zoom_maximum_of(const libcamera::Camera& camera);

// The controls of one source, shared by the source (any thread sets them) and its running
// capture (which hands them to the camera).
class SourceControls {
 public:
  explicit SourceControls(CameraControls camera) : camera_(std::move(camera)) {}

  ControlMap controls() const;
  // docs/api.md section 7: all or nothing, the error names the control.
  std::optional<ControlError> set(const std::map<std::string, ControlValue>& values);
  // Every value set so far, for Camera::start(); what was waiting for a request is in it.
  void add_all_to(libcamera::ControlList& list);
  // The values set since the last call, for the next request queued (libcamera keeps a
  // control's value until it is set again, and an action such as AfTrigger must fire once).
  void add_changes_to(libcamera::ControlList& list);
  // The camera's controls once configured: a sensor mode can change ranges (ExposureTime's
  // with the frame duration) and ScalerCropMaximum. Values set that `configured` still allows
  // are kept; those it refuses go back to the camera's default (CaptureService names them).
  void adopt_configured(CameraControls configured);

 private:
  CameraControls camera_;
  mutable std::mutex mutex_;
  std::map<std::string, ControlValue> values_;   // set by the user
  std::map<std::string, ControlValue> changes_;  // not yet in a request
};

}  // namespace camstream
