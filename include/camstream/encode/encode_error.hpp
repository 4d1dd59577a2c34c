#pragma once

#include <stdexcept>

namespace camstream {

class EncodeError : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

// A camera frame that cannot be passed on (a truncated or malformed MJPEG frame): the
// caller drops it and counts it apart from encoder failures.
class CorruptFrameError : public EncodeError {
 public:
  using EncodeError::EncodeError;
};

}  // namespace camstream
