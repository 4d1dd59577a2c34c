// Control WebSocket messages (docs/api.md, "Control WebSocket" and "Controls and live settings"): any text gets a message or an
// error to send back, never a crash.
// Boost.JSON compiled into this program, instrumented, instead of the shared library's copy
// (which the program's definitions override): without it libFuzzer sees no coverage inside
// the JSON parser and cannot learn the message structure.
#include <boost/json/src.hpp>
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string_view>

#include "http/control_message.hpp"
#include "http/ws_session.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  // The session answers larger messages without parsing them.
  if (size > camstream::WsSession::kMaxMessage) return 0;
  const std::string_view text(reinterpret_cast<const char*>(data), size);
  const camstream::ControlMessage message = camstream::parse_control_message(text);
  // Every refusal says why.
  if (!message.type && message.error.empty()) std::abort();
  return 0;
}
