// Encode module: JPEG from YUV planes with libjpeg-turbo (TurboJPEG), no RGB step; camera
// MJPEG passed through.
#pragma once

#include <cstddef>
#include <cstdint>
#include <memory>
#include <span>
#include <vector>

#include "camstream/core/frame.hpp"
#include "camstream/encode/encode_error.hpp"

namespace camstream {

class StripedCompressor;

// One TurboJPEG handle, reused for every frame; not thread-safe (one caller at a time).
// With threads > 1, a raw picture of two MCU rows or more is encoded as horizontal stripes
// (kStripesPerThread per thread) on that many threads (started once, joined by the
// destructor), joined into one baseline JPEG with restart markers; its decoded pixels are
// those of the one-thread encode.
class JpegEncoder {
 public:
  explicit JpegEncoder(int quality, int threads = 1);  // 1..100; 1..kMaxEncodeThreads
  static constexpr int kMaxEncodeThreads = 16;
  ~JpegEncoder();
  JpegEncoder(const JpegEncoder&) = delete;
  JpegEncoder& operator=(const JpegEncoder&) = delete;

  // The largest JPEG a frame of this size can give, in any format: size `out` to this once.
  // It is TurboJPEG's bound for 4:2:2 (which covers 4:2:0); a camera MJPEG frame that would
  // not fit once repaired is dropped as corrupt (no real camera comes near it).
  static std::size_t max_jpeg_size(int width, int height);
  // Writes a baseline JPEG of the frame into out (which must hold max_jpeg_size bytes) and
  // returns the number of bytes written:
  // - I420, NV12: 4:2:0; YUYV, UYVY: 4:2:2 (converted to planes with libyuv, no RGB step);
  // - Limited range is expanded to full range (JPEG viewers assume full range);
  // - MJPEG: the camera's JPEG, checked and copied, with the standard Huffman tables
  //   inserted when it has none; a truncated or malformed one throws CorruptFrameError.
  // Throws EncodeError naming what is wrong with the frame or buffer. Reads no byte outside
  // the planes' sizes; rows may be padded.
  // The encoder allocates nothing per frame (its scratch planes grow only with the picture);
  // TurboJPEG itself mallocs about 25 KB of working memory per call (5 blocks at 640x480).
  std::size_t encode(const FrameView& frame, std::span<std::uint8_t> out);
  int quality() const { return quality_; }
  int threads() const;
  void set_quality(int quality);  // 1..100, from the next frame on

 private:
  void* handle_;  // tjhandle
  int quality_;
  std::unique_ptr<StripedCompressor> striped_;  // with threads > 1
  std::size_t compress_planar(const FrameView& frame, std::span<std::uint8_t> out);
  std::uint8_t* scratch(std::size_t bytes);

  std::vector<std::uint8_t> scratch_;  // planar Y, U, V when the frame's planes cannot be used
};

}  // namespace camstream
