// The libcamera source's decisions, as pure functions without libcamera types, so that they are
// unit-tested on machines without a camera (and in builds without libcamera).
#pragma once

#include <array>
#include <chrono>
#include <cstddef>
#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "camstream/capture/capture_error.hpp"
#include "camstream/core/frame.hpp"
#include "camstream/core/orientation.hpp"

namespace camstream::camera_logic {

// --- Pixel format -------------------------------------------------------------------------

// DRM fourcc codes, as libcamera::PixelFormat::fourcc() returns them.
constexpr std::uint32_t fourcc(char a, char b, char c, char d) {
  return static_cast<std::uint32_t>(static_cast<unsigned char>(a)) |
         static_cast<std::uint32_t>(static_cast<unsigned char>(b)) << 8 |
         static_cast<std::uint32_t>(static_cast<unsigned char>(c)) << 16 |
         static_cast<std::uint32_t>(static_cast<unsigned char>(d)) << 24;
}
constexpr std::uint32_t kFourccYuv420 = fourcc('Y', 'U', '1', '2');  // formats::YUV420 (I420)
constexpr std::uint32_t kFourccNv12 = fourcc('N', 'V', '1', '2');    // formats::NV12
constexpr std::uint32_t kFourccYuyv = fourcc('Y', 'U', 'Y', 'V');    // formats::YUYV
constexpr std::uint32_t kFourccUyvy = fourcc('U', 'Y', 'V', 'Y');    // formats::UYVY
constexpr std::uint32_t kFourccMjpeg = fourcc('M', 'J', 'P', 'G');   // formats::MJPEG

struct Size {
  unsigned width = 0;
  unsigned height = 0;
  friend bool operator==(const Size&, const Size&) = default;
};

struct SizeRange {
  Size min;
  Size max;
  unsigned hstep = 1;
  unsigned vstep = 1;
};

// One pixel format of the video-role configuration with the sizes libcamera lists for it.
struct FormatOffer {
  std::uint32_t fourcc = 0;
  std::vector<Size> sizes;         // discrete sizes (UVC); a scaling ISP lists common ones
  std::optional<SizeRange> range;  // their bounding range
};

// YUYV bytes per second a USB 2.0 webcam delivers: 640x480 at 30 fps (and 1280x720 at 10).
// Above it UVC cameras lower the rate of packed formats, and MJPEG is the faster choice.
constexpr double kPackedBytesPerSecond = 640.0 * 480 * 2 * 30;

// The format to ask for. Planar first (YUV420, else NV12: the Pi, the virtual camera, some UVC
// cameras): the encoder takes them as they are. Then, as ustreamer chooses for USB webcams,
// YUYV/UYVY when offered at the asked size and its bytes per second fit a USB 2.0 webcam
// (kPackedBytesPerSecond), else MJPEG when offered (passed through, no encode), else packed.
// Nothing usable: YUV420, and validate() names what the camera gives instead.
std::uint32_t format_to_request(std::span<const FormatOffer> offers, Size size,
                                std::chrono::microseconds interval);

// --camera-format's names ("mjpeg", "yuyv", "uyvy", "nv12", "yuv420") and "auto".
constexpr std::array<std::string_view, 6> kCameraFormatNames{"auto", "mjpeg", "yuyv",
                                                             "uyvy", "nv12",  "yuv420"};
// The fourcc a --camera-format name stands for; nullopt for "auto" or an unknown name.
std::optional<std::uint32_t> camera_format_fourcc(std::string_view name);
// The --camera-format name of a fourcc camstream takes ("yuv420"), or "" for another.
std::string_view camera_format_name(std::uint32_t fourcc);

// The format to ask for under --camera-format `forced`: format_to_request's choice for
// "auto", else the forced one. Throws CameraFormatError when the camera does not offer it (or
// the name is unknown), naming the formats it offers that camstream takes.
std::uint32_t choose_format(std::span<const FormatOffer> offers, Size size,
                            std::chrono::microseconds interval, std::string_view forced);

// The frame format for what validate() left in the stream configuration. Throws CaptureError
// naming the format (format_name is libcamera's toString()) when the encoder cannot take it.
PixelFormat frame_format_for(std::uint32_t validated_fourcc, std::string_view format_name);

// What the encoder is told about the samples: MJPEG is the camera's own JPEG (full range);
// YUV is limited when validate() left a limited-range colour space (Rec709, Smpte170m, ...).
ColorRange frame_range(PixelFormat format, bool colour_space_is_limited);

// What a camera was asked for, or what validate() left of it, as text for the log.
struct StreamSettings {
  std::string format;  // "YUV420"
  Size size;
  std::string colour_space;  // "sYCC"
  std::string orientation;   // describe_flips()
};

// "size 640x480 -> 1280x720, colour space sYCC -> Rec709": each setting that changed, or empty.
std::string describe_changes(const StreamSettings& requested, const StreamSettings& granted);

// --- Buffer layout ------------------------------------------------------------------------

// One libcamera FrameBuffer::Plane.
struct PlaneDescription {
  int fd = -1;
  std::uint32_t offset = 0;
  std::uint32_t length = 0;
};

// One mmap: the whole range of a dmabuf that the planes on it use, always from offset 0
// (plane offsets are rarely page-aligned).
struct MappingRange {
  int fd = -1;
  std::size_t length = 0;
};

// Where one picture plane lies inside the mappings.
struct PlanePlacement {
  std::size_t mapping = 0;  // index into BufferLayout::mappings
  std::size_t offset = 0;   // from the start of that mapping
  int stride = 0;
  std::size_t size = 0;  // stride * rows
};

struct BufferLayout {
  PixelFormat format = PixelFormat::I420;
  int width = 0;   // even (an odd camera size loses its last column or row)
  int height = 0;  // even
  std::vector<MappingRange> mappings;
  std::vector<PlanePlacement> planes;  // 3 for I420, 2 for NV12
};

// Turns libcamera's plane list into mappings and plane positions. Accepts one plane holding the
// whole picture, the planes sharing one fd with offsets (V4L2 single-planar, as on the Pi, and
// camstream's own memfd buffers) or one fd per plane. `stride` is the luma stride from
// validate(); chroma strides are stride/2 (I420) or stride (NV12); YUYV/UYVY are one plane of
// stride * height; MJPEG is one plane whose bytes used the source sets per frame. Throws
// CaptureError when the planes do not hold the picture.
BufferLayout compute_buffer_layout(std::span<const PlaneDescription> planes, int stride,
                                   PixelFormat format, int width, int height);

// Planes of a buffer camstream allocates itself when libcamera cannot export buffers (the virtual
// pipeline without /dev/dma_heap): one memfd holding every colour plane, with one
// FrameBuffer::Plane per colour plane at its offset, as libcamera's own exporters lay them out
// (pipelines write each colour plane through its own Plane). `frame_size` is the camera's
// frameSize (MJPEG: the largest JPEG; 0 when the pipeline leaves it unset).
struct OwnBuffer {
  std::size_t size = 0;                  // of the memfd
  std::vector<PlaneDescription> planes;  // fd left at -1
};
OwnBuffer own_buffer_planes(PixelFormat format, int stride, int width, int height,
                            std::uint32_t frame_size);

// The view on one buffer: `bases[i]` is the address where layout.mappings[i] is mapped.
FrameView make_frame_view(const BufferLayout& layout, std::span<const std::uint8_t* const> bases);

// --- Orientation --------------------------------------------------------------------------

struct Flips {
  bool hflip = false;
  bool vflip = false;
  friend bool operator==(const Flips&, const Flips&) = default;
};

// What the camera is asked for when the picture must end up as `wanted`: flips only (camera
// sensors can flip, not turn by a quarter; rotation 180 is both flips). Nothing when the camera
// is known to ignore what it grants (`camera_ignores_orientation`: the virtual pipeline accepts
// any orientation in validate() and applies none).
Flips camera_flips(Orientation wanted, bool camera_ignores_orientation);
// What software still does once the camera applies `granted` (what validate() left): at most a
// quarter turn when the camera granted what it was asked, everything when it granted nothing.
Orientation software_orientation(Orientation wanted, Flips granted);
std::string describe_flips(Flips flips);  // "none", "hflip", "vflip", "rotate 180"

// --- Zoom ---------------------------------------------------------------------------------

// A ScalerCrop rectangle (libcamera::Rectangle without libcamera).
struct Rect {
  int x = 0;
  int y = 0;
  unsigned width = 0;
  unsigned height = 0;
  friend bool operator==(const Rect&, const Rect&) = default;
};

constexpr double kMinZoom = 1.0;
constexpr double kMaxZoom = 8.0;

// The ScalerCrop for a digital zoom factor: the centre of `maximum` (the camera's
// ScalerCropMaximum), 1/zoom of its width and height, with its aspect ratio, never empty and
// never outside it. A zoom outside kMinZoom..kMaxZoom (or NaN) is clamped (NaN: no zoom).
Rect zoom_crop(Rect maximum, double zoom);

// --- Frame interval -----------------------------------------------------------------------

// The FrameDurationLimits value in µs for an interval, clamped to the camera's ControlInfo
// limits when it gives them.
std::int64_t frame_duration_us(std::chrono::microseconds interval,
                               std::optional<std::int64_t> min_us,
                               std::optional<std::int64_t> max_us);

// The interval frames really arrive at: the requested one (paced in software), or the camera's
// shortest frame duration when that is longer.
std::chrono::microseconds granted_interval(std::chrono::microseconds requested,
                                           std::optional<std::int64_t> min_us);

// Software pacing (uvcvideo ignores FrameDurationLimits, the virtual camera gives frames as
// fast as it can). Frames are taken on a schedule of ideal deadlines, one interval apart: a frame
// is delivered when its timestamp reaches the next deadline minus half the camera's own frame
// period (the gap to the frame before it, at most half the interval), and the next deadline is
// then one interval later. So a camera faster than asked is paced to the asked interval on
// average (each frame within half a camera period of its deadline, no drift), and a camera
// slower than asked has every frame delivered.
class FramePacer {
 public:
  explicit FramePacer(std::chrono::microseconds interval);
  // Called for every captured frame in order; true when this one is delivered.
  bool accept(std::uint64_t timestamp_ns);
  void reset();

 private:
  std::uint64_t interval_ns_;
  std::optional<std::uint64_t> next_deadline_ns_;
  std::optional<std::uint64_t> last_timestamp_ns_;
};

// A capture timestamp on the monotonic clock as wall-clock time (for X-Timestamp).
std::chrono::system_clock::time_point to_wall_clock(std::uint64_t timestamp_ns,
                                                    std::uint64_t monotonic_now_ns,
                                                    std::chrono::system_clock::time_point now);

// --- Completed-request queue --------------------------------------------------------------

// A fixed ring of at most N items (no allocation): pushing onto a full ring returns the oldest
// item, which the caller hands straight back to the camera. Not thread-safe by itself.
template <typename T, std::size_t N>
class DropOldestRing {
 public:
  static_assert(N > 0);
  std::optional<T> push(T item) {
    std::optional<T> dropped;
    if (count_ == N) dropped = pop();
    items_[(first_ + count_) % N] = std::move(item);
    ++count_;
    return dropped;
  }
  std::optional<T> pop() {
    if (count_ == 0) return std::nullopt;
    T item = std::move(items_[first_]);
    first_ = (first_ + 1) % N;
    --count_;
    return item;
  }
  void clear() { first_ = count_ = 0; }
  std::size_t size() const { return count_; }
  bool empty() const { return count_ == 0; }

 private:
  std::array<T, N> items_{};
  std::size_t first_ = 0;
  std::size_t count_ = 0;
};

// --- Camera selection ---------------------------------------------------------------------

// The index into `ids` that `selector` names: an exact id first, else a decimal index. Throws
// CaptureError for an empty list, an index out of range or an unknown id.
std::size_t select_camera(std::span<const std::string> ids, std::string_view selector);

// --- Listing ------------------------------------------------------------------------------

// "YUV420 640x480" per size, or one "YUV420 320x240-1920x1080" when the camera scales freely.
// libcamera gives both a size list and a range for every format: a range that is stepped or whose
// largest size is not in the list (a scaling ISP, as on the Pi; the list is then only common sizes
// inside it) is shown as the range, discrete sizes (UVC) as the list.
std::vector<std::string> describe_modes(std::string_view format_name, std::span<const Size> sizes,
                                        std::optional<SizeRange> range);

// Video-role formats in listing order: those camstream takes (YUV420, NV12, YUYV, UYVY, MJPEG in
// that order); other formats are left out.
std::vector<std::uint32_t> listing_order(std::span<const std::uint32_t> fourccs);

}  // namespace camstream::camera_logic
