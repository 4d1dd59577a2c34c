// The encoding stage: a captured picture in, the JPEG of every output asked for out, handed to
// a callback (as rpicam-apps' Encoder hands its buffers to an OutputReadyCallback). It scales
// each output from the capture and encodes it, in stripes on --encode-threads threads. A
// camera's or relay's JPEG is passed through; only when an output needs its pixels (a size of
// its own, or the JPEG must be turned) is it decoded, once per frame for all outputs. It
// knows nothing of the capture lifecycle, placeholders, controls or viewers: the caller says
// which outputs are wanted for each frame and decides what the JPEGs become.
#pragma once

#include <atomic>
#include <chrono>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <memory>
#include <mutex>
#include <optional>
#include <span>
#include <string>
#include <vector>

#include "camstream/core/frame.hpp"
#include "camstream/core/frame_scaler.hpp"
#include "camstream/core/frame_transformer.hpp"
#include "camstream/core/orientation.hpp"
#include "camstream/encode/encoded_frame.hpp"
#include "camstream/encode/frame_pool.hpp"
#include "camstream/encode/jpeg_encoder.hpp"

namespace camstream {

// The size of one output; 0 x 0 is the captured picture's own size (never scaled). Its
// quality: 0 is the stage's (set_quality), else 1..100 for this output alone.
struct OutputSize {
  int width = 0;
  int height = 0;
  int quality = 0;
};

// One output's JPEG of one captured frame, encoded straight into a frame of the output's pool
// (no copy on the way to the viewers): `frame` has its JPEG, width and height set, the rest is
// the caller's; `jpeg` is frame->jpeg(). A live output that could not be made this time comes
// with no frame and `error` saying why (the others are made all the same).
struct EncodedOutput {
  std::size_t output = 0;  // index into the stage's outputs
  int width = 0;
  int height = 0;
  std::shared_ptr<EncodedFrame> frame;
  std::span<const std::uint8_t> jpeg;
  std::chrono::nanoseconds encode_time{};  // compression alone, scaling excluded
  std::shared_ptr<void> tag;               // a live output's, as given to set_live_output
  std::string error;                       // a live output's failure; frame is null then
};

class JpegDecoder;

class EncodeStage {
 public:
  struct Settings {
    int quality = 80;  // 1..100
    int threads = 1;   // 1..JpegEncoder::kMaxEncodeThreads: stripes of one picture
    std::vector<OutputSize> outputs{OutputSize{}};
  };
  // Called on the encoding thread once per captured frame, with the wanted outputs' JPEGs in
  // output order. It may keep the frames (the pool reuses a frame once no one holds it).
  using OutputReady =
      std::function<void(const FrameView& captured, std::span<const EncodedOutput> jpegs)>;
  using OutputSet = std::uint64_t;  // bit i: output i
  static constexpr std::size_t kMaxOutputs = 64;

  EncodeStage(Settings settings, OutputReady ready);
  ~EncodeStage();
  EncodeStage(const EncodeStage&) = delete;
  EncodeStage& operator=(const EncodeStage&) = delete;

  // From any thread; takes effect from the next frame. Throws EncodeError out of 1..100.
  void set_quality(int quality);
  int quality() const { return quality_.load(std::memory_order_relaxed); }
  int threads() const { return encoder_.threads(); }
  // The fixed outputs, 0..n-1: only while no frame is being encoded (the source stopped).
  // Clears the live outputs.
  void set_outputs(std::vector<OutputSize> outputs);
  const std::vector<OutputSize>& outputs() const { return outputs_; }
  // A live output in `slot` (outputs().size()..kMaxOutputs-1), set or cleared from any thread
  // while frames are encoded: the change is applied on the encoding thread before the next
  // frame, never during one. Its JPEGs carry `tag` (what the caller publishes them to, kept
  // alive while a frame of it is out). A live output that cannot be made (a size the capture
  // cannot be scaled to) comes back with its error instead of stopping the frame's other
  // outputs. Throws EncodeError for a slot out of range or a quality out of 0..100.
  void set_live_output(std::size_t slot, OutputSize size, std::shared_ptr<void> tag);
  void clear_live_output(std::size_t slot);
  // What is done to MJPEG frames: sources turn the raw frames they deliver themselves, but
  // pass a JPEG on as it came, so the stage turns it after decoding (the outputs' sizes are
  // the turned ones). Only while no frame is being encoded.
  void set_mjpeg_orientation(Orientation orientation) { mjpeg_orientation_ = orientation; }
  // MJPEG frames decoded so far (at most one decode per frame). Encoding thread only.
  std::uint64_t frames_decoded() const { return frames_decoded_; }

  // Encodes `captured` for each output in `wanted` and calls OutputReady with their JPEGs.
  // Throws, and calls nothing, when one cannot be made: TransformError (not scalable),
  // CorruptFrameError (a broken camera JPEG), EncodeError (anything else, such as a camera
  // JPEG too large or of a subsampling the decoder refuses).
  void encode(const FrameView& captured, OutputSet wanted);

 private:
  struct Output {
    OutputSize size;
    bool in_use = false;
    bool live = false;
    std::shared_ptr<void> tag;
    FrameScaler scaler;
    std::optional<FramePool> pool;  // frames of the bound of the largest picture seen
    std::size_t pool_capacity = 0;
  };
  struct LiveChange {
    std::size_t slot = 0;
    std::optional<OutputSize> size;  // nullopt: cleared
    std::shared_ptr<void> tag;
  };
  void apply_live_changes();
  void encode_one(const FrameView& captured, std::size_t index, int quality,
                  std::optional<FrameView>& pixels);
  // The picture an output of `width` x `height` is scaled from: the smallest one already made
  // this frame (`scaled_`) that is at least that large, else `source`.
  const FrameView& scale_source(const FrameView& source, int width, int height) const;

  std::atomic<int> quality_;
  JpegEncoder encoder_;
  OutputReady ready_;
  std::vector<OutputSize> outputs_;
  std::vector<Output> state_;           // kMaxOutputs, fixed and live
  std::vector<EncodedOutput> encoded_;  // reused frame to frame
  std::vector<std::size_t> order_;      // this frame's outputs, largest first
  std::vector<FrameView> scaled_;       // the pictures scaled this frame, in their scalers
  std::mutex live_mutex_;               // guards live_changes_
  std::vector<LiveChange> live_changes_;
  std::atomic<bool> live_changed_{false};
  // MJPEG decoded for the outputs that need pixels; made on the first such frame.
  FrameView decoded(const FrameView& captured);
  std::unique_ptr<JpegDecoder> decoder_;
  FrameTransformer transformer_;
  Orientation mjpeg_orientation_{};
  std::uint64_t frames_decoded_ = 0;
};

}  // namespace camstream
