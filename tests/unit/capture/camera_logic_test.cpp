// The libcamera source's pure decisions: format, buffer layout, orientation, interval, pacing,
// camera selection and listing. These run without a camera and without libcamera.
#include "capture/libcamera/camera_logic.hpp"

#include <gtest/gtest.h>

#include <algorithm>
#include <array>
#include <string>
#include <vector>

namespace camstream::camera_logic {
namespace {

using std::chrono::microseconds;
using std::chrono::milliseconds;

TEST(CameraFormat, AcceptsYuv420AndNv12) {
  EXPECT_EQ(frame_format_for(kFourccYuv420, "YUV420"), PixelFormat::I420);
  EXPECT_EQ(frame_format_for(kFourccNv12, "NV12"), PixelFormat::NV12);
}

TEST(CameraFormat, RequestsYuv420ElseNv12) {
  const std::uint32_t yuyv = fourcc('Y', 'U', 'Y', 'V'), mjpg = fourcc('M', 'J', 'P', 'G');
  const std::array<std::uint32_t, 3> pi{kFourccNv12, kFourccYuv420, yuyv};
  EXPECT_EQ(format_to_request(pi), kFourccYuv420);
  const std::array<std::uint32_t, 3> uvc_nv12{mjpg, yuyv, kFourccNv12};
  EXPECT_EQ(format_to_request(uvc_nv12), kFourccNv12);
  const std::array<std::uint32_t, 2> uvc_yuyv{mjpg, yuyv};
  EXPECT_EQ(format_to_request(uvc_yuyv), kFourccYuv420);  // validate() then names YUYV
  EXPECT_EQ(format_to_request({}), kFourccYuv420);
}

TEST(CameraFormat, RejectsOtherFormatsByName) {
  try {
    frame_format_for(fourcc('Y', 'U', 'Y', 'V'), "YUYV");
    FAIL() << "YUYV accepted";
  } catch (const CaptureError& e) {
    EXPECT_NE(std::string(e.what()).find("YUYV"), std::string::npos) << e.what();
  }
}

TEST(CameraFormat, FourccMatchesDrmCodes) {
  EXPECT_EQ(kFourccYuv420, 0x32315559u);  // DRM_FORMAT_YUV420
  EXPECT_EQ(kFourccNv12, 0x3231564eu);    // DRM_FORMAT_NV12
}

// The Pi's layout: three planes on one dmabuf with offsets 0, stride*h, stride*h + stride/2*h/2.
TEST(BufferLayout, Yuv420ThreePlanesSharingOneFd) {
  const int w = 1920, h = 1080, stride = 1920;
  const std::uint32_t y = stride * h, c = stride / 2 * h / 2;
  const std::array<PlaneDescription, 3> planes{{{7, 0, y}, {7, y, c}, {7, y + c, c}}};
  const auto layout = compute_buffer_layout(planes, stride, PixelFormat::I420, w, h);
  ASSERT_EQ(layout.mappings.size(), 1u);
  EXPECT_EQ(layout.mappings[0].fd, 7);
  EXPECT_EQ(layout.mappings[0].length, std::size_t{y} + 2 * c);
  ASSERT_EQ(layout.planes.size(), 3u);
  EXPECT_EQ(layout.planes[0].offset, 0u);
  EXPECT_EQ(layout.planes[1].offset, 2073600u);  // not page-aligned: never an mmap offset
  EXPECT_EQ(layout.planes[2].offset, 2073600u + 518400u);
  EXPECT_EQ(layout.planes[0].stride, 1920);
  EXPECT_EQ(layout.planes[1].stride, 960);
  EXPECT_EQ(layout.planes[2].stride, 960);
  EXPECT_EQ(layout.planes[1].size, std::size_t{c});
  for (const auto& plane : layout.planes) EXPECT_EQ(plane.mapping, 0u);
}

TEST(BufferLayout, PaddedStrideAndViewPointers) {
  const int w = 642, h = 480, stride = 704;
  const std::uint32_t y = stride * h, c = stride / 2 * h / 2;
  const std::array<PlaneDescription, 3> planes{{{3, 0, y}, {3, y, c}, {3, y + c, c}}};
  const auto layout = compute_buffer_layout(planes, stride, PixelFormat::I420, w, h);
  std::vector<std::uint8_t> memory(layout.mappings[0].length);
  const std::array<const std::uint8_t*, 1> bases{memory.data()};
  const FrameView view = make_frame_view(layout, bases);
  EXPECT_EQ(view.format, PixelFormat::I420);
  EXPECT_EQ(view.width, 642);
  EXPECT_EQ(view.height, 480);
  EXPECT_EQ(view.planes[0].data, memory.data());
  EXPECT_EQ(view.planes[1].data, memory.data() + y);
  EXPECT_EQ(view.planes[2].data, memory.data() + y + c);
  EXPECT_EQ(view.planes[0].stride, 704);
  EXPECT_EQ(view.planes[1].stride, 352);
  EXPECT_EQ(view.planes[2].size, std::size_t{c});
  EXPECT_LE(view.planes[2].data + view.planes[2].size, memory.data() + memory.size());
}

TEST(BufferLayout, Nv12TwoPlanes) {
  const int w = 640, h = 480, stride = 640;
  const std::uint32_t y = stride * h, uv = stride * h / 2;
  const std::array<PlaneDescription, 2> planes{{{4, 0, y}, {4, y, uv}}};
  const auto layout = compute_buffer_layout(planes, stride, PixelFormat::NV12, w, h);
  ASSERT_EQ(layout.planes.size(), 2u);
  EXPECT_EQ(layout.planes[1].offset, std::size_t{y});
  EXPECT_EQ(layout.planes[1].stride, 640);  // interleaved UV: full stride
  EXPECT_EQ(layout.planes[1].size, std::size_t{uv});
  EXPECT_EQ(layout.mappings[0].length, std::size_t{y} + uv);
}

TEST(BufferLayout, SinglePlaneHoldsWholePicture) {
  const int w = 320, h = 240, stride = 384;
  const std::uint32_t frame = stride * h * 3 / 2;
  const std::array<PlaneDescription, 1> planes{{{9, 0, frame}}};
  const auto layout = compute_buffer_layout(planes, stride, PixelFormat::I420, w, h);
  ASSERT_EQ(layout.planes.size(), 3u);
  EXPECT_EQ(layout.planes[1].offset, std::size_t{384u * 240u});
  EXPECT_EQ(layout.planes[2].offset, std::size_t{384u * 240u + 192u * 120u});
  EXPECT_EQ(layout.mappings[0].length, std::size_t{frame});

  const auto nv12 = compute_buffer_layout(planes, stride, PixelFormat::NV12, w, h);
  ASSERT_EQ(nv12.planes.size(), 2u);
  EXPECT_EQ(nv12.planes[1].offset, std::size_t{384u * 240u});
}

TEST(BufferLayout, SeparateFdsGiveOneMappingEach) {
  const int w = 640, h = 480, stride = 640;
  const std::uint32_t y = stride * h, c = stride / 2 * h / 2;
  const std::array<PlaneDescription, 3> planes{{{10, 0, y}, {11, 0, c}, {12, 4096, c}}};
  const auto layout = compute_buffer_layout(planes, stride, PixelFormat::I420, w, h);
  ASSERT_EQ(layout.mappings.size(), 3u);
  EXPECT_EQ(layout.mappings[2].fd, 12);
  EXPECT_EQ(layout.mappings[2].length, 4096u + c);  // mapped from 0, not from the offset
  EXPECT_EQ(layout.planes[2].mapping, 2u);
  EXPECT_EQ(layout.planes[2].offset, 4096u);

  std::vector<std::uint8_t> a(layout.mappings[0].length), b(layout.mappings[1].length),
      d(layout.mappings[2].length);
  const std::array<const std::uint8_t*, 3> bases{a.data(), b.data(), d.data()};
  const auto view = make_frame_view(layout, bases);
  EXPECT_EQ(view.planes[1].data, b.data());
  EXPECT_EQ(view.planes[2].data, d.data() + 4096);
}

TEST(BufferLayout, OddCameraSizeIsCroppedToEven) {
  const int stride = 656;
  const std::uint32_t frame = stride * 481 * 2;
  const std::array<PlaneDescription, 1> planes{{{1, 0, frame}}};
  const auto layout = compute_buffer_layout(planes, stride, PixelFormat::I420, 651, 481);
  EXPECT_EQ(layout.width, 650);
  EXPECT_EQ(layout.height, 480);
}

TEST(BufferLayout, RejectsBuffersThatDoNotHoldThePicture) {
  const int w = 640, h = 480, stride = 640;
  const std::uint32_t y = stride * h;
  const std::array<PlaneDescription, 1> short_plane{{{1, 0, y}}};
  EXPECT_THROW(compute_buffer_layout(short_plane, stride, PixelFormat::I420, w, h), CaptureError);
  const std::array<PlaneDescription, 3> short_chroma{{{1, 0, y}, {1, y, 10}, {1, y + 10, 10}}};
  EXPECT_THROW(compute_buffer_layout(short_chroma, stride, PixelFormat::I420, w, h), CaptureError);
  const std::array<PlaneDescription, 2> two_for_i420{{{1, 0, y}, {1, y, y}}};
  EXPECT_THROW(compute_buffer_layout(two_for_i420, stride, PixelFormat::I420, w, h), CaptureError);
  const std::array<PlaneDescription, 1> whole{{{1, 0, y * 2}}};
  EXPECT_THROW(compute_buffer_layout(whole, 600, PixelFormat::I420, w, h), CaptureError);
  const std::array<PlaneDescription, 1> no_fd{{{-1, 0, y * 2}}};
  EXPECT_THROW(compute_buffer_layout(no_fd, stride, PixelFormat::I420, w, h), CaptureError);
}

TEST(BufferLayout, OwnBufferSize) {
  EXPECT_EQ(own_buffer_size(0, 640, PixelFormat::I420, 480), 640u * 480u * 3 / 2);
  EXPECT_EQ(own_buffer_size(0, 640, PixelFormat::NV12, 480), 640u * 480u * 3 / 2);
  EXPECT_EQ(own_buffer_size(500000, 640, PixelFormat::I420, 480), 500000u);
  EXPECT_EQ(own_buffer_size(1000, 640, PixelFormat::I420, 480), 640u * 480u * 3 / 2);
  // Such a buffer (one plane) gives a valid layout.
  const std::array<PlaneDescription, 1> planes{
      {{5, 0, static_cast<std::uint32_t>(own_buffer_size(0, 1920, PixelFormat::NV12, 1080))}}};
  EXPECT_NO_THROW(compute_buffer_layout(planes, 1920, PixelFormat::NV12, 1920, 1080));
}

TEST(BufferLayout, ViewNeedsOneBasePerMapping) {
  const std::array<PlaneDescription, 1> planes{{{1, 0, 640 * 480 * 2}}};
  const auto layout = compute_buffer_layout(planes, 640, PixelFormat::I420, 640, 480);
  const std::array<const std::uint8_t*, 2> bases{nullptr, nullptr};
  EXPECT_THROW(make_frame_view(layout, bases), CaptureError);
}

TEST(Orientation, RotationAndFlips) {
  EXPECT_EQ(flips_for(0, false, false), (Flips{false, false}));
  EXPECT_EQ(flips_for(0, true, false), (Flips{true, false}));
  EXPECT_EQ(flips_for(0, false, true), (Flips{false, true}));
  EXPECT_EQ(flips_for(180, false, false), (Flips{true, true}));
  EXPECT_EQ(flips_for(180, true, false), (Flips{false, true}));
  EXPECT_EQ(flips_for(180, true, true), (Flips{false, false}));
}

TEST(Orientation, RejectsQuarterTurns) {
  for (const int rotation : {90, 270, -180, 360}) {
    try {
      flips_for(rotation, false, false);
      FAIL() << "rotation " << rotation << " accepted";
    } catch (const CaptureError& e) {
      EXPECT_NE(std::string(e.what()).find("rotation"), std::string::npos) << e.what();
    }
  }
}

TEST(Orientation, Description) {
  EXPECT_EQ(describe_flips({true, true}), "rotate 180");
  EXPECT_EQ(describe_flips({true, false}), "hflip");
  EXPECT_EQ(describe_flips({false, false}), "none");
}

TEST(FrameInterval, MicrosecondsClampedToCameraLimits) {
  EXPECT_EQ(frame_duration_us(milliseconds(100), std::nullopt, std::nullopt), 100000);
  EXPECT_EQ(frame_duration_us(milliseconds(100), 33333, 200000), 100000);
  EXPECT_EQ(frame_duration_us(milliseconds(10), 33333, 200000), 33333);
  EXPECT_EQ(frame_duration_us(milliseconds(5000), 33333, 200000), 200000);
  EXPECT_EQ(frame_duration_us(milliseconds(5000), 33333, 0), 5000000);  // 0: no limit given
}

TEST(FrameInterval, GrantedIsRequestedUnlessTheCameraIsSlower) {
  EXPECT_EQ(granted_interval(milliseconds(100), 33333), milliseconds(100));
  EXPECT_EQ(granted_interval(milliseconds(100), std::nullopt), milliseconds(100));
  EXPECT_EQ(granted_interval(milliseconds(10), 33333), microseconds(33333));
}

TEST(Pacing, DecimatesA30FpsCameraTo10Fps) {
  // A camera ignoring FrameDurationLimits (uvcvideo) at 30 fps, asked for 100 ms.
  std::optional<std::uint64_t> last;
  int delivered = 0;
  for (int frame = 0; frame < 90; ++frame) {
    const std::uint64_t ts = 1'000'000'000ull + frame * 33'333'333ull;
    if (should_deliver(ts, last, milliseconds(100))) {
      ++delivered;
      last = ts;
    }
  }
  EXPECT_EQ(delivered, 30);
}

TEST(Pacing, KeepsEveryFrameAtTheRequestedRate) {
  std::optional<std::uint64_t> last;
  int delivered = 0;
  for (int frame = 0; frame < 50; ++frame) {
    // Jitter of a few ms around 100 ms must not drop frames.
    const std::uint64_t ts = frame * 100'000'000ull + (frame % 2 ? 4'000'000 : 0);
    if (should_deliver(ts, last, milliseconds(100))) {
      ++delivered;
      last = ts;
    }
  }
  EXPECT_EQ(delivered, 50);
}

TEST(Pacing, FirstFrameAndClockRestart) {
  EXPECT_TRUE(should_deliver(5, std::nullopt, milliseconds(100)));
  EXPECT_FALSE(should_deliver(1'050'000'000, 1'000'000'000, milliseconds(100)));
  EXPECT_TRUE(should_deliver(1'090'000'000, 1'000'000'000, milliseconds(100)));
  EXPECT_TRUE(should_deliver(10, 1'000'000'000, milliseconds(100)));
}

TEST(Timestamp, MonotonicToWallClock) {
  const auto now = std::chrono::system_clock::time_point(std::chrono::seconds(1'700'000'000));
  EXPECT_EQ(to_wall_clock(9'950'000'000, 10'000'000'000, now), now - milliseconds(50));
  EXPECT_EQ(to_wall_clock(11'000'000'000, 10'000'000'000, now), now);  // never in the future
}

TEST(RequestQueue, DropsTheOldestWhenFull) {
  DropOldestRing<int, 2> ring;
  EXPECT_TRUE(ring.empty());
  EXPECT_EQ(ring.push(1), std::nullopt);
  EXPECT_EQ(ring.push(2), std::nullopt);
  EXPECT_EQ(ring.push(3), 1);  // 1 goes back to the camera
  EXPECT_EQ(ring.size(), 2u);
  EXPECT_EQ(ring.pop(), 2);
  EXPECT_EQ(ring.push(4), std::nullopt);
  EXPECT_EQ(ring.push(5), 3);
  EXPECT_EQ(ring.pop(), 4);
  EXPECT_EQ(ring.pop(), 5);
  EXPECT_EQ(ring.pop(), std::nullopt);
  ring.push(6);
  ring.clear();
  EXPECT_TRUE(ring.empty());
  EXPECT_EQ(ring.pop(), std::nullopt);
}

TEST(RequestQueue, EveryItemComesOutOnce) {
  // Whatever the interleaving, each pushed item is either popped or returned as dropped once:
  // no camera request is lost or queued twice.
  DropOldestRing<int, 3> ring;
  std::vector<int> seen;
  for (int i = 0; i < 100; ++i) {
    if (const auto dropped = ring.push(i)) seen.push_back(*dropped);
    if (i % 4 == 0) {
      if (const auto item = ring.pop()) seen.push_back(*item);
    }
  }
  while (const auto item = ring.pop()) seen.push_back(*item);
  std::sort(seen.begin(), seen.end());
  ASSERT_EQ(seen.size(), 100u);
  for (int i = 0; i < 100; ++i) EXPECT_EQ(seen[i], i);
}

TEST(CameraSelection, ByIndexOrId) {
  const std::vector<std::string> ids{"/base/soc/i2c0mux/i2c@1/imx708@1a", "usb-cam", "42"};
  EXPECT_EQ(select_camera(ids, "0"), 0u);
  EXPECT_EQ(select_camera(ids, "1"), 1u);
  EXPECT_EQ(select_camera(ids, "usb-cam"), 1u);
  EXPECT_EQ(select_camera(ids, "/base/soc/i2c0mux/i2c@1/imx708@1a"), 0u);
  EXPECT_EQ(select_camera(ids, "42"), 2u);  // an id that looks like a number wins
}

std::string selection_error(const std::vector<std::string>& ids, std::string_view selector) {
  try {
    select_camera(ids, selector);
  } catch (const CaptureError& e) {
    return e.what();
  }
  return "";
}

TEST(CameraSelection, ClearErrors) {
  EXPECT_EQ(selection_error({}, "0"), "no cameras found; run camstream --list-cameras");
  const std::vector<std::string> ids{"a", "b"};
  const auto out_of_range = selection_error(ids, "2");
  EXPECT_NE(out_of_range.find("camera index 2 is out of range"), std::string::npos) << out_of_range;
  EXPECT_NE(out_of_range.find("2 cameras found"), std::string::npos) << out_of_range;
  const auto unknown = selection_error(ids, "imx219");
  EXPECT_NE(unknown.find("no camera with id 'imx219'"), std::string::npos) << unknown;
  EXPECT_NE(selection_error(ids, ""), "");
  EXPECT_NE(selection_error(ids, "-1"), "");
  EXPECT_NE(selection_error(ids, "1x"), "");
}

TEST(Listing, DiscreteSizesOrRange) {
  const std::array<Size, 2> sizes{{{640, 480}, {1280, 720}}};
  EXPECT_EQ(describe_modes("YUV420", sizes, std::nullopt),
            (std::vector<std::string>{"YUV420 640x480", "YUV420 1280x720"}));
  // UVC: discrete sizes; libcamera's range is then their unstepped bounding box.
  EXPECT_EQ(describe_modes("YUV420", sizes, SizeRange{{640, 480}, {1280, 720}, 1, 1}),
            (std::vector<std::string>{"YUV420 640x480", "YUV420 1280x720"}));
  // A scaling ISP: a stepped range (sizes() would only list common sizes inside it).
  EXPECT_EQ(describe_modes("YUV420", sizes, SizeRange{{64, 64}, {4608, 2592}, 2, 2}),
            (std::vector<std::string>{"YUV420 64x64-4608x2592"}));
  // An unstepped range: the list holds common sizes inside it, not the sensor's maximum.
  EXPECT_EQ(describe_modes("YUV420", sizes, SizeRange{{32, 32}, {16384, 16384}, 1, 1}),
            (std::vector<std::string>{"YUV420 32x32-16384x16384"}));
  EXPECT_EQ(describe_modes("NV12", {}, SizeRange{{64, 64}, {1920, 1080}, 1, 1}),
            (std::vector<std::string>{"NV12 64x64-1920x1080"}));
  EXPECT_TRUE(describe_modes("NV12", {}, std::nullopt).empty());
}

TEST(Listing, PreferredFormatsFirst) {
  const std::uint32_t yuyv = fourcc('Y', 'U', 'Y', 'V'), mjpg = fourcc('M', 'J', 'P', 'G');
  const std::array<std::uint32_t, 4> offered{yuyv, kFourccNv12, mjpg, kFourccYuv420};
  EXPECT_EQ(listing_order(offered),
            (std::vector<std::uint32_t>{kFourccYuv420, kFourccNv12, yuyv, mjpg}));
}

}  // namespace
}  // namespace camstream::camera_logic
