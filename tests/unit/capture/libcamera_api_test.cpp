// The libcamera entry points against the real libcamera of this build. Without a camera they
// check the errors; with one (a Pi, or the virtual camera of .ci/virtual-camera.sh) they also
// stream, stop and restart it, including from the frame callback. CAMSTREAM_REQUIRE_CAMERA=1
// turns "no camera" into a failure (the virtual-camera CI sets it).
#include <gtest/gtest.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cmath>
#include <condition_variable>
#include <cstdlib>
#include <functional>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "camstream/capture/capture_config.hpp"
#include "camstream/capture/capture_error.hpp"
#include "camstream/capture/frame_source.hpp"
#include "camstream/capture/libcamera.hpp"
#include "camstream/core/controls.hpp"
#include "camstream/core/frame.hpp"

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

bool camera_required() {
  const char* value = std::getenv("CAMSTREAM_REQUIRE_CAMERA");
  return value != nullptr && std::string(value) == "1";
}

// Skips (or fails, when a camera is required) without a free camera; else the source.
#define CAMERA_SOURCE_OR_SKIP(source, config)                                    \
  if (!libcamera_built()) GTEST_SKIP() << "built without libcamera";             \
  if (list_cameras().empty()) {                                                  \
    if (camera_required()) FAIL() << "CAMSTREAM_REQUIRE_CAMERA=1 and no camera"; \
    GTEST_SKIP() << "no camera attached";                                        \
  }                                                                              \
  try {                                                                          \
    source = make_libcamera_source(config);                                      \
  } catch (const CaptureError& e) {                                              \
    if (camera_required()) FAIL() << e.what();                                   \
    GTEST_SKIP() << e.what();                                                    \
  }

// Counts frames and failures from a running source; `on_frame` runs in the callback.
struct FrameLog {
  std::mutex mutex;
  std::condition_variable changed;
  int frames = 0;
  std::string failure;
  std::function<void(const FrameView&, int)> on_frame;

  FrameCallback frame_callback() {
    return [this](const FrameView& frame) {
      int count = 0;
      {
        std::lock_guard lock(mutex);
        count = ++frames;
      }
      if (on_frame) on_frame(frame, count);
      changed.notify_all();
    };
  }
  ErrorCallback error_callback() {
    return [this](const std::string& reason) {
      std::lock_guard lock(mutex);
      failure = reason;
      changed.notify_all();
    };
  }
  bool wait_for(int wanted, std::chrono::seconds timeout) {
    std::unique_lock lock(mutex);
    return changed.wait_for(lock, timeout, [&] { return frames >= wanted || !failure.empty(); }) &&
           failure.empty();
  }
};

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
  CaptureConfig slanted;
  slanted.rotation = 45;
  EXPECT_NE(error_of(slanted).find("rotation 45"), std::string::npos) << error_of(slanted);
}

// Runs only where a camera is attached and free (a Pi, the virtual camera): a few frames, then
// stop.
TEST(LibcameraApi, StreamsFromARealCamera) {
  CaptureConfig config;
  config.interval = std::chrono::milliseconds(50);
  std::unique_ptr<FrameSource> source;
  CAMERA_SOURCE_OR_SKIP(source, config);
  const auto info = source->info();
  EXPECT_EQ(info.name, "libcamera");
  ASSERT_TRUE(info.camera_id.has_value());
  EXPECT_GT(info.width, 0);

  FrameLog log;
  bool planes_ok = true;
  unsigned luma_min = 255, luma_max = 0;
  log.on_frame = [&](const FrameView& frame, int) {
    bool ok = frame.width == info.width && frame.height == info.height &&
              frame.planes[0].data != nullptr && frame.planes[0].size > 0;
    if (frame.format == PixelFormat::I420 || frame.format == PixelFormat::NV12) {
      ok = ok && frame.planes[1].data != nullptr && frame.planes[0].stride >= frame.width &&
           frame.planes[0].size >= static_cast<std::size_t>(frame.planes[0].stride) * frame.height;
      // Read the whole luma plane and the last byte of each chroma plane: every byte the
      // encoder reads must be mapped.
      unsigned low = 255, high = 0;
      for (int row = 0; row < frame.height; ++row) {
        for (int col = 0; col < frame.width; ++col) {
          const unsigned y = frame.planes[0].data[row * frame.planes[0].stride + col];
          low = std::min(low, y);
          high = std::max(high, y);
        }
      }
      volatile std::uint8_t last = frame.planes[1].data[frame.planes[1].size - 1];
      (void)last;
      std::lock_guard lock(log.mutex);
      luma_min = std::min(luma_min, low);
      luma_max = std::max(luma_max, high);
    }
    std::lock_guard lock(log.mutex);
    planes_ok = planes_ok && ok;
  };
  source->start(log.frame_callback(), log.error_callback());
  EXPECT_TRUE(log.wait_for(5, std::chrono::seconds(10)));
  source->stop();
  std::lock_guard lock(log.mutex);
  EXPECT_EQ(log.failure, "");
  EXPECT_GE(log.frames, 5);
  EXPECT_TRUE(planes_ok);
  EXPECT_LT(luma_min, luma_max) << "a flat picture";
}

// The frame callback destroys the source (its owner going away mid-frame): the worker, which
// cannot join itself, must not touch the destroyed source afterwards (AddressSanitizer catches a
// use after free here), and the camera must be free for the next source.
TEST(LibcameraApi, DestroyedFromItsOwnCallback) {
  CaptureConfig config;
  config.interval = std::chrono::milliseconds(20);
  std::unique_ptr<FrameSource> source;
  CAMERA_SOURCE_OR_SKIP(source, config);
  FrameLog log;
  std::atomic<bool> destroyed{false};
  log.on_frame = [&](const FrameView&, int count) {
    if (count == 3) {
      source.reset();
      destroyed = true;
    }
  };
  source->start(log.frame_callback(), log.error_callback());
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(10);
  while (!destroyed && std::chrono::steady_clock::now() < deadline) {
    std::this_thread::sleep_for(std::chrono::milliseconds(5));
  }
  ASSERT_TRUE(destroyed);
  std::this_thread::sleep_for(std::chrono::milliseconds(300));  // the detached worker finishes
  {
    std::lock_guard lock(log.mutex);
    EXPECT_EQ(log.frames, 3) << "frames after the source was destroyed";
  }

  // Released: a new source acquires the camera and streams.
  auto again = make_libcamera_source(config);
  FrameLog second;
  again->start(second.frame_callback(), second.error_callback());
  EXPECT_TRUE(second.wait_for(3, std::chrono::seconds(10)));
  again->stop();
}

// stop() from the callback, then start() again from another thread.
TEST(LibcameraApi, StoppedFromItsOwnCallbackAndRestarted) {
  CaptureConfig config;
  config.interval = std::chrono::milliseconds(20);
  std::unique_ptr<FrameSource> source;
  CAMERA_SOURCE_OR_SKIP(source, config);
  for (int round = 0; round < 3; ++round) {
    FrameLog log;
    std::atomic<bool> stopped{false};
    log.on_frame = [&](const FrameView&, int count) {
      if (count == 2) {
        source->stop();
        stopped = true;
      }
    };
    source->start(log.frame_callback(), log.error_callback());
    const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(10);
    while (!stopped && std::chrono::steady_clock::now() < deadline) {
      std::this_thread::sleep_for(std::chrono::milliseconds(5));
    }
    ASSERT_TRUE(stopped) << "round " << round;
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
    std::lock_guard lock(log.mutex);
    EXPECT_EQ(log.frames, 2) << "round " << round;
    EXPECT_EQ(log.failure, "");
  }
  source->stop();
}

bool is_virtual_camera(const SourceInfo& info) {
  return info.camera_id && info.camera_id->rfind("Virtual", 0) == 0;
}

// Whatever the camera offers is listed with values camstream can check; a refused value names
// the control and changes nothing; values set are sent to the running camera and kept across
// stop and start.
TEST(LibcameraApi, ControlsAreCheckedAppliedAndKept) {
  CaptureConfig config;
  config.interval = std::chrono::milliseconds(50);
  std::unique_ptr<FrameSource> source;
  CAMERA_SOURCE_OR_SKIP(source, config);
  const ControlMap offered = source->controls();
  EXPECT_EQ(offered.count("FrameDurationLimits"), 0u) << "camstream sets it from --fps";
  EXPECT_EQ(offered.count("ScalerCrop"), 0u) << "offered as Zoom";
  if (is_virtual_camera(source->info())) {
    // libcamera 0.7.1's virtual camera: `cam --list-controls` shows draft::FaceDetectMode (one
    // value, FaceDetectModeOff) and FrameDurationLimits, nothing else.
    ASSERT_EQ(offered.size(), 1u);
    const ControlInfo& face = offered.at("FaceDetectMode");
    EXPECT_EQ(face.type, ControlType::enumeration);
    EXPECT_EQ(face.enum_names, std::vector<std::string>{"FaceDetectModeOff"});
    EXPECT_EQ(face.value, ControlValue(std::string("FaceDetectModeOff")));
  }

  const auto unknown = source->set_controls({{"NoSuchControl", 1.0}});
  ASSERT_TRUE(unknown.has_value());
  EXPECT_EQ(unknown->message(), "NoSuchControl: unknown control");
  std::map<std::string, ControlValue> defaults;
  for (const auto& [name, info] : offered) {
    defaults[name] = info.default_value;
    std::optional<ControlError> refused;
    switch (info.type) {
      case ControlType::enumeration:
        refused = source->set_controls({{name, std::string("NoSuchValue")}});
        break;
      case ControlType::boolean:
        refused = source->set_controls({{name, 1.0}});
        break;
      case ControlType::floating:
        refused = source->set_controls({{name, std::nan("")}});
        break;
      case ControlType::integer:
        refused = source->set_controls({{name, 0.5}});
        break;
    }
    ASSERT_TRUE(refused.has_value()) << name;
    EXPECT_EQ(refused->control, name);
  }
  EXPECT_EQ(source->set_controls(defaults), std::nullopt);

  FrameLog log;
  source->start(log.frame_callback(), log.error_callback());
  EXPECT_TRUE(log.wait_for(3, std::chrono::seconds(10)));
  // Set while frames flow, over and over from another thread (the camera's thread takes them
  // into requests meanwhile): the camera takes them and frames keep coming.
  std::atomic<bool> setting{true};
  std::thread setter([&] {
    while (setting) {
      EXPECT_EQ(source->set_controls(defaults), std::nullopt);
      EXPECT_TRUE(source->set_controls({{"NoSuchControl", 1.0}}).has_value());
      std::this_thread::sleep_for(std::chrono::milliseconds(1));
    }
  });
  EXPECT_TRUE(log.wait_for(8, std::chrono::seconds(10)));
  setting = false;
  setter.join();
  source->stop();
  FrameLog again;
  source->start(again.frame_callback(), again.error_callback());
  EXPECT_TRUE(again.wait_for(3, std::chrono::seconds(10)));
  source->stop();
  const ControlMap kept = source->controls();
  ASSERT_EQ(kept.size(), offered.size());
  for (const auto& [name, value] : defaults) EXPECT_EQ(kept.at(name).value, value) << name;
}

// --rotation 90: the camera flips what it can, software turns the rest; the frames delivered
// are the turned size. On the virtual camera (vertical colour bars) every row of the turned
// picture is one colour.
TEST(LibcameraApi, QuarterTurnInSoftware) {
  CaptureConfig config;
  config.interval = std::chrono::milliseconds(50);
  std::unique_ptr<FrameSource> upright;
  CAMERA_SOURCE_OR_SKIP(upright, config);
  const SourceInfo upright_info = upright->info();
  upright.reset();

  config.rotation = 90;
  auto source = make_libcamera_source(config);
  const SourceInfo info = source->info();
  EXPECT_EQ(info.width, upright_info.height);
  EXPECT_EQ(info.height, upright_info.width);

  FrameLog log;
  bool sizes_ok = true;
  int widest_row = 0;      // largest luma spread along one row
  int tallest_column = 0;  // largest luma spread down one column
  log.on_frame = [&](const FrameView& frame, int) {
    const bool ok = frame.width == info.width && frame.height == info.height &&
                    frame.format == PixelFormat::I420;
    int row_spread = 0, column_spread = 0;
    if (ok) {
      const auto luma = [&](int x, int y) {
        return static_cast<int>(frame.planes[0].data[y * frame.planes[0].stride + x]);
      };
      for (int y = 0; y < frame.height; y += frame.height / 8) {
        const auto [low, high] =
            std::minmax({luma(0, y), luma(frame.width / 2, y), luma(frame.width - 1, y)});
        row_spread = std::max(row_spread, high - low);
      }
      int low = 255, high = 0;
      for (int y = 0; y < frame.height; ++y) {
        low = std::min(low, luma(frame.width / 2, y));
        high = std::max(high, luma(frame.width / 2, y));
      }
      column_spread = high - low;
    }
    std::lock_guard lock(log.mutex);
    sizes_ok = sizes_ok && ok;
    widest_row = std::max(widest_row, row_spread);
    tallest_column = std::max(tallest_column, column_spread);
  };
  source->start(log.frame_callback(), log.error_callback());
  EXPECT_TRUE(log.wait_for(5, std::chrono::seconds(10)));
  source->stop();
  std::lock_guard lock(log.mutex);
  EXPECT_EQ(log.failure, "");
  EXPECT_TRUE(sizes_ok) << "frames not " << info.width << "x" << info.height << " I420";
  if (is_virtual_camera(info) && info.camera_id == "Virtual0") {
    EXPECT_LE(widest_row, 2) << "the bars are not horizontal";
    EXPECT_GE(tallest_column, 150) << "no bars down the picture";
  }
}

}  // namespace
}  // namespace camstream
