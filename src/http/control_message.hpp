// A control WebSocket message (docs/api.md section 4) parsed from its JSON text: what the
// client asks for, or why the text is not a message we take.
#pragma once

#include <optional>
#include <string>
#include <string_view>

namespace camstream {

enum class ControlCommand { start, stop, status };

struct ControlMessage {
  std::optional<ControlCommand> type;  // nullopt: not a valid message
  std::string error;                // when !type: the problem, for the {"type":"error"} reply
  bool steers = false;  // start, stop, set or configure: for operators only (docs/api.md)
};

// Never throws on any input (except std::bad_alloc).
ControlMessage parse_control_message(std::string_view text);

}  // namespace camstream
