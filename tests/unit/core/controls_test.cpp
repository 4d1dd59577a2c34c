#include "camstream/core/controls.hpp"

#include <gtest/gtest.h>

#include <cmath>
#include <limits>

namespace camstream {
namespace {

const ControlInfo kFloat{ControlType::floating, -1.0, 1.0, 0.0, 0.0, {}};
const ControlInfo kInt{ControlType::integer, std::int64_t{0},  std::int64_t{1000},
                       std::int64_t{10},     std::int64_t{10}, {}};
const ControlInfo kBool{ControlType::boolean, false, true, true, true, {}};
const ControlInfo kEnum{ControlType::enumeration,  std::string("manual"),
                        std::string("continuous"), std::string("manual"),
                        std::string("manual"),     {"manual", "auto", "continuous"}};

TEST(Controls, AcceptedValuesComeBackInTheControlsType) {
  EXPECT_EQ(check_control_value(kFloat, 0.25).value, ControlValue(0.25));
  EXPECT_EQ(check_control_value(kFloat, std::int64_t{1}).value, ControlValue(1.0));
  EXPECT_EQ(check_control_value(kInt, 7.0).value, ControlValue(std::int64_t{7}));
  EXPECT_EQ(check_control_value(kBool, false).value, ControlValue(false));
  EXPECT_EQ(check_control_value(kEnum, std::string("auto")).value, ControlValue("auto"));
  EXPECT_TRUE(check_control_value(kFloat, -1.0).error.empty());
  EXPECT_TRUE(check_control_value(kFloat, 1.0).error.empty());
}

TEST(Controls, RefusedValuesSayWhy) {
  EXPECT_EQ(check_control_value(kFloat, 1.5).error, "1.5 not in -1..1");
  EXPECT_EQ(check_control_value(kFloat, std::numeric_limits<double>::quiet_NaN()).error,
            "not a number");
  EXPECT_EQ(check_control_value(kFloat, std::numeric_limits<double>::infinity()).error,
            "inf not in -1..1");
  EXPECT_EQ(check_control_value(kFloat, true).error, "expected float, got bool true");
  EXPECT_EQ(check_control_value(kFloat, std::string("bright")).error,
            "expected float, got text bright");
  EXPECT_EQ(check_control_value(kInt, 2.5).error, "2.5 is not a whole number");
  EXPECT_EQ(check_control_value(kInt, 1e300).error, "1e+300 is not a whole number");
  EXPECT_EQ(check_control_value(kInt, std::numeric_limits<double>::quiet_NaN()).error,
            "not a number");
  EXPECT_EQ(check_control_value(kInt, std::int64_t{-1}).error, "-1 not in 0..1000");
  EXPECT_EQ(check_control_value(kBool, std::int64_t{1}).error, "expected bool, got int 1");
  EXPECT_EQ(check_control_value(kEnum, std::string("sometimes")).error,
            "'sometimes' is not one of manual, auto, continuous");
  EXPECT_EQ(check_control_value(kEnum, std::int64_t{1}).error, "expected enum, got int 1");
}

TEST(Controls, TextIsReadInTheControlsType) {
  EXPECT_EQ(parse_control_value(kFloat, "0.2").value, ControlValue(0.2));
  EXPECT_EQ(parse_control_value(kFloat, "-1").value, ControlValue(-1.0));
  EXPECT_EQ(parse_control_value(kInt, "+12").value, ControlValue(std::int64_t{12}));
  EXPECT_EQ(parse_control_value(kBool, "off").value, ControlValue(false));
  EXPECT_EQ(parse_control_value(kEnum, "continuous").value, ControlValue("continuous"));

  EXPECT_EQ(parse_control_value(kFloat, "nan").error, "'nan' is not a number");
  EXPECT_EQ(parse_control_value(kFloat, "inf").error, "'inf' is not a number");
  EXPECT_EQ(parse_control_value(kFloat, "").error, "'' is not a number");
  EXPECT_EQ(parse_control_value(kFloat, "0.2x").error, "'0.2x' is not a number");
  EXPECT_EQ(parse_control_value(kFloat, "3").error, "3 not in -1..1");
  EXPECT_EQ(parse_control_value(kInt, "1.5").error, "'1.5' is not a whole number");
  EXPECT_EQ(parse_control_value(kInt, "99999999999999999999").error,
            "'99999999999999999999' is not a whole number");
  EXPECT_EQ(parse_control_value(kBool, "maybe").error, "'maybe' is not true or false");
  EXPECT_EQ(parse_control_value(kEnum, "Auto").error,
            "'Auto' is not one of manual, auto, continuous");
}

TEST(Controls, CheckControlsIsAllOrNothing) {
  const ControlMap offered{{"Brightness", kFloat}, {"AfMode", kEnum}};
  const auto ok = check_controls(offered, {{"Brightness", 0.5}, {"AfMode", std::string("auto")}});
  EXPECT_FALSE(ok.error);
  EXPECT_EQ(ok.values.size(), 2U);

  const auto unknown = check_controls(offered, {{"Brightness", 0.5}, {"Sharpness", 1.0}});
  ASSERT_TRUE(unknown.error);
  EXPECT_EQ(unknown.error->message(), "Sharpness: unknown control");
  EXPECT_TRUE(unknown.values.empty());

  const auto refused =
      check_controls(offered, {{"AfMode", std::string("auto")}, {"Brightness", 9.0}});
  ASSERT_TRUE(refused.error);
  EXPECT_EQ(refused.error->control, "Brightness");
  EXPECT_EQ(refused.error->message(), "Brightness: 9 not in -1..1");
  EXPECT_TRUE(refused.values.empty());
}

TEST(Controls, TypesAndValuesHaveTheirTextForm) {
  EXPECT_EQ(to_string(ControlType::floating), "float");
  EXPECT_EQ(to_string(ControlType::enumeration), "enum");
  EXPECT_EQ(to_text(0.5), "0.5");
  EXPECT_EQ(to_text(std::int64_t{-3}), "-3");
  EXPECT_EQ(to_text(true), "true");
}

}  // namespace
}  // namespace camstream
