// JPEG encoding straight from YUV planes with TurboJPEG: no RGB step, no copy for full-range
// I420; camera MJPEG passed through (mjpeg_repair).
#include "camstream/encode/jpeg_encoder.hpp"

#include <libyuv/planar_functions.h>
#include <turbojpeg.h>

#include <string>

#include "camstream/encode/encode_error.hpp"
#include "mjpeg_repair.hpp"
#include "range_expansion.hpp"
#include "striped_jpeg.hpp"

namespace camstream {

namespace {

// NOREALLOC: write into the caller's buffer, sized once to tjBufSize.
// The DCT is left at TurboJPEG's compression default, the fast integer DCT below quality 96
// (TJFLAG_FASTDCT only changes decompression). Measured against TJFLAG_ACCURATEDCT at
// quality 80 on the test pattern and a textured picture, 640x480 to 1920x1080: at most
// 0.2 dB less luma PSNR and 0-1% larger files, invisible; the speed difference was within
// +-10% either way (x86 has an AVX2 accurate DCT, the Pi's NEON favours the fast one).
constexpr int kFlags = TJFLAG_NOREALLOC;

std::string size_text(int width, int height) {
  return std::to_string(width) + "x" + std::to_string(height);
}

// The bytes a plane of `rows` rows of `row_bytes` must span; the last row need not be padded.
std::size_t plane_extent(int stride, int rows, int row_bytes) {
  return static_cast<std::size_t>(stride) * static_cast<std::size_t>(rows - 1) +
         static_cast<std::size_t>(row_bytes);
}

void check_plane(const PlaneView& plane, const char* name, int row_bytes, int rows) {
  const std::string what = std::string("plane ") + name;
  if (plane.data == nullptr) throw EncodeError(what + " is missing");
  if (plane.stride < row_bytes) {
    throw EncodeError(what + " stride " + std::to_string(plane.stride) + " is less than its " +
                      std::to_string(row_bytes) + " bytes per row");
  }
  const std::size_t needed = plane_extent(plane.stride, rows, row_bytes);
  if (plane.size < needed) {
    throw EncodeError(what + " holds " + std::to_string(plane.size) + " bytes, " +
                      std::to_string(rows) + " rows at stride " + std::to_string(plane.stride) +
                      " need " + std::to_string(needed));
  }
}

void check_size(const FrameView& frame) {
  if (frame.width <= 0 || frame.height <= 0 || frame.width % 2 != 0 || frame.height % 2 != 0) {
    throw EncodeError("frame size " + size_text(frame.width, frame.height) +
                      " is not positive and even");
  }
}

void check_planes(const FrameView& frame) {
  const int chroma_width = frame.width / 2;
  const int chroma_height = frame.height / 2;
  switch (frame.format) {
    case PixelFormat::I420:
      check_plane(frame.planes[0], "Y", frame.width, frame.height);
      check_plane(frame.planes[1], "U", chroma_width, chroma_height);
      check_plane(frame.planes[2], "V", chroma_width, chroma_height);
      return;
    case PixelFormat::NV12:
      check_plane(frame.planes[0], "Y", frame.width, frame.height);
      check_plane(frame.planes[1], "UV", 2 * chroma_width, chroma_height);
      return;
    case PixelFormat::YUYV:
    case PixelFormat::UYVY:
      check_plane(frame.planes[0], "packed 4:2:2", 2 * frame.width, frame.height);
      return;
    case PixelFormat::MJPEG:
      return;  // checked by repair_mjpeg
  }
  throw EncodeError("unknown pixel format " + std::to_string(static_cast<int>(frame.format)));
}

// The camera's JPEG, checked and copied; the size must match the frame's, since viewers and
// the status report are told the frame's size.
std::size_t pass_through(const FrameView& frame, std::span<std::uint8_t> out) {
  const PlaneView& jpeg = frame.planes[0];
  if (jpeg.data == nullptr) throw CorruptFrameError("MJPEG frame has no data");
  const MjpegRepair repaired = repair_mjpeg({jpeg.data, jpeg.size}, out);
  if (repaired.status != MjpegStatus::ok) {
    throw CorruptFrameError("MJPEG frame of " + std::to_string(jpeg.size) +
                            " bytes: " + std::string(to_string(repaired.status)));
  }
  if (repaired.width != frame.width || repaired.height != frame.height) {
    throw CorruptFrameError("MJPEG frame is " + size_text(repaired.width, repaired.height) +
                            ", not the " + size_text(frame.width, frame.height) +
                            " the camera announced");
  }
  return repaired.size;
}

}  // namespace

JpegEncoder::JpegEncoder(int quality, int threads) : handle_(nullptr), quality_(quality) {
  if (quality < 1 || quality > 100) {
    throw EncodeError("JPEG quality must be 1..100, not " + std::to_string(quality));
  }
  if (threads < 1 || threads > kMaxEncodeThreads) {
    throw EncodeError("encode threads must be 1.." + std::to_string(kMaxEncodeThreads) + ", not " +
                      std::to_string(threads));
  }
  if (threads > 1) striped_ = std::make_unique<StripedCompressor>(threads);
  handle_ = tjInitCompress();
  if (handle_ == nullptr) {
    throw EncodeError(std::string("cannot create a TurboJPEG compressor: ") +
                      tjGetErrorStr2(nullptr));
  }
}

JpegEncoder::~JpegEncoder() {
  tjDestroy(handle_);
}

int JpegEncoder::threads() const {
  return striped_ ? striped_->threads() : 1;
}

void JpegEncoder::set_quality(int quality) {
  if (quality < 1 || quality > 100) {
    throw EncodeError("JPEG quality must be 1..100, not " + std::to_string(quality));
  }
  quality_ = quality;
}

std::size_t JpegEncoder::max_jpeg_size(int width, int height) {
  const unsigned long size = tjBufSize(width, height, TJSAMP_422);
  if (size == static_cast<unsigned long>(-1)) {
    throw EncodeError("no JPEG size bound for " + size_text(width, height));
  }
  return static_cast<std::size_t>(size);
}

std::size_t JpegEncoder::encode(const FrameView& frame, std::span<std::uint8_t> out) {
  check_size(frame);
  check_planes(frame);
  // TurboJPEG writes up to this bound without checking the caller's size (NOREALLOC).
  const std::size_t bound = max_jpeg_size(frame.width, frame.height);
  if (out.size() < bound) {
    throw EncodeError("output buffer of " + std::to_string(out.size()) + " bytes is below the " +
                      std::to_string(bound) + " a " + size_text(frame.width, frame.height) +
                      " JPEG may need");
  }
  if (frame.format == PixelFormat::MJPEG) return pass_through(frame, out.first(bound));
  return compress_planar(frame, out);
}

std::uint8_t* JpegEncoder::scratch(std::size_t bytes) {
  if (scratch_.size() < bytes) scratch_.resize(bytes);
  return scratch_.data();
}

// Brings every format to three planes TurboJPEG takes, in the scratch when the frame's own
// planes cannot serve (interleaved, packed or limited range), then compresses them.
std::size_t JpegEncoder::compress_planar(const FrameView& frame, std::span<std::uint8_t> out) {
  const int width = frame.width;
  const int height = frame.height;
  const bool packed = frame.format == PixelFormat::YUYV || frame.format == PixelFormat::UYVY;
  const bool limited = frame.range == ColorRange::Limited;
  const int chroma_width = width / 2;
  const int chroma_height = packed ? height : height / 2;
  const int subsampling = packed ? TJSAMP_422 : TJSAMP_420;

  const unsigned char* planes[3] = {frame.planes[0].data, frame.planes[1].data,
                                    frame.planes[2].data};
  int strides[3] = {frame.planes[0].stride, frame.planes[1].stride, frame.planes[2].stride};

  const bool own_luma = packed || limited;
  const bool own_chroma = own_luma || frame.format == PixelFormat::NV12;
  if (own_chroma) {
    const std::size_t luma_size = own_luma ? static_cast<std::size_t>(width) * height : 0;
    const std::size_t chroma_size = static_cast<std::size_t>(chroma_width) * chroma_height;
    std::uint8_t* y_plane = scratch(luma_size + 2 * chroma_size);
    std::uint8_t* u_plane = y_plane + luma_size;
    std::uint8_t* v_plane = u_plane + chroma_size;
    const PlaneView& source = frame.planes[0];
    switch (frame.format) {
      case PixelFormat::YUYV:
        libyuv::YUY2ToI422(source.data, source.stride, y_plane, width, u_plane, chroma_width,
                           v_plane, chroma_width, width, height);
        break;
      case PixelFormat::UYVY:
        libyuv::UYVYToI422(source.data, source.stride, y_plane, width, u_plane, chroma_width,
                           v_plane, chroma_width, width, height);
        break;
      case PixelFormat::NV12:
        libyuv::SplitUVPlane(frame.planes[1].data, frame.planes[1].stride, u_plane, chroma_width,
                             v_plane, chroma_width, chroma_width, chroma_height);
        break;
      case PixelFormat::I420:
      case PixelFormat::MJPEG:
        break;
    }
    if (limited) {
      const auto& luma = limited_to_full_luma();
      const auto& chroma = limited_to_full_chroma();
      if (packed) {
        remap_plane(y_plane, width, y_plane, width, width, height, luma);
      } else {
        remap_plane(source.data, source.stride, y_plane, width, width, height, luma);
      }
      if (frame.format == PixelFormat::I420) {
        remap_plane(frame.planes[1].data, frame.planes[1].stride, u_plane, chroma_width,
                    chroma_width, chroma_height, chroma);
        remap_plane(frame.planes[2].data, frame.planes[2].stride, v_plane, chroma_width,
                    chroma_width, chroma_height, chroma);
      } else {
        remap_plane(u_plane, chroma_width, u_plane, chroma_width, chroma_width, chroma_height,
                    chroma);
        remap_plane(v_plane, chroma_width, v_plane, chroma_width, chroma_width, chroma_height,
                    chroma);
      }
    }
    if (own_luma) {
      planes[0] = y_plane;
      strides[0] = width;
    }
    planes[1] = u_plane;
    planes[2] = v_plane;
    strides[1] = strides[2] = chroma_width;
  }

  // Stripes need two MCU rows at least; below that the one-thread encode is the same picture.
  const int mcu_height = packed ? 8 : 16;
  if (striped_ && height > mcu_height) {
    PlanarPicture picture;
    for (int i = 0; i < 3; ++i) {
      picture.planes[i] = planes[i];
      picture.strides[i] = strides[i];
    }
    picture.width = width;
    picture.height = height;
    picture.chroma_422 = packed;
    return striped_->compress(picture, quality_, out);
  }

  unsigned char* jpeg = out.data();
  unsigned long jpeg_size = static_cast<unsigned long>(out.size());
  if (tjCompressFromYUVPlanes(handle_, planes, width, strides, height, subsampling, &jpeg,
                              &jpeg_size, quality_, kFlags) != 0) {
    throw EncodeError(std::string("JPEG compression failed: ") + tjGetErrorStr2(handle_));
  }
  if (jpeg != out.data()) {
    // Cannot happen with TJFLAG_NOREALLOC; guard anyway so `out` is never silently wrong.
    tjFree(jpeg);
    throw EncodeError("TurboJPEG replaced the output buffer");
  }
  return static_cast<std::size_t>(jpeg_size);
}

}  // namespace camstream
