#include "camstream/core/settings.hpp"

#include <algorithm>
#include <array>
#include <cmath>

#include "camstream/core/controls.hpp"
#include "camstream/core/value_text.hpp"

namespace camstream {

namespace {

using namespace std::chrono;

std::int64_t whole(const ControlValue& value) {
  return std::get<std::int64_t>(value);
}

constexpr double kMinFps = 1.0 / 60.0;  // the same bounds as --interval: 1 ms .. 60 s
constexpr double kMaxFps = 1000.0;

ControlValue interval_ms(const LiveSettings& settings) {
  return static_cast<double>(settings.interval.count()) / 1000.0;
}

// clang-format off
constexpr std::array kRows{
    SettingRow{"width", "width", "N", "picture width, 16..7680, even", SettingKind::even_size,
               16, 7680,
               [](LiveSettings& s, const ControlValue& v) { s.width = static_cast<int>(whole(v)); },
               [](const LiveSettings& s) { return ControlValue{std::int64_t{s.width}}; }},
    SettingRow{"height", "height", "N", "picture height, 16..4320, even", SettingKind::even_size,
               16, 4320,
               [](LiveSettings& s, const ControlValue& v) { s.height = static_cast<int>(whole(v)); },
               [](const LiveSettings& s) { return ControlValue{std::int64_t{s.height}}; }},
    SettingRow{"interval", "interval_ms", "MS", "milliseconds between frames, 1..60000",
               SettingKind::whole, 1, 60'000,
               [](LiveSettings& s, const ControlValue& v) { s.interval = milliseconds(whole(v)); },
               interval_ms},
    SettingRow{"fps", "fps", "N", "frames per second, 1/60..1000: the interval 1000/N ms",
               SettingKind::rate, 0, 0,
               [](LiveSettings& s, const ControlValue& v) {
                 s.interval = microseconds(std::llround(1e6 / std::get<double>(v)));
               },
               nullptr},
    SettingRow{"quality", "quality", "1..100", "JPEG quality", SettingKind::whole, 1, 100,
               [](LiveSettings& s, const ControlValue& v) { s.quality = static_cast<int>(whole(v)); },
               [](const LiveSettings& s) { return ControlValue{std::int64_t{s.quality}}; }},
    SettingRow{"rotation", "rotation", "0|90|180|270", "clockwise picture rotation in degrees",
               SettingKind::rotation, 0, 270,
               [](LiveSettings& s, const ControlValue& v) { s.rotation = static_cast<int>(whole(v)); },
               [](const LiveSettings& s) { return ControlValue{std::int64_t{s.rotation}}; }},
    SettingRow{"hflip", "hflip", "", "mirror the picture left to right", SettingKind::boolean, 0, 1,
               [](LiveSettings& s, const ControlValue& v) { s.hflip = std::get<bool>(v); },
               [](const LiveSettings& s) { return ControlValue{s.hflip}; }},
    SettingRow{"vflip", "vflip", "", "flip the picture upside down", SettingKind::boolean, 0, 1,
               [](LiveSettings& s, const ControlValue& v) { s.vflip = std::get<bool>(v); },
               [](const LiveSettings& s) { return ControlValue{s.vflip}; }},
    SettingRow{"snapshot-width", "snapshot_width", "N",
               "/snapshot width, 16..7680, even; may exceed the stream's", SettingKind::even_size,
               16, 7680,
               [](LiveSettings& s, const ControlValue& v) {
                 s.snapshot_width = static_cast<int>(whole(v));
               },
               [](const LiveSettings& s) {
                 return ControlValue{std::int64_t{s.effective_snapshot_width()}};
               }},
    SettingRow{"snapshot-height", "snapshot_height", "N",
               "/snapshot height, 16..4320, even; may exceed the stream's", SettingKind::even_size,
               16, 4320,
               [](LiveSettings& s, const ControlValue& v) {
                 s.snapshot_height = static_cast<int>(whole(v));
               },
               [](const LiveSettings& s) {
                 return ControlValue{std::int64_t{s.effective_snapshot_height()}};
               }},
};
// clang-format on

std::string range_text(std::int64_t min, std::int64_t max) {
  return std::to_string(min) + ".." + std::to_string(max);
}

// A whole number given as a JSON number may arrive as a double (640.0); NaN, fractions and
// numbers past int64 are refused with the value named.
std::optional<std::int64_t> as_whole(const ControlValue& value) {
  if (const auto* number = std::get_if<std::int64_t>(&value)) return *number;
  if (const auto* real = std::get_if<double>(&value)) {
    if (std::isfinite(*real) && std::trunc(*real) == *real && std::fabs(*real) < 1e15) {
      return static_cast<std::int64_t>(*real);
    }
  }
  return std::nullopt;
}

CheckedSetting refused(std::string reason) {
  return CheckedSetting{{}, {}, std::move(reason)};
}

}  // namespace

std::span<const SettingRow> setting_rows() {
  return kRows;
}

const SettingRow* find_setting_by_flag(std::string_view flag) {
  const auto row = std::find_if(kRows.begin(), kRows.end(), [&](const SettingRow& candidate) {
    return candidate.flag == flag;
  });
  return row == kRows.end() ? nullptr : &*row;
}

const SettingRow* find_setting_by_field(std::string_view field) {
  const auto row = std::find_if(kRows.begin(), kRows.end(), [&](const SettingRow& candidate) {
    return candidate.field == field;
  });
  return row == kRows.end() ? nullptr : &*row;
}

std::string setting_fields() {
  std::string fields;
  for (const auto& row : kRows) fields += (fields.empty() ? "" : ", ") + std::string(row.field);
  return fields;
}

std::string default_text(const SettingRow& row) {
  if (row.flag.rfind("snapshot-", 0) == 0) return "the stream's";
  if (row.get == nullptr) return "none";
  const ControlValue value = row.get(LiveSettings{});
  if (const auto* flag = std::get_if<bool>(&value)) return *flag ? "on" : "off";
  return to_text(value);
}

CheckedSetting check_setting(const SettingRow& row, const ControlValue& value) {
  switch (row.kind) {
    case SettingKind::boolean:
      if (!std::holds_alternative<bool>(value)) return refused("expected true or false");
      return CheckedSetting{value, {}, {}};
    case SettingKind::rate: {
      const auto* real = std::get_if<double>(&value);
      const auto* number = std::get_if<std::int64_t>(&value);
      if (real == nullptr && number == nullptr) return refused("expected a number");
      const double fps = real != nullptr ? *real : static_cast<double>(*number);
      if (!(fps >= kMinFps - 1e-9 && fps <= kMaxFps)) {
        return refused(to_text(value) + " not in 1/60..1000 frames per second");
      }
      return CheckedSetting{fps, {}, {}};
    }
    case SettingKind::whole:
    case SettingKind::even_size:
    case SettingKind::rotation:
      break;
  }
  if (std::holds_alternative<bool>(value) || std::holds_alternative<std::string>(value)) {
    return refused("expected a whole number");
  }
  const auto number = as_whole(value);
  if (!number) return refused(to_text(value) + " is not a whole number");
  if (row.kind == SettingKind::rotation) {
    if (*number != 0 && *number != 90 && *number != 180 && *number != 270) {
      return refused(std::to_string(*number) + " is not one of 0, 90, 180, 270");
    }
    return CheckedSetting{*number, {}, {}};
  }
  if (*number < row.min || *number > row.max) {
    return refused(std::to_string(*number) + " not in " + range_text(row.min, row.max));
  }
  if (row.kind == SettingKind::even_size && *number % 2 != 0) {
    return CheckedSetting{
        *number - 1,
        std::to_string(*number) + " is odd, rounded down to " + std::to_string(*number - 1),
        {}};
  }
  return CheckedSetting{*number, {}, {}};
}

CheckedSetting parse_setting(const SettingRow& row, std::string_view text) {
  const auto not_a = [&](const char* what) {
    std::string reason(1, '\'');
    reason.append(text).append("' is not ").append(what);
    return refused(std::move(reason));
  };
  switch (row.kind) {
    case SettingKind::boolean:
      if (const auto flag = parse_boolean(text)) return check_setting(row, *flag);
      return not_a("true or false");
    case SettingKind::rate:
      if (const auto number = parse_decimal(text)) return check_setting(row, *number);
      return not_a("a number");
    case SettingKind::rotation:
      if (const auto number = parse_whole_number(text)) return check_setting(row, *number);
      return not_a("one of 0, 90, 180, 270");
    case SettingKind::whole:
    case SettingKind::even_size:
      if (const auto number = parse_whole_number(text)) return check_setting(row, *number);
      return not_a("a whole number");
  }
  return refused("unsupported setting");
}

}  // namespace camstream
