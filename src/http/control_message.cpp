#include "control_message.hpp"

#include <boost/json/parse.hpp>
#include <boost/json/value.hpp>

namespace camstream {

namespace json = boost::json;

namespace {
ControlMessage invalid(std::string error) {
  return {std::nullopt, std::move(error)};
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
    return invalid("missing \"type\": expected \"start\", \"stop\" or \"status\"");
  }
  const std::string_view type = type_value->get_string();
  if (type == "start") return {ControlCommand::start, {}, true};
  if (type == "stop") return {ControlCommand::stop, {}, true};
  if (type == "status") return {ControlCommand::status, {}};
  ControlMessage unknown = invalid("unknown type \"" + std::string(type) +
                                   "\": expected \"start\", \"stop\" or \"status\"");
  unknown.steers = type == "set" || type == "configure";
  return unknown;
}

}  // namespace camstream
