#include "http/control_message.hpp"

#include <gtest/gtest.h>

namespace camstream {
namespace {

TEST(ControlMessage, KnownTypes) {
  EXPECT_EQ(parse_control_message(R"({"type":"start"})").type, ControlCommand::start);
  EXPECT_EQ(parse_control_message(R"({"type":"stop"})").type, ControlCommand::stop);
  EXPECT_EQ(parse_control_message(R"( {"type":"status","extra":[1,2]} )").type,
            ControlCommand::status);
}

TEST(ControlMessage, EveryRefusalNamesTheProblem) {
  const auto refused = [](std::string_view text) {
    const ControlMessage message = parse_control_message(text);
    EXPECT_FALSE(message.type) << text;
    return message.error;
  };
  EXPECT_EQ(refused("start").rfind("invalid JSON: ", 0), 0u);
  EXPECT_EQ(refused("").rfind("invalid JSON: ", 0), 0u);
  EXPECT_EQ(refused(R"(["start"])"), R"(expected a JSON object like {"type":"status"})");
  EXPECT_EQ(
      refused(R"({"type":1})"),
      R"(missing "type": expected "start", "stop", "status", "controls", "set" or "configure")");
  EXPECT_EQ(
      refused(R"({"kind":"stop"})"),
      R"(missing "type": expected "start", "stop", "status", "controls", "set" or "configure")");
  EXPECT_EQ(refused(R"({"type":"reboot"})"),
            R"(unknown type "reboot": expected "start", "stop", "status", "controls", "set" or )"
            R"("configure")");
  // Nesting deeper than Boost.JSON's limit is an error, not a stack overflow.
  EXPECT_EQ(refused(std::string(100'000, '[')).rfind("invalid JSON: ", 0), 0u);
}

TEST(ControlMessage, SetCarriesTheValuesInTheirJsonTypes) {
  const ControlMessage message = parse_control_message(
      R"({"type":"set","controls":{"Brightness":0.5,"ExposureTime":1000,"AeEnable":true,)"
      R"("AfMode":"continuous","Big":18446744073709551615}})");
  ASSERT_EQ(message.type, ControlCommand::set);
  EXPECT_TRUE(message.steers);
  EXPECT_EQ(message.controls.at("Brightness"), ControlValue{0.5});
  EXPECT_EQ(message.controls.at("ExposureTime"), ControlValue{std::int64_t{1000}});
  EXPECT_EQ(message.controls.at("AeEnable"), ControlValue{true});
  EXPECT_EQ(message.controls.at("AfMode"), ControlValue{std::string("continuous")});
  EXPECT_TRUE(std::holds_alternative<double>(message.controls.at("Big")));
}

TEST(ControlMessage, SetRefusals) {
  const auto refused = [](std::string_view text) {
    const ControlMessage message = parse_control_message(text);
    EXPECT_FALSE(message.type) << text;
    EXPECT_TRUE(message.steers) << text;  // a viewer is told "not allowed" first
    return message.error;
  };
  EXPECT_EQ(refused(R"({"type":"set"})"), R"(set: expected "controls":{NAME:VALUE,...})");
  EXPECT_EQ(refused(R"({"type":"set","controls":1})"),
            R"(set: expected "controls":{NAME:VALUE,...})");
  EXPECT_EQ(refused(R"({"type":"set","controls":{"Zoom":[1]}})"),
            "Zoom: expected a number, true/false or a name");
  EXPECT_EQ(refused(R"({"type":"set","controls":{"Zoom":null}})"),
            "Zoom: expected a number, true/false or a name");
}

TEST(ControlMessage, ConfigureChecksEveryFieldAsTheCommandLineDoes) {
  const ControlMessage message = parse_control_message(
      R"({"type":"configure","width":641,"height":480.0,"fps":7.5,"rotation":270,"hflip":true})");
  ASSERT_EQ(message.type, ControlCommand::configure) << message.error;
  LiveSettings settings;
  for (const auto& [row, value] : message.settings) row->set(settings, value);
  EXPECT_EQ(settings.width, 640);  // odd: rounded down, as --width does
  EXPECT_EQ(settings.height, 480);
  EXPECT_EQ(settings.interval, std::chrono::microseconds(133'333));
  EXPECT_EQ(settings.rotation, 270);
  EXPECT_TRUE(settings.hflip);
}

TEST(ControlMessage, ConfigureRefusalsNameTheField) {
  const auto refused = [](std::string_view text) {
    const ControlMessage message = parse_control_message(text);
    EXPECT_FALSE(message.type) << text;
    return message.error;
  };
  EXPECT_EQ(refused(R"({"type":"configure","width":8})"), "width: 8 not in 16..7680");
  EXPECT_EQ(refused(R"({"type":"configure","width":1e300})"),
            "width: 1e+300 is not a whole number");
  EXPECT_EQ(refused(R"({"type":"configure","quality":"high"})"),
            "quality: expected a whole number");
  EXPECT_EQ(refused(R"({"type":"configure","rotation":-90})"),
            "rotation: -90 is not one of 0, 90, 180, 270");
  EXPECT_EQ(refused(R"({"type":"configure","fps":-1})"),
            "fps: -1 not in 1/60..1000 frames per second");
  EXPECT_EQ(refused(R"({"type":"configure","vflip":1})"), "vflip: expected true or false");
  EXPECT_EQ(refused(R"({"type":"configure","fps":5,"interval_ms":200})"),
            "configure: give fps or interval_ms, not both");
  EXPECT_EQ(refused(R"({"type":"configure","size":"hd"})")
                .rfind(R"(configure: unknown field "size": expected any of width, height,)", 0),
            0u);
}

}  // namespace
}  // namespace camstream
