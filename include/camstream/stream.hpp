// Stream module: encoded frames, the newest-frame hub, metrics and the capture lifecycle.
#pragma once

#include <atomic>
#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <mutex>
#include <span>
#include <vector>

namespace camstream {

// An encoded JPEG, immutable once published; every viewer shares the same bytes.
struct EncodedFrame {
  std::vector<std::uint8_t> storage;  // capacity for the largest JPEG; jpeg() is its prefix
  std::size_t jpeg_size = 0;
  int width = 0;
  int height = 0;
  std::uint64_t sequence = 0;
  std::chrono::system_clock::time_point timestamp{};  // capture time
  bool placeholder = false;  // a STOPPED / NO SIGNAL picture, not a camera frame

  std::span<const std::uint8_t> jpeg() const { return {storage.data(), jpeg_size}; }
};
using FramePtr = std::shared_ptr<const EncodedFrame>;

// Recycles frames so steady-state encoding allocates nothing: a frame is reused once no
// viewer holds it any more. Used from one thread (the encoding thread).
class FramePool {
 public:
  explicit FramePool(std::size_t capacity_bytes) : capacity_bytes_(capacity_bytes) {}
  // A frame no one else holds, storage sized to capacity_bytes.
  std::shared_ptr<EncodedFrame> acquire();
  std::size_t size() const { return frames_.size(); }

 private:
  std::size_t capacity_bytes_;
  std::vector<std::shared_ptr<EncodedFrame>> frames_;
};

// Holds the newest frame. publish() may be called from any thread; listeners run on the
// publishing thread and must only hand the frame on (e.g. post it to an I/O executor).
class FrameHub {
 public:
  using Listener = std::function<void(const FramePtr&)>;
  void add_listener(Listener listener);  // set up before frames flow
  void publish(FramePtr frame);
  FramePtr latest() const;

 private:
  mutable std::mutex mutex_;
  FramePtr latest_;
  std::vector<Listener> listeners_;
};

}  // namespace camstream
