#include "camstream/core/query_string.hpp"

#include <gtest/gtest.h>

namespace camstream {
namespace {

TEST(QueryString, QueryValue) {
  EXPECT_EQ(query_value("fps=2&advance_headers=1", "fps"), "2");
  EXPECT_EQ(query_value("fps=2&advance_headers=1", "advance_headers"), "1");
  EXPECT_EQ(query_value("a=1&token=x=y", "token"), "x=y");
  EXPECT_EQ(query_value("action", "action"), "");
  EXPECT_EQ(query_value("fps=1&fps=2", "fps"), "1");  // the first one counts
  EXPECT_EQ(query_value("", "fps"), std::nullopt);
  EXPECT_EQ(query_value("&&&", "fps"), std::nullopt);
  EXPECT_EQ(query_value("xfps=1&fpsx=2", "fps"), std::nullopt);
  EXPECT_EQ(query_value("=1", ""), "1");
}

TEST(QueryParameter, FindsAValueUndecoded) {
  EXPECT_EQ(query_parameter("/stream?token=a.b", "token"), "a.b");
  EXPECT_EQ(query_parameter("/stream?fps=2&token=x%41", "token"), "x%41");
  EXPECT_EQ(query_parameter("/stream?token", "token"), "");
  EXPECT_EQ(query_parameter("/stream?tokens=1", "token"), std::nullopt);
  EXPECT_EQ(query_parameter("/stream", "token"), std::nullopt);
}

}  // namespace
}  // namespace camstream
