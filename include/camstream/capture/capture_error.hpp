#pragma once

#include <stdexcept>

namespace camstream {

// Thrown when a source cannot be opened or started; the message names the problem.
class CaptureError : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

// --camera-format names a format the camera does not offer: like a bad flag (exit 2), the
// message names the formats it does offer.
class CameraFormatError : public CaptureError {
 public:
  using CaptureError::CaptureError;
};

}  // namespace camstream
