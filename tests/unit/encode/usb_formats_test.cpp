// The encoder on the formats USB webcams give: packed 4:2:2 (YUYV, UYVY), limited range,
// and camera MJPEG passed through. Decoded with TurboJPEG to check what a viewer would see.
#include <gtest/gtest.h>

#include <algorithm>
#include <fstream>
#include <iterator>
#include <memory>
#include <string>
#include <tuple>
#include <vector>

#include "camstream/encode/encode_error.hpp"
#include "camstream/encode/jpeg_encoder.hpp"
#include "encode/mjpeg_repair.hpp"
#include "encode/range_expansion.hpp"
#include "turbojpeg_helpers.hpp"

namespace camstream {
namespace {

struct Colour {
  std::uint8_t y, u, v;
};
// Limited-range BT.601 (16..235, 16..240) values and the full-range RGB they stand for.
constexpr Colour kLimitedBlack{16, 128, 128};
constexpr Colour kLimitedWhite{235, 128, 128};
constexpr Colour kLimitedRed{81, 90, 240};  // RGB(255, 0, 0)
// Full-range (JFIF) values.
constexpr Colour kRed{90, 100, 220};   // about RGB(230, 40, 50)
constexpr Colour kBlue{60, 210, 110};  // about RGB(40, 60, 220)
constexpr std::uint8_t kPaddingByte = 0xEE;

std::string format_name(PixelFormat format) {
  switch (format) {
    case PixelFormat::I420:
      return "I420";
    case PixelFormat::NV12:
      return "NV12";
    case PixelFormat::YUYV:
      return "YUYV";
    case PixelFormat::UYVY:
      return "UYVY";
    case PixelFormat::MJPEG:
      return "MJPEG";
  }
  return "?";
}

// Planes each in their own exactly sized allocation at an odd address, rows padded by
// `padding` bytes (odd paddings give odd strides) and the last row not padded at all, so
// that any read outside the picture shows under ASan or as wrong pixels.
class RawFrame {
 public:
  RawFrame(PixelFormat format, int width, int height, int padding) {
    view_.format = format;
    view_.width = width;
    view_.height = height;
    switch (format) {
      case PixelFormat::I420:
        add_plane(0, width, padding, height);
        add_plane(1, width / 2, padding, height / 2);
        add_plane(2, width / 2, padding, height / 2);
        break;
      case PixelFormat::NV12:
        add_plane(0, width, padding, height);
        add_plane(1, width, padding, height / 2);
        break;
      default:
        add_plane(0, 2 * width, padding, height);
        break;
    }
  }

  void paint_halves(Colour left, Colour right) {
    for (int y = 0; y < view_.height; ++y) {
      for (int x = 0; x < view_.width; ++x) set(x, y, x < view_.width / 2 ? left : right);
    }
  }

  FrameView& view() { return view_; }

 private:
  void add_plane(int index, int row_bytes, int padding, int rows) {
    const int stride = row_bytes + padding;
    const std::size_t size = static_cast<std::size_t>(stride) * (rows - 1) + row_bytes;
    const int odd_offset = 2 * index + 1;
    storage_[index] = std::make_unique<std::uint8_t[]>(odd_offset + size);
    std::fill_n(storage_[index].get(), odd_offset + size, kPaddingByte);
    view_.planes[index] = {storage_[index].get() + odd_offset, stride, size};
  }

  std::uint8_t& at(int plane, int x, int y) {
    return const_cast<std::uint8_t*>(view_.planes[plane].data)[y * view_.planes[plane].stride + x];
  }

  // Chroma is shared by two pixels (and two rows in 4:2:0): the last write wins, which
  // is the same colour within each half of the picture.
  void set(int x, int y, Colour c) {
    switch (view_.format) {
      case PixelFormat::I420:
        at(0, x, y) = c.y;
        at(1, x / 2, y / 2) = c.u;
        at(2, x / 2, y / 2) = c.v;
        break;
      case PixelFormat::NV12:
        at(0, x, y) = c.y;
        at(1, x / 2 * 2, y / 2) = c.u;
        at(1, x / 2 * 2 + 1, y / 2) = c.v;
        break;
      case PixelFormat::YUYV:
        at(0, 2 * x, y) = c.y;
        at(0, x / 2 * 4 + 1, y) = c.u;
        at(0, x / 2 * 4 + 3, y) = c.v;
        break;
      case PixelFormat::UYVY:
        at(0, 2 * x + 1, y) = c.y;
        at(0, x / 2 * 4, y) = c.u;
        at(0, x / 2 * 4 + 2, y) = c.v;
        break;
      case PixelFormat::MJPEG:
        break;
    }
  }

  FrameView view_;
  std::unique_ptr<std::uint8_t[]> storage_[3];
};

test::DecodedRgb encode_and_decode(JpegEncoder& encoder, const FrameView& view) {
  std::vector<std::uint8_t> out(JpegEncoder::max_jpeg_size(view.width, view.height));
  const std::size_t size = encoder.encode(view, out);
  return test::decode_rgb(std::span(out).first(size));
}

TEST(RangeTables, LimitedToFull) {
  const auto& luma = limited_to_full_luma();
  const auto& chroma = limited_to_full_chroma();
  EXPECT_EQ(luma[16], 0);
  EXPECT_EQ(luma[235], 255);
  EXPECT_EQ(luma[0], 0);  // below the range: clamped
  EXPECT_EQ(luma[255], 255);
  EXPECT_EQ(luma[126], 128);  // the middle of 16..235 is about the middle of 0..255
  EXPECT_EQ(chroma[16], 0);
  EXPECT_EQ(chroma[128], 128);
  EXPECT_EQ(chroma[240], 255);
  EXPECT_EQ(chroma[0], 0);
  EXPECT_EQ(chroma[255], 255);
  for (int i = 1; i < 256; ++i) {
    EXPECT_GE(luma[i], luma[i - 1]);
    EXPECT_GE(chroma[i], chroma[i - 1]);
  }
  // Symmetric about 128 (but for 240 -> 255, one short of 256): no tint.
  for (int d = 0; d < 112; ++d) EXPECT_EQ(chroma[128 + d] - 128, 128 - chroma[128 - d]) << d;
}

class Formats : public ::testing::TestWithParam<std::tuple<PixelFormat, int, int, int>> {};

TEST_P(Formats, ColoursSurvive) {
  const auto [format, width, height, padding] = GetParam();
  RawFrame frame(format, width, height, padding);
  frame.paint_halves(kBlue, kRed);
  JpegEncoder encoder(90);
  const auto decoded = encode_and_decode(encoder, frame.view());
  ASSERT_EQ(decoded.width, width);
  ASSERT_EQ(decoded.height, height);
  const bool packed = format == PixelFormat::YUYV || format == PixelFormat::UYVY;
  EXPECT_EQ(decoded.subsampling, packed ? TJSAMP_422 : TJSAMP_420);
  const int margin = 8;
  const int left_end = width / 2 - margin;
  const int right_start = width / 2 + margin;
  EXPECT_GT(decoded.mean(2, 0, left_end), decoded.mean(0, 0, left_end) + 100);
  EXPECT_GT(decoded.mean(0, right_start, width), decoded.mean(1, right_start, width) + 100);
  EXPECT_GT(decoded.mean(0, right_start, width), decoded.mean(2, right_start, width) + 100);
  // And the luma of each half as painted (JFIF: Y = 0.299 R + 0.587 G + 0.114 B).
  auto luma = [&](int x0, int x1) {
    return 0.299 * decoded.mean(0, x0, x1) + 0.587 * decoded.mean(1, x0, x1) +
           0.114 * decoded.mean(2, x0, x1);
  };
  EXPECT_NEAR(luma(0, left_end), kBlue.y, 4.0);
  EXPECT_NEAR(luma(right_start, width), kRed.y, 4.0);
}

TEST_P(Formats, LimitedRangeIsExpanded) {
  const auto [format, width, height, padding] = GetParam();
  RawFrame frame(format, width, height, padding);
  frame.paint_halves(kLimitedBlack, kLimitedWhite);
  JpegEncoder encoder(90);
  const int margin = 8;
  const int left_end = width / 2 - margin;
  const int right_start = width / 2 + margin;

  frame.view().range = ColorRange::Limited;
  const auto expanded = encode_and_decode(encoder, frame.view());
  for (int channel = 0; channel < 3; ++channel) {
    EXPECT_LT(expanded.mean(channel, 0, left_end), 2.0) << channel;
    EXPECT_GT(expanded.mean(channel, right_start, width), 253.0) << channel;
  }

  frame.view().range = ColorRange::Full;  // the same samples taken as full range: washed out
  const auto unchanged = encode_and_decode(encoder, frame.view());
  EXPECT_NEAR(unchanged.mean(1, 0, left_end), 16.0, 2.0);
  EXPECT_NEAR(unchanged.mean(1, right_start, width), 235.0, 2.0);

  frame.paint_halves(kLimitedRed, kLimitedRed);
  frame.view().range = ColorRange::Limited;
  const auto red = encode_and_decode(encoder, frame.view());
  EXPECT_GT(red.mean(0, 0, width), 245.0);
  EXPECT_LT(red.mean(1, 0, width), 10.0);
  EXPECT_LT(red.mean(2, 0, width), 10.0);
}

std::string param_name(const ::testing::TestParamInfo<Formats::ParamType>& info) {
  const auto [format, width, height, padding] = info.param;
  return format_name(format) + "_" + std::to_string(width) + "x" + std::to_string(height) + "_pad" +
         std::to_string(padding);
}

INSTANTIATE_TEST_SUITE_P(PaddedPlanes, Formats,
                         ::testing::Values(std::tuple{PixelFormat::YUYV, 320, 240, 0},
                                           std::tuple{PixelFormat::UYVY, 320, 240, 0},
                                           std::tuple{PixelFormat::YUYV, 98, 66,
                                                      7},  // odd stride, odd MCU edge
                                           std::tuple{PixelFormat::UYVY, 98, 66, 33},
                                           std::tuple{PixelFormat::I420, 98, 66, 5},
                                           std::tuple{PixelFormat::NV12, 98, 66, 3},
                                           std::tuple{PixelFormat::I420, 320, 240, 64},
                                           std::tuple{PixelFormat::NV12, 320, 240, 0}),
                         param_name);

TEST(PackedFrames, ShortOrNarrowPlanesAreRejected) {
  JpegEncoder encoder(80);
  std::vector<std::uint8_t> out(JpegEncoder::max_jpeg_size(64, 32));
  for (PixelFormat format : {PixelFormat::YUYV, PixelFormat::UYVY}) {
    RawFrame frame(format, 64, 32, 0);
    FrameView view = frame.view();
    view.planes[0].size -= 1;
    EXPECT_THROW(encoder.encode(view, out), EncodeError);
    view = frame.view();
    view.planes[0].stride = 127;  // below two bytes a pixel
    EXPECT_THROW(encoder.encode(view, out), EncodeError);
    view = frame.view();
    view.planes[0].data = nullptr;
    EXPECT_THROW(encoder.encode(view, out), EncodeError);
  }
}

TEST(PackedFrames, EncoderScratchFollowsTheFormat) {
  // One encoder going through every format and size in turn (the scratch only grows).
  JpegEncoder encoder(80);
  for (auto [format, width, height] :
       {std::tuple{PixelFormat::YUYV, 64, 48}, std::tuple{PixelFormat::I420, 320, 240},
        std::tuple{PixelFormat::UYVY, 320, 240}, std::tuple{PixelFormat::NV12, 32, 16},
        std::tuple{PixelFormat::YUYV, 32, 16}}) {
    RawFrame frame(format, width, height, 1);
    frame.paint_halves(kLimitedBlack, kLimitedWhite);
    frame.view().range = ColorRange::Limited;
    const auto decoded = encode_and_decode(encoder, frame.view());
    EXPECT_EQ(decoded.width, width);
    EXPECT_LT(decoded.mean(1, 0, width / 2 - 4), 3.0);
  }
}

class MjpegFrames : public ::testing::Test {
 protected:
  FrameView view_of(const std::vector<std::uint8_t>& jpeg, int width, int height) {
    FrameView view;
    view.format = PixelFormat::MJPEG;
    view.width = width;
    view.height = height;
    view.planes[0] = {jpeg.data(), 0, jpeg.size()};
    return view;
  }

  JpegEncoder encoder_{80};
  std::vector<std::uint8_t> out_ = std::vector<std::uint8_t>(JpegEncoder::max_jpeg_size(64, 48));
};

TEST_F(MjpegFrames, PassedThroughUnchanged) {
  const auto jpeg = test::make_jpeg(64, 48, TJSAMP_422);
  const std::size_t size = encoder_.encode(view_of(jpeg, 64, 48), out_);
  EXPECT_EQ(
      std::vector<std::uint8_t>(out_.begin(), out_.begin() + static_cast<std::ptrdiff_t>(size)),
      jpeg);
}

TEST_F(MjpegFrames, RangeDoesNotApply) {
  const auto jpeg = test::make_jpeg(64, 48, TJSAMP_422);
  FrameView view = view_of(jpeg, 64, 48);
  view.range = ColorRange::Limited;  // a JPEG is full range by definition (JFIF)
  EXPECT_EQ(encoder_.encode(view, out_), jpeg.size());
}

TEST_F(MjpegFrames, CorruptFramesThrowCorruptFrameError) {
  const auto jpeg = test::make_jpeg(64, 48, TJSAMP_422);
  const std::vector<std::uint8_t> truncated(jpeg.begin(), jpeg.end() - 10);
  EXPECT_THROW(encoder_.encode(view_of(truncated, 64, 48), out_), CorruptFrameError);
  const std::vector<std::uint8_t> empty;
  EXPECT_THROW(encoder_.encode(view_of(empty, 64, 48), out_), CorruptFrameError);
  FrameView no_data = view_of(jpeg, 64, 48);
  no_data.planes[0].data = nullptr;
  EXPECT_THROW(encoder_.encode(no_data, out_), CorruptFrameError);
  try {
    encoder_.encode(view_of(jpeg, 32, 48), out_);  // the camera said another size
    FAIL() << "no CorruptFrameError";
  } catch (const CorruptFrameError& error) {
    EXPECT_NE(std::string(error.what()).find("64x48"), std::string::npos) << error.what();
  }
}

TEST_F(MjpegFrames, OversizedFrameIsDroppedNotWrittenPastTheBuffer) {
  // A "JPEG" bigger than the bound for its size: valid structure, absurd size.
  auto jpeg = test::make_jpeg(64, 48, TJSAMP_444, 0, /*noise=*/true);
  const std::size_t bound = JpegEncoder::max_jpeg_size(16, 16);
  ASSERT_GT(jpeg.size() + kMjpegRepairGrowth, bound);
  // Tell the encoder it is 16x16 by patching the frame header, so that only the size is wrong.
  for (std::size_t i = 2; i + 9 < jpeg.size(); ++i) {
    if (jpeg[i] == 0xFF && jpeg[i + 1] == 0xC0) {
      jpeg[i + 5] = 0;
      jpeg[i + 6] = 16;
      jpeg[i + 7] = 0;
      jpeg[i + 8] = 16;
      break;
    }
  }
  std::vector<std::uint8_t> out(bound + 64, 0xA5);
  EXPECT_THROW(encoder_.encode(view_of(jpeg, 16, 16), out), CorruptFrameError);
  EXPECT_TRUE(std::all_of(out.begin() + static_cast<std::ptrdiff_t>(bound), out.end(),
                          [](std::uint8_t byte) { return byte == 0xA5; }));
}

TEST_F(MjpegFrames, SmallOutputIsAnEncodeErrorNotACorruptFrame) {
  const auto jpeg = test::make_jpeg(64, 48, TJSAMP_422);
  std::vector<std::uint8_t> small(JpegEncoder::max_jpeg_size(64, 48) - 1);
  try {
    encoder_.encode(view_of(jpeg, 64, 48), small);
    FAIL() << "no EncodeError";
  } catch (const CorruptFrameError&) {
    FAIL() << "the caller's buffer is not the camera's fault";
  } catch (const EncodeError&) {
  }
}

}  // namespace
}  // namespace camstream
