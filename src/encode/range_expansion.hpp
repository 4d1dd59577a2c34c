// Limited-range YUV (Y 16..235, Cb/Cr 16..240) to the full range JPEG assumes (0..255).
#pragma once

#include <array>
#include <cstdint>

namespace camstream {

using SampleTable = std::array<std::uint8_t, 256>;

// Y: 16 -> 0, 235 -> 255, clamped outside.
const SampleTable& limited_to_full_luma();
// Cb/Cr: 16 -> 0, 128 -> 128, 240 -> 255, clamped outside.
const SampleTable& limited_to_full_chroma();

// dst[x] = table[src[x]] over width x height samples; src may equal dst (in place).
void remap_plane(const std::uint8_t* src, int src_stride, std::uint8_t* dst, int dst_stride,
                 int width, int height, const SampleTable& table);

}  // namespace camstream
