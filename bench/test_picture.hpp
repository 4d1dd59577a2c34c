// The picture the encoder benchmarks compress: a copy of the test source's 30th frame (moving
// bars, the box and the text panel), I420.
#pragma once

#include <chrono>
#include <condition_variable>
#include <cstring>
#include <mutex>
#include <stdexcept>

#include "camstream/capture/capture_config.hpp"
#include "camstream/capture/owned_yuv_image.hpp"
#include "camstream/capture/test_source.hpp"

namespace camstream::bench {

inline OwnedYuvImage test_picture(int width, int height) {
  CaptureConfig config;
  config.width = width;
  config.height = height;
  config.interval = std::chrono::microseconds(1000);
  auto source = make_test_source(config);
  OwnedYuvImage picture(width, height);
  std::mutex mutex;
  std::condition_variable copied;
  bool done = false;
  source->start(
      [&](const FrameView& frame) {
        if (frame.sequence != 30) return;
        const YuvImage& out = picture.image();
        for (int row = 0; row < height; ++row) {
          std::memcpy(out.y + row * out.y_stride,
                      frame.planes[0].data + row * frame.planes[0].stride,
                      static_cast<std::size_t>(width));
        }
        for (int row = 0; row < height / 2; ++row) {
          std::memcpy(out.u + row * out.uv_stride,
                      frame.planes[1].data + row * frame.planes[1].stride,
                      static_cast<std::size_t>(width / 2));
          std::memcpy(out.v + row * out.uv_stride,
                      frame.planes[2].data + row * frame.planes[2].stride,
                      static_cast<std::size_t>(width / 2));
        }
        std::lock_guard lock(mutex);
        done = true;
        copied.notify_one();
      },
      nullptr);
  {
    std::unique_lock lock(mutex);
    if (!copied.wait_for(lock, std::chrono::seconds(10), [&] { return done; })) {
      throw std::runtime_error("the test source gave no frame in 10 s");
    }
  }
  source->stop();
  return picture;
}

}  // namespace camstream::bench
