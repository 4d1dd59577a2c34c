#include "camera_logic.hpp"

#include <algorithm>
#include <charconv>
#include <cmath>

namespace camstream::camera_logic {

namespace {

constexpr const char* kListHint = "; run camstream --list-cameras";

std::string size_text(Size size) {
  return std::to_string(size.width) + "x" + std::to_string(size.height);
}

// Rows and stride of each picture plane for a format.
struct PlaneShape {
  int stride;
  int rows;
};

std::vector<PlaneShape> plane_shapes(PixelFormat format, int stride, int height) {
  switch (format) {
    case PixelFormat::I420:
      return {{stride, height}, {stride / 2, height / 2}, {stride / 2, height / 2}};
    case PixelFormat::NV12:
      return {{stride, height}, {stride, height / 2}};
    case PixelFormat::YUYV:
    case PixelFormat::UYVY:
      return {{stride, height}};
    case PixelFormat::MJPEG:
      return {{0, 0}};  // one plane of JPEG bytes: its size is the plane's length
  }
  return {};
}

// Bytes of one row of pixels: the least a stride can be.
int min_stride(PixelFormat format, int width) {
  return format == PixelFormat::YUYV || format == PixelFormat::UYVY ? 2 * width : width;
}

bool offers_size(const FormatOffer& offer, Size size) {
  if (std::find(offer.sizes.begin(), offer.sizes.end(), size) != offer.sizes.end()) return true;
  if (!offer.sizes.empty() || !offer.range) return false;
  const auto& range = *offer.range;
  return size.width >= range.min.width && size.width <= range.max.width &&
         size.height >= range.min.height && size.height <= range.max.height;
}

std::string colour_space_or_unset(const std::string& text) {
  return text.empty() ? "unset" : text;
}

}  // namespace

std::uint32_t format_to_request(std::span<const FormatOffer> offers, Size size,
                                std::chrono::microseconds interval) {
  const auto find = [&](std::uint32_t code) -> const FormatOffer* {
    const auto it = std::find_if(offers.begin(), offers.end(),
                                 [&](const FormatOffer& offer) { return offer.fourcc == code; });
    return it == offers.end() ? nullptr : &*it;
  };
  if (find(kFourccYuv420)) return kFourccYuv420;
  if (find(kFourccNv12)) return kFourccNv12;
  const FormatOffer* packed = find(kFourccYuyv);
  if (!packed) packed = find(kFourccUyvy);
  const FormatOffer* mjpeg = find(kFourccMjpeg);
  if (packed && mjpeg) {
    const double frames_per_second =
        interval.count() > 0 ? 1e6 / static_cast<double>(interval.count()) : 1e6;
    const double packed_rate =
        static_cast<double>(size.width) * size.height * 2 * frames_per_second;
    if (offers_size(*packed, size) && packed_rate <= kPackedBytesPerSecond) return packed->fourcc;
    if (offers_size(*mjpeg, size) || !offers_size(*packed, size)) return kFourccMjpeg;
    return packed->fourcc;
  }
  if (packed) return packed->fourcc;
  if (mjpeg) return kFourccMjpeg;
  return kFourccYuv420;
}

std::optional<std::uint32_t> camera_format_fourcc(std::string_view name) {
  if (name == "mjpeg") return kFourccMjpeg;
  if (name == "yuyv") return kFourccYuyv;
  if (name == "uyvy") return kFourccUyvy;
  if (name == "nv12") return kFourccNv12;
  if (name == "yuv420") return kFourccYuv420;
  return std::nullopt;
}

std::string_view camera_format_name(std::uint32_t fourcc) {
  for (const auto name : kCameraFormatNames) {
    if (camera_format_fourcc(name) == fourcc) return name;
  }
  return {};
}

std::uint32_t choose_format(std::span<const FormatOffer> offers, Size size,
                            std::chrono::microseconds interval, std::string_view forced) {
  if (forced == "auto") return format_to_request(offers, size, interval);
  const auto wanted = camera_format_fourcc(forced);
  const bool offered =
      wanted && std::any_of(offers.begin(), offers.end(),
                            [&](const FormatOffer& offer) { return offer.fourcc == *wanted; });
  if (offered) return *wanted;
  std::vector<std::uint32_t> fourccs;
  for (const auto& offer : offers) fourccs.push_back(offer.fourcc);
  std::string names;
  for (const auto fourcc : listing_order(fourccs)) {
    names += (names.empty() ? "" : ", ") + std::string(camera_format_name(fourcc));
  }
  throw CameraFormatError(
      "--camera-format " + std::string(forced) + ": the camera does not offer it; it offers " +
      (names.empty() ? std::string("none that camstream takes") : names) + kListHint);
}

PixelFormat frame_format_for(std::uint32_t validated_fourcc, std::string_view format_name) {
  switch (validated_fourcc) {
    case kFourccYuv420:
      return PixelFormat::I420;
    case kFourccNv12:
      return PixelFormat::NV12;
    case kFourccYuyv:
      return PixelFormat::YUYV;
    case kFourccUyvy:
      return PixelFormat::UYVY;
    case kFourccMjpeg:
      return PixelFormat::MJPEG;
    default:
      throw CaptureError("the camera offers " + std::string(format_name) +
                         " instead of YUV420, NV12, YUYV, UYVY or MJPEG, which camstream takes");
  }
}

ColorRange frame_range(PixelFormat format, bool colour_space_is_limited) {
  if (format == PixelFormat::MJPEG) return ColorRange::Full;
  return colour_space_is_limited ? ColorRange::Limited : ColorRange::Full;
}

std::string describe_changes(const StreamSettings& requested, const StreamSettings& granted) {
  std::string text;
  const auto add = [&](const char* what, const std::string& from, const std::string& to) {
    if (from == to) return;
    if (!text.empty()) text += ", ";
    text += std::string(what) + " " + from + " -> " + to;
  };
  add("size", size_text(requested.size), size_text(granted.size));
  add("format", requested.format, granted.format);
  add("colour space", colour_space_or_unset(requested.colour_space),
      colour_space_or_unset(granted.colour_space));
  add("orientation", requested.orientation, granted.orientation);
  return text;
}

BufferLayout compute_buffer_layout(std::span<const PlaneDescription> planes, int stride,
                                   PixelFormat format, int width, int height) {
  const std::size_t wanted_planes = plane_shapes(format, stride, height).size();
  if (width < 2 || height < 2) {
    throw CaptureError("camera buffer size " + std::to_string(width) + "x" +
                       std::to_string(height) + " is too small");
  }
  if (format != PixelFormat::MJPEG && stride < min_stride(format, width)) {
    throw CaptureError("camera buffer stride " + std::to_string(stride) +
                       " is shorter than a row of " + std::to_string(width) + " pixels");
  }
  if (planes.size() != 1 && planes.size() != wanted_planes) {
    throw CaptureError("camera buffer has " + std::to_string(planes.size()) +
                       " planes; expected 1 or " + std::to_string(wanted_planes));
  }

  BufferLayout layout;
  layout.format = format;
  layout.width = width & ~1;
  layout.height = height & ~1;

  auto shapes = plane_shapes(format, stride, height);
  if (format == PixelFormat::MJPEG) {
    if (planes[0].length == 0) throw CaptureError("camera buffer for MJPEG holds no bytes");
    shapes[0] = {0, 0};
  }
  // Each picture plane as (fd, absolute offset in the dmabuf, bytes it needs).
  struct Placed {
    int fd;
    std::size_t offset;
    std::size_t size;
  };
  std::vector<Placed> placed;
  if (planes.size() == 1) {
    // Everything in one plane: the chroma planes follow the luma plane contiguously.
    std::size_t offset = planes[0].offset;
    for (const auto& shape : shapes) {
      const std::size_t size = format == PixelFormat::MJPEG
                                   ? planes[0].length
                                   : static_cast<std::size_t>(shape.stride) * shape.rows;
      placed.push_back({planes[0].fd, offset, size});
      offset += size;
    }
    if (offset - planes[0].offset > planes[0].length) {
      throw CaptureError("camera buffer plane holds " + std::to_string(planes[0].length) +
                         " bytes; the picture needs " + std::to_string(offset - planes[0].offset));
    }
  } else {
    for (std::size_t i = 0; i < planes.size(); ++i) {
      const std::size_t size = static_cast<std::size_t>(shapes[i].stride) * shapes[i].rows;
      if (planes[i].length < size) {
        throw CaptureError("camera buffer plane " + std::to_string(i) + " holds " +
                           std::to_string(planes[i].length) + " bytes; it needs " +
                           std::to_string(size));
      }
      placed.push_back({planes[i].fd, planes[i].offset, size});
    }
  }

  for (std::size_t i = 0; i < placed.size(); ++i) {
    if (placed[i].fd < 0) throw CaptureError("camera buffer plane has no file descriptor");
    auto mapping = std::find_if(layout.mappings.begin(), layout.mappings.end(),
                                [&](const MappingRange& m) { return m.fd == placed[i].fd; });
    if (mapping == layout.mappings.end()) {
      layout.mappings.push_back({placed[i].fd, 0});
      mapping = layout.mappings.end() - 1;
    }
    // Planes declare their length; map all of it so that the view never reaches past the end.
    const std::size_t declared = planes.size() == 1
                                     ? planes[0].offset + std::size_t{planes[0].length}
                                     : planes[i].offset + std::size_t{planes[i].length};
    mapping->length = std::max({mapping->length, placed[i].offset + placed[i].size, declared});
    layout.planes.push_back({static_cast<std::size_t>(mapping - layout.mappings.begin()),
                             placed[i].offset, shapes[i].stride, placed[i].size});
  }
  return layout;
}

OwnBuffer own_buffer_planes(PixelFormat format, int stride, int width, int height,
                            std::uint32_t frame_size) {
  OwnBuffer buffer;
  if (format == PixelFormat::MJPEG) {
    // A pipeline that gives no frameSize for MJPEG: room for an uncompressed 4:2:2 picture.
    const std::size_t size =
        frame_size > 0 ? frame_size : static_cast<std::size_t>(width) * height * 2;
    buffer.planes.push_back({-1, 0, static_cast<std::uint32_t>(size)});
    buffer.size = size;
    return buffer;
  }
  std::size_t offset = 0;
  const auto shapes = plane_shapes(format, stride, height);
  for (std::size_t i = 0; i < shapes.size(); ++i) {
    auto shape = shapes[i];
    if (i > 0) shape.rows = (height + 1) / 2;  // chroma rows rounded up, as libcamera sizes them
    const std::size_t size = static_cast<std::size_t>(shape.stride) * shape.rows;
    buffer.planes.push_back(
        {-1, static_cast<std::uint32_t>(offset), static_cast<std::uint32_t>(size)});
    offset += size;
  }
  buffer.size = std::max<std::size_t>(offset, frame_size);
  return buffer;
}

FrameView make_frame_view(const BufferLayout& layout, std::span<const std::uint8_t* const> bases) {
  if (bases.size() != layout.mappings.size()) {
    throw CaptureError("buffer mapped " + std::to_string(bases.size()) + " times; layout has " +
                       std::to_string(layout.mappings.size()) + " mappings");
  }
  FrameView view;
  view.format = layout.format;
  view.width = layout.width;
  view.height = layout.height;
  for (std::size_t i = 0; i < layout.planes.size() && i < view.planes.size(); ++i) {
    const auto& plane = layout.planes[i];
    view.planes[i] = {bases[plane.mapping] + plane.offset, plane.stride, plane.size};
  }
  return view;
}

Flips camera_flips(Orientation wanted, bool camera_ignores_orientation) {
  if (camera_ignores_orientation) return {};
  const Orientation part = camera_part(wanted);
  return {part.hflip, part.vflip};
}

Orientation software_orientation(Orientation wanted, Flips granted) {
  return remaining(wanted, Orientation{0, granted.hflip, granted.vflip});
}

std::string describe_flips(Flips flips) {
  if (flips.hflip && flips.vflip) return "rotate 180";
  if (flips.hflip) return "hflip";
  if (flips.vflip) return "vflip";
  return "none";
}

Rect zoom_crop(Rect maximum, double zoom) {
  if (std::isnan(zoom)) zoom = kMinZoom;
  zoom = std::clamp(zoom, kMinZoom, kMaxZoom);
  const auto part = [zoom](unsigned length) {
    const auto scaled = static_cast<unsigned>(std::lround(static_cast<double>(length) / zoom));
    return std::clamp(scaled, std::min(length, 1u), length);
  };
  Rect crop;
  crop.width = part(maximum.width);
  crop.height = part(maximum.height);
  crop.x = maximum.x + static_cast<int>((maximum.width - crop.width) / 2);
  crop.y = maximum.y + static_cast<int>((maximum.height - crop.height) / 2);
  return crop;
}

std::int64_t frame_duration_us(std::chrono::microseconds interval,
                               std::optional<std::int64_t> min_us,
                               std::optional<std::int64_t> max_us) {
  std::int64_t us = std::max<std::int64_t>(interval.count(), 1);
  if (max_us && *max_us > 0) us = std::min(us, *max_us);
  if (min_us && *min_us > 0) us = std::max(us, *min_us);
  return us;
}

std::chrono::microseconds granted_interval(std::chrono::microseconds requested,
                                           std::optional<std::int64_t> min_us) {
  if (min_us && *min_us > requested.count()) return std::chrono::microseconds(*min_us);
  return requested;
}

FramePacer::FramePacer(std::chrono::microseconds interval)
    : interval_ns_(static_cast<std::uint64_t>(std::max<std::int64_t>(interval.count(), 1) *
                                              std::int64_t{1000})) {}

void FramePacer::reset() {
  next_deadline_ns_.reset();
  last_timestamp_ns_.reset();
}

bool FramePacer::accept(std::uint64_t timestamp_ns) {
  // A timestamp going backwards means the camera restarted its clock: start over.
  if (last_timestamp_ns_ && timestamp_ns < *last_timestamp_ns_) reset();
  const std::uint64_t camera_period_ns =
      last_timestamp_ns_ ? timestamp_ns - *last_timestamp_ns_ : interval_ns_;
  last_timestamp_ns_ = timestamp_ns;
  if (!next_deadline_ns_) {
    next_deadline_ns_ = timestamp_ns + interval_ns_;
    return true;
  }
  const std::uint64_t tolerance_ns = std::min(camera_period_ns, interval_ns_) / 2;
  if (timestamp_ns + tolerance_ns < *next_deadline_ns_) return false;
  // A frame later than the tolerance (the camera paused, or is slower than asked) restarts the
  // schedule from itself rather than letting the next frames catch up in a burst.
  *next_deadline_ns_ =
      std::max(*next_deadline_ns_ + interval_ns_, timestamp_ns + interval_ns_ - tolerance_ns);
  return true;
}

std::chrono::system_clock::time_point to_wall_clock(std::uint64_t timestamp_ns,
                                                    std::uint64_t monotonic_now_ns,
                                                    std::chrono::system_clock::time_point now) {
  const auto age_ns = monotonic_now_ns >= timestamp_ns ? monotonic_now_ns - timestamp_ns : 0;
  return now - std::chrono::duration_cast<std::chrono::system_clock::duration>(
                   std::chrono::nanoseconds(age_ns));
}

std::size_t select_camera(std::span<const std::string> ids, std::string_view selector) {
  if (ids.empty()) throw CaptureError(std::string("no cameras found") + kListHint);
  if (const auto it = std::find(ids.begin(), ids.end(), selector); it != ids.end()) {
    return static_cast<std::size_t>(it - ids.begin());
  }
  std::size_t index = 0;
  const auto* end = selector.data() + selector.size();
  const auto [ptr, ec] = std::from_chars(selector.data(), end, index);
  if (selector.empty() || ec != std::errc() || ptr != end) {
    throw CaptureError("no camera with id '" + std::string(selector) + "'" + kListHint);
  }
  if (index >= ids.size()) {
    throw CaptureError("camera index " + std::string(selector) + " is out of range: " +
                       std::to_string(ids.size()) + " camera" + (ids.size() == 1 ? "" : "s") +
                       " found (0.." + std::to_string(ids.size() - 1) + ")" + kListHint);
  }
  return index;
}

std::vector<std::string> describe_modes(std::string_view format_name, std::span<const Size> sizes,
                                        std::optional<SizeRange> range) {
  std::vector<std::string> modes;
  const std::string prefix = std::string(format_name) + " ";
  const bool spans_sizes =
      range && (range->min.width != range->max.width || range->min.height != range->max.height);
  // For discrete sizes libcamera's range is their bounding box, whose corner is a listed size.
  const bool max_listed = range && std::any_of(sizes.begin(), sizes.end(), [&](const Size& s) {
                            return s.width == range->max.width && s.height == range->max.height;
                          });
  if (spans_sizes && (range->hstep > 1 || range->vstep > 1 || !max_listed)) {
    modes.push_back(prefix + size_text(range->min) + "-" + size_text(range->max));
    return modes;
  }
  for (const auto& size : sizes) modes.push_back(prefix + size_text(size));
  if (modes.empty() && range && range->max.width > 0) {
    modes.push_back(prefix + size_text(range->max));
  }
  return modes;
}

std::vector<std::uint32_t> listing_order(std::span<const std::uint32_t> fourccs) {
  std::vector<std::uint32_t> ordered;
  for (const auto usable : {kFourccYuv420, kFourccNv12, kFourccYuyv, kFourccUyvy, kFourccMjpeg}) {
    if (std::find(fourccs.begin(), fourccs.end(), usable) != fourccs.end()) {
      ordered.push_back(usable);
    }
  }
  return ordered;
}

}  // namespace camstream::camera_logic
