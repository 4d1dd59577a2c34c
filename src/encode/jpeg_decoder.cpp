// MJPEG to I420 with TurboJPEG: see jpeg_decoder.hpp.
#include "jpeg_decoder.hpp"

#include <libyuv/convert.h>
#include <turbojpeg.h>

#include <algorithm>
#include <array>
#include <string>

#include "camstream/encode/encode_error.hpp"

namespace camstream {

namespace {

std::string size_text(int width, int height) {
  return std::to_string(width) + "x" + std::to_string(height);
}

const char* subsampling_name(int subsampling) {
  switch (subsampling) {
    case TJSAMP_444:
      return "4:4:4";
    case TJSAMP_422:
      return "4:2:2";
    case TJSAMP_420:
      return "4:2:0";
    case TJSAMP_GRAY:
      return "grey";
    case TJSAMP_440:
      return "4:4:0";
    case TJSAMP_411:
      return "4:1:1";
    default:
      return "unknown";
  }
}

// The planes of one picture laid out in one buffer: Y, then U and V (none for grey).
struct PlaneLayout {
  std::array<int, 3> width{};
  std::array<int, 3> height{};
  std::array<std::size_t, 3> offset{};
  std::size_t total = 0;
};

PlaneLayout layout_of(int width, int height, int subsampling, int components) {
  PlaneLayout layout;
  for (int i = 0; i < components; ++i) {
    layout.width[i] = tjPlaneWidth(i, width, subsampling);
    layout.height[i] = tjPlaneHeight(i, height, subsampling);
    layout.offset[i] = layout.total;
    layout.total += static_cast<std::size_t>(layout.width[i]) * layout.height[i];
  }
  return layout;
}

}  // namespace

void JpegDecoder::HandleDeleter::operator()(void* handle) const noexcept {
  tjDestroy(static_cast<tjhandle>(handle));
}

JpegDecoder::JpegDecoder() : handle_(tjInitDecompress()) {
  if (!handle_)
    throw EncodeError(std::string("TurboJPEG decompressor: ") + tjGetErrorStr2(nullptr));
}

void JpegDecoder::fail(const char* what) {
  const std::string message = what + std::string(tjGetErrorStr2(handle_.get()));
  // TurboJPEG 2 leaves a handle whose header read failed part-way through a JPEG (its error
  // exit skips the abort): a fresh handle, so that the next frame starts clean.
  handle_.reset(tjInitDecompress());
  if (!handle_) throw EncodeError("TurboJPEG decompressor: " + message);
  throw CorruptFrameError(message);
}

FrameView JpegDecoder::decode(const FrameView& frame) {
  const PlaneView& jpeg = frame.planes[0];
  // A camera's or an upstream's JPEG is trusted no more than the passthrough trusts it:
  // it must begin with SOI and end with EOI (UVC's zero padding trimmed), so that a frame cut
  // short by a USB transfer or a connection is dropped rather than shown half grey (libjpeg
  // only warns about a premature end).
  std::size_t size = jpeg.data == nullptr ? 0 : jpeg.size;
  while (size > 0 && jpeg.data[size - 1] == 0) --size;
  if (size < 4 || jpeg.data[0] != 0xFF || jpeg.data[1] != 0xD8 || jpeg.data[size - 2] != 0xFF ||
      jpeg.data[size - 1] != 0xD9) {
    throw CorruptFrameError("MJPEG frame of " + std::to_string(jpeg.size) +
                            " bytes is not a whole JPEG (no SOI or EOI)");
  }
  tjhandle handle = handle_.get();
  int width = 0, height = 0, subsampling = -1, colourspace = -1;
  if (tjDecompressHeader3(handle, jpeg.data, static_cast<unsigned long>(size), &width, &height,
                          &subsampling, &colourspace) != 0) {
    fail("MJPEG frame header: ");
  }
  if (width < 1 || height < 1) throw CorruptFrameError("MJPEG frame has no frame header");
  if (width > kMaxSide || height > kMaxSide ||
      static_cast<long long>(width) * height > kMaxPixels) {
    throw EncodeError("MJPEG frame of " + size_text(width, height) + " is larger than " +
                      std::to_string(kMaxSide) + " a side or " + std::to_string(kMaxPixels) +
                      " pixels: not decoded");
  }
  if (width < 2 || height < 2) {
    throw EncodeError("MJPEG frame of " + size_text(width, height) + " is too small to decode");
  }
  if (colourspace != TJCS_YCbCr && colourspace != TJCS_GRAY) {
    throw EncodeError("MJPEG frame is not YCbCr (an RGB or CMYK JPEG): not decoded");
  }
  if (subsampling != TJSAMP_420 && subsampling != TJSAMP_422 && subsampling != TJSAMP_444 &&
      subsampling != TJSAMP_GRAY) {
    throw EncodeError(std::string("MJPEG frame subsampled ") + subsampling_name(subsampling) +
                      ": only 4:2:0, 4:2:2, 4:4:4 and grey are decoded");
  }

  const int components = subsampling == TJSAMP_GRAY ? 1 : 3;
  const PlaneLayout layout = layout_of(width, height, subsampling, components);
  if (decoded_.size() < layout.total) decoded_.resize(layout.total);
  std::array<unsigned char*, 3> planes{};
  std::array<int, 3> strides{};
  for (int i = 0; i < components; ++i) {
    planes[i] = decoded_.data() + layout.offset[i];
    strides[i] = layout.width[i];
  }
  // A warning (stray bytes before a marker, as some cameras send) still decodes the whole
  // picture, as viewers show it; an error leaves no usable picture.
  if (tjDecompressToYUVPlanes(handle, jpeg.data, static_cast<unsigned long>(size), planes.data(),
                              width, strides.data(), height, 0) != 0 &&
      tjGetErrorCode(handle) != TJERR_WARNING) {
    fail("MJPEG frame does not decode: ");
  }

  FrameView out;
  out.format = PixelFormat::I420;
  out.width = width & ~1;
  out.height = height & ~1;
  out.range = ColorRange::Full;
  out.sequence = frame.sequence;
  out.timestamp = frame.timestamp;
  if (subsampling == TJSAMP_420) {
    for (int i = 0; i < 3; ++i) {
      out.planes[i] = {planes[i], strides[i],
                       static_cast<std::size_t>(strides[i]) * layout.height[i]};
    }
    return out;
  }

  // The encoder, the scaler and the transformer take 4:2:0: halve the chroma once here.
  const int chroma_width = out.width / 2;
  const int chroma_height = out.height / 2;
  const std::size_t luma_size = static_cast<std::size_t>(out.width) * out.height;
  const std::size_t chroma_size = static_cast<std::size_t>(chroma_width) * chroma_height;
  if (i420_.size() < luma_size + 2 * chroma_size) i420_.resize(luma_size + 2 * chroma_size);
  std::uint8_t* y = i420_.data();
  std::uint8_t* u = y + luma_size;
  std::uint8_t* v = u + chroma_size;
  int result = 0;
  switch (subsampling) {
    case TJSAMP_422:
      result =
          libyuv::I422ToI420(planes[0], strides[0], planes[1], strides[1], planes[2], strides[2], y,
                             out.width, u, chroma_width, v, chroma_width, out.width, out.height);
      break;
    case TJSAMP_444:
      result =
          libyuv::I444ToI420(planes[0], strides[0], planes[1], strides[1], planes[2], strides[2], y,
                             out.width, u, chroma_width, v, chroma_width, out.width, out.height);
      break;
    default:  // grey
      for (int row = 0; row < out.height; ++row) {
        std::copy_n(planes[0] + static_cast<std::size_t>(row) * strides[0], out.width,
                    y + static_cast<std::size_t>(row) * out.width);
      }
      std::fill_n(u, 2 * chroma_size, std::uint8_t{128});
      break;
  }
  if (result != 0) throw EncodeError("MJPEG frame: libyuv cannot convert its chroma");
  out.planes[0] = {y, out.width, luma_size};
  out.planes[1] = {u, chroma_width, chroma_size};
  out.planes[2] = {v, chroma_width, chroma_size};
  return out;
}

}  // namespace camstream
