// The pictures viewers get while capture is stopped or failing (docs/api.md, "The stream").
#pragma once

#include <cstdint>
#include <memory>
#include <string_view>

#include "camstream/encode/encoded_frame.hpp"
#include "camstream/encode/jpeg_encoder.hpp"

namespace camstream {

// Draws title (large) and detail (small, cut to fit) centred on grey, and encodes it.
std::shared_ptr<EncodedFrame> render_placeholder(JpegEncoder& encoder, int width, int height,
                                                 std::string_view title, std::string_view detail);
// A copy of a placeholder with its own sequence and the current time, to send again.
std::shared_ptr<EncodedFrame> restamp(const EncodedFrame& frame, std::uint64_t sequence);

// The placeholder in force: drawn and encoded once when the state changes, then published
// again each second with a fresh timestamp.
class Placeholder {
 public:
  bool drawn() const { return picture_ != nullptr; }
  void draw(int width, int height, int quality, std::string_view title, std::string_view detail);
  // The picture again, with its own sequence and the current time; drawn() must hold.
  std::shared_ptr<EncodedFrame> again(std::uint64_t sequence) const {
    return restamp(*picture_, sequence);
  }

 private:
  std::unique_ptr<JpegEncoder> encoder_;  // made on the first picture
  std::shared_ptr<EncodedFrame> picture_;
};

}  // namespace camstream
