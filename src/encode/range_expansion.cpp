// 256-entry tables: one load per sample, exact rounding, no per-frame set-up.
#include "range_expansion.hpp"

#include <cstddef>

namespace camstream {

namespace {

// round(numerator / denominator), halves away from zero, for a positive denominator.
constexpr int divide_rounded(int numerator, int denominator) {
  return numerator >= 0 ? (2 * numerator + denominator) / (2 * denominator)
                        : -((-2 * numerator + denominator) / (2 * denominator));
}

constexpr std::uint8_t clamp_sample(int value) {
  return static_cast<std::uint8_t>(value < 0 ? 0 : value > 255 ? 255 : value);
}

constexpr SampleTable make_luma_table() {
  SampleTable table{};
  for (int i = 0; i < 256; ++i) table[i] = clamp_sample(divide_rounded((i - 16) * 255, 219));
  return table;
}

constexpr SampleTable make_chroma_table() {
  SampleTable table{};
  for (int i = 0; i < 256; ++i) {
    table[i] = clamp_sample(128 + divide_rounded((i - 128) * 255, 224));
  }
  return table;
}

constexpr SampleTable kLuma = make_luma_table();
constexpr SampleTable kChroma = make_chroma_table();
static_assert(kLuma[16] == 0 && kLuma[235] == 255 && kLuma[0] == 0 && kLuma[255] == 255);
static_assert(kChroma[16] == 0 && kChroma[128] == 128 && kChroma[240] == 255);

}  // namespace

const SampleTable& limited_to_full_luma() {
  return kLuma;
}

const SampleTable& limited_to_full_chroma() {
  return kChroma;
}

void remap_plane(const std::uint8_t* src, int src_stride, std::uint8_t* dst, int dst_stride,
                 int width, int height, const SampleTable& table) {
  for (int row = 0; row < height; ++row) {
    const std::uint8_t* from = src + static_cast<std::ptrdiff_t>(row) * src_stride;
    std::uint8_t* to = dst + static_cast<std::ptrdiff_t>(row) * dst_stride;
    for (int x = 0; x < width; ++x) to[x] = table[from[x]];
  }
}

}  // namespace camstream
