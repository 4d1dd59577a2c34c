#include "camstream/core/orientation.hpp"

#include <gtest/gtest.h>

#include <vector>

namespace camstream {
namespace {

std::vector<Orientation> every_orientation() {
  std::vector<Orientation> all;
  for (int rotation : {0, 90, 180, 270}) {
    for (bool hflip : {false, true}) {
      for (bool vflip : {false, true}) all.push_back({rotation, hflip, vflip});
    }
  }
  return all;
}

TEST(Orientation, HalfTurnIsBothFlipsAndFlipsUndoThemselves) {
  EXPECT_TRUE(same_orientation({180, false, false}, {0, true, true}));
  EXPECT_TRUE(same_orientation({180, true, false}, {0, false, true}));
  EXPECT_TRUE(same_orientation({90, true, true}, {270, false, false}));
  EXPECT_FALSE(same_orientation({90, false, false}, {270, false, false}));
  EXPECT_FALSE(same_orientation({0, true, false}, {0, false, true}));
  EXPECT_TRUE(is_identity(followed_by({0, true, false}, {0, true, false})));
  EXPECT_TRUE(is_identity(followed_by({90, false, false}, {270, false, false})));
}

TEST(Orientation, FlipsComeFirstThenTheRotation) {
  // Mirrored, then turned clockwise, is not turned, then mirrored.
  EXPECT_TRUE(
      same_orientation({90, true, false}, followed_by({0, true, false}, {90, false, false})));
  EXPECT_TRUE(
      same_orientation({90, true, false}, followed_by({90, false, false}, {0, false, true})));
}

TEST(Orientation, QuarterTurnsSwapTheSize) {
  EXPECT_FALSE(swaps_size({0, true, true}));
  EXPECT_TRUE(swaps_size({90, false, false}));
  EXPECT_FALSE(swaps_size({180, true, false}));
  EXPECT_TRUE(swaps_size({270, false, true}));
}

TEST(Orientation, InverseUndoesEveryOrientation) {
  for (const Orientation o : every_orientation()) {
    SCOPED_TRACE(describe(o));
    EXPECT_TRUE(is_identity(followed_by(o, inverse(o))));
    EXPECT_TRUE(is_identity(followed_by(inverse(o), o)));
  }
}

TEST(Orientation, CameraFlipsAndAtMostAQuarterTurnInSoftwareMakeEveryOrientation) {
  for (const Orientation wanted : every_orientation()) {
    SCOPED_TRACE(describe(wanted));
    const Orientation camera = camera_part(wanted);
    EXPECT_EQ(camera.rotation, 0) << "a camera that only flips";
    const Orientation software = remaining(wanted, camera);
    EXPECT_TRUE(same_orientation(software, {wanted.rotation % 180, false, false}));
    EXPECT_TRUE(same_orientation(followed_by(camera, software), wanted));
  }
  // What the libcamera source asks for at rotation 270 with hflip: only vflip (as 180 + hflip).
  EXPECT_EQ(camera_part({270, true, false}), (Orientation{0, false, true}));
}

TEST(Orientation, RemainingCoversWhatACameraCouldNotDo) {
  // Whatever a camera managed (e.g. no flip at all, or only one), software does the rest.
  for (const Orientation wanted : every_orientation()) {
    for (const Orientation applied : every_orientation()) {
      EXPECT_TRUE(same_orientation(followed_by(applied, remaining(wanted, applied)), wanted))
          << describe(wanted) << " after " << describe(applied);
    }
  }
}

TEST(Orientation, DescribeNamesEachPart) {
  EXPECT_EQ(describe({}), "none");
  EXPECT_EQ(describe({90, false, false}), "rotate 90");
  EXPECT_EQ(describe({270, true, true}), "rotate 270, hflip, vflip");
  EXPECT_EQ(describe({0, false, true}), "vflip");
  EXPECT_TRUE(is_valid_rotation(270));
  EXPECT_FALSE(is_valid_rotation(-90));
  EXPECT_FALSE(is_valid_rotation(360));
}

}  // namespace
}  // namespace camstream
