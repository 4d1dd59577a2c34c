#pragma once

#include <cstdint>
#include <map>
#include <string>

#include "camstream/capture/frame_source.hpp"
#include "camstream/core/controls.hpp"
#include "camstream/core/settings.hpp"
#include "camstream/stream/lifecycle.hpp"

namespace camstream {

struct CaptureStatus {
  CaptureState state = CaptureState::idle;
  SourceInfo source;      // the size is the stream's (what viewers get)
  LiveSettings settings;  // in force, as configure takes them
  std::map<std::string, ControlValue> camera_controls;  // set by --control or `set`
  double fps = 0;                                       // measured over the last second
  std::uint64_t frames = 0;                             // captured since start-up
  std::string error;                                    // empty unless state is error
};

}  // namespace camstream
