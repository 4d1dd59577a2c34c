// Every libcamera version difference camstream meets (0.0.3 Debian bookworm .. 0.7.x Raspberry Pi
// OS, see docs/raspberry-pi.md), kept here so that the rest of the source is written
// once. Rules kept elsewhere without a branch: spell out std::vector<StreamRole> (no StreamRoles),
// take FrameBuffer::planes() by auto, bind Request::metadata() to a const reference, compare
// FrameMetadata::status with FrameSuccess only (FrameStartup exists from 0.5.2).
#pragma once

#include <libcamera/libcamera.h>

#include <cstdint>
#include <map>
#include <string>

#include "camera_logic.hpp"

#define LC_VER \
  (LIBCAMERA_VERSION_MAJOR * 10000 + LIBCAMERA_VERSION_MINOR * 100 + LIBCAMERA_VERSION_PATCH)

namespace camstream::lc {

inline libcamera::Transform transform_for(camera_logic::Flips flips) {
  libcamera::Transform transform = libcamera::Transform::Identity;
  if (flips.hflip) transform |= libcamera::Transform::HFlip;
  if (flips.vflip) transform |= libcamera::Transform::VFlip;
  return transform;
}

// Asks for the picture flipped this way. Before 0.2.0 `transform` was applied on top of the
// sensor's mounting compensation; from 0.2.0 `orientation` is the absolute output orientation,
// and Rotate0 * t gives the same result.
inline void request_flips(libcamera::CameraConfiguration& config, camera_logic::Flips flips) {
#if LC_VER >= 200
  config.orientation = libcamera::Orientation::Rotate0 * transform_for(flips);
#else
  config.transform = transform_for(flips);
#endif
}

// What validate() left of the request, as the transform relative to the upright picture.
inline libcamera::Transform granted_transform(const libcamera::CameraConfiguration& config) {
#if LC_VER >= 200
  return config.orientation / libcamera::Orientation::Rotate0;
#else
  return config.transform;
#endif
}

inline camera_logic::Flips flips_of(libcamera::Transform transform) {
  return {!!(transform & libcamera::Transform::HFlip), !!(transform & libcamera::Transform::VFlip)};
}

// The virtual pipeline (0.4.0 on) accepts any orientation in validate() and applies none, so
// everything is done in software there. Its cameras are known by properties::PipelineHandler
// (0.7.1 has it, 0.3.2 does not); without it they cannot be told apart and get flips they lack.
inline bool ignores_orientation([[maybe_unused]] const libcamera::Camera& camera) {
#ifdef LIBCAMERA_HAS_LIBCAMERA_VENDOR_PROPERTIES_PIPELINE_HANDLER
  return camera.properties().get(libcamera::properties::PipelineHandler).value_or("") == "virtual";
#else
  return false;
#endif
}

// The names of an enumerated control's values, as libcamera's ControlId::enumerators() gives
// them (newer versions); older ones name no values, so the enumerations of the controls users
// ask for (exposure, white balance, autofocus) are spelt out here with libcamera's own names.
// Empty for a control that is no enumeration or whose names are unknown.
std::map<std::int32_t, std::string> known_enumerators(unsigned int control_id);

template <typename Id>
std::map<std::int32_t, std::string> enumerators_of(const Id& id) {
  if constexpr (requires { id.enumerators(); }) {
    if (!id.enumerators().empty()) return {id.enumerators().begin(), id.enumerators().end()};
  }
  return known_enumerators(id.id());
}

// A control holding several values (ColourGains, FrameDurationLimits): ControlId::isArray() where
// it exists, else the array controls of the older versions by id.
template <typename Id>
bool is_array_control(const Id& id) {
  if constexpr (requires { id.isArray(); }) {
    return id.isArray();
  } else {
    const unsigned int known[] = {
        libcamera::controls::ColourGains.id(), libcamera::controls::SensorBlackLevels.id(),
        libcamera::controls::ColourCorrectionMatrix.id(),
        libcamera::controls::FrameDurationLimits.id(), libcamera::controls::AfWindows.id()};
    for (const unsigned int array_id : known) {
      if (id.id() == array_id) return true;
    }
    return false;
  }
}

// False for a control the camera only reports (ControlId::isInput() where it exists).
template <typename Id>
bool is_input_control(const Id& id) {
  if constexpr (requires { id.isInput(); }) {
    return id.isInput();
  } else {
    return true;
  }
}

// properties::Model is optional<std::string> up to 0.5 and optional<std::string_view> from 0.6.
inline std::string model_of(const libcamera::Camera& camera) {
  return std::string(camera.properties().get(libcamera::properties::Model).value_or(""));
}

}  // namespace camstream::lc
