// The encoding stage: see camstream/encode/encode_stage.hpp.
#include "camstream/encode/encode_stage.hpp"

#include <string>
#include <utility>

#include "jpeg_decoder.hpp"

namespace camstream {

EncodeStage::EncodeStage(Settings settings, OutputReady ready)
    : quality_(settings.quality),
      encoder_(settings.quality, settings.threads),
      ready_(std::move(ready)) {
  set_outputs(std::move(settings.outputs));
}

EncodeStage::~EncodeStage() = default;

void EncodeStage::set_quality(int quality) {
  if (quality < 1 || quality > 100) {
    throw EncodeError("JPEG quality must be 1..100, not " + std::to_string(quality));
  }
  quality_.store(quality, std::memory_order_relaxed);
}

void EncodeStage::set_outputs(std::vector<OutputSize> outputs) {
  if (outputs.size() > kMaxOutputs) {
    throw EncodeError("at most " + std::to_string(kMaxOutputs) + " outputs, not " +
                      std::to_string(outputs.size()));
  }
  outputs_ = std::move(outputs);
  state_ = std::vector<Output>(outputs_.size());
  for (std::size_t i = 0; i < outputs_.size(); ++i) state_[i].size = outputs_[i];
  encoded_.reserve(outputs_.size());
}

void EncodeStage::encode(const FrameView& captured, OutputSet wanted) {
  if (const int quality = quality_.load(std::memory_order_relaxed); quality != encoder_.quality()) {
    encoder_.set_quality(quality);
  }
  encoded_.clear();
  // An MJPEG frame an output needs the pixels of: decoded (and turned) once for all outputs.
  const bool jpeg = captured.format == PixelFormat::MJPEG;
  std::optional<FrameView> pixels;
  for (std::size_t i = 0; i < state_.size(); ++i) {
    if ((wanted & (OutputSet{1} << i)) == 0) continue;
    Output& output = state_[i];
    const auto own_size_of = [&output](const FrameView& frame) {
      return (output.size.width == 0 && output.size.height == 0) ||
             (output.size.width == frame.width && output.size.height == frame.height);
    };
    FrameView source = captured;
    if (jpeg && (!is_identity(mjpeg_orientation_) || !own_size_of(captured))) {
      if (!pixels) pixels = decoded(captured);
      source = *pixels;
    }
    const FrameView picture =
        own_size_of(source) ? source
                            : output.scaler.scale(source, output.size.width, output.size.height);
    const std::size_t bound = JpegEncoder::max_jpeg_size(picture.width, picture.height);
    if (!output.pool || output.pool_capacity < bound) {
      output.pool.emplace(bound);
      output.pool_capacity = bound;
    }
    std::shared_ptr<EncodedFrame> frame = output.pool->acquire();
    const auto started = std::chrono::steady_clock::now();
    frame->jpeg_size = encoder_.encode(picture, frame->writable());
    const auto encode_time = std::chrono::steady_clock::now() - started;
    frame->width = picture.width;
    frame->height = picture.height;
    const auto jpeg = frame->jpeg();
    encoded_.push_back({i, picture.width, picture.height, std::move(frame), jpeg, encode_time});
  }
  ready_(captured, encoded_);
  encoded_.clear();  // the frames back to their pools once the caller lets them go
}

FrameView EncodeStage::decoded(const FrameView& captured) {
  if (!decoder_) decoder_ = std::make_unique<JpegDecoder>();
  const FrameView planes = decoder_->decode(captured);
  ++frames_decoded_;
  return transformer_.apply(planes, mjpeg_orientation_);
}

}  // namespace camstream
