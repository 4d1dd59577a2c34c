#include "http/request_target.hpp"

#include <gtest/gtest.h>

namespace camstream {
namespace {

TEST(RequestTarget, QueryValue) {
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

}  // namespace
}  // namespace camstream
