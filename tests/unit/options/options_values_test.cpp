// The strict value conversions behind parse_options, at their edges.
#include "app/options_values.hpp"

#include <gtest/gtest.h>

namespace camstream::options_detail {
namespace {

TEST(OptionValues, WholeNumbersAreStrict) {
  EXPECT_EQ(parse_whole_number("0"), 0);
  EXPECT_EQ(parse_whole_number("+5"), 5);
  EXPECT_EQ(parse_whole_number("-12"), -12);
  for (const char* text : {"", " 5", "5 ", "5.0", "0x10", "1e3", "+", "-", "++5", "5a"}) {
    EXPECT_EQ(parse_whole_number(text), std::nullopt) << "'" << text << "'";
  }
  EXPECT_EQ(parse_whole_number("9223372036854775808"), std::nullopt);  // overflows int64
}

TEST(OptionValues, DecimalsAreFiniteAndPlain) {
  EXPECT_EQ(parse_decimal("7.5"), 7.5);
  EXPECT_EQ(parse_decimal(".5"), 0.5);
  EXPECT_EQ(parse_decimal("+30"), 30.0);
  for (const char* text : {"", "inf", "nan", "1e3", "30fps", "1,5"}) {
    EXPECT_EQ(parse_decimal(text), std::nullopt) << "'" << text << "'";
  }
}

TEST(OptionValues, BooleansInEveryUsualSpelling) {
  for (const char* text : {"true", "TRUE", "yes", "on", "1", "enable"}) {
    EXPECT_EQ(parse_boolean(text), true) << text;
  }
  for (const char* text : {"false", "False", "no", "off", "0", "disable"}) {
    EXPECT_EQ(parse_boolean(text), false) << text;
  }
  for (const char* text : {"", "2", "y", "maybe"}) {
    EXPECT_EQ(parse_boolean(text), std::nullopt) << text;
  }
}

TEST(OptionValues, BindAddresses) {
  EXPECT_EQ(parse_bind_address("::"), "::");
  EXPECT_EQ(parse_bind_address("0.0.0.0"), "0.0.0.0");
  EXPECT_EQ(parse_bind_address("::ffff:127.0.0.1"), "::ffff:127.0.0.1");
  EXPECT_EQ(parse_bind_address("[fe80::1%2]"), "fe80::1%2");
  for (const char* text : {"", "[]", "[::1", "::1]", "256.0.0.1", "fe80::1%", "1.2.3.4%eth0",
                           "example.com", "127.0.0.1:8080"}) {
    EXPECT_EQ(parse_bind_address(text), std::nullopt) << text;
  }
}

TEST(OptionValues, OriginsAsBrowsersSendThem) {
  for (const char* text : {"*", "http://localhost", "https://example.com:8443", "http://[::1]:8080",
                           "chrome-extension://abcdef"}) {
    EXPECT_TRUE(is_origin(text)) << text;
  }
  for (const char* text :
       {"", "null", "example.com", "://x", "http://", "https://x/", "https://x/path", "https://x?q",
        "https://u@x", "1http://x", "http://a b"}) {
    EXPECT_FALSE(is_origin(text)) << text;
  }
}

}  // namespace
}  // namespace camstream::options_detail
