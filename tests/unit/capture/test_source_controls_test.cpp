// The test source's controls and orientation, seen in the frames it delivers.
#include <gtest/gtest.h>

#include <chrono>
#include <cmath>
#include <condition_variable>
#include <cstdint>
#include <limits>
#include <memory>
#include <mutex>
#include <optional>
#include <vector>

#include "camstream/capture/capture_config.hpp"
#include "camstream/capture/capture_error.hpp"
#include "camstream/capture/frame_source.hpp"
#include "camstream/capture/test_source.hpp"
#include "camstream/core/controls.hpp"
#include "camstream/core/frame.hpp"

namespace camstream {
namespace {

using namespace std::chrono_literals;

struct Luma {
  int width = 0;
  int height = 0;
  std::vector<std::uint8_t> samples;  // rows without padding
  std::uint8_t at(int x, int y) const { return samples[static_cast<std::size_t>(y * width + x)]; }
};

// Runs a test source and hands out whole frames drawn after a given moment.
class Camera {
 public:
  explicit Camera(CaptureConfig config) : source_(make_test_source(config)) { start(); }
  ~Camera() { source_->stop(); }

  void restart() {
    source_->stop();
    start();
  }

  void start() {
    source_->start(
        [this](const FrameView& frame) {
          std::lock_guard lock(mutex_);
          ++frames_;
          latest_.width = frame.width;
          latest_.height = frame.height;
          latest_.samples.clear();
          for (int row = 0; row < frame.height; ++row) {
            const std::uint8_t* start = frame.planes[0].data + row * frame.planes[0].stride;
            latest_.samples.insert(latest_.samples.end(), start, start + frame.width);
          }
          arrived_.notify_all();
        },
        {});
  }

  FrameSource& source() { return *source_; }

  // A frame begun after this call: the one being drawn now may predate a set_controls().
  Luma next_frame() {
    std::unique_lock lock(mutex_);
    const std::uint64_t wanted = frames_ + 2;
    const bool arrived = arrived_.wait_for(lock, 5s, [&] { return frames_ >= wanted; });
    EXPECT_TRUE(arrived) << "no frame from the test source within 5 s";
    return latest_;
  }

 private:
  std::unique_ptr<FrameSource> source_;
  std::mutex mutex_;
  std::condition_variable arrived_;
  std::uint64_t frames_ = 0;
  Luma latest_;
};

CaptureConfig config(int rotation = 0, bool hflip = false, bool vflip = false) {
  CaptureConfig c;
  c.width = 640;
  c.height = 480;
  c.interval = 5ms;
  c.rotation = rotation;
  c.hflip = hflip;
  c.vflip = vflip;
  return c;
}

double mean(const Luma& luma) {
  double sum = 0;
  for (const auto sample : luma.samples) sum += sample;
  return sum / static_cast<double>(luma.samples.size());
}

// Spread of the lower half (the text panel sits at the top and keeps its own contrast).
double lower_half_deviation(const Luma& luma) {
  double sum = 0, squares = 0, count = 0;
  for (int y = luma.height / 2; y < luma.height; ++y) {
    for (int x = 0; x < luma.width; ++x) {
      const double sample = luma.at(x, y);
      sum += sample;
      squares += sample * sample;
      count += 1;
    }
  }
  const double average = sum / count;
  return std::sqrt(squares / count - average * average);
}

// Width of the white centre target along the middle row.
int target_width(const Luma& luma) {
  int count = 0;
  for (int x = 0; x < luma.width; ++x) count += luma.at(x, luma.height / 2) >= 250 ? 1 : 0;
  return count;
}

std::optional<ControlError> set(FrameSource& source, const std::string& name, ControlValue value) {
  return source.set_controls({{name, std::move(value)}});
}

TEST(TestSourceControls, ListsBrightnessContrastAndZoomWithRangesAndDefaults) {
  const auto source = make_test_source(config());
  const ControlMap controls = source->controls();
  ASSERT_EQ(controls.size(), 3U);
  const ControlInfo& brightness = controls.at("Brightness");
  EXPECT_EQ(brightness.type, ControlType::floating);
  EXPECT_EQ(brightness.min, ControlValue(-1.0));
  EXPECT_EQ(brightness.max, ControlValue(1.0));
  EXPECT_EQ(brightness.default_value, ControlValue(0.0));
  EXPECT_EQ(brightness.value, ControlValue(0.0));
  EXPECT_EQ(controls.at("Contrast").min, ControlValue(0.0));
  EXPECT_EQ(controls.at("Contrast").max, ControlValue(2.0));
  EXPECT_EQ(controls.at("Contrast").default_value, ControlValue(1.0));
  EXPECT_EQ(controls.at("Zoom").min, ControlValue(1.0));
  EXPECT_EQ(controls.at("Zoom").max, ControlValue(8.0));
  EXPECT_EQ(controls.at("Zoom").default_value, ControlValue(1.0));

  EXPECT_FALSE(source->set_controls({{"Brightness", 0.25}, {"Zoom", std::int64_t{2}}}));
  EXPECT_EQ(source->controls().at("Brightness").value, ControlValue(0.25));
  EXPECT_EQ(source->controls().at("Zoom").value, ControlValue(2.0));
}

TEST(TestSourceControls, BrightnessShiftsTheLuma) {
  Camera camera(config());
  const double normal = mean(camera.next_frame());
  ASSERT_FALSE(set(camera.source(), "Brightness", 0.3));
  const double brighter = mean(camera.next_frame());
  ASSERT_FALSE(set(camera.source(), "Brightness", -0.3));
  const double darker = mean(camera.next_frame());
  EXPECT_GT(brighter, normal + 40);
  EXPECT_LT(darker, normal - 40);
}

TEST(TestSourceControls, ContrastScalesTheSpreadAroundMidGrey) {
  Camera camera(config());
  const double normal = lower_half_deviation(camera.next_frame());
  ASSERT_FALSE(set(camera.source(), "Contrast", 0.0));
  const Luma flat = camera.next_frame();
  ASSERT_FALSE(set(camera.source(), "Contrast", 0.5));
  const double half = lower_half_deviation(camera.next_frame());
  ASSERT_FALSE(set(camera.source(), "Contrast", 2.0));
  const double doubled = lower_half_deviation(camera.next_frame());
  EXPECT_GT(normal, 20);
  EXPECT_EQ(lower_half_deviation(flat), 0.0);
  EXPECT_EQ(flat.at(320, 400), 128);
  EXPECT_NEAR(half, normal / 2, normal * 0.05);
  EXPECT_GT(doubled, normal * 1.4);  // less than twice: the extremes clip
}

TEST(TestSourceControls, ZoomEnlargesTheCentre) {
  Camera camera(config());
  const int normal = target_width(camera.next_frame());
  ASSERT_FALSE(set(camera.source(), "Zoom", 2.0));
  const int doubled = target_width(camera.next_frame());
  ASSERT_FALSE(set(camera.source(), "Zoom", 4.0));
  const int quadrupled = target_width(camera.next_frame());
  EXPECT_EQ(normal, 48);  // a tenth of the height
  EXPECT_NEAR(doubled, 2 * normal, 4);
  EXPECT_NEAR(quadrupled, 4 * normal, 8);
}

TEST(TestSourceControls, BadValuesAreRefusedNamingTheControlAndNothingChanges) {
  const auto source = make_test_source(config());
  const auto message = [&](const std::map<std::string, ControlValue>& values) {
    const auto error = source->set_controls(values);
    return error ? error->message() : std::string("accepted");
  };
  EXPECT_EQ(message({{"Brightness", 1.5}}), "Brightness: 1.5 not in -1..1");
  EXPECT_EQ(message({{"Contrast", -0.1}}), "Contrast: -0.1 not in 0..2");
  EXPECT_EQ(message({{"Zoom", 0.5}}), "Zoom: 0.5 not in 1..8");
  EXPECT_EQ(message({{"Zoom", std::int64_t{9}}}), "Zoom: 9 not in 1..8");
  EXPECT_EQ(message({{"Brightness", std::numeric_limits<double>::quiet_NaN()}}),
            "Brightness: not a number");
  EXPECT_EQ(message({{"Zoom", -std::numeric_limits<double>::infinity()}}),
            "Zoom: -inf not in 1..8");
  EXPECT_EQ(message({{"Contrast", std::string("high")}}),
            "Contrast: expected float, got text high");
  EXPECT_EQ(message({{"Contrast", true}}), "Contrast: expected float, got bool true");
  EXPECT_EQ(message({{"Sharpness", 1.0}}), "Sharpness: unknown control");
  EXPECT_EQ(message({{"", 1.0}}), ": unknown control");
  // All or nothing: the good value of a refused set is not applied either.
  EXPECT_EQ(message({{"Brightness", 0.5}, {"Zoom", 20.0}}), "Zoom: 20 not in 1..8");
  EXPECT_EQ(source->controls().at("Brightness").value, ControlValue(0.0));
  EXPECT_EQ(message({}), "accepted");
}

TEST(TestSourceControls, ValuesPersistAcrossStopAndStart) {
  Camera camera(config());
  const double normal = mean(camera.next_frame());
  ASSERT_FALSE(set(camera.source(), "Brightness", 0.5));
  camera.restart();
  EXPECT_EQ(camera.source().controls().at("Brightness").value, ControlValue(0.5));
  EXPECT_GT(mean(camera.next_frame()), normal + 60);
}

// Whether the dark text panel (luma 16, a 5x5 block of it nowhere else in the picture) has
// its upright top-left corner in this corner of the frame.
bool panel_in_corner(const Luma& frame, bool right, bool bottom) {
  const int x0 = right ? frame.width - 15 : 10;
  const int y0 = bottom ? frame.height - 15 : 10;
  for (int y = y0; y < y0 + 5; ++y) {
    for (int x = x0; x < x0 + 5; ++x) {
      if (frame.at(x, y) != 16) return false;
    }
  }
  return true;
}

// Rotation and flips of the test source go through the software step.
TEST(TestSourceOrientation, QuarterTurnsSwapTheSizeAndMoveTheLabel) {
  const auto upright = make_test_source(config());
  EXPECT_EQ(upright->info().width, 640);
  EXPECT_EQ(upright->info().height, 480);
  for (const int rotation : {90, 270}) {
    Camera camera(config(rotation));
    EXPECT_EQ(camera.source().info().width, 480);
    EXPECT_EQ(camera.source().info().height, 640);
    const Luma frame = camera.next_frame();
    EXPECT_EQ(frame.width, 480);
    EXPECT_EQ(frame.height, 640);
    // Top-left when upright: top-right after a clockwise quarter turn, bottom-left after 270.
    const bool quarter = rotation == 90;
    EXPECT_TRUE(panel_in_corner(frame, quarter, !quarter)) << rotation;
    EXPECT_FALSE(panel_in_corner(frame, false, false)) << rotation;
    EXPECT_GT(target_width(frame), 40) << "the centre target stays at the centre";
  }
}

TEST(TestSourceOrientation, FlipsAndHalfTurnMoveTheLabel) {
  struct Case {
    int rotation;
    bool hflip, vflip;
    bool right, bottom;
  };
  for (const Case c : {Case{0, false, false, false, false}, Case{180, false, false, true, true},
                       Case{0, true, false, true, false}, Case{0, false, true, false, true},
                       Case{180, true, true, false, false}}) {
    SCOPED_TRACE(std::to_string(c.rotation) + (c.hflip ? " hflip" : "") +
                 (c.vflip ? " vflip" : ""));
    Camera camera(config(c.rotation, c.hflip, c.vflip));
    const Luma frame = camera.next_frame();
    ASSERT_EQ(frame.width, 640);
    EXPECT_TRUE(panel_in_corner(frame, c.right, c.bottom));
    EXPECT_FALSE(panel_in_corner(frame, !c.right, !c.bottom));
  }
}

TEST(TestSourceOrientation, RefusesOtherRotations) {
  EXPECT_THROW(make_test_source(config(45)), CaptureError);
  EXPECT_THROW(make_test_source(config(-90)), CaptureError);
}

}  // namespace
}  // namespace camstream
