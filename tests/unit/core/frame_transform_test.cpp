#include <gtest/gtest.h>

#include <cstdint>
#include <string>
#include <vector>

#include "camstream/core/frame.hpp"
#include "camstream/core/frame_transformer.hpp"
#include "camstream/core/orientation.hpp"
#include "camstream/core/transform_error.hpp"

namespace camstream {
namespace {

// A plane as a plain grid, for the reference and the comparisons.
struct Grid {
  int width = 0;
  int height = 0;
  std::vector<std::uint8_t> cells;
  std::uint8_t at(int x, int y) const { return cells[static_cast<std::size_t>(y * width + x)]; }
  std::uint8_t& at(int x, int y) { return cells[static_cast<std::size_t>(y * width + x)]; }
  friend bool operator==(const Grid&, const Grid&) = default;
};

// The reference, one obvious step at a time: mirror, flip, then quarter turns clockwise.
Grid mirrored(const Grid& in) {
  Grid out = in;
  for (int y = 0; y < in.height; ++y) {
    for (int x = 0; x < in.width; ++x) out.at(x, y) = in.at(in.width - 1 - x, y);
  }
  return out;
}

Grid flipped(const Grid& in) {
  Grid out = in;
  for (int y = 0; y < in.height; ++y) {
    for (int x = 0; x < in.width; ++x) out.at(x, y) = in.at(x, in.height - 1 - y);
  }
  return out;
}

Grid turned_clockwise(const Grid& in) {
  Grid out{in.height, in.width, std::vector<std::uint8_t>(in.cells.size())};
  // The input's top-left corner goes to the output's top-right corner.
  for (int y = 0; y < out.height; ++y) {
    for (int x = 0; x < out.width; ++x) out.at(x, y) = in.at(y, in.height - 1 - x);
  }
  return out;
}

Grid reference(Grid grid, Orientation orientation) {
  if (orientation.hflip) grid = mirrored(grid);
  if (orientation.vflip) grid = flipped(grid);
  for (int turn = 0; turn < orientation.rotation / 90; ++turn) grid = turned_clockwise(grid);
  return grid;
}

// Every sample different, so any misplaced one shows.
Grid numbered(int width, int height, int first) {
  Grid grid{width, height, std::vector<std::uint8_t>(static_cast<std::size_t>(width * height))};
  for (std::size_t i = 0; i < grid.cells.size(); ++i) {
    grid.cells[i] = static_cast<std::uint8_t>(first + static_cast<int>(i));
  }
  return grid;
}

// An I420 or NV12 frame with padded rows (odd strides), built from three grids.
struct TestFrame {
  std::vector<std::uint8_t> y, u, v;  // NV12: u holds the interleaved plane, v unused
  FrameView view;
};

TestFrame make_frame(PixelFormat format, const Grid& y, const Grid& u, const Grid& v) {
  constexpr int kPadding = 3;  // strides are odd: width + 3
  TestFrame frame;
  const int y_stride = y.width + kPadding;
  frame.y.assign(static_cast<std::size_t>(y_stride * y.height), 0xEE);
  for (int row = 0; row < y.height; ++row) {
    for (int x = 0; x < y.width; ++x)
      frame.y[static_cast<std::size_t>(row * y_stride + x)] = y.at(x, row);
  }
  frame.view.format = format;
  frame.view.width = y.width;
  frame.view.height = y.height;
  frame.view.sequence = 42;
  frame.view.planes[0] = {frame.y.data(), y_stride, frame.y.size()};
  if (format == PixelFormat::I420) {
    const int stride = u.width + kPadding;
    frame.u.assign(static_cast<std::size_t>(stride * u.height), 0xEE);
    frame.v.assign(static_cast<std::size_t>(stride * v.height), 0xEE);
    for (int row = 0; row < u.height; ++row) {
      for (int x = 0; x < u.width; ++x) {
        frame.u[static_cast<std::size_t>(row * stride + x)] = u.at(x, row);
        frame.v[static_cast<std::size_t>(row * stride + x)] = v.at(x, row);
      }
    }
    frame.view.planes[1] = {frame.u.data(), stride, frame.u.size()};
    frame.view.planes[2] = {frame.v.data(), stride, frame.v.size()};
  } else {
    const int stride = 2 * u.width + kPadding;
    frame.u.assign(static_cast<std::size_t>(stride * u.height), 0xEE);
    for (int row = 0; row < u.height; ++row) {
      for (int x = 0; x < u.width; ++x) {
        frame.u[static_cast<std::size_t>(row * stride + 2 * x)] = u.at(x, row);
        frame.u[static_cast<std::size_t>(row * stride + 2 * x + 1)] = v.at(x, row);
      }
    }
    frame.view.planes[1] = {frame.u.data(), stride, frame.u.size()};
  }
  return frame;
}

Grid read_plane(const PlaneView& plane, int width, int height) {
  Grid grid{width, height, std::vector<std::uint8_t>(static_cast<std::size_t>(width * height))};
  for (int y = 0; y < height; ++y) {
    for (int x = 0; x < width; ++x) grid.at(x, y) = plane.data[y * plane.stride + x];
  }
  return grid;
}

std::vector<Orientation> every_orientation() {
  std::vector<Orientation> all;
  for (int rotation : {0, 90, 180, 270}) {
    for (bool hflip : {false, true}) {
      for (bool vflip : {false, true}) all.push_back({rotation, hflip, vflip});
    }
  }
  return all;
}

class EveryFormat : public ::testing::TestWithParam<PixelFormat> {};

TEST_P(EveryFormat, EveryOrientationPutsEverySampleWhereTheReferenceDoes) {
  // 12x8: not square, so a swapped width and height show; 6x4 chroma.
  const Grid y = numbered(12, 8, 0);
  const Grid u = numbered(6, 4, 100);
  const Grid v = numbered(6, 4, 150);
  const TestFrame frame = make_frame(GetParam(), y, u, v);
  FrameTransformer transformer;
  for (const Orientation orientation : every_orientation()) {
    SCOPED_TRACE(describe(orientation));
    const FrameView out = transformer.apply(frame.view, orientation);
    const Grid expected_y = reference(y, orientation);
    ASSERT_EQ(out.width, expected_y.width);
    ASSERT_EQ(out.height, expected_y.height);
    EXPECT_EQ(out.sequence, 42U);
    if (is_identity(orientation)) {
      EXPECT_EQ(out.planes[0].data, frame.view.planes[0].data) << "the identity copies nothing";
      continue;
    }
    ASSERT_EQ(out.format, PixelFormat::I420);
    EXPECT_EQ(read_plane(out.planes[0], out.width, out.height), expected_y);
    EXPECT_EQ(read_plane(out.planes[1], out.width / 2, out.height / 2), reference(u, orientation));
    EXPECT_EQ(read_plane(out.planes[2], out.width / 2, out.height / 2), reference(v, orientation));
  }
}

INSTANTIATE_TEST_SUITE_P(Transform, EveryFormat,
                         ::testing::Values(PixelFormat::I420, PixelFormat::NV12),
                         [](const auto& info) {
                           return info.param == PixelFormat::I420 ? std::string("I420")
                                                                  : std::string("NV12");
                         });

// USB webcams' packed 4:2:2, both byte orders: unpacked to I420, then turned.
TEST(FrameTransformer, PackedFramesAreTurnedLikePlanarOnes) {
  const Grid y = numbered(12, 8, 0);
  const Grid u = numbered(6, 4, 100);
  const Grid v = numbered(6, 4, 150);
  constexpr int kStride = 2 * 12 + 3;
  for (const PixelFormat format : {PixelFormat::YUYV, PixelFormat::UYVY}) {
    // Both rows of a chroma pair carry the same U and V, so 4:2:0 keeps them exactly.
    std::vector<std::uint8_t> packed(static_cast<std::size_t>(kStride * 8), 0xEE);
    for (int row = 0; row < 8; ++row) {
      for (int pair = 0; pair < 6; ++pair) {
        std::uint8_t* p = packed.data() + row * kStride + 4 * pair;
        const std::uint8_t y0 = y.at(2 * pair, row), y1 = y.at(2 * pair + 1, row);
        const std::uint8_t cu = u.at(pair, row / 2), cv = v.at(pair, row / 2);
        if (format == PixelFormat::YUYV) {
          p[0] = y0, p[1] = cu, p[2] = y1, p[3] = cv;
        } else {
          p[0] = cu, p[1] = y0, p[2] = cv, p[3] = y1;
        }
      }
    }
    FrameView frame;
    frame.format = format;
    frame.width = 12;
    frame.height = 8;
    frame.range = ColorRange::Limited;
    frame.planes[0] = {packed.data(), kStride, packed.size()};
    FrameTransformer transformer;
    EXPECT_EQ(transformer.apply(frame, {}).format, format) << "the identity leaves it packed";
    for (const Orientation orientation : every_orientation()) {
      if (is_identity(orientation)) continue;
      SCOPED_TRACE(describe(orientation));
      const FrameView out = transformer.apply(frame, orientation);
      ASSERT_EQ(out.format, PixelFormat::I420);
      EXPECT_EQ(out.range, ColorRange::Limited);
      EXPECT_EQ(read_plane(out.planes[0], out.width, out.height), reference(y, orientation));
      EXPECT_EQ(read_plane(out.planes[1], out.width / 2, out.height / 2),
                reference(u, orientation));
      EXPECT_EQ(read_plane(out.planes[2], out.width / 2, out.height / 2),
                reference(v, orientation));
    }
    frame.planes[0].size = static_cast<std::size_t>(kStride * 7 + 23);
    EXPECT_THROW(transformer.apply(frame, {90, false, false}), TransformError);
  }
}

TEST(FrameTransformer, MjpegCannotBeTurned) {
  const std::vector<std::uint8_t> jpeg{0xFF, 0xD8, 0xFF, 0xD9};
  FrameView frame;
  frame.format = PixelFormat::MJPEG;
  frame.width = 640;
  frame.height = 480;
  frame.planes[0] = {jpeg.data(), 0, jpeg.size()};
  FrameTransformer transformer;
  EXPECT_EQ(transformer.apply(frame, {}).planes[0].data, jpeg.data());
  try {
    transformer.apply(frame, {0, true, false});
    ADD_FAILURE() << "an MJPEG frame was turned";
  } catch (const TransformError& error) {
    EXPECT_NE(std::string(error.what()).find("MJPEG"), std::string::npos) << error.what();
  }
}

// The same, said plainly for one marker in the top-left corner of a 640x480 picture.
TEST(FrameTransformer, CornerMarkerLandsInTheExpectedCorner) {
  constexpr int kWidth = 640, kHeight = 480;
  Grid y{kWidth, kHeight, std::vector<std::uint8_t>(kWidth * kHeight, 16)};
  for (int row = 0; row < 8; ++row) {
    for (int x = 0; x < 8; ++x) y.at(x, row) = 235;
  }
  const Grid chroma{kWidth / 2, kHeight / 2, std::vector<std::uint8_t>(kWidth * kHeight / 4, 128)};
  const TestFrame frame = make_frame(PixelFormat::I420, y, chroma, chroma);
  FrameTransformer transformer;
  struct Case {
    Orientation orientation;
    bool right;
    bool bottom;
  };
  const Case cases[] = {
      {{90, false, false}, true, false},  {{180, false, false}, true, true},
      {{270, false, false}, false, true}, {{0, true, false}, true, false},
      {{0, false, true}, false, true},    {{90, true, false}, true, true},
  };
  for (const Case& c : cases) {
    SCOPED_TRACE(describe(c.orientation));
    const FrameView out = transformer.apply(frame.view, c.orientation);
    const Grid picture = read_plane(out.planes[0], out.width, out.height);
    const int x = c.right ? out.width - 1 : 0;
    const int row = c.bottom ? out.height - 1 : 0;
    EXPECT_EQ(picture.at(x, row), 235);
    EXPECT_EQ(picture.at(out.width - 1 - x, out.height - 1 - row), 16);
    EXPECT_EQ(picture.at(c.right ? 0 : out.width - 1, row), 16);
  }
}

TEST(FrameTransformer, BufferGrowsOnlyWithThePicture) {
  const Grid big_y = numbered(64, 48, 0);
  const Grid big_c = numbered(32, 24, 0);
  const Grid small_y = numbered(16, 8, 0);
  const Grid small_c = numbered(8, 4, 0);
  const TestFrame big = make_frame(PixelFormat::I420, big_y, big_c, big_c);
  const TestFrame small = make_frame(PixelFormat::NV12, small_y, small_c, small_c);
  FrameTransformer transformer;
  const std::uint8_t* first = transformer.apply(big.view, {90, false, false}).planes[0].data;
  EXPECT_EQ(transformer.apply(big.view, {270, true, false}).planes[0].data, first);
  EXPECT_EQ(transformer.apply(small.view, {180, false, false}).planes[0].data, first);
  EXPECT_EQ(transformer.apply(big.view, {0, false, true}).planes[0].data, first);
}

TEST(FrameTransformer, RefusesWhatItCannotTurnNamingTheProblem) {
  const Grid y = numbered(12, 8, 0);
  const Grid c = numbered(6, 4, 0);
  TestFrame frame = make_frame(PixelFormat::I420, y, c, c);
  FrameTransformer transformer;
  const auto message_of = [&](const FrameView& view, Orientation orientation) -> std::string {
    try {
      transformer.apply(view, orientation);
    } catch (const TransformError& error) {
      return error.what();
    }
    return "accepted";
  };
  EXPECT_EQ(message_of(frame.view, {45, false, false}), "rotation 45 is not 0, 90, 180 or 270");

  FrameView short_plane = frame.view;
  // V at 6x4 with stride 9 needs 9 * 3 + 6 bytes: the last row's padding is not needed.
  ASSERT_EQ(short_plane.planes[2].stride, 9);
  short_plane.planes[2].size = 9 * 3 + 6;
  EXPECT_EQ(message_of(short_plane, {90, false, false}), "accepted");
  short_plane.planes[2].size = 9 * 3 + 5;
  EXPECT_EQ(message_of(short_plane, {90, false, false}), "rotation: planes too small for 12x8");

  FrameView odd = frame.view;
  odd.width = 11;
  EXPECT_EQ(message_of(odd, {180, false, false}),
            "rotation: picture size 11x8 is not positive and even");

  FrameView missing = frame.view;
  missing.planes[1].data = nullptr;
  EXPECT_EQ(message_of(missing, {0, true, false}), "rotation: planes too small for 12x8");

  FrameView narrow_stride = frame.view;
  narrow_stride.planes[0].stride = 11;
  EXPECT_EQ(message_of(narrow_stride, {0, false, true}), "rotation: planes too small for 12x8");
}

}  // namespace
}  // namespace camstream
