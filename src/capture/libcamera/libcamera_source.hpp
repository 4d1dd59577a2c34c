// The camera source: libcamera buffers mapped once and handed to the frame callback in place.
#pragma once

#include <libcamera/libcamera.h>

#include <array>
#include <condition_variable>
#include <cstddef>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include "camstream/capture.hpp"
#include "capture/libcamera/camera_logic.hpp"
#include "capture/libcamera/dmabuf_mapping.hpp"

namespace camstream {

// What the camera grants for a CaptureConfig: the validated configuration plus what camstream
// takes from it.
struct NegotiatedStream {
  std::unique_ptr<libcamera::CameraConfiguration> config;
  PixelFormat format = PixelFormat::I420;
  int width = 0;
  int height = 0;
  int stride = 0;
  camera_logic::Flips flips;
  std::optional<std::int64_t> frame_duration_us;  // none: the camera has no FrameDurationLimits
  std::chrono::microseconds interval{0};          // what frames will arrive at
};

class LibcameraSource final : public FrameSource {
 public:
  // `camera` (released) only fills info(): start() looks the camera up again by id, because a
  // camera that was unplugged and plugged in again is a new libcamera object.
  LibcameraSource(const CaptureConfig& config, std::shared_ptr<libcamera::Camera> camera);
  ~LibcameraSource() override;
  LibcameraSource(const LibcameraSource&) = delete;
  LibcameraSource& operator=(const LibcameraSource&) = delete;

  void start(FrameCallback on_frame, ErrorCallback on_error) override;
  void stop() override;
  SourceInfo info() const override;

 private:
  // One camera buffer with its request and its mapped view.
  struct Slot {
    std::unique_ptr<libcamera::Request> request;
    std::vector<DmabufMapping> mappings;
    FrameView view;  // sequence and timestamp are filled in per frame
  };

  void open_camera();
  void allocate_buffers();
  void allocate_own_buffers(unsigned count);
  void release_camera() noexcept;
  void on_request_completed(libcamera::Request* request);  // libcamera's thread: never blocks
  void on_disconnected();                                  // libcamera's thread
  void run_worker();
  void process(libcamera::Request* request);
  void requeue(libcamera::Request* request);
  void fail(const std::string& reason);
  void update_info(const NegotiatedStream& stream);

  const CaptureConfig config_;
  const std::string camera_id_;

  mutable std::mutex info_mutex_;
  SourceInfo info_;

  // Touched only by start()/stop() (the caller's thread) while no worker runs, and read by the
  // worker while it runs.
  std::shared_ptr<libcamera::Camera> camera_;
  bool acquired_ = false;
  bool camera_running_ = false;
  NegotiatedStream stream_;
  std::unique_ptr<libcamera::FrameBufferAllocator> allocator_;
  std::vector<std::unique_ptr<libcamera::FrameBuffer>> own_buffers_;  // when export fails
  std::vector<Slot> slots_;
  FrameCallback on_frame_;
  ErrorCallback on_error_;
  std::thread worker_;

  // Completed requests waiting for the worker: a fixed ring (no allocation per frame).
  static constexpr std::size_t kQueueDepth = 2;
  std::mutex queue_mutex_;
  std::condition_variable queue_wake_;
  camera_logic::DropOldestRing<libcamera::Request*, kQueueDepth> ready_;
  bool stopping_ = false;
  std::optional<std::string> failure_;
  bool failure_reported_ = false;

  // Worker-only state.
  std::optional<std::uint64_t> last_delivered_ns_;
  int consecutive_errors_ = 0;
  bool frame_duration_checked_ = false;
};

// Generates, fills and validates a video-role configuration for `config`; logs what the camera
// changed when `log_changes`. Throws CaptureError.
NegotiatedStream negotiate_stream(libcamera::Camera& camera, const CaptureConfig& config,
                                  bool log_changes);

}  // namespace camstream
