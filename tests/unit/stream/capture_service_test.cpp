// CaptureService with a scripted source: the real encoder, hub and lifecycle on a real
// io_context; the source is a stand-in only because these machines have no camera to fail.
#include "camstream/stream/capture_service.hpp"

#include <gtest/gtest.h>

#include <boost/asio/io_context.hpp>
#include <mutex>
#include <thread>
#include <utility>
#include <vector>

#include "camstream/capture/capture_error.hpp"
#include "camstream/capture/draw.hpp"
#include "camstream/capture/frame_source.hpp"
#include "camstream/capture/owned_yuv_image.hpp"
#include "camstream/encode/encoded_frame.hpp"
#include "camstream/stream/demand_token.hpp"
#include "camstream/stream/frame_hub.hpp"
#include "camstream/stream/lifecycle.hpp"
#include "camstream/stream/metrics.hpp"

namespace camstream {
namespace {

using namespace std::chrono_literals;

class ScriptedSource : public FrameSource {
 public:
  ~ScriptedSource() override { stop(); }
  void start(FrameCallback on_frame, ErrorCallback on_error) override {
    ++starts;
    if (fail_starts > 0) {
      --fail_starts;
      throw CaptureError("camera busy");
    }
    on_error_ = std::move(on_error);
    if (narrowed_) {
      std::lock_guard lock(controls_mutex_);
      offered_ = *std::exchange(narrowed_, std::nullopt);
    }
    running_ = true;
    worker_ = std::jthread([this, on_frame = std::move(on_frame)](std::stop_token stop) {
      OwnedYuvImage picture(64, 48);
      fill(picture.image(), 100, 128, 128);
      while (!stop.stop_requested()) {
        on_frame(picture.view());
        std::this_thread::sleep_for(5ms);
      }
    });
  }
  void stop() override {
    worker_ = {};
    running_ = false;
  }
  SourceInfo info() const override { return {"scripted", std::nullopt, 64, 48, 5ms}; }
  void fail(const std::string& reason) { on_error_(reason); }
  ControlMap controls() const override {
    std::lock_guard lock(controls_mutex_);
    return offered_;
  }
  std::optional<ControlError> set_controls(
      const std::map<std::string, ControlValue>& values) override {
    std::lock_guard lock(controls_mutex_);
    CheckedControls checked = check_controls(offered_, values);
    if (checked.error) return checked.error;
    for (auto& [name, value] : checked.values) offered_[name].value = std::move(value);
    return std::nullopt;
  }
  // As a camera whose configured mode narrows a range: start() offers `narrowed` instead.
  void narrow_controls_on_start(ControlMap narrowed) { narrowed_ = std::move(narrowed); }

  int starts = 0;
  int fail_starts = 0;
  std::atomic<bool> running_{false};

 private:
  ErrorCallback on_error_;
  std::jthread worker_;
  mutable std::mutex controls_mutex_;
  ControlMap offered_{{"Brightness", {ControlType::floating, -1.0, 1.0, 0.0, 0.0, {}}},
                      {"ExposureTime",
                       {ControlType::integer,
                        std::int64_t{100},
                        std::int64_t{66666},
                        std::int64_t{20000},
                        std::int64_t{20000},
                        {}}}};
  std::optional<ControlMap> narrowed_;
};

class CaptureServiceTest : public ::testing::Test {
 protected:
  void SetUp() override {
    auto scripted = std::make_unique<ScriptedSource>();
    source = scripted.get();
    CaptureService::Settings settings;
    settings.encode_threads = encode_threads();
    settings.lifecycle.idle_timeout = 0s;
    settings.lifecycle.first_retry = 50ms;
    service.emplace(io.get_executor(), std::move(scripted), settings, hub, metrics);
    hub.add_listener([this](const FramePtr& frame) {
      if (frame->placeholder) ++placeholders;
    });
    service->begin();
  }
  void TearDown() override {
    service->shutdown();
    service.reset();
  }
  // Runs the io_context until the condition holds (or fails after 3 s).
  template <typename Condition>
  bool run_until(Condition condition) {
    const auto deadline = std::chrono::steady_clock::now() + 3s;
    while (!condition()) {
      if (std::chrono::steady_clock::now() > deadline) return false;
      io.restart();
      io.run_for(10ms);
    }
    return true;
  }
  CaptureState state() { return service->status().state; }
  virtual int encode_threads() const { return 1; }

  boost::asio::io_context io;
  FrameHub hub;
  Metrics metrics;
  ScriptedSource* source = nullptr;
  std::optional<CaptureService> service;
  std::atomic<int> placeholders{0};
};

TEST_F(CaptureServiceTest, DemandStartsTheSourceAndItsEndReleasesIt) {
  EXPECT_EQ(state(), CaptureState::idle);
  EXPECT_FALSE(source->running_);
  DemandToken demand = service->hold_demand();
  ASSERT_TRUE(run_until([&] { return state() == CaptureState::streaming; }));
  EXPECT_TRUE(source->running_);
  ASSERT_TRUE(run_until([&] { return metrics.frames_encoded.load() >= 5; }));
  ASSERT_NE(hub.latest(), nullptr);
  EXPECT_EQ(hub.latest()->width, 64);
  EXPECT_FALSE(hub.latest()->placeholder);
  demand.reset();
  EXPECT_EQ(state(), CaptureState::idle);  // idle timeout 0
  EXPECT_FALSE(source->running_);
}

TEST_F(CaptureServiceTest, WithoutAFactoryOnlyTheQualityChangesLive) {
  DemandToken demand = service->hold_demand();
  ASSERT_TRUE(run_until([&] { return metrics.frames_encoded.load() >= 3; }));
  // The scripted picture never changes, so the JPEG changes only with the quality (its
  // quantisation tables).
  const auto bytes_at_80 =
      std::vector<std::uint8_t>(hub.latest()->jpeg().begin(), hub.latest()->jpeg().end());
  LiveSettings next = service->live_settings();
  next.width = 1280;
  EXPECT_EQ(service->reconfigure(next), "this source cannot be reconfigured");
  EXPECT_EQ(service->live_settings().width, 640);
  next = service->live_settings();
  next.quality = 5;
  EXPECT_EQ(service->reconfigure(next), "");
  EXPECT_EQ(service->status().settings.quality, 5);
  EXPECT_EQ(state(), CaptureState::streaming);  // the source ran on
  const auto encoded = metrics.frames_encoded.load();
  ASSERT_TRUE(run_until([&] { return metrics.frames_encoded.load() >= encoded + 3; }));
  const auto jpeg = hub.latest()->jpeg();
  EXPECT_NE(std::vector<std::uint8_t>(jpeg.begin(), jpeg.end()), bytes_at_80);
}

TEST_F(CaptureServiceTest, EveryCapturedFrameIsEncodedOnce) {
  DemandToken demand = service->hold_demand();
  ASSERT_TRUE(run_until([&] { return metrics.frames_captured.load() >= 10; }));
  demand.reset();
  EXPECT_EQ(metrics.frames_encoded.load(), metrics.frames_captured.load());
}

// The service encodes through the stage in stripes (64x48: three MCU rows, three stripes),
// the source's thread and the stripe threads publishing while the I/O thread reads.
class StripedCaptureServiceTest : public CaptureServiceTest {
 protected:
  int encode_threads() const override { return 3; }
};

TEST_F(StripedCaptureServiceTest, FramesAreEncodedInStripesAndPublishedInOrder) {
  std::mutex mutex;
  std::vector<FramePtr> frames;
  hub.add_listener([&](const FramePtr& frame) {
    if (frame->placeholder) return;
    std::lock_guard lock(mutex);
    frames.push_back(frame);
  });
  DemandToken demand = service->hold_demand();
  ASSERT_TRUE(run_until([&] {
    std::lock_guard lock(mutex);
    return frames.size() >= 10;
  }));
  demand.reset();
  std::lock_guard lock(mutex);
  for (std::size_t i = 0; i < frames.size(); ++i) {
    const auto jpeg = frames[i]->jpeg();
    int restarts = 0;
    bool dri = false;
    for (std::size_t b = 0; b + 1 < jpeg.size(); ++b) {
      if (jpeg[b] != 0xFF) continue;
      dri = dri || jpeg[b + 1] == 0xDD;
      restarts += jpeg[b + 1] >= 0xD0 && jpeg[b + 1] <= 0xD7;
    }
    EXPECT_TRUE(dri) << "frame " << i;
    EXPECT_EQ(restarts, 2) << "frame " << i;
    EXPECT_EQ(frames[i]->width, 64);
    EXPECT_EQ(frames[i]->height, 48);
    if (i > 0) {
      EXPECT_GT(frames[i]->sequence, frames[i - 1]->sequence);
    }
  }
  EXPECT_EQ(metrics.frames_encoded.load(), metrics.frames_captured.load());
}

TEST_F(CaptureServiceTest, StopPublishesThePlaceholderAndStartResumes) {
  DemandToken demand = service->hold_demand();
  ASSERT_TRUE(run_until([&] { return state() == CaptureState::streaming; }));
  ASSERT_TRUE(service->command_stop());
  EXPECT_EQ(state(), CaptureState::stopped);
  EXPECT_FALSE(source->running_);
  ASSERT_NE(hub.latest(), nullptr);
  EXPECT_TRUE(hub.latest()->placeholder);
  EXPECT_EQ(hub.latest()->width, 64);
  EXPECT_GT(hub.latest()->jpeg().size(), 100u);
  // Once a second while stopped: a fresh copy.
  const int before = placeholders;
  ASSERT_TRUE(run_until([&] { return placeholders > before; }));
  service->command_start();
  ASSERT_TRUE(run_until([&] { return state() == CaptureState::streaming; }));
  ASSERT_TRUE(run_until([&] { return !hub.latest()->placeholder; }));
}

TEST_F(CaptureServiceTest, AFailingStartRetriesWithBackOff) {
  source->fail_starts = 2;
  DemandToken demand = service->hold_demand();
  EXPECT_EQ(state(), CaptureState::error);
  EXPECT_EQ(service->status().error, "camera busy");
  ASSERT_NE(hub.latest(), nullptr);
  EXPECT_TRUE(hub.latest()->placeholder);  // NO SIGNAL
  ASSERT_TRUE(run_until([&] { return state() == CaptureState::streaming; }));
  EXPECT_EQ(source->starts, 3);
  EXPECT_TRUE(service->status().error.empty());
}

TEST_F(CaptureServiceTest, ASourceFailingWhileStreamingRecovers) {
  DemandToken demand = service->hold_demand();
  ASSERT_TRUE(run_until([&] { return state() == CaptureState::streaming; }));
  source->fail("camera unplugged");
  ASSERT_TRUE(run_until([&] { return state() == CaptureState::error; }));
  EXPECT_EQ(service->status().error, "camera unplugged");
  EXPECT_FALSE(source->running_);
  ASSERT_TRUE(run_until([&] { return hub.latest() && hub.latest()->placeholder; }));
  ASSERT_TRUE(run_until([&] { return state() == CaptureState::streaming; }));
  EXPECT_EQ(source->starts, 2);
  ASSERT_TRUE(run_until([&] { return !hub.latest()->placeholder; }));
}

TEST_F(CaptureServiceTest, StatusListenersHearEveryChange) {
  int heard = 0;
  service->on_status([&] { ++heard; });
  DemandToken demand = service->hold_demand();
  ASSERT_TRUE(run_until([&] { return state() == CaptureState::streaming; }));
  EXPECT_GE(heard, 2);  // starting, streaming
}

TEST_F(CaptureServiceTest, ControlsTheConfiguredCameraRefusesLeaveTheStatus) {
  ASSERT_FALSE(service->set_controls({{"Brightness", 0.5}, {"ExposureTime", std::int64_t{50000}}}));
  EXPECT_EQ(service->status().camera_controls.size(), 2U);
  ControlMap narrowed = source->controls();
  narrowed.at("ExposureTime").max = std::int64_t{33333};
  narrowed.at("ExposureTime").value = std::int64_t{20000};
  source->narrow_controls_on_start(narrowed);

  DemandToken demand = service->hold_demand();
  ASSERT_TRUE(run_until([&] { return state() == CaptureState::streaming; }));
  const auto in_status = service->status().camera_controls;
  EXPECT_EQ(in_status.count("ExposureTime"), 0U) << "50000 is past the new maximum";
  ASSERT_EQ(in_status.count("Brightness"), 1U);
  EXPECT_EQ(in_status.at("Brightness"), ControlValue(0.5));
  // What the status reports is what the source has in force.
  EXPECT_EQ(source->controls().at("ExposureTime").value, ControlValue(std::int64_t{20000}));
}

}  // namespace
}  // namespace camstream
