// Drawing into YUV 4:2:0 planes: the test pattern and the placeholder pictures.
#pragma once

#include <cstdint>
#include <string_view>

namespace camstream {

// A writable I420 picture. Rows may be padded (stride >= width).
struct YuvImage {
  std::uint8_t* y = nullptr;
  std::uint8_t* u = nullptr;
  std::uint8_t* v = nullptr;
  int y_stride = 0;
  int uv_stride = 0;
  int width = 0;
  int height = 0;
};

// Fills the whole picture with one colour.
void fill(const YuvImage& image, std::uint8_t y, std::uint8_t u, std::uint8_t v);
// Draws text in a built-in bitmap font (A-Z, 0-9, space and . : - / ( ) _ %),
// lower case drawn as upper case, unknown characters as '?'.
// scale multiplies the 5x7 glyph size; text is clipped at the picture's edges.
void draw_text(const YuvImage& image, int x, int y, std::string_view text, int scale,
               std::uint8_t luma);
// Width in pixels that draw_text uses for text at this scale.
int text_width(std::string_view text, int scale);
// Height in pixels of one line of text at this scale.
int text_height(int scale);
// Fills a rectangle (clipped at the picture's edges) with one colour. Chroma covers the
// 2x2 blocks the rectangle touches, so odd edges round outwards.
void fill_rect(const YuvImage& image, int x, int y, int width, int height, std::uint8_t luma,
               std::uint8_t u, std::uint8_t v);

}  // namespace camstream
