// The encoding stage: a captured picture in, the JPEG of every wanted output out, in order,
// through the callback; nothing out when a picture cannot be made.
#include "camstream/encode/encode_stage.hpp"

#include <gtest/gtest.h>

#include <algorithm>
#include <atomic>
#include <cstdint>
#include <cstdlib>
#include <string>
#include <thread>
#include <vector>

#include "encode/turbojpeg_helpers.hpp"

namespace camstream {
namespace {

// An I420 picture of its own (the encode module stands on core only, without the capture
// module's drawing helpers).
class OwnedYuvImage {
 public:
  OwnedYuvImage(int width, int height)
      : width_(width), height_(height), bytes_(static_cast<std::size_t>(width) * height * 3 / 2) {}
  void fill(std::uint8_t y, std::uint8_t u, std::uint8_t v) {
    const std::size_t luma = static_cast<std::size_t>(width_) * height_;
    std::fill(bytes_.begin(), bytes_.begin() + luma, y);
    std::fill(bytes_.begin() + luma, bytes_.begin() + luma * 5 / 4, u);
    std::fill(bytes_.begin() + luma * 5 / 4, bytes_.end(), v);
  }
  std::uint8_t* luma() { return bytes_.data(); }
  int width() const { return width_; }
  int height() const { return height_; }
  FrameView view() const {
    const std::size_t luma = static_cast<std::size_t>(width_) * height_;
    FrameView view;
    view.width = width_;
    view.height = height_;
    view.planes[0] = {bytes_.data(), width_, luma};
    view.planes[1] = {bytes_.data() + luma, width_ / 2, luma / 4};
    view.planes[2] = {bytes_.data() + luma * 5 / 4, width_ / 2, luma / 4};
    return view;
  }

 private:
  int width_;
  int height_;
  std::vector<std::uint8_t> bytes_;
};

struct Received {
  std::size_t output;
  int width;
  int height;
  std::vector<std::uint8_t> jpeg;
};

class EncodeStageTest : public ::testing::Test {
 protected:
  EncodeStage::OutputReady collect() {
    return [this](const FrameView& captured, std::span<const EncodedOutput> jpegs) {
      ++calls;
      last_sequence = captured.sequence;
      received.clear();
      for (const auto& jpeg : jpegs) {
        received.push_back(
            {jpeg.output, jpeg.width, jpeg.height, {jpeg.jpeg.begin(), jpeg.jpeg.end()}});
      }
    };
  }
  static FrameView picture(const OwnedYuvImage& image, std::uint64_t sequence) {
    FrameView view = image.view();
    view.sequence = sequence;
    return view;
  }

  int calls = 0;
  std::uint64_t last_sequence = 0;
  std::vector<Received> received;
};

// Texture everywhere, so that the quality changes the size.
void paint_noise(OwnedYuvImage& image) {
  image.fill(0, 128, 128);
  std::uint32_t state = 99;
  for (int i = 0; i < image.width() * image.height(); ++i) {
    state = state * 1664525u + 1013904223u;
    image.luma()[i] = static_cast<std::uint8_t>(state >> 24);
  }
}

bool has_restart_interval(const std::vector<std::uint8_t>& jpeg) {
  for (std::size_t i = 0; i + 1 < jpeg.size(); ++i) {
    if (jpeg[i] == 0xFF && jpeg[i + 1] == 0xDD) return true;
  }
  return false;
}

TEST_F(EncodeStageTest, WantedOutputsComeInOrderAtTheirSizes) {
  EncodeStage stage({80, 1, {OutputSize{}, OutputSize{320, 240}, OutputSize{160, 120}}}, collect());
  OwnedYuvImage image(640, 480);
  image.fill(120, 90, 160);
  stage.encode(picture(image, 7), 0b101);
  ASSERT_EQ(calls, 1);
  EXPECT_EQ(last_sequence, 7u);
  ASSERT_EQ(received.size(), 2u);
  EXPECT_EQ(received[0].output, 0u);
  EXPECT_EQ(received[1].output, 2u);
  const auto full = test::decode_rgb(received[0].jpeg);
  EXPECT_EQ(full.width, 640);
  EXPECT_EQ(full.height, 480);
  EXPECT_EQ(received[0].width, 640);
  const auto small = test::decode_rgb(received[1].jpeg);
  EXPECT_EQ(small.width, 160);
  EXPECT_EQ(small.height, 120);
  EXPECT_EQ(received[1].height, 120);

  // Only the middle one now.
  stage.encode(picture(image, 8), 0b010);
  ASSERT_EQ(received.size(), 1u);
  EXPECT_EQ(received[0].output, 1u);
  EXPECT_EQ(test::decode_rgb(received[0].jpeg).width, 320);
}

// A smaller output is scaled from a larger one made in the same frame (cheaper: it reads
// fewer pixels); its picture is the capture's, and the outputs still come in their order.
TEST_F(EncodeStageTest, ASmallerOutputMadeFromALargerOneLooksLikeTheCaptureScaled) {
  OwnedYuvImage image(640, 480);
  image.fill(0, 100, 150);
  for (int row = 0; row < image.height(); ++row) {
    for (int x = 0; x < image.width(); ++x) {
      image.luma()[row * image.width() + x] = static_cast<std::uint8_t>(x * 200 / 639 + row / 16);
    }
  }
  EncodeStage cascaded({90, 1, {OutputSize{}, OutputSize{160, 120}, OutputSize{320, 240}}},
                       collect());
  cascaded.encode(picture(image, 1), 0b111);
  ASSERT_EQ(received.size(), 3u);
  for (std::size_t i = 0; i < 3; ++i) EXPECT_EQ(received[i].output, i);
  const auto small = test::decode_rgb(received[1].jpeg);
  ASSERT_EQ(small.width, 160);
  ASSERT_EQ(small.height, 120);

  EncodeStage direct({90, 1, {OutputSize{160, 120}}}, collect());
  direct.encode(picture(image, 2), 0b1);
  ASSERT_EQ(received.size(), 1u);
  const auto reference = test::decode_rgb(received[0].jpeg);
  ASSERT_EQ(reference.rgb.size(), small.rgb.size());
  double total = 0;
  int worst = 0;
  for (std::size_t i = 0; i < small.rgb.size(); ++i) {
    const int difference = std::abs(int{small.rgb[i]} - int{reference.rgb[i]});
    total += difference;
    worst = std::max(worst, difference);
  }
  EXPECT_LT(total / static_cast<double>(small.rgb.size()), 2.0);
  EXPECT_LT(worst, 40);
}

TEST_F(EncodeStageTest, AnOutputOfTheCapturedSizeIsNotScaled) {
  // A YUYV capture cannot be scaled (FrameScaler takes I420 and NV12), so this passes only if
  // the stage encodes it as it is.
  EncodeStage stage({80, 1, {OutputSize{64, 32}}}, collect());
  std::vector<std::uint8_t> packed(64 * 2 * 32, 0x80);
  FrameView view;
  view.format = PixelFormat::YUYV;
  view.width = 64;
  view.height = 32;
  view.planes[0] = {packed.data(), 128, packed.size()};
  stage.encode(view, 1);
  ASSERT_EQ(received.size(), 1u);
  EXPECT_EQ(test::decode_rgb(received[0].jpeg).subsampling, TJSAMP_422);
}

TEST_F(EncodeStageTest, APictureThatCannotBeMadeCallsNothing) {
  EncodeStage stage({80, 1, {OutputSize{}, OutputSize{32, 16}}}, collect());
  std::vector<std::uint8_t> packed(64 * 2 * 32, 0x80);
  FrameView view;
  view.format = PixelFormat::YUYV;
  view.width = 64;
  view.height = 32;
  view.planes[0] = {packed.data(), 128, packed.size()};
  EXPECT_THROW(stage.encode(view, 0b11), TransformError);  // the stream's JPEG was made first
  EXPECT_EQ(calls, 0);
  view.planes[0].size = 100;  // fewer bytes than the rows need
  EXPECT_THROW(stage.encode(view, 0b01), EncodeError);
  EXPECT_EQ(calls, 0);
}

TEST_F(EncodeStageTest, QualityChangesFromTheNextFrame) {
  EncodeStage stage({95, 1, {OutputSize{}}}, collect());
  OwnedYuvImage image(320, 240);
  paint_noise(image);
  stage.encode(picture(image, 1), 1);
  const std::size_t at_95 = received.at(0).jpeg.size();
  stage.set_quality(20);
  EXPECT_EQ(stage.quality(), 20);
  stage.encode(picture(image, 2), 1);
  EXPECT_LT(received.at(0).jpeg.size(), at_95 / 2);
  EXPECT_THROW(stage.set_quality(0), EncodeError);
  EXPECT_THROW(stage.set_quality(101), EncodeError);
}

TEST_F(EncodeStageTest, ThreadsEncodeInStripesAndTheOutputsCanChange) {
  EncodeStage stage({80, 2, {OutputSize{}}}, collect());
  EXPECT_EQ(stage.threads(), 2);
  OwnedYuvImage image(640, 480);
  paint_noise(image);
  stage.encode(picture(image, 1), 1);
  ASSERT_EQ(received.size(), 1u);
  EXPECT_TRUE(has_restart_interval(received[0].jpeg));

  stage.set_outputs({OutputSize{}, OutputSize{320, 240}});
  ASSERT_EQ(stage.outputs().size(), 2u);
  stage.encode(picture(image, 2), 0b11);
  ASSERT_EQ(received.size(), 2u);
  EXPECT_EQ(test::decode_rgb(received[1].jpeg).width, 320);
  EXPECT_TRUE(has_restart_interval(received[1].jpeg));
  EXPECT_THROW(stage.set_outputs(std::vector<OutputSize>(EncodeStage::kMaxOutputs + 1)),
               EncodeError);
}

TEST_F(EncodeStageTest, CameraJpegsPassThroughUnchanged) {
  EncodeStage stage({80, 2, {OutputSize{}}}, collect());
  const std::vector<std::uint8_t> camera = test::make_jpeg(320, 240, TJSAMP_422);
  FrameView view;
  view.format = PixelFormat::MJPEG;
  view.width = 320;
  view.height = 240;
  view.planes[0] = {camera.data(), 0, camera.size()};
  stage.encode(view, 1);
  ASSERT_EQ(received.size(), 1u);
  EXPECT_EQ(received[0].jpeg, camera);
}

FrameView camera_frame(const std::vector<std::uint8_t>& jpeg, int width, int height) {
  FrameView view;
  view.format = PixelFormat::MJPEG;
  view.width = width;
  view.height = height;
  view.planes[0] = {jpeg.data(), 0, jpeg.size()};
  return view;
}

// A snapshot size of its own needs pixels: the JPEG is decoded for it alone, while the
// stream's output stays the camera's bytes.
TEST_F(EncodeStageTest, CameraJpegsAreDecodedOnlyForTheOutputsThatNeedPixels) {
  EncodeStage stage({80, 1, {OutputSize{}, OutputSize{160, 120}}}, collect());
  const std::vector<std::uint8_t> camera = test::make_jpeg(320, 240, TJSAMP_422);
  stage.encode(camera_frame(camera, 320, 240), 0b01);
  EXPECT_EQ(stage.frames_decoded(), 0u);
  ASSERT_EQ(received.size(), 1u);
  EXPECT_EQ(received[0].jpeg, camera);

  stage.encode(camera_frame(camera, 320, 240), 0b11);
  EXPECT_EQ(stage.frames_decoded(), 1u);
  ASSERT_EQ(received.size(), 2u);
  EXPECT_EQ(received[0].jpeg, camera);
  const auto small = test::decode_rgb(received[1].jpeg);
  EXPECT_EQ(small.width, 160);
  EXPECT_EQ(small.height, 120);
  EXPECT_EQ(small.subsampling, TJSAMP_420);
  // The gradient survives: red grows left to right, green top to bottom.
  EXPECT_LT(small.mean(0, 0, 20), small.mean(0, 140, 160) - 100);
  EXPECT_LT(small.mean(1, 0, 160, 0, 15), small.mean(1, 0, 160, 105, 120) - 100);
}

// A turned camera JPEG: decoded once for every output of the frame, turned, then scaled.
TEST_F(EncodeStageTest, CameraJpegsAreTurnedAfterDecodingOncePerFrame) {
  EncodeStage stage({80, 1, {OutputSize{}, OutputSize{120, 160}}}, collect());
  stage.set_mjpeg_orientation(Orientation{90, false, false});
  const std::vector<std::uint8_t> camera = test::make_jpeg(320, 240, TJSAMP_420);
  stage.encode(camera_frame(camera, 320, 240), 0b11);
  stage.encode(camera_frame(camera, 320, 240), 0b01);
  EXPECT_EQ(stage.frames_decoded(), 2u);
  ASSERT_EQ(received.size(), 1u);
  const auto turned = test::decode_rgb(received[0].jpeg);
  EXPECT_EQ(turned.width, 240);
  EXPECT_EQ(turned.height, 320);
  EXPECT_EQ(received[0].width, 240);
  // Clockwise: the camera's top row (green 0) is now the right column, its left column (red
  // 0) the top row.
  EXPECT_LT(turned.mean(1, 220, 240), turned.mean(1, 0, 20) - 100);
  EXPECT_LT(turned.mean(0, 0, 240, 0, 20), turned.mean(0, 0, 240, 300, 320) - 100);
}

TEST_F(EncodeStageTest, ACorruptCameraJpegThatNeedsDecodingCallsNothing) {
  EncodeStage stage({80, 1, {OutputSize{}, OutputSize{160, 120}}}, collect());
  std::vector<std::uint8_t> camera = test::make_jpeg(320, 240, TJSAMP_422);
  camera.resize(camera.size() / 2);
  EXPECT_THROW(stage.encode(camera_frame(camera, 320, 240), 0b11), CorruptFrameError);
  EXPECT_EQ(calls, 0);
  EXPECT_EQ(stage.frames_decoded(), 0u);
  const std::vector<std::uint8_t> sub440 = test::make_jpeg(64, 48, TJSAMP_440);
  EXPECT_THROW(stage.encode(camera_frame(sub440, 64, 48), 0b10), EncodeError);
  EXPECT_EQ(calls, 0);
}

TEST_F(EncodeStageTest, LiveOutputsChangeBetweenFramesWithTheirOwnQualityAndTag) {
  std::vector<std::shared_ptr<void>> tags;
  std::vector<std::string> errors;
  EncodeStage tagged(
      {80, 1, {OutputSize{}}}, [&](const FrameView&, std::span<const EncodedOutput> jpegs) {
        tags.clear();
        errors.clear();
        received.clear();
        for (const auto& jpeg : jpegs) {
          tags.push_back(jpeg.tag);
          errors.push_back(jpeg.error);
          received.push_back(
              {jpeg.output, jpeg.width, jpeg.height, {jpeg.jpeg.begin(), jpeg.jpeg.end()}});
        }
      });
  OwnedYuvImage image(640, 480);
  paint_noise(image);
  const auto tag = std::make_shared<int>(7);
  tagged.set_live_output(5, {160, 120, 20}, tag);
  tagged.set_live_output(6, {160, 120, 95}, nullptr);
  tagged.encode(picture(image, 1), 0b1100001);
  ASSERT_EQ(received.size(), 3u);
  EXPECT_EQ(received[1].output, 5u);
  EXPECT_EQ(tags[1], tag);
  EXPECT_EQ(test::decode_rgb(received[1].jpeg).width, 160);
  // The same size at two qualities: the coarse one is much smaller.
  EXPECT_LT(received[1].jpeg.size() * 2, received[2].jpeg.size());
  // The stream keeps the stage's quality: the next frame at 80 is as before.
  const std::size_t stream_size = received[0].jpeg.size();
  tagged.clear_live_output(5);
  tagged.encode(picture(image, 2), 0b1100001);  // 5 is wanted but gone: skipped
  ASSERT_EQ(received.size(), 2u);
  EXPECT_EQ(received[0].jpeg.size(), stream_size);
  EXPECT_EQ(received[1].output, 6u);
  // Slots of the fixed outputs, or beyond the last, are refused.
  EXPECT_THROW(tagged.set_live_output(0, {}, nullptr), EncodeError);
  EXPECT_THROW(tagged.set_live_output(EncodeStage::kMaxOutputs, {}, nullptr), EncodeError);
  EXPECT_THROW(tagged.set_live_output(3, {160, 120, 101}, nullptr), EncodeError);
}

TEST_F(EncodeStageTest, ALiveOutputThatCannotBeMadeFailsAloneWithItsError) {
  std::vector<std::string> errors;
  EncodeStage tagged(
      {80, 1, {OutputSize{}}}, [&](const FrameView&, std::span<const EncodedOutput> jpegs) {
        errors.clear();
        received.clear();
        for (const auto& jpeg : jpegs) {
          errors.push_back(jpeg.error);
          EXPECT_EQ(jpeg.frame == nullptr, !jpeg.error.empty());
          received.push_back(
              {jpeg.output, jpeg.width, jpeg.height, {jpeg.jpeg.begin(), jpeg.jpeg.end()}});
        }
      });
  // A YUYV capture cannot be scaled (FrameScaler takes I420 and NV12).
  std::vector<std::uint8_t> packed(64 * 2 * 32, 0x80);
  FrameView view;
  view.format = PixelFormat::YUYV;
  view.width = 64;
  view.height = 32;
  view.planes[0] = {packed.data(), 128, packed.size()};
  tagged.set_live_output(2, {32, 16, 0}, nullptr);  // a size: cannot be made
  tagged.set_live_output(3, {0, 0, 30}, nullptr);   // another quality: encoded as it is
  tagged.encode(view, 0b1101);
  ASSERT_EQ(received.size(), 3u);
  EXPECT_TRUE(errors[0].empty());
  EXPECT_FALSE(errors[1].empty());
  EXPECT_EQ(received[1].output, 2u);
  EXPECT_TRUE(errors[2].empty());
  EXPECT_EQ(test::decode_rgb(received[2].jpeg).width, 64);
}

TEST_F(EncodeStageTest, ALiveOutputOfCameraJpegsIsDecodedScaledAndReencoded) {
  EncodeStage stage({80, 1, {OutputSize{}}}, collect());
  const std::vector<std::uint8_t> camera = test::make_jpeg(320, 240, TJSAMP_422);
  FrameView view;
  view.format = PixelFormat::MJPEG;
  view.width = 320;
  view.height = 240;
  view.planes[0] = {camera.data(), 0, camera.size()};
  stage.set_live_output(2, {160, 120, 0}, nullptr);  // a size: needs pixels
  stage.set_live_output(3, {0, 0, 30}, nullptr);     // another quality: needs pixels too
  stage.set_live_output(4, {320, 240, 0}, nullptr);  // the camera's own: passed through
  stage.encode(view, 0b11101);
  ASSERT_EQ(received.size(), 4u);
  EXPECT_EQ(received[0].jpeg, camera);
  EXPECT_EQ(test::decode_rgb(received[1].jpeg).width, 160);
  EXPECT_NE(received[2].jpeg, camera);
  EXPECT_EQ(test::decode_rgb(received[2].jpeg).width, 320);
  EXPECT_EQ(received[3].jpeg, camera);
  EXPECT_EQ(stage.frames_decoded(), 1u);  // once for both outputs that needed pixels
}

TEST_F(EncodeStageTest, LiveOutputsChangeWhileAnotherThreadEncodes) {
  std::atomic<int> frames{0};
  EncodeStage stage({80, 1, {OutputSize{}}},
                    [&](const FrameView&, std::span<const EncodedOutput> jpegs) {
                      for (const auto& jpeg : jpegs) {
                        if (jpeg.output >= 1) {
                          EXPECT_EQ(jpeg.width, 64 + 2 * static_cast<int>(jpeg.output));
                        }
                      }
                      ++frames;
                    });
  OwnedYuvImage image(320, 240);
  image.fill(100, 120, 140);
  std::atomic<bool> done{false};
  std::thread encoder([&] {
    while (!done) stage.encode(picture(image, 1), ~EncodeStage::OutputSet{0});
  });
  for (int round = 0; round < 200; ++round) {
    const std::size_t slot = 1 + static_cast<std::size_t>(round) % 8;
    if (round % 3 == 0) {
      stage.clear_live_output(slot);
    } else {
      stage.set_live_output(slot, {64 + 2 * static_cast<int>(slot), 48, 50}, nullptr);
    }
  }
  while (frames < 20) std::this_thread::yield();
  done = true;
  encoder.join();
}

}  // namespace
}  // namespace camstream
