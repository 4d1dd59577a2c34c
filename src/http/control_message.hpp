// A control WebSocket message (docs/api.md, "Control WebSocket" and "Controls and live settings")
// parsed from its JSON text: what the client asks for, or why the text is not a message we take.
#pragma once

#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "camstream/core/controls.hpp"
#include "camstream/core/settings.hpp"

namespace camstream {

enum class ControlCommand { start, stop, status, controls, set, configure };

struct ControlMessage {
  std::optional<ControlCommand> type;  // nullopt: not a valid message
  std::string error;                   // when !type: the problem, for the {"type":"error"} reply
  bool steers = false;  // start, stop, set or configure: for operators only (docs/api.md)
  // set: the values as given (the camera checks names, types and ranges).
  std::map<std::string, ControlValue> controls;
  // configure: each field's row and its value, already checked as the command line checks it.
  std::vector<std::pair<const SettingRow*, ControlValue>> settings;
};

// Never throws on any input (except std::bad_alloc).
ControlMessage parse_control_message(std::string_view text);

}  // namespace camstream
