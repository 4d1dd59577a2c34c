#include "camstream/capture/draw.hpp"

#include <algorithm>
#include <cstring>
#include <stdexcept>
#include <string>

#include "camstream/capture/owned_yuv_image.hpp"
#include "font.hpp"

namespace camstream {

namespace {

void fill_plane(std::uint8_t* plane, int stride, int x, int y, int width, int height,
                std::uint8_t value) {
  for (int row = y; row < y + height; ++row) {
    std::memset(plane + static_cast<std::ptrdiff_t>(row) * stride + x, value,
                static_cast<std::size_t>(width));
  }
}

}  // namespace

void fill(const YuvImage& image, std::uint8_t y, std::uint8_t u, std::uint8_t v) {
  fill_plane(image.y, image.y_stride, 0, 0, image.width, image.height, y);
  fill_plane(image.u, image.uv_stride, 0, 0, image.width / 2, image.height / 2, u);
  fill_plane(image.v, image.uv_stride, 0, 0, image.width / 2, image.height / 2, v);
}

void fill_rect(const YuvImage& image, int x, int y, int width, int height, std::uint8_t luma,
               std::uint8_t u, std::uint8_t v) {
  const int left = std::max(x, 0);
  const int top = std::max(y, 0);
  const int right = std::min(x + width, image.width);
  const int bottom = std::min(y + height, image.height);
  if (left >= right || top >= bottom) return;
  fill_plane(image.y, image.y_stride, left, top, right - left, bottom - top, luma);
  const int chroma_left = left / 2;
  const int chroma_top = top / 2;
  const int chroma_right = std::min((right + 1) / 2, image.width / 2);
  const int chroma_bottom = std::min((bottom + 1) / 2, image.height / 2);
  if (chroma_left >= chroma_right || chroma_top >= chroma_bottom) return;
  fill_plane(image.u, image.uv_stride, chroma_left, chroma_top, chroma_right - chroma_left,
             chroma_bottom - chroma_top, u);
  fill_plane(image.v, image.uv_stride, chroma_left, chroma_top, chroma_right - chroma_left,
             chroma_bottom - chroma_top, v);
}

int text_width(std::string_view text, int scale) {
  if (text.empty() || scale <= 0) return 0;
  // No blank column after the last glyph.
  return (static_cast<int>(text.size()) * font::kAdvance - 1) * scale;
}

int text_height(int scale) {
  return scale > 0 ? font::kGlyphHeight * scale : 0;
}

void draw_text(const YuvImage& image, int x, int y, std::string_view text, int scale,
               std::uint8_t luma) {
  if (scale <= 0) return;
  const int glyph_pixels = font::kGlyphWidth * scale;
  for (std::size_t index = 0; index < text.size(); ++index) {
    const int glyph_x = x + static_cast<int>(index) * font::kAdvance * scale;
    if (glyph_x >= image.width) break;
    if (glyph_x + glyph_pixels <= 0) continue;
    const font::Glyph& glyph = font::glyph_for(text[index]);
    for (int glyph_row = 0; glyph_row < font::kGlyphHeight; ++glyph_row) {
      const std::uint8_t bits = glyph[glyph_row];
      if (bits == 0) continue;
      const int top = std::max(y + glyph_row * scale, 0);
      const int bottom = std::min(y + (glyph_row + 1) * scale, image.height);
      if (top >= bottom) continue;
      // Each set bit becomes a run of `scale` pixels, clipped and written with memset.
      for (int column = 0; column < font::kGlyphWidth; ++column) {
        if ((bits & (0x10 >> column)) == 0) continue;
        const int left = std::max(glyph_x + column * scale, 0);
        const int right = std::min(glyph_x + (column + 1) * scale, image.width);
        if (left >= right) continue;
        fill_plane(image.y, image.y_stride, left, top, right - left, bottom - top, luma);
      }
    }
  }
}

OwnedYuvImage::OwnedYuvImage(int width, int height) {
  if (width <= 0 || height <= 0 || width % 2 != 0 || height % 2 != 0) {
    throw std::invalid_argument("picture size must be positive and even, not " +
                                std::to_string(width) + "x" + std::to_string(height));
  }
  const std::size_t luma_size = static_cast<std::size_t>(width) * height;
  const std::size_t chroma_size = luma_size / 4;
  storage_ = std::make_unique<std::uint8_t[]>(luma_size + 2 * chroma_size);
  image_.y = storage_.get();
  image_.u = image_.y + luma_size;
  image_.v = image_.u + chroma_size;
  image_.y_stride = width;
  image_.uv_stride = width / 2;
  image_.width = width;
  image_.height = height;
}

FrameView OwnedYuvImage::view() const {
  FrameView frame;
  frame.format = PixelFormat::I420;
  frame.width = image_.width;
  frame.height = image_.height;
  const std::size_t luma_size = static_cast<std::size_t>(image_.y_stride) * image_.height;
  const std::size_t chroma_size = static_cast<std::size_t>(image_.uv_stride) * image_.height / 2;
  frame.planes[0] = {image_.y, image_.y_stride, luma_size};
  frame.planes[1] = {image_.u, image_.uv_stride, chroma_size};
  frame.planes[2] = {image_.v, image_.uv_stride, chroma_size};
  frame.sequence = 0;
  frame.timestamp = std::chrono::system_clock::now();
  return frame;
}

}  // namespace camstream
