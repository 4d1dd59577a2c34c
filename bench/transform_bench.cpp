// transform-bench: the software picture geometry per frame (docs/performance.md, "Rotation and
// scaling").
//
//   BM_Rotate/W/H/DEG            FrameTransformer::apply (libyuv I420Rotate), I420 in
//   BM_RotateNv12/W/H/DEG        the same from NV12 (libyuv NV12ToI420Rotate), the Pi's format
//   BM_RotateHFlip/W/H           rotation 0 with --hflip (one libyuv call: a half turn read
//                                bottom-up)
//   BM_RotateNaive/W/H/DEG       the obvious per-pixel loop, for comparison
//   BM_Scale/SW/SH/DW/DH         FrameScaler::scale of I420 (libyuv I420Scale, box filter;
//                                2/3 by camstream's own loop, the same picture)
//   BM_ScaleNv12/SW/SH/DW/DH     the same of NV12
//   BM_ScaleNaive/SW/SH/DW/DH    a per-pixel box average loop, the same output
//
// Rotation and scaling cost the same whatever the pixels are: the pictures are gradients.
#include <benchmark/benchmark.h>

#include <algorithm>
#include <cstdint>
#include <utility>
#include <vector>

#include "camstream/core/frame.hpp"
#include "camstream/core/frame_scaler.hpp"
#include "camstream/core/frame_transformer.hpp"
#include "camstream/core/orientation.hpp"

namespace {

using namespace camstream;

// An I420 or NV12 picture with a gradient in every plane, unpadded.
struct Picture {
  std::vector<std::uint8_t> y, u, v;
  FrameView view;

  Picture(PixelFormat format, int width, int height) {
    y.resize(static_cast<std::size_t>(width) * height);
    for (std::size_t i = 0; i < y.size(); ++i) y[i] = static_cast<std::uint8_t>(i * 7 + i / 640);
    view.format = format;
    view.width = width;
    view.height = height;
    view.planes[0] = {y.data(), width, y.size()};
    if (format == PixelFormat::I420) {
      u.assign(y.size() / 4, 90);
      v.assign(y.size() / 4, 160);
      view.planes[1] = {u.data(), width / 2, u.size()};
      view.planes[2] = {v.data(), width / 2, v.size()};
    } else {
      u.assign(y.size() / 2, 120);
      view.planes[1] = {u.data(), width, u.size()};
    }
  }
};

void set_counters(benchmark::State& state, int width, int height) {
  state.SetItemsProcessed(state.iterations());
  state.SetBytesProcessed(state.iterations() * width * height * 3 / 2);
}

void BM_Rotate(benchmark::State& state) {
  const int width = static_cast<int>(state.range(0));
  const int height = static_cast<int>(state.range(1));
  const Picture picture(PixelFormat::I420, width, height);
  FrameTransformer transformer;
  const Orientation orientation{static_cast<int>(state.range(2)), false, false};
  for (auto _ : state) {
    const FrameView out = transformer.apply(picture.view, orientation);
    benchmark::DoNotOptimize(out.planes[0].data);
    benchmark::ClobberMemory();
  }
  set_counters(state, width, height);
}

void BM_RotateNv12(benchmark::State& state) {
  const int width = static_cast<int>(state.range(0));
  const int height = static_cast<int>(state.range(1));
  const Picture picture(PixelFormat::NV12, width, height);
  FrameTransformer transformer;
  const Orientation orientation{static_cast<int>(state.range(2)), false, false};
  for (auto _ : state) {
    const FrameView out = transformer.apply(picture.view, orientation);
    benchmark::DoNotOptimize(out.planes[0].data);
    benchmark::ClobberMemory();
  }
  set_counters(state, width, height);
}

void BM_RotateHFlip(benchmark::State& state) {
  const int width = static_cast<int>(state.range(0));
  const int height = static_cast<int>(state.range(1));
  const Picture picture(PixelFormat::I420, width, height);
  FrameTransformer transformer;
  for (auto _ : state) {
    const FrameView out = transformer.apply(picture.view, Orientation{0, true, false});
    benchmark::DoNotOptimize(out.planes[0].data);
    benchmark::ClobberMemory();
  }
  set_counters(state, width, height);
}

// out(x, y) of a plane turned clockwise `quarters` times, the obvious way.
void naive_rotate_plane(const std::uint8_t* in, int width, int height, std::uint8_t* out,
                        int quarters) {
  const int out_width = quarters % 2 != 0 ? height : width;
  for (int y = 0; y < height; ++y) {
    for (int x = 0; x < width; ++x) {
      int ox = x, oy = y;
      if (quarters == 1) {
        ox = height - 1 - y;
        oy = x;
      } else if (quarters == 2) {
        ox = width - 1 - x;
        oy = height - 1 - y;
      } else if (quarters == 3) {
        ox = y;
        oy = width - 1 - x;
      }
      out[oy * out_width + ox] = in[y * width + x];
    }
  }
}

void BM_RotateNaive(benchmark::State& state) {
  const int width = static_cast<int>(state.range(0));
  const int height = static_cast<int>(state.range(1));
  const int quarters = static_cast<int>(state.range(2)) / 90;
  const Picture picture(PixelFormat::I420, width, height);
  std::vector<std::uint8_t> out(picture.y.size() * 3 / 2);
  for (auto _ : state) {
    std::uint8_t* const y = out.data();
    std::uint8_t* const u = y + picture.y.size();
    std::uint8_t* const v = u + picture.u.size();
    naive_rotate_plane(picture.y.data(), width, height, y, quarters);
    naive_rotate_plane(picture.u.data(), width / 2, height / 2, u, quarters);
    naive_rotate_plane(picture.v.data(), width / 2, height / 2, v, quarters);
    benchmark::DoNotOptimize(out.data());
    benchmark::ClobberMemory();
  }
  set_counters(state, width, height);
}

void scale_bench(benchmark::State& state, PixelFormat format) {
  const int width = static_cast<int>(state.range(0));
  const int height = static_cast<int>(state.range(1));
  const int out_width = static_cast<int>(state.range(2));
  const int out_height = static_cast<int>(state.range(3));
  const Picture picture(format, width, height);
  FrameScaler scaler;
  for (auto _ : state) {
    const FrameView out = scaler.scale(picture.view, out_width, out_height);
    benchmark::DoNotOptimize(out.planes[0].data);
    benchmark::ClobberMemory();
  }
  set_counters(state, width, height);
}

void BM_Scale(benchmark::State& state) {
  scale_bench(state, PixelFormat::I420);
}
void BM_ScaleNv12(benchmark::State& state) {
  scale_bench(state, PixelFormat::NV12);
}

// Each output pixel the average of the input pixels its area covers (whole pixels only).
void naive_box_plane(const std::uint8_t* in, int width, int height, std::uint8_t* out,
                     int out_width, int out_height) {
  for (int oy = 0; oy < out_height; ++oy) {
    const int y0 = oy * height / out_height;
    const int y1 = std::max(y0 + 1, (oy + 1) * height / out_height);
    for (int ox = 0; ox < out_width; ++ox) {
      const int x0 = ox * width / out_width;
      const int x1 = std::max(x0 + 1, (ox + 1) * width / out_width);
      unsigned sum = 0;
      for (int y = y0; y < y1; ++y) {
        for (int x = x0; x < x1; ++x) sum += in[y * width + x];
      }
      out[oy * out_width + ox] =
          static_cast<std::uint8_t>(sum / static_cast<unsigned>((y1 - y0) * (x1 - x0)));
    }
  }
}

void BM_ScaleNaive(benchmark::State& state) {
  const int width = static_cast<int>(state.range(0));
  const int height = static_cast<int>(state.range(1));
  const int out_width = static_cast<int>(state.range(2));
  const int out_height = static_cast<int>(state.range(3));
  const Picture picture(PixelFormat::I420, width, height);
  std::vector<std::uint8_t> out(static_cast<std::size_t>(out_width) * out_height * 3 / 2);
  for (auto _ : state) {
    std::uint8_t* const y = out.data();
    std::uint8_t* const u = y + static_cast<std::ptrdiff_t>(out_width) * out_height;
    std::uint8_t* const v = u + static_cast<std::ptrdiff_t>(out_width) * out_height / 4;
    naive_box_plane(picture.y.data(), width, height, y, out_width, out_height);
    naive_box_plane(picture.u.data(), width / 2, height / 2, u, out_width / 2, out_height / 2);
    naive_box_plane(picture.v.data(), width / 2, height / 2, v, out_width / 2, out_height / 2);
    benchmark::DoNotOptimize(out.data());
    benchmark::ClobberMemory();
  }
  set_counters(state, width, height);
}

void sizes_and_turns(benchmark::internal::Benchmark* bench) {
  for (const auto& [w, h] : {std::pair{640, 480}, std::pair{1280, 720}, std::pair{1920, 1080}}) {
    for (int degrees : {90, 180, 270}) bench->Args({w, h, degrees});
  }
}

void sizes(benchmark::internal::Benchmark* bench) {
  for (const auto& [w, h] : {std::pair{640, 480}, std::pair{1280, 720}, std::pair{1920, 1080}}) {
    bench->Args({w, h});
  }
}

}  // namespace

BENCHMARK(BM_Rotate)->Apply(sizes_and_turns)->Unit(benchmark::kMicrosecond);
BENCHMARK(BM_RotateNv12)->Apply(sizes_and_turns)->Unit(benchmark::kMicrosecond);
BENCHMARK(BM_RotateHFlip)->Apply(sizes)->Unit(benchmark::kMicrosecond);
BENCHMARK(BM_RotateNaive)->Apply(sizes_and_turns)->Unit(benchmark::kMicrosecond);
BENCHMARK(BM_Scale)
    ->Args({1920, 1080, 640, 480})
    ->Args({1920, 1080, 1280, 720})
    ->Args({1280, 720, 640, 480})
    ->Args({1920, 1080, 640, 360})
    ->Args({1280, 720, 640, 360})
    ->Unit(benchmark::kMicrosecond);
BENCHMARK(BM_ScaleNv12)->Args({1920, 1080, 1280, 720})->Unit(benchmark::kMicrosecond);
BENCHMARK(BM_ScaleNaive)->Args({1920, 1080, 640, 480})->Unit(benchmark::kMicrosecond);

BENCHMARK_MAIN();
