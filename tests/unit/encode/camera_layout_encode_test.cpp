// Camera buffers as libcamera describes them (planes on one dmabuf at offsets, padded strides)
// turned into FrameViews by the libcamera source's layout code, encoded and decoded again: the
// picture must come out the right size and colours.
#include <gtest/gtest.h>
#include <turbojpeg.h>

#include <cstdint>
#include <cstdlib>
#include <memory>
#include <vector>

#include "camstream/encode/jpeg_encoder.hpp"
#include "capture/libcamera/camera_logic.hpp"

namespace camstream {
namespace {

using camera_logic::PlaneDescription;

struct Yuv {
  std::uint8_t y, u, v;
};
struct Rgb {
  int r, g, b;
};
// Full-range BT.601 (sYCC, as the source asks the camera for).
constexpr Yuv kRed{98, 101, 222};   // about RGB(230, 40, 50)
constexpr Yuv kBlue{72, 211, 105};  // about RGB(40, 60, 220)
constexpr std::uint8_t kPadding = 0xEE;
constexpr int kFakeFd = 42;  // never mapped: the test's memory stands in for the dmabuf

// One buffer holding the whole picture the way the Pi's single-planar V4L2 formats lay it out,
// plus the plane list libcamera reports for it.
struct CameraBuffer {
  std::vector<std::uint8_t> memory;
  std::vector<PlaneDescription> planes;
};

// Left half red, right half blue; row padding filled with kPadding.
CameraBuffer make_i420(int width, int height, int stride) {
  const int chroma_stride = stride / 2;
  const std::uint32_t luma_size = stride * height;
  const std::uint32_t chroma_size = chroma_stride * ((height + 1) / 2);
  CameraBuffer buffer;
  buffer.memory.assign(luma_size + 2 * chroma_size, kPadding);
  buffer.planes = {{kFakeFd, 0, luma_size},
                   {kFakeFd, luma_size, chroma_size},
                   {kFakeFd, luma_size + chroma_size, chroma_size}};
  std::uint8_t* y = buffer.memory.data();
  std::uint8_t* u = y + luma_size;
  std::uint8_t* v = u + chroma_size;
  for (int row = 0; row < height; ++row) {
    for (int x = 0; x < width; ++x) {
      const Yuv& c = x < width / 2 ? kRed : kBlue;
      y[row * stride + x] = c.y;
      u[row / 2 * chroma_stride + x / 2] = c.u;
      v[row / 2 * chroma_stride + x / 2] = c.v;
    }
  }
  return buffer;
}

CameraBuffer make_nv12(int width, int height, int stride) {
  const std::uint32_t luma_size = stride * height;
  const std::uint32_t chroma_size = stride * ((height + 1) / 2);
  CameraBuffer buffer;
  buffer.memory.assign(luma_size + chroma_size, kPadding);
  buffer.planes = {{kFakeFd, 0, luma_size}, {kFakeFd, luma_size, chroma_size}};
  std::uint8_t* y = buffer.memory.data();
  std::uint8_t* uv = y + luma_size;
  for (int row = 0; row < height; ++row) {
    for (int x = 0; x < width; ++x) {
      const Yuv& c = x < width / 2 ? kRed : kBlue;
      y[row * stride + x] = c.y;
      uv[row / 2 * stride + x / 2 * 2] = c.u;
      uv[row / 2 * stride + x / 2 * 2 + 1] = c.v;
    }
  }
  return buffer;
}

struct Decoded {
  int width = 0;
  int height = 0;
  std::vector<std::uint8_t> rgb;
  Rgb at(int x, int y) const {
    const auto* p = &rgb[(static_cast<std::size_t>(y) * width + x) * 3];
    return {p[0], p[1], p[2]};
  }
};

Decoded encode_and_decode(const FrameView& view) {
  JpegEncoder encoder(90);
  std::vector<std::uint8_t> jpeg(JpegEncoder::max_jpeg_size(view.width, view.height));
  const std::size_t size = encoder.encode(view, jpeg);
  EXPECT_GT(size, 100u);

  const std::unique_ptr<void, int (*)(tjhandle)> decompressor(tjInitDecompress(), tjDestroy);
  Decoded decoded;
  int subsampling = 0, colourspace = 0;
  EXPECT_EQ(tjDecompressHeader3(decompressor.get(), jpeg.data(), size, &decoded.width,
                                &decoded.height, &subsampling, &colourspace),
            0);
  EXPECT_EQ(subsampling, TJSAMP_420);
  decoded.rgb.resize(static_cast<std::size_t>(decoded.width) * decoded.height * 3);
  EXPECT_EQ(tjDecompress2(decompressor.get(), jpeg.data(), size, decoded.rgb.data(), decoded.width,
                          0, decoded.height, TJPF_RGB, 0),
            0)
      << tjGetErrorStr2(decompressor.get());
  return decoded;
}

void expect_red_left_blue_right(const Decoded& picture) {
  for (const int y : {2, picture.height / 2, picture.height - 3}) {
    const Rgb left = picture.at(picture.width / 4, y);
    EXPECT_NEAR(left.r, 230, 20) << "row " << y;
    EXPECT_NEAR(left.g, 40, 20) << "row " << y;
    EXPECT_NEAR(left.b, 50, 20) << "row " << y;
    const Rgb right = picture.at(picture.width * 3 / 4, y);
    EXPECT_NEAR(right.r, 40, 20) << "row " << y;
    EXPECT_NEAR(right.g, 60, 20) << "row " << y;
    EXPECT_NEAR(right.b, 220, 20) << "row " << y;
    // The right edge must not show the row padding (0xEE luma would be near white).
    const Rgb edge = picture.at(picture.width - 1, y);
    EXPECT_LT(edge.r + edge.g, 200) << "row " << y;
  }
}

FrameView view_of(const CameraBuffer& buffer, int stride, PixelFormat format, int width,
                  int height) {
  const auto layout =
      camera_logic::compute_buffer_layout(buffer.planes, stride, format, width, height);
  EXPECT_EQ(layout.mappings.size(), 1u);
  EXPECT_LE(layout.mappings[0].length, buffer.memory.size());
  const std::uint8_t* const base = buffer.memory.data();
  return camera_logic::make_frame_view(layout, std::span(&base, 1));
}

TEST(CameraLayoutEncode, PaddedYuv420ThreePlanesOnOneBuffer) {
  const int width = 642, height = 480, stride = 704;  // width not a multiple of 16
  const auto buffer = make_i420(width, height, stride);
  const auto picture = encode_and_decode(view_of(buffer, stride, PixelFormat::I420, width, height));
  EXPECT_EQ(picture.width, width);
  EXPECT_EQ(picture.height, height);
  expect_red_left_blue_right(picture);
}

TEST(CameraLayoutEncode, PaddedNv12TwoPlanesOnOneBuffer) {
  const int width = 640, height = 360, stride = 768;
  const auto buffer = make_nv12(width, height, stride);
  const auto picture = encode_and_decode(view_of(buffer, stride, PixelFormat::NV12, width, height));
  EXPECT_EQ(picture.width, width);
  EXPECT_EQ(picture.height, height);
  expect_red_left_blue_right(picture);
}

TEST(CameraLayoutEncode, OddCameraSizeEncodesAsEvenCrop) {
  // A camera that rounds the size to an odd one: the view drops the last column and row.
  const int width = 321, height = 241, stride = 384;
  const auto buffer = make_i420(width, height, stride);
  const auto picture = encode_and_decode(view_of(buffer, stride, PixelFormat::I420, width, height));
  EXPECT_EQ(picture.width, 320);
  EXPECT_EQ(picture.height, 240);
  expect_red_left_blue_right(picture);
}

}  // namespace
}  // namespace camstream
