#include "capture/libcamera/camera_logic.hpp"

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
  if (format == PixelFormat::NV12) return {{stride, height}, {stride, height / 2}};
  return {{stride, height}, {stride / 2, height / 2}, {stride / 2, height / 2}};
}

}  // namespace

std::uint32_t format_to_request(std::span<const std::uint32_t> offered_fourccs) {
  const auto offered = [&](std::uint32_t code) {
    return std::find(offered_fourccs.begin(), offered_fourccs.end(), code) != offered_fourccs.end();
  };
  if (!offered(kFourccYuv420) && offered(kFourccNv12)) return kFourccNv12;
  return kFourccYuv420;
}

PixelFormat frame_format_for(std::uint32_t validated_fourcc, std::string_view format_name) {
  if (validated_fourcc == kFourccYuv420) return PixelFormat::I420;
  if (validated_fourcc == kFourccNv12) return PixelFormat::NV12;
  throw CaptureError("the camera offers " + std::string(format_name) +
                     " instead of YUV420 or NV12, which camstream needs");
}

BufferLayout compute_buffer_layout(std::span<const PlaneDescription> planes, int stride,
                                   PixelFormat format, int width, int height) {
  const int wanted_planes = format == PixelFormat::NV12 ? 2 : 3;
  if (width < 2 || height < 2) {
    throw CaptureError("camera buffer size " + std::to_string(width) + "x" +
                       std::to_string(height) + " is too small");
  }
  if (stride < width) {
    throw CaptureError("camera buffer stride " + std::to_string(stride) +
                       " is shorter than the width " + std::to_string(width));
  }
  if (planes.size() != 1 && planes.size() != static_cast<std::size_t>(wanted_planes)) {
    throw CaptureError("camera buffer has " + std::to_string(planes.size()) +
                       " planes; expected 1 or " + std::to_string(wanted_planes));
  }

  BufferLayout layout;
  layout.format = format;
  layout.width = width & ~1;
  layout.height = height & ~1;

  const auto shapes = plane_shapes(format, stride, height);
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
      const std::size_t size = static_cast<std::size_t>(shape.stride) * shape.rows;
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

std::size_t own_buffer_size(std::uint32_t frame_size, int stride, PixelFormat format, int height) {
  std::size_t picture = 0;
  for (const auto& shape : plane_shapes(format, stride, height)) {
    picture += static_cast<std::size_t>(shape.stride) * shape.rows;
  }
  return std::max<std::size_t>(frame_size, picture);
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

Flips flips_for(int rotation, bool hflip, bool vflip) {
  if (rotation != 0 && rotation != 180) {
    throw CaptureError("rotation " + std::to_string(rotation) +
                       " is not supported (--rotation takes 0 or 180; use --hflip/--vflip to "
                       "mirror)");
  }
  const bool rotate = rotation == 180;
  return {hflip != rotate, vflip != rotate};
}

std::string describe_flips(Flips flips) {
  if (flips.hflip && flips.vflip) return "rotate 180";
  if (flips.hflip) return "hflip";
  if (flips.vflip) return "vflip";
  return "none";
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

bool should_deliver(std::uint64_t timestamp_ns, std::optional<std::uint64_t> last_delivered_ns,
                    std::chrono::microseconds interval) {
  if (!last_delivered_ns) return true;
  // A timestamp going backwards means the camera restarted its clock: start over.
  if (timestamp_ns < *last_delivered_ns) return true;
  const auto elapsed_ns = timestamp_ns - *last_delivered_ns;
  const auto wanted_ns = static_cast<std::uint64_t>(
      std::chrono::duration_cast<std::chrono::nanoseconds>(interval).count() * 9 / 10);
  return elapsed_ns >= wanted_ns;
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
  for (const auto preferred : {kFourccYuv420, kFourccNv12}) {
    if (std::find(fourccs.begin(), fourccs.end(), preferred) != fourccs.end()) {
      ordered.push_back(preferred);
    }
  }
  for (const auto code : fourccs) {
    if (std::find(ordered.begin(), ordered.end(), code) == ordered.end()) ordered.push_back(code);
  }
  return ordered;
}

}  // namespace camstream::camera_logic
