#include <gtest/gtest.h>
#include <libyuv/scale.h>

#include <cstdint>
#include <random>
#include <string>
#include <vector>

#include "camstream/core/frame.hpp"
#include "camstream/core/frame_scaler.hpp"
#include "camstream/core/transform_error.hpp"

namespace camstream {
namespace {

// Left half dark (16), right half bright (235), chroma neutral; rows padded to odd strides.
struct HalvesFrame {
  std::vector<std::uint8_t> y, u, v;
  FrameView view;

  HalvesFrame(PixelFormat format, int width, int height) {
    const int y_stride = width + 5;
    y.assign(static_cast<std::size_t>(y_stride) * height, 0);
    for (int row = 0; row < height; ++row) {
      for (int x = 0; x < width; ++x) {
        y[static_cast<std::size_t>(row) * y_stride + x] = x < width / 2 ? 16 : 235;
      }
    }
    view.format = format;
    view.width = width;
    view.height = height;
    view.planes[0] = {y.data(), y_stride, y.size()};
    const int chroma_stride = (format == PixelFormat::I420 ? width / 2 : width) + 3;
    u.assign(static_cast<std::size_t>(chroma_stride * height / 2), 128);
    view.planes[1] = {u.data(), chroma_stride, u.size()};
    if (format == PixelFormat::I420) {
      v.assign(u.size(), 128);
      view.planes[2] = {v.data(), chroma_stride, v.size()};
    }
  }
};

std::uint8_t luma_at(const FrameView& frame, int x, int y) {
  return frame.planes[0].data[y * frame.planes[0].stride + x];
}

class ScaleEveryFormat : public ::testing::TestWithParam<PixelFormat> {};

TEST_P(ScaleEveryFormat, DownscaleKeepsThePictureAtTheNewSize) {
  const HalvesFrame frame(GetParam(), 1920, 1080);
  FrameScaler scaler;
  const FrameView out = scaler.scale(frame.view, 640, 480);
  EXPECT_EQ(out.width, 640);
  EXPECT_EQ(out.height, 480);
  EXPECT_EQ(out.format, GetParam());
  // The box filter's fixed-point average may round one level down.
  EXPECT_NEAR(luma_at(out, 10, 240), 16, 1);
  EXPECT_NEAR(luma_at(out, 630, 240), 235, 1);
  EXPECT_NEAR(luma_at(out, 300, 0), 16, 1);
  EXPECT_NEAR(luma_at(out, 340, 479), 235, 1);
  EXPECT_NEAR(out.planes[1].data[out.planes[1].stride * 100 + 50], 128, 1);
}

TEST_P(ScaleEveryFormat, CropScalesOnlyThatPart) {
  const HalvesFrame frame(GetParam(), 640, 480);
  FrameScaler scaler;
  // The right third: all bright once enlarged to the whole picture.
  const FrameView right = scaler.scale(frame.view, CropRect{420, 100, 200, 150}, 640, 480);
  EXPECT_EQ(luma_at(right, 0, 0), 235);
  EXPECT_EQ(luma_at(right, 639, 479), 235);
  // A centred crop of half the size: the dark/bright edge stays in the middle, twice as far
  // from the sides.
  const FrameView centre = scaler.scale(frame.view, CropRect{160, 120, 320, 240}, 640, 480);
  EXPECT_EQ(luma_at(centre, 300, 240), 16);
  EXPECT_EQ(luma_at(centre, 340, 240), 235);
}

INSTANTIATE_TEST_SUITE_P(Scale, ScaleEveryFormat,
                         ::testing::Values(PixelFormat::I420, PixelFormat::NV12),
                         [](const auto& info) {
                           return info.param == PixelFormat::I420 ? std::string("I420")
                                                                  : std::string("NV12");
                         });

// Noise in every plane (the hardest picture for a filter's rounding), rows padded.
struct NoiseFrame {
  std::vector<std::uint8_t> y, u, v;
  FrameView view;

  NoiseFrame(PixelFormat format, int width, int height, unsigned seed) {
    std::mt19937 random(seed);
    const auto fill = [&random](std::vector<std::uint8_t>& plane, std::size_t size) {
      plane.resize(size);
      for (auto& byte : plane) byte = static_cast<std::uint8_t>(random());
    };
    const int y_stride = width + 7;
    const int chroma_stride = (format == PixelFormat::I420 ? width / 2 : width) + 5;
    fill(y, static_cast<std::size_t>(y_stride) * height);
    fill(u, static_cast<std::size_t>(chroma_stride) * height / 2);
    view.format = format;
    view.width = width;
    view.height = height;
    view.planes[0] = {y.data(), y_stride, y.size()};
    view.planes[1] = {u.data(), chroma_stride, u.size()};
    if (format == PixelFormat::I420) {
      fill(v, u.size());
      view.planes[2] = {v.data(), chroma_stride, v.size()};
    }
  }
};

// libyuv's own scale of the crop, with the filter FrameScaler names (box), planes packed.
std::vector<std::uint8_t> libyuv_scale(const FrameView& in, const CropRect& crop, int width,
                                       int height) {
  std::vector<std::uint8_t> out(static_cast<std::size_t>(width) * height * 3 / 2);
  std::uint8_t* const y = out.data();
  std::uint8_t* const chroma = y + static_cast<std::size_t>(width) * height;
  const auto at = [](const PlaneView& plane, int x_bytes, int row) {
    return plane.data + static_cast<std::ptrdiff_t>(row) * plane.stride + x_bytes;
  };
  const auto& p = in.planes;
  if (in.format == PixelFormat::I420) {
    std::uint8_t* const v = chroma + static_cast<std::size_t>(width / 2) * (height / 2);
    libyuv::I420Scale(at(p[0], crop.x, crop.y), p[0].stride, at(p[1], crop.x / 2, crop.y / 2),
                      p[1].stride, at(p[2], crop.x / 2, crop.y / 2), p[2].stride, crop.width,
                      crop.height, y, width, chroma, width / 2, v, width / 2, width, height,
                      libyuv::kFilterBox);
  } else {
    libyuv::NV12Scale(at(p[0], crop.x, crop.y), p[0].stride, at(p[1], crop.x, crop.y / 2),
                      p[1].stride, crop.width, crop.height, y, width, chroma, width, width, height,
                      libyuv::kFilterBox);
  }
  return out;
}

std::vector<std::uint8_t> packed(const FrameView& frame) {
  std::vector<std::uint8_t> bytes;
  const int planes = frame.format == PixelFormat::I420 ? 3 : 2;
  for (int i = 0; i < planes; ++i) {
    const bool luma = i == 0;
    const int row_bytes = luma || frame.format == PixelFormat::NV12 ? frame.width : frame.width / 2;
    const int rows = luma ? frame.height : frame.height / 2;
    for (int row = 0; row < rows; ++row) {
      const std::uint8_t* from =
          frame.planes[i].data + static_cast<std::ptrdiff_t>(row) * frame.planes[i].stride;
      bytes.insert(bytes.end(), from, from + row_bytes);
    }
  }
  return bytes;
}

struct TwoThirds {
  int in_width, in_height;
  CropRect crop;
  int width, height;
};

// camstream scales 2/3 itself (libyuv's general filter was the cost of a 720p output of a
// 1080p camera): the picture must still be libyuv's, byte for byte.
TEST_P(ScaleEveryFormat, TwoThirdsIsLibyuvsPictureByteForByte) {
  const TwoThirds cases[] = {
      {1920, 1080, {0, 0, 1920, 1080}, 1280, 720},
      {960, 540, {0, 0, 960, 540}, 640, 360},
      {12, 12, {0, 0, 12, 12}, 8, 8},
      {36, 24, {0, 0, 36, 24}, 24, 16},
      {64, 48, {4, 6, 36, 24}, 24, 16},  // a crop away from the corner
  };
  FrameScaler scaler;
  unsigned seed = 1;
  for (const auto& c : cases) {
    const NoiseFrame frame(GetParam(), c.in_width, c.in_height, seed++);
    const auto expected = libyuv_scale(frame.view, c.crop, c.width, c.height);
    const FrameView out = scaler.scale(frame.view, c.crop, c.width, c.height);
    ASSERT_EQ(out.width, c.width);
    ASSERT_EQ(out.height, c.height);
    EXPECT_EQ(out.format, GetParam());
    const auto got = packed(out);
    ASSERT_EQ(got.size(), expected.size());
    std::size_t differ = 0;
    for (std::size_t i = 0; i < got.size(); ++i) differ += got[i] != expected[i] ? 1 : 0;
    EXPECT_EQ(differ, 0U) << c.in_width << "x" << c.in_height << " crop " << c.crop.width << "x"
                          << c.crop.height << "+" << c.crop.x << "+" << c.crop.y << " -> "
                          << c.width << "x" << c.height;
  }
}

TEST(FrameScaler, BufferGrowsOnlyWithThePicture) {
  const HalvesFrame frame(PixelFormat::I420, 640, 480);
  FrameScaler scaler;
  const std::uint8_t* first = scaler.scale(frame.view, 1280, 720).planes[0].data;
  EXPECT_EQ(scaler.scale(frame.view, 320, 240).planes[0].data, first);
  EXPECT_EQ(scaler.scale(frame.view, 1280, 720).planes[0].data, first);
}

TEST(FrameScaler, RefusesBadSizesAndCropsNamingThem) {
  const HalvesFrame frame(PixelFormat::I420, 64, 48);
  FrameScaler scaler;
  const auto message_of = [&](const CropRect& crop, int width, int height) -> std::string {
    try {
      scaler.scale(frame.view, crop, width, height);
    } catch (const TransformError& error) {
      return error.what();
    }
    return "accepted";
  };
  const CropRect whole{0, 0, 64, 48};
  EXPECT_EQ(message_of(whole, 33, 20), "scaling: target size 33x20 is not positive and even");
  EXPECT_EQ(message_of(whole, 0, 20), "scaling: target size 0x20 is not positive and even");
  EXPECT_EQ(message_of(whole, -32, 20), "scaling: target size -32x20 is not positive and even");
  EXPECT_EQ(message_of({2, 2, 64, 48}, 32, 24),
            "scaling: crop 64x48+2+2 is not an even part of the picture");
  EXPECT_EQ(message_of({1, 0, 32, 24}, 32, 24),
            "scaling: crop 32x24+1+0 is not an even part of the picture");
  EXPECT_EQ(message_of({-2, 0, 32, 24}, 32, 24),
            "scaling: crop 32x24+-2+0 is not an even part of the picture");
  EXPECT_EQ(message_of({0, 0, 0, 24}, 32, 24),
            "scaling: crop 0x24+0+0 is not an even part of the picture");
  EXPECT_EQ(message_of(whole, 32, 24), "accepted");
}

}  // namespace
}  // namespace camstream
