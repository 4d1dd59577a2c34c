// encoder-bench: camstream's JPEG encoder and its whole per-frame path, measured.
//
//   BM_Encode/W/H           JpegEncoder::encode of one test-pattern picture, quality 80
//   BM_TurboJpegFromYuv/W/H tjCompressFromYUVPlanes called directly on the same planes: what
//                           tjbench -yuv times as "Comp Perf", here in CPU time
//   BM_SourceEncodeHub/W/H  the test source drawing as fast as it can, each frame encoded
//                           once into a pooled frame and published to a FrameHub
//   BM_EncodeFormat/F/L/W/H JpegEncoder::encode of the same picture as a camera format
//                           F (0 I420, 1 NV12, 2 YUYV, 3 UYVY, 4 MJPEG without DHT passed
//                           through) in full (L=0) or limited range (L=1, expanded)
//   BM_DecodeMjpeg/S/W/H    JpegDecoder::decode of a camera JPEG to I420: S=0 a 4:2:0 JPEG
//                           (camstream's own, as a relay of it gets), S=1 4:2:2 without DHT
//                           (as a UVC camera sends it; halved to 4:2:0 after decoding)
//   BM_TurnedMjpeg/W/H      the encoding stage on that 4:2:2 camera JPEG with --rotation 90:
//                           decode, turn, encode (what a turned MJPEG camera or relay costs)
//
// --write-ppm=FILE --ppm-size=WxH (before the benchmark flags) writes the test picture of that
// size as an RGB PPM and exits, so that tjbench can compress the same picture
// (bench/tjbench-compare.sh).
#include <benchmark/benchmark.h>
#include <turbojpeg.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstdio>
#include <cstring>
#include <fstream>
#include <iostream>
#include <mutex>
#include <stdexcept>
#include <string>
#include <vector>

#include "camstream/capture/capture_config.hpp"
#include "camstream/capture/draw.hpp"
#include "camstream/capture/owned_yuv_image.hpp"
#include "camstream/capture/test_source.hpp"
#include "camstream/core/frame.hpp"
#include "camstream/encode/encode_stage.hpp"
#include "camstream/encode/encoded_frame.hpp"
#include "camstream/encode/frame_pool.hpp"
#include "camstream/encode/jpeg_encoder.hpp"
#include "camstream/stream/frame_hub.hpp"
#include "encode/jpeg_decoder.hpp"
#include "test_picture.hpp"

namespace {

using namespace camstream;
constexpr int kQuality = 80;

using bench::test_picture;

void BM_Encode(benchmark::State& state) {
  const int width = static_cast<int>(state.range(0));
  const int height = static_cast<int>(state.range(1));
  const OwnedYuvImage picture = test_picture(width, height);
  const FrameView frame = picture.view();
  JpegEncoder encoder(kQuality);
  std::vector<std::uint8_t> out(JpegEncoder::max_jpeg_size(width, height));
  std::size_t jpeg_size = 0;
  for (auto _ : state) {
    jpeg_size = encoder.encode(frame, out);
    benchmark::DoNotOptimize(out.data());
  }
  state.SetItemsProcessed(state.iterations());  // frames
  state.counters["jpeg_bytes"] = static_cast<double>(jpeg_size);
  state.counters["Mpix_per_s"] = benchmark::Counter(
      static_cast<double>(width) * height * static_cast<double>(state.iterations()) / 1e6,
      benchmark::Counter::kIsRate);
}

// The library alone, without camstream's wrapper: the yardstick for "within 5% of tjbench"
// that does not depend on how busy the machine is (CPU time, not wall time).
void BM_TurboJpegFromYuv(benchmark::State& state) {
  const int width = static_cast<int>(state.range(0));
  const int height = static_cast<int>(state.range(1));
  const OwnedYuvImage picture = test_picture(width, height);
  const YuvImage& image = picture.image();
  const unsigned char* planes[3] = {image.y, image.u, image.v};
  const int strides[3] = {image.y_stride, image.uv_stride, image.uv_stride};
  tjhandle handle = tjInitCompress();
  std::vector<std::uint8_t> out(tjBufSize(width, height, TJSAMP_420));
  unsigned long jpeg_size = 0;
  for (auto _ : state) {
    unsigned char* jpeg = out.data();
    jpeg_size = out.size();
    if (tjCompressFromYUVPlanes(handle, planes, width, strides, height, TJSAMP_420, &jpeg,
                                &jpeg_size, kQuality, TJFLAG_NOREALLOC) != 0) {
      state.SkipWithError(tjGetErrorStr2(handle));
      break;
    }
  }
  tjDestroy(handle);
  state.SetItemsProcessed(state.iterations());
  state.counters["jpeg_bytes"] = static_cast<double>(jpeg_size);
  state.counters["Mpix_per_s"] = benchmark::Counter(
      static_cast<double>(width) * height * static_cast<double>(state.iterations()) / 1e6,
      benchmark::Counter::kIsRate);
}

// Each iteration waits for the next frame to reach the hub, so the time per iteration is
// the pipeline's time per frame when it runs flat out (the source is not paced: 1 us).
void BM_SourceEncodeHub(benchmark::State& state) {
  const int width = static_cast<int>(state.range(0));
  const int height = static_cast<int>(state.range(1));
  CaptureConfig config;
  config.width = width;
  config.height = height;
  config.interval = std::chrono::microseconds(1);
  auto source = make_test_source(config);
  JpegEncoder encoder(kQuality);
  FramePool pool(JpegEncoder::max_jpeg_size(width, height));
  FrameHub hub;
  std::mutex mutex;
  std::condition_variable published;
  std::uint64_t count = 0;
  std::size_t jpeg_bytes = 0;
  hub.add_listener([&](const FramePtr& frame) {
    std::lock_guard lock(mutex);
    ++count;
    jpeg_bytes = frame->jpeg_size;
    published.notify_one();
  });
  source->start(
      [&](const FrameView& view) {
        auto frame = pool.acquire();
        frame->jpeg_size = encoder.encode(view, frame->writable());
        frame->width = view.width;
        frame->height = view.height;
        frame->sequence = view.sequence;
        frame->timestamp = view.timestamp;
        hub.publish(std::move(frame));
      },
      nullptr);
  std::uint64_t seen = 0;
  {
    std::unique_lock lock(mutex);
    published.wait(lock, [&] { return count > 0; });  // warm: first frame out
    seen = count;
  }
  for (auto _ : state) {
    std::unique_lock lock(mutex);
    published.wait(lock, [&] { return count > seen; });
    seen = count;
  }
  source->stop();
  state.SetItemsProcessed(state.iterations());
  state.counters["jpeg_bytes"] = static_cast<double>(jpeg_bytes);
  state.counters["pool_frames"] = static_cast<double>(pool.size());
}

// The test picture in the layout of a camera format (built once, outside the timing).
class CameraPicture {
 public:
  CameraPicture(int format, bool limited, int width, int height)
      : picture_(test_picture(width, height)) {
    const YuvImage& image = picture_.image();
    view_ = picture_.view();
    view_.range = limited ? ColorRange::Limited : ColorRange::Full;
    const auto w = static_cast<std::size_t>(width);
    auto y_at = [&](int x, int y) { return image.y[y * image.y_stride + x]; };
    auto u_at = [&](int x, int y) { return image.u[(y / 2) * image.uv_stride + x / 2]; };
    auto v_at = [&](int x, int y) { return image.v[(y / 2) * image.uv_stride + x / 2]; };
    switch (format) {
      case 1:  // NV12
        bytes_.resize(w * height * 3 / 2);
        for (int y = 0; y < height; ++y) {
          for (int x = 0; x < width; ++x) {
            bytes_[y * w + x] = y_at(x, y);
            bytes_[w * height + (y / 2) * w + x / 2 * 2] = u_at(x, y);
            bytes_[w * height + (y / 2) * w + x / 2 * 2 + 1] = v_at(x, y);
          }
        }
        view_.format = PixelFormat::NV12;
        view_.planes[0] = {bytes_.data(), width, w * height};
        view_.planes[1] = {bytes_.data() + w * height, width, w * height / 2};
        break;
      case 2:  // YUYV
      case 3:  // UYVY
        bytes_.resize(w * height * 2);
        for (int y = 0; y < height; ++y) {
          for (int x = 0; x < width; x += 2) {
            std::uint8_t* out = &bytes_[y * w * 2 + x * 2];
            const std::uint8_t packed[4] = {y_at(x, y), u_at(x, y), y_at(x + 1, y), v_at(x, y)};
            if (format == 2) {
              std::memcpy(out, packed, 4);
            } else {
              const std::uint8_t swapped[4] = {packed[1], packed[0], packed[3], packed[2]};
              std::memcpy(out, swapped, 4);
            }
          }
        }
        view_.format = format == 2 ? PixelFormat::YUYV : PixelFormat::UYVY;
        view_.planes[0] = {bytes_.data(), 2 * width, bytes_.size()};
        break;
      case 4: {  // MJPEG as a UVC camera sends it: 4:2:2, no DHT
        JpegEncoder encoder(kQuality);
        CameraPicture packed(2, false, width, height);
        std::vector<std::uint8_t> jpeg(JpegEncoder::max_jpeg_size(width, height));
        jpeg.resize(encoder.encode(packed.view(), jpeg));
        bytes_ = without_huffman_tables(jpeg);
        view_.format = PixelFormat::MJPEG;
        view_.planes[0] = {bytes_.data(), 0, bytes_.size()};
        break;
      }
      default:
        break;  // I420: the picture itself
    }
  }
  CameraPicture(const CameraPicture&) = delete;
  const FrameView& view() const { return view_; }

 private:
  static std::vector<std::uint8_t> without_huffman_tables(const std::vector<std::uint8_t>& jpeg) {
    std::vector<std::uint8_t> out(jpeg.begin(), jpeg.begin() + 2);
    std::size_t pos = 2;
    while (pos + 4 <= jpeg.size() && jpeg[pos] == 0xFF) {
      const std::size_t end = pos + 2 + ((std::size_t{jpeg[pos + 2]} << 8) | jpeg[pos + 3]);
      const bool scan = jpeg[pos + 1] == 0xDA;
      if (jpeg[pos + 1] != 0xC4) out.insert(out.end(), jpeg.begin() + pos, jpeg.begin() + end);
      pos = end;
      if (scan) break;
    }
    out.insert(out.end(), jpeg.begin() + pos, jpeg.end());
    return out;
  }

  OwnedYuvImage picture_;
  std::vector<std::uint8_t> bytes_;
  FrameView view_;
};

void BM_EncodeFormat(benchmark::State& state) {
  const int format = static_cast<int>(state.range(0));
  const bool limited = state.range(1) != 0;
  const int width = static_cast<int>(state.range(2));
  const int height = static_cast<int>(state.range(3));
  const CameraPicture picture(format, limited, width, height);
  JpegEncoder encoder(kQuality);
  std::vector<std::uint8_t> out(JpegEncoder::max_jpeg_size(width, height));
  std::size_t jpeg_size = 0;
  for (auto _ : state) {
    jpeg_size = encoder.encode(picture.view(), out);
    benchmark::DoNotOptimize(out.data());
  }
  static constexpr const char* kNames[] = {"I420", "NV12", "YUYV", "UYVY", "MJPEG"};
  state.SetLabel(std::string(kNames[format]) + (limited ? " limited" : " full"));
  state.SetItemsProcessed(state.iterations());
  state.counters["jpeg_bytes"] = static_cast<double>(jpeg_size);
}

void format_arguments(benchmark::internal::Benchmark* benchmark) {
  for (auto [width, height] : {std::pair{640, 480}, std::pair{1280, 720}}) {
    for (int format = 0; format < 4; ++format) {
      for (int limited = 0; limited < 2; ++limited) {
        benchmark->Args({format, limited, width, height});
      }
    }
    benchmark->Args({4, 0, width, height});
  }
}

void BM_DecodeMjpeg(benchmark::State& state) {
  const bool camera = state.range(0) != 0;
  const int width = static_cast<int>(state.range(1));
  const int height = static_cast<int>(state.range(2));
  const CameraPicture picture(camera ? 4 : 0, false, width, height);
  std::vector<std::uint8_t> own;
  FrameView jpeg = picture.view();
  if (!camera) {
    JpegEncoder encoder(kQuality);
    own.resize(JpegEncoder::max_jpeg_size(width, height));
    own.resize(encoder.encode(picture.view(), own));
    jpeg = FrameView{};
    jpeg.format = PixelFormat::MJPEG;
    jpeg.width = width;
    jpeg.height = height;
    jpeg.planes[0] = {own.data(), 0, own.size()};
  }
  JpegDecoder decoder;
  for (auto _ : state) {
    const FrameView planes = decoder.decode(jpeg);
    benchmark::DoNotOptimize(planes.planes[0].data);
  }
  state.SetLabel(camera ? "4:2:2 camera JPEG" : "4:2:0 camstream JPEG");
  state.SetItemsProcessed(state.iterations());
  state.counters["jpeg_bytes"] = static_cast<double>(jpeg.planes[0].size);
}

void BM_TurnedMjpeg(benchmark::State& state) {
  const int width = static_cast<int>(state.range(0));
  const int height = static_cast<int>(state.range(1));
  const CameraPicture picture(4, false, width, height);
  std::size_t jpeg_size = 0;
  EncodeStage stage({kQuality, 1, {OutputSize{}}},
                    [&](const FrameView&, std::span<const EncodedOutput> jpegs) {
                      jpeg_size = jpegs.front().jpeg.size();
                    });
  stage.set_mjpeg_orientation(Orientation{90, false, false});
  for (auto _ : state) stage.encode(picture.view(), 1);
  state.SetItemsProcessed(state.iterations());
  state.counters["jpeg_bytes"] = static_cast<double>(jpeg_size);
}

#define CAMSTREAM_SIZES Args({640, 480})->Args({1280, 720})->Args({1920, 1080})
BENCHMARK(BM_Encode)->CAMSTREAM_SIZES->Unit(benchmark::kMillisecond);
BENCHMARK(BM_TurboJpegFromYuv)->CAMSTREAM_SIZES->Unit(benchmark::kMillisecond);
BENCHMARK(BM_SourceEncodeHub)->CAMSTREAM_SIZES->Unit(benchmark::kMillisecond)->UseRealTime();
BENCHMARK(BM_EncodeFormat)->Apply(format_arguments)->Unit(benchmark::kMicrosecond);
BENCHMARK(BM_DecodeMjpeg)
    ->Args({0, 640, 480})
    ->Args({1, 640, 480})
    ->Args({0, 1280, 720})
    ->Args({1, 1280, 720})
    ->Unit(benchmark::kMicrosecond);
BENCHMARK(BM_TurnedMjpeg)->Args({640, 480})->Args({1280, 720})->Unit(benchmark::kMicrosecond);

std::uint8_t to_byte(double value) {
  return static_cast<std::uint8_t>(std::clamp(value + 0.5, 0.0, 255.0));
}

// Full-range BT.601 (JFIF), the inverse of the conversion the test source draws with.
void write_ppm(const std::string& path, int width, int height) {
  const OwnedYuvImage picture = test_picture(width, height);
  const YuvImage& image = picture.image();
  std::ofstream out(path, std::ios::binary);
  out << "P6\n" << width << ' ' << height << "\n255\n";
  std::vector<std::uint8_t> row(static_cast<std::size_t>(width) * 3);
  for (int y = 0; y < height; ++y) {
    for (int x = 0; x < width; ++x) {
      const double luma = image.y[y * image.y_stride + x];
      const double cb = image.u[(y / 2) * image.uv_stride + x / 2] - 128.0;
      const double cr = image.v[(y / 2) * image.uv_stride + x / 2] - 128.0;
      row[3 * x] = to_byte(luma + 1.402 * cr);
      row[3 * x + 1] = to_byte(luma - 0.344136 * cb - 0.714136 * cr);
      row[3 * x + 2] = to_byte(luma + 1.772 * cb);
    }
    out.write(reinterpret_cast<const char*>(row.data()), static_cast<std::streamsize>(row.size()));
  }
  if (!out) throw std::runtime_error("cannot write " + path);
}

}  // namespace

int main(int argc, char** argv) {
  std::string ppm_path;
  std::string ppm_size = "640x480";
  std::vector<char*> rest{argv[0]};
  for (int i = 1; i < argc; ++i) {
    const std::string_view argument = argv[i];
    if (argument.starts_with("--write-ppm=")) {
      ppm_path = argument.substr(12);
    } else if (argument.starts_with("--ppm-size=")) {
      ppm_size = argument.substr(11);
    } else {
      rest.push_back(argv[i]);
    }
  }
  if (!ppm_path.empty()) {
    int width = 0;
    int height = 0;
    if (std::sscanf(ppm_size.c_str(), "%dx%d", &width, &height) != 2) {
      std::cerr << "encoder-bench: --ppm-size must be WxH, not " << ppm_size << '\n';
      return 2;
    }
    try {
      write_ppm(ppm_path, width, height);
    } catch (const std::exception& error) {
      std::cerr << "encoder-bench: " << error.what() << '\n';
      return 1;
    }
    return 0;
  }
  int rest_count = static_cast<int>(rest.size());
  benchmark::Initialize(&rest_count, rest.data());
  if (benchmark::ReportUnrecognizedArguments(rest_count, rest.data())) return 2;
  benchmark::RunSpecifiedBenchmarks();
  benchmark::Shutdown();
  return 0;
}
