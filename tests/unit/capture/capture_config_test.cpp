#include "camstream/capture/capture_config.hpp"

#include <gtest/gtest.h>

#include "camstream/core/settings.hpp"

namespace camstream {
namespace {

TEST(CaptureConfig, TheLargerPictureIsCaptured) {
  LiveSettings settings;
  settings.width = 320;
  settings.height = 240;
  EXPECT_FALSE(settings.separate_snapshot());
  settings.snapshot_width = 1280;
  settings.snapshot_height = 960;
  EXPECT_TRUE(settings.separate_snapshot());
  CaptureConfig config = capture_config(settings, "0");
  EXPECT_EQ(config.width, 1280);
  EXPECT_EQ(config.height, 960);
  settings.snapshot_width = 160;
  settings.snapshot_height = 120;
  config = capture_config(settings, "0");
  EXPECT_EQ(config.width, 320);
  EXPECT_EQ(config.height, 240);
}

}  // namespace
}  // namespace camstream
