// The camera source: libcamera buffers mapped once and handed to the frame callback in place.
#pragma once

#include <libcamera/libcamera.h>

#include <condition_variable>
#include <cstddef>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include "camera_controls.hpp"
#include "camera_logic.hpp"
#include "camstream/capture/capture_config.hpp"
#include "camstream/capture/capture_error.hpp"
#include "camstream/capture/frame_source.hpp"
#include "camstream/core/controls.hpp"
#include "camstream/core/frame.hpp"
#include "camstream/core/frame_transformer.hpp"
#include "camstream/core/orientation.hpp"
#include "dmabuf_mapping.hpp"

namespace camstream {

// What the camera grants for a CaptureConfig: the validated configuration plus what camstream
// takes from it.
struct NegotiatedStream {
  std::unique_ptr<libcamera::CameraConfiguration> config;
  PixelFormat format = PixelFormat::I420;
  ColorRange range = ColorRange::Full;
  int width = 0;
  int height = 0;
  int stride = 0;
  camera_logic::Flips flips;  // what the camera does of the orientation asked for
  Orientation software;       // what is left to do in software, before the frame callback
                              // (MJPEG: all of it, by the encoding stage after decoding)
  std::optional<std::int64_t> frame_duration_us;  // none: the camera has no FrameDurationLimits
  std::chrono::microseconds interval{0};          // what frames will arrive at
};

// The source's granted configuration, shared with the running capture that refines it.
struct SharedSourceInfo {
  mutable std::mutex mutex;
  SourceInfo info;
};

class LibcameraSource final : public FrameSource {
 public:
  // `camera` (released) only fills info(): start() looks the camera up again by id, because a
  // camera that was unplugged and plugged in again is a new libcamera object.
  LibcameraSource(const CaptureConfig& config, const std::shared_ptr<libcamera::Camera>& camera);
  ~LibcameraSource() override;
  LibcameraSource(const LibcameraSource&) = delete;
  LibcameraSource& operator=(const LibcameraSource&) = delete;

  void start(FrameCallback on_frame, ErrorCallback on_error) override;
  void stop() override;
  SourceInfo info() const override;
  ControlMap controls() const override;
  std::optional<ControlError> set_controls(
      const std::map<std::string, ControlValue>& values) override;

 private:
  class Capture;

  const CaptureConfig config_;
  const std::string camera_id_;
  std::shared_ptr<SharedSourceInfo> info_;
  // Outlives every capture: the values set persist across stop() and start().
  std::shared_ptr<SourceControls> controls_;
  // One start() .. stop(): the acquired camera, its buffers, its queue. The worker thread owns a
  // reference too, so a stop() or destruction from inside the frame callback (on the worker
  // itself, which cannot be joined) leaves the worker everything it still touches.
  std::shared_ptr<Capture> capture_;
  std::thread worker_;
};

// Generates, fills and validates a video-role configuration for `config`; logs what the camera
// changed when `log_changes`. Throws CaptureError.
NegotiatedStream negotiate_stream(libcamera::Camera& camera, const CaptureConfig& config,
                                  bool log_changes);

}  // namespace camstream
