// The built-in 5x7 bitmap font shared by the drawing functions.
#pragma once

#include <array>
#include <cstdint>

namespace camstream::font {

inline constexpr int kGlyphWidth = 5;
inline constexpr int kGlyphHeight = 7;
// One blank column between glyphs.
inline constexpr int kAdvance = kGlyphWidth + 1;

// Row bits of one glyph, top row first; bit 4 is the leftmost column.
using Glyph = std::array<std::uint8_t, kGlyphHeight>;

// The glyph for c: lower case as upper case, characters the font lacks as '?'.
const Glyph& glyph_for(char c);

}  // namespace camstream::font
