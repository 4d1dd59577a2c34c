#include "camstream/capture/draw.hpp"

#include <gtest/gtest.h>

#include <algorithm>
#include <array>
#include <chrono>
#include <cstdint>
#include <stdexcept>
#include <string>
#include <tuple>
#include <vector>

#include "camstream/capture/owned_yuv_image.hpp"
#include "capture/font.hpp"

namespace camstream {
namespace {

constexpr std::uint8_t kBackground = 0;
constexpr std::uint8_t kInk = 255;
constexpr std::uint8_t kPadding = 0x5A;

// A picture with padded rows whose padding must never be written.
class PaddedImage {
 public:
  PaddedImage(int width, int height, int padding = 16)
      : luma_(static_cast<std::size_t>(width + padding) * height, kPadding),
        u_(static_cast<std::size_t>(width / 2 + padding) * (height / 2), kPadding),
        v_(u_.size(), kPadding) {
    image_ = {luma_.data(),        u_.data(), v_.data(), width + padding,
              width / 2 + padding, width,     height};
    fill(image_, kBackground, 128, 128);
  }

  const YuvImage& image() const { return image_; }
  std::uint8_t luma(int x, int y) const { return luma_[y * image_.y_stride + x]; }
  std::uint8_t u(int x, int y) const { return u_[y * image_.uv_stride + x]; }

  // Bounding box of the pixels that are not background: {left, top, right, bottom}, or all
  // -1 when there are none.
  std::array<int, 4> ink_box() const {
    std::array<int, 4> box{-1, -1, -1, -1};
    for (int y = 0; y < image_.height; ++y) {
      for (int x = 0; x < image_.width; ++x) {
        if (luma(x, y) == kBackground) continue;
        if (box[0] < 0) box = {x, y, x, y};
        box = {std::min(box[0], x), std::min(box[1], y), std::max(box[2], x), std::max(box[3], y)};
      }
    }
    return box;
  }

  bool padding_untouched() const {
    auto check = [](const std::vector<std::uint8_t>& plane, int stride, int width) {
      for (std::size_t i = 0; i < plane.size(); ++i) {
        if (static_cast<int>(i % stride) >= width && plane[i] != kPadding) return false;
      }
      return true;
    };
    return check(luma_, image_.y_stride, image_.width) &&
           check(u_, image_.uv_stride, image_.width / 2) &&
           check(v_, image_.uv_stride, image_.width / 2);
  }

  std::vector<std::uint8_t> luma_plane() const { return luma_; }
  bool chroma_neutral() const {
    for (int y = 0; y < image_.height / 2; ++y) {
      for (int x = 0; x < image_.width / 2; ++x) {
        if (u_[y * image_.uv_stride + x] != 128 || v_[y * image_.uv_stride + x] != 128) {
          return false;
        }
      }
    }
    return true;
  }

 private:
  std::vector<std::uint8_t> luma_, u_, v_;
  YuvImage image_;
};

TEST(TextWidth, CountsGlyphsAndGapsTimesScale) {
  EXPECT_EQ(text_width("", 3), 0);
  EXPECT_EQ(text_width("A", 1), 5);
  EXPECT_EQ(text_width("AB", 1), 11);
  EXPECT_EQ(text_width("AB", 3), 33);
  EXPECT_EQ(text_height(1), 7);
  EXPECT_EQ(text_height(4), 28);
}

TEST(DrawText, InkStaysInsideTheTextBox) {
  PaddedImage picture(120, 60);
  const int scale = 2;
  // H and M light their top-left and bottom-right pixels, so the ink fills the whole box.
  draw_text(picture.image(), 10, 20, "HM", scale, kInk);
  const auto box = picture.ink_box();
  EXPECT_EQ(box[0], 10);
  EXPECT_EQ(box[1], 20);
  EXPECT_EQ(box[2], 10 + text_width("HM", scale) - 1);
  EXPECT_EQ(box[3], 20 + text_height(scale) - 1);
  EXPECT_EQ(picture.luma(10, 20), kInk);
  EXPECT_TRUE(picture.chroma_neutral());  // text is drawn in luma only
  EXPECT_TRUE(picture.padding_untouched());
}

TEST(DrawText, ScaledGlyphMatchesTheFontBitmap) {
  PaddedImage picture(40, 40);
  const int scale = 3;
  draw_text(picture.image(), 4, 6, "%", scale, kInk);
  const font::Glyph& glyph = font::glyph_for('%');
  for (int row = 0; row < font::kGlyphHeight * scale; ++row) {
    for (int column = 0; column < font::kGlyphWidth * scale; ++column) {
      const bool lit = glyph[row / scale] & (0x10 >> (column / scale));
      EXPECT_EQ(picture.luma(4 + column, 6 + row), lit ? kInk : kBackground)
          << "row " << row << " column " << column;
    }
  }
}

TEST(DrawText, LowerCaseAsUpperAndUnknownAsQuestionMark) {
  PaddedImage lower(100, 20), upper(100, 20), unknown(100, 20), question(100, 20);
  draw_text(lower.image(), 1, 1, "abc xyz", 1, kInk);
  draw_text(upper.image(), 1, 1, "ABC XYZ", 1, kInk);
  draw_text(unknown.image(), 1, 1, "#\xC3", 1, kInk);
  draw_text(question.image(), 1, 1, "??", 1, kInk);
  EXPECT_EQ(lower.luma_plane(), upper.luma_plane());
  EXPECT_EQ(unknown.luma_plane(), question.luma_plane());
}

TEST(Font, EverySupportedCharacterHasItsOwnGlyph) {
  const std::string supported = "ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789 .:-/()_%";
  const font::Glyph& question = font::glyph_for('?');
  for (std::size_t i = 0; i < supported.size(); ++i) {
    EXPECT_NE(font::glyph_for(supported[i]), question) << supported[i];
    for (std::size_t j = i + 1; j < supported.size(); ++j) {
      EXPECT_NE(font::glyph_for(supported[i]), font::glyph_for(supported[j]))
          << supported[i] << " and " << supported[j];
    }
  }
}

TEST(DrawText, ClipsAtEveryEdge) {
  PaddedImage picture(50, 30);
  const std::string_view text = "CLIPPED 0123";
  // Partly outside each edge, entirely outside, and far larger than the picture.
  for (auto [x, y, scale] : {std::tuple{-7, 5, 2},
                             {40, 5, 2},
                             {5, -9, 3},
                             {5, 25, 3},
                             {-1000, -1000, 1},
                             {1000, 1000, 1},
                             {-20, -20, 40},
                             {49, 29, 1}}) {
    draw_text(picture.image(), x, y, text, scale, kInk);
  }
  draw_text(picture.image(), 0, 0, text, 0, kInk);   // nothing at scale 0
  draw_text(picture.image(), 0, 0, text, -2, kInk);  // nor below
  EXPECT_TRUE(picture.padding_untouched());
  EXPECT_NE(picture.ink_box()[0], -1);
}

TEST(DrawText, TextCutAtTheRightEdgeKeepsItsVisiblePart) {
  PaddedImage cut(40, 20), whole(80, 20);
  draw_text(cut.image(), 30, 2, "HH", 2, kInk);
  draw_text(whole.image(), 30, 2, "HH", 2, kInk);
  for (int y = 0; y < 20; ++y) {
    for (int x = 0; x < 40; ++x) ASSERT_EQ(cut.luma(x, y), whole.luma(x, y)) << x << "," << y;
  }
  EXPECT_TRUE(cut.padding_untouched());
}

TEST(FillRect, ClipsAndCoversTheChromaItTouches) {
  PaddedImage picture(20, 20);
  fill_rect(picture.image(), 3, 5, 4, 4, 200, 10, 20);
  EXPECT_EQ(picture.ink_box(), (std::array<int, 4>{3, 5, 6, 8}));
  EXPECT_EQ(picture.u(1, 2), 10);  // block (2..3, 4..5) holds pixel (3, 5)
  EXPECT_EQ(picture.u(3, 4), 10);  // block (6..7, 8..9) holds pixel (6, 8)
  EXPECT_EQ(picture.u(0, 0), 128);
  EXPECT_EQ(picture.u(4, 4), 128);
  fill_rect(picture.image(), -5, -5, 100, 100, 50, 60, 70);
  EXPECT_EQ(picture.luma(19, 19), 50);
  EXPECT_EQ(picture.u(9, 9), 60);
  fill_rect(picture.image(), 30, 30, 5, 5, 1, 1, 1);
  fill_rect(picture.image(), 5, 5, -3, 4, 1, 1, 1);
  EXPECT_EQ(picture.luma(5, 5), 50);
  EXPECT_TRUE(picture.padding_untouched());
}

TEST(OwnedYuvImage, ViewDescribesOneUnpaddedI420Buffer) {
  OwnedYuvImage owned(64, 48);
  fill(owned.image(), 1, 2, 3);
  const auto before = std::chrono::system_clock::now();
  const FrameView view = owned.view();
  EXPECT_EQ(view.format, PixelFormat::I420);
  EXPECT_EQ(view.width, 64);
  EXPECT_EQ(view.height, 48);
  EXPECT_EQ(view.sequence, 0u);
  EXPECT_GE(view.timestamp, before);
  EXPECT_EQ(view.planes[0].stride, 64);
  EXPECT_EQ(view.planes[0].size, 64u * 48);
  EXPECT_EQ(view.planes[1].stride, 32);
  EXPECT_EQ(view.planes[1].size, 32u * 24);
  EXPECT_EQ(view.planes[2].size, 32u * 24);
  // One buffer: the planes follow each other.
  EXPECT_EQ(view.planes[1].data, view.planes[0].data + view.planes[0].size);
  EXPECT_EQ(view.planes[2].data, view.planes[1].data + view.planes[1].size);
  EXPECT_EQ(view.planes[0].data[64 * 48 - 1], 1);
  EXPECT_EQ(view.planes[1].data[0], 2);
  EXPECT_EQ(view.planes[2].data[32 * 24 - 1], 3);
}

TEST(OwnedYuvImage, RejectsOddOrEmptySizes) {
  EXPECT_THROW(OwnedYuvImage(63, 48), std::invalid_argument);
  EXPECT_THROW(OwnedYuvImage(64, 0), std::invalid_argument);
}

}  // namespace
}  // namespace camstream
