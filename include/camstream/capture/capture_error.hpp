#pragma once

#include <stdexcept>

namespace camstream {

// Thrown when a source cannot be opened or started; the message names the problem.
class CaptureError : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

}  // namespace camstream
