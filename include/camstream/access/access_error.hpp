#pragma once

#include <stdexcept>

namespace camstream::access {

// A users file, token key or operator list that cannot be used; the message names the flag
// and the file (and the line) and says what is wrong.
class AccessError : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

}  // namespace camstream::access
