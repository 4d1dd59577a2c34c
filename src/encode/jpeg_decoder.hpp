// Camera or relayed MJPEG decoded to YUV planes with TurboJPEG, for the outputs that need
// pixels (a rotation, a size of their own): docs/api.md, "Frames and sources".
#pragma once

#include <cstdint>
#include <memory>
#include <vector>

#include "camstream/core/frame.hpp"

namespace camstream {

// One TurboJPEG decompression handle, reused for every frame; not thread-safe. Its buffers
// grow only with the picture: no allocation per frame once the size is steady.
class JpegDecoder {
 public:
  // The largest picture decoded, as the relay takes (a frame header alone must not size the
  // buffers): 8192 a side, 8192 x 4352 pixels.
  static constexpr int kMaxSide = 8192;
  static constexpr long long kMaxPixels = 8192LL * 4352;

  JpegDecoder();
  JpegDecoder(const JpegDecoder&) = delete;
  JpegDecoder& operator=(const JpegDecoder&) = delete;

  // `frame` (MJPEG: planes[0] holds the JPEG) decoded to I420 in this object's buffer, valid
  // until the next call; an odd width or height loses its last column or row, as an odd
  // camera size does. 4:2:0 is decoded straight into the I420 planes; 4:2:2 and 4:4:4 are
  // decoded at their own subsampling and then halved (libyuv); grey gets neutral chroma.
  // The range is full (a JPEG's) and the sequence and timestamp are kept.
  // Throws CorruptFrameError for bytes that are no complete JPEG (no SOI or EOI, a broken
  // header or scan), EncodeError for a JPEG camstream does not take (larger than kMaxSide or
  // kMaxPixels, 4:4:0 or 4:1:1 subsampling, RGB or CMYK colour, smaller than 2x2).
  FrameView decode(const FrameView& frame);

 private:
  // Throws CorruptFrameError with TurboJPEG's message after `what`; the handle is renewed.
  [[noreturn]] void fail(const char* what);

  struct HandleDeleter {
    void operator()(void* handle) const noexcept;
  };
  std::unique_ptr<void, HandleDeleter> handle_;  // tjhandle
  std::vector<std::uint8_t> decoded_;            // planes at the JPEG's own subsampling
  std::vector<std::uint8_t> i420_;               // when that is not 4:2:0
};

}  // namespace camstream
