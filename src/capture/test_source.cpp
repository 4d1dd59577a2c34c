// The built-in test source: a moving picture drawn straight into I420 planes, paced on the
// steady clock by its own worker thread. Its controls (Brightness, Contrast, Zoom) change the
// picture as a camera's would, and the software step turns it as --rotation/--hflip/--vflip say.
#include "camstream/capture/test_source.hpp"

#include <libyuv/scale.h>

#include <algorithm>
#include <array>
#include <atomic>
#include <cmath>
#include <condition_variable>
#include <cstdio>
#include <cstring>
#include <ctime>
#include <mutex>
#include <optional>
#include <stop_token>
#include <string>
#include <thread>
#include <vector>

#include "camstream/capture/capture_config.hpp"
#include "camstream/capture/capture_error.hpp"
#include "camstream/capture/draw.hpp"
#include "camstream/capture/frame_source.hpp"
#include "camstream/capture/owned_yuv_image.hpp"
#include "camstream/core/controls.hpp"
#include "camstream/core/frame.hpp"
#include "camstream/core/frame_transformer.hpp"
#include "camstream/core/orientation.hpp"

namespace camstream {

namespace {

struct Yuv {
  std::uint8_t y, u, v;
};

// Full-range BT.601, as JPEG (JFIF) decoders read the planes.
constexpr Yuv yuv_from_rgb(int r, int g, int b) {
  const double y = 0.299 * r + 0.587 * g + 0.114 * b;
  const double u = 128.0 - 0.168736 * r - 0.331264 * g + 0.5 * b;
  const double v = 128.0 + 0.5 * r - 0.418688 * g - 0.081312 * b;
  auto to_byte = [](double value) {
    return static_cast<std::uint8_t>(std::clamp(value + 0.5, 0.0, 255.0));
  };
  return {to_byte(y), to_byte(u), to_byte(v)};
}

// 75% colour bars, as on broadcast test cards.
constexpr Yuv kBars[] = {
    yuv_from_rgb(191, 191, 191), yuv_from_rgb(191, 191, 0), yuv_from_rgb(0, 191, 191),
    yuv_from_rgb(0, 191, 0),     yuv_from_rgb(191, 0, 191), yuv_from_rgb(191, 0, 0),
    yuv_from_rgb(0, 0, 191),     yuv_from_rgb(0, 0, 0),
};
constexpr int kBarCount = static_cast<int>(std::size(kBars));
constexpr Yuv kBoxColour = yuv_from_rgb(255, 128, 0);
constexpr Yuv kPanelColour = yuv_from_rgb(16, 16, 16);
constexpr std::uint8_t kTextLuma = 235;
// The zoom target at the centre: pure white, a luma nothing else in the scene has.
constexpr Yuv kTargetColour = yuv_from_rgb(255, 255, 255);

constexpr double kMinBrightness = -1.0, kMaxBrightness = 1.0, kDefaultBrightness = 0.0;
constexpr double kMinContrast = 0.0, kMaxContrast = 2.0, kDefaultContrast = 1.0;
constexpr double kMinZoom = 1.0, kMaxZoom = 8.0, kDefaultZoom = 1.0;

ControlInfo float_control(double min, double max, double default_value, double value) {
  return ControlInfo{ControlType::floating, min, max, default_value, value, {}};
}

// Luma after brightness (an offset, +-1 is the whole range) and contrast (a gain around
// mid-grey), as one table.
std::array<std::uint8_t, 256> luma_table(double brightness, double contrast) {
  std::array<std::uint8_t, 256> table{};
  for (int y = 0; y < 256; ++y) {
    const double adjusted = (y - 128.0) * contrast + 128.0 + brightness * 255.0;
    table[static_cast<std::size_t>(y)] =
        static_cast<std::uint8_t>(std::clamp(std::lround(adjusted), 0L, 255L));
  }
  return table;
}

void apply_luma_table(const YuvImage& image, const std::array<std::uint8_t, 256>& table) {
  for (int row = 0; row < image.height; ++row) {
    std::uint8_t* line = image.y + static_cast<std::ptrdiff_t>(row) * image.y_stride;
    for (int x = 0; x < image.width; ++x) line[x] = table[line[x]];
  }
}

// The centre of `from`, 1/zoom of its width and height, scaled up into `to` (the same size).
void zoom_centre(const YuvImage& from, const YuvImage& to, double zoom) {
  const int crop_width = std::max(2, static_cast<int>(from.width / zoom) & ~1);
  const int crop_height = std::max(2, static_cast<int>(from.height / zoom) & ~1);
  const int x = ((from.width - crop_width) / 2) & ~1;
  const int y = ((from.height - crop_height) / 2) & ~1;
  const std::ptrdiff_t chroma_offset = static_cast<std::ptrdiff_t>(y / 2) * from.uv_stride + x / 2;
  libyuv::I420Scale(from.y + static_cast<std::ptrdiff_t>(y) * from.y_stride + x, from.y_stride,
                    from.u + chroma_offset, from.uv_stride, from.v + chroma_offset, from.uv_stride,
                    crop_width, crop_height, to.y, to.y_stride, to.u, to.uv_stride, to.v,
                    to.uv_stride, to.width, to.height, libyuv::kFilterBilinear);
}

// Position bouncing between 0 and range as t grows.
int bounce(std::int64_t t, int range) {
  if (range <= 0) return 0;
  const std::int64_t phase = t % (2 * static_cast<std::int64_t>(range));
  return static_cast<int>(phase <= range ? phase : 2 * range - phase);
}

// One picture row of each kind, stored twice over so that a row scrolled by any offset is
// one contiguous copy from the pattern.
struct ScrollRows {
  std::vector<std::uint8_t> y, u, v;
};

ScrollRows make_bar_rows(int width) {
  const int chroma_width = width / 2;
  ScrollRows rows{std::vector<std::uint8_t>(2 * width), std::vector<std::uint8_t>(2 * chroma_width),
                  std::vector<std::uint8_t>(2 * chroma_width)};
  for (int x = 0; x < chroma_width; ++x) {
    const Yuv& bar = kBars[x * kBarCount / chroma_width];
    for (int copy = 0; copy < 2; ++copy) {
      rows.y[copy * width + 2 * x] = rows.y[copy * width + 2 * x + 1] = bar.y;
      rows.u[copy * chroma_width + x] = bar.u;
      rows.v[copy * chroma_width + x] = bar.v;
    }
  }
  return rows;
}

ScrollRows make_ramp_rows(int width) {
  const int chroma_width = width / 2;
  ScrollRows rows{std::vector<std::uint8_t>(2 * width),
                  std::vector<std::uint8_t>(2 * chroma_width, 128),
                  std::vector<std::uint8_t>(2 * chroma_width, 128)};
  // Up and back down, so that the scrolled ramp has no seam.
  for (int x = 0; x < width; ++x) {
    const int distance = std::min(x, width - 1 - x);
    const auto level = static_cast<std::uint8_t>(16 + distance * 2 * 219 / std::max(width - 1, 1));
    rows.y[x] = rows.y[width + x] = level;
  }
  return rows;
}

void copy_rows(const YuvImage& image, const ScrollRows& rows, int top, int bottom, int offset) {
  const int chroma_width = image.width / 2;
  const int chroma_offset = offset / 2;
  for (int row = top; row < bottom; ++row) {
    std::memcpy(image.y + static_cast<std::ptrdiff_t>(row) * image.y_stride,
                rows.y.data() + 2 * chroma_offset, static_cast<std::size_t>(image.width));
  }
  for (int row = top / 2; row < bottom / 2; ++row) {
    const std::ptrdiff_t start = static_cast<std::ptrdiff_t>(row) * image.uv_stride;
    std::memcpy(image.u + start, rows.u.data() + chroma_offset,
                static_cast<std::size_t>(chroma_width));
    std::memcpy(image.v + start, rows.v.data() + chroma_offset,
                static_cast<std::size_t>(chroma_width));
  }
}

class TestSource final : public FrameSource {
 public:
  explicit TestSource(const CaptureConfig& config)
      : config_(config),
        orientation_{config.rotation, config.hflip, config.vflip},
        bar_rows_(make_bar_rows(config.width)),
        ramp_rows_(make_ramp_rows(config.width)),
        text_scale_(std::max(1, std::min(config.height / 120, config.width / 160))) {}

  ~TestSource() override { stop(); }

  void start(FrameCallback on_frame, ErrorCallback on_error) override {
    if (!on_frame) throw CaptureError("test source: no frame callback given");
    if (std::this_thread::get_id() == worker_id_.load()) {
      throw CaptureError("test source: start() called from its own frame callback");
    }
    std::lock_guard control(control_mutex_);
    stop_locked();
    if (!picture_) picture_.emplace(config_.width, config_.height);
    if (!zoomed_) zoomed_.emplace(config_.width, config_.height);
    stopped_from_callback_.store(false);
    worker_ = std::jthread([this, on_frame = std::move(on_frame),
                            on_error = std::move(on_error)](std::stop_token stop) {
      worker_id_.store(std::this_thread::get_id());
      run(stop, on_frame, on_error);
    });
  }

  void stop() override {
    if (std::this_thread::get_id() == worker_id_.load()) {
      // Called from the frame callback: joining ourselves would deadlock, and worker_ may
      // still be being assigned by start(); the loop ends as soon as the callback returns.
      stopped_from_callback_.store(true);
      return;
    }
    std::lock_guard control(control_mutex_);
    stop_locked();
  }

  SourceInfo info() const override {
    const PictureSize size = turned_size(config_.width, config_.height, orientation_);
    return SourceInfo{"test", std::nullopt, size.width, size.height, config_.interval};
  }

  ControlMap controls() const override {
    return {
        {"Brightness",
         float_control(kMinBrightness, kMaxBrightness, kDefaultBrightness, brightness_.load())},
        {"Contrast", float_control(kMinContrast, kMaxContrast, kDefaultContrast, contrast_.load())},
        {"Zoom", float_control(kMinZoom, kMaxZoom, kDefaultZoom, zoom_.load())},
    };
  }

  std::optional<ControlError> set_controls(
      const std::map<std::string, ControlValue>& values) override {
    const CheckedControls checked = check_controls(controls(), values);
    if (checked.error) return checked.error;
    // The next frame reads each value once; a frame drawn meanwhile may mix old and new ones.
    for (const auto& [name, value] : checked.values) {
      const double number = std::get<double>(value);
      if (name == "Brightness") brightness_.store(number);
      if (name == "Contrast") contrast_.store(number);
      if (name == "Zoom") zoom_.store(number);
    }
    return std::nullopt;
  }

 private:
  void stop_locked() {
    if (!worker_.joinable()) return;
    worker_.request_stop();  // wakes the paced wait through the stop token
    worker_.join();
    worker_ = std::jthread();
    worker_id_.store(std::thread::id());
  }

  void run(std::stop_token stop, const FrameCallback& on_frame, const ErrorCallback& on_error) {
    using Clock = std::chrono::steady_clock;
    const Clock::duration interval = config_.interval;
    const Clock::time_point start = Clock::now();
    std::int64_t tick = 0;  // deadline of the next frame: start + tick * interval
    std::uint64_t sequence = 0;
    std::mutex wait_mutex;
    std::condition_variable_any wake;
    while (!stop.stop_requested()) {
      {
        std::unique_lock lock(wait_mutex);
        wake.wait_until(lock, stop, start + tick * interval, [] { return false; });
      }
      if (stop.stop_requested()) break;

      const auto timestamp = std::chrono::system_clock::now();
      try {
        on_frame(render(sequence, timestamp));
      } catch (const std::exception& error) {
        if (on_error) on_error(std::string("frame callback failed: ") + error.what());
        return;
      }
      if (stopped_from_callback_.load()) return;
      ++sequence;
      ++tick;
      // More than one interval late (a slow consumer, a suspended machine): skip to the
      // current slot instead of delivering the missed frames in a burst.
      const Clock::time_point now = Clock::now();
      if (now - (start + tick * interval) > interval) tick = (now - start) / interval;
    }
  }

  // The frame as delivered: the scene, zoomed, adjusted, labelled, then turned.
  FrameView render(std::uint64_t sequence, std::chrono::system_clock::time_point timestamp) {
    const double brightness = brightness_.load();
    const double contrast = contrast_.load();
    const double zoom = zoom_.load();
    draw_scene(sequence);
    const OwnedYuvImage* shown = &*picture_;
    if (zoom > kMinZoom) {
      zoom_centre(picture_->image(), zoomed_->image(), zoom);
      shown = &*zoomed_;
    }
    if (brightness != kDefaultBrightness || contrast != kDefaultContrast) {
      apply_luma_table(shown->image(), luma_table(brightness, contrast));
    }
    // The label stays readable whatever the controls do to the scene.
    draw_text_panel(shown->image(), sequence, timestamp);
    FrameView frame = shown->view();
    frame.sequence = sequence;
    frame.timestamp = timestamp;
    return transformer_.apply(frame, orientation_);
  }

  void draw_scene(std::uint64_t sequence) {
    const YuvImage& image = picture_->image();
    const int width = image.width;
    const int height = image.height;
    const auto t = static_cast<std::int64_t>(sequence);

    // Bars scroll left over the top two thirds, the grey ramp right below them.
    const int scroll_step = std::max(2, width / 64) & ~1;
    const int split = (height * 2 / 3) & ~1;
    copy_rows(image, bar_rows_, 0, split, static_cast<int>((t * scroll_step) % width) & ~1);
    copy_rows(image, ramp_rows_, split, height,
              static_cast<int>((width - (t * scroll_step) % width) % width) & ~1);

    const int box_side = std::max(2, height / 6) & ~1;
    const int box_x = bounce(t * std::max(1, width / 80), width - box_side);
    const int box_y = bounce(t * std::max(1, height / 60), height - box_side);
    fill_rect(image, box_x, box_y, box_side, box_side, kBoxColour.y, kBoxColour.u, kBoxColour.v);

    // A fixed target at the centre, over the box: what Zoom enlarges stays in view.
    const int target_side = std::max(2, height / 10) & ~1;
    fill_rect(image, ((width - target_side) / 2) & ~1, ((height - target_side) / 2) & ~1,
              target_side, target_side, kTargetColour.y, kTargetColour.u, kTargetColour.v);
  }

  void draw_text_panel(const YuvImage& image, std::uint64_t sequence,
                       std::chrono::system_clock::time_point timestamp) {
    // Fixed buffers: nothing is allocated per frame.
    char frame_text[32];
    std::snprintf(frame_text, sizeof frame_text, "FRAME %llu",
                  static_cast<unsigned long long>(sequence));
    char time_text[32];
    format_clock(timestamp, time_text, sizeof time_text);

    std::string_view lines[3];
    int line_count = 0;
    if (config_.label_test_pattern) lines[line_count++] = "TEST PATTERN";
    lines[line_count++] = frame_text;
    lines[line_count++] = time_text;

    const int scale = text_scale_;
    const int padding = 2 * scale;
    const int line_pitch = text_height(scale) + 3 * scale;
    int panel_width = 0;
    for (int i = 0; i < line_count; ++i) {
      panel_width = std::max(panel_width, text_width(lines[i], scale));
    }
    panel_width += 2 * padding;
    const int panel_height = line_count * line_pitch - 3 * scale + 2 * padding;
    const int margin = 2 * scale;
    fill_rect(image, margin, margin, panel_width, panel_height, kPanelColour.y, kPanelColour.u,
              kPanelColour.v);
    for (int i = 0; i < line_count; ++i) {
      draw_text(image, margin + padding, margin + padding + i * line_pitch, lines[i], scale,
                kTextLuma);
    }
  }

  // Local wall-clock time with milliseconds, HH:MM:SS.mmm.
  static void format_clock(std::chrono::system_clock::time_point timestamp, char* out,
                           std::size_t size) {
    const auto since_epoch = timestamp.time_since_epoch();
    const auto seconds = std::chrono::floor<std::chrono::seconds>(since_epoch);
    const auto millis =
        std::chrono::duration_cast<std::chrono::milliseconds>(since_epoch - seconds).count();
    const std::time_t whole = static_cast<std::time_t>(seconds.count());
    std::tm local{};
    localtime_r(&whole, &local);
    std::snprintf(out, size, "%02d:%02d:%02d.%03d", local.tm_hour, local.tm_min, local.tm_sec,
                  static_cast<int>(millis));
  }

  const CaptureConfig config_;
  const Orientation orientation_;
  const ScrollRows bar_rows_;
  const ScrollRows ramp_rows_;
  const int text_scale_;
  std::optional<OwnedYuvImage> picture_;  // allocated by the first start(), reused after
  std::optional<OwnedYuvImage> zoomed_;   // the same, for the zoomed picture
  FrameTransformer transformer_;          // the worker's; its buffer grows only with the picture
  std::atomic<double> brightness_{kDefaultBrightness};
  std::atomic<double> contrast_{kDefaultContrast};
  std::atomic<double> zoom_{kDefaultZoom};
  std::mutex control_mutex_;  // serialises start() and stop()
  std::jthread worker_;
  std::atomic<std::thread::id> worker_id_{};
  std::atomic<bool> stopped_from_callback_{false};
};

}  // namespace

std::unique_ptr<FrameSource> make_test_source(const CaptureConfig& config) {
  if (config.width <= 0 || config.height <= 0 || config.width % 2 != 0 || config.height % 2 != 0) {
    throw CaptureError("test source: picture size must be positive and even, not " +
                       std::to_string(config.width) + "x" + std::to_string(config.height));
  }
  if (!is_valid_rotation(config.rotation)) {
    throw CaptureError("test source: rotation " + std::to_string(config.rotation) +
                       " is not 0, 90, 180 or 270");
  }
  if (config.interval <= std::chrono::microseconds::zero()) {
    throw CaptureError("test source: frame interval must be positive");
  }
  return std::make_unique<TestSource>(config);
}

}  // namespace camstream
