#include "control_message.hpp"

#include <boost/json/parse.hpp>
#include <boost/json/value.hpp>
#include <limits>

namespace camstream {

namespace json = boost::json;

namespace {

constexpr std::string_view kTypes =
    "expected \"start\", \"stop\", \"status\", \"controls\", \"set\" or \"configure\"";

ControlMessage accepted(ControlCommand type, bool steers = false) {
  ControlMessage message;
  message.type = type;
  message.steers = steers;
  return message;
}

ControlMessage invalid(std::string error, bool steers = false) {
  ControlMessage message;
  message.error = std::move(error);
  message.steers = steers;
  return message;
}

// A JSON scalar as a control or setting value; nullopt for null, arrays and objects.
std::optional<ControlValue> scalar(const json::value& value) {
  if (value.is_bool()) return value.get_bool();
  if (value.is_int64()) return value.get_int64();
  if (value.is_uint64()) {
    const std::uint64_t number = value.get_uint64();
    if (number <= static_cast<std::uint64_t>(std::numeric_limits<std::int64_t>::max())) {
      return static_cast<std::int64_t>(number);
    }
    return static_cast<double>(number);  // refused by any range check, with the value named
  }
  if (value.is_double()) return value.get_double();
  if (value.is_string()) return std::string(value.get_string());
  return std::nullopt;
}

ControlMessage parse_set(const json::object& object) {
  const json::value* controls = object.if_contains("controls");
  if (controls == nullptr || !controls->is_object()) {
    return invalid(R"(set: expected "controls":{NAME:VALUE,...})", true);
  }
  ControlMessage message = accepted(ControlCommand::set, true);
  for (const auto& [name, value] : controls->get_object()) {
    auto converted = scalar(value);
    if (!converted) {
      return invalid(std::string(name) + ": expected a number, true/false or a name", true);
    }
    message.controls.emplace(std::string(name), std::move(*converted));
  }
  return message;
}

ControlMessage parse_configure(const json::object& object) {
  ControlMessage message = accepted(ControlCommand::configure, true);
  if (object.contains("fps") && object.contains("interval_ms")) {
    return invalid("configure: give fps or interval_ms, not both", true);
  }
  for (const auto& [key, value] : object) {
    if (key == "type") continue;
    const SettingRow* row = find_setting_by_field(key);
    if (row == nullptr) {
      return invalid("configure: unknown field \"" + std::string(key) + "\": expected any of " +
                         setting_fields(),
                     true);
    }
    const auto converted = scalar(value);
    CheckedSetting checked =
        converted ? check_setting(*row, *converted) : CheckedSetting{{}, {}, "expected a value"};
    if (!checked.error.empty()) {
      return invalid(std::string(row->field) + ": " + checked.error, true);
    }
    message.settings.emplace_back(row, std::move(checked.value));
  }
  return message;
}

}  // namespace

ControlMessage parse_control_message(std::string_view text) {
  boost::system::error_code ec;
  const json::value message = json::parse(text, ec);
  if (ec) return invalid("invalid JSON: " + ec.message());
  const json::object* object = message.if_object();
  if (!object) return invalid("expected a JSON object like {\"type\":\"status\"}");
  const json::value* type_value = object->if_contains("type");
  if (!type_value || !type_value->is_string()) {
    return invalid("missing \"type\": " + std::string(kTypes));
  }
  const std::string_view type = type_value->get_string();
  if (type == "start") return accepted(ControlCommand::start, true);
  if (type == "stop") return accepted(ControlCommand::stop, true);
  if (type == "status") return accepted(ControlCommand::status);
  if (type == "controls") return accepted(ControlCommand::controls);
  if (type == "set") return parse_set(*object);
  if (type == "configure") return parse_configure(*object);
  return invalid("unknown type \"" + std::string(type) + "\": " + std::string(kTypes));
}

}  // namespace camstream
