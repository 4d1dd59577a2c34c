// The picture settings that can change while viewers watch (docs/api.md, section 7), as one
// table: each row holds a setting's flag and config key, its configure/status field, help
// text, range and setter. The command line, the config file, the `configure` message and the
// status are all generated from it, so a setting is named, bounded and defaulted once.
#pragma once

#include <chrono>
#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <string_view>

#include "camstream/core/controls.hpp"

namespace camstream {

struct LiveSettings {
  int width = 640;  // camera side, before rotation; even
  int height = 480;
  std::chrono::microseconds interval{100'000};
  int quality = 80;
  int rotation = 0;
  bool hflip = false;
  bool vflip = false;
  int snapshot_width = 0;  // 0: the stream's size
  int snapshot_height = 0;

  int effective_snapshot_width() const { return snapshot_width > 0 ? snapshot_width : width; }
  int effective_snapshot_height() const { return snapshot_height > 0 ? snapshot_height : height; }
  // True when /snapshot has a size of its own, so it is encoded apart from the stream.
  bool separate_snapshot() const {
    return effective_snapshot_width() != width || effective_snapshot_height() != height;
  }
  friend bool operator==(const LiveSettings&, const LiveSettings&) = default;
};

enum class SettingKind {
  even_size,  // a whole number in min..max, odd values rounded down (2x2 chroma blocks)
  whole,      // a whole number in min..max
  rate,       // frames per second, 1/60..1000: sets the interval
  rotation,   // 0, 90, 180 or 270
  boolean,
};

struct SettingRow {
  std::string_view flag;        // "snapshot-width": the long flag and the config file key
  std::string_view field;       // "snapshot_width": the configure message and status field
  std::string_view value_name;  // "N", for --help
  std::string_view help;        // without the default, which is generated
  SettingKind kind;
  std::int64_t min = 0;
  std::int64_t max = 0;
  // Stores a value that check_setting() accepted.
  void (*set)(LiveSettings&, const ControlValue&);
  // The value in force, as status reports it; nullptr for an input-only setting (fps).
  ControlValue (*get)(const LiveSettings&);
};

std::span<const SettingRow> setting_rows();
const SettingRow* find_setting_by_flag(std::string_view flag);
const SettingRow* find_setting_by_field(std::string_view field);
// "width, height, fps, ...": for messages naming what is accepted.
std::string setting_fields();
// The default as --help shows it: "640", "off", "the stream's size".
std::string default_text(const SettingRow& row);

// A value checked against its row: the value to store, a note when it was adjusted ("7 is
// odd, rounded down to 6"), or why it is refused ("7 not in 16..7680", "expected a number").
struct CheckedSetting {
  ControlValue value;
  std::string note;
  std::string error;
};
CheckedSetting check_setting(const SettingRow& row, const ControlValue& value);
// The same from text, as the command line and the config file give it.
CheckedSetting parse_setting(const SettingRow& row, std::string_view text);

}  // namespace camstream
