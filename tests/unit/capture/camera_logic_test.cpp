// The libcamera source's pure decisions: format, buffer layout, orientation, zoom, interval,
// pacing, camera selection and listing. These run without a camera and without libcamera.
#include "capture/libcamera/camera_logic.hpp"

#include <gtest/gtest.h>

#include <algorithm>
#include <array>
#include <cmath>
#include <limits>
#include <string>
#include <vector>

#include "same_orientation.hpp"

namespace camstream::camera_logic {
namespace {

using test::same_orientation;

using std::chrono::microseconds;
using std::chrono::milliseconds;

TEST(CameraFormat, AcceptsPlanarPackedAndMjpeg) {
  EXPECT_EQ(frame_format_for(kFourccYuv420, "YUV420"), PixelFormat::I420);
  EXPECT_EQ(frame_format_for(kFourccNv12, "NV12"), PixelFormat::NV12);
  EXPECT_EQ(frame_format_for(kFourccYuyv, "YUYV"), PixelFormat::YUYV);
  EXPECT_EQ(frame_format_for(kFourccUyvy, "UYVY"), PixelFormat::UYVY);
  EXPECT_EQ(frame_format_for(kFourccMjpeg, "MJPEG"), PixelFormat::MJPEG);
}

FormatOffer offer(std::uint32_t code, std::vector<Size> sizes) {
  return {code, std::move(sizes), std::nullopt};
}

TEST(CameraFormat, PlanarFirst) {
  const std::vector<FormatOffer> pi{offer(kFourccNv12, {}), offer(kFourccYuv420, {}),
                                    offer(kFourccYuyv, {})};
  EXPECT_EQ(format_to_request(pi, {640, 480}, milliseconds(100)), kFourccYuv420);
  const std::vector<FormatOffer> uvc_nv12{offer(kFourccMjpeg, {{640, 480}}),
                                          offer(kFourccYuyv, {{640, 480}}),
                                          offer(kFourccNv12, {{640, 480}})};
  EXPECT_EQ(format_to_request(uvc_nv12, {640, 480}, milliseconds(100)), kFourccNv12);
  EXPECT_EQ(format_to_request({}, {640, 480}, milliseconds(100)), kFourccYuv420);
}

// A typical USB 2.0 webcam: YUYV up to 1280x720 (too slow above 640x480 at 30 fps), MJPEG up to
// 1920x1080 at 30 fps.
const std::vector<FormatOffer> kWebcam{offer(kFourccMjpeg, {{640, 480}, {1280, 720}, {1920, 1080}}),
                                       offer(kFourccYuyv, {{640, 480}, {1280, 720}})};

TEST(CameraFormat, UsbWebcamYuyvWhileItKeepsUp) {
  EXPECT_EQ(format_to_request(kWebcam, {640, 480}, milliseconds(100)), kFourccYuyv);
  EXPECT_EQ(format_to_request(kWebcam, {640, 480}, microseconds(33334)), kFourccYuyv);
  EXPECT_EQ(format_to_request(kWebcam, {1280, 720}, milliseconds(100)), kFourccYuyv);  // 10 fps
}

TEST(CameraFormat, UsbWebcamMjpegWhenTheSizeNeedsIt) {
  // YUYV 1280x720 at 30 fps is more than USB 2.0 carries: MJPEG.
  EXPECT_EQ(format_to_request(kWebcam, {1280, 720}, microseconds(33334)), kFourccMjpeg);
  EXPECT_EQ(format_to_request(kWebcam, {640, 480}, milliseconds(10)), kFourccMjpeg);
  // No YUYV at this size at all.
  EXPECT_EQ(format_to_request(kWebcam, {1920, 1080}, milliseconds(1000)), kFourccMjpeg);
  EXPECT_EQ(format_to_request(kWebcam, {4000, 3000}, milliseconds(1000)), kFourccMjpeg);
}

TEST(CameraFormat, UsbWebcamWithOneFormat) {
  const std::vector<FormatOffer> yuyv_only{offer(kFourccYuyv, {{640, 480}})};
  EXPECT_EQ(format_to_request(yuyv_only, {1920, 1080}, milliseconds(10)), kFourccYuyv);
  const std::vector<FormatOffer> uyvy_only{offer(kFourccUyvy, {{640, 480}})};
  EXPECT_EQ(format_to_request(uyvy_only, {640, 480}, milliseconds(100)), kFourccUyvy);
  const std::vector<FormatOffer> mjpeg_only{offer(kFourccMjpeg, {{640, 480}})};
  EXPECT_EQ(format_to_request(mjpeg_only, {640, 480}, milliseconds(100)), kFourccMjpeg);
  // MJPEG offered but not at this size, YUYV is: YUYV even if slow.
  const std::vector<FormatOffer> small_mjpeg{offer(kFourccMjpeg, {{320, 240}}),
                                             offer(kFourccYuyv, {{1280, 720}})};
  EXPECT_EQ(format_to_request(small_mjpeg, {1280, 720}, microseconds(33334)), kFourccYuyv);
}

// --camera-format: the one asked for when offered, at any size (validate() then settles it).
TEST(CameraFormat, ForcedFormatIsChosenWhenOffered) {
  EXPECT_EQ(choose_format(kWebcam, {640, 480}, milliseconds(100), "mjpeg"), kFourccMjpeg);
  EXPECT_EQ(choose_format(kWebcam, {1920, 1080}, milliseconds(10), "yuyv"), kFourccYuyv);
  EXPECT_EQ(choose_format(kWebcam, {640, 480}, milliseconds(100), "auto"), kFourccYuyv);
  EXPECT_EQ(choose_format(kWebcam, {1280, 720}, microseconds(33334), "auto"), kFourccMjpeg);
  const std::vector<FormatOffer> pi{offer(kFourccNv12, {}), offer(kFourccYuv420, {})};
  EXPECT_EQ(choose_format(pi, {640, 480}, milliseconds(100), "nv12"), kFourccNv12);
  EXPECT_EQ(choose_format(pi, {640, 480}, milliseconds(100), "yuv420"), kFourccYuv420);
  const std::vector<FormatOffer> uyvy{offer(kFourccUyvy, {{640, 480}})};
  EXPECT_EQ(choose_format(uyvy, {640, 480}, milliseconds(100), "uyvy"), kFourccUyvy);
}

std::string refusal(std::span<const FormatOffer> offers, std::string_view forced) {
  try {
    choose_format(offers, {640, 480}, milliseconds(100), forced);
  } catch (const CameraFormatError& error) {
    return error.what();
  }
  ADD_FAILURE() << forced << " chosen";
  return {};
}

TEST(CameraFormat, AFormatNotOfferedIsRefusedNamingTheOffered) {
  EXPECT_EQ(refusal(kWebcam, "nv12"),
            "--camera-format nv12: the camera does not offer it; it offers yuyv, mjpeg; run "
            "camstream --list-cameras");
  const std::vector<FormatOffer> pi{offer(kFourccYuyv, {}), offer(kFourccNv12, {}),
                                    offer(kFourccYuv420, {}),
                                    offer(fourcc('R', 'G', '2', '4'), {})};
  EXPECT_EQ(refusal(pi, "mjpeg"),
            "--camera-format mjpeg: the camera does not offer it; it offers yuv420, nv12, yuyv; "
            "run camstream --list-cameras");
  const std::vector<FormatOffer> rgb_only{offer(fourcc('R', 'G', '2', '4'), {})};
  EXPECT_NE(refusal(rgb_only, "yuyv").find("it offers none that camstream takes"),
            std::string::npos);
  EXPECT_NE(refusal({}, "yuv420").find("it offers none"), std::string::npos);
  // Names the options never let through are refused all the same.
  EXPECT_NE(refusal(kWebcam, "MJPEG").find("--camera-format MJPEG"), std::string::npos);
  EXPECT_NE(refusal(kWebcam, "").find("does not offer"), std::string::npos);
}

TEST(CameraFormat, NamesAndFourccsMatch) {
  for (const auto name : kCameraFormatNames) {
    if (name == "auto") {
      EXPECT_FALSE(camera_format_fourcc(name));
      continue;
    }
    ASSERT_TRUE(camera_format_fourcc(name)) << name;
    EXPECT_EQ(camera_format_name(*camera_format_fourcc(name)), name);
  }
  EXPECT_EQ(camera_format_name(fourcc('R', 'G', '2', '4')), "");
}

TEST(CameraFormat, RejectsOtherFormatsByName) {
  try {
    frame_format_for(fourcc('R', 'G', '2', '4'), "RGB888");
    FAIL() << "RGB888 accepted";
  } catch (const CaptureError& e) {
    EXPECT_NE(std::string(e.what()).find("RGB888"), std::string::npos) << e.what();
  }
}

TEST(CameraFormat, FourccMatchesDrmCodes) {
  EXPECT_EQ(kFourccYuv420, 0x32315559u);  // DRM_FORMAT_YUV420
  EXPECT_EQ(kFourccNv12, 0x3231564eu);    // DRM_FORMAT_NV12
  EXPECT_EQ(kFourccYuyv, 0x56595559u);    // DRM_FORMAT_YUYV
  EXPECT_EQ(kFourccUyvy, 0x59565955u);    // DRM_FORMAT_UYVY
  EXPECT_EQ(kFourccMjpeg, 0x47504a4du);   // DRM_FORMAT_MJPEG
}

TEST(CameraFormat, RangeFromTheColourSpace) {
  EXPECT_EQ(frame_range(PixelFormat::NV12, true), ColorRange::Limited);
  EXPECT_EQ(frame_range(PixelFormat::YUYV, true), ColorRange::Limited);
  EXPECT_EQ(frame_range(PixelFormat::I420, false), ColorRange::Full);
  // A camera's JPEG is JFIF: full range whatever the stream's colour space says.
  EXPECT_EQ(frame_range(PixelFormat::MJPEG, true), ColorRange::Full);
}

TEST(CameraFormat, ChangesNamed) {
  const StreamSettings asked{"YUV420", {640, 480}, "sYCC", "rotate 180"};
  EXPECT_EQ(describe_changes(asked, asked), "");
  EXPECT_EQ(describe_changes(asked, {"NV12", {1280, 720}, "Rec709", "none"}),
            "size 640x480 -> 1280x720, format YUV420 -> NV12, colour space sYCC -> Rec709, "
            "orientation rotate 180 -> none");
  EXPECT_EQ(describe_changes(asked, {"YUV420", {640, 480}, "", "rotate 180"}),
            "colour space sYCC -> unset");
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

// camstream's own buffers (no dma-buf provider): one Plane per colour plane on one memfd, as
// libcamera's exporters give them (the virtual pipeline writes NV12's UV through planes()[1]).
TEST(BufferLayout, OwnBufferOnePlanePerColourPlane) {
  const auto nv12 = own_buffer_planes(PixelFormat::NV12, 640, 640, 480, 0);
  ASSERT_EQ(nv12.planes.size(), 2u);
  EXPECT_EQ(nv12.planes[0].offset, 0u);
  EXPECT_EQ(nv12.planes[0].length, 640u * 480u);
  EXPECT_EQ(nv12.planes[1].offset, 640u * 480u);
  EXPECT_EQ(nv12.planes[1].length, 640u * 240u);
  EXPECT_EQ(nv12.size, 640u * 480u * 3 / 2);

  const auto i420 = own_buffer_planes(PixelFormat::I420, 1920, 1920, 1080, 0);
  ASSERT_EQ(i420.planes.size(), 3u);
  EXPECT_EQ(i420.planes[1].offset, 1920u * 1080u);
  EXPECT_EQ(i420.planes[2].offset, 1920u * 1080u + 960u * 540u);
  EXPECT_EQ(i420.planes[2].length, 960u * 540u);

  // The camera's frameSize wins when larger (padding the pipeline wants).
  EXPECT_EQ(own_buffer_planes(PixelFormat::I420, 640, 640, 480, 500000).size, 500000u);
  EXPECT_EQ(own_buffer_planes(PixelFormat::I420, 640, 640, 480, 1000).size, 640u * 480u * 3 / 2);

  const auto yuyv = own_buffer_planes(PixelFormat::YUYV, 1280, 640, 480, 0);
  ASSERT_EQ(yuyv.planes.size(), 1u);
  EXPECT_EQ(yuyv.planes[0].length, 1280u * 480u);

  const auto mjpeg = own_buffer_planes(PixelFormat::MJPEG, 0, 640, 480, 300000);
  ASSERT_EQ(mjpeg.planes.size(), 1u);
  EXPECT_EQ(mjpeg.planes[0].length, 300000u);
  EXPECT_EQ(own_buffer_planes(PixelFormat::MJPEG, 0, 640, 480, 0).size, 640u * 480u * 2);
}

TEST(BufferLayout, OwnBufferGivesTheLayoutBack) {
  for (const auto format : {PixelFormat::I420, PixelFormat::NV12, PixelFormat::YUYV}) {
    const int stride = format == PixelFormat::YUYV ? 1280 : 640;
    auto shape = own_buffer_planes(format, stride, 640, 480, 0);
    for (auto& plane : shape.planes) plane.fd = 9;
    const auto layout = compute_buffer_layout(shape.planes, stride, format, 640, 480);
    ASSERT_EQ(layout.mappings.size(), 1u);
    EXPECT_EQ(layout.mappings[0].length, shape.size);
    ASSERT_EQ(layout.planes.size(), shape.planes.size());
    for (std::size_t i = 0; i < shape.planes.size(); ++i) {
      EXPECT_EQ(layout.planes[i].offset, shape.planes[i].offset);
    }
  }
}

TEST(BufferLayout, PackedAndMjpegViews) {
  const std::array<PlaneDescription, 1> yuyv{{{3, 0, 1344 * 480}}};
  const auto packed = compute_buffer_layout(yuyv, 1344, PixelFormat::YUYV, 640, 480);
  ASSERT_EQ(packed.planes.size(), 1u);
  EXPECT_EQ(packed.planes[0].stride, 1344);
  EXPECT_EQ(packed.planes[0].size, 1344u * 480u);
  // A YUYV row is two bytes a pixel.
  EXPECT_THROW(compute_buffer_layout(yuyv, 1000, PixelFormat::YUYV, 640, 480), CaptureError);

  const std::array<PlaneDescription, 1> jpeg{{{4, 0, 200000}}};
  const auto mjpeg = compute_buffer_layout(jpeg, 0, PixelFormat::MJPEG, 1920, 1080);
  ASSERT_EQ(mjpeg.planes.size(), 1u);
  EXPECT_EQ(mjpeg.planes[0].size, 200000u);
  const std::uint8_t* base = reinterpret_cast<const std::uint8_t*>(0x1000);
  const auto view = make_frame_view(mjpeg, std::span(&base, 1));
  EXPECT_EQ(view.format, PixelFormat::MJPEG);
  EXPECT_EQ(view.planes[0].data, base);
  EXPECT_EQ(view.planes[0].size, 200000u);
}

TEST(BufferLayout, ViewNeedsOneBasePerMapping) {
  const std::array<PlaneDescription, 1> planes{{{1, 0, 640 * 480 * 2}}};
  const auto layout = compute_buffer_layout(planes, 640, PixelFormat::I420, 640, 480);
  const std::array<const std::uint8_t*, 2> bases{nullptr, nullptr};
  EXPECT_THROW(make_frame_view(layout, bases), CaptureError);
}

TEST(Orientation, CameraFlipsLeaveAtMostAQuarterTurnToSoftware) {
  for (const int rotation : {0, 90, 180, 270}) {
    for (const bool hflip : {false, true}) {
      for (const bool vflip : {false, true}) {
        const Orientation wanted{rotation, hflip, vflip};
        const Flips camera = camera_flips(wanted, false);
        const Orientation software = software_orientation(wanted, camera);
        // The camera's flips, then the software's part, make the picture asked for.
        EXPECT_TRUE(
            same_orientation(followed_by({0, camera.hflip, camera.vflip}, software), wanted))
            << describe(wanted);
        EXPECT_FALSE(software.hflip || software.vflip) << describe(wanted);
        EXPECT_EQ(software.rotation, rotation % 180) << describe(wanted);
        EXPECT_EQ(swaps_size(software), rotation % 180 != 0) << describe(wanted);
      }
    }
  }
}

TEST(Orientation, CameraAsksForFlipsOnly) {
  EXPECT_EQ(camera_flips({0, false, false}, false), (Flips{false, false}));
  EXPECT_EQ(camera_flips({0, true, false}, false), (Flips{true, false}));
  EXPECT_EQ(camera_flips({180, false, false}, false), (Flips{true, true}));
  EXPECT_EQ(camera_flips({180, true, false}, false), (Flips{false, true}));
  EXPECT_EQ(camera_flips({90, false, false}, false), (Flips{false, false}));
  EXPECT_EQ(camera_flips({270, false, false}, false), (Flips{true, true}));
}

TEST(Orientation, CameraThatIgnoresOrientationLeavesAllToSoftware) {
  for (const int rotation : {0, 90, 180, 270}) {
    const Orientation wanted{rotation, true, false};
    EXPECT_EQ(camera_flips(wanted, true), (Flips{false, false}));
    EXPECT_TRUE(same_orientation(software_orientation(wanted, {}), wanted));
  }
}

TEST(Orientation, CameraThatGrantsLessLeavesTheRestToSoftware) {
  // A UVC camera: validate() takes the flips back to none.
  EXPECT_TRUE(same_orientation(software_orientation({180, false, false}, {}), {180, false, false}));
  EXPECT_TRUE(same_orientation(software_orientation({0, true, false}, {}), {0, true, false}));
  // Only one flip granted of the two of a half turn: the other in software.
  EXPECT_TRUE(
      same_orientation(software_orientation({180, false, false}, {true, false}), {0, false, true}));
  // A quarter turn on a camera that flips: only the quarter turn stays.
  EXPECT_TRUE(same_orientation(software_orientation({270, false, false}, {true, true}),
                               {90, false, false}));
  EXPECT_TRUE(is_identity(software_orientation({180, true, true}, {})));
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

// Frames a camera gives at `period_ns` (plus `jitter(frame)`) for `seconds`, through a pacer at
// `interval`: the delivered timestamps.
template <typename Jitter>
std::vector<std::uint64_t> pace(std::chrono::microseconds interval, double period_ns, int seconds,
                                Jitter jitter) {
  FramePacer pacer(interval);
  std::vector<std::uint64_t> delivered;
  const auto frames = static_cast<int>(seconds * 1e9 / period_ns);
  for (int frame = 0; frame < frames; ++frame) {
    const auto ts = static_cast<std::uint64_t>(5e9 + frame * period_ns + jitter(frame));
    if (pacer.accept(ts)) delivered.push_back(ts);
  }
  return delivered;
}
std::vector<std::uint64_t> pace(std::chrono::microseconds interval, double period_ns, int seconds) {
  return pace(interval, period_ns, seconds, [](int) { return 0.0; });
}

// Delivered frames a second, from the first to the last delivered one.
double rate(const std::vector<std::uint64_t>& delivered) {
  return (delivered.size() - 1) * 1e9 / static_cast<double>(delivered.back() - delivered.front());
}

TEST(Pacing, DecimatesA30FpsCameraTo10Fps) {
  const auto delivered = pace(milliseconds(100), 1e9 / 30, 10);
  EXPECT_NEAR(rate(delivered), 10.0, 0.1);
  for (std::size_t i = 1; i < delivered.size(); ++i) {
    EXPECT_NEAR(static_cast<double>(delivered[i] - delivered[i - 1]), 100e6, 1e6);
  }
}

TEST(Pacing, CameraSlightlyFasterThanAskedIsPacedToTheAskedRate) {
  // 0.95x the interval: delivering every frame would be 5.3 % too fast; the old 0.9x gate did.
  const auto delivered = pace(milliseconds(100), 0.95 * 100e6, 60);
  EXPECT_NEAR(rate(delivered), 10.0, 10.0 * 0.01);
  // No two frames closer than half a camera period before their deadline allows.
  for (std::size_t i = 1; i < delivered.size(); ++i) {
    EXPECT_GE(delivered[i] - delivered[i - 1], static_cast<std::uint64_t>(0.9 * 100e6));
  }
}

TEST(Pacing, CameraSlightlySlowerThanAskedKeepsEveryFrame) {
  // 1.05x the interval: the old 0.9x gate kept these, but 0.9x..1x lost every other frame.
  for (const double factor : {1.05, 1.0, 0.999, 1.2, 3.0}) {
    const double period = factor * 100e6;
    const int seconds = 30;
    const auto delivered = pace(milliseconds(100), period, seconds);
    if (factor >= 1.0) {
      EXPECT_EQ(delivered.size(), static_cast<std::size_t>(seconds * 1e9 / period)) << factor;
    } else {
      EXPECT_NEAR(rate(delivered), 10.0, 0.5) << factor;
    }
  }
}

TEST(Pacing, ManyRatiosWithinFivePercent) {
  // Camera periods from 1/40 to 1.5 times the interval, with +-10 % jitter per frame.
  for (double factor = 0.025; factor < 1.5; factor *= 1.07) {
    const double period = factor * 50e6;
    const auto delivered = pace(milliseconds(50), period, 40, [&](int frame) {
      return ((frame * 7919) % 21 - 10) / 100.0 * period;
    });
    const double expected = std::min(20.0, 1e9 / period);
    EXPECT_NEAR(rate(delivered), expected, expected * 0.05) << "camera period x" << factor;
  }
}

TEST(Pacing, VirtualCameraAsFastAsItCan) {
  // The virtual pipeline gives frames back to back (about 2 ms apart here): 30 fps asked.
  const auto delivered = pace(microseconds(33333), 2.1e6, 20);
  EXPECT_NEAR(rate(delivered), 30.0, 30.0 * 0.01);
}

TEST(Pacing, AfterAPauseNoBurst) {
  FramePacer pacer(milliseconds(100));
  std::uint64_t ts = 0;
  int delivered = 0;
  for (int i = 0; i < 10; ++i, ts += 10'000'000) delivered += pacer.accept(ts);
  ts += 2'000'000'000;  // the camera stalls for 2 s, then runs at 100 fps again
  int after = 0;
  for (int i = 0; i < 50; ++i, ts += 10'000'000) after += pacer.accept(ts);
  EXPECT_EQ(delivered, 1);
  EXPECT_NEAR(after, 5, 1);  // 0.5 s at 10 fps, not a catch-up burst of 20
}

TEST(Pacing, FirstFrameAndClockRestart) {
  FramePacer pacer(milliseconds(100));
  EXPECT_TRUE(pacer.accept(1'000'000'000));
  EXPECT_FALSE(pacer.accept(1'050'000'000));
  EXPECT_TRUE(pacer.accept(1'100'000'000));
  EXPECT_TRUE(pacer.accept(10));  // the camera restarted its clock
  EXPECT_FALSE(pacer.accept(20'000'000));
  pacer.reset();
  EXPECT_TRUE(pacer.accept(30'000'000));
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

TEST(Listing, UsableFormatsInPreferenceOrder) {
  const std::uint32_t rgb = fourcc('R', 'G', '2', '4');
  const std::array<std::uint32_t, 6> offered{kFourccYuyv,  rgb,         kFourccNv12,
                                             kFourccMjpeg, kFourccUyvy, kFourccYuv420};
  EXPECT_EQ(listing_order(offered),
            (std::vector<std::uint32_t>{kFourccYuv420, kFourccNv12, kFourccYuyv, kFourccUyvy,
                                        kFourccMjpeg}));
}

TEST(Zoom, CentredCropOfTheMaximum) {
  const Rect maximum{0, 0, 4056, 3040};
  EXPECT_EQ(zoom_crop(maximum, 1.0), maximum);
  EXPECT_EQ(zoom_crop(maximum, 2.0), (Rect{1014, 760, 2028, 1520}));
  EXPECT_EQ(zoom_crop(maximum, 8.0), (Rect{1774, 1330, 507, 380}));
  // An offset maximum (a sensor's active area) keeps its offset.
  EXPECT_EQ(zoom_crop({16, 8, 1920, 1080}, 2.0), (Rect{16 + 480, 8 + 270, 960, 540}));
}

TEST(Zoom, OddSizesAndFactorsStayCentredAndInside) {
  const Rect maximum{3, 5, 641, 479};
  for (const double zoom : {1.0, 1.001, 1.5, 3.0, 3.3333, 7.999, 8.0}) {
    const Rect crop = zoom_crop(maximum, zoom);
    EXPECT_GE(crop.x, maximum.x) << zoom;
    EXPECT_GE(crop.y, maximum.y) << zoom;
    EXPECT_LE(crop.x + static_cast<int>(crop.width), maximum.x + static_cast<int>(maximum.width));
    EXPECT_LE(crop.y + static_cast<int>(crop.height), maximum.y + static_cast<int>(maximum.height));
    EXPECT_NEAR(crop.width, 641 / zoom, 1.0) << zoom;
    EXPECT_NEAR(crop.height, 479 / zoom, 1.0) << zoom;
    // Centred to the pixel: the margins left and right differ by at most one.
    const int left = crop.x - maximum.x;
    const int right = static_cast<int>(maximum.width - crop.width) - left;
    EXPECT_LE(std::abs(left - right), 1) << zoom;
  }
}

TEST(Zoom, ExtremeFactorsAreClamped) {
  const Rect maximum{0, 0, 1280, 720};
  EXPECT_EQ(zoom_crop(maximum, 0.5), maximum);
  EXPECT_EQ(zoom_crop(maximum, -3.0), maximum);
  EXPECT_EQ(zoom_crop(maximum, std::numeric_limits<double>::quiet_NaN()), maximum);
  EXPECT_EQ(zoom_crop(maximum, 1e300), zoom_crop(maximum, 8.0));
  EXPECT_EQ(zoom_crop(maximum, std::numeric_limits<double>::infinity()), zoom_crop(maximum, 8.0));
  // A tiny maximum never gives an empty crop; an empty one stays empty.
  EXPECT_EQ(zoom_crop({0, 0, 3, 2}, 8.0), (Rect{1, 0, 1, 1}));
  EXPECT_EQ(zoom_crop({0, 0, 0, 0}, 4.0), (Rect{0, 0, 0, 0}));
}

}  // namespace
}  // namespace camstream::camera_logic
