#include "camstream/core/controls.hpp"

#include <algorithm>
#include <array>
#include <charconv>
#include <cmath>
#include <limits>

#include "camstream/core/value_text.hpp"

namespace camstream {

namespace {

std::string number_text(double number) {
  std::array<char, 32> buffer{};
  const auto [end, error] = std::to_chars(buffer.data(), buffer.data() + buffer.size(), number);
  return error == std::errc{} ? std::string(buffer.data(), end) : std::string("?");
}

std::string_view type_of(const ControlValue& value) {
  switch (value.index()) {
    case 0:
      return "bool";
    case 1:
      return "int";
    case 2:
      return "float";
    default:
      return "text";
  }
}

std::string wrong_type(const ControlInfo& info, const ControlValue& value) {
  return "expected " + std::string(to_string(info.type)) + ", got " + std::string(type_of(value)) +
         " " + to_text(value);
}

std::string range_error(const ControlInfo& info, const ControlValue& value) {
  return to_text(value) + " not in " + to_text(info.min) + ".." + to_text(info.max);
}

template <typename Number>
bool within(Number value, const ControlInfo& info) {
  const auto* min = std::get_if<Number>(&info.min);
  const auto* max = std::get_if<Number>(&info.max);
  return (min == nullptr || value >= *min) && (max == nullptr || value <= *max);
}

CheckedValue check_float(const ControlInfo& info, const ControlValue& value) {
  double number = 0;
  if (const auto* whole = std::get_if<std::int64_t>(&value)) {
    number = static_cast<double>(*whole);
  } else if (const auto* real = std::get_if<double>(&value)) {
    number = *real;
  } else {
    return {{}, wrong_type(info, value)};
  }
  if (std::isnan(number)) return {{}, "not a number"};
  if (!within(number, info)) return {{}, range_error(info, number)};
  return {number, {}};
}

CheckedValue check_integer(const ControlInfo& info, const ControlValue& value) {
  std::int64_t number = 0;
  if (const auto* whole = std::get_if<std::int64_t>(&value)) {
    number = *whole;
  } else if (const auto* real = std::get_if<double>(&value)) {
    // 2^63 is exactly representable; anything at or past it does not fit.
    constexpr double kLimit = 9223372036854775808.0;
    if (std::isnan(*real)) return {{}, "not a number"};
    if (std::trunc(*real) != *real || *real >= kLimit || *real < -kLimit) {
      return {{}, number_text(*real) + " is not a whole number"};
    }
    number = static_cast<std::int64_t>(*real);
  } else {
    return {{}, wrong_type(info, value)};
  }
  if (!within(number, info)) return {{}, range_error(info, number)};
  return {number, {}};
}

}  // namespace

std::string_view to_string(ControlType type) {
  switch (type) {
    case ControlType::boolean:
      return "bool";
    case ControlType::integer:
      return "int";
    case ControlType::floating:
      return "float";
    case ControlType::enumeration:
      return "enum";
  }
  return "?";
}

std::string to_text(const ControlValue& value) {
  if (const auto* flag = std::get_if<bool>(&value)) return *flag ? "true" : "false";
  if (const auto* whole = std::get_if<std::int64_t>(&value)) return std::to_string(*whole);
  if (const auto* real = std::get_if<double>(&value)) return number_text(*real);
  return std::get<std::string>(value);
}

CheckedValue check_control_value(const ControlInfo& info, const ControlValue& value) {
  switch (info.type) {
    case ControlType::floating:
      return check_float(info, value);
    case ControlType::integer:
      return check_integer(info, value);
    case ControlType::boolean:
      if (!std::holds_alternative<bool>(value)) return {{}, wrong_type(info, value)};
      return {value, {}};
    case ControlType::enumeration: {
      const auto* name = std::get_if<std::string>(&value);
      if (name == nullptr) return {{}, wrong_type(info, value)};
      if (std::find(info.enum_names.begin(), info.enum_names.end(), *name) ==
          info.enum_names.end()) {
        std::string names;
        for (const auto& known : info.enum_names) names += (names.empty() ? "" : ", ") + known;
        return {{}, "'" + *name + "' is not one of " + names};
      }
      return {value, {}};
    }
  }
  return {{}, "unsupported control type"};
}

CheckedValue parse_control_value(const ControlInfo& info, std::string_view text) {
  const auto not_a = [&](const char* what) {
    // Appended piece by piece: "'" + string trips GCC 12's -Wrestrict false positive.
    std::string reason(1, '\'');
    reason.append(text).append("' is not ").append(what);
    return CheckedValue{{}, std::move(reason)};
  };
  switch (info.type) {
    case ControlType::boolean:
      if (const auto flag = parse_boolean(text)) return check_control_value(info, *flag);
      return not_a("true or false");
    case ControlType::integer:
      if (const auto number = parse_whole_number(text)) return check_control_value(info, *number);
      return not_a("a whole number");
    case ControlType::floating:
      if (const auto number = parse_decimal(text)) return check_control_value(info, *number);
      return not_a("a number");
    case ControlType::enumeration:
      return check_control_value(info, std::string(text));
  }
  return {{}, "unsupported control type"};
}

CheckedControls check_controls(const ControlMap& offered,
                               const std::map<std::string, ControlValue>& wanted) {
  CheckedControls checked;
  for (const auto& [name, value] : wanted) {
    const auto info = offered.find(name);
    if (info == offered.end()) {
      checked.error = ControlError{name, "unknown control"};
      break;
    }
    CheckedValue result = check_control_value(info->second, value);
    if (!result.error.empty()) {
      checked.error = ControlError{name, std::move(result.error)};
      break;
    }
    checked.values.emplace(name, std::move(result.value));
  }
  if (checked.error) checked.values.clear();
  return checked;
}

}  // namespace camstream
