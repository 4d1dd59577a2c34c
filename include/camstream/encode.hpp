// Encode module: JPEG from YUV planes with libjpeg-turbo (TurboJPEG), no RGB step.
#pragma once

#include <cstddef>
#include <cstdint>
#include <memory>
#include <span>
#include <stdexcept>
#include <vector>

#include "camstream/frame.hpp"

namespace camstream {

class EncodeError : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

// One TurboJPEG handle, reused for every frame; not thread-safe (one per encoding thread).
class JpegEncoder {
 public:
  explicit JpegEncoder(int quality);  // 1..100
  ~JpegEncoder();
  JpegEncoder(const JpegEncoder&) = delete;
  JpegEncoder& operator=(const JpegEncoder&) = delete;

  // The largest JPEG a frame of this size can give: size `out` to this once.
  static std::size_t max_jpeg_size(int width, int height);
  // Encodes a baseline 4:2:0 JPEG into out (which must hold max_jpeg_size bytes).
  // Returns the number of bytes written. Throws EncodeError naming what is wrong with the
  // frame or buffer. Reads no byte outside the planes' sizes; rows may be padded.
  // The encoder allocates nothing per frame (NV12's scratch grows only with the picture);
  // TurboJPEG itself mallocs about 25 KB of working memory per call (5 blocks at 640x480).
  std::size_t encode(const FrameView& frame, std::span<std::uint8_t> out);
  int quality() const { return quality_; }

 private:
  void* handle_;  // tjhandle
  int quality_;
  std::vector<std::uint8_t> chroma_scratch_;  // NV12 de-interleave
};

}  // namespace camstream
