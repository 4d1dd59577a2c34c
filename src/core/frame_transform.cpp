// Rotation and flips with libyuv: every orientation is one libyuv call, a rotation of the
// picture read upside down or not (libyuv reads a negative height bottom-up).
#include <libyuv/convert.h>
#include <libyuv/rotate.h>

#include <string>

#include "camstream/core/frame.hpp"
#include "camstream/core/frame_transformer.hpp"
#include "camstream/core/orientation.hpp"
#include "camstream/core/transform_error.hpp"

namespace camstream {

namespace {

std::string size_text(int width, int height) {
  return std::to_string(width) + "x" + std::to_string(height);
}

bool plane_holds(const PlaneView& plane, int row_bytes, int rows) {
  return plane.data != nullptr && plane.stride >= row_bytes &&
         plane.size >= static_cast<std::size_t>(plane.stride) * static_cast<std::size_t>(rows - 1) +
                           static_cast<std::size_t>(row_bytes);
}

// The single libyuv call that does `orientation`: R^k V^v H^h equals R^(k+2h) V^(v xor h),
// since a half turn is both flips; V is a bottom-up read.
struct LibyuvSteps {
  libyuv::RotationMode mode;
  bool read_bottom_up;
};

LibyuvSteps libyuv_steps(Orientation orientation) {
  const int quarters = ((orientation.rotation / 90) + (orientation.hflip ? 2 : 0)) % 4;
  constexpr libyuv::RotationMode kModes[] = {libyuv::kRotate0, libyuv::kRotate90,
                                             libyuv::kRotate180, libyuv::kRotate270};
  return {kModes[quarters], orientation.vflip != orientation.hflip};
}

}  // namespace

void check_planar_frame(const FrameView& frame, const char* what) {
  const auto fail = [&](const std::string& reason) {
    throw TransformError(std::string(what) + ": " + reason);
  };
  if (frame.format != PixelFormat::I420 && frame.format != PixelFormat::NV12) {
    fail("only I420 and NV12 frames can be turned or scaled");
  }
  if (frame.width <= 0 || frame.height <= 0 || frame.width % 2 != 0 || frame.height % 2 != 0) {
    fail("picture size " + size_text(frame.width, frame.height) + " is not positive and even");
  }
  const int chroma_rows = frame.height / 2;
  const bool planes_ok = frame.format == PixelFormat::I420
                             ? plane_holds(frame.planes[0], frame.width, frame.height) &&
                                   plane_holds(frame.planes[1], frame.width / 2, chroma_rows) &&
                                   plane_holds(frame.planes[2], frame.width / 2, chroma_rows)
                             : plane_holds(frame.planes[0], frame.width, frame.height) &&
                                   plane_holds(frame.planes[1], frame.width, chroma_rows);
  if (!planes_ok) fail("planes too small for " + size_text(frame.width, frame.height));
}

FrameView FrameTransformer::unpack(const FrameView& frame) {
  if (frame.width <= 0 || frame.height <= 0 || frame.width % 2 != 0 || frame.height % 2 != 0) {
    throw TransformError("rotation: picture size " + size_text(frame.width, frame.height) +
                         " is not positive and even");
  }
  if (!plane_holds(frame.planes[0], 2 * frame.width, frame.height)) {
    throw TransformError("rotation: planes too small for " + size_text(frame.width, frame.height));
  }
  const auto luma_bytes = static_cast<std::size_t>(frame.width) * frame.height;
  if (unpacked_.size() < luma_bytes * 3 / 2) unpacked_.resize(luma_bytes * 3 / 2);
  FrameView planar = frame;
  planar.format = PixelFormat::I420;
  std::uint8_t* const y = unpacked_.data();
  std::uint8_t* const u = y + luma_bytes;
  std::uint8_t* const v = u + luma_bytes / 4;
  planar.planes = {PlaneView{y, frame.width, luma_bytes},
                   PlaneView{u, frame.width / 2, luma_bytes / 4},
                   PlaneView{v, frame.width / 2, luma_bytes / 4}};
  const auto& in = frame.planes[0];
  const int result =
      frame.format == PixelFormat::YUYV
          ? libyuv::YUY2ToI420(in.data, in.stride, y, frame.width, u, frame.width / 2, v,
                               frame.width / 2, frame.width, frame.height)
          : libyuv::UYVYToI420(in.data, in.stride, y, frame.width, u, frame.width / 2, v,
                               frame.width / 2, frame.width, frame.height);
  if (result != 0) throw TransformError("rotation: libyuv refused the packed frame");
  return planar;
}

FrameView FrameTransformer::apply(const FrameView& frame_in, Orientation orientation) {
  if (!is_valid_rotation(orientation.rotation)) {
    throw TransformError("rotation " + std::to_string(orientation.rotation) +
                         " is not 0, 90, 180 or 270");
  }
  if (is_identity(orientation)) return frame_in;
  if (frame_in.format == PixelFormat::MJPEG) {
    throw TransformError(
        "rotation: an MJPEG frame is turned only once decoded (the encoding stage decodes "
        "it; sources pass JPEGs on unturned)");
  }
  // Packed 4:2:2 (USB webcams) is first unpacked to I420: libyuv turns only planes.
  const bool packed = frame_in.format == PixelFormat::YUYV || frame_in.format == PixelFormat::UYVY;
  const FrameView frame = packed ? unpack(frame_in) : frame_in;
  check_planar_frame(frame, "rotation");

  const bool swap = swaps_size(orientation);
  const int out_width = swap ? frame.height : frame.width;
  const int out_height = swap ? frame.width : frame.height;
  const auto luma_bytes = static_cast<std::size_t>(out_width) * out_height;
  const auto chroma_bytes = luma_bytes / 4;
  if (scratch_.size() < luma_bytes + 2 * chroma_bytes)
    scratch_.resize(luma_bytes + 2 * chroma_bytes);

  FrameView out = frame;  // sequence, timestamp and whatever else describes the samples
  out.format = PixelFormat::I420;
  out.width = out_width;
  out.height = out_height;
  std::uint8_t* const y = scratch_.data();
  std::uint8_t* const u = y + luma_bytes;
  std::uint8_t* const v = u + chroma_bytes;
  out.planes = {PlaneView{y, out_width, luma_bytes}, PlaneView{u, out_width / 2, chroma_bytes},
                PlaneView{v, out_width / 2, chroma_bytes}};

  const LibyuvSteps steps = libyuv_steps(orientation);
  const int height = steps.read_bottom_up ? -frame.height : frame.height;
  const auto& in = frame.planes;
  const int result =
      frame.format == PixelFormat::I420
          ? libyuv::I420Rotate(in[0].data, in[0].stride, in[1].data, in[1].stride, in[2].data,
                               in[2].stride, y, out_width, u, out_width / 2, v, out_width / 2,
                               frame.width, height, steps.mode)
          : libyuv::NV12ToI420Rotate(in[0].data, in[0].stride, in[1].data, in[1].stride, y,
                                     out_width, u, out_width / 2, v, out_width / 2, frame.width,
                                     height, steps.mode);
  if (result != 0) throw TransformError("rotation: libyuv refused the frame");
  return out;
}

}  // namespace camstream
