#pragma once

#include <stdexcept>

namespace camstream {

// Thrown for a URL camstream cannot relay; the message never repeats the credentials.
class RelayUrlError : public std::invalid_argument {
 public:
  using std::invalid_argument::invalid_argument;
};

}  // namespace camstream
