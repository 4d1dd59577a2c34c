// The pictures viewers get while capture is stopped or failing (docs/api.md, "The stream").
#pragma once

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

}  // namespace camstream
