// The eight orientations of a rectangle as 2x2 matrices acting on pixel positions measured
// from the picture's centre (x right, y down): composing them is multiplying matrices.
#include "camstream/core/orientation.hpp"

#include <array>

namespace camstream {

namespace {

using Matrix = std::array<int, 4>;  // row-major a b / c d: (x, y) -> (a x + b y, c x + d y)

constexpr Matrix kIdentity{1, 0, 0, 1};
constexpr Matrix kHFlip{-1, 0, 0, 1};
constexpr Matrix kVFlip{1, 0, 0, -1};
constexpr Matrix kQuarterTurn{0, -1, 1, 0};  // clockwise on screen: the top goes to the right

constexpr Matrix times(const Matrix& m, const Matrix& n) {
  return {m[0] * n[0] + m[1] * n[2], m[0] * n[1] + m[1] * n[3], m[2] * n[0] + m[3] * n[2],
          m[2] * n[1] + m[3] * n[3]};
}

Matrix matrix_of(Orientation orientation) {
  Matrix m = kIdentity;
  if (orientation.hflip) m = times(kHFlip, m);
  if (orientation.vflip) m = times(kVFlip, m);
  const int quarters = ((orientation.rotation / 90) % 4 + 4) % 4;
  for (int i = 0; i < quarters; ++i) m = times(kQuarterTurn, m);
  return m;
}

// The simplest spelling: a rotation, and hflip only where a rotation alone cannot do it.
Orientation orientation_of(const Matrix& m) {
  for (const bool hflip : {false, true}) {
    for (int rotation = 0; rotation < 360; rotation += 90) {
      const Orientation candidate{rotation, hflip, false};
      if (matrix_of(candidate) == m) return candidate;
    }
  }
  return {};  // unreachable: the eight candidates are all the matrices above can make
}

}  // namespace

PictureSize turned_size(int width, int height, Orientation orientation) {
  return swaps_size(orientation) ? PictureSize{height, width} : PictureSize{width, height};
}

bool is_valid_rotation(int degrees) {
  return degrees == 0 || degrees == 90 || degrees == 180 || degrees == 270;
}

bool same_orientation(Orientation a, Orientation b) {
  return matrix_of(a) == matrix_of(b);
}

bool is_identity(Orientation orientation) {
  return matrix_of(orientation) == kIdentity;
}

bool swaps_size(Orientation orientation) {
  return matrix_of(orientation)[0] == 0;
}

Orientation followed_by(Orientation first, Orientation second) {
  return orientation_of(times(matrix_of(second), matrix_of(first)));
}

Orientation inverse(Orientation orientation) {
  const Matrix m = matrix_of(orientation);
  // Orthogonal: the inverse is the transpose.
  return orientation_of({m[0], m[2], m[1], m[3]});
}

Orientation camera_part(Orientation wanted) {
  // wanted = R^k V^v H^h, and R^2 is both flips: the even part of k becomes flips, and the
  // software keeps at most one quarter turn.
  const int quarters = ((wanted.rotation / 90) % 4 + 4) % 4;
  const bool half_turn = quarters >= 2;
  return {0, wanted.hflip != half_turn, wanted.vflip != half_turn};
}

Orientation remaining(Orientation wanted, Orientation applied) {
  return orientation_of(times(matrix_of(wanted), matrix_of(inverse(applied))));
}

std::string describe(Orientation orientation) {
  std::string text;
  const auto add = [&](const char* part) {
    text += (text.empty() ? "" : ", ") + std::string(part);
  };
  const int quarters = ((orientation.rotation / 90) % 4 + 4) % 4;
  if (quarters != 0) add(quarters == 1 ? "rotate 90" : quarters == 2 ? "rotate 180" : "rotate 270");
  if (orientation.hflip) add("hflip");
  if (orientation.vflip) add("vflip");
  return text.empty() ? "none" : text;
}

}  // namespace camstream
