// For the tests: orientations compared by what they do, not by how they are written.
#pragma once

#include "camstream/core/orientation.hpp"

namespace camstream::test {

// True when a and b move every pixel to the same place (e.g. rotate 180 and both flips).
inline bool same_orientation(Orientation a, Orientation b) {
  return is_identity(followed_by(a, inverse(b)));
}

}  // namespace camstream::test
