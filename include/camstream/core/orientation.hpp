// Picture orientation: flips then a clockwise rotation, and how orientations compose, so that
// a source can split what the camera does from what is left to software.
#pragma once

#include <string>

namespace camstream {

// How the picture is turned: the flips mirror the camera's picture first, then the rotation
// turns it clockwise. Any of the eight orientations of a rectangle can be written so.
struct Orientation {
  int rotation = 0;  // 0, 90, 180 or 270 degrees clockwise
  bool hflip = false;
  bool vflip = false;
  friend bool operator==(const Orientation&, const Orientation&) = default;
};

bool is_valid_rotation(int degrees);  // 0, 90, 180 or 270
// True when a and b move every pixel to the same place (e.g. rotate 180 and both flips).
bool same_orientation(Orientation a, Orientation b);
bool is_identity(Orientation orientation);
// Rotation by 90 or 270: the picture's width and height swap.
bool swaps_size(Orientation orientation);
struct PictureSize {
  int width = 0;
  int height = 0;
};
// A width x height picture's size once turned as `orientation` says (90, 270: swapped).
PictureSize turned_size(int width, int height, Orientation orientation);
// `first`, then `second`.
Orientation followed_by(Orientation first, Orientation second);
Orientation inverse(Orientation orientation);
// What a camera that can only flip does of `wanted`: flips only (rotation 180 is both flips).
// followed_by(camera_part(w), Orientation{w.rotation % 180}) is w: software is left at most a
// quarter turn.
Orientation camera_part(Orientation wanted);
// What software must still do once a camera applied `applied`, so that the picture ends up
// as `wanted`: followed_by(applied, remaining(wanted, applied)) is wanted.
Orientation remaining(Orientation wanted, Orientation applied);
// "none", "rotate 90", "hflip", "rotate 270, vflip"...
std::string describe(Orientation orientation);

}  // namespace camstream
