// The libcamera entry points against the real libcamera of this build. Without a camera (CI) they
// check the errors; with one they also stream a few frames (skipped when the camera is busy).
#include <gtest/gtest.h>

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <mutex>
#include <string>

#include "camstream/capture.hpp"

namespace camstream {
namespace {

std::string error_of(const CaptureConfig& config) {
  try {
    make_libcamera_source(config);
  } catch (const CaptureError& e) {
    return e.what();
  }
  return "";
}

TEST(LibcameraApi, VersionString) {
  const auto version = libcamera_version_string();
  if (libcamera_built()) {
    EXPECT_EQ(version.rfind("libcamera ", 0), 0u) << version;
    EXPECT_NE(version, "libcamera ");
    EXPECT_EQ(version.find("not built"), std::string::npos) << version;
  } else {
    EXPECT_EQ(version, "libcamera: not built");
  }
}

TEST(LibcameraApi, NotBuiltSaysSo) {
  if (libcamera_built()) GTEST_SKIP() << "built with libcamera";
  EXPECT_THROW(list_cameras(), CaptureError);
  EXPECT_NE(error_of({}).find("without libcamera"), std::string::npos);
}

TEST(LibcameraApi, ListingTwiceUsesOneCameraManager) {
  if (!libcamera_built()) GTEST_SKIP() << "built without libcamera";
  // A second CameraManager would abort the process: both calls share the singleton.
  const auto first = list_cameras();
  const auto second = list_cameras();
  ASSERT_EQ(first.size(), second.size());
  for (std::size_t i = 0; i < first.size(); ++i) {
    EXPECT_EQ(first[i].index, static_cast<int>(i));
    EXPECT_EQ(first[i].id, second[i].id);
    EXPECT_FALSE(first[i].id.empty());
  }
}

TEST(LibcameraApi, SelectionErrorsNameTheProblem) {
  if (!libcamera_built()) GTEST_SKIP() << "built without libcamera";
  const auto cameras = list_cameras();
  CaptureConfig config;
  if (cameras.empty()) {
    EXPECT_EQ(error_of(config), "no cameras found; run camstream --list-cameras");
  }
  config.camera = std::to_string(cameras.size());
  EXPECT_NE(error_of(config), "");
  config.camera = "no-such-camera";
  const auto unknown = error_of(config);
  EXPECT_NE(unknown, "");
  if (!cameras.empty()) {
    EXPECT_NE(unknown.find("no-such-camera"), std::string::npos) << unknown;
  }
  CaptureConfig quarter_turn;
  quarter_turn.rotation = 90;
  EXPECT_NE(error_of(quarter_turn).find("rotation"), std::string::npos);
}

// Runs only where a camera is attached and free (e.g. on a Pi): a few frames, then stop.
TEST(LibcameraApi, StreamsFromARealCamera) {
  if (!libcamera_built()) GTEST_SKIP() << "built without libcamera";
  if (list_cameras().empty()) GTEST_SKIP() << "no camera attached";
  CaptureConfig config;
  config.interval = std::chrono::milliseconds(50);
  std::unique_ptr<FrameSource> source;
  try {
    source = make_libcamera_source(config);
  } catch (const CaptureError& e) {
    GTEST_SKIP() << e.what();
  }
  const auto info = source->info();
  EXPECT_EQ(info.name, "libcamera");
  ASSERT_TRUE(info.camera_id.has_value());
  EXPECT_GT(info.width, 0);

  std::mutex mutex;
  std::condition_variable changed;
  int frames = 0;
  bool planes_ok = true;
  std::string failure;
  source->start(
      [&](const FrameView& frame) {
        const bool ok = frame.width == info.width && frame.height == info.height &&
                        frame.planes[0].data != nullptr && frame.planes[1].data != nullptr &&
                        frame.planes[0].stride >= frame.width;
        std::lock_guard lock(mutex);
        planes_ok = planes_ok && ok;
        ++frames;
        changed.notify_all();
      },
      [&](const std::string& reason) {
        std::lock_guard lock(mutex);
        failure = reason;
        changed.notify_all();
      });
  {
    std::unique_lock lock(mutex);
    changed.wait_for(lock, std::chrono::seconds(10),
                     [&] { return frames >= 5 || !failure.empty(); });
  }
  source->stop();
  std::lock_guard lock(mutex);
  EXPECT_EQ(failure, "");
  EXPECT_GE(frames, 5);
  EXPECT_TRUE(planes_ok);
}

}  // namespace
}  // namespace camstream
