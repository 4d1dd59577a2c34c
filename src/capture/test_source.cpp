// The built-in test source: a moving picture drawn straight into I420 planes, paced on the
// steady clock by its own worker thread.
#include <algorithm>
#include <atomic>
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

#include "camstream/capture.hpp"
#include "camstream/draw.hpp"

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
    return SourceInfo{"test", std::nullopt, config_.width, config_.height, config_.interval};
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
      draw(sequence, timestamp);
      FrameView frame = picture_->view();
      frame.sequence = sequence;
      frame.timestamp = timestamp;
      try {
        on_frame(frame);
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

  void draw(std::uint64_t sequence, std::chrono::system_clock::time_point timestamp) {
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

    draw_text_panel(image, sequence, timestamp);
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
  const ScrollRows bar_rows_;
  const ScrollRows ramp_rows_;
  const int text_scale_;
  std::optional<OwnedYuvImage> picture_;  // allocated by the first start(), reused after
  std::mutex control_mutex_;              // serialises start() and stop()
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
  if (config.interval <= std::chrono::microseconds::zero()) {
    throw CaptureError("test source: frame interval must be positive");
  }
  return std::make_unique<TestSource>(config);
}

}  // namespace camstream
