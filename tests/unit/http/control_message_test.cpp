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
  EXPECT_EQ(refused(R"({"type":1})"), R"(missing "type": expected "start", "stop" or "status")");
  EXPECT_EQ(refused(R"({"kind":"stop"})"),
            R"(missing "type": expected "start", "stop" or "status")");
  EXPECT_EQ(refused(R"({"type":"reboot"})"),
            R"(unknown type "reboot": expected "start", "stop" or "status")");
  // Nesting deeper than Boost.JSON's limit is an error, not a stack overflow.
  EXPECT_EQ(refused(std::string(100'000, '[')).rfind("invalid JSON: ", 0), 0u);
}

}  // namespace
}  // namespace camstream
