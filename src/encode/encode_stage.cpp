// The encoding stage: see camstream/encode/encode_stage.hpp.
#include "camstream/encode/encode_stage.hpp"

#include <algorithm>
#include <cstdint>
#include <limits>
#include <string>
#include <utility>

#include "jpeg_decoder.hpp"

namespace camstream {

EncodeStage::EncodeStage(Settings settings, OutputReady ready)
    : quality_(settings.quality),
      encoder_(settings.quality, settings.threads),
      ready_(std::move(ready)),
      state_(kMaxOutputs) {
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
  {
    std::lock_guard lock(live_mutex_);
    live_changes_.clear();
    live_changed_.store(false, std::memory_order_relaxed);
  }
  outputs_ = std::move(outputs);
  state_ = std::vector<Output>(kMaxOutputs);
  for (std::size_t i = 0; i < outputs_.size(); ++i) {
    state_[i].size = outputs_[i];
    state_[i].in_use = true;
  }
  encoded_.reserve(kMaxOutputs);
}

void EncodeStage::set_live_output(std::size_t slot, OutputSize size, std::shared_ptr<void> tag) {
  if (slot < outputs_.size() || slot >= kMaxOutputs) {
    throw EncodeError("no live output slot " + std::to_string(slot));
  }
  if (size.quality < 0 || size.quality > 100) {
    throw EncodeError("JPEG quality must be 1..100, not " + std::to_string(size.quality));
  }
  std::lock_guard lock(live_mutex_);
  live_changes_.push_back({slot, size, std::move(tag)});
  live_changed_.store(true, std::memory_order_release);
}

void EncodeStage::clear_live_output(std::size_t slot) {
  if (slot < outputs_.size() || slot >= kMaxOutputs) {
    throw EncodeError("no live output slot " + std::to_string(slot));
  }
  std::lock_guard lock(live_mutex_);
  live_changes_.push_back({slot, std::nullopt, nullptr});
  live_changed_.store(true, std::memory_order_release);
}

// On the encoding thread, between frames: the only place the live slots' state changes.
void EncodeStage::apply_live_changes() {
  if (!live_changed_.load(std::memory_order_acquire)) return;
  std::vector<LiveChange> changes;
  {
    std::lock_guard lock(live_mutex_);
    changes.swap(live_changes_);
    live_changed_.store(false, std::memory_order_relaxed);
  }
  for (LiveChange& change : changes) {
    Output& output = state_[change.slot];
    output = Output{};  // a new size starts a new pool; the old frames die with their holders
    if (!change.size) continue;
    output.size = *change.size;
    output.in_use = true;
    output.live = true;
    output.tag = std::move(change.tag);
  }
}

void EncodeStage::encode(const FrameView& captured, OutputSet wanted) {
  apply_live_changes();
  const int quality = quality_.load(std::memory_order_relaxed);
  encoded_.clear();
  // An MJPEG frame an output needs the pixels of: decoded (and turned) once for all outputs.
  std::optional<FrameView> pixels;
  // Largest first, so that a smaller output can be scaled from a larger one made this frame.
  order_.clear();
  scaled_.clear();
  for (std::size_t i = 0; i < state_.size(); ++i) {
    if ((wanted & (OutputSet{1} << i)) != 0 && state_[i].in_use) order_.push_back(i);
  }
  const auto area = [this](std::size_t i) {
    const OutputSize& size = state_[i].size;
    if (size.width == 0 && size.height == 0) return std::numeric_limits<std::int64_t>::max();
    return std::int64_t{size.width} * size.height;
  };
  // std::sort, not stable_sort: stable_sort takes a buffer from the heap on every frame. The
  // index breaks ties, so equal sizes keep their order.
  std::sort(order_.begin(), order_.end(), [&](std::size_t a, std::size_t b) {
    return area(a) != area(b) ? area(a) > area(b) : a < b;
  });
  for (const std::size_t i : order_) {
    if (!state_[i].live) {
      encode_one(captured, i, quality, pixels);
      continue;
    }
    // A live output's failure is its own: the stream and the other outputs go on.
    try {
      encode_one(captured, i, quality, pixels);
    } catch (const std::exception& error) {
      EncodedOutput failed;
      failed.output = i;
      failed.tag = state_[i].tag;
      failed.error = error.what();
      encoded_.push_back(std::move(failed));
    }
  }
  // Handed over in the outputs' order, whatever order they were made in.
  std::sort(encoded_.begin(), encoded_.end(),
            [](const EncodedOutput& a, const EncodedOutput& b) { return a.output < b.output; });
  ready_(captured, encoded_);
  encoded_.clear();  // the frames back to their pools once the caller lets them go
}

void EncodeStage::encode_one(const FrameView& captured, std::size_t index, int quality,
                             std::optional<FrameView>& pixels) {
  Output& output = state_[index];
  const auto own_size_of = [&output](const FrameView& frame) {
    return (output.size.width == 0 && output.size.height == 0) ||
           (output.size.width == frame.width && output.size.height == frame.height);
  };
  const int output_quality = output.size.quality > 0 ? output.size.quality : quality;
  FrameView source = captured;
  // A camera JPEG passes through when it is the output as it is; another size, turn or quality
  // needs its pixels.
  if (captured.format == PixelFormat::MJPEG &&
      (!is_identity(mjpeg_orientation_) || !own_size_of(captured) || output_quality != quality)) {
    if (!pixels) pixels = decoded(captured);
    source = *pixels;
  }
  FrameView picture = source;
  if (!own_size_of(source)) {
    picture = output.scaler.scale(scale_source(source, output.size.width, output.size.height),
                                  output.size.width, output.size.height);
    scaled_.push_back(picture);
  }
  const std::size_t bound = JpegEncoder::max_jpeg_size(picture.width, picture.height);
  if (!output.pool || output.pool_capacity < bound) {
    output.pool.emplace(bound);
    output.pool_capacity = bound;
  }
  if (encoder_.quality() != output_quality) encoder_.set_quality(output_quality);
  std::shared_ptr<EncodedFrame> frame = output.pool->acquire();
  const auto started = std::chrono::steady_clock::now();
  frame->jpeg_size = encoder_.encode(picture, frame->writable());
  const auto encode_time = std::chrono::steady_clock::now() - started;
  frame->width = picture.width;
  frame->height = picture.height;
  const auto jpeg = frame->jpeg();
  encoded_.push_back(
      {index, picture.width, picture.height, std::move(frame), jpeg, encode_time, output.tag, {}});
}

// Scaling reads the whole source: 1920x1080 to 640x360 takes 0.51 ms, 1280x720 to 640x360
// 26 us (bench/transform_bench.cpp), so three outputs of one capture cost about the sum of
// their encodes rather than that plus a full-size scale each.
const FrameView& EncodeStage::scale_source(const FrameView& source, int width, int height) const {
  const FrameView* from = &source;
  for (const FrameView& made : scaled_) {
    if (made.width >= width && made.height >= height &&
        std::int64_t{made.width} * made.height < std::int64_t{from->width} * from->height) {
      from = &made;
    }
  }
  return *from;
}

FrameView EncodeStage::decoded(const FrameView& captured) {
  if (!decoder_) decoder_ = std::make_unique<JpegDecoder>();
  const FrameView planes = decoder_->decode(captured);
  ++frames_decoded_;
  return transformer_.apply(planes, mjpeg_orientation_);
}

}  // namespace camstream
