// Scaling with libyuv: I420Scale / NV12Scale, box filter (libyuv uses bilinear when the box
// filter would enlarge).
#include <libyuv/scale.h>

#include <string>

#include "camstream/core/frame.hpp"
#include "camstream/core/frame_scaler.hpp"
#include "camstream/core/transform_error.hpp"

namespace camstream {

namespace {

const std::uint8_t* offset(const PlaneView& plane, int x_bytes, int row) {
  return plane.data + static_cast<std::ptrdiff_t>(row) * plane.stride + x_bytes;
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
  std::uint8_t* const y = scratch_.data();
  const auto& in = frame.planes;
  int result = 0;
  if (frame.format == PixelFormat::I420) {
    std::uint8_t* const u = y + luma_bytes;
    std::uint8_t* const v = u + chroma_bytes / 2;
    out.planes = {PlaneView{y, width, luma_bytes}, PlaneView{u, width / 2, chroma_bytes / 2},
                  PlaneView{v, width / 2, chroma_bytes / 2}};
    result = libyuv::I420Scale(
        offset(in[0], crop.x, crop.y), in[0].stride, offset(in[1], crop.x / 2, crop.y / 2),
        in[1].stride, offset(in[2], crop.x / 2, crop.y / 2), in[2].stride, crop.width, crop.height,
        y, width, u, width / 2, v, width / 2, width, height, libyuv::kFilterBox);
  } else {
    std::uint8_t* const uv = y + luma_bytes;
    out.planes = {PlaneView{y, width, luma_bytes}, PlaneView{uv, width, chroma_bytes}, PlaneView{}};
    result = libyuv::NV12Scale(offset(in[0], crop.x, crop.y), in[0].stride,
                               offset(in[1], crop.x, crop.y / 2), in[1].stride, crop.width,
                               crop.height, y, width, uv, width, width, height, libyuv::kFilterBox);
  }
  if (result != 0) throw TransformError("scaling: libyuv refused the frame");
  return out;
}

}  // namespace camstream
