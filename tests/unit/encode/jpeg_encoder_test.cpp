#include "camstream/encode/jpeg_encoder.hpp"

#include <gtest/gtest.h>
#include <turbojpeg.h>

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "camstream/encode/encode_error.hpp"

namespace camstream {
namespace {

struct Colour {
  std::uint8_t y, u, v;
};
// Full-range BT.601 (JFIF) values.
constexpr Colour kDark{40, 128, 128};
constexpr Colour kBright{210, 128, 128};
constexpr Colour kRed{90, 100, 220};   // about RGB(230, 40, 50)
constexpr Colour kBlue{60, 210, 110};  // about RGB(40, 60, 220)
constexpr std::uint8_t kPaddingByte = 0xEE;

// A frame whose planes each live in their own exactly sized allocation, starting at an odd
// offset and with padded rows, so that a read past a plane or into the padding shows
// (as an ASan report or as wrong pixels).
class PaddedFrame {
 public:
  PaddedFrame(PixelFormat format, int width, int height, int padding = 64) {
    frame_.format = format;
    frame_.width = width;
    frame_.height = height;
    const int chroma_height = height / 2;
    add_plane(0, width + padding, height);
    if (format == PixelFormat::I420) {
      add_plane(1, width / 2 + padding, chroma_height);
      add_plane(2, width / 2 + padding, chroma_height);
    } else {
      add_plane(1, width + padding, chroma_height);
    }
  }

  // Left half one colour, right half the other.
  void paint_halves(Colour left, Colour right) {
    for (int y = 0; y < frame_.height; ++y) {
      for (int x = 0; x < frame_.width; ++x) {
        const Colour& c = x < frame_.width / 2 ? left : right;
        luma(x, y) = c.y;
        chroma_u(x / 2, y / 2) = c.u;
        chroma_v(x / 2, y / 2) = c.v;
      }
    }
  }

  // Deterministic noise, so that quality changes the size noticeably.
  void paint_noise() {
    std::uint32_t state = 12345;
    auto next = [&state] {
      state = state * 1664525u + 1013904223u;
      return static_cast<std::uint8_t>(state >> 24);
    };
    for (int y = 0; y < frame_.height; ++y) {
      for (int x = 0; x < frame_.width; ++x) luma(x, y) = next();
    }
    for (int y = 0; y < frame_.height / 2; ++y) {
      for (int x = 0; x < frame_.width / 2; ++x) {
        chroma_u(x, y) = next();
        chroma_v(x, y) = next();
      }
    }
  }

  FrameView& view() { return frame_; }

 private:
  void add_plane(int index, int stride, int rows) {
    const int odd_offset = 2 * index + 1;
    const std::size_t size = static_cast<std::size_t>(stride) * rows;
    storage_[index] = std::make_unique<std::uint8_t[]>(odd_offset + size);
    std::fill_n(storage_[index].get(), odd_offset + size, kPaddingByte);
    frame_.planes[index] = {storage_[index].get() + odd_offset, stride, size};
  }

  std::uint8_t* writable(int plane) { return const_cast<std::uint8_t*>(frame_.planes[plane].data); }
  std::uint8_t& luma(int x, int y) { return writable(0)[y * frame_.planes[0].stride + x]; }
  std::uint8_t& chroma_u(int x, int y) {
    if (frame_.format == PixelFormat::NV12) {
      return writable(1)[y * frame_.planes[1].stride + 2 * x];
    }
    return writable(1)[y * frame_.planes[1].stride + x];
  }
  std::uint8_t& chroma_v(int x, int y) {
    if (frame_.format == PixelFormat::NV12) {
      return writable(1)[y * frame_.planes[1].stride + 2 * x + 1];
    }
    return writable(2)[y * frame_.planes[2].stride + x];
  }

  FrameView frame_;
  std::unique_ptr<std::uint8_t[]> storage_[3];
};

struct Decoded {
  int width = 0;
  int height = 0;
  int subsampling = -1;
  std::vector<std::uint8_t> rgb;

  // Mean of one RGB channel over columns [x0, x1) of all rows.
  double mean(int channel, int x0, int x1) const {
    double sum = 0;
    for (int y = 0; y < height; ++y) {
      for (int x = x0; x < x1; ++x)
        sum += rgb[(static_cast<std::size_t>(y) * width + x) * 3 + channel];
    }
    return sum / (static_cast<double>(height) * (x1 - x0));
  }
  // Mean luma as JFIF computes it.
  double mean_luma(int x0, int x1) const {
    return 0.299 * mean(0, x0, x1) + 0.587 * mean(1, x0, x1) + 0.114 * mean(2, x0, x1);
  }
};

Decoded decode(const std::uint8_t* jpeg, std::size_t size) {
  Decoded result;
  tjhandle handle = tjInitDecompress();
  EXPECT_NE(handle, nullptr);
  int colourspace = 0;
  EXPECT_EQ(tjDecompressHeader3(handle, jpeg, size, &result.width, &result.height,
                                &result.subsampling, &colourspace),
            0)
      << tjGetErrorStr2(handle);
  result.rgb.resize(static_cast<std::size_t>(result.width) * result.height * 3);
  EXPECT_EQ(tjDecompress2(handle, jpeg, size, result.rgb.data(), result.width, 0, result.height,
                          TJPF_RGB, 0),
            0)
      << tjGetErrorStr2(handle);
  tjDestroy(handle);
  return result;
}

class EncodeFormats : public ::testing::TestWithParam<std::tuple<PixelFormat, int, int>> {};

TEST_P(EncodeFormats, LumaHalvesSurviveEncoding) {
  const auto [format, width, height] = GetParam();
  PaddedFrame frame(format, width, height);
  frame.paint_halves(kDark, kBright);
  JpegEncoder encoder(80);
  std::vector<std::uint8_t> out(JpegEncoder::max_jpeg_size(width, height));
  const std::size_t size = encoder.encode(frame.view(), out);
  ASSERT_GT(size, 4u);
  ASSERT_LE(size, out.size());
  EXPECT_EQ(out[0], 0xFF);
  EXPECT_EQ(out[1], 0xD8);
  EXPECT_EQ(out[size - 2], 0xFF);
  EXPECT_EQ(out[size - 1], 0xD9);

  const Decoded decoded = decode(out.data(), size);
  EXPECT_EQ(decoded.width, width);
  EXPECT_EQ(decoded.height, height);
  EXPECT_EQ(decoded.subsampling, TJSAMP_420);
  // Keep clear of the edge between the halves, where the DCT rings.
  const int margin = 8;
  EXPECT_NEAR(decoded.mean_luma(0, width / 2 - margin), kDark.y, 4.0);
  EXPECT_NEAR(decoded.mean_luma(width / 2 + margin, width), kBright.y, 4.0);
}

TEST_P(EncodeFormats, ChromaSurvivesEncoding) {
  const auto [format, width, height] = GetParam();
  PaddedFrame frame(format, width, height);
  frame.paint_halves(kBlue, kRed);
  JpegEncoder encoder(90);
  std::vector<std::uint8_t> out(JpegEncoder::max_jpeg_size(width, height));
  const Decoded decoded = decode(out.data(), encoder.encode(frame.view(), out));
  const int margin = 8;
  const int left_end = width / 2 - margin;
  const int right_start = width / 2 + margin;
  // Blue on the left: blue well above red; red on the right: red well above green and blue.
  EXPECT_GT(decoded.mean(2, 0, left_end), decoded.mean(0, 0, left_end) + 100);
  EXPECT_GT(decoded.mean(0, right_start, width), decoded.mean(1, right_start, width) + 100);
  EXPECT_GT(decoded.mean(0, right_start, width), decoded.mean(2, right_start, width) + 100);
}

std::string param_name(const ::testing::TestParamInfo<EncodeFormats::ParamType>& info) {
  const PixelFormat format = std::get<0>(info.param);
  return std::string(format == PixelFormat::I420 ? "I420_" : "NV12_") +
         std::to_string(std::get<1>(info.param)) + "x" + std::to_string(std::get<2>(info.param));
}

INSTANTIATE_TEST_SUITE_P(
    PaddedPlanes, EncodeFormats,
    ::testing::Values(std::tuple{PixelFormat::I420, 320, 240},
                      std::tuple{PixelFormat::NV12, 320, 240},
                      // Not a multiple of the 16x16 MCU: TurboJPEG pads the edges itself.
                      std::tuple{PixelFormat::I420, 98, 66}, std::tuple{PixelFormat::NV12, 98, 66}),
    param_name);

TEST(JpegEncoder, HigherQualityGivesLargerFiles) {
  PaddedFrame frame(PixelFormat::I420, 320, 240);
  frame.paint_noise();
  std::vector<std::uint8_t> out(JpegEncoder::max_jpeg_size(320, 240));
  JpegEncoder low(30);
  JpegEncoder high(95);
  const std::size_t low_size = low.encode(frame.view(), out);
  const std::size_t high_size = high.encode(frame.view(), out);
  EXPECT_GT(high_size, low_size * 3 / 2);
  EXPECT_EQ(high.quality(), 95);
}

TEST(JpegEncoder, OneEncoderHandlesChangingSizesAndFormats) {
  JpegEncoder encoder(80);
  for (auto [format, width, height] :
       {std::tuple{PixelFormat::NV12, 64, 48}, std::tuple{PixelFormat::NV12, 320, 240},
        std::tuple{PixelFormat::I420, 160, 120}, std::tuple{PixelFormat::NV12, 32, 16}}) {
    PaddedFrame frame(format, width, height, 0);
    frame.paint_halves(kDark, kBright);
    std::vector<std::uint8_t> out(JpegEncoder::max_jpeg_size(width, height));
    const Decoded decoded = decode(out.data(), encoder.encode(frame.view(), out));
    EXPECT_EQ(decoded.width, width);
    EXPECT_EQ(decoded.height, height);
  }
}

TEST(JpegEncoder, AcceptsPlanesWhoseLastRowIsNotPadded) {
  PaddedFrame frame(PixelFormat::I420, 64, 32);
  frame.paint_halves(kDark, kBright);
  FrameView view = frame.view();
  view.planes[0].size -= 64;  // the padding after the last row
  view.planes[1].size -= 64;
  view.planes[2].size -= 64;
  JpegEncoder encoder(80);
  std::vector<std::uint8_t> out(JpegEncoder::max_jpeg_size(64, 32));
  EXPECT_GT(encoder.encode(view, out), 0u);
}

TEST(JpegEncoder, RejectsBadQuality) {
  EXPECT_THROW(JpegEncoder(0), EncodeError);
  EXPECT_THROW(JpegEncoder(101), EncodeError);
}

class BadFrames : public ::testing::Test {
 protected:
  void expect_rejected(const FrameView& view, std::size_t out_size = 0) {
    if (out_size == 0) out_size = JpegEncoder::max_jpeg_size(64, 64);
    std::vector<std::uint8_t> out(out_size);
    EXPECT_THROW(encoder_.encode(view, out), EncodeError);
  }

  PaddedFrame i420_{PixelFormat::I420, 64, 32};
  PaddedFrame nv12_{PixelFormat::NV12, 64, 32};
  JpegEncoder encoder_{80};
};

TEST_F(BadFrames, OddOrEmptySizes) {
  for (auto [width, height] : {std::pair{63, 32}, {64, 31}, {0, 32}, {64, 0}, {-2, 32}}) {
    FrameView view = i420_.view();
    view.width = width;
    view.height = height;
    expect_rejected(view);
  }
}

TEST_F(BadFrames, ShortPlanes) {
  for (int plane = 0; plane < 3; ++plane) {
    FrameView view = i420_.view();
    view.planes[plane].size = view.planes[plane].size - view.planes[plane].stride;
    expect_rejected(view);
  }
  FrameView view = nv12_.view();
  view.planes[1].size -= 65;  // one byte short of the last row
  expect_rejected(view);
}

TEST_F(BadFrames, StrideBelowWidth) {
  FrameView view = i420_.view();
  view.planes[0].stride = 63;
  expect_rejected(view);
  view = i420_.view();
  view.planes[2].stride = 31;
  expect_rejected(view);
  view = nv12_.view();
  view.planes[1].stride = 63;  // interleaved chroma rows are as wide as the picture
  expect_rejected(view);
}

TEST_F(BadFrames, MissingPlanes) {
  FrameView view = i420_.view();
  view.planes[2].data = nullptr;
  expect_rejected(view);
  view = nv12_.view();
  view.planes[1] = {};
  expect_rejected(view);
}

TEST_F(BadFrames, OutputBufferTooSmall) {
  expect_rejected(i420_.view(), JpegEncoder::max_jpeg_size(64, 32) - 1);
}

TEST_F(BadFrames, ErrorNamesTheProblem) {
  FrameView view = i420_.view();
  view.planes[0].stride = 10;
  std::vector<std::uint8_t> out(JpegEncoder::max_jpeg_size(64, 32));
  try {
    encoder_.encode(view, out);
    FAIL() << "no EncodeError";
  } catch (const EncodeError& error) {
    EXPECT_NE(std::string(error.what()).find("stride"), std::string::npos) << error.what();
  }
}

}  // namespace
}  // namespace camstream
