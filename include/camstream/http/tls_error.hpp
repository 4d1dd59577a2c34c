#pragma once

#include <stdexcept>

namespace camstream {

// A --tls-cert or --tls-key that cannot be used; the message names the flag, the file and why.
class TlsError : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

}  // namespace camstream
