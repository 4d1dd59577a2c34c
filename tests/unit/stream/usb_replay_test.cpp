// USB webcam frames (recorded YUYV, UVC-style MJPEG without DHT, a truncated MJPEG) replayed
// through the FrameSource interface into the real CaptureService (encoder, hub, metrics),
// and the published JPEGs decoded by a real ffmpeg process.
#include <gtest/gtest.h>
#include <spdlog/spdlog.h>

#include <algorithm>
#include <boost/asio/io_context.hpp>
#include <cmath>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <vector>

#include "camstream/encode/encoded_frame.hpp"
#include "camstream/encode/jpeg_encoder.hpp"
#include "camstream/stream/capture_service.hpp"
#include "camstream/stream/demand_token.hpp"
#include "camstream/stream/frame_hub.hpp"
#include "camstream/stream/metrics.hpp"
#include "replay_source.hpp"

namespace camstream {
namespace {

using namespace std::chrono_literals;
using Bytes = std::vector<std::uint8_t>;
namespace fs = std::filesystem;

const fs::path kData = CAMSTREAM_TEST_DATA_DIR;
constexpr int kWidth = 640;
constexpr int kHeight = 480;

// Runs a shell command and returns its standard output (its standard error goes to the log).
Bytes run(const std::string& command) {
  Bytes output;
  FILE* pipe = ::popen(command.c_str(), "r");
  if (pipe == nullptr) {
    ADD_FAILURE() << "cannot run " << command;
    return output;
  }
  std::uint8_t buffer[65536];
  std::size_t got = 0;
  while ((got = std::fread(buffer, 1, sizeof buffer, pipe)) > 0) {
    output.insert(output.end(), buffer, buffer + got);
  }
  const int status = ::pclose(pipe);
  EXPECT_EQ(status, 0) << command;
  return output;
}

std::string quoted(const fs::path& path) {
  std::string text = "'";  // built by appending: GCC 12 warns falsely on "'" + string
  text += path.string();
  text += '\'';
  return text;
}

// ffmpeg's picture of a file as packed RGB, and its size as ffprobe reports it.
Bytes ffmpeg_rgb(const std::string& input_options, const fs::path& file) {
  return run("ffmpeg -nostdin -v error " + input_options + " -i " + quoted(file) +
             " -frames:v 1 -f rawvideo -pix_fmt rgb24 -");
}

std::string ffprobe_size(const fs::path& file) {
  const Bytes out =
      run("ffprobe -v error -select_streams v:0 -show_entries stream=width,height "
          "-of csv=p=0 " +
          quoted(file));
  std::string text(out.begin(), out.end());
  while (!text.empty() && (text.back() == '\n' || text.back() == ',')) text.pop_back();
  return text;
}

double psnr(const Bytes& a, const Bytes& b) {
  EXPECT_EQ(a.size(), b.size());
  if (a.size() != b.size() || a.empty()) return 0;
  double squared = 0;
  for (std::size_t i = 0; i < a.size(); ++i) {
    const double d = static_cast<double>(a[i]) - b[i];
    squared += d * d;
  }
  const double mse = squared / static_cast<double>(a.size());
  return mse == 0 ? 99.0 : 10.0 * std::log10(255.0 * 255.0 / mse);
}

// The 1st and 99th percentiles of JFIF luma in an RGB picture: where its darks and lights
// sit, without the single-pixel outliers of JPEG ringing.
std::pair<double, double> luma_extremes(const Bytes& rgb) {
  std::vector<double> luma;
  luma.reserve(rgb.size() / 3);
  for (std::size_t i = 0; i + 2 < rgb.size(); i += 3) {
    luma.push_back(0.299 * rgb[i] + 0.587 * rgb[i + 1] + 0.114 * rgb[i + 2]);
  }
  if (luma.empty()) return {0, 0};
  std::sort(luma.begin(), luma.end());
  return {luma[luma.size() / 100], luma[luma.size() * 99 / 100]};
}

class UsbReplay : public ::testing::Test {
 protected:
  void SetUp() override {
    // The log exists before the source's thread can write to it, as camstream's main() makes
    // it first: spdlog builds its registry on first use, and a dropped frame on the source's
    // thread could otherwise race the main thread's first log line to build it.
    spdlog::default_logger();
    directory_ = fs::temp_directory_path() /
                 ("camstream-usb-replay-" + std::to_string(::getpid()) + "-" +
                  ::testing::UnitTest::GetInstance()->current_test_info()->name());
    fs::create_directories(directory_);
    hub_.add_listener([this](const FramePtr& frame) {
      if (frame->placeholder) return;
      std::lock_guard lock(mutex_);
      published_.emplace_back(frame->jpeg().begin(), frame->jpeg().end());
    });
    // The picture the recorded frames were made from, as ffmpeg sees the YUYV recording.
    reference_ = ffmpeg_rgb("-f rawvideo -pix_fmt yuyv422 -video_size 640x480",
                            kData / "usb_yuyv_640x480.yuyv");
    ASSERT_EQ(reference_.size(), std::size_t{kWidth} * kHeight * 3) << "ffmpeg missing?";
  }
  void TearDown() override {
    if (service_) service_->shutdown();
    service_.reset();
    fs::remove_all(directory_);
  }

  // Streams the recorded frames through a CaptureService until `count` JPEGs are out.
  std::vector<Bytes> stream(std::vector<test::RecordedFrame> frames, std::size_t count) {
    CaptureService::Settings settings;
    settings.lifecycle.idle_timeout = 0s;
    service_.emplace(io_.get_executor(),
                     std::make_unique<test::ReplaySource>(std::move(frames), 5ms), settings, hub_,
                     metrics_);
    service_->begin();
    DemandToken viewer = service_->hold_demand();
    const auto deadline = std::chrono::steady_clock::now() + 10s;
    while (published_count() < count && std::chrono::steady_clock::now() < deadline) {
      io_.restart();
      io_.run_for(10ms);
    }
    viewer.reset();
    service_->shutdown();
    std::lock_guard lock(mutex_);
    return published_;
  }

  void expect_luma_range_of_reference(const Bytes& decoded) {
    const auto [darkest, brightest] = luma_extremes(decoded);
    const auto [reference_darkest, reference_brightest] = luma_extremes(reference_);
    EXPECT_NEAR(darkest, reference_darkest, 4.0);
    EXPECT_NEAR(brightest, reference_brightest, 4.0);
    std::printf("luma 1%%/99%%: %.1f/%.1f, recording %.1f/%.1f\n", darkest, brightest,
                reference_darkest, reference_brightest);
  }

  std::size_t published_count() {
    std::lock_guard lock(mutex_);
    return published_.size();
  }

  fs::path write(const Bytes& jpeg, const std::string& name) {
    const fs::path path = directory_ / name;
    std::ofstream(path, std::ios::binary)
        .write(reinterpret_cast<const char*>(jpeg.data()),
               static_cast<std::streamsize>(jpeg.size()));
    return path;
  }

  boost::asio::io_context io_;
  FrameHub hub_;
  Metrics metrics_;
  std::optional<CaptureService> service_;
  std::mutex mutex_;
  std::vector<Bytes> published_;
  fs::path directory_;
  Bytes reference_;
};

TEST_F(UsbReplay, RecordedYuyvDecodesInFfmpegAtFullRange) {
  test::RecordedFrame yuyv{test::read_file(kData / "usb_yuyv_640x480.yuyv"),
                           PixelFormat::YUYV,
                           kWidth,
                           kHeight,
                           2 * kWidth,
                           ColorRange::Limited};
  ASSERT_EQ(yuyv.bytes.size(), std::size_t{kWidth} * kHeight * 2);
  const auto jpegs = stream({yuyv}, 3);
  ASSERT_GE(jpegs.size(), 3u);
  EXPECT_EQ(metrics_.dropped_corrupt.load(), 0u);
  EXPECT_EQ(metrics_.dropped_encode_error.load(), 0u);

  const fs::path file = write(jpegs.back(), "yuyv.jpg");
  EXPECT_EQ(ffprobe_size(file), "640,480");
  const Bytes decoded = ffmpeg_rgb("", file);
  ASSERT_EQ(decoded.size(), reference_.size());
  const double quality = psnr(decoded, reference_);
  EXPECT_GT(quality, 30.0) << "PSNR against the recording";
  // The darkest and brightest parts of the picture where the recording has them, not 16/235.
  expect_luma_range_of_reference(decoded);

  // The same bytes taken as full range come out washed out: the comparison can tell.
  JpegEncoder encoder(80);
  FrameView view;
  view.format = PixelFormat::YUYV;
  view.width = kWidth;
  view.height = kHeight;
  view.planes[0] = {yuyv.bytes.data(), 2 * kWidth, yuyv.bytes.size()};
  Bytes washed(JpegEncoder::max_jpeg_size(kWidth, kHeight));
  washed.resize(encoder.encode(view, washed));
  const Bytes washed_rgb = ffmpeg_rgb("", write(washed, "washed.jpg"));
  EXPECT_LT(psnr(washed_rgb, reference_), quality - 3.0);
  const auto [washed_darkest, washed_brightest] = luma_extremes(washed_rgb);
  std::printf("washed luma 1%%/99%%: %.1f/%.1f\n", washed_darkest, washed_brightest);
  EXPECT_GT(washed_darkest, luma_extremes(reference_).first + 8.0);
  EXPECT_LT(washed_brightest, luma_extremes(reference_).second - 8.0);
}

TEST_F(UsbReplay, UvcMjpegPassesThroughAndTruncatedFramesAreCounted) {
  const fs::path camera_file = kData / "usb_uvc_640x480.mjpg";
  test::RecordedFrame good{test::read_file(camera_file), PixelFormat::MJPEG, kWidth, kHeight};
  test::RecordedFrame truncated{test::read_file(kData / "usb_uvc_640x480_truncated.mjpg"),
                                PixelFormat::MJPEG, kWidth, kHeight};
  const auto jpegs = stream({good, truncated}, 3);
  ASSERT_GE(jpegs.size(), 3u);
  // Every other frame was truncated: each one dropped and counted, none published.
  const auto corrupt = metrics_.dropped_corrupt.load();
  EXPECT_GE(corrupt, jpegs.size() - 1);
  EXPECT_LE(corrupt, jpegs.size() + 1);
  EXPECT_EQ(metrics_.dropped_encode_error.load(), 0u);
  // The source has stopped: every captured frame was either published or dropped as corrupt.
  EXPECT_EQ(metrics_.frames_captured.load(), metrics_.frames_encoded.load() + corrupt);

  std::size_t trimmed = good.bytes.size();
  while (good.bytes[trimmed - 1] == 0) --trimmed;
  for (const Bytes& jpeg : jpegs) {
    EXPECT_EQ(jpeg.size(), trimmed + 420) << "the camera JPEG plus one DHT segment";
    EXPECT_EQ(jpeg[jpeg.size() - 1], 0xD9);
  }

  const fs::path file = write(jpegs.front(), "mjpeg.jpg");
  EXPECT_EQ(ffprobe_size(file), "640,480");
  const Bytes decoded = ffmpeg_rgb("", file);
  // ffmpeg assumes the standard tables when a JPEG has none (browsers do not): the camera's
  // own bytes decode to the same picture, so nothing but the tables changed.
  EXPECT_EQ(decoded, ffmpeg_rgb("-f mjpeg", camera_file));
  EXPECT_GT(psnr(decoded, reference_), 30.0) << "PSNR against the recording";
  expect_luma_range_of_reference(decoded);
}

}  // namespace
}  // namespace camstream
