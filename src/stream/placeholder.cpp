#include "placeholder.hpp"

#include <algorithm>
#include <cstring>
#include <string>

#include "camstream/capture/draw.hpp"
#include "camstream/capture/owned_yuv_image.hpp"

namespace camstream {

namespace {
std::shared_ptr<EncodedFrame> frame_with_capacity(std::size_t capacity) {
  auto frame = std::make_shared<EncodedFrame>();
  frame->capacity = capacity;
  frame->storage = std::make_unique_for_overwrite<std::uint8_t[]>(capacity);
  frame->placeholder = true;
  return frame;
}
}  // namespace

std::shared_ptr<EncodedFrame> render_placeholder(JpegEncoder& encoder, int width, int height,
                                                 std::string_view title, std::string_view detail) {
  OwnedYuvImage picture(width, height);
  fill(picture.image(), 40, 128, 128);
  const int scale = std::max(1, width / 160);
  const int title_y = height / 2 - 7 * scale;
  draw_text(picture.image(), (width - text_width(title, scale)) / 2, title_y, title, scale, 235);
  if (!detail.empty()) {
    const int small = std::max(1, scale / 2);
    const auto max_chars = static_cast<std::size_t>(std::max(1, (width - 8) / (6 * small)));
    const std::string_view shown = detail.substr(0, max_chars);
    draw_text(picture.image(), std::max(0, (width - text_width(shown, small)) / 2),
              title_y + 10 * scale, shown, small, 200);
  }
  auto frame = frame_with_capacity(JpegEncoder::max_jpeg_size(width, height));
  frame->jpeg_size = encoder.encode(picture.view(), frame->writable());
  frame->width = width;
  frame->height = height;
  return frame;
}

std::shared_ptr<EncodedFrame> restamp(const EncodedFrame& frame, std::uint64_t sequence) {
  auto copy = frame_with_capacity(frame.jpeg_size);
  std::memcpy(copy->storage.get(), frame.storage.get(), frame.jpeg_size);
  copy->jpeg_size = frame.jpeg_size;
  copy->width = frame.width;
  copy->height = frame.height;
  copy->timestamp = std::chrono::system_clock::now();
  copy->sequence = sequence;
  return copy;
}

void Placeholder::draw(int width, int height, int quality, std::string_view title,
                       std::string_view detail) {
  if (!encoder_) encoder_ = std::make_unique<JpegEncoder>(quality);
  encoder_->set_quality(quality);
  picture_ = render_placeholder(*encoder_, width, height, title, detail);
}

}  // namespace camstream
