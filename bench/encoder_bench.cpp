// encoder-bench: camstream's JPEG encoder and its whole per-frame path, measured.
//
//   BM_Encode/W/H           JpegEncoder::encode of one test-pattern picture, quality 80
//   BM_TurboJpegFromYuv/W/H tjCompressFromYUVPlanes called directly on the same planes: what
//                           tjbench -yuv times as "Comp Perf", here in CPU time
//   BM_SourceEncodeHub/W/H  the test source drawing as fast as it can, each frame encoded
//                           once into a pooled frame and published to a FrameHub
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

#include "camstream/capture.hpp"
#include "camstream/draw.hpp"
#include "camstream/encode.hpp"
#include "camstream/stream.hpp"

namespace {

using namespace camstream;
constexpr int kQuality = 80;

// A copy of the test source's 30th frame: moving bars, the box and the text panel.
OwnedYuvImage test_picture(int width, int height) {
  CaptureConfig config;
  config.width = width;
  config.height = height;
  config.interval = std::chrono::microseconds(1000);
  auto source = make_test_source(config);
  OwnedYuvImage picture(width, height);
  std::mutex mutex;
  std::condition_variable copied;
  bool done = false;
  source->start(
      [&](const FrameView& frame) {
        if (frame.sequence != 30) return;
        const YuvImage& out = picture.image();
        for (int row = 0; row < height; ++row) {
          std::memcpy(out.y + row * out.y_stride,
                      frame.planes[0].data + row * frame.planes[0].stride,
                      static_cast<std::size_t>(width));
        }
        for (int row = 0; row < height / 2; ++row) {
          std::memcpy(out.u + row * out.uv_stride,
                      frame.planes[1].data + row * frame.planes[1].stride,
                      static_cast<std::size_t>(width / 2));
          std::memcpy(out.v + row * out.uv_stride,
                      frame.planes[2].data + row * frame.planes[2].stride,
                      static_cast<std::size_t>(width / 2));
        }
        std::lock_guard lock(mutex);
        done = true;
        copied.notify_one();
      },
      nullptr);
  {
    std::unique_lock lock(mutex);
    if (!copied.wait_for(lock, std::chrono::seconds(10), [&] { return done; })) {
      throw std::runtime_error("the test source gave no frame in 10 s");
    }
  }
  source->stop();
  return picture;
}

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

#define CAMSTREAM_SIZES Args({640, 480})->Args({1280, 720})->Args({1920, 1080})
BENCHMARK(BM_Encode)->CAMSTREAM_SIZES->Unit(benchmark::kMillisecond);
BENCHMARK(BM_TurboJpegFromYuv)->CAMSTREAM_SIZES->Unit(benchmark::kMillisecond);
BENCHMARK(BM_SourceEncodeHub)->CAMSTREAM_SIZES->Unit(benchmark::kMillisecond)->UseRealTime();

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
