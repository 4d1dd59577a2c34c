// Raw frames as sources deliver them: plain views, no camera types.
#pragma once

#include <array>
#include <chrono>
#include <cstddef>
#include <cstdint>

namespace camstream {

enum class PixelFormat {
  I420,   // three planes: Y, U, V (U and V at half width and height)
  NV12,   // two planes: Y, interleaved UV (at half height)
  YUYV,   // planes[0]: packed 4:2:2, Y0 U Y1 V per two pixels, 2 bytes a pixel, its stride
  UYVY,   // planes[0]: packed 4:2:2, U Y0 V Y1 per two pixels, 2 bytes a pixel, its stride
  MJPEG,  // planes[0].data/size: the camera's JPEG bytes (size = bytes used); no stride
};

// Range of the Y/Cb/Cr samples. Limited: Y 16..235, Cb/Cr 16..240 (Rec709/Rec601 limited,
// as UVC and many ISPs give); the encoder expands it, since JPEG viewers assume full range.
enum class ColorRange { Full, Limited };

struct PlaneView {
  const std::uint8_t* data = nullptr;
  int stride = 0;        // bytes from one row to the next (may exceed the width: padding)
  std::size_t size = 0;  // bytes readable from data
};

// Valid only while the source's frame callback runs: the source reuses the buffer after.
struct FrameView {
  PixelFormat format = PixelFormat::I420;
  int width = 0;
  int height = 0;
  std::array<PlaneView, 3> planes{};  // NV12 uses planes[0] and planes[1]; packed and MJPEG [0]
  ColorRange range = ColorRange::Full;
  std::uint64_t sequence = 0;
  std::chrono::system_clock::time_point timestamp{};  // capture time, CLOCK_REALTIME
};

}  // namespace camstream
