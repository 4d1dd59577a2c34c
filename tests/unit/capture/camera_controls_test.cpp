// The libcamera source's controls: libcamera ControlInfoMaps built by hand (as a pipeline
// handler builds them) turned into camstream's description, and checked values back into a
// libcamera ControlList. Built only with libcamera.
#ifdef CAMSTREAM_WITH_LIBCAMERA

#include "capture/libcamera/camera_controls.hpp"

#include <gtest/gtest.h>

#include <cmath>
#include <limits>
#include <string>
#include <vector>

namespace camstream {
namespace {

namespace controls = libcamera::controls;

libcamera::ControlInfoMap camera_like_map() {
  libcamera::ControlInfoMap::Map map;
  map[&controls::Brightness] = libcamera::ControlInfo(-1.0F, 1.0F, 0.0F);
  map[&controls::Contrast] = libcamera::ControlInfo(0.0F, 32.0F, 1.0F);
  map[&controls::Sharpness] = libcamera::ControlInfo(0.1F, 16.0F);  // no default given
  map[&controls::AeEnable] = libcamera::ControlInfo(false, true, true);
  map[&controls::ExposureTime] = libcamera::ControlInfo(100, 66666, 20000);
  map[&controls::AfMode] = libcamera::ControlInfo(controls::AfModeValues);
  const std::vector<libcamera::ControlValue> awb{
      libcamera::ControlValue(std::int32_t{controls::AwbAuto}),
      libcamera::ControlValue(std::int32_t{controls::AwbDaylight})};
  map[&controls::AwbMode] =
      libcamera::ControlInfo(awb, libcamera::ControlValue(std::int32_t{controls::AwbDaylight}));
  // Arrays and what camstream manages itself: never offered.
  map[&controls::ColourGains] = libcamera::ControlInfo(0.0F, 32.0F);
  map[&controls::FrameDurationLimits] =
      libcamera::ControlInfo(std::int64_t{33333}, std::int64_t{1000000}, std::int64_t{33333});
  map[&controls::ScalerCrop] = libcamera::ControlInfo(libcamera::Rectangle(0, 0, 64, 64),
                                                      libcamera::Rectangle(0, 0, 4056, 3040),
                                                      libcamera::Rectangle(0, 0, 4056, 3040));
  return libcamera::ControlInfoMap(std::move(map), controls::controls);
}

const libcamera::Rectangle kSensor(0, 0, 4056, 3040);

TEST(CameraControls, NamesTypesRangesAndDefaultsAsLibcameraGivesThem) {
  const CameraControls described(camera_like_map(), kSensor);
  const ControlMap& offered = described.offered();
  std::vector<std::string> names;
  for (const auto& [name, info] : offered) names.push_back(name);
  EXPECT_EQ(names, (std::vector<std::string>{"AeEnable", "AfMode", "AwbMode", "Brightness",
                                             "Contrast", "ExposureTime", "Sharpness", "Zoom"}));

  const ControlInfo& brightness = offered.at("Brightness");
  EXPECT_EQ(brightness.type, ControlType::floating);
  EXPECT_EQ(brightness.min, ControlValue(-1.0));
  EXPECT_EQ(brightness.max, ControlValue(1.0));
  EXPECT_EQ(brightness.default_value, ControlValue(0.0));
  EXPECT_EQ(brightness.value, ControlValue(0.0));

  // A float limit reads as the decimal it was written as, not as 0.100000001.
  const ControlInfo& sharpness = offered.at("Sharpness");
  EXPECT_EQ(sharpness.min, ControlValue(0.1));
  EXPECT_EQ(to_text(sharpness.min), "0.1");
  EXPECT_EQ(sharpness.default_value, ControlValue(0.1)) << "no default: the minimum";

  const ControlInfo& ae = offered.at("AeEnable");
  EXPECT_EQ(ae.type, ControlType::boolean);
  EXPECT_EQ(ae.default_value, ControlValue(true));

  const ControlInfo& exposure = offered.at("ExposureTime");
  EXPECT_EQ(exposure.type, ControlType::integer);
  EXPECT_EQ(exposure.min, ControlValue(std::int64_t{100}));
  EXPECT_EQ(exposure.max, ControlValue(std::int64_t{66666}));
  EXPECT_EQ(exposure.default_value, ControlValue(std::int64_t{20000}));
}

TEST(CameraControls, EnumerationsCarryLibcamerasNames) {
  const CameraControls described(camera_like_map(), kSensor);
  const ControlInfo& af = described.offered().at("AfMode");
  EXPECT_EQ(af.type, ControlType::enumeration);
  EXPECT_EQ(af.enum_names,
            (std::vector<std::string>{"AfModeManual", "AfModeAuto", "AfModeContinuous"}));
  EXPECT_EQ(af.default_value, ControlValue(std::string("AfModeManual")));

  // Only the values this camera lists, and its default.
  const ControlInfo& awb = described.offered().at("AwbMode");
  EXPECT_EQ(awb.enum_names, (std::vector<std::string>{"AwbAuto", "AwbDaylight"}));
  EXPECT_EQ(awb.default_value, ControlValue(std::string("AwbDaylight")));
  EXPECT_EQ(awb.min, ControlValue(std::string("AwbAuto")));
  EXPECT_EQ(awb.max, ControlValue(std::string("AwbDaylight")));
}

TEST(CameraControls, ZoomOnlyWithScalerCropAndItsMaximum) {
  EXPECT_EQ(CameraControls(camera_like_map(), std::nullopt).offered().count("Zoom"), 0U);
  libcamera::ControlInfoMap::Map plain;
  plain[&controls::Brightness] = libcamera::ControlInfo(-1.0F, 1.0F, 0.0F);
  const CameraControls without(libcamera::ControlInfoMap(std::move(plain), controls::controls),
                               kSensor);
  EXPECT_EQ(without.offered().count("Zoom"), 0U);

  const CameraControls with(camera_like_map(), kSensor);
  const ControlInfo& zoom = with.offered().at("Zoom");
  EXPECT_EQ(zoom.type, ControlType::floating);
  EXPECT_EQ(zoom.min, ControlValue(1.0));
  EXPECT_EQ(zoom.max, ControlValue(8.0));
  EXPECT_EQ(zoom.value, ControlValue(1.0));
}

TEST(CameraControls, ValuesBecomeLibcameraControlsOfTheirOwnType) {
  const CameraControls described(camera_like_map(), kSensor);
  libcamera::ControlList list;
  described.add_to(list, {{"Brightness", 0.5},
                          {"AeEnable", false},
                          {"ExposureTime", std::int64_t{1000}},
                          {"AfMode", std::string("AfModeContinuous")},
                          {"Zoom", 2.0}});
  EXPECT_EQ(list.size(), 5U);
  EXPECT_EQ(list.get(controls::Brightness), 0.5F);
  EXPECT_EQ(list.get(controls::AeEnable), false);
  EXPECT_EQ(list.get(controls::ExposureTime), 1000);
  EXPECT_EQ(list.get(controls::AfMode), controls::AfModeContinuous);
  const auto crop = list.get(controls::ScalerCrop);
  ASSERT_TRUE(crop.has_value());
  EXPECT_EQ(*crop, libcamera::Rectangle(1014, 760, 2028, 1520));
}

TEST(CameraControls, ValuesInForceShowInTheDescription) {
  const CameraControls described(camera_like_map(), kSensor);
  const ControlMap now = described.with_values({{"Contrast", 2.5}, {"Nonsense", 1.0}});
  EXPECT_EQ(now.at("Contrast").value, ControlValue(2.5));
  EXPECT_EQ(now.at("Contrast").default_value, ControlValue(1.0));
  EXPECT_EQ(now.count("Nonsense"), 0U);
}

TEST(SourceControls, RefusedValuesChangeNothing) {
  SourceControls source(CameraControls(camera_like_map(), kSensor));
  const auto unknown = source.set({{"Brightness", 0.5}, {"ColourGains", 1.0}});
  ASSERT_TRUE(unknown.has_value());
  EXPECT_EQ(unknown->message(), "ColourGains: unknown control");
  const auto range = source.set({{"ExposureTime", std::int64_t{70000}}});
  ASSERT_TRUE(range.has_value());
  EXPECT_EQ(range->message(), "ExposureTime: 70000 not in 100..66666");
  const auto name = source.set({{"AfMode", std::string("AfModeSometimes")}});
  ASSERT_TRUE(name.has_value());
  EXPECT_EQ(name->control, "AfMode");
  const auto zoom = source.set({{"Zoom", 9.0}});
  ASSERT_TRUE(zoom.has_value());
  EXPECT_EQ(zoom->message(), "Zoom: 9 not in 1..8");
  const auto nan = source.set({{"Zoom", std::numeric_limits<double>::quiet_NaN()}});
  ASSERT_TRUE(nan.has_value());
  EXPECT_EQ(nan->message(), "Zoom: not a number");
  const auto type = source.set({{"AeEnable", 1.0}});
  ASSERT_TRUE(type.has_value());
  EXPECT_EQ(type->control, "AeEnable");

  EXPECT_EQ(source.controls().at("Brightness").value, ControlValue(0.0));
  libcamera::ControlList list;
  source.add_changes_to(list);
  EXPECT_TRUE(list.empty());
}

TEST(SourceControls, ThousandsOfValuesAtOnceAreRefusedWhole) {
  SourceControls source(CameraControls(camera_like_map(), kSensor));
  std::map<std::string, ControlValue> flood;
  for (int i = 0; i < 10000; ++i) flood["Brightness" + std::to_string(i)] = 0.5;
  flood["Brightness"] = 0.5;
  const auto error = source.set(flood);
  ASSERT_TRUE(error.has_value());
  EXPECT_EQ(error->reason, "unknown control");
  EXPECT_EQ(source.controls().at("Brightness").value, ControlValue(0.0));
  const std::string huge(1 << 20, 'A');
  const auto long_name = source.set({{"AfMode", huge}});
  ASSERT_TRUE(long_name.has_value());
  EXPECT_EQ(long_name->control, "AfMode");
}

TEST(SourceControls, ChangesGoToOneRequestAndEverythingToStart) {
  SourceControls source(CameraControls(camera_like_map(), kSensor));
  ASSERT_FALSE(source.set({{"Brightness", 0.25}, {"AfMode", std::string("AfModeAuto")}}));
  EXPECT_EQ(source.controls().at("Brightness").value, ControlValue(0.25));
  EXPECT_EQ(source.controls().at("AfMode").value, ControlValue(std::string("AfModeAuto")));

  libcamera::ControlList next;
  source.add_changes_to(next);
  EXPECT_EQ(next.size(), 2U);
  libcamera::ControlList after;
  source.add_changes_to(after);
  EXPECT_TRUE(after.empty()) << "a change is sent once";

  // A whole number for a float control is taken as a float.
  ASSERT_FALSE(source.set({{"Contrast", std::int64_t{2}}}));
  libcamera::ControlList start;
  source.add_all_to(start);
  EXPECT_EQ(start.size(), 3U);
  EXPECT_EQ(start.get(controls::Contrast), 2.0F);
  EXPECT_EQ(start.get(controls::Brightness), 0.25F);
  libcamera::ControlList pending;
  source.add_changes_to(pending);
  EXPECT_TRUE(pending.empty()) << "start() took the waiting change";
}

// What a sensor mode does to the map once the camera is configured: a shorter frame duration
// narrows ExposureTime, and the mode crops the sensor.
libcamera::ControlInfoMap configured_map() {
  libcamera::ControlInfoMap::Map map;
  map[&controls::Brightness] = libcamera::ControlInfo(-1.0F, 1.0F, 0.0F);
  map[&controls::ExposureTime] = libcamera::ControlInfo(100, 33333, 10000);
  map[&controls::ScalerCrop] = libcamera::ControlInfo(libcamera::Rectangle(0, 0, 64, 64),
                                                      libcamera::Rectangle(0, 0, 4056, 3040),
                                                      libcamera::Rectangle(0, 0, 4056, 3040));
  return libcamera::ControlInfoMap(std::move(map), controls::controls);
}

TEST(SourceControls, ConfiguringKeepsTheValuesTheModeAllowsAndDropsTheRest) {
  SourceControls source(CameraControls(camera_like_map(), kSensor));
  ASSERT_FALSE(source.set({{"Brightness", 0.5},
                           {"ExposureTime", std::int64_t{50000}},
                           {"Contrast", 4.0},
                           {"Zoom", 4.0}}));
  source.adopt_configured(
      CameraControls(configured_map(), libcamera::Rectangle(1000, 500, 2000, 1000)));

  const ControlMap now = source.controls();
  EXPECT_EQ(now.count("Contrast"), 0U);
  EXPECT_EQ(now.at("ExposureTime").max, ControlValue(std::int64_t{33333}));
  EXPECT_EQ(now.at("ExposureTime").value, ControlValue(std::int64_t{10000}));
  EXPECT_EQ(now.at("Brightness").value, ControlValue(0.5));

  // What is kept still reaches the camera, Zoom cropping what the mode sees; nothing dropped does.
  libcamera::ControlList next;
  source.add_changes_to(next);
  EXPECT_EQ(next.size(), 2U);
  EXPECT_FALSE(next.get(controls::ExposureTime).has_value());
  libcamera::ControlList start;
  source.add_all_to(start);
  EXPECT_EQ(start.size(), 2U);
  EXPECT_EQ(start.get(controls::Brightness), 0.5F);
  EXPECT_EQ(start.get(controls::ScalerCrop), libcamera::Rectangle(1750, 875, 500, 250));
  EXPECT_FALSE(start.get(controls::ExposureTime).has_value());
  // The new ranges are the ones checked against.
  const auto error = source.set({{"ExposureTime", std::int64_t{40000}}});
  ASSERT_TRUE(error.has_value());
  EXPECT_EQ(error->message(), "ExposureTime: 40000 not in 100..33333");
}

TEST(SourceControls, ZoomStaysOffWhenTheConfiguredCameraHasNoScalerCrop) {
  SourceControls source(CameraControls(camera_like_map(), kSensor));
  ASSERT_FALSE(source.set({{"Zoom", 2.0}}));
  libcamera::ControlInfoMap::Map plain;
  plain[&controls::Brightness] = libcamera::ControlInfo(-1.0F, 1.0F, 0.0F);
  source.adopt_configured(
      CameraControls(libcamera::ControlInfoMap(std::move(plain), controls::controls), kSensor));
  EXPECT_EQ(source.controls().count("Zoom"), 0U);
  libcamera::ControlList start;
  source.add_all_to(start);
  EXPECT_TRUE(start.empty());
}

}  // namespace
}  // namespace camstream

#endif  // CAMSTREAM_WITH_LIBCAMERA
