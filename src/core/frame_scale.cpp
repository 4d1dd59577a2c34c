// Scaling with libyuv: I420Scale / NV12Scale, box filter (libyuv uses bilinear when the box
// filter would enlarge or shrink by less than half), and one ratio of our own: 2/3.
#include <libyuv/planar_functions.h>
#include <libyuv/scale.h>

#include <cstddef>
#include <string>

#include "camstream/core/frame.hpp"
#include "camstream/core/frame_scaler.hpp"
#include "camstream/core/transform_error.hpp"

namespace camstream {

namespace {

const std::uint8_t* offset(const PlaneView& plane, int x_bytes, int row) {
  return plane.data + static_cast<std::ptrdiff_t>(row) * plane.stride + x_bytes;
}

// Three samples to two along a row, with the taps libyuv's bilinear filter has at this ratio
// (a quarter and three quarters of the way), rounded as it rounds, so that the picture is the
// one libyuv makes, byte for byte. `Step`: bytes from one sample to the next of its channel
// (NV12's UV plane interleaves two).
template <int Step>
[[gnu::always_inline]] inline void two_thirds_loop(const std::uint8_t* in, std::uint8_t* out,
                                                   int groups) {
  // libyuv weighs out of 128: a plane's taps 96:32 and 32:96, rounded; NV12's UV taps
  // (127 - f):f for f = 32 and 96, that is 95:32 and 31:96, truncated.
  constexpr int kFirst0 = Step == 1 ? 96 : 95;
  constexpr int kFirst1 = 32;
  constexpr int kSecond1 = Step == 1 ? 32 : 31;
  constexpr int kSecond2 = 96;
  constexpr int kRound = Step == 1 ? 64 : 0;
  constexpr std::ptrdiff_t kStep = Step;
  for (std::ptrdiff_t group = 0; group < groups; ++group) {
    for (std::ptrdiff_t channel = 0; channel < kStep; ++channel) {
      const std::uint8_t* const from = in + 3 * kStep * group + channel;
      std::uint8_t* const to = out + 2 * kStep * group + channel;
      to[0] = static_cast<std::uint8_t>((kFirst0 * from[0] + kFirst1 * from[kStep] + kRound) >> 7);
      to[kStep] = static_cast<std::uint8_t>(
          (kSecond1 * from[kStep] + kSecond2 * from[2 * kStep] + kRound) >> 7);
    }
  }
}

// libyuv's general column filter (ScaleFilterCols) took 1.2 ms of a 1080p -> 720p frame
// (docs/performance.md, "Three outputs"); the loop above vectorizes. GCC's -O2 cost model
// ("very cheap") leaves its byte shuffles scalar, so these functions ask for the full one; and
// on x86 an AVX2 build of it is chosen at run time, several times faster than SSE2's (plain
// dispatch, not target_clones: an ifunc resolver runs before ThreadSanitizer is set up and
// crashed every TSan test program).
#if defined(__GNUC__) && !defined(__clang__)
#define CAMSTREAM_FULL_VECTORIZER __attribute__((optimize("vect-cost-model=dynamic")))
#else
#define CAMSTREAM_FULL_VECTORIZER
#endif

template <int Step>
CAMSTREAM_FULL_VECTORIZER void two_thirds_row_baseline(const std::uint8_t* in, std::uint8_t* out,
                                                       int groups) {
  two_thirds_loop<Step>(in, out, groups);
}

#if defined(__x86_64__) && defined(__GNUC__) && !defined(__clang__)
template <int Step>
__attribute__((target("avx2"))) CAMSTREAM_FULL_VECTORIZER void two_thirds_row_avx2(
    const std::uint8_t* in, std::uint8_t* out, int groups) {
  two_thirds_loop<Step>(in, out, groups);
}
#endif

template <int Step>
void two_thirds_row(const std::uint8_t* in, std::uint8_t* out, int groups) {
#if defined(__x86_64__) && defined(__GNUC__) && !defined(__clang__)
  static const bool avx2 = __builtin_cpu_supports("avx2") != 0;
  if (avx2) return two_thirds_row_avx2<Step>(in, out, groups);
#endif
  two_thirds_row_baseline<Step>(in, out, groups);
}

// A plane scaled by 2/3 in both directions: rows 3k, 3k+1, 3k+2 give rows 2k (3:1) and 2k+1
// (1:3), blended by libyuv's row interpolation, then each shrunk by two_thirds_row.
// `out_width`: samples of one channel, even; `out_height` even.
template <int Step>
void two_thirds_plane(const PlaneView& in, const std::uint8_t* first, std::uint8_t* out,
                      int out_stride, int out_width, int out_height,
                      std::vector<std::uint8_t>& rows) {
  const int in_bytes = out_width / 2 * 3 * Step;
  rows.resize(2 * static_cast<std::size_t>(in_bytes));
  std::uint8_t* const upper = rows.data();
  std::uint8_t* const lower = upper + in_bytes;
  for (int pair = 0; pair < out_height / 2; ++pair) {
    const std::uint8_t* const row0 = first + static_cast<std::ptrdiff_t>(3 * pair) * in.stride;
    const std::uint8_t* const row1 = row0 + in.stride;
    const std::uint8_t* const row2 = row1 + in.stride;
    // InterpolatePlane's fraction is out of 256: 64 is a quarter of the way to the second row.
    libyuv::InterpolatePlane(row0, in.stride, row1, in.stride, upper, in_bytes, in_bytes, 1, 64);
    libyuv::InterpolatePlane(row1, in.stride, row2, in.stride, lower, in_bytes, in_bytes, 1, 192);
    std::uint8_t* const to = out + static_cast<std::ptrdiff_t>(2 * pair) * out_stride;
    two_thirds_row<Step>(upper, to, out_width / 2);
    two_thirds_row<Step>(lower, to + out_stride, out_width / 2);
  }
}

// 1920x1080 -> 1280x720 (and 960x540 -> 640x360): the most common camera and output sizes.
// Sizes a multiple of 4, so that the chroma planes are 2/3 of theirs in whole pairs too.
bool is_two_thirds(const CropRect& crop, int width, int height) {
  return crop.width * 2 == width * 3 && crop.height * 2 == height * 3 && width % 4 == 0 &&
         height % 4 == 0;
}

}  // namespace

FrameView FrameScaler::scale(const FrameView& frame, int width, int height) {
  return scale(frame, CropRect{0, 0, frame.width, frame.height}, width, height);
}

FrameView FrameScaler::scale(const FrameView& frame, const CropRect& crop, int width, int height) {
  check_planar_frame(frame, "scaling");
  if (width <= 0 || height <= 0 || width % 2 != 0 || height % 2 != 0) {
    throw TransformError("scaling: target size " + std::to_string(width) + "x" +
                         std::to_string(height) + " is not positive and even");
  }
  const bool crop_even =
      crop.x % 2 == 0 && crop.y % 2 == 0 && crop.width % 2 == 0 && crop.height % 2 == 0;
  if (!crop_even || crop.x < 0 || crop.y < 0 || crop.width <= 0 || crop.height <= 0 ||
      std::int64_t{crop.x} + crop.width > frame.width ||
      std::int64_t{crop.y} + crop.height > frame.height) {
    throw TransformError("scaling: crop " + std::to_string(crop.width) + "x" +
                         std::to_string(crop.height) + "+" + std::to_string(crop.x) + "+" +
                         std::to_string(crop.y) + " is not an even part of the picture");
  }

  const auto luma_bytes = static_cast<std::size_t>(width) * height;
  const auto chroma_bytes = luma_bytes / 2;  // both chroma planes, or NV12's interleaved one
  if (scratch_.size() < luma_bytes + chroma_bytes) scratch_.resize(luma_bytes + chroma_bytes);

  FrameView out = frame;
  out.width = width;
  out.height = height;
  // The output's planes, one layout whichever scale makes them.
  const bool i420 = frame.format == PixelFormat::I420;
  std::uint8_t* const y = scratch_.data();
  std::uint8_t* const u = y + luma_bytes;        // I420's U, or NV12's interleaved UV
  std::uint8_t* const v = u + chroma_bytes / 2;  // I420's V
  if (i420) {
    out.planes = {PlaneView{y, width, luma_bytes}, PlaneView{u, width / 2, chroma_bytes / 2},
                  PlaneView{v, width / 2, chroma_bytes / 2}};
  } else {
    out.planes = {PlaneView{y, width, luma_bytes}, PlaneView{u, width, chroma_bytes}, PlaneView{}};
  }
  const auto& in = frame.planes;
  const std::uint8_t* const in_y = offset(in[0], crop.x, crop.y);
  const bool two_thirds = is_two_thirds(crop, width, height);
  int result = 0;
  if (i420) {
    const std::uint8_t* const in_u = offset(in[1], crop.x / 2, crop.y / 2);
    const std::uint8_t* const in_v = offset(in[2], crop.x / 2, crop.y / 2);
    if (two_thirds) {
      two_thirds_plane<1>(in[0], in_y, y, width, width, height, rows_);
      two_thirds_plane<1>(in[1], in_u, u, width / 2, width / 2, height / 2, rows_);
      two_thirds_plane<1>(in[2], in_v, v, width / 2, width / 2, height / 2, rows_);
    } else {
      result = libyuv::I420Scale(in_y, in[0].stride, in_u, in[1].stride, in_v, in[2].stride,
                                 crop.width, crop.height, y, width, u, width / 2, v, width / 2,
                                 width, height, libyuv::kFilterBox);
    }
  } else {
    const std::uint8_t* const in_uv = offset(in[1], crop.x, crop.y / 2);
    if (two_thirds) {
      two_thirds_plane<1>(in[0], in_y, y, width, width, height, rows_);
      two_thirds_plane<2>(in[1], in_uv, u, width, width / 2, height / 2, rows_);
    } else {
      result = libyuv::NV12Scale(in_y, in[0].stride, in_uv, in[1].stride, crop.width, crop.height,
                                 y, width, u, width, width, height, libyuv::kFilterBox);
    }
  }
  if (result != 0) throw TransformError("scaling: libyuv refused the frame");
  return out;
}

}  // namespace camstream
