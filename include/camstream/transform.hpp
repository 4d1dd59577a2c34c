// Software picture geometry with libyuv: rotation, flips and scaling of raw frames, for what
// a camera cannot do itself (docs/api.md, section 7). Part of the capture module, so that every
// source (and every module right of capture) can use it.
#pragma once

#include <cstdint>
#include <stdexcept>
#include <string>
#include <vector>

#include "camstream/frame.hpp"

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

// A frame that a transform cannot take (format, size, planes too small); names the problem.
class TransformError : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

// Rotates and flips frames into its own I420 buffer, which grows only with the picture: no
// allocation per frame. One per thread (it is the caller's scratch, not thread-safe).
class FrameTransformer {
 public:
  // `frame` (I420, NV12, YUYV or UYVY, even size) turned as `orientation` says: an I420 view
  // of this object's buffer, valid until the next call; `frame` itself when the orientation
  // is the identity. Width and height swap for 90 and 270. One libyuv pass whatever the
  // orientation (two for packed 4:2:2, unpacked first). The range flag and the stamps are
  // kept. Throws TransformError naming what is wrong with the frame (MJPEG cannot be turned).
  FrameView apply(const FrameView& frame, Orientation orientation);

 private:
  FrameView unpack(const FrameView& packed);  // YUYV/UYVY to I420 in unpacked_

  std::vector<std::uint8_t> scratch_;
  std::vector<std::uint8_t> unpacked_;
};

// A rectangle of a picture, in pixels; x, y, width and height even.
struct CropRect {
  int x = 0;
  int y = 0;
  int width = 0;
  int height = 0;
};

// Scales frames (or a part of them) into its own buffer, which grows only with the picture.
// One per thread.
class FrameScaler {
 public:
  // `frame` (I420 or NV12, even size) scaled to width x height (even), box-filtered; the
  // result has the input's format (NV12 stays NV12), in this object's buffer until the next
  // call. Throws TransformError naming what is wrong.
  FrameView scale(const FrameView& frame, int width, int height);
  // The same for the part `crop` of the frame (a digital zoom when it is smaller).
  FrameView scale(const FrameView& frame, const CropRect& crop, int width, int height);

 private:
  std::vector<std::uint8_t> scratch_;
};

// Throws TransformError unless frame is I420 or NV12 of a positive even size whose planes hold
// every row they claim (rows may be padded; strides may be odd).
void check_planar_frame(const FrameView& frame, const char* what);

}  // namespace camstream
