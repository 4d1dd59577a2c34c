// A FrameSource that replays recorded camera frames (files under tests/data), cycling
// through them on its own worker thread the way a camera source delivers frames.
#pragma once

#include <chrono>
#include <cstdint>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <stdexcept>
#include <thread>
#include <utility>
#include <vector>

#include "camstream/capture/frame_source.hpp"
#include "camstream/core/frame.hpp"

namespace camstream::test {

struct RecordedFrame {
  std::vector<std::uint8_t> bytes;  // one camera buffer's used bytes
  PixelFormat format = PixelFormat::YUYV;
  int width = 0;
  int height = 0;
  int stride = 0;  // packed formats; 0 for MJPEG
  ColorRange range = ColorRange::Full;
};

inline std::vector<std::uint8_t> read_file(const std::filesystem::path& path) {
  std::ifstream file(path, std::ios::binary);
  if (!file) throw std::runtime_error("cannot read " + path.string());
  return {std::istreambuf_iterator<char>(file), std::istreambuf_iterator<char>()};
}

class ReplaySource : public FrameSource {
 public:
  ReplaySource(std::vector<RecordedFrame> frames, std::chrono::microseconds interval)
      : frames_(std::move(frames)), interval_(interval) {
    if (frames_.empty()) throw std::invalid_argument("ReplaySource needs frames");
  }
  ~ReplaySource() override { stop(); }

  void start(FrameCallback on_frame, ErrorCallback /*on_error*/) override {
    worker_ = std::jthread([this, on_frame = std::move(on_frame)](std::stop_token stop) {
      std::uint64_t sequence = 0;
      while (!stop.stop_requested()) {
        const RecordedFrame& recorded = frames_[sequence % frames_.size()];
        FrameView view;
        view.format = recorded.format;
        view.width = recorded.width;
        view.height = recorded.height;
        view.range = recorded.range;
        view.planes[0] = {recorded.bytes.data(), recorded.stride, recorded.bytes.size()};
        view.sequence = sequence++;
        view.timestamp = std::chrono::system_clock::now();
        on_frame(view);
        std::this_thread::sleep_for(interval_);
      }
    });
  }
  void stop() override { worker_ = {}; }
  SourceInfo info() const override {
    return {"replay", std::nullopt, frames_.front().width, frames_.front().height, interval_};
  }

 private:
  std::vector<RecordedFrame> frames_;
  std::chrono::microseconds interval_;
  std::jthread worker_;
};

}  // namespace camstream::test
