#include "camstream/core/settings.hpp"

#include <gtest/gtest.h>

#include <set>

#include "camstream/core/controls.hpp"

namespace camstream {
namespace {

using namespace std::chrono_literals;

TEST(Settings, EveryRowHasItsNamesHelpAndASetterAndTheDefaultsAreLiveSettings) {
  std::set<std::string_view> flags;
  std::set<std::string_view> fields;
  for (const auto& row : setting_rows()) {
    EXPECT_TRUE(flags.insert(row.flag).second) << row.flag;
    EXPECT_TRUE(fields.insert(row.field).second) << row.field;
    EXPECT_FALSE(row.help.empty()) << row.flag;
    EXPECT_NE(row.set, nullptr) << row.flag;
    EXPECT_EQ(find_setting_by_flag(row.flag), &row);
    EXPECT_EQ(find_setting_by_field(row.field), &row);
  }
  EXPECT_EQ(default_text(*find_setting_by_flag("width")), "640");
  EXPECT_EQ(default_text(*find_setting_by_flag("interval")), "100");
  EXPECT_EQ(default_text(*find_setting_by_flag("hflip")), "off");
  EXPECT_EQ(default_text(*find_setting_by_flag("fps")), "none");
  EXPECT_EQ(find_setting_by_flag("bind"), nullptr);
}

TEST(Settings, TextAndJsonValuesAreCheckedAlike) {
  const SettingRow& width = *find_setting_by_flag("width");
  EXPECT_EQ(parse_setting(width, "640").value, ControlValue{std::int64_t{640}});
  EXPECT_EQ(check_setting(width, 640.0).value, ControlValue{std::int64_t{640}});
  EXPECT_EQ(parse_setting(width, "15").error, "15 not in 16..7680");
  EXPECT_EQ(check_setting(width, std::int64_t{15}).error, "15 not in 16..7680");
  EXPECT_EQ(parse_setting(width, "640px").error, "'640px' is not a whole number");
  EXPECT_EQ(check_setting(width, 6.5).error, "6.5 is not a whole number");
  EXPECT_EQ(check_setting(width, true).error, "expected a whole number");
  const CheckedSetting odd = parse_setting(width, "641");
  EXPECT_EQ(odd.value, ControlValue{std::int64_t{640}});
  EXPECT_EQ(odd.note, "641 is odd, rounded down to 640");

  const SettingRow& fps = *find_setting_by_flag("fps");
  LiveSettings settings;
  fps.set(settings, parse_setting(fps, "0.5").value);
  EXPECT_EQ(settings.interval, 2s);
  EXPECT_FALSE(parse_setting(fps, "nan").error.empty());
  EXPECT_FALSE(parse_setting(fps, "inf").error.empty());
  EXPECT_EQ(check_setting(fps, 0.0).error, "0 not in 1/60..1000 frames per second");

  const SettingRow& rotation = *find_setting_by_flag("rotation");
  EXPECT_EQ(parse_setting(rotation, "45").error, "45 is not one of 0, 90, 180, 270");
  EXPECT_EQ(check_setting(rotation, std::int64_t{-9'000'000'000}).error,
            "-9000000000 is not one of 0, 90, 180, 270");
  EXPECT_EQ(parse_setting(*find_setting_by_flag("vflip"), "maybe").error,
            "'maybe' is not true or false");
}

}  // namespace
}  // namespace camstream
