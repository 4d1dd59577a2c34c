// Striped encoding: where the picture is cut, how the stripes are joined, and that the joined
// JPEG decodes (TurboJPEG and djpeg) to exactly the pixels of the one-thread encode.
#include "encode/striped_jpeg.hpp"

#include <gtest/gtest.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <stdexcept>
#include <string>
#include <vector>

#include "camstream/encode/encode_error.hpp"
#include "camstream/encode/jpeg_encoder.hpp"
#include "encode/turbojpeg_helpers.hpp"

namespace camstream {
namespace {

// --- layout ---

TEST(StripeLayout, TwoStripesOf1080pAt420) {
  const StripeLayout layout = plan_stripes(1920, 1080, false, 2);
  EXPECT_EQ(layout.mcu_height, 16);
  EXPECT_EQ(layout.mcus_per_row, 120);
  EXPECT_EQ(layout.mcu_rows, 68);  // 1080 / 16 = 67.5: the last row is half padding
  EXPECT_EQ(layout.mcu_rows_per_stripe, 34);
  EXPECT_EQ(layout.stripes, 2);
  EXPECT_EQ(layout.restart_interval, 120 * 34);
  EXPECT_EQ(layout.first_row(1), 544);
  EXPECT_EQ(layout.rows(0, 1080), 544);
  EXPECT_EQ(layout.rows(1, 1080), 536);
}

TEST(StripeLayout, At422AnMcuRowIsEightRows) {
  const StripeLayout layout = plan_stripes(1280, 720, true, 4);
  EXPECT_EQ(layout.mcu_height, 8);
  EXPECT_EQ(layout.mcu_rows, 90);
  EXPECT_EQ(layout.mcu_rows_per_stripe, 23);
  EXPECT_EQ(layout.stripes, 4);
  EXPECT_EQ(layout.rows(3, 720), 720 - 3 * 23 * 8);
}

TEST(StripeLayout, OnlyTheLastStripeIsShorterAndNoneIsEmpty) {
  // 5 MCU rows in 4 wanted stripes: 2 + 2 + 1, not 2 + 2 + 1 + 0.
  const StripeLayout layout = plan_stripes(64, 80, false, 4);
  EXPECT_EQ(layout.mcu_rows, 5);
  EXPECT_EQ(layout.stripes, 3);
  EXPECT_EQ(layout.rows(2, 80), 16);
  for (int width : {16, 330, 1922}) {
    for (int height : {2, 16, 18, 46, 482, 1082}) {
      for (bool chroma_422 : {false, true}) {
        for (int wanted = 1; wanted <= 16; ++wanted) {
          const StripeLayout l = plan_stripes(width, height, chroma_422, wanted);
          ASSERT_GE(l.stripes, 1);
          ASSERT_LE(l.stripes, wanted);
          int rows = 0;
          for (int s = 0; s < l.stripes; ++s) {
            ASSERT_GT(l.rows(s, height), 0) << width << "x" << height << " stripe " << s;
            if (s + 1 < l.stripes) {
              ASSERT_EQ(l.rows(s, height) % l.mcu_height, 0);
            }
            rows += l.rows(s, height);
          }
          ASSERT_EQ(rows, height) << width << "x" << height << " in " << wanted;
        }
      }
    }
  }
}

TEST(StripeLayout, TheRestartIntervalFitsSixteenBits) {
  // 1 250 MCUs a row: 2 stripes of 4 000 rows would need Ri = 2.5 million.
  const StripeLayout layout = plan_stripes(20000, 8000, false, 2);
  EXPECT_LE(layout.restart_interval, 65535);
  EXPECT_GT(layout.stripes, 2);
  EXPECT_EQ(layout.restart_interval, layout.mcus_per_row * layout.mcu_rows_per_stripe);
}

// --- joining ---

// A minimal JPEG as libjpeg lays it out: SOI, SOF0 (height 16), SOS, scan, EOI.
std::vector<std::uint8_t> fake_jpeg(std::vector<std::uint8_t> scan) {
  std::vector<std::uint8_t> jpeg = {0xFF, 0xD8,                                     // SOI
                                    0xFF, 0xC0, 0x00, 0x0B, 8, 0, 16,   0, 32, 1,   // SOF0
                                    1,    0x11, 0,                                  // one component
                                    0xFF, 0xDA, 0x00, 0x08, 1, 1, 0x00, 0, 63, 0};  // SOS
  jpeg.insert(jpeg.end(), scan.begin(), scan.end());
  jpeg.push_back(0xFF);
  jpeg.push_back(0xD9);
  return jpeg;
}

TEST(JoinStripes, RestartMarkersCountZeroToSevenAndWrapInStripeOrder) {
  const auto first = fake_jpeg({0xA0, 0xFF, 0x00});  // a stuffed FF stays as it is
  std::vector<std::vector<std::uint8_t>> scans;
  std::vector<std::span<const std::uint8_t>> rest;
  for (int i = 1; i < 11; ++i) scans.push_back({static_cast<std::uint8_t>(i), 0x55});
  for (const auto& scan : scans) rest.emplace_back(scan);
  std::vector<std::uint8_t> out(4096);
  const std::size_t size = join_stripes(first, rest, 1000, 0x1234, out);
  ASSERT_GT(size, 0u);
  out.resize(size);

  // SOI, SOF0 with the whole height, DRI, SOS: in this order, before the scan.
  const std::vector<std::uint8_t> head = {0xFF, 0xD8, 0xFF, 0xC0, 0x00, 0x0B, 8,   0x03,
                                          0xE8, 0,    32,   1,    1,    0x11, 0,   0xFF,
                                          0xDD, 0,    4,    0x12, 0x34, 0xFF, 0xDA};
  ASSERT_TRUE(std::equal(head.begin(), head.end(), out.begin()));
  // The scan: stripe 0's bytes, then RSTn + stripe n's bytes, in order; EOI last.
  std::vector<std::uint8_t> expected_scan = {0xA0, 0xFF, 0x00};
  for (int i = 1; i < 11; ++i) {
    expected_scan.push_back(0xFF);
    expected_scan.push_back(static_cast<std::uint8_t>(0xD0 + (i - 1) % 8));
    expected_scan.push_back(static_cast<std::uint8_t>(i));
    expected_scan.push_back(0x55);
  }
  expected_scan.push_back(0xFF);
  expected_scan.push_back(0xD9);
  const std::size_t scan_at = head.size() + 8;  // the SOS segment's remaining 8 bytes
  ASSERT_EQ(out.size(), scan_at + expected_scan.size());
  EXPECT_TRUE(std::equal(expected_scan.begin(), expected_scan.end(), out.begin() + scan_at));
  // The ninth stripe's marker wrapped to RST0.
  EXPECT_EQ(out[scan_at + 3 + 8 * 4 + 1], 0xD0);
}

TEST(JoinStripes, TooSmallAnOutputGivesZeroAndABrokenStripeThrows) {
  const auto first = fake_jpeg({1, 2, 3});
  std::vector<std::uint8_t> out(10);
  EXPECT_EQ(join_stripes(first, {}, 16, 2, out), 0u);
  std::vector<std::uint8_t> big(100);
  const std::vector<std::uint8_t> not_jpeg = {0, 1, 2, 3, 4};
  EXPECT_THROW(join_stripes(not_jpeg, {}, 16, 2, big), std::runtime_error);
  auto truncated = first;
  truncated.pop_back();
  EXPECT_THROW(scan_data(truncated), std::runtime_error);
}

// --- workers ---

TEST(StripeWorkers, EveryTaskRunsOnceOnSomeThreadAndErrorsComeBack) {
  StripeWorkers workers(4);
  for (int round = 0; round < 300; ++round) {
    const int count = 1 + round % 9;  // fewer and more tasks than threads
    std::vector<std::atomic<int>> seen(static_cast<std::size_t>(count));
    std::atomic<int> bad_thread{0};
    workers.run(count, [&](int task, int thread) {
      seen[static_cast<std::size_t>(task)].fetch_add(1);
      if (thread < 0 || thread >= 4) bad_thread.fetch_add(1);
    });
    for (auto& times : seen) ASSERT_EQ(times.load(), 1) << "round " << round;
    ASSERT_EQ(bad_thread.load(), 0);
  }
  EXPECT_THROW(workers.run(5,
                           [](int task, int) {
                             if (task == 2) throw std::runtime_error("stripe 2");
                           }),
               std::runtime_error);
  // The workers are still there after a failed job.
  std::atomic<int> total{0};
  workers.run(4, [&](int, int) { total.fetch_add(1); });
  EXPECT_EQ(total.load(), 4);
}

TEST(StripeWorkers, TheCallerDoesTheTasksNoWorkerClaimed) {
  // A task that waits for another task: it ends only if that one is claimed by the caller or
  // by the worker, whichever is free, never left to a thread that is busy.
  StripeWorkers workers(2);
  for (int round = 0; round < 50; ++round) {
    std::atomic<bool> first_done{false};
    workers.run(2, [&](int task, int) {
      if (task == 0) {
        first_done.store(true);
        return;
      }
      const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(5);
      while (!first_done.load() && std::chrono::steady_clock::now() < deadline) {
      }
      ASSERT_TRUE(first_done.load());
    });
  }
  for (int round = 0; round < 50; ++round) {
    std::atomic<int> done{0};
    workers.run(6, [&](int, int) { done.fetch_add(1); });
    ASSERT_EQ(done.load(), 6);
  }
  StripeWorkers alone(1);  // no worker at all: the caller runs everything
  std::vector<int> threads;
  alone.run(3, [&](int, int thread) { threads.push_back(thread); });
  EXPECT_EQ(threads, (std::vector<int>{0, 0, 0}));
}

// --- pixels ---

// A picture with texture everywhere (noise over gradients), so that every block has AC
// coefficients and the stripes' DC predictions differ from the whole picture's.
class Picture {
 public:
  Picture(PixelFormat format, int width, int height) {
    frame_.format = format;
    frame_.width = width;
    frame_.height = height;
    std::uint32_t state = static_cast<std::uint32_t>(width * 7919 + height);
    auto noise = [&state] {
      state = state * 1664525u + 1013904223u;
      return static_cast<int>(state >> 27);  // 0..31
    };
    if (format == PixelFormat::YUYV) {
      const int stride = 2 * width + 6;  // padded rows
      data_.resize(static_cast<std::size_t>(stride) * height);
      for (int y = 0; y < height; ++y) {
        for (int x = 0; x < width; ++x) {
          std::uint8_t* pixel = &data_[static_cast<std::size_t>(y) * stride + 2 * x];
          pixel[0] = static_cast<std::uint8_t>((x * 200 / width + y % 37 + noise()) & 0xFF);
          pixel[1] = static_cast<std::uint8_t>(x % 2 == 0 ? 60 + (y * 130 / height) + noise()
                                                          : 200 - (x * 130 / width) + noise());
        }
      }
      frame_.planes[0] = {data_.data(), stride, data_.size()};
      return;
    }
    const int chroma_width = width / 2;
    const int chroma_height = height / 2;
    const int strides[3] = {width + 3, chroma_width + 5, chroma_width + 1};
    const int heights[3] = {height, chroma_height, chroma_height};
    std::size_t offsets[3];
    std::size_t total = 0;
    for (int c = 0; c < 3; ++c) {
      offsets[c] = total;
      total += static_cast<std::size_t>(strides[c]) * heights[c];
    }
    data_.resize(total);
    for (int c = 0; c < 3; ++c) {
      for (int y = 0; y < heights[c]; ++y) {
        for (int x = 0; x < (c == 0 ? width : chroma_width); ++x) {
          data_[offsets[c] + static_cast<std::size_t>(y) * strides[c] + x] =
              static_cast<std::uint8_t>((c * 80 + x * 3 + y * 2 + noise() * (c == 0 ? 3 : 1)) &
                                        0xFF);
        }
      }
      frame_.planes[static_cast<std::size_t>(c)] = {
          data_.data() + offsets[c], strides[c], static_cast<std::size_t>(strides[c]) * heights[c]};
    }
  }
  const FrameView& view() const { return frame_; }

 private:
  FrameView frame_;
  std::vector<std::uint8_t> data_;
};

std::vector<std::uint8_t> encode(const FrameView& frame, int quality, int threads) {
  JpegEncoder encoder(quality, threads);
  std::vector<std::uint8_t> out(JpegEncoder::max_jpeg_size(frame.width, frame.height));
  out.resize(encoder.encode(frame, out));
  return out;
}

struct Markers {
  int restart_interval = -1;  // -1: no DRI
  std::vector<int> restarts;  // n of each RSTn, in order
};

Markers find_markers(const std::vector<std::uint8_t>& jpeg) {
  Markers found;
  for (std::size_t i = 0; i + 5 < jpeg.size(); ++i) {
    if (jpeg[i] != 0xFF) continue;
    if (jpeg[i + 1] == 0xDD) found.restart_interval = (jpeg[i + 4] << 8) | jpeg[i + 5];
    if (jpeg[i + 1] >= 0xD0 && jpeg[i + 1] <= 0xD7) found.restarts.push_back(jpeg[i + 1] - 0xD0);
  }
  return found;
}

// djpeg's PPM of a JPEG, with whatever djpeg says on stderr (warnings included).
struct Djpeg {
  std::string pixels;
  std::string messages;
  int status = -1;
};

Djpeg run_djpeg(const std::vector<std::uint8_t>& jpeg) {
  const auto dir = std::filesystem::temp_directory_path();
  const std::string stem = (dir / ("striped_" + std::to_string(::getpid()))).string();
  {
    std::ofstream file(stem + ".jpg", std::ios::binary);
    file.write(reinterpret_cast<const char*>(jpeg.data()),
               static_cast<std::streamsize>(jpeg.size()));
  }
  Djpeg result;
  result.status = std::system(
      ("djpeg -pnm -outfile " + stem + ".ppm " + stem + ".jpg 2> " + stem + ".err").c_str());
  const auto slurp = [](const std::string& path) {
    std::ifstream file(path, std::ios::binary);
    return std::string(std::istreambuf_iterator<char>(file), std::istreambuf_iterator<char>());
  };
  result.pixels = slurp(stem + ".ppm");
  result.messages = slurp(stem + ".err");
  for (const char* ext : {".jpg", ".ppm", ".err"}) std::filesystem::remove(stem + ext);
  return result;
}

struct Case {
  PixelFormat format;
  int width;
  int height;
};

class StripedPixels : public testing::TestWithParam<Case> {};

TEST_P(StripedPixels, DecodeToTheOneThreadPicture) {
  const Case c = GetParam();
  const Picture picture(c.format, c.width, c.height);
  const bool chroma_422 = c.format == PixelFormat::YUYV;
  for (int quality : {80, 97}) {  // the fast DCT below 96, the accurate one from 96
    const auto single = encode(picture.view(), quality, 1);
    EXPECT_EQ(find_markers(single).restart_interval, -1);
    const test::DecodedRgb reference = test::decode_rgb(single);
    ASSERT_EQ(reference.subsampling, chroma_422 ? TJSAMP_422 : TJSAMP_420);
    const Djpeg reference_djpeg = run_djpeg(single);
    ASSERT_EQ(reference_djpeg.status, 0) << reference_djpeg.messages;
    ASSERT_FALSE(reference_djpeg.pixels.empty());

    for (int threads : {2, 3, 4}) {
      SCOPED_TRACE(std::to_string(c.width) + "x" + std::to_string(c.height) +
                   (chroma_422 ? " 4:2:2" : " 4:2:0") + " q" + std::to_string(quality) + ", " +
                   std::to_string(threads) + " threads");
      const auto striped = encode(picture.view(), quality, threads);
      const StripeLayout layout =
          plan_stripes(c.width, c.height, chroma_422, threads * kStripesPerThread);
      const Markers markers = find_markers(striped);
      ASSERT_EQ(markers.restart_interval, layout.restart_interval);
      ASSERT_EQ(static_cast<int>(markers.restarts.size()), layout.stripes - 1);
      for (std::size_t i = 0; i < markers.restarts.size(); ++i) {
        EXPECT_EQ(markers.restarts[i], static_cast<int>(i % 8));
      }
      const test::DecodedRgb decoded = test::decode_rgb(striped);
      ASSERT_EQ(decoded.width, c.width);
      ASSERT_EQ(decoded.height, c.height);
      EXPECT_TRUE(decoded.rgb == reference.rgb) << "TurboJPEG decodes other pixels";
      const Djpeg djpeg = run_djpeg(striped);
      EXPECT_EQ(djpeg.status, 0);
      EXPECT_EQ(djpeg.messages, "") << "djpeg warned";
      EXPECT_TRUE(djpeg.pixels == reference_djpeg.pixels) << "djpeg decodes other pixels";
    }
  }
}

INSTANTIATE_TEST_SUITE_P(
    Sizes, StripedPixels,
    testing::Values(Case{PixelFormat::I420, 640, 480}, Case{PixelFormat::I420, 1280, 720},
                    Case{PixelFormat::I420, 1920, 1080}, Case{PixelFormat::I420, 642, 362},
                    Case{PixelFormat::I420, 1000, 1002}, Case{PixelFormat::I420, 34, 34},
                    Case{PixelFormat::YUYV, 640, 480}, Case{PixelFormat::YUYV, 1280, 720},
                    Case{PixelFormat::YUYV, 1920, 1080}, Case{PixelFormat::YUYV, 642, 362},
                    Case{PixelFormat::YUYV, 330, 118}, Case{PixelFormat::YUYV, 34, 18}),
    [](const testing::TestParamInfo<Case>& info) {
      return std::string(info.param.format == PixelFormat::YUYV ? "yuyv422_" : "i420_") +
             std::to_string(info.param.width) + "x" + std::to_string(info.param.height);
    });

TEST(StripedEncoder, ASmallPictureIsOneStripeAndAnEncoderKeepsItsThreads) {
  const Picture picture(PixelFormat::I420, 64, 16);  // one MCU row
  const auto jpeg = encode(picture.view(), 80, 4);
  EXPECT_EQ(find_markers(jpeg).restart_interval, -1);
  EXPECT_EQ(JpegEncoder(80, 3).threads(), 3);
  EXPECT_EQ(JpegEncoder(80).threads(), 1);
}

TEST(StripedEncoder, ThreadCountOutsideItsRangeIsRefused) {
  EXPECT_THROW(JpegEncoder(80, 0), EncodeError);
  EXPECT_THROW(JpegEncoder(80, JpegEncoder::kMaxEncodeThreads + 1), EncodeError);
}

TEST(StripedEncoder, AnOutputBufferBelowTheBoundIsRefused) {
  const Picture picture(PixelFormat::I420, 640, 480);
  JpegEncoder encoder(80, 2);
  std::vector<std::uint8_t> out(1000);
  EXPECT_THROW(encoder.encode(picture.view(), out), EncodeError);
}

TEST(StripedEncoder, SuccessiveFramesAndQualitiesStayIdenticalToOneThread) {
  // The stripe buffers and libjpeg contexts are reused: a smaller frame after a larger one,
  // and a quality change, must not leave anything of the previous frame behind.
  JpegEncoder single(70, 1);
  JpegEncoder striped(70, 2);
  for (const auto& [width, height, quality] :
       {std::tuple{1280, 720, 70}, std::tuple{320, 240, 70}, std::tuple{1280, 720, 30}}) {
    const Picture picture(PixelFormat::I420, width, height);
    single.set_quality(quality);
    striped.set_quality(quality);
    std::vector<std::uint8_t> a(JpegEncoder::max_jpeg_size(width, height));
    std::vector<std::uint8_t> b(a.size());
    a.resize(single.encode(picture.view(), a));
    b.resize(striped.encode(picture.view(), b));
    EXPECT_TRUE(test::decode_rgb(a).rgb == test::decode_rgb(b).rgb)
        << width << "x" << height << " q" << quality;
  }
}

}  // namespace
}  // namespace camstream
