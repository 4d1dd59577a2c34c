// The MJPEG decoder: camera and relayed JPEGs to I420 for the outputs that need pixels.
#include "encode/jpeg_decoder.hpp"

#include <gtest/gtest.h>
#include <turbojpeg.h>

#include <algorithm>
#include <array>
#include <cstdint>
#include <cstdlib>
#include <string>
#include <vector>

#include "camstream/encode/encode_error.hpp"
#include "camstream/encode/jpeg_encoder.hpp"
#include "encode/turbojpeg_helpers.hpp"

namespace camstream {
namespace {

// A smooth picture as YUV planes at a given subsampling (sizes may be odd), and its JPEG made
// by TurboJPEG from those planes: the decoder must give these samples back within the JPEG's
// error.
struct YuvSource {
  int width = 0;
  int height = 0;
  int subsampling = TJSAMP_420;
  std::array<std::vector<std::uint8_t>, 3> planes;
  std::array<int, 3> widths{};
  std::array<int, 3> heights{};
  std::vector<std::uint8_t> jpeg;

  std::uint8_t at(int plane, int x, int y) const {
    return planes[plane][static_cast<std::size_t>(y) * widths[plane] + x];
  }
};

YuvSource make_source(int width, int height, int subsampling, int quality = 95) {
  YuvSource source;
  source.width = width;
  source.height = height;
  source.subsampling = subsampling;
  const int components = subsampling == TJSAMP_GRAY ? 1 : 3;
  std::array<const unsigned char*, 3> pointers{};
  for (int i = 0; i < components; ++i) {
    source.widths[i] = tjPlaneWidth(i, width, subsampling);
    source.heights[i] = tjPlaneHeight(i, height, subsampling);
    auto& plane = source.planes[i];
    plane.resize(static_cast<std::size_t>(source.widths[i]) * source.heights[i]);
    for (int y = 0; y < source.heights[i]; ++y) {
      for (int x = 0; x < source.widths[i]; ++x) {
        // Gentle gradients: the JPEG keeps them closely, and halving chroma changes them little.
        const int value = i == 0 ? 30 + (x * 180) / source.widths[i] + (y * 20) / source.heights[i]
                          : i == 1 ? 60 + (x * 120) / source.widths[i]
                                   : 200 - (y * 120) / source.heights[i];
        plane[static_cast<std::size_t>(y) * source.widths[i] + x] =
            static_cast<std::uint8_t>(value);
      }
    }
    pointers[i] = plane.data();
  }
  tjhandle handle = tjInitCompress();
  unsigned char* jpeg = nullptr;
  unsigned long size = 0;
  EXPECT_EQ(tjCompressFromYUVPlanes(handle, pointers.data(), width, source.widths.data(), height,
                                    subsampling, &jpeg, &size, quality, 0),
            0)
      << tjGetErrorStr2(handle);
  source.jpeg.assign(jpeg, jpeg + size);
  tjFree(jpeg);
  tjDestroy(handle);
  return source;
}

FrameView mjpeg_view(const std::vector<std::uint8_t>& jpeg, int width = 0, int height = 0) {
  FrameView view;
  view.format = PixelFormat::MJPEG;
  view.width = width;
  view.height = height;
  view.planes[0] = {jpeg.data(), 0, jpeg.size()};
  view.sequence = 42;
  return view;
}

std::uint8_t sample(const FrameView& frame, int plane, int x, int y) {
  return frame.planes[plane].data[static_cast<std::size_t>(y) * frame.planes[plane].stride + x];
}

// The I420 chroma sample the source stands for at (cx, cy): the mean of the source samples
// it covers.
double expected_chroma(const YuvSource& source, int plane, int cx, int cy) {
  if (source.subsampling == TJSAMP_GRAY) return 128;
  const int xs = source.subsampling == TJSAMP_444 ? 2 : 1;
  const int ys = source.subsampling == TJSAMP_420 ? 1 : 2;
  double sum = 0;
  for (int dy = 0; dy < ys; ++dy) {
    for (int dx = 0; dx < xs; ++dx) sum += source.at(plane, cx * xs + dx, cy * ys + dy);
  }
  return sum / (xs * ys);
}

struct Difference {
  double mean = 0;
  double max = 0;
};

void expect_close(const YuvSource& source, const FrameView& decoded) {
  ASSERT_EQ(decoded.format, PixelFormat::I420);
  ASSERT_EQ(decoded.width, source.width & ~1);
  ASSERT_EQ(decoded.height, source.height & ~1);
  EXPECT_EQ(decoded.range, ColorRange::Full);
  EXPECT_EQ(decoded.sequence, 42u);
  Difference luma, chroma;
  for (int y = 0; y < decoded.height; ++y) {
    for (int x = 0; x < decoded.width; ++x) {
      const double d = std::abs(double(sample(decoded, 0, x, y)) - source.at(0, x, y));
      luma.mean += d;
      luma.max = std::max(luma.max, d);
    }
  }
  luma.mean /= double(decoded.width) * decoded.height;
  for (int plane = 1; plane <= 2; ++plane) {
    for (int y = 0; y < decoded.height / 2; ++y) {
      for (int x = 0; x < decoded.width / 2; ++x) {
        const double d =
            std::abs(double(sample(decoded, plane, x, y)) - expected_chroma(source, plane, x, y));
        chroma.mean += d;
        chroma.max = std::max(chroma.max, d);
      }
    }
  }
  chroma.mean /= double(decoded.width) * decoded.height / 2;
  EXPECT_LT(luma.mean, 1.5) << source.width << "x" << source.height;
  EXPECT_LT(luma.max, 12) << source.width << "x" << source.height;
  EXPECT_LT(chroma.mean, 1.5) << source.width << "x" << source.height;
  EXPECT_LT(chroma.max, 12) << source.width << "x" << source.height;
}

TEST(JpegDecoder, DecodesEverySubsamplingItTakesToI420) {
  JpegDecoder decoder;
  for (const int subsampling : {TJSAMP_420, TJSAMP_422, TJSAMP_444, TJSAMP_GRAY}) {
    for (const auto& [width, height] :
         std::vector<std::pair<int, int>>{{640, 480}, {641, 479}, {33, 17}, {16, 4}, {1280, 720}}) {
      SCOPED_TRACE("subsampling " + std::to_string(subsampling) + " at " + std::to_string(width) +
                   "x" + std::to_string(height));
      const YuvSource source = make_source(width, height, subsampling);
      expect_close(source, decoder.decode(mjpeg_view(source.jpeg)));
    }
  }
}

// What the camstream encoder itself makes from I420 (4:2:0) and YUYV (4:2:2), as a relay of
// another camstream gets it, comes back as the picture that was encoded.
TEST(JpegDecoder, DecodesTheEncodersOwnJpegs) {
  constexpr int kWidth = 320;
  constexpr int kHeight = 240;
  std::vector<std::uint8_t> i420(kWidth * kHeight * 3 / 2);
  std::vector<std::uint8_t> yuyv(kWidth * kHeight * 2);
  for (int y = 0; y < kHeight; ++y) {
    for (int x = 0; x < kWidth; ++x) i420[y * kWidth + x] = static_cast<std::uint8_t>(40 + x / 2);
    for (int x = 0; x < kWidth; x += 2) {
      std::uint8_t* p = &yuyv[(y * kWidth + x) * 2];
      p[0] = p[2] = static_cast<std::uint8_t>(40 + x / 2);
      p[1] = 100;
      p[3] = 180;
    }
  }
  std::fill(i420.begin() + kWidth * kHeight, i420.begin() + kWidth * kHeight * 5 / 4, 100);
  std::fill(i420.begin() + kWidth * kHeight * 5 / 4, i420.end(), 180);
  FrameView planar;
  planar.width = kWidth;
  planar.height = kHeight;
  planar.planes[0] = {i420.data(), kWidth, kWidth * kHeight};
  planar.planes[1] = {i420.data() + kWidth * kHeight, kWidth / 2, kWidth * kHeight / 4};
  planar.planes[2] = {i420.data() + kWidth * kHeight * 5 / 4, kWidth / 2, kWidth * kHeight / 4};
  FrameView packed;
  packed.format = PixelFormat::YUYV;
  packed.width = kWidth;
  packed.height = kHeight;
  packed.planes[0] = {yuyv.data(), kWidth * 2, yuyv.size()};

  JpegEncoder encoder(90);
  JpegDecoder decoder;
  for (const FrameView& frame : {planar, packed}) {
    std::vector<std::uint8_t> jpeg(JpegEncoder::max_jpeg_size(kWidth, kHeight));
    jpeg.resize(encoder.encode(frame, jpeg));
    EXPECT_EQ(test::decode_rgb(jpeg).subsampling,
              frame.format == PixelFormat::YUYV ? TJSAMP_422 : TJSAMP_420);
    const FrameView decoded = decoder.decode(mjpeg_view(jpeg));
    ASSERT_EQ(decoded.width, kWidth);
    ASSERT_EQ(decoded.height, kHeight);
    for (int y = 0; y < kHeight; y += 7) {
      for (int x = 0; x < kWidth; x += 5) {
        EXPECT_NEAR(sample(decoded, 0, x, y), 40 + x / 2, 4) << x << "," << y;
      }
      for (int x = 0; x < kWidth / 2; x += 5) {
        EXPECT_NEAR(sample(decoded, 1, x, y / 2), 100, 3);
        EXPECT_NEAR(sample(decoded, 2, x, y / 2), 180, 3);
      }
    }
  }
}

TEST(JpegDecoder, PaddingZerosAfterTheJpegAreTrimmed) {
  YuvSource source = make_source(64, 48, TJSAMP_422);
  source.jpeg.resize(source.jpeg.size() + 4096, 0);  // a UVC buffer's padding
  JpegDecoder decoder;
  expect_close(source, decoder.decode(mjpeg_view(source.jpeg)));
}

void expect_corrupt(JpegDecoder& decoder, const std::vector<std::uint8_t>& bytes,
                    const std::string& what) {
  SCOPED_TRACE(what);
  EXPECT_THROW(decoder.decode(mjpeg_view(bytes)), CorruptFrameError);
}

TEST(JpegDecoder, ACorruptJpegIsACorruptFrame) {
  const YuvSource source = make_source(320, 240, TJSAMP_420);
  JpegDecoder decoder;
  expect_corrupt(decoder, {}, "empty");
  FrameView null_view = mjpeg_view({});
  null_view.planes[0] = {nullptr, 0, 1000};
  EXPECT_THROW(decoder.decode(null_view), CorruptFrameError);
  expect_corrupt(decoder, {0xFF, 0xD8, 0xFF, 0xD9}, "SOI and EOI alone");
  expect_corrupt(decoder, std::vector<std::uint8_t>(source.jpeg.begin(), source.jpeg.end() - 100),
                 "truncated");
  std::vector<std::uint8_t> garbage(5000);
  std::uint32_t state = 7;
  for (auto& byte : garbage) byte = static_cast<std::uint8_t>((state = state * 69069 + 1) >> 24);
  expect_corrupt(decoder, garbage, "random bytes");
  garbage[0] = 0xFF;
  garbage[1] = 0xD8;
  garbage[garbage.size() - 2] = 0xFF;
  garbage.back() = 0xD9;
  expect_corrupt(decoder, garbage, "random bytes between SOI and EOI");
  // The header cut off after the frame header: no scan, no tables.
  std::vector<std::uint8_t> headless(source.jpeg.begin(), source.jpeg.begin() + 200);
  headless.push_back(0xFF);
  headless.push_back(0xD9);
  expect_corrupt(decoder, headless, "no scan");
  // Still decodes after all of them.
  expect_close(source, decoder.decode(mjpeg_view(source.jpeg)));
}

// Bytes changed anywhere: a picture of the declared size or an EncodeError, never a crash or a
// read outside the frame (ASan).
TEST(JpegDecoder, DamagedJpegsNeverCrash) {
  const YuvSource source = make_source(96, 64, TJSAMP_422);
  JpegDecoder decoder;
  std::uint32_t state = 12345;
  int decoded = 0, refused = 0;
  for (int round = 0; round < 400; ++round) {
    std::vector<std::uint8_t> damaged = source.jpeg;
    for (int flips = 0; flips < 1 + round % 4; ++flips) {
      state = state * 1664525u + 1013904223u;
      const std::size_t at = 2 + (state >> 8) % (damaged.size() - 4);
      damaged[at] = static_cast<std::uint8_t>(state >> 24);
    }
    try {
      const FrameView view = decoder.decode(mjpeg_view(damaged));
      EXPECT_GE(view.width, 2);
      EXPECT_LE(view.width, JpegDecoder::kMaxSide);
      ++decoded;
    } catch (const EncodeError&) {
      ++refused;
    }
  }
  EXPECT_EQ(decoded + refused, 400);
  EXPECT_GT(refused, 0);
}

// Where the frame header (SOF0) holds the height and width.
std::size_t sof_at(const std::vector<std::uint8_t>& jpeg) {
  for (std::size_t i = 2; i + 8 < jpeg.size(); ++i) {
    if (jpeg[i] == 0xFF && jpeg[i + 1] == 0xC0) return i;
  }
  ADD_FAILURE() << "no SOF0";
  return 0;
}

TEST(JpegDecoder, AHugeDeclaredSizeIsRefusedBeforeAnyBuffer) {
  const YuvSource source = make_source(64, 48, TJSAMP_420);
  JpegDecoder decoder;
  for (const auto& [width, height] :
       std::vector<std::pair<int, int>>{{65000, 65000}, {8194, 16}, {16, 8194}, {8192, 8192}}) {
    std::vector<std::uint8_t> jpeg = source.jpeg;
    const std::size_t sof = sof_at(jpeg);
    jpeg[sof + 5] = static_cast<std::uint8_t>(height >> 8);
    jpeg[sof + 6] = static_cast<std::uint8_t>(height & 0xFF);
    jpeg[sof + 7] = static_cast<std::uint8_t>(width >> 8);
    jpeg[sof + 8] = static_cast<std::uint8_t>(width & 0xFF);
    try {
      decoder.decode(mjpeg_view(jpeg));
      ADD_FAILURE() << width << "x" << height << " decoded";
    } catch (const CorruptFrameError& error) {
      ADD_FAILURE() << width << "x" << height << " taken for corrupt: " << error.what();
    } catch (const EncodeError& error) {
      EXPECT_NE(std::string(error.what()).find("larger than 8192"), std::string::npos)
          << error.what();
    }
  }
}

TEST(JpegDecoder, SubsamplingsItCannotHalveAreRefusedByName) {
  JpegDecoder decoder;
  for (const auto& [subsampling, name] :
       std::vector<std::pair<int, std::string>>{{TJSAMP_440, "4:4:0"}, {TJSAMP_411, "4:1:1"}}) {
    const std::vector<std::uint8_t> jpeg = test::make_jpeg(64, 48, subsampling);
    try {
      decoder.decode(mjpeg_view(jpeg));
      ADD_FAILURE() << name << " decoded";
    } catch (const EncodeError& error) {
      EXPECT_NE(std::string(error.what()).find(name), std::string::npos) << error.what();
    }
  }
}

TEST(JpegDecoder, SizesChangeFrameToFrame) {
  JpegDecoder decoder;
  for (const auto& [width, height] :
       std::vector<std::pair<int, int>>{{640, 480}, {160, 120}, {1280, 720}, {64, 64}}) {
    const YuvSource source = make_source(width, height, TJSAMP_422);
    expect_close(source, decoder.decode(mjpeg_view(source.jpeg)));
  }
}

}  // namespace
}  // namespace camstream
