// Camera controls as a source describes them (docs/api.md, section 7): a name, a type, the
// range, the default and the value in force. Shaped after libcamera's ControlInfoMap, so that
// the libcamera source and the test source fill the same description.
#pragma once

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <variant>
#include <vector>

namespace camstream {

enum class ControlType { boolean, integer, floating, enumeration };
std::string_view to_string(ControlType type);  // "bool", "int", "float", "enum"

// bool for boolean, std::int64_t for integer, double for floating, the name for enumeration.
using ControlValue = std::variant<bool, std::int64_t, double, std::string>;

struct ControlInfo {
  ControlType type = ControlType::floating;
  ControlValue min;  // boolean: false; enumeration: the first name
  ControlValue max;  // boolean: true; enumeration: the last name
  ControlValue default_value;
  ControlValue value;                   // in force now
  std::vector<std::string> enum_names;  // enumeration: every name it takes
};
using ControlMap = std::map<std::string, ControlInfo>;  // by name, as libcamera names it

// Why a control was refused; message() is "Brightness: 2 not in -1..1".
struct ControlError {
  std::string control;
  std::string reason;  // "unknown control", "not a number", "2 not in -1..1", "expected float..."
  std::string message() const { return control + ": " + reason; }
};

// The value as text: "0.25", "3", "true", "continuous".
std::string to_text(const ControlValue& value);

// `value` checked against `info`: the value in the control's own type (a whole number given
// for a float control becomes a double, an integral double for an int control an integer),
// or the reason it is refused (wrong type, NaN, out of range, not one of the names).
struct CheckedValue {
  ControlValue value;
  std::string error;  // empty when accepted
};
CheckedValue check_control_value(const ControlInfo& info, const ControlValue& value);

// Text as given on a command line or in a file ("0.2", "-1", "true", "continuous"), read in
// the control's type and checked as above.
CheckedValue parse_control_value(const ControlInfo& info, std::string_view text);

// Checks every value of `wanted` against `offered`: the checked values, or the first error
// (by name order) when any is unknown or refused.
struct CheckedControls {
  std::map<std::string, ControlValue> values;
  std::optional<ControlError> error;
};
CheckedControls check_controls(const ControlMap& offered,
                               const std::map<std::string, ControlValue>& wanted);

}  // namespace camstream
